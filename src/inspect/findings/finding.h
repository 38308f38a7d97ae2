// A finding: what wstrace concluded from a trace, with the evidence that led there, what it
// usually means and what to check next. Rules (rule.h) produce them; `wstrace diagnose` and the
// end of `wstrace record` print them (docs/findings.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "event.h"
#include "sockaddr.h"

namespace ws::inspect {

enum class Severity : uint8_t { Info = 0, Warning = 1, Error = 2 };
std::string_view severity_name(Severity s);  // "error", "warning", "info"
std::optional<Severity> parse_severity(std::string_view text);

// One call of the trace, as evidence: where it is (seq, time) and what it was.
struct CallRef {
  uint64_t seq = 0;
  int64_t ts = 0;          // the recorder's monotonic ns
  uint32_t pid = 0, tid = 0;
  uint64_t conn = 0;       // 0 = none
  std::string text;        // "connect(sock=4, 127.0.0.1:8081) = -1 ECONNREFUSED [0.1 ms]"
};
// The evidence line of `ev` (the tracker's connection id `conn`, 0 if none).
CallRef call_ref(const Event& ev, uint64_t conn = 0);
// A line of evidence saying `text` of the call of thread pid/tid numbered `seq`, at `ts`.
CallRef call_at(uint64_t seq, int64_t ts, uint32_t pid, uint32_t tid, uint64_t conn,
                std::string text);

// A call a rule may show as evidence later: what call_ref's line says, kept without making the
// line (rules that watch every send and receive keep many that no finding ever shows).
struct CallMark {
  uint64_t seq = 0;
  int64_t ts = 0;
  uint32_t pid = 0, tid = 0;
  uint64_t conn = 0;
  uint64_t dur = 0;
  FuncId func{};
  int64_t result = 0;
  ErrorCode error;
  std::optional<uint64_t> sock, len, optname;
  std::optional<int64_t> optval;
  std::optional<SockAddr> addr;
  std::optional<std::string> host;
  CallRef ref() const;  // the line, as call_ref makes it
};
CallMark call_mark(const Event& ev, uint64_t conn = 0);

struct Finding {
  Severity severity = Severity::Info;
  std::string rule;                 // "connect-refused"
  std::string title;                // one line
  std::vector<uint64_t> conns;      // connection ids (the first few)
  uint64_t more_conns = 0;          // connections involved beyond `conns`
  std::vector<CallRef> calls;       // the first few calls that show it
  std::vector<std::pair<std::string, std::string>> counts;  // ("refused", "3")
  std::string meaning;              // what it usually means
  std::string next;                 // what to check next
  int64_t first_ts = 0;             // for ordering: when it first showed
  // It rests on calls the trace does not hold (a close, a wait, an answer, a completion never
  // seen): records the agent dropped can explain it. Its processes: those of its calls, and
  // `pid` when set.
  bool over_gaps = false;
  uint32_t pid = 0;
};

// Evidence lists stay small: at most this many connections and calls per finding.
inline constexpr size_t kMaxEvidence = 5;

// Most severe first; then in the order they first showed; then by rule id.
void sort_findings(std::vector<Finding>& findings);

// Small text helpers the rules share.
std::string duration_str(uint64_t ns);                      // "1.23 s", "40.1 ms", "12 µs"
std::string endpoint_str(const SockAddr& a, std::string_view host);  // "127.0.0.1:80 (api.test)"
// Adds a connection id to a bounded evidence list (counting the ones that did not fit).
void add_conn(Finding& f, uint64_t id);
void add_call(std::vector<CallRef>& calls, CallRef c);

}  // namespace ws::inspect
