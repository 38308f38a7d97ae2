#include <windows.h>

#include <string>
#include <utility>

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

Status cannot_create(const std::string& path, DWORD err) {
  return Status::error(fmt::format("cannot create {}: {}", path, win_error_text(err)));
}

class WinOutput final : public OutputFile {
 public:
  // `temp`: the name to rename to `path` at commit(); empty once the file is at `path`.
  WinOutput(HANDLE h, std::string path, std::string temp)
      : h_(h), path_(std::move(path)), temp_(std::move(temp)) {}
  ~WinOutput() override {
    if (h_ != INVALID_HANDLE_VALUE) CloseHandle(h_);
    if (!temp_.empty()) DeleteFileW(widen(temp_).c_str());
  }
  Status write(std::string_view data) override {
    while (!data.empty()) {
      DWORD chunk = static_cast<DWORD>(std::min<size_t>(data.size(), 1u << 30));
      DWORD n = 0;
      if (!WriteFile(h_, data.data(), chunk, &n, nullptr) || n == 0) {
        DWORD e = GetLastError();
        if (e == ERROR_DISK_FULL || e == ERROR_HANDLE_DISK_FULL)
          return disk_full(path_, written_, temp_.empty());
        return Status::error(fmt::format("cannot write {}: {}", path_, win_error_text(e)));
      }
      written_ += n;
      data.remove_prefix(n);
    }
    return {};
  }
  uint64_t written() const override { return written_; }
  Status commit() override {
    if (h_ != INVALID_HANDLE_VALUE) CloseHandle(std::exchange(h_, INVALID_HANDLE_VALUE));
    if (temp_.empty()) return {};
    if (!MoveFileExW(widen(temp_).c_str(), widen(path_).c_str(), MOVEFILE_REPLACE_EXISTING))
      return cannot_create(path_, GetLastError());
    temp_.clear();
    return {};
  }
  const std::string& temp_path() const override { return temp_.empty() ? path_ : temp_; }

 private:
  HANDLE h_;
  std::string path_, temp_;
  uint64_t written_ = 0;
};

// Six hex digits that differ between tries and processes. The name need not be secret:
// CREATE_NEW never opens a file that exists, so a guessed name only costs another try.
std::string temp_suffix(unsigned attempt) {
  LARGE_INTEGER t{};
  QueryPerformanceCounter(&t);
  const uint64_t mix = static_cast<uint64_t>(t.QuadPart) * 0x9e3779b97f4a7c15ull ^
                       (uint64_t{GetCurrentProcessId()} << 20) ^ attempt;
  return fmt::format("{:06x}", (mix >> 24) & 0xffffff);
}

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
// a user's profile to that user; wstrace sets no looser access. FILE_SHARE_DELETE lets the file
// be renamed while it is open (Publish::AtOnce) and lets readers follow it.
Result<std::unique_ptr<OutputFile>> OutputFile::create(const std::string& path, Publish when) {
  const DWORD attrs = GetFileAttributesW(widen(path).c_str());
  if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_DIRECTORY) &&
      !(attrs & FILE_ATTRIBUTE_REPARSE_POINT))
    return cannot_create(path, ERROR_DIRECTORY);  // before any work is done
  HANDLE h = INVALID_HANDLE_VALUE;
  std::string temp;
  for (unsigned attempt = 0; h == INVALID_HANDLE_VALUE; ++attempt) {
    temp = path + "." + temp_suffix(attempt) + ".part";
    h = CreateFileW(widen(temp).c_str(), GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_DELETE,
                    nullptr, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, nullptr);
    const DWORD e = GetLastError();
    if (h == INVALID_HANDLE_VALUE && (e != ERROR_FILE_EXISTS || attempt == 100))
      return cannot_create(path, e);
  }
  if (when == Publish::AtOnce) {
    if (!MoveFileExW(widen(temp).c_str(), widen(path).c_str(), MOVEFILE_REPLACE_EXISTING)) {
      const DWORD e = GetLastError();
      CloseHandle(h);
      DeleteFileW(widen(temp).c_str());
      return cannot_create(path, e);
    }
    temp.clear();
  }
  return std::unique_ptr<OutputFile>(new WinOutput(h, path, std::move(temp)));
}

Result<std::unique_ptr<InputFile>> InputFile::open(const std::string& path) {
  HANDLE h = CreateFileW(widen(path).c_str(), GENERIC_READ,
                         FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr,
                         OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE)
    return Status::error(fmt::format("cannot open {}: {}", path, win_error_text(GetLastError())));
  // A pipe or a device (CON, \\.\pipe\…) is no trace, and reading one could wait forever.
  if (GetFileType(h) != FILE_TYPE_DISK) {
    CloseHandle(h);
    return Status::error(fmt::format(
        "{} is a pipe or a device, not a trace file: give the path of a .wst file", path));
  }
  return std::unique_ptr<InputFile>(new WinInput(h));
}

void follow_pause() { Sleep(50); }

}  // namespace ws::trace
