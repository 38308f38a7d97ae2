#include <io.h>
#include <windows.h>

#include <cstdio>
#include <string>

#include "common.h"

namespace ws::cli {

int64_t local_utc_offset_ns() {
  TIME_ZONE_INFORMATION tz{};
  DWORD mode = GetTimeZoneInformation(&tz);
  LONG bias = tz.Bias + (mode == TIME_ZONE_ID_DAYLIGHT ? tz.DaylightBias : 0);
  return -static_cast<int64_t>(bias) * 60 * 1'000'000'000;
}

std::string agent_path() {
  wchar_t exe[MAX_PATH * 4];
  DWORD n = GetModuleFileNameW(nullptr, exe, MAX_PATH * 4);
  std::wstring dir(exe, n);
  dir = dir.substr(0, dir.find_last_of(L"\\/") + 1) + L"wstrace-agent.dll";
  int len = WideCharToMultiByte(CP_ACP, 0, dir.data(), static_cast<int>(dir.size()), nullptr, 0,
                                nullptr, nullptr);
  std::string s(static_cast<size_t>(len), '\0');
  WideCharToMultiByte(CP_ACP, 0, dir.data(), static_cast<int>(dir.size()), s.data(), len, nullptr,
                      nullptr);
  return s;
}

bool stderr_is_terminal() { return _isatty(_fileno(stderr)); }
bool stdout_is_terminal() { return _isatty(_fileno(stdout)); }

// (The Windows build has no live view yet: live_server_none.cc.)
void open_in_browser(const std::string&) {
  report("cannot start a browser here: open the URL above yourself");
}

void wait_for_interrupt() {
  HANDLE quit = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  static HANDLE event = quit;
  SetConsoleCtrlHandler([](DWORD) -> BOOL { return SetEvent(event); }, TRUE);
  WaitForSingleObject(quit, INFINITE);
}

}  // namespace ws::cli
