// The live view's data: one more subscriber of an inspection (record's, or `ui`'s playback of a
// file) that gathers what the report shows, and hands each page the part it has not seen yet,
// as report.js reads it (report_html.h's JsonPart). The recording never waits for a page: the
// feed keeps a window of the latest calls, and a page that fell behind the window is told how
// many calls it skipped (the trace file keeps them all). The recording side only copies each
// call onto a CallTape; the rows (argument texts, interned strings) are made on a page's thread
// when it asks for a part, off the recording's lock.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "call_tape.h"
#include "inspector.h"
#include "report_data.h"
#include "trace_format.h"

namespace ws::report {

// How far a page got: the calls it was sent or skipped (counted from the first call of the
// run), the ended connections, lookups, exchanges, TLS hellos and interned table rows it has.
struct FeedCursor {
  uint64_t calls = 0;
  size_t ended = 0, lookups = 0, http = 0, tls = 0, strings = 0, errors = 0, facts = 0;
  uint64_t texts = 0;    // the generation of the string and facts tables it has
  uint64_t version = 0;  // the feed's version when the page was last sent a part
  static constexpr uint64_t kUnseen = UINT64_MAX;  // a version the feed never has

  // "calls,ended,lookups,http,tls,strings,errors,facts[,texts]" as a page sends it back when it
  // resumes; false (and the cursor left at the start) when it is not that.
  bool parse(const std::string& text);
  std::string text() const;
};

class LiveFeed final : public inspect::Subscriber {
 public:
  static constexpr size_t kDefaultWindow = 200000;  // (--ui-window)
  // Follows `inspection` (subscribes itself); `header` is the trace's, read when a part is made.
  // `window`: the calls kept for pages that fall behind; `rows`: the ended connections, lookups,
  // HTTP exchanges and TLS hellos kept of each (a page holds fewer: report.js's ROWS).
  LiveFeed(inspect::Inspector& inspection, const trace::TraceHeader& header,
           size_t window = kDefaultWindow, size_t rows = 50000);

  // The lock the inspection must hold while it observes an event (the subscriber calls come
  // then). Pages take it for a moment per part: to take the calls that came and copy the state.
  std::mutex& mutex() { return mu_; }
  // Tells waiting pages that events came (call after observing some, the lock released).
  void notify();
  // The run is over (the inspection finished): the findings are final. Locks.
  void set_over();

  // Waits up to `wait` for something `at` has not seen; true when there is. Locks.
  bool wait_news(const FeedCursor& at, std::chrono::milliseconds wait);
  // The JSON of what `at` has not seen, at most `max_calls` calls of it, and moves `at` on.
  // `statics`: with the tables that never change (a page's first part). Locks; formats the
  // calls that came since the last part (on the caller's thread, the recording going on).
  std::string next_part(FeedCursor& at, size_t max_calls, bool statics);
  bool over();
  // Starts again from nothing, following `inspection` (a fresh one: `wstrace ui` seeking back),
  // and runs `meanwhile` under the feed's locks (no part is made in between); pages must start
  // again too (live_extra tells them). Locks.
  void restart(inspect::Inspector& inspection, const std::function<void()>& meanwhile);
  // More of the parts' "live" object, as JSON members after a comma (`wstrace ui`'s playback
  // state); called with the feed's lock held.
  std::function<std::string()> live_extra;

  // The calls the feed holds (formatted or not) and the bytes they take.
  struct Held {
    uint64_t calls = 0;
    size_t tape_bytes = 0;
    size_t texts = 0;  // rows of the string and facts tables
  };
  Held held();

  void on_event(const inspect::Facts& f) override;
  // (each a row of a table that keeps a window: keep_rows())
  void on_connection_end(const inspect::Connection& c) override {
    builder_.on_connection_end(c), keep_rows();
  }
  void on_lookup(const inspect::Lookup& l) override { builder_.on_lookup(l), keep_rows(); }
  void on_exchange(const inspect::HttpExchange& x) override { builder_.on_exchange(x), keep_rows(); }
  void on_tls(const inspect::TlsInfo& t) override { builder_.on_tls(t), keep_rows(); }
  void on_finish() override {}

 private:
  // (with mu_) The rows' window: half of it forgotten at a time, so that the tables move rarely.
  void keep_rows() {
    const ReportData& d = builder_.data();
    if (std::max({d.conns.size(), d.lookups.size(), d.http.size(), d.tls.size()}) > rows_window_)
      builder_.forget_rows(rows_window_ / 2, gone_);
  }
  // (with mu_) What the recording side holds that `at` has not seen, into `p`.
  void state_of(FeedCursor& at, ReportData& p);
  // (with rows_mu_) Formats the calls of `tape` into rows_, keeping a window of them.
  void format(const CallTape& tape);
  // (with rows_mu_) At most `max_calls` of the calls `at` has not had, into `p`.
  void calls_of(FeedCursor& at, size_t max_calls, ReportData& p, uint64_t& skipped);

  inspect::Inspector* in_;
  const trace::TraceHeader& header_;
  size_t window_, rows_window_;
  ReportBuilder::Gone gone_;  // (with mu_) the rows forgotten from the front of each table
  // The recording side, under mu_: the builder (summary, tables, connections…) and the calls
  // that came since a page last took them.
  std::mutex mu_;
  ReportBuilder builder_;
  CallTape tape_;
  uint64_t version_ = 0;  // bumped at every event
  bool over_ = false;
  std::condition_variable news_;
  // The pages' side, under rows_mu_ (taken before mu_): the window of formatted calls, the
  // strings and facts tables they point into.
  std::mutex rows_mu_;
  ReportData rows_;
  CallRows call_rows_;
  uint64_t forgotten_ = 0;  // the number of rows_'s first call (the calls before it are gone)
  // The string and facts tables start again (CallRows::compact) when they hold more than twice
  // the window's calls: pages get them whole, and renumber what they hold (report.js).
  uint64_t texts_ = 0;
};

}  // namespace ws::report
