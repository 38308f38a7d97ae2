// The shared rings (capture/ring.h) and the collector that drains them (collector_core.cc):
// records across the ring's end, the bounds a producer and the consumer hold to, a region's
// geometry checked once, the no-ring table, and the collector's events in time order with its
// drops, damaged rings and freed slots.
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "../null_output.h"
#include "collector_core.h"
#include "raw_record.h"
#include "ring.h"
#include "translate.h"

namespace {

using namespace ws;
using namespace ws::capture;

// A zeroed region of `g`, laid out as `record` makes it.
struct Region {
  explicit Region(RingGeometry geo) : g(geo) {
    mem = static_cast<uint8_t*>(::operator new(g.region_bytes(), std::align_val_t{64}));
    std::memset(mem, 0, g.region_bytes());
    init_region(mem, g, 1024, true, 0);
  }
  ~Region() { ::operator delete(mem, std::align_val_t{64}); }
  RegionHeader* header() { return reinterpret_cast<RegionHeader*>(mem); }
  Slot& slot(uint32_t i) { return slots_of(header())[i]; }
  bool push(uint32_t i, const std::string& bytes) {
    Part p{bytes.data(), bytes.size()};
    return ring_push(header(), g, i, &p, 1);
  }
  // The records queued in ring `i` since the last drain, and how the drain ended.
  DrainResult drain(uint32_t i, std::vector<std::string>& out) {
    Slot& s = slot(i);
    uint64_t tail = s.tail.load();
    std::vector<uint8_t> scratch(g.ring_bytes / 2);
    DrainResult r = ring_drain(ring_data(header(), g, i), g.ring_bytes, tail, s.head.load(),
                               scratch.data(), [&](const uint8_t* p, size_t n) {
                                 out.emplace_back(reinterpret_cast<const char*>(p), n);
                               });
    s.tail.store(tail);
    return r;
  }
  RingGeometry g;
  uint8_t* mem;
};

TEST(Ring, RecordsAcrossTheEnd) {
  Region r({1, kMinRingBytes});
  std::vector<std::string> got;
  for (int i = 0; i < 20; ++i) {  // 20 × 1004 bytes through a 4096-byte ring
    const std::string a(1000, static_cast<char>('a' + i)), b(1000, static_cast<char>('A' + i));
    ASSERT_TRUE(r.push(0, a));
    ASSERT_TRUE(r.push(0, b));
    got.clear();
    ASSERT_EQ(r.drain(0, got), DrainResult::Ok);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(got[0], a);
    EXPECT_EQ(got[1], b);
  }
  EXPECT_EQ(r.slot(0).head.load(), 20u * 2 * record_space(1004));
  EXPECT_EQ(r.slot(0).dropped.load(), 0u);
}

TEST(Ring, ProducerBounds) {
  Region r({1, kMinRingBytes});
  // A record is at most half a ring, its length word included.
  EXPECT_FALSE(r.push(0, std::string(kMinRingBytes / 2 - 3, 'x')));
  EXPECT_EQ(r.slot(0).dropped.load(), 1u);
  EXPECT_TRUE(r.push(0, std::string(kMinRingBytes / 2 - 4, 'x')));
  // A full ring drops and counts; once drained it takes records again.
  EXPECT_TRUE(r.push(0, std::string(kMinRingBytes / 2 - 12, 'y')));  // 8 bytes left
  EXPECT_TRUE(r.push(0, std::string(4, 'z')));                        // exactly fills it
  EXPECT_FALSE(r.push(0, std::string(1, 'w')));
  EXPECT_EQ(r.slot(0).dropped.load(), 2u);
  std::vector<std::string> got;
  ASSERT_EQ(r.drain(0, got), DrainResult::Ok);
  EXPECT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2], "zzzz");
  EXPECT_TRUE(r.push(0, "again"));
}

TEST(Ring, ConsumerStopsAtDamage) {
  struct Case {
    uint32_t len;
    const char* why;
  };
  for (const Case& k : {Case{3, "shorter than its length word"},
                        Case{kMinRingBytes / 2 + 1, "longer than half a ring"},
                        Case{64, "past the head"}}) {
    Region r({1, kMinRingBytes});
    ASSERT_TRUE(r.push(0, "good"));
    // A record whose length word the program overwrote, 16 bytes queued after the good one.
    uint8_t* data = ring_data(r.header(), r.g, 0);
    std::memcpy(data + 8, &k.len, 4);
    r.slot(0).head.store(8 + 16);
    std::vector<std::string> got;
    EXPECT_EQ(r.drain(0, got), DrainResult::Damaged) << k.why;
    ASSERT_EQ(got.size(), 1u) << k.why;
    EXPECT_EQ(got[0], "good");
    EXPECT_EQ(r.slot(0).tail.load(), 8u) << k.why;  // the good one consumed, no more
  }
}

// An agent of another build leaves the region alone but for naming itself, once; the collector
// reads that name as printable text only.
TEST(Ring, AgentOfAnotherBuildSaysSoAndStaysOut) {
  const RingGeometry g{2, kMinRingBytes};
  Region r(g);
  EXPECT_STREQ(r.header()->build, kBuildId);
  EXPECT_TRUE(same_build(r.header(), g.region_bytes(), kBuildId));
  EXPECT_EQ(refused_by(r.header()), "");
  EXPECT_FALSE(same_build(r.header(), sizeof(RegionHeader) - 1, kBuildId));  // not mapped whole
  EXPECT_EQ(refused_by(r.header()), "");
  EXPECT_FALSE(same_build(r.header(), g.region_bytes(), "0.0.9+000000000000"));
  EXPECT_EQ(refused_by(r.header()), "0.0.9+000000000000");
  EXPECT_FALSE(same_build(r.header(), g.region_bytes(), "0.0.8+111111111111"));  // the first stays
  EXPECT_EQ(refused_by(r.header()), "0.0.9+000000000000");
  // A build that is a prefix of the region's, or the region's of it, is another build.
  const std::string mine = kBuildId;
  Region r2(g);
  EXPECT_FALSE(same_build(r2.header(), g.region_bytes(), mine.substr(0, mine.size() - 1).c_str()));
  Region r3(g);
  EXPECT_FALSE(same_build(r3.header(), g.region_bytes(), (mine + "x").c_str()));
  // Another magic: not ours at all, and nothing is written.
  Region r4(g);
  r4.header()->magic[0] = 'X';
  EXPECT_FALSE(same_build(r4.header(), g.region_bytes(), "0.0.9+000000000000"));
  EXPECT_EQ(refused_by(r4.header()), "");
  // What the program wrote there is shown as printable text, bounded by the field.
  Region r5(g);
  r5.header()->refused.store(2);
  std::memset(r5.header()->agent_build, '\x1b', kBuildIdBytes);
  EXPECT_EQ(refused_by(r5.header()), std::string(kBuildIdBytes - 1, '?'));
}

TEST(Ring, GeometryIsCheckedOnce) {
  const RingGeometry g{2, kMinRingBytes};
  Region r(g);
  RingGeometry out;
  EXPECT_TRUE(read_geometry(r.header(), g.region_bytes(), out));
  EXPECT_EQ(out.slots, 2u);
  EXPECT_EQ(out.ring_bytes, kMinRingBytes);
  EXPECT_FALSE(read_geometry(r.header(), g.region_bytes() - 1, out));  // larger than mapped
  EXPECT_FALSE(read_geometry(r.header(), sizeof(RegionHeader) - 1, out));
  auto spoilt = [&](auto change) {
    Region bad(g);
    change(*bad.header());
    RingGeometry o;
    return !read_geometry(bad.header(), g.region_bytes(), o);
  };
  EXPECT_TRUE(spoilt([](RegionHeader& h) { h.magic[0] = 'X'; }));
  EXPECT_TRUE(spoilt([](RegionHeader& h) { h.version = kRegionVersion + 1; }));
  EXPECT_TRUE(spoilt([](RegionHeader& h) { h.slot_count = 0; }));
  EXPECT_TRUE(spoilt([](RegionHeader& h) { h.slot_count = 3; }));  // no longer fits
  EXPECT_TRUE(spoilt([](RegionHeader& h) { h.ring_bytes = kMinRingBytes + 8; }));
  EXPECT_TRUE(spoilt([](RegionHeader& h) { h.ring_bytes = kMinRingBytes / 2; }));
  EXPECT_TRUE(spoilt([](RegionHeader& h) { h.data_offset += 64; }));
  EXPECT_FALSE((RingGeometry{kMaxSlots + 1, kMinRingBytes}.sane()));
  EXPECT_FALSE((RingGeometry{1, uint64_t{1} << 31}.sane()));
  EXPECT_TRUE((RingGeometry{kMaxSlots, uint64_t{1} << 30}.sane()));
}

TEST(Ring, NoRingTable) {
  Region r({1, kMinRingBytes});
  int32_t a = -1, b = -1;
  count_no_ring(r.header(), 500, a, true);
  count_no_ring(r.header(), 500, a, false);
  count_no_ring(r.header(), 500 + kNoRingEntries, b, true);  // same first entry: the next one
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  EXPECT_NE(a, b);
  EXPECT_EQ(r.header()->no_ring[a].records.load(), 2u);
  EXPECT_EQ(r.header()->no_ring[a].threads.load(), 1u);
  EXPECT_EQ(r.header()->no_ring_total.load(), 3u);
  // A full table counts the record without its process.
  for (uint32_t k = 0; k < kNoRingEntries; ++k) r.header()->no_ring[k].pid.store(9);
  int32_t c = -1;
  count_no_ring(r.header(), 777, c, true);
  EXPECT_EQ(c, -1);
  EXPECT_EQ(r.header()->no_ring_unnamed.load(), 1u);
}

TEST(Ring, ShrinkingGeometry) {
  RingGeometry g{256, 1u << 20};
  std::vector<std::pair<uint32_t, uint64_t>> steps;
  while (shrink_geometry(g, kMinShrunkRing)) steps.emplace_back(g.slots, g.ring_bytes);
  ASSERT_FALSE(steps.empty());
  EXPECT_EQ(steps.front(), (std::pair<uint32_t, uint64_t>{256, 512 * 1024}));  // the ring first
  EXPECT_EQ(steps.back(), (std::pair<uint32_t, uint64_t>{kMinSlots, kMinShrunkRing}));
  for (size_t i = 1; i < steps.size(); ++i)  // one halving at a time
    EXPECT_EQ(steps[i].first * steps[i].second * 2, steps[i - 1].first * steps[i - 1].second);
}

// ---- The collector --------------------------------------------------------------------------

using testing_support::NullOutput;

int64_t fixed_clock() { return 5'000'000; }

class CollectorTest : public ::testing::Test {
 protected:
  CollectorTest() : region_({2, kMinRingBytes}) {
    auto writer = trace::TraceWriter::create(std::make_unique<NullOutput>(), header_);
    writer_ = std::move(writer.value());
    collector_ = std::make_unique<RingCollector>(
        opt_, region_.header(), region_.g, *writer_, summary_, translate_linux_record, fixed_clock,
        [this](const Event& ev) { events_.push_back(ev); });
  }
  void claim(uint32_t i, uint32_t pid) {
    region_.slot(i).pid.store(pid);
    region_.slot(i).tid.store(pid);
    region_.slot(i).state.store(kSlotActive);
  }
  // A raw record of `f` at time `ts` with result `result`, queued in ring `i`.
  bool call(uint32_t i, FuncId f, int64_t ts, int64_t result = 0) {
    RawHead h{};
    h.func = static_cast<uint8_t>(f);
    h.tid = region_.slot(i).tid.load();
    h.ts = ts;
    h.result = result;
    return region_.push(i, std::string(reinterpret_cast<const char*>(&h), sizeof h));
  }
  uint64_t drops(DropReason why) const {
    uint64_t n = 0;
    for (const Event& ev : events_)
      if (ev.func == FuncId::drops && ev.get(FieldId::reason)->num == static_cast<uint64_t>(why))
        n += ev.get(FieldId::dropped)->num;
    return n;
  }

  Region region_;
  RecordOptions opt_;
  trace::TraceHeader header_;
  RecordSummary summary_;
  std::unique_ptr<trace::TraceWriter> writer_;
  std::unique_ptr<RingCollector> collector_;
  std::vector<Event> events_;
};

TEST_F(CollectorTest, EventsInTimeOrderAcrossRings) {
  claim(0, 100);
  claim(1, 200);
  ASSERT_TRUE(call(0, FuncId::socket, 30, 3));
  ASSERT_TRUE(call(1, FuncId::socket, 10, 4));
  ASSERT_TRUE(call(0, FuncId::close, 40));
  ASSERT_TRUE(call(1, FuncId::close, 20));
  collector_->drain();
  ASSERT_EQ(events_.size(), 4u);
  const int64_t want_ts[] = {10, 20, 30, 40};
  const uint32_t want_pid[] = {200, 200, 100, 100};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(events_[i].ts, want_ts[i]);
    EXPECT_EQ(events_[i].pid, want_pid[i]);
  }
  EXPECT_EQ(summary_.calls, 4u);
  EXPECT_EQ(region_.slot(0).tail.load(), region_.slot(0).head.load());  // consumed
}

TEST_F(CollectorTest, DropsOfAFullRing) {
  claim(0, 100);
  int queued = 0;
  while (call(0, FuncId::send, ++queued)) {}
  call(0, FuncId::send, 0);  // a second record dropped
  collector_->drain();
  EXPECT_EQ(drops(DropReason::RingFull), 2u);
  EXPECT_EQ(summary_.dropped, 2u);
  EXPECT_EQ(summary_.calls, static_cast<uint64_t>(queued - 1));
  collector_->drain();  // counted once
  EXPECT_EQ(drops(DropReason::RingFull), 2u);
}

TEST_F(CollectorTest, DamagedRingIsCountedAndLeftAlone) {
  claim(0, 100);
  ASSERT_TRUE(call(0, FuncId::socket, 10));
  collector_->drain();
  events_.clear();
  region_.slot(0).head.store(region_.slot(0).tail.load() + kMinRingBytes + 8);  // laps the tail
  collector_->drain();
  EXPECT_EQ(drops(DropReason::RingDamaged), 1u);
  // The producer is shown a full ring: what it queues from now on is counted, never read.
  EXPECT_FALSE(call(0, FuncId::socket, 20));
  collector_->drain();
  EXPECT_EQ(drops(DropReason::RingDamaged), 2u);
  for (const Event& ev : events_) EXPECT_EQ(ev.func, FuncId::drops);
}

TEST_F(CollectorTest, ReleasedRingsAreFreedAfterTheirLastRecords) {
  claim(0, 100);
  ASSERT_TRUE(call(0, FuncId::socket, 10));
  region_.slot(0).state.store(kSlotReleased);
  collector_->drain();
  EXPECT_EQ(events_.size(), 1u);
  EXPECT_EQ(region_.slot(0).state.load(), kSlotFree);
  EXPECT_EQ(region_.slot(0).head.load(), 0u);
  EXPECT_EQ(region_.header()->frees.load(), 1u);
}

TEST_F(CollectorTest, NoRingRecordsBecomeDrops) {
  int32_t entry = -1;
  count_no_ring(region_.header(), 300, entry, true);
  count_no_ring(region_.header(), 300, entry, false);
  collector_->drain();
  ASSERT_EQ(drops(DropReason::NoFreeRing), 2u);
  EXPECT_EQ(events_.back().get(FieldId::threads)->num, 1u);
  collector_->process_ended(300, 0);  // its entry is given back
  EXPECT_EQ(region_.header()->no_ring[entry].pid.load(), 0u);
  EXPECT_EQ(events_.back().func, FuncId::process_exit);
}

}  // namespace
