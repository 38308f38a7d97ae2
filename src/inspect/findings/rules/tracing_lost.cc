// tracing-lost: parts of the program wstrace could not see — a process the agent could not
// follow into a new program or a child (setuid, file capabilities, a changed user, a static,
// 32-bit or Go program), and records it had to drop — with the process, from when and why.
#include <fmt/format.h>

#include "lost_tracing.h"
#include "rules.h"

namespace ws::inspect::rules {
namespace {

class TracingLost : public Rule {
 public:
  std::string_view id() const override { return "tracing-lost"; }

  void observe(const Facts& f) override {
    const Event& ev = f.ev;
    if (!lost_.observe(ev) || ev.type() != EventType::tracing_lost || !ev.error.ok()) return;
    CallRef r = call_ref(ev);
    const Value* image = ev.get(FieldId::image);
    const Value* child = ev.get(FieldId::child);
    r.text = fmt::format("tracing_lost(\"{}\"{}) = {}", image ? image->bytes() : "",
                         child ? fmt::format(", child={}", child->num) : "", ev.result);
    calls_[lost_pid(ev)] = std::move(r);
  }

  void finish(const Tracker& t, std::vector<Finding>& out) override {
    for (const auto& [pid, p] : lost_.processes()) out.push_back(lost_process(t, p));
    for (const auto& [key, d] : lost_.drops()) out.push_back(dropped(t, d));
    for (const auto& [pid, parts] : lost_.unseen())
      for (const auto& [what, u] : parts) out.push_back(unseen(t, u));
  }

 private:
  static std::string name_of(const Tracker& t, uint32_t pid) {
    const Process* proc = t.process(pid);
    return fmt::format("{}[{}]", proc ? proc->name() : "process", pid);
  }

  Finding lost_process(const Tracker& t, const LostProcess& p) {
    Finding f;
    f.rule = "tracing-lost";
    f.severity = Severity::Warning;
    f.first_ts = p.ts;
    f.title = fmt::format("{} is not traced from its exec of {}{}: {}", name_of(t, p.pid),
                          p.image, p.by_pid != p.pid ? " (started by " + name_of(t, p.by_pid) + ")"
                                                     : std::string(),
                          p.cause);
    if (auto it = calls_.find(p.pid); it != calls_.end()) add_call(f.calls, it->second);
    f.counts = {{"process", fmt::format("{}", p.pid)}, {"image", p.image}};
    if (p.resumed_ts)
      f.counts.emplace_back("traced again after", duration_str(static_cast<uint64_t>(
                                                      p.resumed_ts - p.ts)));
    f.meaning = "The agent could not enter the program this process became, so its socket calls "
                "from then on are not in the trace (nor those of its children): the trace is "
                "incomplete, not the program quiet.";
    f.next = "For setuid/setgid images, file capabilities or a changed user, run wstrace as the "
             "user the program runs as (or as root); a static, 32-bit or Go program needs a "
             "tracer that works below libc (strace -f -e trace=network).";
    return f;
  }

  static Finding dropped(const Tracker& t, const DroppedRecords& d) {
    Finding f;
    f.rule = "tracing-lost";
    f.severity = Severity::Warning;
    f.first_ts = d.first_ts;
    const std::string who = d.pid ? name_of(t, d.pid) : std::string("some process");
    f.title = fmt::format("{} record{} of {} dropped: {}", d.records, d.records == 1 ? "" : "s",
                          who, d.cause);
    f.counts = {{"dropped", fmt::format("{}", d.records)}};
    if (d.pid) f.counts.emplace_back("process", fmt::format("{}", d.pid));
    f.meaning = "The agent could not queue these calls, so they are missing from the trace; "
                "connections and counts around them may look wrong.";
    f.next = "Record again with larger rings (--ring-kib) or a smaller snap length (-s); when "
             "no ring was free, fewer threads making socket calls at once.";
    return f;
  }

  static Finding unseen(const Tracker& t, const UnseenPart& u) {
    Finding f;
    f.rule = "tracing-lost";
    f.severity = Severity::Warning;
    f.first_ts = u.ts;
    f.title = fmt::format("{} makes socket calls wstrace cannot see ({}): {}", name_of(t, u.pid),
                          u.what, u.cause);
    f.counts = {{"process", fmt::format("{}", u.pid)}, {"unseen", u.what}};
    if (u.what == "body-hook") {  // (the Windows agent: body_hook.h)
      f.meaning = "The agent could not put its hook on this function's first instructions (it "
                  "would have had to move instructions it cannot move safely), so the "
                  "function's calls are not recorded: connections may look quiet or unclosed, "
                  "bytes may be missing.";
      f.next = "Read this process's connections as incomplete, and report the function and the "
               "Windows version it ran on.";
      return f;
    }
    f.meaning = u.what == "io_uring"
                    ? "What the program submits through io_uring reaches the kernel without a "
                      "libc call, so a preloaded agent never sees it: connections and bytes that "
                      "go that way are missing from the trace."
                    : "Some of its socket calls go to the kernel without libc (a system call "
                      "instruction: static code, Go, inline assembly), so the agent does not see "
                      "them: connections may look unclosed or quiet, bytes may be missing.";
    f.next = "Read this process's connections as incomplete. A tracer below libc sees these "
             "calls (strace -f -e trace=network).";
    return f;
  }

  LostTracing lost_;
  std::unordered_map<uint32_t, CallRef> calls_;  // per lost process: the event that said so
};

}  // namespace

std::unique_ptr<Rule> make_tracing_lost(const DiagnoseOptions&) {
  return std::make_unique<TracingLost>();
}

}  // namespace ws::inspect::rules
