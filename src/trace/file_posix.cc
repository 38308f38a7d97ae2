#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "file.h"

namespace ws::trace {
namespace {

Status cannot_create(const std::string& path, int err) {
  return Status::error(fmt::format("cannot create {}: {}", path, std::strerror(err)));
}

class PosixOutput final : public OutputFile {
 public:
  // `temp`: the name to rename to `path` at commit(); empty once the file is at `path`.
  PosixOutput(int fd, std::string path, std::string temp)
      : fd_(fd), path_(std::move(path)), temp_(std::move(temp)) {}
  ~PosixOutput() override {
    if (fd_ >= 0) ::close(fd_);
    if (!temp_.empty()) ::unlink(temp_.c_str());
  }
  Status write(std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        int e = n < 0 ? errno : ENOSPC;
        if (e == ENOSPC || e == EDQUOT)
          return disk_full(path_, written_, temp_.empty());
        return Status::error(fmt::format("cannot write {}: {}", path_, std::strerror(e)));
      }
      written_ += static_cast<uint64_t>(n);
      data.remove_prefix(static_cast<size_t>(n));
    }
    return {};
  }
  uint64_t written() const override { return written_; }
  Status commit() override {
    const int fd = std::exchange(fd_, -1);
    if (fd >= 0 && ::close(fd) != 0 && errno != EINTR)
      return Status::error(fmt::format("cannot write {}: {}", path_, std::strerror(errno)));
    if (temp_.empty()) return {};
    if (::rename(temp_.c_str(), path_.c_str()) != 0) return cannot_create(path_, errno);
    temp_.clear();
    return {};
  }
  const std::string& temp_path() const override { return temp_.empty() ? path_ : temp_; }

 private:
  int fd_;
  std::string path_, temp_;
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

// "a FIFO" for what is not a regular file; empty for a regular file.
const char* kind_of(mode_t mode) {
  if (S_ISREG(mode)) return "";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "not a regular file";
}

Status not_a_trace(const std::string& path, mode_t mode) {
  return Status::error(fmt::format("{} is {}, not a trace file: give the path of a .wst file",
                                   path, kind_of(mode)));
}

// What is there already, written as it is: a device at the destination (/dev/null, /dev/full),
// or anything in /dev, which is the system's and whose links (/dev/stdout) lead to this
// process's own descriptors. Elsewhere a symlink is not followed and only a device is taken.
// O_NONBLOCK: a FIFO put there cannot block the open.
Result<std::unique_ptr<OutputFile>> open_existing(const std::string& path, bool in_dev) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NONBLOCK | (in_dev ? 0 : O_NOFOLLOW));
  if (fd < 0) return cannot_create(path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !(S_ISCHR(st.st_mode) || (in_dev && !S_ISDIR(st.st_mode)))) {
    ::close(fd);
    return Status::error(fmt::format("cannot create {}: it changed while being opened", path));
  }
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return std::unique_ptr<OutputFile>(new PosixOutput(fd, path, ""));
}

}  // namespace

Result<std::unique_ptr<OutputFile>> OutputFile::create(const std::string& path, Publish when) {
  if (path.starts_with("/dev/")) return open_existing(path, true);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (S_ISCHR(st.st_mode)) return open_existing(path, false);
    if (S_ISDIR(st.st_mode)) return cannot_create(path, EISDIR);  // before any work is done
  }
  // mkostemps: O_CREAT|O_EXCL (never an existing file, never through a symlink), mode 0600.
  static constexpr std::string_view kSuffix = ".part";
  std::string temp = path + ".XXXXXX" + std::string(kSuffix);
  int fd = ::mkostemps(temp.data(), static_cast<int>(kSuffix.size()), O_CLOEXEC);
  if (fd < 0) return cannot_create(path, errno);
  if (when == Publish::AtOnce) {
    if (::rename(temp.c_str(), path.c_str()) != 0) {
      const int e = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      return cannot_create(path, e);
    }
    temp.clear();
  }
  return std::unique_ptr<OutputFile>(new PosixOutput(fd, path, std::move(temp)));
}

Result<std::unique_ptr<InputFile>> InputFile::open(const std::string& path) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused just below).
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  struct stat st {};
  if (fd < 0) {
    const int e = errno;
    if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))  // a socket: ENXIO
      return not_a_trace(path, st.st_mode);
    return Status::error(fmt::format("cannot open {}: {}", path, std::strerror(e)));
  }
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return not_a_trace(path, st.st_mode);
  }
  return std::unique_ptr<InputFile>(new PosixInput(fd));
}

void follow_pause() { std::this_thread::sleep_for(std::chrono::milliseconds(50)); }

}  // namespace ws::trace
