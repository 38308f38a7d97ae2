#include <time.h>
#include <unistd.h>

#include <filesystem>

#include "common.h"

namespace ws::cli {

int64_t local_utc_offset_ns() {
  time_t now = time(nullptr);
  struct tm tm {};
  localtime_r(&now, &tm);
  return static_cast<int64_t>(tm.tm_gmtoff) * 1'000'000'000;
}

std::string agent_path() {
  std::error_code ec;
  auto dir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
  for (auto candidate : {dir / "../lib/libwstrace-agent.so", dir / "libwstrace-agent.so"})
    if (std::filesystem::exists(candidate, ec))
      return std::filesystem::weakly_canonical(candidate, ec).string();
  return (dir / "../lib/libwstrace-agent.so").lexically_normal().string();
}

std::vector<std::string> utf8_args(int argc, char** argv) {
  return std::vector<std::string>(argv, argv + argc);
}

bool stderr_is_terminal() { return isatty(STDERR_FILENO); }
bool stdout_is_terminal() { return isatty(STDOUT_FILENO); }

}  // namespace ws::cli
