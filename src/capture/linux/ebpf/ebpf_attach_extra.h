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

// Attaches the lookup uprobes to `libc` (after the object is loaded); their links go to
// `links` (for bpf_link__destroy). Returns what could not be attached, in words ("" when all).
std::string attach_lookups(wstrace_bpf* skel, const std::string& libc,
                           std::vector<bpf_link*>& links);

}  // namespace ws::capture
