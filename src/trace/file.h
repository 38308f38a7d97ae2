// The few file operations the trace library needs, one implementation per platform
// (file_posix.cc, file_windows.cc).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "status.h"

namespace ws::trace {

// Every file wstrace writes (traces, exports, reports) is made here, the same way: a new file
// created exclusively beside the destination under a random name (OUT.XXXXXX.part), owner-only
// from its first byte (mode 0600 on POSIX), then renamed over the destination. No symlink at
// the destination is followed (rename replaces the link itself) and no file that was there,
// whoever made it, is opened. A device that exists at the destination (/dev/null, /dev/full)
// and any path in /dev (/dev/stdout) are written as they are (file_posix.cc).
class OutputFile {
 public:
  enum class Publish {
    AtOnce,    // renamed to the destination before the first byte: a trace is followed under
               // its name while it grows, and a crash leaves it readable there
    OnCommit,  // renamed only by commit(): an output that failed never looks complete
  };
  static Result<std::unique_ptr<OutputFile>> create(const std::string& path,
                                                    Publish when = Publish::AtOnce);
  // Removes the file of a Publish::OnCommit output that was never committed.
  virtual ~OutputFile() = default;
  // Writes all of `data` or says why not (disk full names itself).
  virtual Status write(std::string_view data) = 0;
  virtual uint64_t written() const = 0;
  // Closes the file and, for Publish::OnCommit, renames it to the destination.
  virtual Status commit() = 0;
  // Where the bytes are until commit() (for a writer that opens the file by name: sqlite).
  virtual const std::string& temp_path() const = 0;
};

class InputFile {
 public:
  // Opens a regular file for reading; a FIFO, socket, device or folder is refused with a
  // message that names it (none of them is a trace, and a FIFO would block forever).
  static Result<std::unique_ptr<InputFile>> open(const std::string& path);
  virtual ~InputFile() = default;
  // Reads up to `n` bytes at `offset`; returns how many were read (0 at end of file), or -1.
  virtual int64_t read_at(uint64_t offset, void* buf, size_t n) = 0;
};

// The message of a write that found the disk full; `kept`: the file stays at `path` (a trace
// reads up to its last block) rather than being removed.
Status disk_full(const std::string& path, uint64_t written, bool kept);

// Waits a little before a follower looks at a growing file again.
void follow_pause();

}  // namespace ws::trace
