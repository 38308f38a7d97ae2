#include "ebpf_attach_extra.h"

#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "ebpf_event.h"
#include "wstrace.skel.h"

namespace ws::capture {

std::string system_libc_path() {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    const size_t slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    const size_t base = path.rfind('/');
    if (path.compare(base + 1, 7, "libc.so") == 0 || path.compare(base + 1, 5, "libc-") == 0)
      return path;
  }
  return {};
}

std::string attach_lookups(wstrace_bpf* skel, const std::string& libc,
                           std::vector<bpf_link*>& links) {
  // In ws_lookup_fn's order: the cookie tells the BPF program which function it is in.
  static constexpr const char* kFunctions[] = {
      "getaddrinfo",      "gethostbyname", "gethostbyname2", "gethostbyname_r",
      "gethostbyname2_r", "gethostbyaddr", "getnameinfo",    "gethostbyaddr_r"};
  static_assert(sizeof kFunctions / sizeof *kFunctions == WS_LK_GETHOSTBYADDR_R + 1);
  std::string missing;
  for (size_t i = 0; i < sizeof kFunctions / sizeof *kFunctions; ++i) {
    // (Both or neither: an entry without its return would leave the thread in a lookup.)
    bpf_link* both[2] = {};
    for (const bool ret : {false, true}) {
      LIBBPF_OPTS(bpf_uprobe_opts, o, .bpf_cookie = i, .retprobe = ret,
                  .func_name = kFunctions[i]);
      both[ret] = bpf_program__attach_uprobe_opts(
          ret ? skel->progs.lookup_exit : skel->progs.lookup_enter, -1, libc.c_str(), 0, &o);
      if (!both[ret]) break;
    }
    if (both[0] && both[1]) {
      links.push_back(both[0]);
      links.push_back(both[1]);
      continue;
    }
    const int err = errno;
    bpf_link__destroy(both[0]);
    missing += fmt::format("{}{} ({})", missing.empty() ? "" : ", ", kFunctions[i], strerror(err));
  }
  return missing;
}

}  // namespace ws::capture
