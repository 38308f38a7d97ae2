/* Zero-copy sends (included by wstrace.bpf.c): the bytes of a sendfile to a socket, read from
 * its file's page cache at exit, and of a splice from a pipe into a socket, read from the
 * pipe's buffers at entry (the call takes them). They are never in the program's memory: the
 * pages are read through the kernel's direct map, whose place KASLR chooses at boot.
 *
 * Finding the direct map: page_offset_base and vmemmap_base are in neither BTF nor kallsyms
 * (CONFIG_KALLSYMS_ALL off), so they are looked for once in the kernel's read-only-after-init
 * data (its start is in kallsyms; wstrace sets `ro_after_init` before the program runs), where the three KASLR bases
 * (direct map, vmalloc, vmemmap: rising, each aligned to 1 GiB) sit side by side. A candidate
 * is used only once a page known both ways reads the same through it: the first page of the
 * ring buffer `events` (its struct page, and its bytes through the ring's own mapping).
 *
 * A piece that cannot be read (a page not in the cache, a file whose data is not its page
 * cache such as /dev/zero, bytes put in a pipe while the splice waited, a pipe read by someone
 * else meanwhile, bases not found) is not kept: the event says so (WS_F_ZC_UNSEEN) and
 * wstrace declares the bytes unseen. Every read of kernel memory goes through
 * bpf_probe_read_kernel, of pages the call itself moved. */

__u64 ro_after_init = 0;  /* __start_ro_after_init, 0: unknown (set after load) */
const volatile __u32 zc_snaplen = 1024;  /* ≤ WS_EBPF_ZC_SNAP_MAX: a sendfile's payload kept */
__u64 dm_base = 0;   /* page_offset_base, once found */
__u64 vmm_base = 0;  /* vmemmap_base, once found */
__u32 bases_state = 0;  /* 0: not looked for; 1: found; 2: not found */

#define GIB_MASK ((1ULL << 30) - 1)
#define PAGE_SHIFT_ 12
#define PAGE_SIZE_ 4096
#define ZC_SCAN_WORDS 16384  /* 128 KiB of read-only-after-init data looked through */
/* steps of a sendfile's copy: a page, or the part of one before a piece is full */
#define ZC_STEPS (WS_EBPF_ZC_SNAP_MAX / PAGE_SIZE_ + WS_EBPF_ZC_SNAP_MAX / WS_EBPF_SNAP_MAX + 2)
#define ZC_MAX_FOLIO_PAGES 512   /* (the page cache's largest folio on x86-64: a PMD) */
#define S_IFIFO_ 0010000
/* Levels of a page cache's tree walked: 8 of 64 slots cover 2^48 pages */
#define ZC_XA_DEPTH 8

/* The direct-map address of the page `page` (a struct page in vmemmap), 0 when it is none. */
static __always_inline __u64 page_va(__u64 page, __u64 dm, __u64 vmm) {
  const __u64 psz = bpf_core_type_size(struct page);
  if (!psz || page < vmm) return 0;
  const __u64 d = page - vmm;
  if (d % psz) return 0;
  const __u64 pfn = d / psz;
  if (pfn >> 40) return 0;
  const __u64 va = dm + (pfn << PAGE_SHIFT_);
  return va < vmm ? va : 0;
}

/* Whether (dm, vmm) map the first page of the ring buffer to the bytes the ring shows. */
static __always_inline int bases_check(__u64 dm, __u64 vmm) {
  struct bpf_ringbuf_map *m = (struct bpf_ringbuf_map *)&events;
  struct bpf_ringbuf *rb = m->rb;  /* (a map's own fields are read directly, not by address) */
  struct page **pages = BPF_CORE_READ(rb, pages);
  __u64 p0 = 0;
  if (!rb || !pages || bpf_probe_read_kernel(&p0, sizeof p0, pages)) return 0;
  const __u64 va = page_va(p0, dm, vmm);
  if (!va) return 0;
  const __u64 off = bpf_core_field_offset(struct bpf_ringbuf, mask);
  __u64 a[3] = {}, b[3] = {};
  if (bpf_probe_read_kernel(a, sizeof a, (const void *)rb + off) ||
      bpf_probe_read_kernel(b, sizeof b, (const void *)(va + off)))
    return 0;
  return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[1] == (__u64)pages;
}

static __always_inline int region_base(__u64 v) {
  return v >= 0xff00000000000000ULL && !(v & GIB_MASK);
}

struct base_scan {
  __u64 prev[2];
};

static long base_scan_one(__u32 i, void *ctx) {
  struct base_scan *k = ctx;
  __u64 v = 0;
  if (bpf_probe_read_kernel(&v, sizeof v, (const void *)(ro_after_init + 8ULL * i))) return 1;
  const __u64 a = k->prev[0], b = k->prev[1];
  k->prev[0] = b;
  k->prev[1] = v;
  if (!region_base(a) || !region_base(b) || !region_base(v)) return 0;
  __u64 lo, hi;
  if (a < b && b < v) {
    lo = a;
    hi = v;
  } else if (a > b && b > v) {
    lo = v;
    hi = a;
  } else {
    return 0;
  }
  if (!bases_check(lo, hi)) return 0;
  dm_base = lo;
  vmm_base = hi;
  return 1;
}

/* x86-64's bases without KASLR of memory (4-level paging), tried when the scan finds none. */
#define DEFAULT_DIRECT_MAP 0xffff888000000000ULL
#define DEFAULT_VMEMMAP 0xffffea0000000000ULL

static __always_inline int direct_map_known(void) {
  if (bases_state == 1) return 1;
  if (bases_state) return 0;
  struct base_scan k = {};
  if (ro_after_init) bpf_loop(ZC_SCAN_WORDS, base_scan_one, &k, 0);
  if (!dm_base && bases_check(DEFAULT_DIRECT_MAP, DEFAULT_VMEMMAP)) {
    dm_base = DEFAULT_DIRECT_MAP;
    vmm_base = DEFAULT_VMEMMAP;
  }
  bases_state = dm_base ? 1 : 2;
  return bases_state == 1;
}

/* ---- sendfile: the page cache ---- */

/* A walk down a page cache's tree (xa_load's), one level a bpf_loop step. */
struct xa_walk {
  __u64 entry, index;
  __u32 mask, top, absent;
};

static long xa_one(__u32 i, void *ctx) {
  struct xa_walk *w = ctx;
  const __u64 entry = w->entry;
  if ((entry & 3) != 2 || entry <= 4096) return 1;  /* not a node: the walk ends */
  struct xa_node *node = (struct xa_node *)(entry - 2);
  const __u8 shift = BPF_CORE_READ(node, shift);
  if (shift >= 64 || (w->top && (w->index >> shift) > w->mask)) {
    w->absent = 1;
    return 1;
  }
  w->top = 0;
  __u64 next = 0;
  const __u32 slot = (w->index >> shift) & w->mask;
  if (bpf_probe_read_kernel(&next, sizeof next, &node->slots[slot & 63])) next = 0;
  if ((next & 3) == 2 && next < ((__u64)w->mask << 2 | 2) &&  /* a sibling: its canonical slot */
      bpf_probe_read_kernel(&next, sizeof next, &node->slots[(next >> 2) & 63]))
    next = 0;
  w->entry = next;
  return 0;
}

/* The folio at page `index` of `mapping`, or 0. */
static __always_inline __u64 cache_folio(struct address_space *mapping, __u64 index) {
  const __u32 chunk = bpf_core_field_size(struct xa_node, slots) / 8;  /* 64 (16: BASE_SMALL) */
  if (chunk != 64 && chunk != 16) return 0;
  struct xa_walk w = {.entry = (__u64)BPF_CORE_READ(mapping, i_pages.xa_head), .index = index,
                      .mask = chunk - 1, .top = 1};
  bpf_loop(ZC_XA_DEPTH, xa_one, &w, 0);
  if (w.absent || (w.top && index)) return 0;  /* (no node: the head is index 0's entry) */
  /* (still a node: deeper than the walk; a value: the shadow of an evicted page) */
  return w.entry & 3 ? 0 : w.entry;
}

static __always_inline __u64 folio_flags(__u64 folio) {
  __u64 f = 0;
  bpf_probe_read_kernel(&f, sizeof f, (const void *)(folio + bpf_core_field_offset(struct folio,
                                                                                  flags)));
  return f;
}

struct cache_walk {
  struct scratch *s;
  struct address_space *mapping;
  __u64 pos;
  __u32 done;  /* bytes sent out in pieces before */
  __u32 kept;  /* bytes in the scratch's payload */
  __u32 want;  /* bytes to keep in all */
};

/* One step of the range: the rest of a page, or of the piece under way, when the page cache
 * holds that page up to date, for this file. A full piece goes out before the next step. */
static long cache_one(__u32 i, void *ctx) {
  struct cache_walk *w = ctx;
  if (w->done + w->kept >= w->want) return 1;
  if (w->kept == WS_EBPF_SNAP_MAX) {
    struct ws_ebpf_event *e = &w->s->e;
    e->kind = WS_EV_ZC_PIECE;
    e->payload_len = w->kept;
    e->aux[WS_AUX_LEN] = w->done;
    submit(w->s);
    e->kind = WS_EV_CALL;
    w->done += w->kept;
    w->kept = 0;
  }
  const __u64 at = w->pos + w->done + w->kept, index = at >> PAGE_SHIFT_;
  const __u64 folio = cache_folio(w->mapping, index);
  if (!folio) return 1;
  struct folio *fo = (struct folio *)folio;
  const __u64 first = BPF_CORE_READ(fo, index);
  const int uptodate = bpf_core_enum_value(enum pageflags, PG_uptodate);
  if ((__u64)BPF_CORE_READ(fo, mapping) != (__u64)w->mapping || first > index ||
      index - first >= ZC_MAX_FOLIO_PAGES || !((folio_flags(folio) >> uptodate) & 1))
    return 1;
  const __u64 psz = bpf_core_type_size(struct page);
  const __u64 va = page_va(folio + (index - first) * psz, dm_base, vmm_base);
  if (!va) return 1;
  const __u32 in_page = at & (PAGE_SIZE_ - 1);
  __u32 piece = w->want - w->done;
  if (piece > WS_EBPF_SNAP_MAX) piece = WS_EBPF_SNAP_MAX;
  const __u32 kept = copy_bytes(w->s->payload, w->kept, (const void *)(va + in_page),
                                PAGE_SIZE_ - in_page, piece, 1);
  /* (the folio still this file's at this place: not freed and reused while it was read) */
  if (kept == w->kept || (__u64)BPF_CORE_READ(fo, mapping) != (__u64)w->mapping ||
      BPF_CORE_READ(fo, index) != first)
    return 1;
  w->kept = kept;
  return 0;
}

/* At a sendfile's entry: where it reads its file (the offset it passes, else the file's). */
static __always_inline void sendfile_enter(struct inflight *c) {
  const __u64 offp = c->args[2];
  __s64 from = -1;
  if (offp) {
    if (bpf_probe_read_user(&from, sizeof from, (const void *)offp)) from = -1;
  } else {
    struct file *in = file_of(c->args[1]);
    if (in) from = BPF_CORE_READ(in, f_pos);
  }
  c->zc_from = from;
  c->zc_file = (__u64)file_of(c->args[1]);
}

static __always_inline void sendfile_payload(struct scratch *s, const struct inflight *c,
                                             __s64 ret) {
  struct ws_ebpf_event *e = &s->e;
  e->payload_total = ret;
  __u32 want = zc_snaplen < WS_EBPF_ZC_SNAP_MAX ? zc_snaplen : WS_EBPF_ZC_SNAP_MAX;
  if (ret < want) want = ret;
  struct file *in = file_of(c->args[1]);
  /* The range the call read: where it began (noted at entry) is where it ended less `ret`
   * (else the offset or the file's position was changed meanwhile, by another thread). */
  __s64 end = -1;
  if (c->args[2]) {
    if (bpf_probe_read_user(&end, sizeof end, (const void *)c->args[2])) end = -1;
  } else if (in) {
    end = BPF_CORE_READ(in, f_pos);
  }
  __u32 done = 0;
  if (c->zc_from >= 0 && end == c->zc_from + ret && in && (__u64)in == c->zc_file &&
      direct_map_known()) {
    struct cache_walk w = {.s = s, .mapping = BPF_CORE_READ(in, f_mapping), .pos = c->zc_from,
                           .want = want};
    if (w.mapping) bpf_loop(ZC_STEPS, cache_one, &w, 0);
    e->payload_len = w.kept;
    e->aux[WS_AUX_LEN] = done = w.done;
  }
  if (done + e->payload_len < want) e->flags |= WS_F_ZC_UNSEEN;
}

/* ---- splice from a pipe into a socket: the pipe's buffers ---- */

#define ZC_PIPE_BUFS 16
/* What a splice's pipe held at entry: its first buffers' places and up to the snap length of
 * their bytes. */
struct zc_pipe {
  __u32 tail, nbufs, len, pad;
  __u32 off[ZC_PIPE_BUFS], blen[ZC_PIPE_BUFS];
  __u8 data[2 * WS_EBPF_SNAP_MAX];  /* (twice: as the scratch's payload) */
};

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct zc_pipe);
} zc_pipe SEC(".maps");

static __always_inline struct pipe_inode_info *pipe_of(__u64 fd) {
  struct file *f = file_of(fd);
  if (!f) return 0;
  struct inode *ino = BPF_CORE_READ(f, f_inode);
  if ((BPF_CORE_READ(ino, i_mode) & S_IFMT) != S_IFIFO_) return 0;
  return BPF_CORE_READ(ino, i_pipe);
}

struct pipe_walk {
  struct zc_pipe *z;
  struct pipe_buffer *bufs;
  __u32 tail, mask, want;
};

static long pipe_one(__u32 i, void *ctx) {
  struct pipe_walk *w = ctx;
  struct zc_pipe *z = w->z;
  struct pipe_buffer b = {};
  if (bpf_probe_read_kernel(&b, sizeof b, &w->bufs[(w->tail + i) & w->mask])) return 1;
  const __u32 k = i & (ZC_PIPE_BUFS - 1);
  z->off[k] = b.offset;
  z->blen[k] = b.len;
  z->nbufs = i + 1;
  if (z->len < w->want) {
    const __u64 va = page_va((__u64)b.page, dm_base, vmm_base);
    const __u32 kept =
        va ? copy_bytes(z->data, z->len, (const void *)(va + b.offset), b.len, w->want, 1)
           : z->len;
    if (kept - z->len != b.len && kept < w->want) {
      z->len = 0;  /* (a hole: nothing kept rather than bytes out of place) */
      return 1;
    }
    z->len = kept;
  }
  return 0;
}

/* At a splice's entry, into a socket from a pipe: what the pipe holds. */
static __always_inline void splice_enter(const struct inflight *c) {
  struct zc_pipe *z = bpf_task_storage_get(&zc_pipe, bpf_get_current_task_btf(), 0,
                                           BPF_LOCAL_STORAGE_GET_F_CREATE);
  if (!z) return;
  z->nbufs = z->len = 0;
  struct pipe_inode_info *p = pipe_of(c->args[0]);
  if (!p || !direct_map_known()) return;
  const __u32 head = BPF_CORE_READ(p, head), tail = BPF_CORE_READ(p, tail);
  const __u32 ring = BPF_CORE_READ(p, ring_size);
  if (!ring || (ring & (ring - 1))) return;
  z->tail = tail;
  __u32 n = head - tail;
  if (n > ZC_PIPE_BUFS) n = ZC_PIPE_BUFS;
  __u64 len = c->args[4];
  struct pipe_walk w = {.z = z, .bufs = BPF_CORE_READ(p, bufs), .tail = tail, .mask = ring - 1,
                        .want = snap_for(len > 0x7fffffff ? 0x7fffffff : len)};
  if (w.bufs) bpf_loop(n, pipe_one, &w, 0);
}

struct tail_walk {
  struct zc_pipe *z;
  __u64 rem;
  __u32 t, off, partial;
};

static long tail_one(__u32 i, void *ctx) {
  struct tail_walk *k = ctx;
  const __u32 b = i & (ZC_PIPE_BUFS - 1);
  if (i >= k->z->nbufs || !k->rem) return 1;
  if (k->rem >= k->z->blen[b]) {
    k->rem -= k->z->blen[b];
    k->t++;
    return 0;
  }
  k->off = k->z->off[b] + k->rem;
  k->partial = 1;
  k->rem = 0;
  return 1;
}

/* At its exit: the bytes kept at entry, when the pipe is now where taking `ret` of them left
 * it (else someone else read the pipe meanwhile, or the bytes came after the entry). */
static __always_inline void splice_payload(struct scratch *s, const struct inflight *c,
                                           __s64 ret) {
  struct ws_ebpf_event *e = &s->e;
  e->payload_total = ret;
  const __u32 want = snap_for(ret);
  struct zc_pipe *z = bpf_task_storage_get(&zc_pipe, bpf_get_current_task_btf(), 0, 0);
  struct pipe_inode_info *p = pipe_of(c->args[0]);
  if (!z || !p || !c->zc_file) {
    e->flags |= WS_F_ZC_UNSEEN;
    return;
  }
  /* where the pipe's tail should be: whole buffers taken, then an offset into the next */
  struct tail_walk k = {.z = z, .rem = ret, .t = z->tail};
  bpf_loop(ZC_PIPE_BUFS, tail_one, &k, 0);
  const __u64 rem = k.rem;
  const __u32 t = k.t, off = k.off, partial = k.partial;
  int same = !rem && BPF_CORE_READ(p, tail) == t;
  if (same && partial) {
    struct pipe_buffer *bufs = BPF_CORE_READ(p, bufs);
    const __u32 ring = BPF_CORE_READ(p, ring_size);
    __u32 now = 0;
    same = ring && bufs &&
           !bpf_probe_read_kernel(&now, sizeof now, &bufs[t & (ring - 1)].offset) && now == off;
  }
  if (same) {
    __u32 n = z->len < want ? z->len : want;
    if (n > WS_EBPF_SNAP_MAX) n = WS_EBPF_SNAP_MAX;
    barrier_var(n);
    if (n && n <= WS_EBPF_SNAP_MAX && !bpf_probe_read_kernel(s->payload, n, z->data))
      e->payload_len = n;
  }
  if (e->payload_len < want) e->flags |= WS_F_ZC_UNSEEN;
}

/* Called at entry of every traced call, and at exit with its event: global functions, which the
 * verifier checks once on their own rather than along every path of sys_enter and sys_exit
 * (inlined there, they made the start-up's verification a third longer). */
__attribute__((noinline)) int zc_enter(struct inflight *c) {
  if (!c) return 0;
  if (c->nr == WS_NR_SENDFILE) {
    sendfile_enter(c);
  } else if (c->nr == WS_NR_SPLICE && c->cap) {
    c->zc_file = 1;  /* (entry seen: the pipe's bytes were looked at) */
    splice_enter(c);
  }
  return 0;
}

__attribute__((noinline)) int zc_exit(struct scratch *s, const struct inflight *c, __s64 ret) {
  if (!s || !c || ret <= 0) return 0;
  if (c->nr == WS_NR_SENDFILE) sendfile_payload(s, c, ret);
  else if (c->nr == WS_NR_SPLICE && c->cap) splice_payload(s, c, ret);
  return 0;
}
