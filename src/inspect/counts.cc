#include "counts.h"

#include <fmt/format.h>

namespace ws::inspect {
namespace {

bool more_bytes(const Connection& a, const Connection& b) {
  return a.bytes_out + a.bytes_in > b.bytes_out + b.bytes_in ||
         (a.bytes_out + a.bytes_in == b.bytes_out + b.bytes_in && a.id < b.id);
}

}  // namespace

void CallCounts::on_event(const Facts& f) {
  const Event& ev = f.ev;
  const EventType t = ev.type();
  if (t == EventType::process_start) {
    if (const Value* v = ev.get(FieldId::image)) procs_[ev.pid].image = std::string(v->bytes());
    return;
  }
  if (is_fact(t) || !f.matched) return;
  // A further message of sendmmsg/recvmmsg adds its bytes to its call's row, not a call.
  const FuncId func = call_of(ev.func);
  auto& fs = by_func_[std::min(static_cast<size_t>(func), by_func_.size() - 1)];
  if (last_proc_ == nullptr || last_pid_ != ev.pid) last_proc_ = &procs_[ev.pid], last_pid_ = ev.pid;
  auto& p = *last_proc_;
  if (func == ev.func) {
    ++fs.calls, ++p.calls;
    fs.latency.add(ev.dur);
  }
  if (!ev.error.ok()) {
    if (is_transient(f.error)) {
      ++fs.outcomes[error_name(ev.error)];
    } else {
      ++fs.failed, ++p.failed;
      ++fs.errors[error_name(ev.error)];
    }
  } else if (t == EventType::send || t == EventType::recv) {
    fs.bytes += f.moved;
    p.bytes += f.moved;
  }
}

// Only the kTopConns that moved the most bytes are kept: memory stays fixed.
void CallCounts::on_connection_end(const Connection& c) {
  if (!c.matched) return;  // no call of it passed the filter
  ++conns_;
  if (top_.size() == kTopConns && !more_bytes(c, top_.front())) return;
  top_.push_back(c);
  std::push_heap(top_.begin(), top_.end(), more_bytes);
  if (top_.size() > kTopConns) {
    std::pop_heap(top_.begin(), top_.end(), more_bytes);
    top_.pop_back();
  }
}

void CallCounts::on_finish() {
  std::sort(top_.begin(), top_.end(), more_bytes);
  for (size_t i = 0; i < by_func_.size(); ++i)
    if (by_func_[i].calls)
      funcs_[i < static_cast<size_t>(FuncId::kCount)
                 ? std::string(func_def(static_cast<FuncId>(i)).name)
                 : "<unknown>"] = std::move(by_func_[i]);
  by_func_.clear();
}

void TraceSummary::on_event(const Facts& f) {
  const Event& ev = f.ev;
  if (events_++ == 0) first_ = ev.ts;
  last_ = std::max(last_, ev.ts + static_cast<int64_t>(ev.dur));
  if (lost_.observe(ev) && ev.type() == EventType::tracing_lost) {
    auto& p = procs_[lost_pid(ev)];  // a child may have no other event
    p.pid = lost_pid(ev);
    if (p.pid != ev.pid && !p.ppid) p.ppid = ev.pid;
    return;
  }
  auto& p = procs_[ev.pid];
  p.pid = ev.pid;
  switch (ev.type()) {
    case EventType::process_start:
      if (const Value* v = ev.get(FieldId::ppid)) p.ppid = v->num;
      p.image = std::string(ev.text(FieldId::image));
      p.cmdline = std::string(ev.text(FieldId::cmdline));
      return;
    case EventType::process_exit:
      // (Not renamed, its first part still starts the command line it started with.)
      if (std::string last = std::string(ev.text(FieldId::cmdline));
          !last.empty() && p.cmdline.compare(0, last.size(), last) != 0)
        p.title = std::move(last);
      p.exited = true;
      if (const Value* v = ev.get(FieldId::exit_code)) {
        p.exit_code = static_cast<int64_t>(v->num);
        p.exit_known = true;
      }
      return;
    case EventType::drops:
      if (const Value* v = ev.get(FieldId::dropped)) p.dropped += v->num, dropped_ += v->num;
      return;
    default:
      if (is_fact(ev.type())) return;
      break;
  }
  if (call_of(ev.func) != ev.func) return;  // a message of a call already counted
  ++p.calls, ++calls_;
  ++per_func_[ev.func < FuncId::kCount ? std::string(func_def(ev.func).name) : "<unknown>"];
  if (!ev.error.ok() && !is_transient(f.error)) ++p.errors, ++failed_;
}

std::string_view connection_kind(const Connection& c) {
  if (c.family == af::kUnix || c.role == ConnRole::Pair) return "unix";
  if (c.role == ConnRole::Listener) return "listening";
  if (c.proto == proto::kUdp || c.role == ConnRole::Flow) return "udp";
  if (c.proto == proto::kTcp || c.type == socktype::kStream) {
    if (c.role == ConnRole::Client) return "tcp out";
    if (c.role == ConnRole::Accepted) return "tcp in";
    return "tcp unused";
  }
  return "other";
}

std::span<const std::string_view> connection_kinds() {
  static constexpr std::string_view kKinds[] = {"tcp out", "tcp in",     "listening", "udp",
                                                "unix",    "tcp unused", "other"};
  return kKinds;
}

void TraceSummary::on_connection_end(const Connection& c) {
  ++conns_;
  ++kinds_[connection_kind(c)];
}

std::string TraceSummary::connections_text() const {
  std::string s = fmt::format("{} connection{}", conns_, conns_ == 1 ? "" : "s");
  std::string parts;
  for (std::string_view k : connection_kinds())
    if (auto it = kinds_.find(k); it != kinds_.end())
      parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", it->second, k);
  if (!parts.empty()) s += " (" + parts + ")";
  return s;
}

}  // namespace ws::inspect
