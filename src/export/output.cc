#include "output.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

namespace ws::exporter {

namespace {
Status cannot_write(const std::string& path, const std::string& why) {
  return Status::error(fmt::format("cannot write {}: {} (check the folder exists and is writable, "
                                   "and that the disk has room)",
                                   path, why));
}
}  // namespace

Output::~Output() = default;  // trace::OutputFile removes an uncommitted file

Status Output::reserve(const std::string& path) {
  if (path == "-") return Status::error("this format writes a file: give -o FILE, not -o -");
  path_ = path;
  auto f = trace::OutputFile::create(path, trace::OutputFile::Publish::OnCommit);
  if (!f.ok()) {
    // "cannot create OUT: why" from the file layer; the message names OUT once.
    std::string why = f.status().message();
    const std::string lead = "cannot create " + path + ": ";
    if (why.rfind(lead, 0) == 0) why.erase(0, lead.size());
    return cannot_write(path, why);
  }
  file_ = std::move(f.value());
  return Status();
}

Status Output::open(const std::string& path) {
  if (path != "-") return reserve(path);
  path_ = "standard output";
  to_stdout_ = true;
  return Status();
}

void Output::flush() {
  if (buf_.empty() || !failed_.ok()) return buf_.clear();
  if (to_stdout_) {
    if (std::fwrite(buf_.data(), 1, buf_.size(), stdout) != buf_.size())
      failed_ = cannot_write(path_, std::strerror(errno));
  } else if (Status s = file_->write(buf_); !s.ok()) {
    failed_ = s;
  }
  buf_.clear();
}

Status Output::commit() {
  flush();
  if (to_stdout_ && failed_.ok() && std::fflush(stdout) != 0)
    failed_ = cannot_write(path_, std::strerror(errno));
  if (!failed_.ok()) return failed_;
  if (!file_) return Status();
  return file_->commit();
}

}  // namespace ws::exporter
