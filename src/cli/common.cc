#include "common.h"

#include <cstdio>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "live_feed.h"
#include "safe_text.h"

namespace ws::cli {

void report(const std::string& message) { fmt::print(stderr, "wstrace: {}\n", message); }

void print_line(std::FILE* out, std::string_view line) {
  const std::string safe = present::printable(line);
  std::fwrite(safe.data(), 1, safe.size(), out);
  std::fputc('\n', out);
}

std::unique_ptr<Engine> open_trace(const std::string& path, bool follow, bool show_secrets) {
  trace::TraceReader::Options opt;
  opt.follow = follow;
  auto e = open_file_engine(path, opt);
  if (!e.ok()) {
    report(e.status().message());
    return nullptr;
  }
  if (show_secrets) return std::move(e.value());
  return mask_secrets(std::move(e.value()));
}

void add_show_secrets_flag(CLI::App& cmd, bool& show) {
  cmd.add_flag("--show-secrets", show,
               "show the credentials in payloads and headers (Authorization, "
               "Proxy-Authorization, Cookie and Set-Cookie values, URL passwords), masked by "
               "default");
}

void add_ui_window_option(CLI::App& cmd, size_t& window) {
  cmd.add_option("--ui-window", window,
                 fmt::format("calls the live view keeps for a page that falls behind (default {}; "
                             "its tables of texts start again past twice that)",
                             report::LiveFeed::kDefaultWindow))
      ->check(CLI::Range(size_t{1000}, size_t{100000000}));
}

bool parse_filter(const std::string& text, inspect::Filter& out) {
  if (text.empty()) {
    out = inspect::Filter();
    return true;
  }
  auto f = inspect::Filter::parse(text);
  if (!f.ok()) {
    report("bad filter:\n" + f.status().message());
    return false;
  }
  out = std::move(f.value());
  return true;
}

int finish(const Engine& engine) {
  const auto& p = engine.end();
  if (p.kind == trace::ReadProblem::Kind::None) return kExitOk;
  std::fflush(stdout);
  report(p.message);
  return kExitIncomplete;
}

}  // namespace ws::cli
