// The formats by name, and the one loop every export (and `show`) runs.
#include <array>

#include "exporter.h"

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
  inspect::InspectOptions io;
  io.filter = filter;
  io.http = exp.wants_http();
  if (exp.wants_findings()) io.findings = inspect::DiagnoseOptions{};
  inspect::Inspector inspector(std::move(io));
  if (Status s = exp.begin(engine.header(), inspector); !s.ok()) return s;
  inspector.subscribe(exp);
  if (Status s = inspector.run(engine, progress, [&exp] { return exp.problem(); }); !s.ok())
    return s;
  if (!exp.problem().ok()) return exp.problem();
  return exp.finish();
}

}  // namespace ws::exporter
