#include "live_feed.h"

#include <algorithm>
#include <sstream>

#include <fmt/format.h>

#include "report_html.h"

namespace ws::report {
namespace {

// Calls [from, to) of `k`, their raw fields' positions counted from `from`.
CallColumns slice(const CallColumns& k, size_t from, size_t to) {
  CallColumns out;
  auto copy = [from, to](const auto& src, auto& dst) {
    dst.assign(src.begin() + static_cast<ptrdiff_t>(from), src.begin() + static_cast<ptrdiff_t>(to));
  };
  copy(k.seq, out.seq), copy(k.ts, out.ts), copy(k.dur, out.dur), copy(k.thread, out.thread);
  copy(k.func, out.func), copy(k.conn, out.conn), copy(k.result, out.result);
  copy(k.error, out.error), copy(k.bytes, out.bytes), copy(k.sock, out.sock);
  copy(k.sock2, out.sock2), copy(k.args, out.args), copy(k.facts, out.facts);
  copy(k.kept, out.kept), copy(k.total, out.total), copy(k.link, out.link);
  out.raw.resize(k.raw.size());
  for (size_t f = 0; f < k.raw.size(); ++f) {
    const CallColumns::Raw& col = k.raw[f];
    auto a = std::lower_bound(col.at.begin(), col.at.end(), static_cast<uint32_t>(from));
    auto b = std::lower_bound(a, col.at.end(), static_cast<uint32_t>(to));
    for (auto it = a; it != b; ++it) {
      out.raw[f].at.push_back(*it - static_cast<uint32_t>(from));
      out.raw[f].v.push_back(col.v[static_cast<size_t>(it - col.at.begin())]);
    }
  }
  return out;
}

template <typename T>
std::vector<T> tail(const std::vector<T>& v, size_t from) {
  return from >= v.size() ? std::vector<T>{}
                          : std::vector<T>(v.begin() + static_cast<ptrdiff_t>(from), v.end());
}

// The rows of `v` from the `at`th one of its table on (its first `gone` forgotten: a page that
// fell further behind gets what is left), and `at` moved to the table's end.
template <typename T>
std::vector<T> rows_since(const std::vector<T>& v, size_t gone, size_t& at) {
  std::vector<T> out = tail(v, std::max(at, gone) - gone);
  at = gone + v.size();
  return out;
}

}  // namespace

bool FeedCursor::parse(const std::string& text) {
  std::istringstream in(text);
  FeedCursor c;
  char comma = 0;
  in >> c.calls >> comma >> c.ended >> comma >> c.lookups >> comma >> c.http >> comma >> c.tls >>
      comma >> c.strings >> comma >> c.errors >> comma >> c.facts;
  if (in.fail() || in.peek() != EOF) return false;
  *this = c;
  return true;
}

std::string FeedCursor::text() const {
  return fmt::format("{},{},{},{},{},{},{},{}", calls, ended, lookups, http, tls, strings, errors,
                     facts);
}

namespace {
constexpr uint32_t kPayloadCap = 512;  // payload bytes kept per call, as the report's default
// (chunks small beside the window: what is dropped goes a sixteenth at a time)
uint32_t tape_chunk(size_t window) {
  return static_cast<uint32_t>(std::clamp<size_t>(window / 16, 64, 4096));
}
}  // namespace

LiveFeed::LiveFeed(inspect::Inspector& inspection, const trace::TraceHeader& header,
                   size_t window, size_t rows)
    : in_(&inspection),
      header_(header),
      window_(std::max<size_t>(window, 1000)),
      rows_window_(std::max<size_t>(rows, 100)),
      builder_(ReportOptions{inspect::Filter(), kPayloadCap, 0}, inspection),
      tape_(tape_chunk(window_)),
      call_rows_(kPayloadCap) {
  builder_.defer_calls(tape_);
  rows_.calls.raw.resize(static_cast<size_t>(FieldId::kCount));
  inspection.subscribe(*this);
}

void LiveFeed::on_event(const inspect::Facts& f) {
  builder_.on_event(f);
  ++version_;
  // No page took the calls for a while: the oldest go (whole chunks, O(1) a call).
  if (tape_.size() > window_) tape_.drop_front(window_ / 2);
}

void LiveFeed::notify() { news_.notify_all(); }

void LiveFeed::set_over() {
  {
    std::lock_guard lock(mu_);
    over_ = true;
    ++version_;
  }
  news_.notify_all();
}

bool LiveFeed::over() {
  std::lock_guard lock(mu_);
  return over_;
}

bool LiveFeed::wait_news(const FeedCursor& at, std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  return news_.wait_for(lock, wait, [&] { return version_ != at.version; });
}

LiveFeed::Held LiveFeed::held() {
  std::lock_guard rows_lock(rows_mu_);
  std::lock_guard lock(mu_);
  return Held{rows_.calls.size() + tape_.size(), tape_.bytes()};
}

void LiveFeed::state_of(FeedCursor& at, ReportData& p) {
  const ReportData& d = builder_.data();
  const inspect::Tracker& tracker = in_->tracker();
  p.header = header_;
  p.filter_text = d.filter_text;
  p.payload_cap = d.payload_cap;
  p.summary = d.summary;
  // Connections that ended since, then every open one as it is now.
  p.conns = rows_since(d.conns, gone_.conns, at.ended);
  for (const inspect::Connection* c : tracker.open_list()) p.conns.push_back(builder_.row_of(*c));
  if (d.filter_text.empty())
    for (ConnRow& r : p.conns) r.in_report = true;
  p.summary.connections = tracker.connections_seen();
  p.lookups = rows_since(d.lookups, gone_.lookups, at.lookups);
  p.http = rows_since(d.http, gone_.http, at.http);
  p.tls = rows_since(d.tls, gone_.tls, at.tls);
  p.summary.lookups = gone_.lookups + d.lookups.size();
  p.summary.http = gone_.http + d.http.size();
  p.summary.tls = gone_.tls + d.tls.size();
  p.errors = tail(d.errors, at.errors), at.errors = d.errors.size();
  p.threads = d.threads;
  for (const auto& [pid, proc] : tracker.processes()) p.processes.push_back(proc);
  std::sort(p.processes.begin(), p.processes.end(),
            [](const auto& a, const auto& b) { return a.pid < b.pid; });
  p.findings = over_ ? in_->findings() : in_->findings_so_far();
  at.version = version_;
}

void LiveFeed::format(const CallTape& tape) {
  if (tape.begin() != forgotten_ + rows_.calls.size()) {
    // Calls were dropped from the tape before any page took them: the rows held are older still.
    forget_calls(rows_, rows_.calls.size());
    forgotten_ = tape.begin();
  }
  tape.replay([this](const CallHead& h, const Event& ev, const inspect::FilterFacts& facts) {
    call_rows_.add(rows_, h, ev, facts);
  });
  // The window: half of it forgotten at a time, so that the columns move rarely.
  const size_t kept = rows_.calls.size();
  if (kept > window_) {
    const size_t n = kept - window_ / 2;
    forget_calls(rows_, n);
    forgotten_ += n;
  }
}

void LiveFeed::calls_of(FeedCursor& at, size_t max_calls, ReportData& p, uint64_t& skipped) {
  const CallColumns& k = rows_.calls;
  // The calls: those the page has not had, from the window's front when it fell behind.
  skipped = 0;
  if (at.calls < forgotten_) skipped = forgotten_ - at.calls, at.calls = forgotten_;
  const size_t from = std::min<size_t>(at.calls - forgotten_, k.size());
  const size_t to = std::min(k.size(), from + max_calls);
  p.calls = slice(k, from, to);
  size_t pay_from = 0, pay_len = 0;
  for (size_t i = 0; i < from; ++i) pay_from += k.kept[i];
  for (size_t i = from; i < to; ++i) pay_len += k.kept[i];
  p.payload = rows_.payload.substr(pay_from, pay_len);
  at.calls = forgotten_ + to;
  p.facts = tail(rows_.facts, at.facts), at.facts = rows_.facts.size();
}

std::string LiveFeed::next_part(FeedCursor& at, size_t max_calls, bool statics) {
  JsonPart part;
  part.statics = statics;
  ReportData p;
  uint64_t skipped = 0;
  std::vector<std::string> strings;  // the ones the page has not had
  bool over = false;
  std::string extra;
  {
    std::lock_guard rows_lock(rows_mu_);
    CallTape came;
    {
      std::lock_guard lock(mu_);
      came = tape_.take();
      state_of(at, p);
      over = over_;
      extra = live_extra ? live_extra() : "";
    }
    format(came);
    const size_t strings_from = at.strings;
    calls_of(at, max_calls, p, skipped);
    const auto& all = rows_.strings.strings();
    strings.assign(all.begin() + static_cast<ptrdiff_t>(std::min(strings_from, all.size())),
                   all.end());
    at.strings = all.size();
    part.strings = &strings;
    const bool more = at.calls < forgotten_ + rows_.calls.size();
    // (a page with calls still to send is not up to date: its next wait_news returns at once)
    if (more) at.version = FeedCursor::kUnseen;
    part.live = fmt::format(
        "{{\"cursor\":\"{}\",\"skipped\":{},\"strings_from\":{},\"over\":{},\"more\":{}{}}}",
        at.text(), skipped, strings_from, over ? "true" : "false", more ? "true" : "false", extra);
  }
  return report_json(p, part);
}

void LiveFeed::restart(inspect::Inspector& inspection, const std::function<void()>& meanwhile) {
  {
    std::lock_guard rows_lock(rows_mu_);
    std::lock_guard lock(mu_);
    in_ = &inspection;
    inspection.subscribe(*this);
    builder_.restart(inspection);
    tape_ = CallTape(tape_chunk(window_));
    rows_ = ReportData();
    rows_.calls.raw.resize(static_cast<size_t>(FieldId::kCount));
    gone_ = ReportBuilder::Gone();
    call_rows_ = CallRows(kPayloadCap);
    forgotten_ = 0;
    over_ = false;
    ++version_;
    if (meanwhile) meanwhile();
  }
  news_.notify_all();
}

}  // namespace ws::report
