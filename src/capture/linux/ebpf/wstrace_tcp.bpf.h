/* SPDX-License-Identifier: GPL-2.0 */
/* What TCP did under the traced program's connections (part of wstrace.bpf.c, included at its
 * end): state changes (sock:inet_sock_set_state), retransmissions (tcp:tcp_retransmit_skb) and
 * readings of the tcp_sock — the figures TCP_INFO gives — when a connection is set up and before
 * the program shuts it down or closes it.
 *
 * State changes and retransmissions happen in softirq and timer context, on whatever task runs
 * then: the connections are known by their socket pointer instead, in `tcp_socks`, filled when
 * a traced process connects (at the connect's entry, so that its SYN_SENT and SYN retransmissions
 * are seen) or accepts, and emptied when it closes the descriptor or the socket reaches CLOSE.
 * These programs run beside the system call ones (their own programs on the same tracepoints)
 * and may interrupt them on a CPU: their events go straight into the ring (bpf_ringbuf_reserve),
 * never through the per-CPU scratch event the others build. */

const volatile __u8 tcp_readings = 1; /* record --no-tcp-info: 0, no readings */

struct tcp_owner {
  __u32 tgid;
  __u32 fd;
};

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, WS_EBPF_MAX_TCP_SOCKS);
  __type(key, __u64); /* struct sock * */
  __type(value, struct tcp_owner);
} tcp_socks SEC(".maps");

#define WS_MSG_FASTOPEN 0x20000000
#define WS_TCPHDR_FIN 0x01
#define WS_TCPHDR_SYN 0x02

static __always_inline int is_tcp(const struct sock *sk) {
  if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP) return 0;
  __u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
  return family == AF_INET || family == AF_INET6;
}

static __always_inline void tcp_remember(struct sock *sk, __u32 tgid, __u32 fd) {
  if (!is_tcp(sk)) return;
  __u64 key = (__u64)sk;
  struct tcp_owner o = {tgid, fd};
  bpf_map_update_elem(&tcp_socks, &key, &o, BPF_ANY);
}

static __always_inline struct tcp_owner *tcp_owner_of(const struct sock *sk) {
  __u64 key = (__u64)sk;
  return bpf_map_lookup_elem(&tcp_socks, &key);
}

/* record --system --filter: whether the pre-filter keeps what TCP does under socket `sk` of
 * process `tgid` — its process and the socket's two ends, as for the calls (a connection to
 * another port, or of a process the filter leaves out, is not recorded; the function terms let
 * these events through: the exact filter judges them later). */
static __always_inline int tcp_kept(const struct sock *sk, __u32 tgid) {
  if (!trace_all || !pf.active) return 1;
  __u32 sat = pf_process(tgid);
  if (sat && (pf.c_port | pf.c_addr)) {
    struct pf_ends x = {};
    pf_sock_ends(&x, (struct sock *)sk);
    sat = pf_ends_met(sat, &x);
  }
  return sat != 0;
}

/* A fresh event of connection `o` (socket `sk`) in the ring, or 0 (counted lost, or left out
 * by the pre-filter). Its thread: the one acting when it belongs to the socket's process, else
 * the process's own id. */
static __always_inline struct ws_ebpf_event *tcp_event(__u32 kind, const struct tcp_owner *o,
                                                       const struct sock *sk) {
  if (!tcp_kept(sk, o->tgid)) return 0;
  struct ws_ebpf_event *e = bpf_ringbuf_reserve(&events, sizeof *e, 0);
  if (!e) {
    count_lost(o->tgid);
    return 0;
  }
  __builtin_memset(e, 0, sizeof *e);
  __u64 id = bpf_get_current_pid_tgid();
  e->kind = kind;
  e->pid = o->tgid;
  e->tid = (id >> 32) == o->tgid ? (__u32)id : o->tgid;
  e->ts = bpf_ktime_get_ns();
  e->args[0] = o->fd;
  return e;
}

/* The figures of the tcp_sock TCP_INFO would give (net/ipv4/tcp.c, tcp_get_info). `ts`: its
 * time when not now; `state`: the state when the socket does not hold it yet (else -1). */
static __always_inline void tcp_reading(const struct sock *sk, const struct tcp_owner *o,
                                        __u32 at, __u64 ts, int state) {
  if (!tcp_readings) return;
  const struct tcp_sock *tp = (const struct tcp_sock *)sk;
  struct ws_ebpf_event *e = tcp_event(WS_EV_TCP_INFO, o, sk);
  if (!e) return;
  if (ts) e->ts = ts;
  e->nr = at;
  e->args[1] = state >= 0 ? state : BPF_CORE_READ(sk, __sk_common.skc_state);
  e->args[2] = BPF_CORE_READ(tp, srtt_us) >> 3;
  e->args[3] = BPF_CORE_READ(tp, mdev_us) >> 2;
  e->args[4] = BPF_CORE_READ(tp, rtt_min.s[0].v);
  e->args[5] = BPF_CORE_READ(tp, total_retrans);
  e->aux[0] = BPF_CORE_READ(tp, bytes_retrans);
  e->aux[1] = BPF_CORE_READ(tp, bytes_sent);
  e->aux[2] = BPF_CORE_READ(tp, bytes_received);
  e->aux[3] = BPF_CORE_READ(tp, bytes_acked);
  bpf_ringbuf_submit(e, ring_wake());
}

/* A traced process connects (or sends with TCP Fast Open, which connects too): its socket is
 * followed from before its SYN. Before it shuts a connection down or closes it: a reading; a
 * closed descriptor no longer names the socket, which is forgotten. */
SEC("tp_btf/sys_enter")
int BPF_PROG(tcp_sys_enter, struct pt_regs *regs, long nr) {
  if (nr != WS_NR_CONNECT && nr != WS_NR_CLOSE && nr != WS_NR_SHUTDOWN && nr != WS_NR_SENDTO &&
      nr != WS_NR_SENDMSG)
    return 0;
  const __u64 fd = regs->di;
  if (nr == WS_NR_SENDTO && !(regs->r10 & WS_MSG_FASTOPEN)) return 0;
  if (nr == WS_NR_SENDMSG && !(regs->dx & WS_MSG_FASTOPEN)) return 0;
  __u32 tgid = bpf_get_current_pid_tgid() >> 32;
  if (!is_traced(tgid)) return 0;
  struct sock *sk = sock_of(fd);
  if (!sk) return 0;
  if (nr == WS_NR_CONNECT || nr == WS_NR_SENDTO || nr == WS_NR_SENDMSG) {
    tcp_remember(sk, tgid, fd);
    return 0;
  }
  struct tcp_owner *found = tcp_owner_of(sk);
  if (!found || found->fd != fd || found->tgid != tgid) return 0;
  struct tcp_owner o = *found;
  /* Stamped before the call when the system call program has stamped it already (the two
   * programs on this tracepoint run in either order): the reading comes before the close. */
  __u64 ts = 0;
  struct inflight *call = bpf_task_storage_get(&inflight, bpf_get_current_task_btf(), 0, 0);
  if (call && call->active && call->nr == nr) ts = call->ts - 1;
  int state = BPF_CORE_READ(sk, __sk_common.skc_state);
  if (state != TCP_LISTEN && state != TCP_CLOSE && state != TCP_SYN_SENT)
    tcp_reading(sk, &o, nr == WS_NR_CLOSE ? WS_TCP_AT_CLOSE : WS_TCP_AT_SHUTDOWN, ts, state);
  if (nr == WS_NR_CLOSE) {
    __u64 key = (__u64)sk;
    bpf_map_delete_elem(&tcp_socks, &key);
  }
  return 0;
}

/* A traced process accepted a connection: followed from now on, and read (it was set up). */
SEC("tp_btf/sys_exit")
int BPF_PROG(tcp_sys_exit, struct pt_regs *regs, long ret) {
  const long nr = regs->orig_ax;
  if ((nr != WS_NR_ACCEPT && nr != WS_NR_ACCEPT4) || ret < 0) return 0;
  __u32 tgid = bpf_get_current_pid_tgid() >> 32;
  if (!is_traced(tgid)) return 0;
  struct sock *sk = sock_of(ret);
  if (!is_tcp(sk)) return 0;
  tcp_remember(sk, tgid, ret);
  struct tcp_owner o = {tgid, (__u32)ret};
  tcp_reading(sk, &o, WS_TCP_AT_CONNECTED, 0, -1);
  return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcp_set_state, const struct sock *sk, const int oldstate, const int newstate) {
  if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP) return 0;
  struct tcp_owner *found = tcp_owner_of(sk);
  if (!found) return 0;
  struct tcp_owner o = *found;
  struct ws_ebpf_event *e = tcp_event(WS_EV_TCP_STATE, &o, sk);
  if (e) {
    e->args[1] = oldstate;
    e->args[2] = newstate;
    bpf_ringbuf_submit(e, ring_wake());
  }
  /* The connect's answer came: the reading of a connection set up (as the agent's after
   * connect), at the moment it was (the tracepoint comes before the socket takes the state). */
  if (oldstate == TCP_SYN_SENT && newstate == TCP_ESTABLISHED)
    tcp_reading(sk, &o, WS_TCP_AT_CONNECTED, 0, newstate);
  if (newstate == TCP_CLOSE) {
    __u64 key = (__u64)sk;
    bpf_map_delete_elem(&tcp_socks, &key);
  }
  return 0;
}

/* One segment (or TSO burst) sent again: where it lies in the stream of outgoing bytes, so that
 * exports can place it. bytes_acked counts the acknowledged sequence space, the SYN's one too:
 * snd_una is bytes_acked - 1 bytes past the first once the SYN is answered; the segment starts
 * seq - snd_una bytes further (it is trimmed of what was acknowledged before it goes). */
static __always_inline void tcp_retransmitted(const struct sock *sk, const struct sk_buff *skb) {
  struct tcp_owner *found = tcp_owner_of(sk);
  if (!found) return;
  struct tcp_owner o = *found;
  const struct tcp_sock *tp = (const struct tcp_sock *)sk;
  const struct tcp_skb_cb *cb = (const struct tcp_skb_cb *)&skb->cb;
  __u32 seq = BPF_CORE_READ(cb, seq), end_seq = BPF_CORE_READ(cb, end_seq);
  __u16 flags = BPF_CORE_READ(cb, tcp_flags);
  __u16 segs = BPF_CORE_READ(cb, tcp_gso_segs);
  __s32 ahead = (__s32)(seq - BPF_CORE_READ(tp, snd_una));
  __u32 len = end_seq - seq;
  if (flags & WS_TCPHDR_SYN) len -= len ? 1 : 0;
  if (flags & WS_TCPHDR_FIN) len -= len ? 1 : 0;
  struct ws_ebpf_event *e = tcp_event(WS_EV_TCP_RETRANS, &o, sk);
  if (!e) return;
  e->args[1] = BPF_CORE_READ(sk, __sk_common.skc_state);
  __u64 acked = BPF_CORE_READ(tp, bytes_acked);
  e->args[2] = (acked ? acked - 1 : 0) + (ahead > 0 ? ahead : 0);
  e->args[3] = len;
  e->args[4] = segs ? segs : 1;
  e->args[5] = BPF_CORE_READ(tp, total_retrans);
  e->aux[0] = flags;
  bpf_ringbuf_submit(e, ring_wake());
}

/* Kernels from 6.13 on pass the retransmission's error too (and call it for failures, which
 * are no retransmission): wstrace loads the one of these two that matches the kernel's. */
SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tcp_retransmit, const struct sock *sk, const struct sk_buff *skb) {
  tcp_retransmitted(sk, skb);
  return 0;
}

SEC("tp_btf/tcp_retransmit_skb")
int BPF_PROG(tcp_retransmit_err, const struct sock *sk, const struct sk_buff *skb, int err) {
  if (err == 0) tcp_retransmitted(sk, skb);
  return 0;
}
