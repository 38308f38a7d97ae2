// Trace file throughput: writing and reading payload-less events, and the bytes they take.
// Prints figures beside the goals of the foundation issue; it asserts nothing.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "engine.h"
#include "reader.h"
#include "writer.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t n = argc > 1 ? std::stoull(argv[1]) : 10'000'000;
  const std::string path = (std::filesystem::temp_directory_path() / "wstrace-bench.wst").string();

  // Events are generated before timing, so the write figure is the writer alone.
  auto engine = ws::make_synthetic_engine("bench:" + std::to_string(n), ws::Platform::Linux);
  std::vector<ws::Event> events;
  events.reserve(static_cast<size_t>(n));
  ws::Event ev;
  while (engine.value()->next(ev)) events.push_back(ev);

  auto writer = ws::trace::TraceWriter::create(path, engine.value()->header());
  if (!writer.ok()) {
    fmt::print(stderr, "bench: {}\n", writer.status().message());
    return 1;
  }
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& e : events) {
    if (!writer.value()->write(e).ok()) return 1;
  }
  if (!writer.value()->close(0).ok()) return 1;
  double wsec = seconds_since(t0);
  uint64_t bytes = writer.value()->bytes_written();
  writer.value().reset();

  auto reader = ws::trace::TraceReader::open(path);
  if (!reader.ok()) return 1;
  uint64_t got = 0, checksum = 0;
  t0 = std::chrono::steady_clock::now();
  while (reader.value()->next(ev)) {
    ++got;
    checksum += static_cast<uint64_t>(ev.result);
  }
  double rsec = seconds_since(t0);
  std::filesystem::remove(path);

  fmt::print("trace file, {} payload-less send/recv events (checksum {})\n", n, checksum);
  fmt::print("  write  {:>8.2f} M events/s   (goal >= 5)   {:.0f} MB/s\n", static_cast<double>(n) / wsec / 1e6,
             static_cast<double>(bytes) / wsec / 1e6);
  fmt::print("  read   {:>8.2f} M events/s   (goal >= 10)  {:.0f} MB/s\n", static_cast<double>(got) / rsec / 1e6,
             static_cast<double>(bytes) / rsec / 1e6);
  fmt::print("  size   {:>8.2f} bytes/event    (goal <= 32)\n",
             static_cast<double>(bytes) / static_cast<double>(n));
  return got == n ? 0 : 1;
}
