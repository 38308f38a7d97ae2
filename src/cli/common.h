// What the commands share: exit codes, the one way to report a problem, opening a trace.
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine.h"
#include "filter.h"
#include "view.h"

namespace CLI {
class App;
}

namespace ws::cli {

// Exit codes of every command (docs/cli.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;       // bad input, missing file, cannot write
inline constexpr int kExitUsage = 2;       // the command line itself is wrong
inline constexpr int kExitIncomplete = 3;  // the trace was read up to damage or a missing end

// Prints "wstrace: <message>" on stderr.
void report(const std::string& message);

// Prints one line of a text view and a newline, its control characters shown escaped
// (present::printable): names, paths and headers come from the traced program.
void print_line(std::FILE* out, std::string_view line);


// Opens a trace file as an engine, or reports why not (nullptr). Credentials in payloads come
// masked (mask_secrets in engine.h) unless `show_secrets`.
std::unique_ptr<Engine> open_trace(const std::string& path, bool follow = false,
                                   bool show_secrets = false);
// The --show-secrets flag of the commands that print payloads or HTTP headers.
void add_show_secrets_flag(CLI::App& cmd, bool& show);
// The --ui-window option of the commands that serve the live view (record, attach, ui).
void add_ui_window_option(CLI::App& cmd, size_t& window);

// The local time zone's offset from UTC now, in nanoseconds (common_posix.cc, common_windows.cc).
int64_t local_utc_offset_ns();

// Where the capture agent is: libwstrace-agent.so in ../lib beside bin/wstrace (or beside
// wstrace) on Linux, wstrace-agent.dll beside wstrace.exe on Windows; found from the running
// program's own path, so a copy unpacked anywhere finds its own. UTF-8.
std::string agent_path();
// The command line, UTF-8 (Windows: read from the system as UTF-16, so that paths outside the
// ANSI code page survive; elsewhere argv as it is).
std::vector<std::string> utf8_args(int argc, char** argv);
bool stderr_is_terminal();
bool stdout_is_terminal();
// --open: prepare_browser() before wstrace starts a program; open_in_browser() then starts the
// default browser on `url` (xdg-open; Windows: ShellExecute), not waiting for it, and says so
// when it cannot. On Linux the browser is started by a process that prepare_browser() detached
// from wstrace: never a child of record's, which would wait for it or take its exit for one of
// the program's processes (record is their subreaper), nor in the terminal's Ctrl+C.
void prepare_browser();
void open_in_browser(const std::string& url);
// Calls `armed` once Ctrl+C (Linux: SIGINT or SIGTERM; Windows: a console control event) no
// longer ends wstrace, then returns when the user presses it: what `armed` prints may invite it.
void wait_for_interrupt(const std::function<void()>& armed);

// Parses --filter (empty = match all); reports a bad expression (with its caret line) and
// returns false.
bool parse_filter(const std::string& text, inspect::Filter& out);

// The lines of show, replay and record's live view: a tracker follows every event (so that the
// filter's proc/conn/host fields and the line's process name and connection id are known),
// the filter picks, present formats.
// After an engine ran dry: reports an incomplete trace and returns the exit code it implies.
int finish(const Engine& engine);

}  // namespace ws::cli
