// slow-lookup: name lookups that took at least --slow-lookup, by name, with the family asked.
#include <fmt/format.h>

#include <map>
#include <set>

#include "rules.h"

namespace ws::inspect::rules {
namespace {

constexpr size_t kMaxNames = 1024;

struct Name {
  Finding f;
  uint64_t slow = 0, max = 0, total = 0;
  std::set<std::string> asked;
};

class SlowLookup : public Rule {
 public:
  explicit SlowLookup(const DiagnoseOptions& o) : limit_(o.slow_lookup_ns) {}
  std::string_view id() const override { return "slow-lookup"; }

  void on_lookup(const Lookup& l) override {
    if (!l.answered || l.dur < limit_) return;
    if (!names_.count(l.name) && names_.size() >= kMaxNames) return;
    Name& n = names_[l.name];
    if (n.slow++ == 0) n.f.first_ts = l.ts;
    n.max = std::max(n.max, l.dur);
    n.total += l.dur;
    if (!l.asked.empty() && n.asked.size() < 4) n.asked.insert(l.asked);
    add_call(n.f.calls, lookup_ref(l));
  }

  void finish(const Tracker&, std::vector<Finding>& out) override {
    for (auto& [name, n] : names_) {
      Finding f = n.f;
      f.rule = "slow-lookup";
      f.severity = Severity::Warning;
      std::string asked;
      for (const auto& a : n.asked) asked += (asked.empty() ? "" : ", ") + a;
      f.title = fmt::format("lookup of \"{}\"{} took {}{}", name,
                            asked.empty() ? "" : " (" + asked + ")", duration_str(n.max),
                            n.slow > 1 ? fmt::format(" (slowest of {} slow lookups)", n.slow) : "");
      f.counts = {{"slow lookups", fmt::format("{}", n.slow)},
                  {"slowest", duration_str(n.max)},
                  {"time spent", duration_str(n.total)},
                  {"threshold", duration_str(limit_)}};
      f.meaning = "The resolver waited for a DNS server: a first server that does not answer "
                  "(the resolver then times out and tries the next), a slow upstream, or an "
                  "AAAA query that goes unanswered.";
      f.next = "Check the DNS servers in /etc/resolv.conf ('ipconfig /all'), their order and "
               "timeouts ('options timeout:'), time 'dig NAME' against each; cache the result "
               "in the program if it looks the same name up again and again.";
      out.push_back(std::move(f));
    }
  }

 private:
  uint64_t limit_;
  std::map<std::string, Name> names_;
};

}  // namespace

std::unique_ptr<Rule> make_slow_lookup(const DiagnoseOptions& o) {
  return std::make_unique<SlowLookup>(o);
}

}  // namespace ws::inspect::rules
