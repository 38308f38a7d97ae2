// The few file operations the trace library needs, one implementation per platform
// (file_posix.cc, file_windows.cc).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "status.h"

namespace ws::trace {

class OutputFile {
 public:
  // Creates or truncates `path` with owner-only access (mode 0600 on POSIX): traces can hold
  // payloads.
  static Result<std::unique_ptr<OutputFile>> create(const std::string& path);
  virtual ~OutputFile() = default;
  // Writes all of `data` or says why not (disk full names itself).
  virtual Status write(std::string_view data) = 0;
  virtual uint64_t written() const = 0;
};

class InputFile {
 public:
  static Result<std::unique_ptr<InputFile>> open(const std::string& path);
  virtual ~InputFile() = default;
  // Reads up to `n` bytes at `offset`; returns how many were read (0 at end of file), or -1.
  virtual int64_t read_at(uint64_t offset, void* buf, size_t n) = 0;
};

// Waits a little before a follower looks at a growing file again.
void follow_pause();

}  // namespace ws::trace
