// The kernel engine in a build without it (no libbpf, bpftool or clang, or WSTRACE_EBPF=OFF).
#include "record_ebpf.h"

namespace ws::capture {

RecordError record_ebpf(const RecordOptions& opt, std::unique_ptr<LiveEngine>&, std::string&) {
  if (opt.argv.empty())
    return {2, "record needs a program to run: wstrace record -- PROGRAM [ARGS…]"};
  return {1, "this wstrace was built without the kernel engine (eBPF): rebuild with libbpf-dev, "
             "bpftool and clang installed (cmake -DWSTRACE_EBPF=ON), or use --engine preload"};
}

RecordError attach_ebpf(const RecordOptions&, std::unique_ptr<LiveEngine>&) {
  return {1, "attach on Linux needs the kernel engine (eBPF), which this wstrace was built "
             "without: rebuild with libbpf-dev, bpftool and clang installed"};
}

RecordError system_ebpf(const RecordOptions&, std::unique_ptr<LiveEngine>&) {
  return {1, "record --system needs the kernel engine (eBPF), which this wstrace was built "
             "without: rebuild with libbpf-dev, bpftool and clang installed"};
}

bool ebpf_built() { return false; }

std::string ebpf_unavailable() { return "this wstrace was built without the kernel engine"; }

}  // namespace ws::capture
