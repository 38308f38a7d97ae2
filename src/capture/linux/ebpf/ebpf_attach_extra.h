// The kernel engine's probes beyond the system call tracepoints: the uprobes on the C library's
// name lookups. Kept apart from record_ebpf.cc, which loads the object and runs the engine.
#pragma once

#include <string>
#include <vector>

struct bpf_link;
struct wstrace_bpf;

namespace ws::capture {

// The C library the traced programs map: the one wstrace runs with (the system's), or empty.
std::string system_libc_path();

// The lookup probes attached: one link for all entries and one for all returns where the
// kernel has multi-uprobe links (6.6), else a link per function and way.
struct LookupProbes {
  bool multi = false;
  std::vector<int> fds;           // multi-uprobe links
  std::vector<bpf_link*> links;   // single uprobes
};

// Before the object is loaded: readies the lookup programs for multi-uprobe links where the
// kernel has them.
void prepare_lookups(wstrace_bpf* skel, LookupProbes& probes);

// Attaches the lookup uprobes to `libc` (after the object is loaded). Returns what could not be
// attached, in words ("" when all).
std::string attach_lookups(wstrace_bpf* skel, const std::string& libc, LookupProbes& probes);

// Detaches them. Each uprobe detached waits for the kernel's grace period (about 0.1 s, one
// after the other): a link per function held wstrace's exit for over a second, hence the
// multi-uprobe links.
void detach_all(LookupProbes& probes);

}  // namespace ws::capture
