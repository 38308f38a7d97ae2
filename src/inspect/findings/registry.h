// Every finding rule, in one list: its id, its one-line summary and how to make it.
#pragma once

#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "rule.h"

namespace ws::inspect {

struct RuleInfo {
  std::string_view id;
  std::string_view summary;
  std::unique_ptr<Rule> (*make)(const DiagnoseOptions&);
};
std::span<const RuleInfo> all_rules();
std::vector<std::unique_ptr<Rule>> make_rules(const DiagnoseOptions& options);

}  // namespace ws::inspect
