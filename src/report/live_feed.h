// The live view's data: one more subscriber of an inspection (record's, or `ui`'s playback of a
// file) that gathers what the report shows, and hands each page the part it has not seen yet,
// as report.js reads it (report_html.h's JsonPart). The recording never waits for a page: the
// feed keeps a window of the latest calls, and a page that fell behind the window is told how
// many calls it skipped (the trace file keeps them all).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "inspector.h"
#include "report_data.h"
#include "trace_format.h"

namespace ws::report {

// How far a page got: the calls it was sent or skipped (counted from the first call of the
// run), the ended connections, lookups, exchanges, TLS hellos and interned table rows it has.
struct FeedCursor {
  uint64_t calls = 0;
  size_t ended = 0, lookups = 0, http = 0, tls = 0, strings = 0, errors = 0, facts = 0;
  uint64_t version = 0;  // the feed's version when the page was last sent a part

  // "calls,ended,lookups,http,tls,strings,errors,facts" as a page sends it back when it resumes;
  // false (and the cursor left at the start) when it is not that.
  bool parse(const std::string& text);
  std::string text() const;
};

class LiveFeed final : public inspect::Subscriber {
 public:
  // Follows `inspection` (subscribes itself); `header` is the trace's, read when a part is made.
  // `window`: the calls kept for pages that fall behind.
  LiveFeed(inspect::Inspector& inspection, const trace::TraceHeader& header,
           size_t window = 200000);

  // The lock the inspection must hold while it observes an event (the subscriber calls come
  // then) and that parts are made under.
  std::mutex& mutex() { return mu_; }
  // Tells waiting pages that events came (call after observing some, the lock released).
  void notify();
  // The run is over (the inspection finished): the findings are final. Locks.
  void set_over();

  // Waits up to `wait` for something `at` has not seen (calls it was not sent included); true
  // when there is. Locks.
  bool wait_news(const FeedCursor& at, std::chrono::milliseconds wait);
  // The JSON of what `at` has not seen, at most `max_calls` calls of it, and moves `at` on.
  // `statics`: with the tables that never change (a page's first part). Locks.
  std::string next_part(FeedCursor& at, size_t max_calls, bool statics);
  bool over();
  // Starts again from nothing, following `inspection` (a fresh one: `wstrace ui` seeking back);
  // pages must start again too (live_extra tells them). Call with the lock held, then notify().
  void restart(inspect::Inspector& inspection);
  // More of the parts' "live" object, as JSON members after a comma (`wstrace ui`'s playback
  // state); called with the feed's lock held.
  std::function<std::string()> live_extra;

  void on_event(const inspect::Facts& f) override;
  void on_connection_end(const inspect::Connection& c) override { builder_.on_connection_end(c); }
  void on_lookup(const inspect::Lookup& l) override { builder_.on_lookup(l); }
  void on_exchange(const inspect::HttpExchange& x) override { builder_.on_exchange(x); }
  void on_tls(const inspect::TlsInfo& t) override { builder_.on_tls(t); }
  void on_finish() override {}

 private:
  ReportData part_of(FeedCursor& at, size_t max_calls, uint64_t& skipped);

  inspect::Inspector* in_;
  const trace::TraceHeader& header_;
  ReportBuilder builder_;
  size_t window_;
  uint64_t forgotten_ = 0;  // calls dropped off the window's front
  uint64_t version_ = 0;    // bumped at every event
  bool over_ = false;
  std::mutex mu_;
  std::condition_variable news_;
};

}  // namespace ws::report
