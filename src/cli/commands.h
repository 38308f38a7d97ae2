// Each command registers itself on the command line; `exit_code` receives its result.
#pragma once

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

}  // namespace ws::cli
