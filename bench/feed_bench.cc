// The live view's cost on the recording thread, without a program or a browser in the way:
// N synthetic send/recv events inspected as `record --ui` does (findings and HTTP watching on),
// without and with a LiveFeed subscribed (the lock taken per event, as record does), and then
// what a page's thread spends making parts of them, in CPU time. Prints figures; asserts nothing.
//   feed_bench [N]
#include <time.h>

#include <mutex>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "engine.h"
#include "inspector.h"
#include "live_feed.h"

namespace {

// This thread's CPU time (other programs on the machine count less than in wall time).
double cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

ws::inspect::InspectOptions as_record_ui() {
  ws::inspect::InspectOptions io;
  io.http = true;
  io.findings = ws::inspect::DiagnoseOptions{};
  return io;
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t n = argc > 1 ? std::stoull(argv[1]) : 1'000'000;
  auto engine = ws::make_synthetic_engine("bench:" + std::to_string(n), ws::Platform::Linux);
  if (!engine.ok()) return 1;
  std::vector<ws::Event> events;
  ws::Event ev;
  while (engine.value()->next(ev)) events.push_back(ev);

  double alone = 0;
  {
    ws::inspect::Inspector in(as_record_ui());
    std::mutex mu;
    const double t0 = cpu_seconds();
    for (const auto& e : events) {
      std::lock_guard lock(mu);
      in.observe(e);
    }
    alone = cpu_seconds() - t0;
  }
  ws::inspect::Inspector in(as_record_ui());
  ws::report::LiveFeed feed(in, engine.value()->header(), events.size());
  double t0 = cpu_seconds();
  for (const auto& e : events) {
    std::lock_guard lock(feed.mutex());
    in.observe(e);
  }
  const double with_feed = cpu_seconds() - t0;
  ws::report::FeedCursor at;
  size_t bytes = 0;
  t0 = cpu_seconds();
  for (bool first = true;; first = false) {
    const std::string part = feed.next_part(at, 20000, first);
    bytes += part.size();
    if (at.calls >= events.size()) break;
  }
  const double parts = cpu_seconds() - t0;
  const auto per = [&](double s) { return s / static_cast<double>(events.size()) * 1e9; };
  fmt::print("live feed, {} send/recv events inspected as record --ui does:\n", events.size());
  fmt::print("  recording thread without the feed {:>7.0f} ns/event\n", per(alone));
  fmt::print("  recording thread with the feed    {:>7.0f} ns/event (+{:.0f})\n", per(with_feed),
             per(with_feed) - per(alone));
  fmt::print("  page's thread making the parts     {:>7.0f} ns/event ({:.1f} MB of JSON)\n",
             per(parts), static_cast<double>(bytes) / 1e6);
  return 0;
}
