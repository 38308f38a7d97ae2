// Each command registers itself on the command line; `exit_code` receives its result.
#pragma once

#include <cstdio>
#include <string>

namespace CLI {
class App;
}

namespace ws::cli {

void add_show_command(CLI::App& app, int& exit_code);
void add_info_command(CLI::App& app, int& exit_code);
void add_stats_command(CLI::App& app, int& exit_code);
void add_conns_command(CLI::App& app, int& exit_code);
void add_replay_command(CLI::App& app, int& exit_code);
void add_dns_command(CLI::App& app, int& exit_code);
void add_http_command(CLI::App& app, int& exit_code);
void add_synth_command(CLI::App& app, int& exit_code);
void add_schema_command(CLI::App& app, int& exit_code);
void add_record_command(CLI::App& app, int& exit_code);
void add_attach_command(CLI::App& app, int& exit_code);
void add_diagnose_command(CLI::App& app, int& exit_code);
void add_export_command(CLI::App& app, int& exit_code);
void add_report_command(CLI::App& app, int& exit_code);

// The findings of a trace file as `diagnose` prints them, after a title line; nothing when there
// are none or the file cannot be read (record's summary).
void print_findings_of(const std::string& path, std::FILE* out);
// One line per process whose tracing the trace file says was lost: which, from when, why
// (record's summary).
void print_lost_tracing_of(const std::string& path, std::FILE* out);

}  // namespace ws::cli
