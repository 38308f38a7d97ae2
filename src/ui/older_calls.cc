#include "older_calls.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

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

  report::ReportBuilder builder(report::ReportOptions{filter, 512, 0});
  const bool newest = want.before.has_value();
  const size_t n = want.count;
  uint64_t before = 0;  // calls found and forgotten ahead of those kept
  bool after = false;
  // The calls kept that come before `from` (the first ones: seqs grow).
  auto ahead_of_from = [&] {
    const auto& seq = builder.data().calls.seq;
    return static_cast<size_t>(std::lower_bound(seq.begin(), seq.end(), want.from) - seq.begin());
  };
  auto forget = [&](size_t k) {
    builder.forget_calls(k);
    before += k;
  };
  Event ev;
  while (engine->next(ev)) {
    if (want.before && ev.seq >= *want.before) break;
    builder.observe(ev);
    const size_t kept = builder.data().calls.size();
    if (newest) {
      if (kept > 2 * n + 1024) forget(kept - n);  // (half at a time: the columns move rarely)
      continue;
    }
    if (kept < n) continue;
    const size_t ahead = ahead_of_from();
    if (kept - ahead >= n) {  // (each event adds one call at most: exactly n)
      after = true;           // (maybe: the scan ends here)
      break;
    }
    if (kept > 2 * n + 1024) forget(ahead);
  }
  forget(ahead_of_from());
  if (const size_t kept = builder.data().calls.size(); kept > n) forget(kept - n);
  std::unique_ptr<report::ReportData> d = builder.finish(engine->header(), "");
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
