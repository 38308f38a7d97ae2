// Reads a trace file written by any version of wstrace on any platform. Damage is never fatal to
// what came before it: every event up to the first bad block is delivered, then problem() says
// what was wrong and at which byte offset.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "event.h"
#include "file.h"
#include "trace_format.h"
#include "status.h"

namespace ws::trace {

struct ReadProblem {
  enum class Kind {
    None,        // the trace ended with its footer: complete
    Unfinished,  // every block is whole but the footer is missing: the recorder did not close it
    Truncated,   // the file ends inside a block
    Damaged,     // a block's length or checksum or contents are wrong
  };
  Kind kind = Kind::None;
  uint64_t offset = 0;  // byte offset of the block in question
  std::string message;  // one sentence for the user, naming the offset
};

// An InputFile over bytes in memory (tests and the fuzzer).
std::unique_ptr<InputFile> memory_input(std::string bytes);

struct ReaderOptions {
  // Follow a file that is still being written: at its end, wait for more until the footer
  // arrives or keep_following() returns false.
  bool follow = false;
  std::function<bool()> keep_following;
};

class TraceReader {
 public:
  using Options = ReaderOptions;

  // Opens and reads the preamble, header and schema. Fails with one clear message for a
  // missing, empty, foreign or too new file.
  static Result<std::unique_ptr<TraceReader>> open(const std::string& path, Options opt = {});
  static Result<std::unique_ptr<TraceReader>> open(std::unique_ptr<InputFile> file,
                                                   const std::string& name, Options opt = {});

  const TraceHeader& header() const { return header_; }
  // Delivers the next event. Blob values point into the reader and stay valid until the next
  // call. Returns false at the end of the trace; problem() then tells how it ended.
  bool next(Event& ev);
  const ReadProblem& problem() const { return problem_; }
  bool complete() const { return footer_.has_value(); }
  const std::optional<TraceFooter>& footer() const { return footer_; }
  // Bytes consumed so far (whole blocks).
  uint64_t offset() const { return offset_; }

 private:
  struct FileField {
    FieldId id;  // Unknown: skipped
    FieldType type;
  };
  struct FileEvent {
    std::vector<uint32_t> fields;  // indexes into fields_
  };
  struct FileFunc {
    FuncId id;
    uint32_t event;  // index into events_
  };
  enum class BlockRead { Ok, End, Problem };

  TraceReader(std::unique_ptr<InputFile> file, std::string name, Options opt)
      : file_(std::move(file)), name_(std::move(name)), opt_(std::move(opt)) {}
  Status start();
  BlockRead read_block(BlockType& type);
  bool load_events_block();
  bool decode_record(std::string_view rec, Event& ev);
  Status parse_header(std::string_view body);
  Status parse_schema(std::string_view body);
  bool wait_for_more();
  void set_problem(ReadProblem::Kind kind, uint64_t offset, std::string what);

  std::unique_ptr<InputFile> file_;
  std::string name_;
  Options opt_;
  TraceHeader header_;
  std::optional<TraceFooter> footer_;
  ReadProblem problem_;
  bool done_ = false;
  uint64_t offset_ = 0;
  uint64_t block_offset_ = 0;  // offset of the block in block_
  std::string block_;          // the whole current block, framing included
  std::vector<FileField> fields_;
  std::vector<FileEvent> events_;
  std::vector<FileFunc> funcs_;
  bool have_schema_ = false;
  // Position inside the current events block.
  size_t rec_pos_ = 0, rec_end_ = 0;
  uint32_t block_pid_ = 0;
  uint64_t next_seq_ = 0;
  int64_t prev_ts_ = 0;
};

}  // namespace ws::trace
