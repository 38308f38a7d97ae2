// `wstrace record` and `attach`: a live capture is an engine (engine.h) whose events come from
// a running program. Its collector drains the agent's rings into a trace file, and next() hands
// back each event written, in the file's order, until every traced process has ended. Engines
// are chosen by name at run time (live_engines.cc); each platform's engines are in its folder
// (linux/record_linux.cc, windows/record_windows.cc), what they share in collector_core.h and
// live_capture.h.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine.h"
#include "event.h"
#include "trace_format.h"

namespace ws::capture {

struct RecordOptions {
  std::string output;             // trace file; empty: wstrace-YYYYmmdd-HHMMSS.wst
  uint32_t snaplen = 1024;        // payload bytes kept per call
  bool follow = true;             // trace child processes too
  std::vector<std::string> argv;  // the program and its arguments
  std::string agent_path;         // libwstrace-agent.so / wstrace-agent.dll
  // Called with a warning that must be seen before the program runs (fewer or smaller rings);
  // when empty, the warning comes back with record()'s other warnings.
  std::function<void(const std::string&)> on_warning;
  // Called with a line to show before the program runs (which engine `auto` chose, and why).
  std::function<void(const std::string&)> on_note;
  uint32_t ring_bytes = 1u << 20;  // per thread
  uint32_t slots = 256;            // threads that can record at once
  bool redact = false;  // mask credentials in payloads before they are written (redact.h)
  // TCP statistics read by the agents (RegionHeader::tcp_info_ms): 0 never, kTcpInfoEnds only
  // when a connection is set up and ends, else also every so many ms at a send or receive.
  uint32_t tcp_info_ms = 1000;
  // What is traced: the program `argv` starts, running processes (`attach`: `pids` and their
  // later children), or every process (`record --system`, Linux's kernel engine).
  enum class Mode : uint8_t { Program, Attach, System } mode = Mode::Program;
  std::vector<uint32_t> pids;  // Attach
  // System: the filter (docs/filters.md) whose coarse part (prefilter.h) the kernel checks, so
  // that the calls it drops cost nothing; empty: every call.
  std::string filter;
  int64_t duration_ns = 0;  // System: ends after this long (0: at SIGINT/SIGTERM)
};

struct RecordSummary {
  std::string output;
  // Calls as they came; what failed and the connections are the inspection's (record's summary).
  uint64_t processes = 0, calls = 0, dropped = 0;
  uint64_t lost = 0;              // tracing_lost events (which processes and why: in the trace)
  uint64_t dropped_by_reason[5] = {};  // indexed by DropReason (ring.h)
  uint32_t rings = 0;                  // rings the region was made with
  int exit_status = 0;            // the program's, as a shell reports it (128+signal if killed)
  std::string problem;            // set when recording itself went wrong (disk full …)
  // The build of an agent that refused to record because wstrace is of another build
  // (collector_core.h, refused_by); "" when none did.
  std::string agent_refused;
};

// Why a capture could not start (not found, unreachable, cannot create the output, unknown
// engine), with the exit code to use; exit_code 0 when it started.
struct RecordError {
  int exit_code = 0;
  std::string message;
};

// A running capture. next() drains the rings (waiting for the program when they are empty),
// writes what it found to the trace file and hands it back, in the file's order and numbered
// as the file numbers it (seq); false once every traced process has ended and the file is
// closed. The file receives every event whatever the consumer does with them; the consumer
// must pull to the end, since nothing is drained between two calls. end() is always clean:
// the events are all there even when writing the file failed (summary().problem says so).
class LiveEngine : public Engine {
 public:
  // What the recording counted so far; final once next() returned false.
  virtual const RecordSummary& summary() const = 0;
};

// The names `record --engine` takes: "auto" (the best engine for the program: preload today),
// then this platform's engines.
std::vector<std::string> live_engine_names();

// Starts `opt.argv` under the engine named `engine` and returns it in `out`. An unknown name,
// or errors before the program runs, come back as a RecordError (nothing ran, no file is left).
// `warning` gets what must be said once the recording is over (a program partly reachable);
// warnings that must be seen before the program runs go to opt.on_warning when it is set.
RecordError start_record(std::string_view engine, const RecordOptions& opt,
                         std::unique_ptr<LiveEngine>& out, std::string& warning);

// Traces the running processes `opt.pids` from then on, until they have all exited or the user
// presses Ctrl+C (then tracing stops and the processes run on). Returns once tracing is in
// place. Windows: the agent is loaded into one process; Linux: the kernel engine, which needs
// its privileges (an error that says so otherwise).
RecordError start_attach(const RecordOptions& opt, std::unique_ptr<LiveEngine>& out);

// `record --system`: every process of the machine (Linux's kernel engine), from now until
// `opt.duration_ns` or SIGINT/SIGTERM; `opt.filter`'s coarse part is checked in the kernel.
RecordError start_system(const RecordOptions& opt, std::unique_ptr<LiveEngine>& out);

}  // namespace ws::capture
