#include <windows.h>

#include <string>

#include <fmt/format.h>

#include "file.h"
#include "win_error.h"

namespace ws::trace {
namespace {

std::wstring widen(const std::string& utf8) {
  int n = MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), nullptr, 0);
  std::wstring w(static_cast<size_t>(n), L'\0');
  MultiByteToWideChar(CP_UTF8, 0, utf8.data(), static_cast<int>(utf8.size()), w.data(), n);
  return w;
}

class WinOutput final : public OutputFile {
 public:
  WinOutput(HANDLE h, std::string path) : h_(h), path_(std::move(path)) {}
  ~WinOutput() override { CloseHandle(h_); }
  Status write(std::string_view data) override {
    while (!data.empty()) {
      DWORD chunk = static_cast<DWORD>(std::min<size_t>(data.size(), 1u << 30));
      DWORD n = 0;
      if (!WriteFile(h_, data.data(), chunk, &n, nullptr) || n == 0) {
        DWORD e = GetLastError();
        if (e == ERROR_DISK_FULL || e == ERROR_HANDLE_DISK_FULL)
          return Status::error(fmt::format(
              "disk full while writing {}: free some space and record again (the first {} bytes "
              "are kept and readable)",
              path_, written_));
        return Status::error(fmt::format("cannot write {}: {}", path_, win_error_text(e)));
      }
      written_ += n;
      data.remove_prefix(n);
    }
    return {};
  }
  uint64_t written() const override { return written_; }

 private:
  HANDLE h_;
  std::string path_;
  uint64_t written_ = 0;
};

class WinInput final : public InputFile {
 public:
  explicit WinInput(HANDLE h) : h_(h) {}
  ~WinInput() override { CloseHandle(h_); }
  int64_t read_at(uint64_t offset, void* buf, size_t n) override {
    OVERLAPPED ov{};
    ov.Offset = static_cast<DWORD>(offset);
    ov.OffsetHigh = static_cast<DWORD>(offset >> 32);
    DWORD got = 0;
    DWORD want = static_cast<DWORD>(std::min<size_t>(n, 1u << 30));
    if (!ReadFile(h_, buf, want, &got, &ov)) return GetLastError() == ERROR_HANDLE_EOF ? 0 : -1;
    return got;
  }

 private:
  HANDLE h_;
};

}  // namespace

std::string win_error_text(unsigned long code) {
  char* msg = nullptr;
  DWORD n = FormatMessageA(FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM |
                               FORMAT_MESSAGE_IGNORE_INSERTS,
                           nullptr, code, 0, reinterpret_cast<char*>(&msg), 0, nullptr);
  std::string s = n ? std::string(msg, n) : fmt::format("error {}", code);
  if (msg) LocalFree(msg);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == '.')) s.pop_back();
  return s;
}

// The file is created with the default security of its folder, which on Windows already limits
// a user's profile to that user; wstrace sets no looser access.
Result<std::unique_ptr<OutputFile>> OutputFile::create(const std::string& path) {
  HANDLE h = CreateFileW(widen(path).c_str(), GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_DELETE,
                         nullptr, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE)
    return Status::error(fmt::format("cannot create {}: {}", path, win_error_text(GetLastError())));
  return std::unique_ptr<OutputFile>(new WinOutput(h, path));
}

Result<std::unique_ptr<InputFile>> InputFile::open(const std::string& path) {
  HANDLE h = CreateFileW(widen(path).c_str(), GENERIC_READ,
                         FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                         OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE)
    return Status::error(fmt::format("cannot open {}: {}", path, win_error_text(GetLastError())));
  return std::unique_ptr<InputFile>(new WinInput(h));
}

void follow_pause() { Sleep(50); }

}  // namespace ws::trace
