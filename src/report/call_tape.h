// The live view's calls as the inspection hands them over, kept compact until a page asks for
// them: each call's CallHead, its event's fields and the filter's facts about it, copied into
// byte chunks. The recording side only copies (no formatting, no interning); CallRows formats
// the calls later, on a page's thread, into exactly the rows the report makes of them.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <string>

#include "event.h"
#include "filter.h"
#include "report_data.h"

namespace ws::report {

class CallTape {
 public:
  // `chunk_calls`: the calls of a chunk (the steps drop_front() drops by).
  explicit CallTape(uint32_t chunk_calls = 4096) : chunk_calls_(std::max<uint32_t>(chunk_calls, 1)) {}
  // Copies the call (its payload cut to `payload_cap` bytes, its original length kept).
  void append(const CallHead& head, const Event& ev, const inspect::FilterFacts& facts,
              uint32_t payload_cap);
  // The calls held, and the number (from the run's first call, 0) of the first of them and of
  // the next one to come.
  uint64_t size() const { return end_ - begin_; }
  uint64_t begin() const { return begin_; }
  uint64_t end() const { return end_; }
  // Drops the oldest calls, whole chunks of them, until at most `keep` stay.
  void drop_front(uint64_t keep);
  // Hands over every call held; this tape goes on numbering from where it was.
  CallTape take();
  // The bytes held (what the tape costs in memory, roughly).
  size_t bytes() const;
  // Calls fn(head, ev, facts) for each call held, in order: the event's values and the facts'
  // addresses and texts point into the tape (valid during the call only).
  template <typename F>
  void replay(F&& fn) const {
    for (const Chunk& c : chunks_) {
      size_t at = 0;
      for (uint32_t i = 0; i < c.calls; ++i) {
        Replayed r;
        at = read(c.bytes, at, r);
        fn(r.head, r.ev, r.facts);
      }
    }
  }

 private:
  struct Chunk {
    std::string bytes;
    uint32_t calls = 0;
  };
  struct Replayed {
    CallHead head;
    Event ev;
    inspect::FilterFacts facts;
    SockAddr local, remote;
  };
  // Reads the call at `at` into `r`; the offset of the next one.
  static size_t read(const std::string& bytes, size_t at, Replayed& r);

  uint32_t chunk_calls_;
  std::deque<Chunk> chunks_;
  uint64_t begin_ = 0, end_ = 0;
};

}  // namespace ws::report
