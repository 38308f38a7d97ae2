// chrome: the Trace Event JSON format that Perfetto (ui.perfetto.dev) and chrome://tracing open.
// Processes and threads are tracks (process_name/thread_name metadata), each call a complete
// slice ("X") on its thread, each connection an async span ("b"/"e") of its process. Times are
// microseconds since the trace's first event, with nanoseconds as decimals.
#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "exporter.h"
#include "output.h"
#include "safe_text.h"

namespace ws::exporter {
namespace {

using Json = nlohmann::ordered_json;

class ChromeExporter final : public Exporter {
 public:
  explicit ChromeExporter(const ExportOptions& opt) : opt_(opt) {}

  Status begin(const trace::TraceHeader& header, const inspect::Inspector& in) override {
    header_ = header;
    inspector_ = &in;
    if (Status s = out_.open(opt_.out_path); !s.ok()) return s;
    out_.write("{\"traceEvents\":[");
    return Status();
  }

  void on_event(const inspect::Facts& f) override {
    const Event& ev = f.ev;
    last_ts_ = std::max(last_ts_, ev.ts + static_cast<int64_t>(ev.dur));
    if (ev.type() == EventType::thread_name)
      if (const Value* v = ev.get(FieldId::name)) thread_names_[{ev.pid, ev.tid}] = v->bytes();
    if (f.matched) slice(f);
  }

  void slice(const inspect::Facts& f) {
    const Event& ev = f.ev;
    threads_.insert({ev.pid, ev.tid});
    Json j;
    j["name"] = ev.func < FuncId::kCount ? func_def(ev.func).name : "?";
    j["cat"] = ev.type() != EventType::Unknown ? event_def(ev.type()).name : "?";
    j["ph"] = "X";
    j["ts"] = micros(ev.ts);
    j["dur"] = static_cast<double>(ev.dur) / 1000.0;
    j["pid"] = ev.pid;
    j["tid"] = ev.tid;
    Json args;
    args["seq"] = ev.seq;
    if (f.conn) args["conn"] = f.conn->id;
    args["result"] = ev.result;
    if (!ev.error.ok()) {
      // Would-block, in progress, pending: an outcome, not drawn red (error_class.h).
      if (inspect::is_transient(f.error)) {
        args["outcome"] = true;
      } else {
        j["cname"] = "terrible";
        args["failed"] = true;
      }
      args["error"] = present::error_text(ev.error);
    }
    for (uint8_t i = 0; i < ev.nvalues; ++i) {
      const FieldDef& def = field_def(ev.values[i].id);
      args[std::string(def.name)] = present::value_text(def, ev.values[i], 40, ev.func);
    }
    j["args"] = std::move(args);
    emit(j);
  }

  void on_connection_end(const inspect::Connection& c) override {
    if (!c.matched) return;
    const std::string name =
        fmt::format("#{} {} {}", c.id, c.kind(),
                    c.remote ? to_string(*c.remote) : std::string(inspect::role_name(c.role)));
    Json b;
    b["name"] = name;
    b["cat"] = "connection";
    b["ph"] = "b";
    b["id"] = c.id;
    b["ts"] = micros(c.opened_ts);
    b["pid"] = c.pid;
    b["tid"] = c.pid;
    Json args;
    args["conn"] = c.id;
    args["role"] = inspect::role_name(c.role);
    if (c.local) args["local"] = to_string(*c.local);
    if (c.remote) args["remote"] = to_string(*c.remote);
    if (!c.host.empty()) args["host"] = c.host;
    args["bytes_out"] = c.bytes_out;
    args["bytes_in"] = c.bytes_in;
    args["end"] = inspect::end_name(c.end);
    if (!c.end_error.ok()) args["end_error"] = error_name(c.end_error);
    if (c.errors) args["errors"] = c.errors;
    b["args"] = std::move(args);
    Json e = b;
    e["ph"] = "e";
    // A connection still open at the end of the trace spans to its end.
    e["ts"] = micros(std::max(c.closed_ts ? c.closed_ts : last_ts_, c.opened_ts));
    e.erase("args");
    emit(b);
    emit(e);
  }

  Status finish() override {
    const inspect::Tracker& tracker = inspector_->tracker();
    std::set<uint32_t> pids;
    for (const auto& [pid, tid] : threads_) pids.insert(pid);
    for (uint32_t pid : pids) {
      const inspect::Process* p = tracker.process(pid);
      emit(metadata("process_name", pid, pid,
                    fmt::format("{} {}", p && !p->image.empty() ? p->name() : "pid", pid)));
    }
    for (const auto& key : threads_) {
      auto it = thread_names_.find(key);
      emit(metadata("thread_name", key.first, key.second,
                    it != thread_names_.end() ? fmt::format("{} {}", it->second, key.second)
                                              : fmt::format("thread {}", key.second)));
    }
    Json other;
    other["wstrace_version"] = header_.wstrace_version;
    other["host"] = header_.host;
    other["command"] = header_.command;
    other["start_time"] = present::utc_text(header_.wall_ns(inspector_->first_ts()));
    out_.write(fmt::format("\n],\"displayTimeUnit\":\"ns\",\"otherData\":{}}}\n",
                           present::json_dump(other)));
    return out_.commit();
  }

 private:
  double micros(int64_t ts) const {
    return static_cast<double>(ts - inspector_->first_ts()) / 1000.0;
  }

  static Json metadata(const char* what, uint32_t pid, uint32_t tid, const std::string& name) {
    Json m;
    m["name"] = what;
    m["ph"] = "M";
    m["pid"] = pid;
    m["tid"] = tid;
    m["args"] = {{"name", name}};
    return m;
  }

  void emit(const Json& j) {
    out_.write(count_++ ? ",\n" : "\n");
    out_.write(present::json_dump(j));
  }

  ExportOptions opt_;
  Output out_;
  trace::TraceHeader header_;
  const inspect::Inspector* inspector_ = nullptr;
  int64_t last_ts_ = 0;
  uint64_t count_ = 0;
  std::set<std::pair<uint32_t, uint32_t>> threads_;  // (pid, tid) of the slices written
  std::map<std::pair<uint32_t, uint32_t>, std::string> thread_names_;
};

}  // namespace

Result<std::unique_ptr<Exporter>> make_chrome_exporter(const ExportOptions& opt) {
  return std::unique_ptr<Exporter>(new ChromeExporter(opt));
}

}  // namespace ws::exporter
