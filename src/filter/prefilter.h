// A filter's coarse, cheap part: what can be checked where only a few facts of a call are known
// — its process (pid, the kernel's 15-byte name), its function, the ports and IP addresses of its
// socket — as the kernel engine checks them before it hands a call out (`record --system
// --filter`). It is a superset of the filter: every event the filter keeps passes it (the
// exact filter is still applied afterwards); what it cannot say (payloads, errors, durations,
// connection ids, `not` …) it lets through.
//
// Its form: clauses, any of which lets an event pass; each clause constrains some of five
// dimensions to sets of values (an event meets a dimension when one of its values is in the set)
// and leaves the others free. No clause: nothing passes. A clause with no constraint: all does.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "event.h"
#include "filter.h"

namespace ws::inspect {

// An IP block, 16 bytes as as_ipv6() gives them (IPv4 as ::ffff:a.b.c.d), `bits` long.
struct PreCidr {
  std::array<uint8_t, 16> ip{};
  uint8_t bits = 128;
  bool contains(const std::array<uint8_t, 16>& addr) const;
  bool operator==(const PreCidr&) const = default;
};

struct PreClause {
  std::optional<std::vector<uint32_t>> pids;
  // Lower-case prefixes of the process name, at most kPreNameMax bytes: the kernel keeps 15.
  std::optional<std::vector<std::string>> names;
  std::optional<std::vector<uint16_t>> ports;  // of either end
  std::optional<std::vector<PreCidr>> addrs;   // of either end
  std::optional<std::vector<FuncId>> funcs;
  bool free() const { return !pids && !names && !ports && !addrs && !funcs; }
};

inline constexpr size_t kPreNameMax = 15;  // TASK_COMM_LEN - 1
inline constexpr size_t kPreMaxClauses = 32;

// What the kernel knows of one event when it checks it.
struct PreFacts {
  uint32_t pid = 0;
  std::string_view name;                  // the process's name (any case; the first 15 bytes count)
  bool is_call = true;                    // false: a process's start, end or inherited socket
  FuncId func = FuncId::kCount;           // (calls)
  std::span<const uint16_t> ports;        // (calls) of either end, as far as known
  std::span<const std::array<uint8_t, 16>> addrs;  // (calls) IP ends as as_ipv6() gives them
};

struct PreFilter {
  std::vector<PreClause> clauses;
  // True when every event passes (a clause constrains nothing).
  bool all() const;
  // Whether the event passes. A process's start, end and inherited sockets are checked on the
  // process dimensions alone (pid, name), so that the calls kept come with their process.
  bool admits(const PreFacts& f) const;
};

// The pre-filter of `filter` (all() for the empty filter), at most kPreMaxClauses clauses.
PreFilter derive_prefilter(const Filter& filter);

}  // namespace ws::inspect
