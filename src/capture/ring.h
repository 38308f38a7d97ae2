// The shared memory between capture agents and the collector: a region of per-thread rings.
//
// Each traced thread owns one ring while it lives (single producer); the collector is the one
// consumer of every ring. A producer never waits: when its ring is full the record is dropped
// and counted. Lock-free 64-bit atomics work across processes on the platforms we build for.
//
// Every traced process can write the whole region, so neither side trusts it after creation:
// the geometry (ring count and size) is read once, checked and kept privately (RingGeometry);
// positions are masked into the ring, lengths checked before use. The collector's side of it
// is in collector_core.cc; docs/trace-format.md ("The shared rings") describes the layout.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "build_id.h"

namespace ws::capture {

inline constexpr char kRegionMagic[8] = {'W', 'S', 'T', 'R', 'I', 'N', 'G', '3'};
inline constexpr uint32_t kRegionVersion = 3;
// The first 7 bytes of the magic, the same in every version: a region of ours, whatever its
// version (so that an agent of another build can still say which it is).
inline constexpr size_t kRegionMagicStem = 7;
inline constexpr size_t kBuildIdBytes = 64;  // build and agent_build, NUL-terminated

// A slot goes Free → Claiming (a thread won it) → Active (its pid and tid are written) →
// Released (the thread ended) → Free (the collector drained it).
enum SlotState : uint32_t { kSlotFree = 0, kSlotActive = 1, kSlotReleased = 2, kSlotClaiming = 3 };

// Why records were lost: the `reason` of a drops event.
enum class DropReason : uint32_t {
  RingFull = 1,     // the thread's ring was full
  NoFreeRing = 2,   // the thread found every ring taken by other threads
  RingDamaged = 3,  // the ring held impossible values (the program overwrote it) and was dropped
  KernelRingFull = 4,  // the kernel engine's ring buffer (shared by every CPU) was full
};

// Records lost by the threads of one process that found every ring taken.
struct NoRingEntry {
  std::atomic<uint32_t> pid;      // 0: free; a process claims an entry with compare-exchange
  std::atomic<uint32_t> threads;  // its threads that found no free ring
  std::atomic<uint64_t> records;  // their records lost
};
inline constexpr uint32_t kNoRingEntries = 256;

struct alignas(64) RegionHeader {
  // magic, version, refused, build and agent_build keep these offsets in every later version:
  // a collector and an agent of different builds tell each other apart through them.
  char magic[8];
  uint32_t version;
  // 0; 1 an agent of another build is writing agent_build; 2 it is written (that agent, and
  // every other of its build, records nothing).
  std::atomic<uint32_t> refused;
  char build[kBuildIdBytes];        // the collector's kBuildId ("0.1.0+66d2db4ab12c")
  char agent_build[kBuildIdBytes];  // the kBuildId of the first agent that refused
  uint32_t slot_count;
  uint64_t ring_bytes;      // power of two
  uint64_t data_offset;     // from the region start to ring 0
  uint32_t snaplen;         // payload bytes to keep per call (UINT32_MAX: all that fits)
  uint32_t follow;          // 1: trace children too
  uint32_t root_pid;        // with follow == 0, only this process records
  // TCP statistics: 0 never read; kTcpInfoEnds only when a connection is set up and ends;
  // else also at a send or receive once this many milliseconds have passed since the last.
  uint32_t tcp_info_ms;
  std::atomic<uint64_t> no_ring_total;     // every record lost for want of a ring
  std::atomic<uint64_t> no_ring_unnamed;   // … of those, by processes the table had no room for
  std::atomic<uint32_t> collector_alive;   // cleared by a collector that detaches: agents stop
  std::atomic<uint32_t> frees;             // bumped when a ring is freed: ring-less threads retry
  NoRingEntry no_ring[kNoRingEntries];
};

// The offsets docs/trace-format.md gives (and tests/programs/hostile.c writes at); the first
// five fields keep theirs in every version.
static_assert(offsetof(RegionHeader, version) == 8 && offsetof(RegionHeader, refused) == 12 &&
              offsetof(RegionHeader, build) == 16 && offsetof(RegionHeader, agent_build) == 80 &&
              offsetof(RegionHeader, slot_count) == 144 &&
              offsetof(RegionHeader, ring_bytes) == 152 &&
              offsetof(RegionHeader, data_offset) == 160);

struct alignas(64) Slot {
  std::atomic<uint32_t> state;
  std::atomic<uint32_t> pid;
  std::atomic<uint32_t> tid;
  uint32_t pad0;
  alignas(64) std::atomic<uint64_t> head;     // bytes ever written (producer)
  alignas(64) std::atomic<uint64_t> tail;     // bytes ever consumed (collector)
  alignas(64) std::atomic<uint64_t> dropped;  // records the producer could not queue
};

static_assert(std::atomic<uint64_t>::is_always_lock_free, "rings need lock-free 64-bit atomics");

inline constexpr uint64_t kMinRingBytes = 4096;
inline constexpr uint32_t kMaxSlots = 1u << 16;

// The shape of a region, fixed at creation; each side keeps its own copy.
struct RingGeometry {
  uint32_t slots = 0;
  uint64_t ring_bytes = 0;  // power of two, ≥ kMinRingBytes

  uint64_t data_offset() const { return sizeof(RegionHeader) + sizeof(Slot) * uint64_t{slots}; }
  size_t region_bytes() const { return static_cast<size_t>(data_offset() + ring_bytes * slots); }
  // Slot counts and ring sizes that a region of this build can have.
  bool sane() const {
    return slots > 0 && slots <= kMaxSlots && ring_bytes >= kMinRingBytes &&
           ring_bytes <= (uint64_t{1} << 30) && (ring_bytes & (ring_bytes - 1)) == 0;
  }
};

inline Slot* slots_of(RegionHeader* r) { return reinterpret_cast<Slot*>(r + 1); }
inline uint8_t* ring_data(RegionHeader* r, const RingGeometry& g, uint32_t slot) {
  return reinterpret_cast<uint8_t*>(r) + g.data_offset() + g.ring_bytes * slot;
}

// Lays out a fresh region in zeroed memory of g.region_bytes().
inline constexpr uint32_t kTcpInfoEnds = UINT32_MAX;

inline void init_region(void* mem, const RingGeometry& g, uint32_t snaplen, bool follow,
                        uint32_t root_pid, uint32_t tcp_info_ms = 0) {
  auto* r = static_cast<RegionHeader*>(mem);
  std::memcpy(r->magic, kRegionMagic, sizeof kRegionMagic);
  r->version = kRegionVersion;
  std::strncpy(r->build, kBuildId, kBuildIdBytes - 1);
  r->slot_count = g.slots;
  r->ring_bytes = g.ring_bytes;
  r->data_offset = g.data_offset();
  r->snaplen = snaplen;
  r->follow = follow ? 1 : 0;
  r->root_pid = root_pid;
  r->tcp_info_ms = tcp_info_ms;
  r->collector_alive.store(1, std::memory_order_release);
}

// An agent's one look at the geometry of a region it mapped (`mapped` bytes): each word is read
// once, so the values checked are the values kept. False when the region is not one of ours or
// does not fit the mapping.
inline bool read_geometry(const RegionHeader* r, size_t mapped, RingGeometry& out) {
  if (mapped < sizeof(RegionHeader)) return false;
  const volatile RegionHeader* v = r;
  char magic[8];
  for (int i = 0; i < 8; ++i) magic[i] = v->magic[i];
  RingGeometry g;
  const uint32_t version = v->version;
  g.slots = v->slot_count;
  g.ring_bytes = v->ring_bytes;
  const uint64_t data_offset = v->data_offset;
  if (std::memcmp(magic, kRegionMagic, 8) != 0 || version != kRegionVersion || !g.sane() ||
      data_offset != g.data_offset() || g.region_bytes() > mapped)
    return false;
  out = g;
  return true;
}

// An agent's first look at a region it mapped (`mapped` bytes), before read_geometry: whether
// the collector that made it is of the agent's own build (`mine`: kBuildId). An agent of another
// build must not record into it (the layout of the records may differ); the first to find so
// writes its build into agent_build for the collector to name. False also for a region that is
// not one of ours. Reads the shared bytes once each; never blocks.
inline bool same_build(RegionHeader* r, size_t mapped, const char* mine) {
  if (mapped < sizeof(RegionHeader)) return false;
  const volatile RegionHeader* v = r;
  for (size_t i = 0; i < kRegionMagicStem; ++i)
    if (v->magic[i] != kRegionMagic[i]) return false;
  size_t n = 0;
  bool same = true;
  for (; n < kBuildIdBytes && mine[n]; ++n) same = same && v->build[n] == mine[n];
  if (same && n < kBuildIdBytes && v->build[n] == '\0') return true;
  uint32_t free = 0;
  if (r->refused.compare_exchange_strong(free, 1, std::memory_order_acq_rel)) {
    volatile char* out = r->agent_build;
    for (size_t i = 0; i < kBuildIdBytes; ++i) out[i] = i < n && i < kBuildIdBytes - 1 ? mine[i] : '\0';
    r->refused.store(2, std::memory_order_release);
  }
  return false;
}

// Records are 8-byte aligned: a u32 total length (the length word included), then the bytes.
inline constexpr uint32_t record_space(uint32_t len) { return (len + 7u) & ~7u; }

// Producer: copies `n` parts into the ring as one record. False (and counted) when full. A part
// with null data is skipped, its bytes left as they are: the producer wrote them in place
// before (ring_span).
struct Part {
  const void* data;
  size_t size;
};
// Writable memory: where a record's bytes will lie in a ring.
struct Span {
  void* data;
  size_t size;
};
inline bool ring_push(RegionHeader* r, const RingGeometry& g, uint32_t slot_index,
                      const Part* parts, size_t n) {
  Slot& s = slots_of(r)[slot_index];
  size_t len = 4;
  for (size_t i = 0; i < n; ++i) len += parts[i].size;
  const uint64_t cap = g.ring_bytes;
  const uint64_t head = s.head.load(std::memory_order_relaxed);
  const uint64_t tail = s.tail.load(std::memory_order_acquire);
  // (len is checked before it is narrowed: a record is at most half a ring)
  if (len > cap / 2 || head - tail + record_space(static_cast<uint32_t>(len)) > cap) {
    s.dropped.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  const uint32_t space = record_space(static_cast<uint32_t>(len));
  uint8_t* data = ring_data(r, g, slot_index);
  uint64_t pos = head;
  auto put = [&](const void* p, size_t k) {
    const auto* src = static_cast<const uint8_t*>(p);
    while (k) {
      size_t off = static_cast<size_t>(pos & (cap - 1));
      size_t chunk = k < cap - off ? k : static_cast<size_t>(cap - off);
      if (src) {  // null: written in place (ring_span)
        std::memcpy(data + off, src, chunk);
        src += chunk;
      }
      pos += chunk;
      k -= chunk;
    }
  };
  uint32_t len32 = static_cast<uint32_t>(len);
  put(&len32, 4);
  for (size_t i = 0; i < n; ++i) put(parts[i].data, parts[i].size);
  s.head.store(head + space, std::memory_order_release);
  return true;
}

// Producer: where bytes [at, at + n) of the next record of `len` bytes (counted from its length
// word) will lie in the ring: one span, or two when they wrap, in `out`. 0 when such a record
// would not fit now (ring_push will drop it). The producer may write them in place, then hand
// ring_push a null-data part for them: bytes read from a file straight into the ring need no
// buffer of the record's size.
inline size_t ring_span(RegionHeader* r, const RingGeometry& g, uint32_t slot_index, size_t len,
                        size_t at, size_t n, Span out[2]) {
  Slot& s = slots_of(r)[slot_index];
  const uint64_t cap = g.ring_bytes;
  const uint64_t head = s.head.load(std::memory_order_relaxed);
  const uint64_t tail = s.tail.load(std::memory_order_acquire);
  if (len > cap / 2 || at + n > len ||
      head - tail + record_space(static_cast<uint32_t>(len)) > cap)
    return 0;
  uint8_t* data = ring_data(r, g, slot_index);
  const size_t off = static_cast<size_t>((head + at) & (cap - 1));
  const size_t first = n < cap - off ? n : static_cast<size_t>(cap - off);
  out[0] = Span{data + off, first};
  out[1] = Span{data, n - first};
  return n - first ? 2 : 1;
}

// Producer: counts one record lost because this thread has no ring, under its process's entry
// of the table (claimed on first use and remembered in `entry`, -1 before); `new_thread` also
// counts the thread. A full table counts the record without its process.
inline void count_no_ring(RegionHeader* r, uint32_t pid, int32_t& entry, bool new_thread) {
  r->no_ring_total.fetch_add(1, std::memory_order_relaxed);
  if (entry < 0) {
    for (uint32_t i = 0; i < kNoRingEntries && entry < 0; ++i) {
      const uint32_t k = (pid + i) % kNoRingEntries;
      uint32_t expected = 0;
      if (r->no_ring[k].pid.load(std::memory_order_relaxed) == pid ||
          r->no_ring[k].pid.compare_exchange_strong(expected, pid, std::memory_order_acq_rel))
        entry = static_cast<int32_t>(k);
    }
  }
  if (entry < 0) {
    r->no_ring_unnamed.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (new_thread) r->no_ring[entry].threads.fetch_add(1, std::memory_order_relaxed);
  r->no_ring[entry].records.fetch_add(1, std::memory_order_release);
}

// Consumer: what ring_drain found.
enum class DrainResult { Ok, Damaged };

// Consumer, on the collector's private view of one ring (`data`, `cap` bytes): calls
// fn(bytes, len) for each record queued between `tail` and `head` (the bytes after the length
// word, copied to `scratch`, cap / 2 bytes), advancing `tail`. The caller read `head` once and
// checked head - tail <= cap. Each length word is read once; a record that cannot be (too
// short, longer than half a ring, past `head`) stops the drain with Damaged.
template <typename Fn>
DrainResult ring_drain(const uint8_t* data, uint64_t cap, uint64_t& tail, uint64_t head,
                       uint8_t* scratch, Fn&& fn) {
  auto get = [&](uint64_t pos, void* out, size_t k) {
    auto* dst = static_cast<uint8_t*>(out);
    while (k) {
      size_t off = static_cast<size_t>(pos & (cap - 1));
      size_t chunk = k < cap - off ? k : static_cast<size_t>(cap - off);
      std::memcpy(dst, data + off, chunk);
      dst += chunk;
      pos += chunk;
      k -= chunk;
    }
  };
  while (tail != head) {
    uint32_t len = 0;
    get(tail, &len, 4);
    if (len < 4 || len > cap / 2 || record_space(len) > head - tail) return DrainResult::Damaged;
    get(tail + 4, scratch, len - 4);
    fn(scratch, static_cast<size_t>(len - 4));
    tail += record_space(len);
  }
  return DrainResult::Ok;
}

}  // namespace ws::capture
