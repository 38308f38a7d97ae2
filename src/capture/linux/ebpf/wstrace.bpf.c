// SPDX-License-Identifier: GPL-2.0
/* The kernel engine: socket system calls of the traced processes, seen at the system call
 * tracepoints and handed to wstrace (record_ebpf.cc) through one ring buffer. Nothing is
 * decoded here: the raw facts of each call go out as a ws_ebpf_event (ebpf_event.h).
 *
 * Which processes: `traced` holds their tgids; wstrace puts the program it starts there (attach
 * puts the running ones), and fork adds children. `trace_all` (record --system) takes every
 * process but wstrace itself, with the filter's coarse part checked here (`pf`, below), and
 * speaks of a process's start and end only once one of its calls was handed out (`seen`). Calls are kept from entry to exit in
 * `inflight`, the thread's own storage. Whether a descriptor is a socket (read, write, close…)
 * is decided at entry from its inode's mode (S_ISSOCK).
 * Every read of the program's memory goes through bpf_probe_read_user: a bad pointer leaves the
 * bytes out, never harms the program. */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "ebpf_event.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u32 snaplen = 1024;  /* ≤ WS_EBPF_SNAP_MAX, set by wstrace before load */
const volatile __u8 trace_all = 0;    /* every process (system-wide capture) */
const volatile __u8 follow = 1;       /* children of traced processes are traced too */
const volatile __u32 self_tgid = 0;   /* wstrace, never traced (system-wide capture) */
const volatile struct ws_prefilter pf = {};  /* (trace_all) the filter's coarse part */

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, WS_EBPF_MAX_PROCS);
  __type(key, __u32);   /* tgid */
  __type(value, __u8);
} traced SEC(".maps");

struct inflight {
  __u64 ts;
  __u64 args[6];
  __u32 nr;
  __u32 cap;     /* the address room the program gave, read before the kernel overwrote it */
  __u32 active;  /* a traced call is under way */
  __u32 pf;      /* (pre-filter) the clauses the call may still meet */
};

/* Task storage: no table to size or to clean when a thread ends, no lookup by tid. */
struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct inflight);
} inflight SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 8 << 20);  /* wstrace resizes it before load */
} events SEC(".maps");

/* Processes told to make 32-bit system calls the engine does not record (said once each). */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, WS_EBPF_MAX_PROCS);
  __type(key, __u32);   /* tgid */
  __type(value, __u8);
} compat_said SEC(".maps");

/* Records the ring could not take: the total per CPU, and per process. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} drops_cpu SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, WS_EBPF_MAX_PROCS);
  __type(key, __u32);   /* tgid */
  __type(value, __u64);
} drops_proc SEC(".maps");

/* An event is built here (it is bigger than the BPF stack), then copied into the ring: one per
 * CPU (an array map, since a per-CPU one cannot hold values this big; wstrace sizes it to the
 * CPUs before load). Tracepoint programs do not migrate or nest on a CPU. */
struct scratch {
  struct ws_ebpf_event e;
  __u8 payload[2 * WS_EBPF_SNAP_MAX];  /* (twice: what the verifier needs to see bounds) */
};
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct scratch);
} scratch_map SEC(".maps");

#define TS_COMPAT 0x0002  /* x86: the thread is in a 32-bit system call */
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define AF_INET 2
#define AF_INET6 10

static __always_inline int is_traced(__u32 tgid) {
  if (trace_all) return tgid != self_tgid;
  return bpf_map_lookup_elem(&traced, &tgid) != 0;
}

/* (trace_all) Processes a call of which was handed out: only their starts, ends and forks are
 * said, so that the whole machine's other processes cost nothing. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, WS_EBPF_MAX_PROCS);
  __type(key, __u32);   /* tgid */
  __type(value, __u8);
} seen SEC(".maps");

static __always_inline int was_seen(__u32 tgid) {
  return bpf_map_lookup_elem(&seen, &tgid) != 0;
}

static __always_inline void mark_seen(__u32 tgid) {
  __u8 yes = 1;
  if (!was_seen(tgid)) bpf_map_update_elem(&seen, &tgid, &yes, BPF_ANY);
}

/* Up to WS_EBPF_CMDLINE_MAX bytes of the command line of `task` (the current one) into `out`:
 * how many (0 when unreadable). */
static __always_inline __u64 command_line(struct task_struct *task, __u8 *out) {
  struct mm_struct *mm = BPF_CORE_READ(task, mm);
  __u64 start = BPF_CORE_READ(mm, arg_start), end = BPF_CORE_READ(mm, arg_end);
  __u64 len = end > start ? end - start : 0;
  if (len > WS_EBPF_CMDLINE_MAX) len = WS_EBPF_CMDLINE_MAX;
  barrier_var(len);
  if (len > WS_EBPF_CMDLINE_MAX) len = 0;
  if (len && bpf_probe_read_user(out, len, (const void *)start)) len = 0;
  return len;
}

/* The pre-filter's sets too big for `pf` (ebpf_event.h). */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, WS_PF_MAX_PIDS);
  __type(key, __u32);   /* tgid */
  __type(value, __u32); /* clauses */
} pf_pids SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, WS_PF_MAX_PORTS);
  __type(key, __u16);   /* host order */
  __type(value, __u32); /* clauses */
} pf_ports SEC(".maps");

/* The open file behind descriptor `fd` of the current task, or 0. */
static __always_inline struct file *file_of(__u64 fd) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task_btf();
  struct files_struct *files = BPF_CORE_READ(task, files);
  if (!files) return 0;
  struct fdtable *fdt = BPF_CORE_READ(files, fdt);
  unsigned int max = BPF_CORE_READ(fdt, max_fds);
  if (fd >= max) return 0;
  struct file **fds = BPF_CORE_READ(fdt, fd);
  struct file *f = 0;
  bpf_probe_read_kernel(&f, sizeof f, &fds[fd]);
  return f;
}

static __always_inline int is_socket_fd(__u64 fd) {
  struct file *f = file_of(fd);
  if (!f) return 0;
  umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);
  return (mode & S_IFMT) == S_IFSOCK;
}

/* The sock of socket descriptor `fd`, or 0. */
static __always_inline struct sock *sock_of(__u64 fd) {
  struct file *f = file_of(fd);
  if (!f) return 0;
  umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);
  if ((mode & S_IFMT) != S_IFSOCK) return 0;
  struct socket *s = (struct socket *)BPF_CORE_READ(f, private_data);
  return s ? BPF_CORE_READ(s, sk) : 0;
}

/* An inet socket's own address (peer = 0) or its peer's (peer = 1), as a sockaddr: its
 * length, 0 for other families or a socket not bound yet. */
static __always_inline __u32 inet_addr(struct sock *sk, int peer, __u8 *out) {
  if (!sk) return 0;
  __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
  __u16 port = peer ? BPF_CORE_READ(sk, __sk_common.skc_dport)
                    : bpf_htons(BPF_CORE_READ(sk, __sk_common.skc_num));
  if (!port) return 0;
  if (family == AF_INET) {
    struct sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_port = port;
    a.sin_addr.s_addr = peer ? BPF_CORE_READ(sk, __sk_common.skc_daddr)
                             : BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
    __builtin_memcpy(out, &a, sizeof a);
    return sizeof a;
  }
  if (family == AF_INET6) {
    struct sockaddr_in6 a = {};
    a.sin6_family = AF_INET6;
    a.sin6_port = port;
    if (peer) BPF_CORE_READ_INTO(&a.sin6_addr, sk, __sk_common.skc_v6_daddr);
    else BPF_CORE_READ_INTO(&a.sin6_addr, sk, __sk_common.skc_v6_rcv_saddr);
    __builtin_memcpy(out, &a, sizeof a);
    return sizeof a;
  }
  return 0;
}

/* ---- The pre-filter (record --system --filter; ebpf_event.h's ws_prefilter) ---------------
 * Each check gives the clauses met (a bit each); a dimension no clause constrains is met by all.
 * `pf` is read-only data: the verifier knows its values, and a capture without a filter keeps
 * none of this code. */

static __always_inline char pf_lower(char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* The clauses the current process meets: its pid, its name (the comm of its main thread). */
static __always_inline __u32 pf_process(__u32 tgid) {
  __u32 sat = pf.active;
  if (pf.c_pid) {
    __u32 *m = bpf_map_lookup_elem(&pf_pids, &tgid);
    sat &= (m ? *m : 0) | ~pf.c_pid;
  }
  if (pf.c_name && sat) {
    char comm[16] = {};
    struct task_struct *leader = BPF_CORE_READ(bpf_get_current_task_btf(), group_leader);
    bpf_core_read(comm, sizeof comm, &leader->comm);
    __u32 names = 0;
    for (int i = 0; i < WS_PF_MAX_NAMES; i++) {
      if (i >= pf.nnames) break;
      int same = 1;
      for (int j = 0; j < 16; j++) {
        if (j >= pf.names[i].len) break;
        if (pf_lower(comm[j]) != pf.names[i].prefix[j]) {
          same = 0;
          break;
        }
      }
      if (same) names |= pf.names[i].clauses;
    }
    sat &= names | ~pf.c_name;
  }
  return sat;
}

static __always_inline __u32 pf_func(long nr) {
  return ((__u64)nr < WS_PF_MAX_NR ? pf.funcs[nr] : 0) | ~pf.c_func;
}

/* The ends met so far: the clauses whose ports, and whose blocks of addresses, one end is in. */
struct pf_ends {
  __u32 ports, addrs;
};

static __always_inline __u32 pf_blocks(const __u8 *ip) {
  __u32 m = 0;
  for (int i = 0; i < WS_PF_MAX_CIDRS; i++) {
    if (i >= pf.ncidrs) break;
    const __u32 bits = pf.cidrs[i].bits;
    int in = 1;
    for (int k = 0; k < 16; k++) {
      if (k * 8 >= bits) break;
      const __u8 mask = k * 8 + 8 <= bits ? 0xff : (__u8)(0xff00 >> (bits - k * 8));
      if ((ip[k] ^ pf.cidrs[i].ip[k]) & mask) {
        in = 0;
        break;
      }
    }
    if (in) m |= pf.cidrs[i].clauses;
  }
  return m;
}

/* One end, as a sockaddr (the program's, or one inet_addr() made of a socket). */
static __always_inline void pf_end(struct pf_ends *x, const __u8 *sa, __u32 len) {
  __u16 family = 0, port = 0;
  __u8 ip[16] = {};
  if (len < sizeof(struct sockaddr_in)) return;
  __builtin_memcpy(&family, sa, 2);
  __builtin_memcpy(&port, sa + 2, 2);
  if (family == AF_INET) {
    ip[10] = ip[11] = 0xff;
    __builtin_memcpy(ip + 12, sa + 4, 4);
  } else if (family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
    __builtin_memcpy(ip, sa + 8, 16);
  } else {
    return;
  }
  port = bpf_ntohs(port);
  if (pf.c_port && port) {
    __u32 *m = bpf_map_lookup_elem(&pf_ports, &port);
    if (m) x->ports |= *m;
  }
  if (pf.c_addr) x->addrs |= pf_blocks(ip);
}

static __always_inline void pf_sock_ends(struct pf_ends *x, struct sock *sk) {
  __u8 sa[32] = {};
  if (!sk) return;
  pf_end(x, sa, inet_addr(sk, 0, sa));
  pf_end(x, sa, inet_addr(sk, 1, sa));
}

static __always_inline __u32 pf_ends_met(__u32 sat, const struct pf_ends *x) {
  return sat & (x->ports | ~pf.c_port) & (x->addrs | ~pf.c_addr);
}

/* Reads `len` bytes of the program's address at `p` into the event (nothing when unreadable). */
static __always_inline void user_addr(struct ws_ebpf_event *e, const void *p, __u64 len) {
  if (!p || !len) return;
  if (len > WS_EBPF_ADDR_MAX) len = WS_EBPF_ADDR_MAX;
  barrier_var(len);
  if (len > WS_EBPF_ADDR_MAX) return;
  if (bpf_probe_read_user(e->addr, len, p) == 0) e->addr_len = len;
}

/* The address length the kernel wrote at `lenp`, no more than the room given. */
static __always_inline __u32 written_len(const void *lenp, __u32 cap) {
  __u32 l = 0;
  if (!lenp || bpf_probe_read_user(&l, sizeof l, lenp)) return 0;
  return l < cap ? l : cap;
}

/* Up to `want` bytes of one buffer at payload offset `kept`; the new offset. */
static __always_inline __u32 copy_piece(struct scratch *s, __u32 kept, const void *p, __u64 n,
                                        __u32 want) {
  if (kept >= want) return kept;
  if (n > want - kept) n = want - kept;
  __u32 off = kept & (WS_EBPF_SNAP_MAX - 1);
  if (n > WS_EBPF_SNAP_MAX) n = WS_EBPF_SNAP_MAX;
  barrier_var(n);
  if (n == 0 || n > WS_EBPF_SNAP_MAX) return kept;
  if (bpf_probe_read_user(&s->payload[off], n, p)) return kept;
  return kept + n;
}

static __always_inline __u32 snap_for(__s64 moved) {
  __u32 want = snaplen;
  if (want > WS_EBPF_SNAP_MAX) want = WS_EBPF_SNAP_MAX;
  if (moved < want) want = moved;
  return want;
}

/* The payload of a call that moved `moved` bytes through `iovcnt` iovecs; their total length
 * and count go to aux. */
static __always_inline void iov_payload(struct scratch *s, const struct iovec *iov, __u64 iovcnt,
                                        __s64 moved) {
  struct ws_ebpf_event *e = &s->e;
  __u32 want = moved > 0 ? snap_for(moved) : 0, kept = 0;
  __u64 total = 0;
  for (int i = 0; i < WS_EBPF_MAX_IOV; i++) {
    if (i >= iovcnt) break;
    struct iovec v = {};
    if (bpf_probe_read_user(&v, sizeof v, &iov[i])) break;
    total += v.iov_len;
    kept = copy_piece(s, kept, v.iov_base, v.iov_len, want);
  }
  e->aux[WS_AUX_LEN] = total;
  e->aux[WS_AUX_COUNT] = iovcnt;
  e->payload_len = kept;
  e->payload_total = moved > 0 ? moved : 0;
}

static __always_inline void flat_payload(struct scratch *s, const void *buf, __s64 moved) {
  if (moved <= 0) return;
  s->e.payload_len = copy_piece(s, 0, buf, moved, snap_for(moved));
  s->e.payload_total = moved;
}

/* Hands the event built in `s` to wstrace, or counts it lost — but for the end of a thread,
 * which is no call: wstrace makes up for a lost one (an idle ring is found and freed; a process
 * whose end was lost is written as ended, with the status when wstrace reaps it, else without). */
/* wstrace drains the ring every few milliseconds by itself: waking it for each record would
 * cost a context switch per call. It is woken only when the ring is a quarter full. */
static __always_inline __u64 ring_wake(void) {
  return bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >
                 bpf_ringbuf_query(&events, BPF_RB_RING_SIZE) / 4
             ? BPF_RB_FORCE_WAKEUP
             : BPF_RB_NO_WAKEUP;
}

/* A record of process `tgid` the ring could not take. */
static __always_inline void count_lost(__u32 tgid) {
  __u32 zero = 0;
  __u64 *n = bpf_map_lookup_elem(&drops_cpu, &zero);
  if (n) __sync_fetch_and_add(n, 1);
  __u64 one = 1;
  __u64 *p = bpf_map_lookup_elem(&drops_proc, &tgid);
  if (p) __sync_fetch_and_add(p, 1);
  else bpf_map_update_elem(&drops_proc, &tgid, &one, BPF_NOEXIST);
}

static __always_inline void submit(struct scratch *s) {
  __u64 wake = ring_wake();
  __u32 len = s->e.payload_len;
  if (len > WS_EBPF_SNAP_MAX) return;
  len &= 2 * WS_EBPF_SNAP_MAX - 1;  /* (the same number: a bound the verifier keeps) */
  if (bpf_ringbuf_output(&events, s, sizeof(struct ws_ebpf_event) + len, wake) == 0) return;
  if (s->e.kind == WS_EV_EXIT) return;
  count_lost(s->e.pid);
}

static __always_inline struct scratch *fresh_event(__u32 kind, __u32 pid, __u32 tid) {
  __u32 cpu = bpf_get_smp_processor_id();
  struct scratch *s = bpf_map_lookup_elem(&scratch_map, &cpu);
  if (!s) return 0;
  __builtin_memset(&s->e, 0, sizeof s->e);
  s->e.kind = kind;
  s->e.pid = pid;
  s->e.tid = tid;
  return s;
}

/* Which calls are traced; for those on any descriptor, only when it is a socket. */
static __always_inline int wanted(long nr, __u64 fd, __u64 cmd) {
  switch (nr) {
  case WS_NR_READ: case WS_NR_WRITE: case WS_NR_READV: case WS_NR_WRITEV: case WS_NR_CLOSE:
  case WS_NR_SENDFILE: case WS_NR_DUP: case WS_NR_DUP2: case WS_NR_DUP3:
    return is_socket_fd(fd);
  case WS_NR_FCNTL:
    return (cmd == WS_F_DUPFD || cmd == WS_F_DUPFD_CLOEXEC || cmd == WS_F_GETFL ||
            cmd == WS_F_SETFL) && is_socket_fd(fd);
  case WS_NR_SOCKET: case WS_NR_SOCKETPAIR: case WS_NR_CONNECT: case WS_NR_ACCEPT:
  case WS_NR_ACCEPT4: case WS_NR_BIND: case WS_NR_LISTEN: case WS_NR_SENDTO:
  case WS_NR_RECVFROM: case WS_NR_SENDMSG: case WS_NR_RECVMSG: case WS_NR_SENDMMSG:
  case WS_NR_RECVMMSG: case WS_NR_SHUTDOWN: case WS_NR_SETSOCKOPT: case WS_NR_GETSOCKOPT:
  case WS_NR_GETSOCKNAME: case WS_NR_GETPEERNAME:
    return 1;
  }
  return 0;
}

/* A 32-bit system call: its number is i386's (41 is dup there, socket here), so it is not read
 * as a 64-bit one; the process is said once to make calls the engine does not see. */
static __always_inline int compat_call(__u32 tgid, __u32 tid) {
  struct task_struct *task = bpf_get_current_task_btf();
  if (!(task->thread_info.status & TS_COMPAT)) return 0;
  __u8 yes = 1;
  if ((!trace_all || !pf.active || pf_process(tgid)) &&
      bpf_map_update_elem(&compat_said, &tgid, &yes, BPF_NOEXIST) == 0) {
    struct scratch *s = fresh_event(WS_EV_UNSEEN_COMPAT, tgid, tid);
    if (s) {
      s->e.ts = bpf_ktime_get_ns();
      submit(s);
    }
  }
  return 1;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long nr) {
  __u64 id = bpf_get_current_pid_tgid();
  if (!is_traced(id >> 32) || compat_call(id >> 32, (__u32)id)) return 0;
  /* (a tp_btf program reads the registers directly: no helper call per argument) */
  const __u64 fd = regs->di, a1 = regs->si;
  if (!wanted(nr, fd, a1)) return 0;
  __u32 pf_sat = 0;
  if (trace_all && pf.active) {
    pf_sat = pf_process(id >> 32) & pf_func(nr);
    if (pf_sat && nr == WS_NR_CLOSE && (pf.c_port | pf.c_addr)) {  /* (its socket is gone after) */
      struct pf_ends x = {};
      pf_sock_ends(&x, sock_of(fd));
      pf_sat = pf_ends_met(pf_sat, &x);
    }
    if (!pf_sat) return 0;
  }
  struct inflight *cp = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0,
                                             BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (!cp) return 0;
  struct inflight c = {};
  c.args[0] = fd;
  c.args[1] = a1;
  c.args[2] = regs->dx;
  c.args[3] = regs->r10;
  c.args[4] = regs->r8;
  c.args[5] = regs->r9;
  c.nr = nr;
  const void *lenp = 0;
  switch (nr) {
  case WS_NR_ACCEPT: case WS_NR_ACCEPT4: case WS_NR_GETSOCKNAME: case WS_NR_GETPEERNAME:
    lenp = (const void *)c.args[2];
    break;
  case WS_NR_RECVFROM:
    lenp = (const void *)c.args[5];
    break;
  case WS_NR_RECVMSG:
    lenp = &((struct user_msghdr *)c.args[1])->msg_namelen;
    break;
  case WS_NR_RECVMMSG:
    lenp = &((struct mmsghdr *)c.args[1])->msg_hdr.msg_namelen;
    break;
  }
  if (lenp && bpf_probe_read_user(&c.cap, sizeof c.cap, lenp)) c.cap = 0;
  c.pf = pf_sat;
  c.active = 1;
  c.ts = bpf_ktime_get_ns();
  *cp = c;
  return 0;
}

static __always_inline void msg_facts(struct scratch *s, const struct user_msghdr *m, __s64 moved,
                                      __u32 cap) {
  struct user_msghdr h = {};
  if (!m || bpf_probe_read_user(&h, sizeof h, m)) return;
  __u32 namelen = h.msg_namelen;
  if (cap && namelen > cap) namelen = cap;
  if (moved >= 0) user_addr(&s->e, h.msg_name, namelen);
  iov_payload(s, h.msg_iov, h.msg_iovlen, moved);
}

/* The messages after the first of a sendmmsg/recvmmsg that moved `n`: an event each. */
static __always_inline void mmsg_rest(struct scratch *s, const struct mmsghdr *vec, __s64 n) {
  for (int i = 1; i < WS_EBPF_MAX_MMSG; i++) {
    if (i >= n) break;
    struct mmsghdr m = {};
    if (bpf_probe_read_user(&m, sizeof m, &vec[i])) break;
    s->e.flags = WS_F_MMSG_MSG | WS_F_HAVE_A;
    s->e.msg_index = i;
    s->e.addr_len = 0;
    s->e.payload_len = 0;
    s->e.aux[WS_AUX_A] = m.msg_len;
    msg_facts(s, (const struct user_msghdr *)&vec[i].msg_hdr, m.msg_len, 0);
    submit(s);
  }
}

static __always_inline void call_facts(struct scratch *s, const struct inflight *c, __s64 ret) {
  struct ws_ebpf_event *e = &s->e;
  const __u64 *a = c->args;
  switch (c->nr) {
  case WS_NR_READ: case WS_NR_WRITE:
    flat_payload(s, (const void *)a[1], ret);
    break;
  case WS_NR_READV: case WS_NR_WRITEV:
    iov_payload(s, (const struct iovec *)a[1], a[2], ret);
    break;
  case WS_NR_SENDTO:
    user_addr(e, (const void *)a[4], a[5]);
    flat_payload(s, (const void *)a[1], ret);
    break;
  case WS_NR_RECVFROM:
    if (ret >= 0 && a[4]) user_addr(e, (const void *)a[4], written_len((const void *)a[5], c->cap));
    flat_payload(s, (const void *)a[1], ret);
    break;
  case WS_NR_SENDMSG: case WS_NR_RECVMSG:
    msg_facts(s, (const struct user_msghdr *)a[1], ret, c->nr == WS_NR_RECVMSG ? c->cap : 0);
    break;
  case WS_NR_SENDMMSG: case WS_NR_RECVMMSG: {
    const struct mmsghdr *vec = (const struct mmsghdr *)a[1];
    __u32 first = 0;
    if (ret > 0 && vec && bpf_probe_read_user(&first, sizeof first, &vec->msg_len) == 0) {
      e->aux[WS_AUX_A] = first;
      e->flags |= WS_F_HAVE_A;
    }
    msg_facts(s, vec ? &vec->msg_hdr : 0, ret > 0 ? first : -1,
              c->nr == WS_NR_RECVMMSG ? c->cap : 0);
    break;
  }
  case WS_NR_CONNECT: case WS_NR_BIND:
    user_addr(e, (const void *)a[1], a[2]);
    if (c->nr == WS_NR_CONNECT) e->local_len = inet_addr(sock_of(a[0]), 0, e->local);
    break;
  case WS_NR_ACCEPT: case WS_NR_ACCEPT4:
    if (ret >= 0) {
      struct sock *sk = sock_of(ret);
      if (a[1]) user_addr(e, (const void *)a[1], written_len((const void *)a[2], c->cap));
      else e->addr_len = inet_addr(sk, 1, e->addr);
      e->local_len = inet_addr(sk, 0, e->local);
    }
    break;
  case WS_NR_GETSOCKNAME: case WS_NR_GETPEERNAME:
    if (ret == 0) user_addr(e, (const void *)a[1], written_len((const void *)a[2], c->cap));
    break;
  case WS_NR_SOCKETPAIR:
    if (ret == 0) {
      int sv[2] = {};
      if (bpf_probe_read_user(sv, sizeof sv, (const void *)a[3]) == 0) {
        e->aux[WS_AUX_A] = sv[0];
        e->aux[WS_AUX_B] = sv[1];
        e->flags |= WS_F_HAVE_A | WS_F_HAVE_B;
      }
    }
    break;
  case WS_NR_SETSOCKOPT: case WS_NR_GETSOCKOPT: {
    __u32 len = a[4];
    if (c->nr == WS_NR_GETSOCKOPT) {
      len = 0;
      if (bpf_probe_read_user(&len, sizeof len, (const void *)a[4])) len = 0;
      e->aux[WS_AUX_A] = len;
      e->flags |= WS_F_HAVE_A;
    }
    int v = 0;
    if (len == sizeof v && (c->nr == WS_NR_SETSOCKOPT || ret == 0) &&
        bpf_probe_read_user(&v, sizeof v, (const void *)a[3]) == 0) {
      e->aux[WS_AUX_B] = (__u64)(__s64)v;
      e->flags |= WS_F_HAVE_B;
    }
    break;
  }
  }
}

/* The facts of socket `f` (descriptor `fd`) in an inherited event; 0 when it is no socket. */
static __always_inline int socket_facts(struct ws_ebpf_event *e, struct file *f, __u32 fd) {
  umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);
  if ((mode & S_IFMT) != S_IFSOCK) return 0;
  struct socket *so = (struct socket *)BPF_CORE_READ(f, private_data);
  struct sock *sk = so ? BPF_CORE_READ(so, sk) : 0;
  if (!sk) return 0;
  e->args[0] = fd;
  e->args[1] = BPF_CORE_READ(sk, __sk_common.skc_family);
  e->args[2] = BPF_CORE_READ(so, type);
  e->args[3] = BPF_CORE_READ(sk, sk_protocol);
  e->args[4] = BPF_CORE_READ(sk, __sk_common.skc_state) == 10;  /* TCP_LISTEN */
  e->local_len = inet_addr(sk, 0, e->local);
  if (!e->args[4]) e->addr_len = inet_addr(sk, 1, e->addr);
  return 1;
}

/* ---- System-wide capture: what the trace needs besides the calls kept --------------------
 * A process is named once, before its first call kept (WS_EV_SEEN: wstrace may find it gone
 * by the time it reads the event). A socket is described once, before the first call kept on
 * it (an inherited event), unless the trace saw it made: its socket() may have been left out
 * by the filter or made before the capture, and its kind and ends are the trace's only way to
 * know it. Both are written straight into the ring: the per-CPU scratch holds the call. */

struct sock_key {
  __u32 tgid, fd;
};
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 65536);
  __type(key, struct sock_key);
  __type(value, __u64);  /* the struct sock it was when the trace last learnt of it */
} described SEC(".maps");

static __always_inline void say_seen(__u32 tgid, __u32 tid, __u64 ts) {
  struct ws_ebpf_event *e =
      bpf_ringbuf_reserve(&events, sizeof(struct ws_ebpf_event) + 16 + WS_EBPF_CMDLINE_MAX, 0);
  if (!e) return;  /* (wstrace then names it from /proc, if it still can) */
  __builtin_memset(e, 0, sizeof *e);
  e->kind = WS_EV_SEEN;
  e->pid = tgid;
  e->tid = tid;
  e->ts = ts;
  struct task_struct *task = bpf_get_current_task_btf();
  struct task_struct *leader = BPF_CORE_READ(task, group_leader);
  e->aux[0] = BPF_CORE_READ(leader, real_parent, tgid);
  __u8 *payload = (__u8 *)(e + 1);
  if (bpf_core_read(payload, 16, &leader->comm)) __builtin_memset(payload, 0, 16);
  const __u64 len = command_line(task, payload + 16);
  e->aux[2] = len;
  e->payload_len = 16 + len;
  bpf_ringbuf_submit(e, 0);
}

/* The trace learns of socket `fd` of `tgid` by a call that made it (the event says so). */
static __always_inline void sock_known(__u32 tgid, __s64 fd) {
  if (fd < 0) return;
  struct sock_key k = {tgid, (__u32)fd};
  __u64 sk = (__u64)sock_of(fd);
  if (sk) bpf_map_update_elem(&described, &k, &sk, BPF_ANY);
}

/* Describes socket `fd` before a call on it, unless the trace knows it already; `ends`: with
 * its ends (not for the calls that set them up, which tell them). */
static __always_inline void describe_sock(__u32 tgid, __u32 tid, __u64 fd, __u64 ts, int ends) {
  struct file *f = file_of(fd);
  if (!f) return;
  struct socket *so = (struct socket *)BPF_CORE_READ(f, private_data);
  __u64 sk = so ? (__u64)BPF_CORE_READ(so, sk) : 0;
  struct sock_key k = {tgid, (__u32)fd};
  __u64 *known = bpf_map_lookup_elem(&described, &k);
  if (!sk || (known && *known == sk)) return;
  bpf_map_update_elem(&described, &k, &sk, BPF_ANY);
  struct ws_ebpf_event *e = bpf_ringbuf_reserve(&events, sizeof(struct ws_ebpf_event), 0);
  if (!e) return;
  __builtin_memset(e, 0, sizeof *e);
  if (!socket_facts(e, f, fd)) {
    bpf_ringbuf_discard(e, 0);
    return;
  }
  if (!ends) {
    e->local_len = e->addr_len = 0;
    e->args[4] = 0;
  }
  e->kind = WS_EV_INHERITED;
  e->pid = tgid;
  e->tid = tid;
  e->ts = ts;
  bpf_ringbuf_submit(e, 0);
}

/* Before a call kept system-wide: its process and its socket, if the trace does not know them. */
static __always_inline void system_before(__u32 tgid, __u32 tid, const struct inflight *c) {
  if (!was_seen(tgid)) {
    mark_seen(tgid);
    say_seen(tgid, tid, c->ts - 2);
  }
  if (c->nr == WS_NR_SOCKET || c->nr == WS_NR_SOCKETPAIR) return;
  const int sets_up = c->nr == WS_NR_CONNECT || c->nr == WS_NR_BIND || c->nr == WS_NR_LISTEN;
  describe_sock(tgid, tid, c->args[0], c->ts - 1, !sets_up);
}

/* After it: the sockets it made, and the one it closed. */
static __always_inline void system_after(__u32 tgid, const struct inflight *c, __s64 ret) {
  switch (c->nr) {
  case WS_NR_SOCKET: case WS_NR_ACCEPT: case WS_NR_ACCEPT4: case WS_NR_DUP: case WS_NR_DUP2:
  case WS_NR_DUP3:
    sock_known(tgid, ret);
    break;
  case WS_NR_FCNTL:
    if (c->args[1] == WS_F_DUPFD || c->args[1] == WS_F_DUPFD_CLOEXEC) sock_known(tgid, ret);
    break;
  case WS_NR_SOCKETPAIR:
    if (ret == 0) {
      int sv[2] = {-1, -1};
      if (bpf_probe_read_user(sv, sizeof sv, (const void *)c->args[3]) == 0) {
        sock_known(tgid, sv[0]);
        sock_known(tgid, sv[1]);
      }
    }
    break;
  case WS_NR_CLOSE: {
    struct sock_key k = {tgid, (__u32)c->args[0]};
    if (ret == 0) bpf_map_delete_elem(&described, &k);
    break;
  }
  }
}

SEC("tp_btf/sys_exit")
int BPF_PROG(sys_exit, struct pt_regs *regs, long ret) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tgid = id >> 32, tid = (__u32)id;
  struct task_struct *task = bpf_get_current_task_btf();
  struct inflight *found = bpf_task_storage_get(&inflight, task, 0, 0);
  struct inflight c = {};
  if (found) {
    if (!found->active) return 0;
    c = *found;
    found->active = 0;
  } else {
    /* The thread's first exit since it is traced: its call may have begun before (attach, or
     * --system, while it waited in accept or recv). Its arguments are still in the registers;
     * its start is not known (it is dated here, without a duration). The storage made now says
     * that every later call was seen entering. */
    if (!is_traced(tgid) || !bpf_task_storage_get(&inflight, task, 0,
                                                  BPF_LOCAL_STORAGE_GET_F_CREATE))
      return 0;
    const long nr = regs->orig_ax;
    if (nr == WS_NR_CLOSE || !wanted(nr, regs->di, regs->si)) return 0;
    if (trace_all && pf.active) {
      c.pf = pf_process(tgid) & pf_func(nr);
      if (!c.pf) return 0;
    }
    c.args[0] = regs->di;
    c.args[1] = regs->si;
    c.args[2] = regs->dx;
    c.args[3] = regs->r10;
    c.args[4] = regs->r8;
    c.args[5] = regs->r9;
    c.nr = nr;
    c.cap = WS_EBPF_ADDR_MAX;
    c.ts = bpf_ktime_get_ns();
  }
  struct scratch *s = fresh_event(WS_EV_CALL, tgid, tid);
  if (!s) return 0;
  struct ws_ebpf_event *e = &s->e;
  e->nr = c.nr;
  e->ts = c.ts;
  e->dur = bpf_ktime_get_ns() - c.ts;
  e->ret = ret;
  __builtin_memcpy(e->args, c.args, sizeof e->args);
  call_facts(s, &c, ret);
  /* The ends are known now: connect's address, accept's new socket, recvfrom's sender. (An
   * mmsg call's messages may each go elsewhere: it is kept on its process and function.) */
  if (trace_all && pf.active && (pf.c_port | pf.c_addr) && c.nr != WS_NR_CLOSE &&
      c.nr != WS_NR_SENDMMSG && c.nr != WS_NR_RECVMMSG) {
    struct pf_ends x = {};
    if (c.nr != WS_NR_SOCKET && c.nr != WS_NR_SOCKETPAIR) pf_sock_ends(&x, sock_of(c.args[0]));
    pf_end(&x, e->addr, e->addr_len);
    pf_end(&x, e->local, e->local_len);
    if (!pf_ends_met(c.pf, &x)) return 0;
  }
  if (trace_all) system_before(tgid, tid, &c);
  submit(s);
  if (trace_all) system_after(tgid, &c, ret);
  if ((c.nr == WS_NR_SENDMMSG || c.nr == WS_NR_RECVMMSG) && ret > 1)
    mmsg_rest(s, (const struct mmsghdr *)c.args[1], ret);
  return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(sched_fork, struct task_struct *parent, struct task_struct *child) {
  __u32 ptgid = BPF_CORE_READ(parent, tgid);
  __u32 cpid = BPF_CORE_READ(child, pid), ctgid = BPF_CORE_READ(child, tgid);
  if (!follow || cpid != ctgid || !is_traced(ptgid)) return 0;  /* (a thread: its process is) */
  if (trace_all) {
    if (!was_seen(ptgid)) return 0;
    mark_seen(ctgid);
  }
  __u8 yes = 1;
  const int full = !trace_all && bpf_map_update_elem(&traced, &ctgid, &yes, BPF_ANY) != 0;
  struct scratch *s = fresh_event(WS_EV_FORK, ctgid, cpid);
  if (!s) return 0;
  if (full) s->e.flags = WS_F_NOT_TRACED;
  s->e.ts = bpf_ktime_get_ns();
  s->e.aux[0] = ptgid;
  s->e.aux[1] = BPF_CORE_READ(parent, pid);
  submit(s);
  return 0;
}

/* Walks the new program's descriptors after an exec (those marked close-on-exec are gone). */
struct fd_walk {
  __u32 tgid, tid;
  __u64 ts;
};

static long inherited_fd(__u32 fd, void *ctx) {
  struct fd_walk *w = ctx;
  struct file *f = file_of(fd);
  if (!f) return 0;
  umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);
  if ((mode & S_IFMT) != S_IFSOCK) return 0;
  struct scratch *s = fresh_event(WS_EV_INHERITED, w->tgid, w->tid);
  if (!s) return 1;
  s->e.ts = w->ts;
  if (socket_facts(&s->e, f, fd)) submit(s);
  return 0;
}

static __always_inline void inherited_sockets(__u32 tgid, __u32 tid) {
  struct task_struct *task = (struct task_struct *)bpf_get_current_task_btf();
  unsigned int max = BPF_CORE_READ(task, files, fdt, max_fds);
  if (max > WS_EBPF_MAX_INHERITED_FDS) max = WS_EBPF_MAX_INHERITED_FDS;
  struct fd_walk w = {tgid, tid, bpf_ktime_get_ns()};
  bpf_loop(max, inherited_fd, &w, 0);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm) {
  __u32 tgid = BPF_CORE_READ(p, tgid);
  if (!is_traced(tgid) || (trace_all && !was_seen(tgid))) return 0;
  struct scratch *s = fresh_event(WS_EV_EXEC, tgid, BPF_CORE_READ(p, pid));
  if (!s) return 0;
  s->e.ts = bpf_ktime_get_ns();
  s->e.aux[0] = BPF_CORE_READ(p, real_parent, tgid);
  const char *name = BPF_CORE_READ(bprm, filename);
  long n = bpf_probe_read_kernel_str(s->payload, WS_EBPF_PATH_MAX, name);
  s->e.aux[1] = n > 0 ? n - 1 : 0;  /* without its NUL */
  const __u64 len = command_line(p, s->payload + WS_EBPF_PATH_MAX);
  s->e.aux[2] = len;
  s->e.payload_len = WS_EBPF_PATH_MAX + len;
  submit(s);
  inherited_sockets(tgid, s->e.tid);
  return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_exit, struct task_struct *p) {
  __u32 tgid = BPF_CORE_READ(p, tgid), tid = BPF_CORE_READ(p, pid);
  if (!is_traced(tgid) || (trace_all && !was_seen(tgid))) return 0;
  struct scratch *s = fresh_event(WS_EV_EXIT, tgid, tid);
  if (!s) return 0;
  s->e.ts = bpf_ktime_get_ns();
  /* The last thread out: the process has ended (signal->live reached 0 before this point). */
  if (BPF_CORE_READ(p, signal, live.counter) == 0) {
    s->e.flags = WS_F_LAST_THREAD;
    if (!trace_all) bpf_map_delete_elem(&traced, &tgid);
    else bpf_map_delete_elem(&seen, &tgid);
    bpf_map_delete_elem(&compat_said, &tgid);
  }
  s->e.aux[0] = BPF_CORE_READ(p, exit_code);
  submit(s);
  return 0;
}

/* attach: the sockets a running process has when wstrace attaches, as after an exec. wstrace
 * sets `iter_tgid` and reads this iterator once per process: it visits every task's open files
 * (a thread sharing its process's table is skipped by the kernel). Its own event room: it runs
 * in wstrace's system call, where a tracepoint program on the same CPU may take the scratch. */
__u32 iter_tgid = 0;

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ws_ebpf_event);
} iter_scratch SEC(".maps");

SEC("iter/task_file")
int attach_sockets(struct bpf_iter__task_file *ctx) {
  struct task_struct *task = ctx->task;
  struct file *f = ctx->file;
  if (!task || !f || task->tgid != iter_tgid) return 0;
  __u32 zero = 0;
  struct ws_ebpf_event *e = bpf_map_lookup_elem(&iter_scratch, &zero);
  if (!e) return 0;
  __builtin_memset(e, 0, sizeof *e);
  if (!socket_facts(e, f, ctx->fd)) return 0;
  e->kind = WS_EV_INHERITED;
  e->pid = e->tid = iter_tgid;
  e->ts = bpf_ktime_get_ns();
  if (bpf_ringbuf_output(&events, e, sizeof *e, 0)) {
    __u64 *n = bpf_map_lookup_elem(&drops_cpu, &zero);
    if (n) *n += 1;
  }
  return 0;
}
/* TCP under the traced connections: state changes, retransmissions, readings. */
#include "wstrace_tcp.bpf.h"
