#include "lookup_table.h"

#include <fmt/format.h>

#include "safe_text.h"

namespace ws::present {
namespace {

std::string process_name(const inspect::Lookup& l, const inspect::Tracker& t) {
  const inspect::Process* p = t.process(l.pid);
  return p && !p->image.empty() ? p->name() : std::string();
}

}  // namespace

std::string lookup_header() {
  return fmt::format("{:<15} {:<24} {:<14} {:<32} {:<8} {:<10} {:>8}  {:<10} {}", "time",
                     "process", "via", "name", "service", "asked", "duration", "result",
                     "answers");
}

std::string lookup_row(const inspect::Lookup& l, const inspect::Tracker& t,
                       const trace::TraceHeader& h, const TextOptions& text, int64_t first_ts) {
  const std::string proc = process_name(l, t);
  const std::string via = l.packet ? fmt::format("{} #{}", l.via, l.conn) : l.via;
  std::string result = l.result;
  if (!l.meaning.empty()) {
    std::string_view m = l.meaning;
    if (m.back() == '.') m.remove_suffix(1);
    result += fmt::format(" ({})", m);
  }
  std::string line = fmt::format(
      "{:<15} {:<24} {:<14} {:<32} {:<8} {:<10} {:>8}  {:<10} {}",
      time_text(h.wall_ns(l.ts), text, l.ts - first_ts),
      fmt::format("{}[{}/{}]", proc.empty() ? "pid" : proc, l.pid, l.tid), via,
      l.name.empty() ? "-" : l.name, l.service.empty() ? "-" : l.service,
      l.asked.empty() ? "-" : l.asked, l.answered ? duration_text(l.dur) : "-", result,
      fmt::to_string(fmt::join(l.answers, ", ")));
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

nlohmann::ordered_json lookup_json(const inspect::Lookup& l, const inspect::Tracker& t,
                                   const trace::TraceHeader& h) {
  nlohmann::ordered_json j = call_json(l.seq, l.ts, l.pid, l.tid, process_name(l, t), h);
  j["source"] = l.packet ? "packet" : "call";
  j["via"] = l.via;
  if (l.packet) j["conn"] = l.conn, j["dns_id"] = l.dns_id, j["answered"] = l.answered;
  j["name"] = l.name;
  if (!l.service.empty()) j["service"] = l.service;
  if (!l.asked.empty()) j["asked"] = l.asked;
  j["answers"] = l.answers;
  j["dur_ns"] = l.dur;
  j["ok"] = l.ok;
  j["result"] = l.result;
  if (!l.meaning.empty()) j["meaning"] = l.meaning;
  return j;
}

}  // namespace ws::present
