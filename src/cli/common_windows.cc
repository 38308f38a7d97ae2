#include <windows.h>

#include "common.h"

namespace ws::cli {

int64_t local_utc_offset_ns() {
  TIME_ZONE_INFORMATION tz{};
  DWORD mode = GetTimeZoneInformation(&tz);
  LONG bias = tz.Bias + (mode == TIME_ZONE_ID_DAYLIGHT ? tz.DaylightBias : 0);
  return -static_cast<int64_t>(bias) * 60 * 1'000'000'000;
}

}  // namespace ws::cli
