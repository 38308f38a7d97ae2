#include "common.h"

#include <cstdio>

#include <fmt/format.h>

namespace ws::cli {

void report(const std::string& message) { fmt::print(stderr, "wstrace: {}\n", message); }

std::unique_ptr<Engine> open_trace(const std::string& path, bool follow) {
  trace::TraceReader::Options opt;
  opt.follow = follow;
  auto e = open_file_engine(path, opt);
  if (!e.ok()) {
    report(e.status().message());
    return nullptr;
  }
  return std::move(e.value());
}

int finish(const Engine& engine) {
  const auto& p = engine.end();
  if (p.kind == trace::ReadProblem::Kind::None) return kExitOk;
  std::fflush(stdout);
  report(p.message);
  return kExitIncomplete;
}

}  // namespace ws::cli
