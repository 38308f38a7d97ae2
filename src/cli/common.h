// What the commands share: exit codes, the one way to report a problem, opening a trace.
#pragma once

#include <memory>
#include <string>

#include "engine.h"

namespace ws::cli {

// Exit codes of every command (docs/cli.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;       // bad input, missing file, cannot write
inline constexpr int kExitUsage = 2;       // the command line itself is wrong
inline constexpr int kExitIncomplete = 3;  // the trace was read up to damage or a missing end

// Prints "wstrace: <message>" on stderr.
void report(const std::string& message);

// Opens a trace file as an engine, or reports why not (nullptr).
std::unique_ptr<Engine> open_trace(const std::string& path, bool follow = false);

// The local time zone's offset from UTC now, in nanoseconds (common_posix.cc, common_windows.cc).
int64_t local_utc_offset_ns();

// Where the capture agent is: libwstrace-agent.so in ../lib beside bin/wstrace on Linux,
// wstrace-agent.dll beside wstrace.exe on Windows.
std::string agent_path();
bool stderr_is_terminal();

// After an engine ran dry: reports an incomplete trace and returns the exit code it implies.
int finish(const Engine& engine);

}  // namespace ws::cli
