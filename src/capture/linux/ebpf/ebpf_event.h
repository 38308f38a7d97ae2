/* What the kernel engine's BPF programs (wstrace.bpf.c) hand to wstrace through their ring
 * buffer, and what wstrace tells them: shared by the BPF object and the collector
 * (record_ebpf.cc), which turns each event into the preload agent's raw record (raw_record.h)
 * so that one translation and one collector serve both engines. C, for clang -target bpf. */
#ifndef WSTRACE_EBPF_EVENT_H
#define WSTRACE_EBPF_EVENT_H

/* The system calls traced, by number. x86-64 only so far: the collector checks these against
 * <sys/syscall.h> at compile time, and CMake builds the engine on x86-64 alone. */
#define WS_NR_READ 0
#define WS_NR_WRITE 1
#define WS_NR_CLOSE 3
#define WS_NR_READV 19
#define WS_NR_WRITEV 20
#define WS_NR_SENDFILE 40
#define WS_NR_SOCKET 41
#define WS_NR_CONNECT 42
#define WS_NR_ACCEPT 43
#define WS_NR_SENDTO 44
#define WS_NR_RECVFROM 45
#define WS_NR_SENDMSG 46
#define WS_NR_RECVMSG 47
#define WS_NR_SHUTDOWN 48
#define WS_NR_BIND 49
#define WS_NR_LISTEN 50
#define WS_NR_GETSOCKNAME 51
#define WS_NR_GETPEERNAME 52
#define WS_NR_SOCKETPAIR 53
#define WS_NR_SETSOCKOPT 54
#define WS_NR_GETSOCKOPT 55
#define WS_NR_ACCEPT4 288
#define WS_NR_RECVMMSG 299
#define WS_NR_SENDMMSG 307
#define WS_NR_DUP 32
#define WS_NR_DUP2 33
#define WS_NR_FCNTL 72
#define WS_NR_DUP3 292
/* fcntl commands traced on sockets (the rest are not socket facts) */
#define WS_F_DUPFD 0
#define WS_F_GETFL 3
#define WS_F_SETFL 4
#define WS_F_DUPFD_CLOEXEC 1030

/* Payload bytes kept per call at most (a power of two): `record -s` above it keeps this. */
#define WS_EBPF_SNAP_MAX 16384
/* Address bytes kept (sockaddr_storage is 128). */
#define WS_EBPF_ADDR_MAX 128
/* iovecs of one call read for its length and payload; messages of one sendmmsg/recvmmsg kept. */
#define WS_EBPF_MAX_IOV 8
#define WS_EBPF_MAX_MMSG 8
/* Bytes of an exec's file name and command line kept. */
#define WS_EBPF_PATH_MAX 512
#define WS_EBPF_CMDLINE_MAX 2048

enum ws_ebpf_kind {
  WS_EV_CALL = 1,  /* a system call ended: nr, args, ret, the facts below */
  WS_EV_EXEC = 2,  /* the process ran a new program: payload = file name, then command line */
  WS_EV_FORK = 3,  /* a traced process made a child (pid, tid: the child's; aux[0]: parent) */
  WS_EV_EXIT = 4,  /* a traced thread ended (aux[0]: 1 when it was the process's last) */
  WS_EV_INHERITED = 5,  /* after an exec, a socket the program has: args[0] its descriptor, [1]
                         * family, [2] type, [3] protocol, [4] 1 when it listens; addr: the
                         * peer, local: its own end (inet) */
  WS_EV_UNSEEN_COMPAT = 6,  /* the process makes 32-bit system calls (numbered as i386's),
                             * which the engine does not record: said once per process */
  WS_EV_SEEN = 7,  /* (system-wide) a process met first by a call: aux[0] its parent, payload
                    * = its name (16 bytes, the kernel's comm), then aux[2] bytes of its command
                    * line */
};
/* What TCP did to a traced connection (wstrace_tcp.bpf.h): numbered apart from the kinds above,
 * which grow one by one. pid: the socket's process; tid: the thread in it that acted, else the
 * pid; args[0]: the descriptor the process knows the socket by. */
enum ws_ebpf_tcp_kind {
  WS_EV_TCP_INFO = 32,     /* a reading of the tcp_sock, at nr (WS_TCP_AT_*): args[1] state,
                            * [2] srtt µs, [3] rtt variation µs, [4] min rtt µs, [5] total
                            * retransmissions; aux: bytes retransmitted, sent, received, acked */
  WS_EV_TCP_STATE = 33,    /* args[1] the state before, [2] the new one (Linux numbers) */
  WS_EV_TCP_RETRANS = 34,  /* args[1] state, [2] stream offset, [3] length, [4] segments, [5]
                            * retransmissions before it; aux[0]: tcp flags of the segment */
};
/* When a reading was taken (the tcp_info event's tcp_at). */
enum ws_ebpf_tcp_at { WS_TCP_AT_CONNECTED = 1, WS_TCP_AT_SHUTDOWN = 3, WS_TCP_AT_CLOSE = 4 };
/* Connections whose TCP events are followed at once (the table of their socket pointers). */
#define WS_EBPF_MAX_TCP_SOCKS 65536

/* Descriptors looked at after an exec for inherited sockets. */
#define WS_EBPF_MAX_INHERITED_FDS 4096

/* aux[] of a call: what the kernel or the program's memory said beyond the arguments. */
enum ws_ebpf_aux {
  WS_AUX_LEN = 0,    /* bytes offered: the sum of the iovecs (msg and v calls) */
  WS_AUX_COUNT = 1,  /* iovecs given (msghdr calls) */
  WS_AUX_A = 2,      /* socketpair: sv[0]; getsockopt: optlen after; mmsg: the message's msg_len */
  WS_AUX_B = 3,      /* socketpair: sv[1]; sockopts: the int value when optlen is 4 */
};

enum ws_ebpf_flag {
  WS_F_HAVE_A = 1,        /* aux[WS_AUX_A] is known */
  WS_F_HAVE_B = 2,        /* aux[WS_AUX_B] is known */
  WS_F_MMSG_MSG = 4,      /* a further message of a sendmmsg/recvmmsg (msg_index > 0) */
  WS_F_LAST_THREAD = 8,   /* (exit) the process ended */
  WS_F_NOT_TRACED = 16,   /* (fork) the table of traced processes is full: the child is not */
};

struct ws_ebpf_event {
  __u32 kind;         /* ws_ebpf_kind */
  __u32 pid;          /* tgid */
  __u32 tid;
  __u32 nr;           /* (call) system call number */
  __u64 ts;           /* CLOCK_MONOTONIC ns at entry */
  __u64 dur;          /* ns */
  __s64 ret;          /* the kernel's return: -errno on failure */
  __u64 args[6];
  __u64 aux[4];
  __u32 flags;        /* ws_ebpf_flag */
  __u32 msg_index;    /* (mmsg) which message */
  __u32 addr_len;     /* bytes of addr: the address argument or the peer returned */
  __u32 local_len;    /* bytes of local: the socket's own address (connect, accept) */
  __u32 payload_len;  /* bytes kept in payload */
  __u32 pad;
  __u64 payload_total; /* bytes the call moved */
  __u8 addr[WS_EBPF_ADDR_MAX];
  __u8 local[32];
  /* payload_len bytes of payload follow in the ring */
};

/* Records the ring buffer could not take, per traced process (the per-CPU total is beside). */
#define WS_EBPF_MAX_PROCS 8192

/* `record --system --filter`: the filter's coarse part (src/filter/prefilter.h) as the BPF
 * programs check it. Up to 32 clauses, one bit each; a call passes when some clause's every
 * constrained dimension has one of the call's values: its process's pid (map pf_pids: tgid ->
 * the clauses allowing it) or name (a prefix of the task's comm, any case), its system call
 * (funcs[nr]), a port or an IP address of either end of its socket or of the address it passes
 * or gets (map pf_ports: port -> clauses; addrs: blocks). c_* say which clauses constrain each
 * dimension. */
#define WS_PF_MAX_NAMES 16
#define WS_PF_MAX_CIDRS 16
#define WS_PF_MAX_NR 512
#define WS_PF_MAX_PIDS 1024
#define WS_PF_MAX_PORTS 1024
struct ws_pf_name {
  char prefix[16]; /* lower case */
  __u32 len;
  __u32 clauses;
};
struct ws_pf_cidr {
  __u8 ip[16]; /* IPv4 as ::ffff:a.b.c.d */
  __u32 bits;
  __u32 clauses;
};
struct ws_prefilter {
  __u32 active; /* the clauses in use; 0: no pre-filter */
  __u32 c_pid, c_name, c_port, c_addr, c_func;
  __u32 nnames, ncidrs;
  struct ws_pf_name names[WS_PF_MAX_NAMES];
  struct ws_pf_cidr cidrs[WS_PF_MAX_CIDRS];
  __u32 funcs[WS_PF_MAX_NR];
};

/* ---- Waits (poll, select, epoll) and splice: system calls beyond the first slice's ---- */
#define WS_NR_POLL 7
#define WS_NR_SELECT 23
#define WS_NR_EPOLL_WAIT 232
#define WS_NR_PSELECT6 270
#define WS_NR_PPOLL 271
#define WS_NR_EPOLL_PWAIT 281
#define WS_NR_EPOLL_PWAIT2 441
#define WS_NR_SPLICE 275
#define WS_NR_EPOLL_CTL 233
#define WS_EPOLL_CTL_DEL 2
/* Descriptors of a poll array or select's sets looked at (the rest are not), and sockets of
 * one wait listed (the rest counted, as the preload agent does). */
#define WS_EBPF_MAX_WAIT_FDS 1024
#define WS_EBPF_MAX_POLLED 64
/* A wait's payload: WS_EBPF_MAX_POLLED entries at most, as raw_record.h's RawPoll. */
struct ws_ebpf_poll {
  __s64 fd;
  __u32 events, revents;
};
/* flags: a splice into a socket (else out of one) */
#define WS_F_TO_SOCKET 0x200
/* (sendfile, splice into a socket) bytes the call moved that the engine could not read: the
 * payload keeps those before the first such byte */
#define WS_F_ZC_UNSEEN 0x400
/* A sendfile's payload is kept up to the snap length asked for, up to this (a power of two),
 * though other calls keep at most WS_EBPF_SNAP_MAX: its bytes go out in pieces of
 * WS_EBPF_SNAP_MAX, WS_EV_ZC_PIECE events before the call's, which carries the last piece.
 * aux[WS_AUX_LEN] of each (and of the call): the bytes of the payload before its own. */
#define WS_EBPF_ZC_SNAP_MAX (256 * 1024)
enum ws_ebpf_kind_zc {
  WS_EV_ZC_PIECE = 22,  /* a piece of the payload of the thread's next call */
};
/* aux[] of a wait: [WS_AUX_COUNT] the sockets among its descriptors; [WS_AUX_A] the timeout in
 * ns (with WS_F_HAVE_A; none: wait forever). */

/* ---- io_uring: what goes past the system calls ---- */
#define WS_NR_IO_URING_SETUP 425
enum ws_ebpf_kind_uring {
  WS_EV_URING_SOCKET_OP = 21,  /* a traced process's first io_uring socket operation: args[0]
                                * its opcode, args[1] its descriptor */
};
/* (exit, the last thread) aux[1]: io_uring socket operations the process submitted, which the
 * engine counts but does not record */

/* ---- Name lookups (uprobes on the C library's functions) ---- */
/* Kinds of this part: numbered apart from the engine's first ones so that other additions do
 * not collide. */
enum ws_ebpf_kind_lookup {
  WS_EV_LOOKUP = 20,  /* a lookup returned: the payload is a ws_ebpf_lookup */
};
/* flags of a call made inside a lookup (the C library's own sockets) */
#define WS_F_IN_LOOKUP 0x100

/* Which function, as wstrace attaches them (record_ebpf.cc's table follows this order). */
enum ws_lookup_fn {
  WS_LK_GETADDRINFO = 0,
  WS_LK_GETHOSTBYNAME = 1,
  WS_LK_GETHOSTBYNAME2 = 2,
  WS_LK_GETHOSTBYNAME_R = 3,
  WS_LK_GETHOSTBYNAME2_R = 4,
  WS_LK_GETHOSTBYADDR = 5,
  WS_LK_GETNAMEINFO = 6,
  WS_LK_COUNT = 7,         /* (those recorded; the next only deepen a lookup) */
  WS_LK_GETHOSTBYADDR_R = 7,  /* and after it the library's other lookups (users, groups…) */
};
#define WS_LK_NAME_MAX 256    /* bytes of a host name kept (with its NUL) */
#define WS_LK_SERV_MAX 64     /* of a service */
#define WS_LK_ADDRS_MAX 16    /* addresses of a result kept */

struct ws_ebpf_lookup {
  __u32 fn;           /* ws_lookup_fn */
  __s32 ret;          /* the function's return (hostent functions: 0 found, -1 not) */
  __s32 herr;         /* h_errno when known (have_herr) */
  __u8 have_herr;
  __u8 have_hints;
  __u8 naddrs;
  __u8 pad;
  __s32 hint_flags, hint_family, hint_type;
  __s32 af;           /* gethostbyname2(_r)'s family, gethostbyaddr's type */
  __u32 addr_len;     /* getnameinfo's sockaddr, gethostbyaddr's raw address: bytes of addr */
  __u8 addr[28];
  char host[WS_LK_NAME_MAX];   /* the name asked (or, reverse, found) */
  char serv[WS_LK_SERV_MAX];
  char canon[WS_LK_NAME_MAX];
  __u8 addrs[WS_LK_ADDRS_MAX][28];  /* sockaddr_in or sockaddr_in6, by its family */
};

#endif
