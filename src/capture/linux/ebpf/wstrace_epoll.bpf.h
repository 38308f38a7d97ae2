/* ---- epoll: which sockets an epoll wait returned ready (included by wstrace.bpf.c). The
 * epoll_ctl calls that succeed (on any descriptor) keep, per process, (epfd, data word) ->
 * the socket and the events asked for, and (epfd, fd) -> the data word, to undo a registration
 * changed or removed; a data word registered for another descriptor removes its mapping, so it
 * is never attributed to a socket. A wait's exit maps the data words of the events it returned
 * (the preload agent, agent/hooks_wait.cc, keeps the same table). The tables are LRU: a mapping
 * pushed out leaves a ready socket unlisted, never listed wrongly (a data word comes back only
 * once registered again, which goes through epoll_ctl). ---- */

#define WS_EPOLL_MAP_MAX 16384

struct epoll_key {
  __u32 tgid;
  __s32 epfd;
  __u64 v;  /* the data word, or the descriptor */
};

struct epoll_target {
  __s32 fd;
  __u32 events;
};

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, WS_EPOLL_MAP_MAX);
  __type(key, struct epoll_key);
  __type(value, struct epoll_target);
} epoll_by_data SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, WS_EPOLL_MAP_MAX);
  __type(key, struct epoll_key);
  __type(value, __u64);
} epoll_by_fd SEC(".maps");

/* At any call's exit: a successful epoll_ctl(epfd, op, fd, event) of a traced process (its
 * arguments are still in the registers; the kernel does not change the event). This and epoll_ready are
 * global functions, which the verifier checks once on their own (inlined, they made sys_exit
 * too long to verify). */
__attribute__((noinline)) int epoll_ctl_seen(__u64 nr, __s64 ret, __u64 fds, __u64 op,
                                             __u64 evp) {
  const __u32 tgid = bpf_get_current_pid_tgid() >> 32;
  if (nr != WS_NR_EPOLL_CTL || ret != 0 || !is_traced(tgid)) return 0;
  const __s32 epfd = (__u32)fds, fd = fds >> 32;
  struct epoll_key k = {.tgid = tgid, .epfd = epfd, .v = (__u64)(__s64)fd};
  __u64 *old = bpf_map_lookup_elem(&epoll_by_fd, &k);
  if (old) {
    struct epoll_key d = {.tgid = tgid, .epfd = epfd, .v = *old};
    struct epoll_target *t = bpf_map_lookup_elem(&epoll_by_data, &d);
    if (t && t->fd == fd) bpf_map_delete_elem(&epoll_by_data, &d);
    bpf_map_delete_elem(&epoll_by_fd, &k);
  }
  if (op == WS_EPOLL_CTL_DEL) return 0;
  struct { __u32 events; __u64 data; } __attribute__((packed)) ev = {};
  if (!evp || bpf_probe_read_user(&ev, sizeof ev, (const void *)evp)) return 0;
  struct epoll_key d = {.tgid = tgid, .epfd = epfd, .v = ev.data};
  if (!is_socket_fd(fd)) {
    bpf_map_delete_elem(&epoll_by_data, &d);
    return 0;
  }
  /* (the events asked for, without the input flags: EPOLLET, EPOLLONESHOT, EPOLLWAKEUP,
   * EPOLLEXCLUSIVE are not events) */
  struct epoll_target t = {.fd = fd, .events = ev.events & 0x0fffffff};
  if (bpf_map_update_elem(&epoll_by_data, &d, &t, BPF_ANY) ||
      bpf_map_update_elem(&epoll_by_fd, &k, &ev.data, BPF_ANY))
    bpf_map_delete_elem(&epoll_by_data, &d);
  return 0;
}

struct epoll_walk {
  struct scratch *s;
  __u64 events;  /* the wait's array */
  __u32 tgid;
  __s32 epfd;
};

/* Event i of the array into entry i of the payload: its socket, else fd -1 (the collector,
 * ebpf_records.cc, keeps the sockets). No count is carried from one step to the next, so that
 * the verifier checks a step once. */
static long epoll_one(__u32 i, void *ctx) {
  struct epoll_walk *w = ctx;
  struct ws_ebpf_poll *p = (struct ws_ebpf_poll *)&w->s->payload[(i & 63) * 16];
  struct { __u32 events; __u64 data; } __attribute__((packed)) ev = {};
  p->fd = -1;
  if (bpf_probe_read_user(&ev, sizeof ev, (const void *)(w->events + 12 * (__u64)i))) return 1;
  struct epoll_key d = {.tgid = w->tgid, .epfd = w->epfd, .v = ev.data};
  struct epoll_target *t = bpf_map_lookup_elem(&epoll_by_data, &d);
  if (!t) return 0;
  p->fd = t->fd;
  p->events = t->events;
  p->revents = ev.events;
  return 0;
}

/* After any call: an epoll wait that returned `ret` events gets the first WS_EBPF_MAX_POLLED of
 * them, as a poll's payload. */
__attribute__((noinline)) int epoll_ready(struct scratch *s, const struct inflight *c, __s64 ret) {
  if (!s || !c || ret <= 0 || (c->nr != WS_NR_EPOLL_WAIT && c->nr != WS_NR_EPOLL_PWAIT &&
                                c->nr != WS_NR_EPOLL_PWAIT2))
    return 0;
  const __u32 n = ret < WS_EBPF_MAX_POLLED ? ret : WS_EBPF_MAX_POLLED;
  struct epoll_walk w = {.s = s, .events = c->args[1], .tgid = s->e.pid, .epfd = c->args[0]};
  /* (a step that cannot read its event stops the walk, its entry with fd -1) */
  const long k = bpf_loop(n, epoll_one, &w, 0);
  s->e.payload_len = k > 0 && k <= n ? k * sizeof(struct ws_ebpf_poll) : 0;
  return 0;
}
