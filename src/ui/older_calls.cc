#include "older_calls.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

#include "call_tape.h"
#include "json_out.h"
#include "report_data.h"
#include "report_html.h"
#include "request_rules.h"

namespace ws::ui {
namespace {

bool parse_number(const std::string& s, uint64_t& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

// Between an inspection and a report builder: counts the events that pass the filter and hands
// the builder as passing only those from seq `from` on, so that the builder keeps no call it
// would forget.
class Picker final : public inspect::Subscriber {
 public:
  Picker(report::ReportBuilder& builder, uint64_t from) : builder_(builder), from_(from) {}
  uint64_t ahead = 0;    // passing, before `from`
  uint64_t passing = 0;  // passing, from `from` on

  void on_event(const inspect::Facts& f) override {
    if (!f.matched) return builder_.on_event(f);
    if (f.ev.seq >= from_) return ++passing, builder_.on_event(f);
    ++ahead;
    inspect::Facts passed_over = f;  // (counted in the summary, not kept)
    passed_over.matched = false;
    builder_.on_event(passed_over);
  }

 private:
  report::ReportBuilder& builder_;
  uint64_t from_;
};

std::string error_json(const std::string& message) {
  report::JsonOut o;
  o.raw("{"), o.key("error"), o.str(message), o.raw("}");
  return std::move(o.text());
}

}  // namespace

Result<CallsQuery> CallsQuery::parse(const std::string& query) {
  CallsQuery q;
  size_t at = query.empty() || query[0] != '?' ? 0 : 1;
  while (at <= query.size()) {
    const size_t end = std::min(query.find('&', at), query.size());
    const std::string_view pair(query.data() + at, end - at);
    at = end + 1;
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    std::string name, value;
    if (!percent_decode(pair.substr(0, eq), name) ||
        !percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), value))
      return Status::error(fmt::format("bad percent-encoding in '{}'", pair));
    uint64_t n = 0;
    const bool number = parse_number(value, n);
    if (name == "filter") {
      q.filter = value;
    } else if (name == "from" || name == "before" || name == "count") {
      if (!number) return Status::error(fmt::format("{} takes a number, not '{}'", name, value));
      if (name == "from") q.from = n;
      if (name == "before") q.before = n;
      if (name == "count") {
        if (n == 0 || n > kMaxCount)
          return Status::error(fmt::format("count takes 1 to {}, not {}", kMaxCount, n));
        q.count = static_cast<size_t>(n);
      }
    }
  }
  return q;
}

OlderCalls::OlderCalls(std::function<std::unique_ptr<Engine>()> open, std::string base_filter)
    : open_(std::move(open)), base_filter_(std::move(base_filter)) {}

std::string OlderCalls::answer(const std::string& query) const {
  const std::atomic<bool> never{false};
  return answer(query, never);
}

std::string OlderCalls::answer(const std::string& query, const std::atomic<bool>& cancelled) const {
  auto q = CallsQuery::parse(query);
  if (!q.ok()) return error_json(q.status().message());
  const CallsQuery& want = q.value();
  std::string text = want.filter;
  if (!base_filter_.empty())
    text = text.empty() ? base_filter_ : fmt::format("({}) and ({})", base_filter_, text);
  inspect::Filter filter;  // (the empty one keeps every call; parse() takes none)
  if (!text.empty()) {
    auto parsed = inspect::Filter::parse(text);
    if (!parsed.ok()) return error_json("bad filter:\n" + parsed.status().message());
    filter = std::move(parsed.value());
  }
  std::unique_ptr<Engine> engine = open_();
  if (!engine) return error_json("cannot read the trace again");

  const bool newest = want.before.has_value();
  const size_t n = want.count;
  // An inspection of its own with the filter and nothing more (no findings, no HTTP: the page
  // has those); the filter's facts come from its tracker as in any inspection, from the start.
  inspect::InspectOptions io;
  io.filter = filter;
  inspect::Inspector inspection(io);
  report::ReportBuilder builder(report::ReportOptions{filter, 512, 0}, inspection);
  // The last n before `before`, in one pass: the calls kept go to a tape that keeps the last
  // n to n + chunk of them (copied, not formatted); the n answered are formatted at the end.
  const uint32_t chunk = static_cast<uint32_t>(std::clamp<size_t>(n / 4, 256, 16384));
  report::CallTape tape(chunk);
  if (newest) builder.defer_calls(tape);
  Picker pick(builder, want.from);
  inspection.subscribe(pick);
  bool after = false;  // (more may come: the scan ended at n calls)
  Event ev;
  for (uint64_t events = 0; engine->next(ev) && !(want.before && ev.seq >= *want.before);) {
    inspection.observe(ev);
    if (newest) {
      if (tape.size() >= n + chunk) tape.drop_front(n + chunk - 1);  // (n or more stay)
    } else if (builder.data().calls.size() >= n) {
      after = true;
      break;
    }
    if (++events % 4096 == 0 && cancelled.load(std::memory_order_relaxed))
      return error_json("cancelled: the page asked again");
  }
  std::unique_ptr<report::ReportData> d = builder.finish(engine->header(), "");
  uint64_t before = pick.ahead;
  if (newest) {
    // The tape's last n, formatted as the builder would have (the tables they name are its).
    const uint64_t skip = tape.size() > n ? tape.size() - n : 0;
    before += pick.passing - (tape.size() - skip);
    report::CallRows rows(512);
    uint64_t i = 0;
    tape.replay([&](const report::CallHead& h, const Event& e, const inspect::FilterFacts& f) {
      if (i++ >= skip) rows.add(*d, h, e, f);
    });
    report::link_overlapped(d->calls);
  }
  // Only the calls and what they name: the page has the connections, lookups and findings.
  d->conns.clear(), d->lookups.clear(), d->http.clear(), d->tls.clear();
  d->findings.clear(), d->processes.clear();
  const report::CallColumns& k = d->calls;
  report::JsonPart part;
  part.statics = false;
  const size_t shown = k.size();
  part.live = fmt::format(
      "{{\"older\":{{\"before\":{},\"after\":{},\"count\":{},\"first\":{},\"last\":{}}}}}", before,
      after ? "true" : "false", shown, shown ? k.seq.front() : 0, shown ? k.seq[shown - 1] : 0);
  return report::report_json(*d, part);
}

}  // namespace ws::ui
