// `wstrace record`: start a program with the agent inside it, drain the agent's rings into a
// trace file and the live view until every traced process has ended. One implementation per
// platform (linux/record_linux.cc, windows/record_windows.cc); what they share is in
// collector_core.h.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "event.h"
#include "trace_format.h"

namespace ws::capture {

struct RecordOptions {
  std::string output;             // trace file; empty: wstrace-YYYYmmdd-HHMMSS.wst
  uint32_t snaplen = 1024;        // payload bytes kept per call
  bool follow = true;             // trace child processes too
  std::vector<std::string> argv;  // the program and its arguments
  std::string agent_path;         // libwstrace-agent.so / wstrace-agent.dll
  // Called for every event in time order (the live view); may be empty.
  std::function<void(const Event&, const trace::TraceHeader&)> on_event;
  // Called with a warning that must be seen before the program runs (fewer or smaller rings);
  // when empty, the warning comes back with record()'s other warnings.
  std::function<void(const std::string&)> on_warning;
  uint32_t ring_bytes = 1u << 20;  // per thread
  uint32_t slots = 256;            // threads that can record at once
  bool redact = false;  // mask credentials in payloads before they are written (redact.h)
};

struct RecordSummary {
  std::string output;
  uint64_t processes = 0, calls = 0, errors = 0, connections = 0, dropped = 0;
  uint64_t lost = 0;              // tracing_lost events (which processes and why: in the trace)
  uint64_t dropped_by_reason[4] = {};  // indexed by DropReason (ring.h)
  uint32_t rings = 0;                  // rings the region was made with
  int exit_status = 0;            // the program's, as a shell reports it (128+signal if killed)
  std::string problem;            // set when recording itself went wrong (disk full …)
};

// Records until every traced process has ended. Errors before the program starts (not found,
// unreachable, cannot create the output) come back with the exit code to use.
struct RecordError {
  int exit_code = 0;
  std::string message;
};
RecordError record(const RecordOptions& opt, RecordSummary& summary, std::string& warning);

// Windows: loads the agent into running process `pid` and records from then on, until the
// process exits or the user presses Ctrl+C (then the agent goes quiet and the process runs on).
// `on_attached` is called once the agent is in.
RecordError attach(uint32_t pid, const RecordOptions& opt, RecordSummary& summary,
                   const std::function<void()>& on_attached);

}  // namespace ws::capture
