// The filter language of wstrace: `wstrace show t.wst --filter 'rport == 443 and failed'`.
//
// A filter is parsed once into a small tree whose constants are already resolved (function
// names to FuncIds, error names to sets of error codes, IPs and CIDR blocks to bytes, durations
// to nanoseconds), then matched against events without allocating. Platform-neutral: no OS
// calls. The language is documented in docs/filters.md.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "event.h"
#include "sockaddr.h"
#include "status.h"

namespace ws::inspect {

// What the filter needs to know beyond the event itself; trackers (connections, processes,
// lookups) implement it. Every method may return empty/0/nullptr when unknown; a field whose
// value is unknown makes every comparison on it false.
class FilterContext {
 public:
  virtual ~FilterContext() = default;
  virtual std::string_view process_name(uint32_t pid) const = 0;   // "curl", "client.exe"
  virtual uint64_t connection_id(const Event& ev) const = 0;       // 0 = none
  virtual const SockAddr* local_addr(const Event& ev) const = 0;   // the socket's local end
  virtual const SockAddr* remote_addr(const Event& ev) const = 0;  // the socket's remote end
  virtual std::string_view remote_host(
      const Event& ev) const = 0;                        // name a lookup gave that address
  virtual uint64_t protocol(const Event& ev) const = 0;  // ws::proto code, 0 = unknown
};

// A context that knows nothing but the event itself: addresses come from the event's own fields
// (connect's addr and local, accept's peer and local, sendto's addr, recvfrom's peer, bind's
// addr, getsockname/getpeername's addr, getnameinfo's addr), the protocol from socket()'s
// arguments; proc, conn and host are unknown. Good for tests, and as the fallback a tracker's
// context can delegate to.
//
// The addresses it returns live in the context until its next call of the same method, so one
// context serves one thread at a time. It allocates only when an AF_UNIX path is longer than any
// it saw before.
class EventOnlyContext : public FilterContext {
 public:
  std::string_view process_name(uint32_t pid) const override;
  uint64_t connection_id(const Event& ev) const override;
  const SockAddr* local_addr(const Event& ev) const override;
  const SockAddr* remote_addr(const Event& ev) const override;
  std::string_view remote_host(const Event& ev) const override;
  uint64_t protocol(const Event& ev) const override;

 private:
  mutable SockAddr local_;
  mutable SockAddr remote_;
};

// What the filter reads from an event and its context beyond the event's own fields, exactly as
// its fields `family`, `proto`, `ip`/`port` (and l/r), `host`, `proc`, `conn`, `sock` and
// `bytes` see them: for a filter evaluated elsewhere on recorded values (the HTML report's
// filter box, docs/report.md). `local` and `remote` live until the context's next call.
struct FilterFacts {
  bool has_family = false;
  uint64_t family = 0;  // ws::af code
  uint64_t proto = 0;   // ws::proto code, kFilterProtoUnix for an AF_UNIX socket; 0 = unknown
  const SockAddr* local = nullptr;   // IP ends only (a unix path is no end for ip/port)
  const SockAddr* remote = nullptr;
  std::string_view host;  // a lookup's name, else the name behind the remote address
  std::string_view proc;  // the program's file name ("curl", "client.exe")
  uint64_t conn = 0;
  uint64_t socks[2] = {};  // the socket used and the one created
  size_t sock_count = 0;
  bool has_bytes = false;
  uint64_t bytes = 0;
};
FilterFacts filter_facts(const Event& ev, const FilterContext& ctx);

// `proto == unix`: no IPPROTO_* code; stands for "the socket is AF_UNIX".
inline constexpr uint64_t kFilterProtoUnix = uint64_t{1} << 48;

// The filter's fields described as data, for the same language evaluated elsewhere: their
// names, the kind of values they take (number, duration, text, code, flags, error, ip, bytes,
// bool), and for code and flags fields the names their values may be written as.
struct FilterName {
  uint64_t code;          // the code, or for flags the bit number
  std::string_view name;  // "AF_INET6"
  std::string_view brief; // "INET6": the name after its prefix; == name when none
};
struct FilterField {
  std::string_view name;
  std::string_view kind;
  bool is_signed = false;
  uint64_t max = UINT64_MAX;      // numbers: the largest value
  std::string_view value_desc;    // "a port number"
  std::string noun;               // code/flags: "socket type"
  std::vector<FilterName> names;  // code/flags
  FieldId raw = FieldId::Unknown; // a field of the event table
  std::string refused;            // not a filter field: why ("'addr' is an address field: …")
};
std::vector<FilterField> filter_fields();

// The kinds of values (FilterField::kind), described as data like the fields: how messages word
// a kind, the operators it takes as they list them, and those operators one by one ("==", "<",
// "contains" …; a field alone, which every kind takes, is not listed).
struct FilterKind {
  std::string_view name;              // "duration"
  std::string_view desc;              // "a duration"
  std::string_view ops;               // "==, !=, <, <=, >, >= or in"
  std::vector<std::string_view> fits; // "==", "!=", "<", "<=", ">", ">="
};
std::vector<FilterKind> filter_kinds();

namespace detail {
struct Program;
}  // namespace detail

struct PreFilter;
class Filter;
PreFilter derive_prefilter(const Filter& filter);  // prefilter.h

class Filter {
 public:
  // The empty filter: matches every event; text() is "".
  Filter();

  // Parses `text`. On error the Status message is two lines: the expression, then a caret under
  // the problem followed by what was expected, e.g.
  //   rport == 443 andd failed
  //                ^ expected 'and', 'or' or the end of the filter, found 'andd'
  static Result<Filter> parse(std::string_view text);

  // True when the event passes. Never allocates (beyond what `ctx` does) and never throws, so it
  // can run over millions of events per second. Safe to call from several threads at once when
  // each passes its own context (or a thread-safe one).
  bool matches(const Event& ev, const FilterContext& ctx) const;

  // The text the filter was parsed from.
  const std::string& text() const;
  // True for the empty filter (it matches every event without looking).
  bool matches_all() const { return program_ == nullptr; }

 private:
  explicit Filter(std::shared_ptr<const detail::Program> program);
  friend PreFilter derive_prefilter(const Filter& filter);
  std::shared_ptr<const detail::Program> program_;  // immutable: copies of a Filter share it
};

}  // namespace ws::inspect
