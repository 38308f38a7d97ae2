// The live view's calls that its page no longer holds (`GET /calls`): read again from the trace
// file — the one record is writing, or the one `wstrace ui` plays — through an inspection of
// their own, kept when they pass wstrace's filter (the page's filter box, evaluated as every
// command evaluates it), and written as the JSON the page already reads (report_json's calls
// and tables, "live" saying what the answer is).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

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
  // server's scan threads); `base_filter`: the filter the page's calls passed already (record -f), "" = none.
  OlderCalls(std::function<std::unique_ptr<Engine>()> open, std::string base_filter = "");

  // The answer to `query` (a URL's query): report_json with the calls found and their tables,
  // and as "live" {"older":{"before":N,"after":bool,"count":…,"first":seq,"last":seq}}: N calls
  // of the trace passing the filter come before the first one given; `after`: the search stopped
  // at `count` calls (more may come after the last one given; with `before` it is false). A bad query or filter, or a trace that cannot
  // be read: {"error":"…"}.
  // Reads the trace once, from its start (the filter's facts need the tracker's state from
  // there), up to `before` or until `count` calls from `from`; copies the calls passing from
  // `from` on as they come and formats only those answered. Safe to call from several threads
  // at once. Once `cancelled` is set, stops within a few thousand events: {"error":"cancelled…"}.
  std::string answer(const std::string& query, const std::atomic<bool>& cancelled) const;
  std::string answer(const std::string& query) const;  // (never cancelled)

 private:
  std::function<std::unique_ptr<Engine>()> open_;
  std::string base_filter_;
};

}  // namespace ws::ui
