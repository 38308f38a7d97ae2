#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "file.h"

namespace ws::trace {
namespace {

class PosixOutput final : public OutputFile {
 public:
  PosixOutput(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~PosixOutput() override { ::close(fd_); }
  Status write(std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        int e = n < 0 ? errno : ENOSPC;
        if (e == ENOSPC || e == EDQUOT)
          return Status::error(fmt::format(
              "disk full while writing {}: free some space and record again (the first {} bytes "
              "are kept and readable)",
              path_, written_));
        return Status::error(fmt::format("cannot write {}: {}", path_, std::strerror(e)));
      }
      written_ += static_cast<uint64_t>(n);
      data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
  }
  uint64_t written() const override { return written_; }

 private:
  int fd_;
  std::string path_;
  uint64_t written_ = 0;
};

class PosixInput final : public InputFile {
 public:
  explicit PosixInput(int fd) : fd_(fd) {}
  ~PosixInput() override { ::close(fd_); }
  int64_t read_at(uint64_t offset, void* buf, size_t n) override {
    for (;;) {
      ssize_t r = ::pread(fd_, buf, n, static_cast<off_t>(offset));
      if (r < 0 && errno == EINTR) continue;
      return r;
    }
  }

 private:
  int fd_;
};

}  // namespace

Result<std::unique_ptr<OutputFile>> OutputFile::create(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0)
    return Status::error(fmt::format("cannot create {}: {}", path, std::strerror(errno)));
  struct stat st {};
  // An existing file keeps its old mode through O_TRUNC. Devices (/dev/null) are left alone.
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) ::fchmod(fd, 0600);
  return std::unique_ptr<OutputFile>(new PosixOutput(fd, path));
}

Result<std::unique_ptr<InputFile>> InputFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Status::error(fmt::format("{} is a directory, not a trace file", path));
  }
  return std::unique_ptr<InputFile>(new PosixInput(fd));
}

void follow_pause() { std::this_thread::sleep_for(std::chrono::milliseconds(50)); }

}  // namespace ws::trace
