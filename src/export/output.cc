#include "output.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace ws::exporter {
namespace fs = std::filesystem;

namespace {
Status cannot_write(const std::string& path, const std::string& why) {
  return Status::error(fmt::format("cannot write {}: {} (check the folder exists and is writable, "
                                   "and that the disk has room)",
                                   path, why));
}
}  // namespace

Output::~Output() {
  if (file_ && file_ != stdout) std::fclose(file_);
  if (!committed_ && !temp_.empty()) {
    std::error_code ec;
    fs::remove(temp_, ec);
  }
}

Status Output::reserve(const std::string& path) {
  if (path == "-") return Status::error("this format writes a file: give -o FILE, not -o -");
  path_ = path;
  temp_ = path + ".part";
  std::error_code ec;
  if (fs::is_directory(path, ec)) return cannot_write(path, "it is a folder");
  fs::remove(temp_, ec);
  std::FILE* f = std::fopen(temp_.c_str(), "wb");
  if (!f) return cannot_write(path, std::strerror(errno));
  std::fclose(f);
  fs::permissions(temp_, fs::perms::owner_read | fs::perms::owner_write, ec);
  return Status();
}

Status Output::open(const std::string& path) {
  if (path == "-") {
    path_ = "standard output";
    file_ = stdout;
    return Status();
  }
  if (Status s = reserve(path); !s.ok()) return s;
  file_ = std::fopen(temp_.c_str(), "wb");
  if (!file_) return cannot_write(path, std::strerror(errno));
  return Status();
}

Status Output::commit() {
  if (file_) {
    errno = 0;
    const bool flushed = std::fflush(file_) == 0 && !std::ferror(file_) && !failed_;
    const int err = errno;
    const bool closed = file_ == stdout || std::fclose(file_) == 0;
    file_ = nullptr;
    if (!flushed || !closed) return cannot_write(path_, err ? std::strerror(err) : "a write failed");
  }
  if (temp_.empty()) return Status();
  std::error_code ec;
  fs::rename(temp_, path_, ec);
  if (ec) return cannot_write(path_, ec.message());
  committed_ = true;
  return Status();
}

}  // namespace ws::exporter
