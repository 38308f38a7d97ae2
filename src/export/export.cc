// The formats by name, and the one loop every export (and `show`) runs.
#include <array>

#include "exporter.h"
#include "lookups.h"

namespace ws::exporter {

Result<std::unique_ptr<Exporter>> make_rows_exporter(Format f, const ExportOptions& opt);
Result<std::unique_ptr<Exporter>> make_sqlite_exporter(const ExportOptions& opt);
Result<std::unique_ptr<Exporter>> make_chrome_exporter(const ExportOptions& opt);

namespace {
constexpr std::array<std::pair<Format, std::string_view>, 6> kNames = {{
    {Format::Pcapng, "pcapng"},
    {Format::Csv, "csv"},
    {Format::Jsonl, "jsonl"},
    {Format::Text, "text"},
    {Format::Sqlite, "sqlite"},
    {Format::Chrome, "chrome"},
}};
}  // namespace

bool parse_format(std::string_view name, Format& out) {
  for (const auto& [f, n] : kNames)
    if (n == name) {
      out = f;
      return true;
    }
  return false;
}

std::string_view format_name(Format f) {
  for (const auto& [g, n] : kNames)
    if (g == f) return n;
  return "?";
}

Result<std::unique_ptr<Exporter>> make_exporter(Format f, const ExportOptions& opt) {
  switch (f) {
    case Format::Pcapng: return make_pcapng_exporter(opt);
    case Format::Csv:
    case Format::Jsonl:
    case Format::Text: return make_rows_exporter(f, opt);
    case Format::Sqlite: return make_sqlite_exporter(opt);
    case Format::Chrome: return make_chrome_exporter(opt);
  }
  return Status::error("unknown export format");
}

Status export_events(Engine& engine, const inspect::Filter& filter, Exporter& exp,
                     const std::function<void()>& progress) {
  if (Status s = exp.begin(engine.header()); !s.ok()) return s;
  inspect::Tracker tracker;
  tracker.on_end = [&exp](const inspect::Connection& c) { exp.connection_ended(c); };
  // The names behind addresses that DNS answers gave: the filter's `host` knows them, as in
  // the report.
  inspect::LookupWatcher lookups(tracker);
  Event ev;
  uint32_t n = 0;
  while (engine.next(ev)) {
    tracker.observe(ev);
    lookups.observe(ev);
    exp.observe(ev);
    if (filter.matches(ev, tracker)) {
      if (const inspect::Connection* c = tracker.connection()) c->marked = true;
      if (Status s = exp.add(ev, tracker); !s.ok()) return s;
    }
    if (progress && (++n & 4095) == 0) progress();
  }
  tracker.finish();
  return exp.finish(tracker);
}

}  // namespace ws::exporter
