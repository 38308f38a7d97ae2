// wstrace: trace the socket API of programs and turn the calls into answers.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "build_id.h"
#include "cmd_errors.h"
#include "commands.h"
#include "common.h"

int main(int argc, char** argv) {
  CLI::App app{"wstrace: trace the socket API of a program and explain what it did"};
  app.set_version_flag("--version", fmt::format("wstrace {} (commit {})", ws::kVersion,
                                                ws::kCommit));
  app.require_subcommand(1);
  app.allow_windows_style_options(false);  // "/tmp/x.wst" is a path, not an option
  int exit_code = ws::cli::kExitOk;
  ws::cli::add_record_command(app, exit_code);
  ws::cli::add_attach_command(app, exit_code);
  ws::cli::add_show_command(app, exit_code);
  ws::cli::add_info_command(app, exit_code);
  ws::cli::add_stats_command(app, exit_code);
  ws::cli::add_conns_command(app, exit_code);
  ws::cli::add_replay_command(app, exit_code);
  ws::cli::add_dns_command(app, exit_code);
  ws::cli::add_http_command(app, exit_code);
  ws::cli::add_diagnose_command(app, exit_code);
  ws::cli::add_export_command(app, exit_code);
  ws::cli::add_report_command(app, exit_code);
  ws::cli::add_ui_command(app, exit_code);
  ws::cli::add_errors_command(app, exit_code);
  ws::cli::add_schema_command(app, exit_code);
  ws::cli::add_synth_command(app, exit_code);
  std::vector<std::string> args = ws::cli::utf8_args(argc, argv);
  std::vector<char*> arg_ptrs;
  for (auto& a : args) arg_ptrs.push_back(a.data());
  try {
    app.parse(static_cast<int>(arg_ptrs.size()), arg_ptrs.data());
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? ws::cli::kExitOk : ws::cli::kExitUsage;
  }
  return exit_code;
}
