// Each command registers itself on the command line; `exit_code` receives its result.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "findings/finding.h"
#include "lost_tracing.h"
#include "trace_format.h"

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
void add_ui_command(CLI::App& app, int& exit_code);

// Findings as `diagnose` prints them, after a title line that names the trace file `path`;
// nothing when there are none (record's summary). `first_ts`: the time of the first event.
void print_findings(const std::vector<inspect::Finding>& findings, int64_t first_ts,
                    const std::string& path, std::FILE* out);
// One line per process whose tracing was lost: which, from when, why (record's summary).
// `first`: the time of the first event.
void print_lost_tracing(const inspect::LostTracing& lost, const trace::TraceHeader& h,
                        int64_t first, std::FILE* out);

}  // namespace ws::cli
