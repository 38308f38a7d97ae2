// Units and addresses the unit tests share (one definition: the tests are compiled a few files
// at a time, CMakeLists.txt's WSTRACE_UNITY_BUILD).
#pragma once

#include <cstdint>

namespace ws::test {

inline constexpr int64_t kUs = 1'000;
inline constexpr int64_t kMs = 1'000'000;
inline constexpr uint32_t kLoop = 0x7f000001;  // 127.0.0.1, in host order

}  // namespace ws::test
