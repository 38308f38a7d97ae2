// Every finding rule, in one list: its id, its one-line summary and how to make it.
#pragma once

#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "../lost_tracing.h"
#include "rule.h"

namespace ws::inspect {

struct RuleInfo {
  std::string_view id;
  std::string_view summary;
  std::unique_ptr<Rule> (*make)(const DiagnoseOptions&);
};
std::span<const RuleInfo> all_rules();
std::vector<std::unique_ptr<Rule>> make_rules(const DiagnoseOptions& options);

// Findings that rest on calls the trace does not hold (Finding::over_gaps), about a process that
// dropped records — or any, when records were dropped with no process named: the drops may
// explain them. They become info, their title and meaning say so, and they count the drops.
void weaken_over_drops(std::vector<Finding>& findings, const LostTracing& lost,
                       const Tracker& tracker);

}  // namespace ws::inspect
