// `wstrace export`: a trace in another format — pcapng, csv, jsonl, text, sqlite, chrome
// (docs/export.md) — with a progress bar on a terminal when it takes more than a moment.
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.h"
#include "common.h"
#include "exporter.h"

namespace ws::cli {
namespace {

struct ExportArgs {
  std::string file, format, out, filter;
  bool hex = false, utc = false, relative = false, show_secrets = false;
};

// A trace file as an engine that also says how far it has read (for the progress bar).
class CountingEngine final : public Engine {
 public:
  explicit CountingEngine(std::unique_ptr<trace::TraceReader> r) : reader_(std::move(r)) {}
  const trace::TraceHeader& header() const override { return reader_->header(); }
  bool next(Event& ev) override { return reader_->next(ev); }
  const trace::ReadProblem& end() const override { return reader_->problem(); }
  uint64_t offset() const { return reader_->offset(); }

 private:
  std::unique_ptr<trace::TraceReader> reader_;
};

// "wstrace: export  42%  112.0 of 267.5 MiB  85.3 MiB/s" on stderr, redrawn in place. Shown on
// a terminal once the export has run for half a second; WSTRACE_PROGRESS=1 shows it at once
// wherever stderr goes, WSTRACE_PROGRESS=0 never.
class ProgressBar {
 public:
  using Clock = std::chrono::steady_clock;
  explicit ProgressBar(uint64_t total) : total_(total), start_(Clock::now()) {
    const char* env = std::getenv("WSTRACE_PROGRESS");
    const std::string_view force = env ? env : "";
    forced_ = force == "1";
    enabled_ = forced_ || (force != "0" && stderr_is_terminal());
  }

  void update(uint64_t done) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (!shown_ && !forced_ && now - start_ < std::chrono::milliseconds(500)) return;
    if (shown_ && now - drawn_ < std::chrono::milliseconds(100)) return;
    draw(done, now);
  }

  // The last state (100% when the whole file was read) and the end of the line.
  void end(uint64_t done) {
    if (!shown_) return;
    draw(done, Clock::now());
    fmt::print(stderr, "\n");
  }

 private:
  void draw(uint64_t done, Clock::time_point now) {
    constexpr double kMiB = 1024.0 * 1024.0;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double pct = total_ ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 100.0;
    fmt::print(stderr, "\rwstrace: export {:3.0f}%  {:.1f} of {:.1f} MiB  {:.1f} MiB/s   ", pct,
               static_cast<double>(done) / kMiB, static_cast<double>(total_) / kMiB,
               secs > 0 ? static_cast<double>(done) / kMiB / secs : 0.0);
    std::fflush(stderr);
    shown_ = true;
    drawn_ = now;
  }

  uint64_t total_;
  Clock::time_point start_, drawn_;
  bool enabled_ = false, forced_ = false, shown_ = false;
};

int run_export(const ExportArgs& a) {
  exporter::Format format;
  if (!exporter::parse_format(a.format, format)) {
    report(fmt::format("unknown format '{}': pcapng, csv, jsonl, text, sqlite or chrome",
                       a.format));
    return kExitUsage;
  }
  inspect::Filter filter;
  if (!parse_filter(a.filter, filter)) return kExitUsage;
  auto reader = trace::TraceReader::open(a.file);
  if (!reader.ok()) {
    report(reader.status().message());
    return kExitError;
  }
  auto counting = std::make_unique<CountingEngine>(std::move(reader.value()));
  const CountingEngine& read = *counting;
  std::unique_ptr<Engine> owner = std::move(counting);
  if (!a.show_secrets) owner = mask_secrets(std::move(owner));
  Engine& engine = *owner;
  exporter::ExportOptions opt;
  opt.out_path = a.out;
  opt.text.hex = a.hex;
  opt.text.time = a.relative ? present::TimeMode::Relative : present::TimeMode::Utc;
  auto exp = exporter::make_exporter(format, opt);
  if (!exp.ok()) {
    report(exp.status().message());
    return kExitError;
  }
  std::error_code ec;
  // (a path of UTF-8 bytes on every platform: as the readers open it)
  const uint64_t size =
      std::filesystem::file_size(std::filesystem::path(std::u8string(a.file.begin(), a.file.end())), ec);
  ProgressBar bar(ec ? 0 : size);
  const Status s = exporter::export_events(engine, filter, *exp.value(),
                                           [&] { bar.update(read.offset()); });
  bar.end(read.offset());
  if (!s.ok()) {
    report(s.message());
    return kExitError;
  }
  return finish(engine);
}

}  // namespace

void add_export_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<ExportArgs>();
  auto* cmd = app.add_subcommand(
      "export", "Write a trace as pcapng, CSV, JSON Lines, text, SQLite or a Chrome trace "
                "(docs/export.md)");
  cmd->add_option("FILE", a->file, "trace file (.wst)")->required();
  cmd->add_option("--format", a->format, "pcapng, csv, jsonl, text, sqlite or chrome")
      ->required();
  cmd->add_option("-o,--output", a->out,
                  "the file written (complete only when export succeeds; - for standard output "
                  "with the text formats)")
      ->required();
  cmd->add_option("--filter", a->filter,
                  "only the calls that match, e.g. 'rport == 443' (docs/filters.md)");
  cmd->add_flag("-x,--hex", a->hex, "text: a hex+ASCII dump of each payload, as show -x");
  auto* utc = cmd->add_flag("--utc", a->utc, "text: wall-clock times in UTC (the default)");
  cmd->add_flag("--relative", a->relative, "text: seconds since the first call")->excludes(utc);
  add_show_secrets_flag(*cmd, a->show_secrets);
  cmd->callback([a, &exit_code] { exit_code = run_export(*a); });
}

}  // namespace ws::cli
