// Writes a trace file: preamble, header, schema, then blocks of events, then a footer.
// Every block reaches the file whole, so a reader can follow the file while it grows, and a
// writer that dies leaves a file that reads up to its last block.
#pragma once

#include <memory>
#include <string>

#include "event.h"
#include "file.h"
#include "trace_format.h"
#include "status.h"

namespace ws::trace {

class TraceWriter {
 public:
  // Creates `path` (mode 0600) and writes the preamble, header and schema blocks.
  static Result<std::unique_ptr<TraceWriter>> create(const std::string& path,
                                                     const TraceHeader& header);
  // Same, on a file the caller opened (tests give a failing one).
  static Result<std::unique_ptr<TraceWriter>> create(std::unique_ptr<OutputFile> file,
                                                     const TraceHeader& header);

  // Appends one event; `ev.seq` is ignored (events are numbered in writing order). The event
  // reaches the file when its block fills up or at flush(). After an error every call fails
  // the same way and what was written before stays readable.
  Status write(const Event& ev);
  // Writes the open block, so readers see every event written so far.
  Status flush();
  // Flushes and writes the footer that marks the trace complete.
  Status close(int64_t end_ts);

  uint64_t events_written() const { return events_; }
  uint64_t bytes_written() const { return file_->written(); }

 private:
  TraceWriter(std::unique_ptr<OutputFile> file) : file_(std::move(file)) {}
  Status write_block(BlockType type, std::string_view body);
  Status start(const TraceHeader& header);

  std::unique_ptr<OutputFile> file_;
  Status failed_;
  std::string body_;     // the events block being filled
  std::string record_;   // scratch for one record
  uint32_t block_pid_ = 0;
  uint64_t block_count_ = 0;
  int64_t prev_ts_ = 0;
  uint64_t events_ = 0;
  bool closed_ = false;
};

// The body of a schema block that describes this build's event table.
std::string encode_schema();
std::string encode_header(const TraceHeader& h);
// CRC-32 (zlib's) of a block's type, length and body: the block's last four bytes.
uint32_t block_crc(std::string_view framed_without_crc);

}  // namespace ws::trace
