#include "older_calls.h"

#include <algorithm>
#include <charconv>
#include <vector>

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

// Between an inspection and a report builder: counts the events that pass the filter, notes
// the seq of every `step`-th of them (from the trace's first call: the marks a later query
// starts from), and hands the builder as passing only those from seq `from` on that are at
// least the `keep_from`-th passing call of the trace, so that the builder keeps no call it would
// surely forget.
class Picker final : public inspect::Subscriber {
 public:
  Picker(report::ReportBuilder& builder, uint64_t from, uint64_t keep_from, uint32_t step)
      : builder_(builder), from_(from), keep_from_(keep_from), step_(step) {}
  uint64_t ahead = 0;    // passing, before `from`
  uint64_t passing = 0;  // passing, from `from` on
  std::vector<uint64_t> marks;

  void on_event(const inspect::Facts& f) override {
    if (!f.matched) return builder_.on_event(f);
    const uint64_t index = ahead + passing;  // (among the trace's passing calls)
    if (index % step_ == 0) marks.push_back(f.ev.seq);
    if (f.ev.seq < from_) {
      ++ahead;
    } else {
      ++passing;
      if (index >= keep_from_) return builder_.on_event(f);
    }
    inspect::Facts passed_over = f;  // (counted in the summary, not kept)
    passed_over.matched = false;
    builder_.on_event(passed_over);
  }

 private:
  report::ReportBuilder& builder_;
  uint64_t from_, keep_from_;
  uint32_t step_;
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

OlderCalls::OlderCalls(std::function<std::unique_ptr<Engine>()> open, std::string base_filter,
                       uint32_t mark_step)
    : open_(std::move(open)), base_filter_(std::move(base_filter)),
      mark_step_(std::max<uint32_t>(mark_step, 1)) {}

OlderCalls::~OlderCalls() = default;

std::shared_ptr<const OlderCalls::Marks> OlderCalls::marks_of(const std::string& filter) const {
  const std::lock_guard lock(mu_);
  auto it = marks_.find(filter);
  if (it == marks_.end()) return nullptr;
  it->second.used = ++uses_;
  return it->second.marks;
}

void OlderCalls::remember(const std::string& filter, Marks marks) const {
  const std::lock_guard lock(mu_);
  auto it = marks_.find(filter);
  if (it != marks_.end() && it->second.marks->covered >= marks.covered) return;
  if (it == marks_.end() && marks_.size() >= kMarkedFilters) {
    auto oldest = std::min_element(marks_.begin(), marks_.end(), [](const auto& a, const auto& b) {
      return a.second.used < b.second.used;
    });
    marks_.erase(oldest);
  }
  marks_[filter] = Remembered{std::make_shared<const Marks>(std::move(marks)), ++uses_};
}

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
  // Where a scan with this filter found the calls passing, when one came before: the calls
  // passing before `before` are then at least so many, and those more than n before the first
  // of them are neither copied nor formatted.
  uint64_t keep_from = 0;
  if (const std::shared_ptr<const Marks> known = newest ? marks_of(text) : nullptr) {
    const auto& m = known->seqs;
    const auto c =
        static_cast<uint64_t>(std::lower_bound(m.begin(), m.end(), *want.before) - m.begin());
    const uint64_t at_least = c == 0 ? 0 : (c - 1) * mark_step_ + 1;  // passing before `before`
    keep_from = at_least > n ? at_least - n : 0;
  }
  // An inspection of its own with the filter and nothing more (no findings, no HTTP: the page
  // has those); the filter's facts come from its tracker as in any inspection, from the start.
  inspect::InspectOptions io;
  io.filter = filter;
  inspect::Inspector inspection(io);
  report::ReportBuilder builder(report::ReportOptions{filter, 512, 0}, inspection);
  // The last n before `before`, in one pass: the calls kept go to a tape that keeps the last n
  // to n + chunk of them (copied, not formatted); the n answered are formatted at the end.
  const uint32_t chunk = static_cast<uint32_t>(std::clamp<size_t>(n / 4, 256, 16384));
  report::CallTape tape(chunk);
  if (newest) builder.defer_calls(tape);
  Picker pick(builder, want.from, keep_from, mark_step_);
  inspection.subscribe(pick);
  bool after = false;  // (more may come: the scan ended at n calls)
  uint64_t covered = 0;  // every event before this seq was observed
  Event ev;
  for (uint64_t events = 0; engine->next(ev);) {
    if (want.before && ev.seq >= *want.before) {
      covered = *want.before;
      break;
    }
    inspection.observe(ev);
    covered = ev.seq + 1;
    if (newest) {
      if (tape.size() >= n + chunk) tape.drop_front(n + chunk - 1);  // (n or more stay)
    } else if (builder.data().calls.size() >= n) {
      after = true;
      break;
    }
    if (++events % 4096 == 0 && cancelled.load(std::memory_order_relaxed))
      return error_json("cancelled: the page asked again");
  }
  remember(text, Marks{std::move(pick.marks), covered});
  std::unique_ptr<report::ReportData> d = builder.finish(engine->header(), "");
  uint64_t before = pick.ahead;
  if (newest) {
    const uint64_t answered = std::min<uint64_t>(n, pick.passing);
    before += pick.passing - answered;
    // The tape's last n, formatted as the builder would have (the tables they name are its).
    const uint64_t skip = tape.size() > answered ? tape.size() - answered : 0;
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
      "{{\"older\":{{\"before\":{},\"after\":{},\"count\":{},\"first\":{},\"last\":{},"
      "\"end\":{}}}}}",
      before, after ? "true" : "false", shown, shown ? k.seq.front() : 0,
      shown ? k.seq[shown - 1] : 0, covered);
  return report::report_json(*d, part);
}

}  // namespace ws::ui
