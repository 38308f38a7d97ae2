#include "ebpf_attach_extra.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <elf.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "ebpf_event.h"
#include "wstrace.skel.h"

namespace ws::capture {
namespace {

// In ws_lookup_fn's order: the cookie tells the BPF program which function it is in.
// After them, the library's other lookups (users, groups, services, interfaces), never
// recorded: the sockets they open inside (nscd's, getifaddrs' netlink) are marked nested too.
constexpr const char* kFunctions[] = {
    "getaddrinfo",      "gethostbyname", "gethostbyname2", "gethostbyname_r",
    "gethostbyname2_r", "gethostbyaddr", "getnameinfo",    "gethostbyaddr_r",
    "getpwnam",         "getpwnam_r",    "getpwuid",       "getpwuid_r",
    "getgrnam",         "getgrnam_r",    "getgrgid",       "getgrgid_r",
    "getgrouplist",     "initgroups",    "getspnam",       "getspnam_r",
    "getservbyname",    "getservbyname_r", "getservbyport", "getservbyport_r",
    "getifaddrs",       "if_nametoindex", "if_indextoname", "if_nameindex"};
constexpr size_t kCount = sizeof kFunctions / sizeof *kFunctions;
// (A link each costs 0.1 s at exit where the kernel has no multi-uprobe links: there, the
// host lookups alone.)
constexpr size_t kSingleCount = WS_LK_GETHOSTBYADDR_R + 1;
static_assert(kSingleCount == 8);

// (Not in this system's headers, which are older than the kernels that have them.)
constexpr int kUprobeMultiAttach = 48;   // BPF_TRACE_UPROBE_MULTI
constexpr uint32_t kUprobeMultiReturn = 1;  // BPF_F_UPROBE_MULTI_RETURN

bool kernel_has_uprobe_multi() {
  btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) return false;
  const bool has = btf__find_by_name_kind(vmlinux, "bpf_uprobe_multi_link", BTF_KIND_STRUCT) >= 0;
  btf__free(vmlinux);
  return has;
}

// The file offsets of kFunctions in the ELF file `path` (its dynamic symbols), 0 where absent.
bool function_offsets(const std::string& path, uint64_t (&out)[kCount]) {
  std::ifstream f(path, std::ios::binary);
  const std::string elf((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto at = [&](uint64_t off, uint64_t len) -> const char* {
    return off <= elf.size() && len <= elf.size() - off ? elf.data() + off : nullptr;
  };
  Elf64_Ehdr eh;
  const char* p = at(0, sizeof eh);
  if (!p) return false;
  std::memcpy(&eh, p, sizeof eh);
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
      eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_phentsize != sizeof(Elf64_Phdr))
    return false;
  auto section = [&](size_t i, Elf64_Shdr& sh) {
    const char* s = at(eh.e_shoff + i * sizeof sh, sizeof sh);
    if (s) std::memcpy(&sh, s, sizeof sh);
    return s != nullptr;
  };
  std::fill(std::begin(out), std::end(out), 0);
  for (size_t i = 0; i < eh.e_shnum; ++i) {
    Elf64_Shdr sh, strs;
    if (!section(i, sh) || sh.sh_type != SHT_DYNSYM || !section(sh.sh_link, strs)) continue;
    for (uint64_t k = 0; k < sh.sh_size / sizeof(Elf64_Sym); ++k) {
      Elf64_Sym sym;
      const char* s = at(sh.sh_offset + k * sizeof sym, sizeof sym);
      if (!s) break;
      std::memcpy(&sym, s, sizeof sym);
      if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF || !sym.st_value ||
          sym.st_name >= strs.sh_size)
        continue;
      const char* name = at(strs.sh_offset + sym.st_name, 1);
      const size_t room = strs.sh_size - sym.st_name;
      for (size_t j = 0; j < kCount && name; ++j)
        if (!out[j] && strnlen(name, room) == std::strlen(kFunctions[j]) &&
            std::strcmp(name, kFunctions[j]) == 0)
          out[j] = sym.st_value;
    }
  }
  // Addresses to file offsets, by the segment that loads them.
  for (uint64_t& v : out) {
    const uint64_t addr = v;
    v = 0;
    for (size_t i = 0; addr && i < eh.e_phnum; ++i) {
      Elf64_Phdr ph;
      const char* s = at(eh.e_phoff + i * sizeof ph, sizeof ph);
      if (!s) break;
      std::memcpy(&ph, s, sizeof ph);
      if (ph.p_type == PT_LOAD && addr >= ph.p_vaddr && addr - ph.p_vaddr < ph.p_filesz)
        v = addr - ph.p_vaddr + ph.p_offset;
    }
  }
  return true;
}

// One multi-uprobe link of `prog` on the functions found: entries, or returns with `ret`.
int multi_link(const bpf_program* prog, const std::string& path, const uint64_t (&offsets)[kCount],
               bool ret) {
  std::vector<uint64_t> offs, cookies;
  for (size_t i = 0; i < kCount; ++i)
    if (offsets[i]) offs.push_back(offsets[i]), cookies.push_back(i);
  if (offs.empty()) return -ENOENT;
  // bpf_attr's link_create, as the kernel lays it out (libbpf 1.1 does not know this kind).
  struct {
    uint32_t prog_fd, target_fd, attach_type, flags;
    uint64_t path, offsets, ref_ctr_offsets, cookies;
    uint32_t cnt, flags2, pid, pad;
    uint8_t rest[64];
  } attr{};
  attr.prog_fd = static_cast<uint32_t>(bpf_program__fd(prog));
  attr.attach_type = kUprobeMultiAttach;
  attr.path = reinterpret_cast<uintptr_t>(path.c_str());
  attr.offsets = reinterpret_cast<uintptr_t>(offs.data());
  attr.cookies = reinterpret_cast<uintptr_t>(cookies.data());
  attr.cnt = static_cast<uint32_t>(offs.size());
  attr.flags2 = ret ? kUprobeMultiReturn : 0;
  const long fd = syscall(SYS_bpf, BPF_LINK_CREATE, &attr, sizeof attr);
  return fd < 0 ? -errno : static_cast<int>(fd);
}

}  // namespace

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

void prepare_lookups(wstrace_bpf* skel, LookupProbes& probes) {
  probes.multi = kernel_has_uprobe_multi();
  if (!probes.multi) return;
  for (bpf_program* p : {skel->progs.lookup_enter, skel->progs.lookup_exit})
    bpf_program__set_expected_attach_type(p, static_cast<bpf_attach_type>(kUprobeMultiAttach));
}

std::string attach_lookups(wstrace_bpf* skel, const std::string& libc, LookupProbes& probes) {
  if (probes.multi) {
    uint64_t offsets[kCount];
    if (!function_offsets(libc, offsets)) return "its symbols could not be read";
    std::string missing;
    for (size_t i = 0; i < kSingleCount; ++i)
      if (!offsets[i]) missing += fmt::format("{}{} (not there)", missing.empty() ? "" : ", ",
                                              kFunctions[i]);
    // (Both or neither: an entry without its return would leave the thread in a lookup.)
    const int in = multi_link(skel->progs.lookup_enter, libc, offsets, false);
    const int out = in < 0 ? in : multi_link(skel->progs.lookup_exit, libc, offsets, true);
    if (out < 0) {
      if (in >= 0) close(in);
      return fmt::format("all of them ({})", strerror(-out));
    }
    probes.fds = {in, out};
    return missing;
  }
  std::string missing;
  for (size_t i = 0; i < kSingleCount; ++i) {
    bpf_link* both[2] = {};
    for (const bool ret : {false, true}) {
      LIBBPF_OPTS(bpf_uprobe_opts, o, .bpf_cookie = i, .retprobe = ret,
                  .func_name = kFunctions[i]);
      both[ret] = bpf_program__attach_uprobe_opts(
          ret ? skel->progs.lookup_exit : skel->progs.lookup_enter, -1, libc.c_str(), 0, &o);
      if (!both[ret]) break;
    }
    if (both[0] && both[1]) {
      probes.links.push_back(both[0]);
      probes.links.push_back(both[1]);
      continue;
    }
    const int err = errno;
    bpf_link__destroy(both[0]);
    missing += fmt::format("{}{} ({})", missing.empty() ? "" : ", ", kFunctions[i], strerror(err));
  }
  return missing;
}

void detach_all(LookupProbes& probes) {
  for (int fd : probes.fds) close(fd);
  for (bpf_link* l : probes.links) bpf_link__destroy(l);
  probes.fds.clear();
  probes.links.clear();
}

}  // namespace ws::capture
