// `wstrace ui FILE`: the live view of a saved trace, played back at the pace it was recorded
// (play, pause, speed, a time slider on the page): historical playback in the same view as
// `record --ui` (docs/report.md).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.h"
#include "common.h"
#include "live_server.h"
#include "older_calls.h"
#include "playback.h"

namespace ws::cli {
namespace {

struct UiCommandArgs {
  std::string file;
  uint16_t port = 0;
  bool open = false, show_secrets = false;
  size_t window = report::LiveFeed::kDefaultWindow;
};

int run_ui(const UiCommandArgs& a) {
  if (!open_trace(a.file, false, a.show_secrets)) return kExitError;  // (says why)
  if (a.open) prepare_browser();
  ui::Playback playback([&] { return open_trace(a.file, false, a.show_secrets); }, a.window);
  ui::ServeOptions so;
  so.port = a.port;
  so.control = [&](const std::string& op, const std::string& value) {
    return playback.control(op, value);
  };
  // The calls the page no longer holds, read again from the file.
  const ui::OlderCalls older([&] { return open_trace(a.file, false, a.show_secrets); });
  so.calls = [&](const std::string& query, const std::atomic<bool>& cancelled) {
    return older.answer(query, cancelled);
  };
  auto server = ui::start_live_server(playback.feed(), so);
  if (!server.ok()) {
    report(server.status().message());
    return kExitError;
  }
  playback.start();
  wait_for_interrupt([&] {
    fmt::print(stderr, "wstrace: playback of {} at {} (Ctrl+C ends it)\n", a.file,
               server.value()->url());
    std::fflush(stderr);
    if (a.open) open_in_browser(server.value()->url());
  });
  server.value()->stop();
  return kExitOk;
}

}  // namespace

void add_ui_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<UiCommandArgs>();
  auto* cmd = app.add_subcommand(
      "ui", "Play a trace back in the live view, in a browser (docs/report.md)");
  cmd->add_option("FILE", a->file, "trace file (.wst)")->required();
  cmd->add_option("--ui-port", a->port, "the port to serve on (default: a free one)");
  cmd->add_flag("--open", a->open, "open the page in the default browser");
  add_ui_window_option(*cmd, a->window);
  add_show_secrets_flag(*cmd, a->show_secrets);
  cmd->callback([a, &exit_code] { exit_code = run_ui(*a); });
}

}  // namespace ws::cli
