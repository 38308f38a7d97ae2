// lookup-failed: name lookups that failed, by name, with the family asked and what the failure
// says: the name does not exist (EAI_NONAME, WSAHOST_NOT_FOUND, NXDOMAIN) or the resolver could
// not answer now (EAI_AGAIN, WSATRY_AGAIN, SERVFAIL, no answer).
#include <fmt/format.h>

#include <map>
#include <set>

#include "error_class.h"
#include "rules.h"

namespace ws::inspect::rules {
namespace {

constexpr size_t kMaxNames = 1024;

enum class Kind { NotFound, Temporary, Other };

Kind kind_of(const std::string& result) {
  std::string_view name = result;
  if (const ErrorInfo* info = find_error(result)) {
    if (!info->posix.empty() && info->posix != "-") name = info->posix;
  }
  for (std::string_view n : {"EAI_NONAME", "HOST_NOT_FOUND", "NXDOMAIN", "EAI_NODATA", "NO_DATA",
                             "WSANO_DATA"})
    if (name == n) return Kind::NotFound;
  for (std::string_view n : {"EAI_AGAIN", "TRY_AGAIN", "SERVFAIL", "no answer"})
    if (name == n) return Kind::Temporary;
  return Kind::Other;
}

struct Name {
  Finding f;
  uint64_t failed = 0;
  std::set<std::string> asked, results;
  Kind kind = Kind::Other;
};

std::string joined(const std::set<std::string>& s) {
  std::string out;
  for (const auto& x : s) out += (out.empty() ? "" : ", ") + x;
  return out;
}

class LookupFailed : public Rule {
 public:
  std::string_view id() const override { return "lookup-failed"; }

  void on_lookup(const Lookup& l) override {
    if (l.ok) return;
    if (!names_.count(l.name) && names_.size() >= kMaxNames) return;
    Name& n = names_[l.name];
    const Kind k = kind_of(l.result);
    if (n.failed++ == 0) n.f.first_ts = l.ts, n.kind = k;
    else if (k == Kind::NotFound) n.kind = k;
    if (n.asked.size() < 4 && !l.asked.empty()) n.asked.insert(l.asked);
    if (n.results.size() < 4) n.results.insert(l.result);
    add_call(n.f.calls, lookup_ref(l));
  }

  void finish(const Tracker&, std::vector<Finding>& out) override {
    for (auto& [name, n] : names_) {
      Finding f = n.f;
      f.rule = "lookup-failed";
      f.severity = Severity::Error;
      f.over_gaps = n.results.count("no answer") > 0;  // an answer received but dropped
      const std::string asked = n.asked.empty() ? "" : " (" + joined(n.asked) + ")";
      f.counts = {{"failed lookups", fmt::format("{}", n.failed)},
                  {"results", joined(n.results)}};
      if (!n.asked.empty()) f.counts.emplace_back("family asked", joined(n.asked));
      switch (n.kind) {
        case Kind::NotFound:
          f.title = fmt::format("name \"{}\"{} does not resolve: {}", name, asked,
                                joined(n.results));
          f.meaning = "The resolver answered that the name does not exist, or has no address of "
                      "the family asked.";
          f.next = "Check the spelling, the search domains (/etc/resolv.conf, the DNS suffix "
                   "list), the hosts file, and 'getent hosts NAME' / 'nslookup NAME'; if only "
                   "one family was asked for, check that the name has that record (A or AAAA).";
          break;
        case Kind::Temporary:
          f.title = fmt::format("lookup of \"{}\"{} failed temporarily: {}", name, asked,
                                joined(n.results));
          f.meaning = "The DNS server did not answer in time or failed (SERVFAIL): the name may "
                      "well exist.";
          f.next = "Check that the DNS servers in /etc/resolv.conf ('ipconfig /all' on Windows) "
                   "are reachable on port 53 and answer ('dig @SERVER NAME'); retry later.";
          break;
        case Kind::Other:
          f.title = fmt::format("lookup of \"{}\"{} failed: {}", name, asked, joined(n.results));
          f.meaning = "The resolver reported an error for this name.";
          f.next = "See 'wstrace errors NAME' for what the error means, and check the resolver "
                   "configuration.";
          break;
      }
      out.push_back(std::move(f));
    }
  }

 private:
  std::map<std::string, Name> names_;
};

}  // namespace

std::unique_ptr<Rule> make_lookup_failed(const DiagnoseOptions&) {
  return std::make_unique<LookupFailed>();
}

}  // namespace ws::inspect::rules
