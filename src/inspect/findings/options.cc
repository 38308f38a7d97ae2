#include "options.h"

#include <charconv>

#include <fmt/format.h>

namespace ws::inspect {

std::span<const Threshold> thresholds() {
  using O = DiagnoseOptions;
  static constexpr Threshold kList[] = {
      {"connect-failures", false, "failed connects to one endpoint before it is reported",
       &O::connect_failures},
      {"slow-lookup", true, "a name lookup at least this long is slow", &O::slow_lookup_ns},
      {"gap", true, "silence between two calls on one connection worth reporting", &O::gap_ns},
      {"small-write", false, "a send of at most this many bytes is small (Nagle rule)",
       &O::small_write},
      {"nagle-wait-min", true, "a read after small sends waiting at least this long (Nagle rule)",
       &O::nagle_wait_min_ns},
      {"nagle-wait-max", true, "…and at most this long (longer: the peer was slow)",
       &O::nagle_wait_max_ns},
      {"nagle-rounds", false, "stalls after small sends on one connection before it is reported",
       &O::nagle_rounds},
      {"slow-factor", false, "a call is slow at this many times the trace's median…",
       &O::slow_factor},
      {"slow-min", true, "…and at least this long (and ipv6-fallback's time lost for a warning)",
       &O::slow_min_ns},
      {"slow-wait", true,
       "a connect, reply or HTTP response waiting at least this long is slow whatever the median "
       "(a single one too)",
       &O::slow_wait_ns},
      {"busy-wait", false, "would-block results in a row, without waiting, that make a busy loop",
       &O::busy_wait},
      {"not-closed", false, "sockets a process left open at exit before it is reported",
       &O::not_closed_min},
  };
  return kList;
}

std::optional<uint64_t> parse_duration(std::string_view text) {
  double v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || v < 0) return std::nullopt;
  const std::string_view unit(p, static_cast<size_t>(end - p));
  double scale = 0;
  if (unit == "ns") scale = 1;
  else if (unit == "us" || unit == "µs") scale = 1e3;
  else if (unit == "ms" || unit.empty()) scale = 1e6;
  else if (unit == "s") scale = 1e9;
  else return std::nullopt;
  const double ns = v * scale;
  if (ns > 1e18) return std::nullopt;
  return static_cast<uint64_t>(ns);
}

std::string threshold_text(const Threshold& t, const DiagnoseOptions& o) {
  const uint64_t v = o.*(t.field);
  if (!t.duration) return fmt::format("{}", v);
  if (v % 1'000'000'000 == 0 && v) return fmt::format("{}s", v / 1'000'000'000);
  if (v % 1'000'000 == 0) return fmt::format("{}ms", v / 1'000'000);
  if (v % 1'000 == 0) return fmt::format("{}us", v / 1'000);
  return fmt::format("{}ns", v);
}

}  // namespace ws::inspect
