// Whatever a traced program writes into the shared region — header, slot words, no-ring table,
// ring bytes — the collector's drain ends in events and drops, never in a crash, a hang, a
// read outside the region or an allocation beyond its bound. The input is a list of steps, so
// that values changing between two drains (a head going back, a pid that changes) are tried:
//   0 push SLOT LEN(u16) BYTES   a record queued the way an agent queues it
//   1 poke OFFSET(u32) U32       any 4 bytes of the region overwritten
//   2 poke OFFSET(u32) U64       any 8 bytes overwritten
//   3 drain
//   4 claim SLOT PID             a thread takes a free ring, as an agent does
//   5 release SLOT               its thread ended
//   6 no-ring PID                a record lost for want of a ring
//   7 ended PID                  a process ended (the collector frees its rings)
// (A reader of its own rather than FuzzedDataProvider: seeds/make_seeds.py writes these steps
// front to back, which FuzzedDataProvider does not read them as.)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include "../null_output.h"
#include "collector_core.h"
#include "translate.h"

namespace {

using namespace ws;
using namespace ws::capture;

using testing_support::NullOutput;

struct Input {
  const uint8_t* p;
  size_t left;
  bool more() const { return left > 0; }
  uint64_t take(size_t n) {  // little-endian, zeros past the end
    uint64_t v = 0;
    for (size_t i = 0; i < n && left; ++i, ++p, --left) v |= uint64_t{*p} << (8 * i);
    return v;
  }
};

constexpr RingGeometry kGeometry{4, 4096};
int64_t fake_clock() { return 1'000; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const size_t bytes = kGeometry.region_bytes();
  auto* mem = static_cast<uint8_t*>(::operator new(bytes, std::align_val_t{64}));
  std::memset(mem, 0, bytes);
  init_region(mem, kGeometry, 1024, true, 0);
  auto* region = reinterpret_cast<RegionHeader*>(mem);
  {
    RecordOptions opt;
    trace::TraceHeader header;
    RecordSummary summary;
    auto writer = trace::TraceWriter::create(std::make_unique<NullOutput>(), header);
    if (!writer.ok()) std::abort();
    RingCollector collector(opt, region, kGeometry, *writer.value(), summary,
                            translate_linux_record, fake_clock);
    Input in{data, size};
    int32_t entries[4] = {-1, -1, -1, -1};
    uint64_t steps = 0;
    uint8_t record[1200];
    while (in.more()) {
      ++steps;
      const uint64_t op = in.take(1) % 8;
      if (op == 0) {
        const auto slot = static_cast<uint32_t>(in.take(1) % kGeometry.slots);
        const size_t len = in.take(2) % sizeof record;
        for (size_t i = 0; i < len; ++i) record[i] = static_cast<uint8_t>(in.take(1));
        Part part{record, len};
        ring_push(region, kGeometry, slot, &part, 1);
      } else if (op == 1 || op == 2) {
        const size_t n = op == 1 ? 4 : 8;
        const size_t off = in.take(4) % (bytes - n + 1);
        const uint64_t v = in.take(n);
        std::memcpy(mem + off, &v, n);
      } else if (op == 3) {
        collector.drain();
      } else if (op == 4) {
        Slot& s = slots_of(region)[in.take(1) % kGeometry.slots];
        const auto pid = static_cast<uint32_t>(100 + in.take(1) % 4);
        uint32_t expected = kSlotFree;
        if (s.state.compare_exchange_strong(expected, kSlotClaiming)) {
          s.pid.store(pid);
          s.tid.store(pid);
          s.state.store(kSlotActive);
        }
      } else if (op == 5) {
        slots_of(region)[in.take(1) % kGeometry.slots].state.store(kSlotReleased);
      } else if (op == 6) {
        const uint64_t k = in.take(1) % 4;
        count_no_ring(region, static_cast<uint32_t>(100 + k), entries[k], k % 2 == 0);
      } else {
        const uint64_t raw = in.take(1);
        collector.process_ended(static_cast<uint32_t>(raw < 200 ? 100 + raw % 4 : raw), 0);
      }
    }
    collector.drain();
    collector.close_unended();
    collector.flush();
    // Each step lets the collector write at most a ring's worth of records per slot, a drops
    // event per slot and per table entry, and an exit.
    const uint64_t per_step =
        kGeometry.slots * (kGeometry.ring_bytes / 8 + 1) + kNoRingEntries + 2;
    if (writer.value()->events_written() > (steps + 1) * per_step) std::abort();
  }
  ::operator delete(mem, std::align_val_t{64});
  return 0;
}
