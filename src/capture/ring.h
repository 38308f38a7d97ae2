// The shared memory between capture agents and the collector: a region of per-thread rings.
//
// Each traced thread owns one ring while it lives (single producer); the collector is the one
// consumer of every ring. A producer never waits: when its ring is full the record is dropped
// and counted. Lock-free 64-bit atomics work across processes on the platforms we build for.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ws::capture {

inline constexpr char kRegionMagic[8] = {'W', 'S', 'T', 'R', 'I', 'N', 'G', '1'};
inline constexpr uint32_t kRegionVersion = 1;

enum SlotState : uint32_t { kSlotFree = 0, kSlotActive = 1, kSlotReleased = 2 };

struct alignas(64) RegionHeader {
  char magic[8];
  uint32_t version;
  uint32_t slot_count;
  uint64_t ring_bytes;      // power of two
  uint64_t data_offset;     // from the region start to ring 0
  uint32_t snaplen;         // payload bytes to keep per call (UINT32_MAX: all that fits)
  uint32_t follow;          // 1: trace children too
  uint32_t root_pid;        // with follow == 0, only this process records
  uint32_t reserved;
  std::atomic<uint64_t> no_slot_drops;  // records lost because every ring was taken
  std::atomic<uint32_t> collector_alive;  // cleared by a collector that detaches: agents stop
};

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

inline size_t region_size(uint32_t slots, uint64_t ring_bytes) {
  return sizeof(RegionHeader) + sizeof(Slot) * slots + static_cast<size_t>(ring_bytes) * slots;
}

inline Slot* slots_of(RegionHeader* r) { return reinterpret_cast<Slot*>(r + 1); }
inline uint8_t* ring_data(RegionHeader* r, uint32_t slot) {
  return reinterpret_cast<uint8_t*>(r) + r->data_offset + r->ring_bytes * slot;
}

// Lays out a fresh region in zeroed memory.
inline void init_region(void* mem, uint32_t slots, uint64_t ring_bytes, uint32_t snaplen,
                        bool follow, uint32_t root_pid) {
  auto* r = static_cast<RegionHeader*>(mem);
  std::memcpy(r->magic, kRegionMagic, sizeof kRegionMagic);
  r->version = kRegionVersion;
  r->slot_count = slots;
  r->ring_bytes = ring_bytes;
  r->data_offset = sizeof(RegionHeader) + sizeof(Slot) * slots;
  r->snaplen = snaplen;
  r->follow = follow ? 1 : 0;
  r->root_pid = root_pid;
  r->collector_alive.store(1, std::memory_order_release);
}

inline bool region_valid(const RegionHeader* r, size_t mapped) {
  return mapped >= sizeof(RegionHeader) && std::memcmp(r->magic, kRegionMagic, 8) == 0 &&
         r->version == kRegionVersion && r->ring_bytes >= 4096 &&
         (r->ring_bytes & (r->ring_bytes - 1)) == 0 &&
         region_size(r->slot_count, r->ring_bytes) <= mapped;
}

// Records are 8-byte aligned: a u32 total length (the length word included), then the bytes.
inline constexpr uint32_t record_space(uint32_t len) { return (len + 7u) & ~7u; }

// Producer: copies `n` parts into the ring as one record. False (and counted) when full.
struct Part {
  const void* data;
  size_t size;
};
inline bool ring_push(RegionHeader* r, uint32_t slot_index, const Part* parts, size_t n) {
  Slot& s = slots_of(r)[slot_index];
  size_t len = 4;
  for (size_t i = 0; i < n; ++i) len += parts[i].size;
  const uint64_t cap = r->ring_bytes;
  const uint32_t space = record_space(static_cast<uint32_t>(len));
  uint64_t head = s.head.load(std::memory_order_relaxed);
  uint64_t tail = s.tail.load(std::memory_order_acquire);
  if (len > cap / 2 || head - tail + space > cap) {
    s.dropped.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  uint8_t* data = ring_data(r, slot_index);
  uint64_t pos = head;
  auto put = [&](const void* p, size_t k) {
    const auto* src = static_cast<const uint8_t*>(p);
    while (k) {
      size_t off = static_cast<size_t>(pos & (cap - 1));
      size_t chunk = k < cap - off ? k : static_cast<size_t>(cap - off);
      std::memcpy(data + off, src, chunk);
      src += chunk;
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

// Consumer: calls fn(bytes, len) for every queued record of the ring (the bytes after the length
// word, contiguous in `scratch`), then frees their space. Returns the records seen, or -1 when
// the ring holds something that is not a record (it is then emptied).
template <typename Fn>
long ring_drain(RegionHeader* r, uint32_t slot_index, uint8_t* scratch, Fn&& fn) {
  Slot& s = slots_of(r)[slot_index];
  const uint64_t cap = r->ring_bytes;
  uint64_t tail = s.tail.load(std::memory_order_relaxed);
  const uint64_t head = s.head.load(std::memory_order_acquire);
  const uint8_t* data = ring_data(r, slot_index);
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
  long count = 0;
  while (tail < head) {
    uint32_t len = 0;
    get(tail, &len, 4);
    if (len < 4 || len > cap / 2 || tail + record_space(len) > head) {
      s.tail.store(head, std::memory_order_release);
      return -1;
    }
    get(tail + 4, scratch, len - 4);
    fn(scratch, static_cast<size_t>(len - 4));
    tail += record_space(len);
    ++count;
  }
  s.tail.store(tail, std::memory_order_release);
  return count;
}

}  // namespace ws::capture
