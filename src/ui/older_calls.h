// The live view's calls that its page no longer holds (`GET /calls`): read again from the trace
// file — the one record is writing, or the one `wstrace ui` plays — through an inspection of
// their own, kept when they pass wstrace's filter (the page's filter box, evaluated as every
// command evaluates it), and written as the JSON the page already reads (report_json's calls
// and tables, "live" saying what the answer is).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine.h"
#include "status.h"

namespace ws::ui {

// What a page asks for: `count` calls that pass `filter`, with seq in [from, before); the last
// `count` of them when `before` is given, else the first.
struct CallsQuery {
  uint64_t from = 0;
  std::optional<uint64_t> before;
  size_t count = 1000;
  std::string filter;

  static constexpr size_t kMaxCount = 200000;
  // Parses a URL's query ("from=…&before=…&count=…&filter=…", percent-encoded; other names such
  // as the token ignored). An error names the bad parameter.
  static Result<CallsQuery> parse(const std::string& query);
};

class OlderCalls {
 public:
  // `open` gives the trace's events from the start (called once for every query, from the
  // server's scan threads); `base_filter`: the filter the page's calls passed already (record
  // -f), "" = none; `mark_step`: how far apart the marks are (below).
  OlderCalls(std::function<std::unique_ptr<Engine>()> open, std::string base_filter = "",
             uint32_t mark_step = 1024);
  ~OlderCalls();

  // The answer to `query` (a URL's query): report_json with the calls found and their tables,
  // and as "live" {"older":{"before":N,"after":bool,"count":…,"first":seq,"last":seq,"end":seq}}:
  // N calls of the trace passing the filter come before the first one given; `after`: the
  // search stopped at `count` calls (more may come after the last one given; with `before` it
  // is false); every event of the trace before seq `end` was read (the trace ends there, or
  // `before` or the last call given does). A bad query or filter, or a trace that cannot be
  // read: {"error":"…"}.
  // Reads the trace once, from its start (the filter's facts need the tracker's state from
  // there), up to `before` or until `count` calls from `from`. For the last calls before a seq,
  // copies the calls passing as they come, keeps the last `count` and formats only those; an
  // earlier query with the same filter left marks (the seq of every `mark_step`-th call
  // passing, kept for the last 8 filters asked), and the calls more than `count` before the
  // mark below `before` are then not even copied. Safe to call from several threads
  // at once. Once `cancelled` is set, stops within a few thousand events: {"error":"cancelled…"}.
  std::string answer(const std::string& query, const std::atomic<bool>& cancelled) const;
  std::string answer(const std::string& query) const;  // (never cancelled)

 private:
  // Where the calls passing a filter are: the seq of every mark_step_-th of them from the
  // trace's first call, as one scan found them, with every event before `covered` read.
  struct Marks {
    std::vector<uint64_t> seqs;
    uint64_t covered = 0;
  };
  struct Remembered {
    std::shared_ptr<const Marks> marks;
    uint64_t used = 0;
  };
  static constexpr size_t kMarkedFilters = 8;
  std::shared_ptr<const Marks> marks_of(const std::string& filter) const;
  // Keeps the marks of a scan with `filter` unless those kept cover more.
  void remember(const std::string& filter, Marks marks) const;

  std::function<std::unique_ptr<Engine>()> open_;
  std::string base_filter_;
  uint32_t mark_step_;
  mutable std::mutex mu_;
  mutable std::map<std::string, Remembered> marks_;  // by filter text
  mutable uint64_t uses_ = 0;
};

}  // namespace ws::ui
