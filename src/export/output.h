// Where an export writes. A file is made by trace::OutputFile (owner-only from its first byte,
// exclusively, under a temporary name beside it: OUT.XXXXXX.part) and renamed to OUT only by
// commit(), so an export that failed or was interrupted never leaves a file that looks
// complete; "-" is standard output.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "file.h"
#include "status.h"

namespace ws::exporter {

class Output {
 public:
  Output() = default;
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;
  ~Output();  // removes the temporary file of an output never committed

  // Creates the temporary file, or takes standard output for "-". Fails with a message naming
  // OUT when it cannot be created.
  Status open(const std::string& path);
  // For writers that open the file themselves by name (sqlite): creates it the same way and
  // remembers where to rename from. "-" is refused.
  Status reserve(const std::string& path);
  const std::string& temp_path() const { return file_->temp_path(); }
  // Appends (buffered); an error is kept and returned by commit().
  void write(std::string_view bytes) {
    buf_ += bytes;
    if (buf_.size() >= kFlushAt) flush();
  }
  // Writes what is buffered, closes, and renames the temporary file to OUT.
  Status commit();

 private:
  static constexpr size_t kFlushAt = 1 << 16;
  void flush();

  std::string path_, buf_;
  std::unique_ptr<trace::OutputFile> file_;  // null for standard output
  Status failed_;
  bool to_stdout_ = false;
};

}  // namespace ws::exporter
