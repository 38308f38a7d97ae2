// What the Linux engines (preload: record_linux.cc, kernel: ebpf/record_ebpf.cc) share when
// they start a program and write its trace.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "collector_core.h"
#include "record.h"
#include "writer.h"

namespace ws::capture {

// The agents' and the kernel's clock (CLOCK_MONOTONIC) or the wall clock, in nanoseconds.
int64_t clock_ns(int clock_id);
int64_t monotonic_ns();

// wstrace-YYYYmmdd-HHMMSS.wst, local time.
std::string default_output();

// The trace header of a Linux recording by engine `engine` (`info` shows it).
trace::TraceHeader make_linux_header(const RecordOptions& opt, std::string_view engine);

// wstrace keeps collecting until the program is gone: INT, QUIT, TERM and HUP sent to it are
// passed on to the program — from before the program starts, so that none sent as soon as it
// runs ends wstrace instead. take_forwarded_signal() returns the one waiting (0: none).
void forward_signals_to_program();
int take_forwarded_signal();

// Whether thread `tid` of `pid` still runs: its /proc entry is there and it is not a zombie
// (state Z or X: it ended and waits for its parent to reap it).
bool task_alive(uint32_t pid, uint32_t tid);

// Waits (without blocking) for the children wstrace has: `ended(pid, status)` for each, status as
// a shell reports it (128+signal if killed). False once none is left (every process of the
// tree has ended: wstrace is their subreaper).
bool reap_children(const std::function<void(pid_t, int)>& ended);

// The end of a recording: processes whose end nobody saw are closed (unless `close_unended` is
// false: tracing stopped while they run on), the file completed; summary.problem says what went
// wrong, if anything.
void finish_trace(RingCollector& collector, trace::TraceWriter& writer, RecordSummary& summary,
                  bool close_unended = true);

// Removes the trace just made at `path` after the program could not start (never a device
// given as -o, such as /dev/null).
void remove_unused_trace(const std::string& path);

}  // namespace ws::capture
