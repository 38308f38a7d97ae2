#include <algorithm>
#include <bit>
#include <climits>
#include <cstdio>
#include <memory>
#include <optional>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "collector_core.h"
#include "record.h"
#include "redact.h"
#include "ring.h"
#include "commands.h"
#include "common.h"
#include "filter.h"
#include "counts.h"
#include "inspector.h"
#include "live_feed.h"
#include "live_server.h"
#include "older_calls.h"
#include "notes.h"
#include "view.h"

namespace ws::cli {
namespace {

// --tcp-info-interval and --no-tcp-info of record and attach.
struct TcpInfoArgs {
  uint32_t interval_ms = 1000;
  bool off = false;
  uint32_t region_value() const {
    return off ? 0 : interval_ms == 0 ? capture::kTcpInfoEnds : interval_ms;
  }
};

void add_tcp_info_flags(CLI::App& cmd, TcpInfoArgs& t) {
  cmd.add_option("--tcp-info-interval", t.interval_ms,
                 "read a TCP connection's statistics (RTT, retransmissions) at a send or receive "
                 "at most every MS milliseconds, besides when it is set up and before it ends; "
                 "0: only then (default 1000)")
      ->option_text("MS");
  cmd.add_flag("--no-tcp-info", t.off, "never read TCP statistics");
}

// --ui, --ui-port and --open: the live view (live_server.h).
struct UiArgs {
  bool on = false, open = false;
  uint16_t port = 0;
  size_t window = report::LiveFeed::kDefaultWindow;
};

void add_ui_flags(CLI::App& cmd, UiArgs& ui) {
  cmd.add_flag("--ui", ui.on,
               "serve the live view: the report's page, updated as calls happen, at the "
               "http://127.0.0.1:PORT/?token=… URL printed (docs/report.md)");
  cmd.add_option("--ui-port", ui.port, "the live view's port (default: a free one)");
  cmd.add_flag("--open", ui.open, "open the live view in the default browser");
  add_ui_window_option(cmd, ui.window);
}

struct RecordArgs {
  std::string output, snaplen = "1024", filter, engine = "auto", duration;
  bool no_follow = false, quiet = false, redact = false, show_secrets = false, system = false;
  UiArgs ui;
  TcpInfoArgs tcp;
  uint32_t ring_kib = 0;
  std::vector<std::string> argv;
};

bool parse_snaplen(const std::string& s, uint32_t& out) {
  if (s == "max") {
    out = UINT32_MAX;
    return true;
  }
  try {
    size_t used = 0;
    unsigned long v = std::stoul(s, &used);
    if (used != s.size() || v > UINT32_MAX) return false;
    out = static_cast<uint32_t>(v);
    return true;
  } catch (...) {
    return false;
  }
}

// What record makes of the events of its engine as they come: the live lines on stderr (local
// times, colours on a terminal, the lines that pass the filter), and its summary: the counts as
// `info` gives them (calls, failures — outcomes such as EAGAIN are none), then tracing lost and
// the findings. One Inspector follows the events with credentials in payloads masked,
// as `diagnose` reads the file, or as they came when secrets are to be shown (or are masked
// already: record --redact) — the filter of the live lines then sees what the lines show.
class RecordView final : public inspect::Subscriber {
 public:
  // No live lines when `filter` is empty; no findings unless `findings`.
  RecordView(std::optional<inspect::Filter> filter, bool show_secrets, bool findings)
      : show_secrets_(show_secrets), lines_(filter.has_value()), findings_(findings) {
    inspect::InspectOptions io;
    if (filter) io.filter = std::move(*filter);
    if (findings_) {
      io.http = true;
      io.findings = inspect::DiagnoseOptions{};
    }
    inspector_ = std::make_unique<inspect::Inspector>(std::move(io));
    inspector_->subscribe(*this);
    inspector_->subscribe(counts_);
  }

  // Follows `ev`, in the engine's order.
  void observe(const Event& ev, const trace::TraceHeader& h) {
    header_ = &h;
    if (show_secrets_ || (!lines_ && !findings_)) {  // nothing shown: the counts need no masking
      inspector_->observe(ev);
      return;
    }
    masked_ = ev;
    redactor_.redact(masked_);
    inspector_->observe(masked_);
  }

  void on_event(const inspect::Facts& f) override {
    if (!lines_ || !f.matched) return;
    fmt::print(stderr, "{}\n",
               present::event_line(f.ev, *header_, text_, 0, present::line_notes(f, name_)));
    std::fflush(stderr);
  }

  // The trace is over: the counts are complete.
  void finish() { inspector_->finish(); }
  inspect::Inspector& inspection() { return *inspector_; }
  const inspect::TraceSummary& counts() const { return counts_; }

  // The lines that end record's summary: processes whose tracing was lost, the findings (unless
  // not `with_findings`: -q with the live view, which shows them).
  void print_end(const capture::RecordSummary& sum, const trace::TraceHeader& h,
                 bool with_findings = true) {
    const inspect::LostTracing& lost = counts_.lost();
    if (sum.lost || !lost.unseen().empty()) print_lost_tracing(lost, h, counts_.first_ts(), stderr);
    if (findings_ && with_findings)
      print_findings(inspector_->findings(), inspector_->first_ts(), sum.output, stderr);
  }

 private:
  static present::TextOptions live_text() {
    present::TextOptions text;
    text.time = present::TimeMode::Local;
    text.utc_offset_ns = local_utc_offset_ns();
    text.color = stderr_is_terminal();
    return text;
  }

  bool show_secrets_, lines_, findings_;
  present::TextOptions text_ = live_text();
  std::unique_ptr<inspect::Inspector> inspector_;
  inspect::TraceSummary counts_;
  decode::PayloadRedactor redactor_;
  Event masked_;
  const trace::TraceHeader* header_ = nullptr;
  std::string name_;
};

// The live view of a recording: a LiveFeed on record's inspection and its server. The
// inspection observes under the feed's lock (pages read the feed meanwhile), never waiting on a
// page. The calls a page no longer holds are read again from the trace being written (`trace`,
// masked as the inspection saw them unless `show_secrets`; `filter`: the one the page's calls
// passed).
class LiveView {
 public:
  LiveView(inspect::Inspector& inspection, const trace::TraceHeader& header, std::string trace,
           bool show_secrets, std::string filter, size_t window)
      : feed_(inspection, header, window),
        older_([trace, show_secrets] { return open_trace(trace, false, show_secrets); },
               std::move(filter)) {}

  Status start(const UiArgs& ui) {
    ui::ServeOptions so;
    so.port = ui.port;
    so.calls = [this](const std::string& query, const std::atomic<bool>& cancelled) {
      return older_.answer(query, cancelled);
    };
    auto server = ui::start_live_server(feed_, so);
    if (!server.ok()) return server.status();
    server_ = std::move(server.value());
    fmt::print(stderr, "wstrace: live view at {}\n", server_->url());
    std::fflush(stderr);
    if (ui.open) open_in_browser(server_->url());
    return Status();
  }

  // Runs `step` (the inspection observing) under the feed's lock, then wakes the pages.
  template <typename F>
  void observe(F&& step) {
    {
      std::lock_guard lock(feed_.mutex());
      step();
    }
    feed_.notify();
  }
  void over() { feed_.set_over(); }

  // The recording is over: the page stays until Ctrl+C (or SIGTERM).
  void serve_until_interrupted() {
    wait_for_interrupt([&] {
      fmt::print(stderr, "wstrace: recording over; the live view stays at {} until Ctrl+C\n",
                 server_->url());
      std::fflush(stderr);
    });
    server_->stop();
  }

 private:
  report::LiveFeed feed_;
  ui::OlderCalls older_;
  std::unique_ptr<ui::LiveServer> server_;
};

// The live view of `view`'s inspection when --ui asks for one; none when it cannot be served
// (said: the program runs on, the trace is being written). `show_secrets` and `filter`: as
// `view` sees the events (LiveView).
std::unique_ptr<LiveView> start_live_view(const UiArgs& ui, RecordView& view,
                                          capture::LiveEngine& engine, bool show_secrets,
                                          std::string filter) {
  if (!ui.on) return nullptr;
  auto live = std::make_unique<LiveView>(view.inspection(), engine.header(),
                                         engine.summary().output, show_secrets, std::move(filter),
                                         ui.window);
  if (Status s = live->start(ui); !s.ok()) {
    report(s.message());
    return nullptr;
  }
  return live;
}

// Follows the engine's events to their end, in `live` too when there is one.
void follow(capture::LiveEngine& engine, RecordView& view, LiveView* live) {
  Event ev;
  if (live) {
    while (engine.next(ev)) live->observe([&] { view.observe(ev, engine.header()); });
    live->observe([&] { view.finish(); });
    live->over();
  } else {
    while (engine.next(ev)) view.observe(ev, engine.header());
    view.finish();
  }
}

// "3 ring full, 5 no free ring (64 rings), 1 ring damaged by the program"
std::string drop_reasons(const capture::RecordSummary& sum) {
  const uint64_t* by = sum.dropped_by_reason;
  std::string out;
  auto part = [&](uint64_t n, const std::string& what) {
    if (n) out += fmt::format("{}{} {}", out.empty() ? "" : ", ", n, what);
  };
  part(by[1], "ring full");
  part(by[2], fmt::format("no free ring (all {} rings taken by other threads)", sum.rings));
  part(by[3], "ring damaged by the program");
  part(by[4], "kernel ring buffer full");
  return out;
}

// --duration: a number with a unit (ms, s, min, h; seconds without one), as nanoseconds.
bool parse_duration(const std::string& s, int64_t& ns) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  const std::string unit(end);
  const double scale = unit == "ms" ? 1e6 : unit.empty() || unit == "s" ? 1e9
                       : unit == "min"                                  ? 60e9
                       : unit == "h"                                    ? 3600e9
                                                                        : 0;
  if (end == s.c_str() || !(v > 0) || scale == 0 || v * scale > 9e18) return false;
  ns = static_cast<int64_t>(v * scale);
  return true;
}

// `record --system`'s line once the kernel checks every process: from here on a connection is
// seen (scripts and tests wait for it).
void say_system_ready(const capture::RecordOptions& opt) {
  fmt::print(stderr, "wstrace: recording every process with the kernel engine{}{}; Ctrl+C ends\n",
             opt.filter.empty() ? "" : fmt::format(", keeping what passes '{}'", opt.filter),
             opt.duration_ns ? fmt::format(" (at most {} s)", static_cast<double>(opt.duration_ns) / 1e9)
                             : "");
  std::fflush(stderr);
}

int run_record(const RecordArgs& a) {
  capture::RecordOptions opt;
  opt.output = a.output;
  opt.follow = !a.no_follow;
  opt.tcp_info_ms = a.tcp.region_value();
  opt.argv = a.argv;
  opt.agent_path = agent_path();
  if (a.ring_kib) opt.ring_bytes = std::bit_ceil(std::max<uint32_t>(a.ring_kib, 8)) * 1024;
  if (!parse_snaplen(a.snaplen, opt.snaplen)) {
    report(fmt::format("-s takes a number of bytes or 'max', not '{}'", a.snaplen));
    return kExitUsage;
  }
  inspect::Filter filter;
  if (!parse_filter(a.filter, filter)) return kExitUsage;
  opt.redact = a.redact;
  opt.on_warning = [](const std::string& w) { report("warning: " + w); };
  if (!a.quiet) opt.on_note = [](const std::string& n) { report(n); };
  if (a.system) {
    if (!a.argv.empty()) {
      report("record --system traces every process: it takes no program");
      return kExitUsage;
    }
    if (a.engine != "auto" && a.engine != "ebpf") {
      report(fmt::format("record --system needs the kernel engine (ebpf), not '{}'", a.engine));
      return kExitUsage;
    }
    opt.mode = capture::RecordOptions::Mode::System;
    opt.filter = a.filter;
    if (!a.duration.empty() && !parse_duration(a.duration, opt.duration_ns)) {
      report(fmt::format("--duration takes a time such as 30s, 500ms or 5min, not '{}'",
                         a.duration));
      return kExitUsage;
    }
  } else if (!a.duration.empty()) {
    report("--duration goes with --system (a program's recording ends with the program)");
    return kExitUsage;
  } else if (a.argv.empty()) {
    report("record needs a program to run: wstrace record -- PROGRAM [ARGS…] (or --system)");
    return kExitUsage;
  }
  // (before the program starts, and record becomes the subreaper of its processes)
  if (a.ui.on && a.ui.open) prepare_browser();
  std::unique_ptr<capture::LiveEngine> engine;
  std::string warning;
  capture::RecordError err = a.system ? capture::start_system(opt, engine)
                                      : capture::start_record(a.engine, opt, engine, warning);
  if (!err.exit_code && a.system && !a.quiet) say_system_ready(opt);
  if (err.exit_code) {
    if (!warning.empty()) report("warning: " + warning);
    report(err.message);
    return err.exit_code;
  }
  RecordView view(a.quiet ? std::nullopt : std::optional(std::move(filter)),
                  a.show_secrets || a.redact, !a.quiet || a.ui.on);
  std::unique_ptr<LiveView> live = start_live_view(a.ui, view, *engine, a.show_secrets || a.redact,
                                                   a.quiet ? "" : a.filter);
  follow(*engine, view, live.get());
  if (!warning.empty()) report("warning: " + warning);
  const capture::RecordSummary& sum = engine->summary();
  if (!sum.agent_refused.empty()) {  // (the program ran, untraced: its status is not ours)
    report(capture::other_build_message(opt.agent_path, sum.agent_refused));
    return kExitError;
  }
  if (!sum.problem.empty()) report(sum.problem + "; the program ran on untraced from there");
  const inspect::TraceSummary& counts = view.counts();
  if (!a.quiet || sum.dropped || sum.lost || !sum.problem.empty())
    fmt::print(stderr, "wstrace: {} process{}, {} calls ({} failed), {}, {} record{} dropped; "
               "trace in {}\n",
               sum.processes, sum.processes == 1 ? "" : "es", counts.calls(), counts.failed(),
               counts.connections_text(), sum.dropped, sum.dropped == 1 ? "" : "s", sum.output);
  if (sum.dropped) fmt::print(stderr, "wstrace: dropped: {}\n", drop_reasons(sum));
  view.print_end(sum, engine->header(), !a.quiet);
  if (live) live->serve_until_interrupted();
  return sum.exit_status;
}

struct AttachArgs {
  std::string output, snaplen = "1024", filter;
  bool quiet = false, redact = false, show_secrets = false;
  UiArgs ui;
  TcpInfoArgs tcp;
  std::vector<uint32_t> pids;
};

int run_attach(const AttachArgs& a) {
  capture::RecordOptions opt;
  opt.output = a.output;
  opt.agent_path = agent_path();
  opt.tcp_info_ms = a.tcp.region_value();
  if (!parse_snaplen(a.snaplen, opt.snaplen)) {
    report(fmt::format("-s takes a number of bytes or 'max', not '{}'", a.snaplen));
    return kExitUsage;
  }
  inspect::Filter filter;
  if (!parse_filter(a.filter, filter)) return kExitUsage;
  opt.redact = a.redact;
  opt.pids = a.pids;
  opt.on_warning = [](const std::string& w) { report("warning: " + w); };
  if (a.ui.on && a.ui.open) prepare_browser();
  std::unique_ptr<capture::LiveEngine> engine;
  capture::RecordError err = capture::start_attach(opt, engine);
  if (err.exit_code) {
    report(err.message);
    return err.exit_code;
  }
  if (!a.quiet)
    fmt::print(stderr, "wstrace: attached to process{} {}\n", a.pids.size() == 1 ? "" : "es",
               fmt::join(a.pids, ", "));
  std::fflush(stderr);  // a C runtime may buffer stderr when it is not a console
  RecordView view(a.quiet ? std::nullopt : std::optional(std::move(filter)),
                  a.show_secrets || a.redact, a.ui.on);
  std::unique_ptr<LiveView> live = start_live_view(a.ui, view, *engine, a.show_secrets || a.redact,
                                                   a.quiet ? "" : a.filter);
  follow(*engine, view, live.get());
  const capture::RecordSummary& sum = engine->summary();
  if (!sum.problem.empty()) report(sum.problem);
  if (!a.quiet)
    fmt::print(stderr, "wstrace: {} calls ({} failed), {} records dropped; trace in {}\n",
               view.counts().calls(), view.counts().failed(), sum.dropped, sum.output);
  if (live) live->serve_until_interrupted();
  return kExitOk;
}

void add_redact_flags(CLI::App& cmd, bool& redact, bool& show) {
  cmd.add_flag("--redact", redact,
               "mask the credentials in payloads (Authorization, Proxy-Authorization, Cookie "
               "and Set-Cookie values, URL passwords) before they are written: the trace "
               "holds none");
  add_show_secrets_flag(cmd, show);
}

}  // namespace

void add_attach_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<AttachArgs>();
  auto* cmd = app.add_subcommand(
      "attach", "Trace running programs from now on, until they exit or Ctrl+C (Linux: with the "
                "kernel engine)");
  cmd->add_option("-o,--output", a->output, "trace file (default wstrace-YYYYmmdd-HHMMSS.wst)");
  cmd->add_option("-s,--snaplen", a->snaplen, "payload bytes kept per call (default 1024)");
  cmd->add_flag("-q,--quiet", a->quiet, "no live lines, no summary");
  add_redact_flags(*cmd, a->redact, a->show_secrets);
  add_tcp_info_flags(*cmd, a->tcp);
  add_ui_flags(*cmd, a->ui);
  cmd->add_option("--filter", a->filter,
                  "live lines only for the calls that match (the trace keeps every call)");
  cmd->add_option("PID", a->pids,
                  "process ids (Linux: several, each with its later children; Windows: one)")
      ->required();
  cmd->callback([a, &exit_code] { exit_code = run_attach(*a); });
}

void add_record_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<RecordArgs>();
  auto* cmd = app.add_subcommand("record", "Run a program and trace its socket calls");
  cmd->add_option("-o,--output", a->output, "trace file (default wstrace-YYYYmmdd-HHMMSS.wst)");
  cmd->add_option("-s,--snaplen", a->snaplen,
                  "payload bytes kept per call: a number, 0 for none, or max (default 1024)");
  cmd->add_flag("--no-follow", a->no_follow, "trace only the program, not its children");
  cmd->add_option("--engine", a->engine,
                  fmt::format("how calls are captured: {} (default auto: the best for the "
                              "program; preload: an agent loaded into it)",
                              fmt::join(capture::live_engine_names(), ", ")));
  cmd->add_option("--filter", a->filter,
                  "live lines only for the calls that match (the trace keeps every call); with "
                  "--system, its process, pid, port, address and function terms are checked in "
                  "the kernel, which keeps no call they rule out");
  cmd->add_flag("--system", a->system,
                "trace every process of the machine (the kernel engine) instead of a program, "
                "until Ctrl+C or --duration");
  cmd->add_option("--duration", a->duration, "(--system) stop after this long: 30s, 500ms, 5min")
      ->option_text("TIME");
  cmd->add_flag("-q,--quiet", a->quiet, "no live lines, no summary");
  add_redact_flags(*cmd, a->redact, a->show_secrets);
  add_tcp_info_flags(*cmd, a->tcp);
  add_ui_flags(*cmd, a->ui);
  cmd->add_option("--ring-kib", a->ring_kib,
                  "ring size per thread in KiB (default 1024); larger rides out longer bursts (with "
                  "--engine ebpf: the kernel's one ring buffer, default 16384)")
      ->check(CLI::Range(8u, 1u << 20));
  cmd->add_option("PROGRAM", a->argv, "the program and its arguments (after --)");
  cmd->prefix_command(false);
  cmd->positionals_at_end(true);
  cmd->callback([a, &exit_code] { exit_code = run_record(*a); });
}

}  // namespace ws::cli
