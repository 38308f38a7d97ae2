// The thresholds of the finding rules, each a named option with a documented default
// (docs/findings.md; `wstrace diagnose --help` lists them from kThresholds).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ws::inspect {

struct DiagnoseOptions {
  uint64_t connect_failures = 1;          // failed connects to one endpoint before it is reported
  uint64_t slow_lookup_ns = 500'000'000;  // a name lookup this long is slow
  uint64_t gap_ns = 1'000'000'000;        // silence between two calls on one connection
  uint64_t small_write = 536;             // a send of at most this many bytes is small
  uint64_t nagle_wait_min_ns = 30'000'000;   // a read after small writes that waits this long…
  uint64_t nagle_wait_max_ns = 500'000'000;  // …but not longer (then it is the peer being slow)
  uint64_t nagle_rounds = 2;              // stalls on one connection before it is reported
  uint64_t slow_factor = 10;              // slow: this many times the trace's median…
  uint64_t slow_min_ns = 200'000'000;     // …and at least this long
  uint64_t slow_wait_ns = 1'000'000'000;  // a connect, reply or response this long is slow anyway
  uint64_t busy_wait = 100;               // would-block results in a row without waiting
  uint64_t not_closed_min = 1;            // unclosed sockets per process before it is reported
};

// One threshold: its option name ("--gap"), whether it is a duration, its help, where it lives.
struct Threshold {
  std::string_view name;     // without dashes: "gap"
  bool duration;             // true: a duration ("40ms", "1.5s"); false: a count
  std::string_view help;
  uint64_t DiagnoseOptions::*field;
};
std::span<const Threshold> thresholds();

// "250ms", "1.5s", "40us", "100ns", or a bare number of milliseconds; nullopt when malformed.
std::optional<uint64_t> parse_duration(std::string_view text);
// The default of a threshold as text ("1s", "536").
std::string threshold_text(const Threshold& t, const DiagnoseOptions& o);

}  // namespace ws::inspect
