// `wstrace errors [CODE|NAME...] [--json]`: explains error codes (errno, Winsock/Win32,
// getaddrinfo, h_errno) by name or number, or lists them all.
#pragma once

namespace CLI {
class App;
}

namespace ws::cli {

// Registers the `errors` subcommand; its callback sets exit_code (0, or 1 for an unknown code).
void add_errors_command(CLI::App& app, int& exit_code);

}  // namespace ws::cli
