#include <io.h>
#include <windows.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common.h"

// msvcrt's (declared by no mingw header): argv as UTF-16. `startinfo` is a _startupinfo, an int.
extern "C" int __wgetmainargs(int* argc, wchar_t*** argv, wchar_t*** env, int expand_wildcards,
                              int* startinfo);

namespace ws::cli {

int64_t local_utc_offset_ns() {
  TIME_ZONE_INFORMATION tz{};
  DWORD mode = GetTimeZoneInformation(&tz);
  LONG bias = tz.Bias + (mode == TIME_ZONE_ID_DAYLIGHT ? tz.DaylightBias : 0);
  return -static_cast<int64_t>(bias) * 60 * 1'000'000'000;
}

namespace {
std::string utf8(const wchar_t* w, size_t size) {
  const int n = static_cast<int>(size);
  int len = WideCharToMultiByte(CP_UTF8, 0, w, n, nullptr, 0, nullptr, nullptr);
  std::string s(static_cast<size_t>(len), '\0');
  WideCharToMultiByte(CP_UTF8, 0, w, n, s.data(), len, nullptr, nullptr);
  return s;
}
}  // namespace

std::string agent_path() {
  std::wstring exe(32768, L'\0');  // (the longest path Windows has)
  DWORD n = GetModuleFileNameW(nullptr, exe.data(), static_cast<DWORD>(exe.size()));
  exe.resize(n);
  std::wstring dll = exe.substr(0, exe.find_last_of(L"\\/") + 1) + L"wstrace-agent.dll";
  return utf8(dll.data(), dll.size());
}

std::vector<std::string> utf8_args(int argc, char** argv) {
  // The C runtime's own UTF-16 reading of the command line (the same rules as argv's):
  // CommandLineToArgvW would bring in shell32, which Wine takes a while to load.
  int n = 0;
  wchar_t** wide = nullptr;
  wchar_t** env = nullptr;
  int new_mode = 0;
  if (__wgetmainargs(&n, &wide, &env, 0, &new_mode) != 0 || !wide || n != argc)
    return std::vector<std::string>(argv, argv + argc);
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(utf8(wide[i], wcslen(wide[i])));
  return out;
}

bool stderr_is_terminal() { return _isatty(_fileno(stderr)); }
bool stdout_is_terminal() { return _isatty(_fileno(stdout)); }

void prepare_browser() {}  // (ShellExecute starts the browser apart from wstrace)

void open_in_browser(const std::string& url) {
  // shell32 loaded only here: Wine takes a while to load it, and every run would pay for it.
  using ShellExecuteFn = HINSTANCE(WINAPI*)(HWND, LPCWSTR, LPCWSTR, LPCWSTR, LPCWSTR, INT);
  HMODULE shell = LoadLibraryW(L"shell32.dll");
  auto shell_execute = shell ? reinterpret_cast<ShellExecuteFn>(reinterpret_cast<void*>(
                                   GetProcAddress(shell, "ShellExecuteW")))
                             : nullptr;
  const std::wstring wide(url.begin(), url.end());  // (the URL is ASCII)
  // (ShellExecute's success is a value above 32)
  if (!shell_execute || reinterpret_cast<INT_PTR>(shell_execute(nullptr, L"open", wide.c_str(),
                                                                nullptr, nullptr,
                                                                SW_SHOWNORMAL)) <= 32)
    report("cannot start a browser: open the URL above yourself");
}

void wait_for_interrupt(const std::function<void()>& armed) {
  HANDLE quit = CreateEventW(nullptr, TRUE, FALSE, nullptr);
  static HANDLE event = quit;
  SetConsoleCtrlHandler([](DWORD) -> BOOL { return SetEvent(event); }, TRUE);
  armed();
  WaitForSingleObject(quit, INFINITE);
}

}  // namespace ws::cli
