// `wstrace replay`: the live lines of a saved trace, paced with their original timing —
// historical playback of what `record` showed (or would have shown) as it happened.
#include <chrono>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.h"
#include "common.h"
#include "notes.h"

namespace ws::cli {
namespace {

struct ReplayOptions {
  std::string file, filter;
  double speed = 1.0;
  bool json = false, utc = false, relative = false, show_secrets = false;
};

int run_replay(const ReplayOptions& o) {
  if (!(o.speed >= 0.0) || o.speed > 1e9) {
    report(fmt::format("--speed takes a factor >= 0 (0 = no waiting), not {}", o.speed));
    return kExitUsage;
  }
  inspect::InspectOptions io;
  if (!parse_filter(o.filter, io.filter)) return kExitUsage;
  auto engine = open_trace(o.file, false, o.show_secrets);
  if (!engine) return kExitError;
  const auto& h = engine->header();
  present::TextOptions text;
  text.time = o.relative ? present::TimeMode::Relative
              : o.utc    ? present::TimeMode::Utc
                         : present::TimeMode::Local;
  text.utc_offset_ns = local_utc_offset_ns();
  text.color = stdout_is_terminal();
  inspect::Inspector inspector(std::move(io));
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  std::string name;
  inspect::Callbacks cb;
  cb.event = [&](const inspect::Facts& f) {
    if (!f.matched) return;
    const Event& ev = f.ev;
    const int64_t first_ts = inspector.first_ts();
    if (o.speed > 0.0 && ev.ts > first_ts) {
      const double due_ns = static_cast<double>(ev.ts - first_ts) / o.speed;
      const auto due = start + std::chrono::nanoseconds(static_cast<int64_t>(due_ns));
      if (due > Clock::now()) {
        std::fflush(stdout);  // what is due now is seen before the wait
        std::this_thread::sleep_until(due);
      }
    }
    const present::LineNotes notes = present::line_notes(f, name);
    if (o.json) fmt::print("{}\n", present::json_line(ev, h, notes));
    else fmt::print("{}\n", present::event_line(ev, h, text, first_ts, notes));
  };
  inspector.subscribe(cb);
  inspector.run(*engine);
  return finish(*engine);
}

}  // namespace

void add_replay_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ReplayOptions>();
  auto* cmd = app.add_subcommand(
      "replay", "Play a saved trace back as live lines, with its original timing");
  cmd->add_option("FILE", o->file, "trace file (.wst)")->required();
  cmd->add_option("--speed", o->speed,
                  "how much faster than recorded (default 1; 10 = ten times faster; 0 = no "
                  "waiting)");
  cmd->add_option("--filter", o->filter, "only the calls that match (docs/filters.md)");
  cmd->add_flag("--json", o->json, "JSON Lines, as show --json");
  auto* utc = cmd->add_flag("--utc", o->utc, "wall-clock times in UTC (default: local time)");
  cmd->add_flag("--relative", o->relative, "seconds since the first call")->excludes(utc);
  add_show_secrets_flag(*cmd, o->show_secrets);
  cmd->callback([o, &exit_code] { exit_code = run_replay(*o); });
}

}  // namespace ws::cli
