#include <time.h>

#include "common.h"

namespace ws::cli {

int64_t local_utc_offset_ns() {
  time_t now = time(nullptr);
  struct tm tm {};
  localtime_r(&now, &tm);
  return static_cast<int64_t>(tm.tm_gmtoff) * 1'000'000'000;
}

}  // namespace ws::cli
