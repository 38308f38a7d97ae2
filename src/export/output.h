// Where an export writes. A file is written under a temporary name beside it (OUT.part) and
// renamed to OUT only by commit(), so an export that failed or was interrupted never leaves a
// file that looks complete; "-" is standard output.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

#include "status.h"

namespace ws::exporter {

class Output {
 public:
  Output() = default;
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;
  ~Output();  // removes the temporary file of an output never committed

  // Opens OUT.part for writing (mode 0600 where the system has modes: exports hold payloads),
  // or standard output for "-". Fails with a message naming OUT when it cannot be created.
  Status open(const std::string& path);
  // For writers that open the file themselves (sqlite): removes a stale OUT.part, checks that
  // the folder takes a file, and remembers where to rename from. "-" is refused.
  Status reserve(const std::string& path);
  const std::string& temp_path() const { return temp_; }
  std::FILE* stream() const { return file_; }
  // Appends to the stream; an error is kept and returned by commit().
  void write(std::string_view bytes) {
    if (std::fwrite(bytes.data(), 1, bytes.size(), file_) != bytes.size()) failed_ = true;
  }
  // Flushes and closes the stream, then renames OUT.part to OUT.
  Status commit();

 private:
  std::string path_, temp_;
  std::FILE* file_ = nullptr;
  bool failed_ = false, committed_ = false;
};

}  // namespace ws::exporter
