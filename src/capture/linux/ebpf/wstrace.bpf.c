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
  __s64 zc_from; /* (sendfile) where it reads its file, -1: unknown */
  __u64 zc_file; /* (sendfile) that file; (splice into a socket) 1: its pipe was looked at */
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

/* Up to `want` bytes of one buffer, of the program's memory or (kernel) the kernel's, at offset
 * `kept` of `payload` (2 * WS_EBPF_SNAP_MAX bytes); the new offset. */
static __always_inline __u32 copy_bytes(__u8 *payload, __u32 kept, const void *p, __u64 n,
                                        __u32 want, int kernel) {
  if (kept >= want) return kept;
  if (n > want - kept) n = want - kept;
  __u32 off = kept & (WS_EBPF_SNAP_MAX - 1);
  if (n > WS_EBPF_SNAP_MAX) n = WS_EBPF_SNAP_MAX;
  barrier_var(n);
  if (n == 0 || n > WS_EBPF_SNAP_MAX) return kept;
  const long err = kernel ? bpf_probe_read_kernel(&payload[off], n, p)
                         : bpf_probe_read_user(&payload[off], n, p);
  if (err) return kept;
  return kept + n;
}

static __always_inline __u32 copy_piece(struct scratch *s, __u32 kept, const void *p, __u64 n,
                                        __u32 want) {
  return copy_bytes(s->payload, kept, p, n, want, 0);
}

static __always_inline __u32 snap_for(__s64 moved) {
  __u32 want = snaplen;
  if (want > WS_EBPF_SNAP_MAX) want = WS_EBPF_SNAP_MAX;
  if (moved < want) want = moved;
  return want;
}

/* The payload of a call that moved `moved` bytes through `iovcnt` iovecs; their total length
 * and count go to aux. One iovec a bpf_loop step: unrolled (and again in each message of a
 * sendmmsg), the copies made the verifier take seconds over sys_exit at every start. */
struct iov_walk {
  struct scratch *s;
  const struct iovec *iov;
  __u64 total;
  __u32 kept, want;
};

static long iov_one(__u32 i, void *ctx) {
  struct iov_walk *w = ctx;
  struct iovec v = {};
  if (bpf_probe_read_user(&v, sizeof v, &w->iov[i])) return 1;
  w->total += v.iov_len;
  w->kept = copy_piece(w->s, w->kept, v.iov_base, v.iov_len, w->want);
  return 0;
}

static __always_inline void iov_payload(struct scratch *s, const struct iovec *iov, __u64 iovcnt,
                                        __s64 moved) {
  struct ws_ebpf_event *e = &s->e;
  struct iov_walk w = {.s = s, .iov = iov, .want = moved > 0 ? snap_for(moved) : 0};
  bpf_loop(iovcnt < WS_EBPF_MAX_IOV ? iovcnt : WS_EBPF_MAX_IOV, iov_one, &w, 0);
  e->aux[WS_AUX_LEN] = w.total;
  e->aux[WS_AUX_COUNT] = iovcnt;
  e->payload_len = w.kept;
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

static __always_inline int in_lookup(void);
static __always_inline __u64 uring_ops_of(__u32 tgid);
static __always_inline int wanted_more(long nr, struct pt_regs *regs);
static __always_inline void more_enter(struct inflight *c);
static __always_inline int more_facts(struct scratch *s, const struct inflight *c, __s64 ret);

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

#include "wstrace_zerocopy.bpf.h"
#include "wstrace_epoll.bpf.h"

SEC("tp_btf/sys_enter")
int BPF_PROG(sys_enter, struct pt_regs *regs, long nr) {
  __u64 id = bpf_get_current_pid_tgid();
  if (!is_traced(id >> 32) || compat_call(id >> 32, (__u32)id)) return 0;
  /* (a tp_btf program reads the registers directly: no helper call per argument) */
  const __u64 fd = regs->di, a1 = regs->si;
  if (!wanted(nr, fd, a1) && !wanted_more(nr, regs)) return 0;
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
  more_enter(&c);
  zc_enter(&c);  /* (a global function: one call, verified apart; it looks at the number) */
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

/* The messages after the first of a sendmmsg/recvmmsg that moved `n`: an event each (one a
 * bpf_loop step, for the verifier's sake as iov_payload). */
struct mmsg_walk {
  struct scratch *s;
  const struct mmsghdr *vec;
};

static long mmsg_one(__u32 i, void *ctx) {
  struct mmsg_walk *w = ctx;
  struct scratch *s = w->s;
  const __u32 k = i + 1;
  struct mmsghdr m = {};
  if (bpf_probe_read_user(&m, sizeof m, &w->vec[k])) return 1;
  s->e.flags = (s->e.flags & WS_F_IN_LOOKUP) | WS_F_MMSG_MSG | WS_F_HAVE_A;
  s->e.msg_index = k;
  s->e.addr_len = 0;
  s->e.payload_len = 0;
  s->e.aux[WS_AUX_A] = m.msg_len;
  msg_facts(s, (const struct user_msghdr *)&w->vec[k].msg_hdr, m.msg_len, 0);
  submit(s);
  return 0;
}

static __always_inline void mmsg_rest(struct scratch *s, const struct mmsghdr *vec, __s64 n) {
  struct mmsg_walk w = {s, vec};
  if (n > WS_EBPF_MAX_MMSG) n = WS_EBPF_MAX_MMSG;
  if (n > 1) bpf_loop(n - 1, mmsg_one, &w, 0);
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

static __always_inline void tcp_remember(struct sock *sk, __u32 tgid, __u32 fd);

/* The facts of socket `f` (descriptor `fd` of `tgid`) in an inherited event; 0 when it is no
 * socket. A TCP socket the trace meets this way is followed by the TCP programs from now on
 * (wstrace_tcp.bpf.h), as one it saw made. */
static __always_inline int socket_facts(struct ws_ebpf_event *e, struct file *f, __u32 fd,
                                        __u32 tgid) {
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
  tcp_remember(sk, tgid, fd);
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
  if (!socket_facts(e, f, fd, tgid)) {
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
  /* (any call: checked there; the epoll and socket descriptors in one word, for five arguments) */
  epoll_ctl_seen(regs->orig_ax, ret, (__u32)regs->di | regs->dx << 32, regs->si, regs->r10);
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
  if (in_lookup()) e->flags |= WS_F_IN_LOOKUP;
  if (!more_facts(s, &c, ret)) return 0;
  call_facts(s, &c, ret);
  /* The ends are known now: connect's address, accept's new socket, recvfrom's sender. (An
   * mmsg call's messages may each go elsewhere: it is kept on its process and function.) */
  if (trace_all && pf.active && (pf.c_port | pf.c_addr) && c.nr != WS_NR_CLOSE &&
      c.nr != WS_NR_SENDMMSG && c.nr != WS_NR_RECVMMSG) {
    struct pf_ends x = {};
    /* (the socket is epoll_ctl's and copy_file_range's third argument, and a splice's into one) */
    const __u64 sfd = c.nr == WS_NR_EPOLL_CTL || c.nr == WS_NR_COPY_FILE_RANGE ||
                              (c.nr == WS_NR_SPLICE && c.cap)
                          ? c.args[2]
                          : c.args[0];
    if (c.nr != WS_NR_SOCKET && c.nr != WS_NR_SOCKETPAIR) pf_sock_ends(&x, sock_of(sfd));
    pf_end(&x, e->addr, e->addr_len);
    pf_end(&x, e->local, e->local_len);
    if (!pf_ends_met(c.pf, &x)) return 0;
  }
  if (trace_all) system_before(tgid, tid, &c);
  zc_exit(s, &c, ret);  /* (a sendfile's first pieces go out here) */
  epoll_ready(s, &c, ret);
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
  if (socket_facts(&s->e, f, fd, w->tgid)) submit(s);
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
  if (s->e.flags & WS_F_LAST_THREAD) s->e.aux[1] = uring_ops_of(tgid);
  submit(s);
  return 0;
}

/* ---- Name lookups: uprobes on the C library's getaddrinfo, gethostbyname*, gethostbyaddr and
 * getnameinfo (wstrace attaches them to the libc the programs map, each with its function as
 * the cookie). The outermost lookup of a thread is the one the program made and the one
 * recorded, as the preload agent records it: the library's own calls to these functions inside
 * it (gethostbyname runs gethostbyname_r) only deepen it. Every system call a thread makes
 * while a lookup is under way is the library's, marked WS_F_IN_LOOKUP. ---- */

struct lookup_state {
  __u32 depth;      /* lookups under way in the thread (the library nests them) */
  __u32 fn;         /* the outermost's ws_lookup_fn */
  __u64 ts;
  __u64 args[6];
  __u64 herrp;      /* the outermost's h_errno pointer (the _r functions) */
  __u64 inner_herrp;  /* an inner _r function's: the outer gethostbyname's h_errno */
  __s32 herr;
  __u32 have_herr;
};

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct lookup_state);
} lookup_state SEC(".maps");

const volatile __u8 lookups_on = 0;

/* The C library's structures, as x86-64's glibc lays them out (not the kernel's: not in
 * vmlinux.h). Pointers as numbers: they are the program's. */
struct ws_hostent {
  __u64 h_name, h_aliases;
  __s32 h_addrtype, h_length;
  __u64 h_addr_list;
};
struct ws_addrinfo {
  __s32 ai_flags, ai_family, ai_socktype, ai_protocol;
  __u32 ai_addrlen, pad;
  __u64 ai_addr, ai_canonname, ai_next;
};  /* the uprobes are attached (set by wstrace) */

/* Whether the current thread is inside a lookup (its calls are the library's). */
static __always_inline int in_lookup(void) {
  if (!lookups_on) return 0;
  struct lookup_state *st = bpf_task_storage_get(&lookup_state, bpf_get_current_task_btf(), 0, 0);
  return st && st->depth;
}

/* The h_errno pointer of the _r functions: their last argument (gethostbyname2_r's seventh and
 * gethostbyaddr_r's eighth are on the stack, above the return address). */
static __always_inline __u64 herr_ptr(__u64 r9, __u64 sp, __u32 fn) {
  __u64 p = 0;
  if (fn == WS_LK_GETHOSTBYNAME_R) return r9;
  if (fn == WS_LK_GETHOSTBYNAME2_R)
    bpf_probe_read_user(&p, sizeof p, (const void *)(sp + 8));
  else if (fn == WS_LK_GETHOSTBYADDR_R)
    bpf_probe_read_user(&p, sizeof p, (const void *)(sp + 16));
  return p;
}

SEC("uprobe")
int lookup_enter(struct pt_regs *ctx) {
  /* (the registers first, each read once: the verifier refuses a moved context pointer) */
  __u64 r[6] = {ctx->di, ctx->si, ctx->dx, ctx->cx, ctx->r8, ctx->r9};
  __u64 sp = ctx->sp;
  barrier_var(sp);
  if (!is_traced(bpf_get_current_pid_tgid() >> 32)) return 0;
  struct lookup_state *st = bpf_task_storage_get(&lookup_state, bpf_get_current_task_btf(), 0,
                                                 BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (!st) return 0;
  const __u32 fn = bpf_get_attach_cookie(ctx);
  if (st->depth++) {
    st->inner_herrp = herr_ptr(r[5], sp, fn);
    return 0;
  }
  st->fn = fn;
  st->ts = bpf_ktime_get_ns();
  __builtin_memcpy(st->args, r, sizeof r);
  st->herrp = herr_ptr(r[5], sp, fn);
  st->inner_herrp = 0;
  st->have_herr = 0;
  return 0;
}

static __always_inline void lk_str(char *out, __u32 room, __u64 p) {
  out[0] = 0;
  if (p && bpf_probe_read_user_str(out, room, (const void *)p) < 0) out[0] = 0;
}

/* An address of `len` raw bytes (4 or 16) of family `af` as a sockaddr into `out` (28 bytes). */
static __always_inline int lk_raw_addr(__u8 *out, int af, const void *p, __u32 len) {
  if (af == AF_INET && len == 4) {
    struct sockaddr_in a = {};
    a.sin_family = AF_INET;
    if (bpf_probe_read_user(&a.sin_addr, 4, p)) return 0;
    __builtin_memcpy(out, &a, sizeof a);
    return 1;
  }
  if (af == AF_INET6 && len == 16) {
    struct sockaddr_in6 a = {};
    a.sin6_family = AF_INET6;
    if (bpf_probe_read_user(&a.sin6_addr, 16, p)) return 0;
    __builtin_memcpy(out, &a, sizeof a);
    return 1;
  }
  return 0;
}

/* The walks of a lookup's answers, in bpf_loop callbacks (unrolled, they would be too long for
 * the verifier). */
struct lk_walk {
  struct ws_ebpf_lookup *l;
  __u64 next;     /* hostent: h_addr_list; addrinfo: the next entry */
  __u64 first;
  int af, len;
};

static long hostent_one(__u32 i, void *ctx) {
  struct lk_walk *k = ctx;
  __u64 p = 0;
  if (i >= WS_LK_ADDRS_MAX || bpf_probe_read_user(&p, sizeof p, (const void *)(k->next + 8 * i)) ||
      !p)
    return 1;
  __u32 idx = i & (WS_LK_ADDRS_MAX - 1);
  barrier_var(idx);  /* (the mask stays where the verifier sees it) */
  idx &= WS_LK_ADDRS_MAX - 1;
  if (!lk_raw_addr(k->l->addrs[idx], k->af, (const void *)p, k->len)) return 1;
  k->l->naddrs = i + 1;
  return 0;
}

/* A hostent's addresses and name (the name to `name`). */
static __always_inline void lk_hostent(struct ws_ebpf_lookup *l, __u64 hp, char *name) {
  struct ws_hostent h = {};
  if (!hp || bpf_probe_read_user(&h, sizeof h, (const void *)hp)) return;
  lk_str(name, WS_LK_NAME_MAX, h.h_name);
  if (!h.h_addr_list) return;
  struct lk_walk k = {.l = l, .next = h.h_addr_list, .af = h.h_addrtype, .len = h.h_length};
  bpf_loop(WS_LK_ADDRS_MAX, hostent_one, &k, 0);
}

#define SOCK_STREAM_ 1

/* getaddrinfo's answer list: one entry per address (the library repeats each for every socket
 * type when the hints name none), as the preload agent keeps them. */
static long addrinfo_one(__u32 i, void *ctx) {
  struct lk_walk *k = ctx;
  struct ws_ebpf_lookup *l = k->l;
  const __u64 ai = k->next;
  struct ws_addrinfo a = {};
  if (!ai || l->naddrs >= WS_LK_ADDRS_MAX || bpf_probe_read_user(&a, sizeof a, (const void *)ai))
    return 1;
  const int skip = l->have_hints && l->hint_type == 0 && a.ai_socktype != SOCK_STREAM_ &&
                   ai != k->first;
  if (!skip && a.ai_addr) {
    /* (as many bytes as the entry has: the family says how many are the address) */
    __u64 len = a.ai_addrlen;
    if (len > 28) len = 28;
    barrier_var(len);
    if (len > 28) len = 0;
    __u32 idx = l->naddrs & (WS_LK_ADDRS_MAX - 1);
    barrier_var(idx);
    idx &= WS_LK_ADDRS_MAX - 1;
    __u8 *slot = l->addrs[idx];
    if (len && bpf_probe_read_user(slot, len, (const void *)a.ai_addr) == 0) l->naddrs++;
  }
  k->next = a.ai_next;
  return 0;
}

static __always_inline void lk_addrinfo(struct ws_ebpf_lookup *l, __u64 resp) {
  __u64 ai = 0;
  if (!resp || bpf_probe_read_user(&ai, sizeof ai, (const void *)resp) || !ai) return;
  struct ws_addrinfo a = {};
  if (bpf_probe_read_user(&a, sizeof a, (const void *)ai) == 0)
    lk_str(l->canon, WS_LK_NAME_MAX, a.ai_canonname);
  struct lk_walk k = {.l = l, .next = ai, .first = ai};
  bpf_loop(2 * WS_LK_ADDRS_MAX, addrinfo_one, &k, 0);
}

SEC("uretprobe")
int lookup_exit(struct pt_regs *ctx) {
  __u64 id = bpf_get_current_pid_tgid();
  struct lookup_state *st = bpf_task_storage_get(&lookup_state, bpf_get_current_task_btf(), 0, 0);
  if (!st || !st->depth) return 0;
  if (--st->depth) {
    /* An inner _r function (the outer gethostbyname's): its h_errno is the outer's. */
    int v = 0;
    if (st->inner_herrp && bpf_probe_read_user(&v, sizeof v, (const void *)st->inner_herrp) == 0) {
      st->herr = v;
      st->have_herr = 1;
    }
    return 0;
  }
  const __u32 fn = st->fn;
  if (fn >= WS_LK_COUNT) return 0;  /* (gethostbyaddr_r: only ever an inner one) */
  struct scratch *s = fresh_event(WS_EV_LOOKUP, id >> 32, (__u32)id);
  if (!s) return 0;
  s->e.ts = st->ts;
  s->e.dur = bpf_ktime_get_ns() - st->ts;
  struct ws_ebpf_lookup *l = (struct ws_ebpf_lookup *)s->payload;
  __builtin_memset(l, 0, offsetof(struct ws_ebpf_lookup, host));
  l->host[0] = l->serv[0] = l->canon[0] = 0;
  l->fn = fn;
  const __u64 rc = PT_REGS_RC(ctx);
  const __u64 *a = st->args;
  l->have_herr = st->have_herr;
  l->herr = st->herr;
  switch (fn) {
  case WS_LK_GETADDRINFO: {
    l->ret = (__s32)rc;
    lk_str(l->host, WS_LK_NAME_MAX, a[0]);
    lk_str(l->serv, WS_LK_SERV_MAX, a[1]);
    struct ws_addrinfo h = {};
    if (a[2] && bpf_probe_read_user(&h, sizeof h, (const void *)a[2]) == 0) {
      l->have_hints = 1;
      l->hint_flags = h.ai_flags;
      l->hint_family = h.ai_family;
      l->hint_type = h.ai_socktype;
    }
    if (l->ret == 0) lk_addrinfo(l, a[3]);
    break;
  }
  case WS_LK_GETHOSTBYNAME: case WS_LK_GETHOSTBYNAME2:
    l->ret = rc ? 0 : -1;
    l->af = fn == WS_LK_GETHOSTBYNAME2 ? (__s32)a[1] : 0;
    lk_str(l->host, WS_LK_NAME_MAX, a[0]);
    lk_hostent(l, rc, l->canon);
    break;
  case WS_LK_GETHOSTBYNAME_R: case WS_LK_GETHOSTBYNAME2_R: {
    l->ret = (__s32)rc;
    const int two = fn == WS_LK_GETHOSTBYNAME2_R;
    l->af = two ? (__s32)a[1] : 0;
    lk_str(l->host, WS_LK_NAME_MAX, a[0]);
    __u64 result = 0;
    if (rc == 0 && bpf_probe_read_user(&result, sizeof result, (const void *)a[two ? 5 : 4]) == 0
        && result) {
      lk_hostent(l, result, l->canon);
    } else if (rc == 0) {
      l->ret = -2;  /* (not found: h_errno says why) */
      int v = 0;
      if (st->herrp && bpf_probe_read_user(&v, sizeof v, (const void *)st->herrp) == 0) {
        l->herr = v;
        l->have_herr = 1;
      }
    }
    break;
  }
  case WS_LK_GETHOSTBYADDR:
    l->ret = rc ? 0 : -1;
    l->af = (__s32)a[2];
    if (lk_raw_addr(l->addr, (int)a[2], (const void *)a[0], (__u32)a[1])) l->addr_len = 28;
    lk_hostent(l, rc, l->host);
    l->naddrs = 0;  /* (the answer is the name) */
    break;
  case WS_LK_GETNAMEINFO: {
    l->ret = (__s32)rc;
    __u64 len = a[1] & 0xffffffff;
    if (len > 28) len = 28;
    barrier_var(len);
    if (a[0] && len && len <= 28 && bpf_probe_read_user(l->addr, len, (const void *)a[0]) == 0)
      l->addr_len = len;
    if (l->ret == 0 && a[3]) lk_str(l->host, WS_LK_NAME_MAX, a[2]);
    if (l->ret == 0 && a[5]) lk_str(l->serv, WS_LK_SERV_MAX, a[4]);
    break;
  }
  }
  s->e.payload_len = sizeof(struct ws_ebpf_lookup);
  submit(s);
  return 0;
}

/* ---- Waits and splice: poll, ppoll, select, pselect6 when a socket is among their
 * descriptors, the epoll waits always (the preload agent records the same), with the sockets
 * they returned ready (wstrace_epoll.bpf.h), and splice with a socket at one end. ---- */

/* What a wait's call said at entry that the kernel may overwrite: its timeout and select's
 * sets (whole longs, as the kernel reads them). */
struct wait_in {
  __u64 timeout;      /* ns; ~0: none (wait forever) */
  __u8 sets[3][WS_EBPF_MAX_WAIT_FDS / 8];
};

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct wait_in);
} wait_in SEC(".maps");

#define NO_TIMEOUT (~0ULL)
#define POLLIN_ 1
#define POLLPRI_ 2
#define POLLOUT_ 4

static __always_inline int wanted_more(long nr, struct pt_regs *regs) {
  switch (nr) {
  case WS_NR_POLL: case WS_NR_PPOLL:
    return regs->si != 0;  /* (no descriptors: not a wait on sockets) */
  case WS_NR_SELECT: case WS_NR_PSELECT6:
    return (long)regs->di > 0;
  case WS_NR_EPOLL_WAIT: case WS_NR_EPOLL_PWAIT: case WS_NR_EPOLL_PWAIT2:
  case WS_NR_IO_URING_SETUP:
    return 1;
  case WS_NR_SPLICE:
    return is_socket_fd(regs->di) || is_socket_fd(regs->dx);
  case WS_NR_EPOLL_CTL:  /* (epfd, op, fd, event): a socket added, changed or removed */
  case WS_NR_COPY_FILE_RANGE:
    return is_socket_fd(regs->dx);
  }
  return 0;
}

static __always_inline __u64 ts_ns(__u64 p, int usec) {
  struct { __s64 sec, frac; } t = {};
  if (!p || bpf_probe_read_user(&t, sizeof t, (const void *)p) || t.sec < 0 || t.frac < 0)
    return NO_TIMEOUT;
  return t.sec * 1000000000ULL + t.frac * (usec ? 1000 : 1);
}

static __always_inline __u64 ms_ns(__u64 ms) {
  return (int)ms < 0 ? NO_TIMEOUT : (__u64)(int)ms * 1000000ULL;
}

static __always_inline void read_set(__u8 *out, __u64 p, __u64 nfds) {
  __u64 bytes = (nfds + 63) / 64 * 8;
  if (bytes > WS_EBPF_MAX_WAIT_FDS / 8) bytes = WS_EBPF_MAX_WAIT_FDS / 8;
  barrier_var(bytes);
  if (!p || !bytes || bytes > WS_EBPF_MAX_WAIT_FDS / 8) return;
  bpf_probe_read_user(out, bytes, (const void *)p);
}

static __always_inline void more_enter(struct inflight *c) {
  const __u64 *a = c->args;
  if (c->nr == WS_NR_SPLICE) {
    c->cap = is_socket_fd(a[2]);  /* (into a socket, else out of one) */
    return;
  }
  if (c->nr != WS_NR_PPOLL && c->nr != WS_NR_SELECT && c->nr != WS_NR_PSELECT6 &&
      c->nr != WS_NR_EPOLL_PWAIT2)
    return;
  struct wait_in *w = bpf_task_storage_get(&wait_in, bpf_get_current_task_btf(), 0,
                                           BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (!w) return;
  switch (c->nr) {
  case WS_NR_PPOLL: w->timeout = ts_ns(a[2], 0); break;
  case WS_NR_EPOLL_PWAIT2: w->timeout = ts_ns(a[3], 0); break;
  case WS_NR_SELECT: case WS_NR_PSELECT6:
    w->timeout = ts_ns(a[4], c->nr == WS_NR_SELECT);
    __builtin_memset(w->sets, 0, sizeof w->sets);
    read_set(w->sets[0], a[1], a[0]);
    read_set(w->sets[1], a[2], a[0]);
    read_set(w->sets[2], a[3], a[0]);
    break;
  }
}

struct wait_walk {
  struct scratch *s;
  struct wait_in *w;
  __u64 fds;      /* poll: the array */
  __u32 n, sockets;
  __u32 select_ok;  /* select: the call returned descriptors (its sets say which) */
};

static __always_inline void wait_entry(struct wait_walk *k, __s64 fd, __u32 ev, __u32 rev) {
  k->sockets++;
  if (k->n >= WS_EBPF_MAX_POLLED) return;
  struct ws_ebpf_poll *p = (struct ws_ebpf_poll *)&k->s->payload[(k->n & 63) * 16];
  p->fd = fd;
  p->events = ev;
  p->revents = rev;
  k->n++;
}

static long poll_one(__u32 i, void *ctx) {
  struct wait_walk *k = ctx;
  struct { int fd; short events, revents; } p = {};
  if (bpf_probe_read_user(&p, sizeof p, (const void *)(k->fds + 8 * (__u64)i))) return 1;
  if (p.fd >= 0 && is_socket_fd(p.fd)) wait_entry(k, p.fd, (__u16)p.events, (__u16)p.revents);
  return 0;
}

/* select's sets after the call sit in the payload's second half (the entries in its first). */
#define SELECT_OUT (WS_EBPF_SNAP_MAX)
static long select_one(__u32 fd, void *ctx) {
  struct wait_walk *k = ctx;
  /* (select's sets are always there; the verifier may not follow the system call's number
   * from the caller's branches to here, so it is told) */
  if (!k->w) return 1;
  const __u32 byte = (fd / 8) & (WS_EBPF_MAX_WAIT_FDS / 8 - 1), bit = fd % 8;
  __u32 ev = 0, rev = 0;
  const __u32 masks[3] = {POLLIN_, POLLOUT_, POLLPRI_};
  for (int j = 0; j < 3; j++) {
    if (!((k->w->sets[j][byte] >> bit) & 1)) continue;
    ev |= masks[j];
    if (k->select_ok &&
        ((k->s->payload[SELECT_OUT + j * (WS_EBPF_MAX_WAIT_FDS / 8) + byte] >> bit) & 1))
      rev |= masks[j];
  }
  if (ev && is_socket_fd(fd)) wait_entry(k, fd, ev, rev);
  return 0;
}

/* The facts of the calls of this part; 0 when the call is not recorded (a wait on no socket). */
static __always_inline int more_facts(struct scratch *s, const struct inflight *c, __s64 ret) {
  struct ws_ebpf_event *e = &s->e;
  const __u64 *a = c->args;
  __u64 timeout = NO_TIMEOUT;
  switch (c->nr) {
  case WS_NR_SPLICE:
    if (c->cap) e->flags |= WS_F_TO_SOCKET;
    return 1;
  case WS_NR_EPOLL_WAIT: case WS_NR_EPOLL_PWAIT:
    timeout = ms_ns(a[3]);
    break;
  case WS_NR_EPOLL_CTL: {
    /* The event the program gave (read after the call: the kernel does not change it), none
     * for a removal or one that cannot be read. struct epoll_event is packed on x86-64. */
    struct { __u32 events; __u64 data; } __attribute__((packed)) ev = {};
    if (a[1] != WS_EPOLL_CTL_DEL && a[3] &&
        !bpf_probe_read_user(&ev, sizeof ev, (const void *)a[3])) {
      e->aux[WS_AUX_A] = ev.events;
      e->aux[WS_AUX_B] = ev.data;
      e->flags |= WS_F_HAVE_A | WS_F_HAVE_B;
    }
    return 1;
  }
  case WS_NR_POLL: case WS_NR_PPOLL: case WS_NR_SELECT: case WS_NR_PSELECT6:
  case WS_NR_EPOLL_PWAIT2: {
    struct wait_in *w = 0;
    if (c->nr != WS_NR_POLL) {
      w = bpf_task_storage_get(&wait_in, bpf_get_current_task_btf(), 0, 0);
      if (!w) return 0;
      timeout = w->timeout;
    } else {
      timeout = ms_ns(a[2]);
    }
    if (c->nr == WS_NR_EPOLL_PWAIT2) break;
    struct wait_walk k = {.s = s, .w = w, .fds = a[0]};
    __u64 nfds = c->nr == WS_NR_POLL || c->nr == WS_NR_PPOLL ? a[1] : a[0];
    if (nfds > WS_EBPF_MAX_WAIT_FDS) nfds = WS_EBPF_MAX_WAIT_FDS;
    if (c->nr == WS_NR_POLL || c->nr == WS_NR_PPOLL) {
      bpf_loop(nfds, poll_one, &k, 0);
    } else {
      if (ret > 0) {
        k.select_ok = 1;
        for (int j = 0; j < 3; j++) {
          __u8 *out = &s->payload[SELECT_OUT + j * (WS_EBPF_MAX_WAIT_FDS / 8)];
          __builtin_memset(out, 0, WS_EBPF_MAX_WAIT_FDS / 8);
          read_set(out, a[1 + j], a[0]);
        }
      }
      bpf_loop(nfds, select_one, &k, 0);
    }
    if (!k.sockets) return 0;
    e->payload_len = k.n * sizeof(struct ws_ebpf_poll);
    e->aux[WS_AUX_COUNT] = k.sockets;
    break;
  }
  default:
    return 1;
  }
  if (timeout != NO_TIMEOUT) {
    e->aux[WS_AUX_A] = timeout;
    e->flags |= WS_F_HAVE_A;
  }
  return 1;
}

/* ---- io_uring: the socket operations a traced process submits there go past the system
 * calls. They are counted per process (the count goes with its end) and the first is said at
 * once; io_uring_setup itself is recorded as the call it is (the preload agent declares
 * io_uring from it). The tracepoint is attached where the kernel has it (wstrace checks). ---- */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, WS_EBPF_MAX_PROCS);
  __type(key, __u32);   /* tgid */
  __type(value, __u64);
} uring_ops SEC(".maps");

static __always_inline __u64 uring_ops_of(__u32 tgid) {
  __u64 *n = bpf_map_lookup_elem(&uring_ops, &tgid);
  __u64 v = n ? *n : 0;
  if (n) bpf_map_delete_elem(&uring_ops, &tgid);
  return v;
}

/* IORING_OP_*: those that are socket operations whatever their descriptor, and those that are
 * when it is a socket. */
static __always_inline int uring_socket_op(__u8 op, int fd, int fixed) {
  switch (op) {
  case 9: case 10: case 13: case 16: case 26: case 27: case 34: case 45: case 47: case 48:
    return 1;  /* SENDMSG RECVMSG ACCEPT CONNECT SEND RECV SHUTDOWN SOCKET SEND_ZC SENDMSG_ZC */
  case 1: case 2: case 19: case 22: case 23: case 30:
    /* READV WRITEV CLOSE READ WRITE SPLICE: a registered file's index is no descriptor */
    return !fixed && fd >= 0 && is_socket_fd(fd);
  }
  return 0;
}

SEC("tp_btf/io_uring_submit_req")
int BPF_PROG(uring_submit, struct io_kiocb *req) {
  __u64 id = bpf_get_current_pid_tgid();
  __u32 tgid = id >> 32;
  if (!is_traced(tgid)) return 0;
  const __u8 op = BPF_CORE_READ(req, opcode);
  const int fd = BPF_CORE_READ(req, cqe.fd);
  const int fixed = BPF_CORE_READ(req, flags) & 1;  /* REQ_F_FIXED_FILE */
  if (!uring_socket_op(op, fd, fixed)) return 0;
  __u64 one = 1;
  __u64 *n = bpf_map_lookup_elem(&uring_ops, &tgid);
  if (n) {
    __sync_fetch_and_add(n, 1);
    return 0;
  }
  if (bpf_map_update_elem(&uring_ops, &tgid, &one, BPF_NOEXIST)) return 0;
  struct scratch *s = fresh_event(WS_EV_URING_SOCKET_OP, tgid, (__u32)id);
  if (!s) return 0;
  s->e.ts = bpf_ktime_get_ns();
  s->e.args[0] = op;
  s->e.args[1] = fixed ? -1 : fd;
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
  if (!socket_facts(e, f, ctx->fd, iter_tgid)) return 0;
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
