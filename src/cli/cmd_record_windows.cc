#include <CLI/CLI.hpp>

#include "commands.h"
#include "common.h"

namespace ws::cli {

// Windows capture (launch suspended, inject the agent DLL) is not built yet: the command exists
// so that `wstrace.exe record` says so instead of "unknown command".
void add_record_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("record", "Run a program and trace its Winsock calls (not yet)");
  cmd->allow_extras();
  cmd->callback([&exit_code] {
    report("record is not available in the Windows build yet: capture on Windows is still being "
           "built; traces from Linux can be read with show and info");
    exit_code = kExitError;
  });
}

}  // namespace ws::cli
