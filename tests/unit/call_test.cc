// agent/call.cc, the part of every agent that does not depend on the platform: what one traced
// call puts into its ring. This file plays the platform (one ring in this process's memory), so
// a record is read back exactly as the collector would find it.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "call.h"

namespace ws::agent {
namespace {

using capture::RawArg;
using capture::RawHead;

constexpr RingGeometry kGeometry{1, 64 * 1024};
alignas(64) uint8_t g_mem[sizeof(RegionHeader) + sizeof(Slot) + 64 * 1024];
bool g_pushing = false;
int g_error = 0;
int64_t g_clock = 0;

// One queued record: its head and each argument's bytes by field.
struct Record {
  RawHead head{};
  std::map<FieldId, std::string> args;
};

// Every record queued since the last call.
std::vector<Record> drained() {
  auto* r = reinterpret_cast<RegionHeader*>(g_mem);
  Slot& s = slots_of(r)[0];
  uint64_t tail = s.tail.load();
  std::vector<uint8_t> scratch(kGeometry.ring_bytes / 2);
  std::vector<Record> out;
  capture::ring_drain(ring_data(r, kGeometry, 0), kGeometry.ring_bytes, tail, s.head.load(),
                      scratch.data(), [&](const uint8_t* p, size_t len) {
                        Record rec;
                        std::memcpy(&rec.head, p, sizeof rec.head);
                        size_t at = sizeof rec.head;
                        for (unsigned i = 0; i < rec.head.nargs && at + 8 <= len; ++i) {
                          RawArg a;
                          std::memcpy(&a, p + at, sizeof a);
                          at += sizeof a;
                          rec.args[static_cast<FieldId>(a.field)] =
                              std::string(reinterpret_cast<const char*>(p + at), a.size);
                          at += capture::raw_pad(a.size);
                        }
                        out.push_back(rec);
                      });
  s.tail.store(tail);
  return out;
}

class CallTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::memset(g_mem, 0, sizeof g_mem);
    init_region(g_mem, kGeometry, 1024, false, 1);
  }
  // The one record queued since SetUp.
  static Record only() {
    auto all = drained();
    EXPECT_EQ(all.size(), 1u);
    return all.empty() ? Record{} : all[0];
  }
};

std::string bytes(const void* p, size_t n) { return std::string(static_cast<const char*>(p), n); }

// Something shaped like a sockaddr (a family, then bytes), `fill` in every byte after it.
struct FakeAddr {
  uint8_t b[16];
  explicit FakeAddr(uint8_t fill) {
    std::memset(b, fill, sizeof b);
    b[0] = 2;
    b[1] = 0;
  }
};

TEST_F(CallTest, CopiesWhatItIsGivenWhenItIsNoted) {
  // A hook's buffers are reused or gone by the time the Call ends: what was noted is kept.
  FakeAddr local(0x11);
  char canon[] = "canonical.example";
  RawAddrList list;
  FakeAddr one(0x22);
  list.add(one.b, sizeof one.b);
  const std::string list_bytes = bytes(list.buf, list.size);
  {
    Call c(FuncId::getaddrinfo);
    c.done(0, false);
    c.sockaddr(FieldId::local, local.b, sizeof local.b, Mem::Proven);
    c.str(FieldId::canon, canon, Mem::Proven);
    c.addr_list(FieldId::addrs, list);
    std::memset(local.b, 0xee, sizeof local.b);
    std::memset(canon, 'x', sizeof canon - 1);
    std::memset(list.buf, 0xee, sizeof list.buf);
  }
  const Record r = only();
  EXPECT_EQ(r.args.at(FieldId::local), bytes(FakeAddr(0x11).b, 16));
  EXPECT_EQ(r.args.at(FieldId::canon), "canonical.example");
  EXPECT_EQ(r.args.at(FieldId::addrs), list_bytes);
}

// Notes a buffer of this function's own; it ends when the function returns, before the Call.
[[gnu::noinline]] void note_own_address(Call& c) {
  FakeAddr mine(0x33);
  c.sockaddr(FieldId::local, mine.b, sizeof mine.b, Mem::Proven);
}

TEST_F(CallTest, BuffersMayEndBeforeTheCall) {
  // Under ASan (the asan preset) a Call that kept a pointer to these is a stack-use-after-scope.
  {
    Call c(FuncId::accept);
    c.done(5, false);
    {
      RawAddrList list;
      FakeAddr a(0x44);
      list.add(a.b, sizeof a.b);
      c.addr_list(FieldId::addrs, list);
      char name[] = "inner";
      c.str(FieldId::host, name, Mem::Proven);
    }
    note_own_address(c);
  }
  const Record r = only();
  EXPECT_EQ(r.head.result, 5);
  EXPECT_EQ(r.args.at(FieldId::local), bytes(FakeAddr(0x33).b, 16));
  EXPECT_EQ(r.args.at(FieldId::host), "inner");
  ASSERT_EQ(r.args.at(FieldId::addrs).size(), 2u + 16u);
  EXPECT_EQ(r.args.at(FieldId::addrs).substr(2), bytes(FakeAddr(0x44).b, 16));
}

TEST_F(CallTest, KeepsTheLargestLookupWhole) {
  // The most one hook notes: three strings cut at kMaxString and a full address list.
  const std::string host(600, 'h'), service(600, 's'), canon(600, 'c');
  RawAddrList list;
  uint8_t sin6[RawAddrList::kMaxAddr] = {10};
  for (size_t i = 0; i < RawAddrList::kMax + 3; ++i) list.add(sin6, sizeof sin6);
  EXPECT_EQ(list.count, RawAddrList::kMax);
  {
    Call c(FuncId::getaddrinfo);
    c.done(0, false);
    c.str(FieldId::host, host.c_str());  // Unproven: read with safe_read
    c.str(FieldId::service, service.c_str());
    c.addr_list(FieldId::addrs, list);
    c.str(FieldId::canon, canon.c_str(), Mem::Proven);
  }
  const Record r = only();
  EXPECT_EQ(r.args.at(FieldId::host), host.substr(0, Call::kMaxString));
  EXPECT_EQ(r.args.at(FieldId::service), service.substr(0, Call::kMaxString));
  EXPECT_EQ(r.args.at(FieldId::canon), canon.substr(0, Call::kMaxString));
  EXPECT_EQ(r.args.at(FieldId::addrs).size(), RawAddrList::kMax * (2 + RawAddrList::kMaxAddr));
}

TEST_F(CallTest, PutsTheLastErrorBack) {
  g_error = 0;
  {
    Call c(FuncId::connect);
    g_error = 111;
    c.done(-1, true);
    g_error = 7;  // the agent's own work changed it
  }
  EXPECT_EQ(g_error, 111);
  const Record r = only();
  EXPECT_EQ(r.head.err, 111);
  EXPECT_EQ(r.head.err_domain, static_cast<uint8_t>(ErrDomain::Errno));
}

// A file for payload_file: "0123456789" repeated, `g_file_size` bytes long.
size_t g_file_size = 0;
size_t read_fake_file(int fd, int64_t offset, const Span* into, size_t n) {
  EXPECT_EQ(fd, 7);
  size_t got = 0;
  for (size_t i = 0; i < n; ++i)
    for (size_t k = 0; k < into[i].size && offset + got < g_file_size; ++k, ++got)
      static_cast<char*>(into[i].data)[k] = static_cast<char>('0' + (offset + got) % 10);
  return got;
}

std::string file_bytes(size_t from, size_t n) {
  std::string s;
  for (size_t i = from; i < from + n; ++i) s += static_cast<char>('0' + i % 10);
  return s;
}

TEST_F(CallTest, ReadsAFilePayloadIntoTheRingAcrossItsEnd) {
  // The ring's next record starts 100 bytes before its end, so the payload wraps.
  Slot& s = slots_of(region())[0];
  s.head.store(kGeometry.ring_bytes - 100);
  s.tail.store(kGeometry.ring_bytes - 100);
  g_file_size = 1 << 20;
  {
    Call c(FuncId::sendfile);
    c.done(5000, false);
    c.u64(FieldId::sock, 3);
    c.payload_file(read_fake_file, 7, 13, 5000);
  }
  const Record r = only();
  const std::string& p = r.args.at(FieldId::payload);
  ASSERT_EQ(p.size(), 8u + 1024u);  // the snap length
  uint64_t total = 0;
  std::memcpy(&total, p.data(), 8);
  EXPECT_EQ(total, 5000u);
  EXPECT_EQ(p.substr(8), file_bytes(13, 1024));
  EXPECT_EQ(r.args.count(FieldId::sock), 1u);
}

TEST_F(CallTest, KeepsWhatAShortFileHad) {
  // The file ends 5 bytes after the offset (truncated since the call): 5 bytes kept of 300.
  g_file_size = 45;
  {
    Call c(FuncId::sendfile);
    c.done(300, false);
    c.payload_file(read_fake_file, 7, 40, 300);
    c.u64(FieldId::len, 300);  // noted after: the payload stays the record's last bytes
  }
  const Record r = only();
  const std::string& p = r.args.at(FieldId::payload);
  ASSERT_EQ(p.size(), 8u + 5u);
  EXPECT_EQ(p.substr(8), file_bytes(40, 5));
  EXPECT_EQ(r.args.count(FieldId::len), 1u);
}

}  // namespace

// ---- The platform's side, as agent/call.h asks for it ----------------------------------------
RegionHeader* region() { return reinterpret_cast<RegionHeader*>(g_mem); }
const RingGeometry& geometry() { return kGeometry; }
void count_no_ring_record() {}
bool recording() { return true; }
int32_t claim_slot() { return 0; }
int32_t owned_slot() { return 0; }
bool is_pushing() { return g_pushing; }
void set_pushing(bool on) { g_pushing = on; }
uint32_t thread_id() { return 42; }
int64_t now_ns() { return g_clock += 1000; }
int last_error() { return g_error; }
void set_last_error(int e) { g_error = e; }
ErrDomain last_error_domain() { return ErrDomain::Errno; }
size_t safe_read(void* dst, const void* src, size_t n) {
  std::memcpy(dst, src, n);
  return n;
}

}  // namespace ws::agent
