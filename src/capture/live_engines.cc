// The registry of live engines: `record --engine NAME` picks one at run time.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engines.h"

namespace ws::capture {
namespace {

constexpr std::string_view kAuto = "auto";

// The entry named `name` ("auto": the first), or nullptr.
const EngineEntry* find_engine(std::string_view name) {
  const auto engines = platform_engines();
  if (name == kAuto) return engines.empty() ? nullptr : &engines.front();
  for (const EngineEntry& e : engines)
    if (e.name == name) return &e;
  return nullptr;
}

RecordError unknown_engine(std::string_view name) {
  return {2, fmt::format("unknown engine '{}': the engines of this build are {}", name,
                         fmt::join(live_engine_names(), ", "))};
}

}  // namespace

std::vector<std::string> live_engine_names() {
  std::vector<std::string> names{std::string(kAuto)};
  for (const EngineEntry& e : platform_engines()) names.emplace_back(e.name);
  return names;
}

RecordError start_record(std::string_view engine, const RecordOptions& opt,
                         std::unique_ptr<LiveEngine>& out, std::string& warning) {
  const EngineEntry* e = find_engine(engine);
  if (!e) return unknown_engine(engine);
  if (engine == kAuto) {
    std::string why;
    e = &platform_auto_engine(opt, why);
    if (!why.empty() && opt.on_note) opt.on_note(why);
  }
  return e->record(opt, out, warning);
}

RecordError start_attach(const RecordOptions& opt, std::unique_ptr<LiveEngine>& out) {
  for (const EngineEntry& e : platform_engines())
    if (e.attach) return e.attach(opt, out);
  return {1, "attach is not available in this build"};
}

RecordError start_system(const RecordOptions& opt, std::unique_ptr<LiveEngine>& out) {
  for (const EngineEntry& e : platform_engines())
    if (e.system) return e.system(opt, out);
  return {1, "system-wide capture (record --system) needs the Linux kernel engine, which this "
             "build does not have"};
}

}  // namespace ws::capture
