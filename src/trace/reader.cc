#include "reader.h"

#include <cstring>

#include <fmt/format.h>

#include "wire.h"
#include "writer.h"

namespace ws::trace {

namespace {

class MemoryInput final : public InputFile {
 public:
  explicit MemoryInput(std::string bytes) : bytes_(std::move(bytes)) {}
  int64_t read_at(uint64_t offset, void* buf, size_t n) override {
    if (offset >= bytes_.size()) return 0;
    size_t k = std::min<size_t>(n, bytes_.size() - static_cast<size_t>(offset));
    std::memcpy(buf, bytes_.data() + offset, k);
    return static_cast<int64_t>(k);
  }

 private:
  std::string bytes_;
};

// Reads exactly n bytes at offset unless the file is shorter; returns how many were read.
int64_t read_full(InputFile& f, uint64_t offset, char* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    int64_t r = f.read_at(offset + got, buf + got, n - got);
    if (r < 0) return -1;
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return static_cast<int64_t>(got);
}

int64_t to_int(const std::string& s) {
  try {
    return std::stoll(s);
  } catch (...) {
    return 0;
  }
}

}  // namespace

std::unique_ptr<InputFile> memory_input(std::string bytes) {
  return std::make_unique<MemoryInput>(std::move(bytes));
}

Result<std::unique_ptr<TraceReader>> TraceReader::open(const std::string& path, Options opt) {
  auto file = InputFile::open(path);
  if (!file.ok()) return file.status();
  return open(std::move(file.value()), path, std::move(opt));
}

Result<std::unique_ptr<TraceReader>> TraceReader::open(std::unique_ptr<InputFile> file,
                                                       const std::string& name, Options opt) {
  std::unique_ptr<TraceReader> r(new TraceReader(std::move(file), name, std::move(opt)));
  if (Status s = r->start(); !s.ok()) return s;
  return r;
}

Status TraceReader::start() {
  char pre[kPreambleSize];
  int64_t n = read_full(*file_, 0, pre, sizeof pre);
  while (opt_.follow && n >= 0 && n < static_cast<int64_t>(sizeof pre) && wait_for_more())
    n = read_full(*file_, 0, pre, sizeof pre);
  if (n < 0) return Status::error(fmt::format("cannot read {}", name_));
  if (n == 0) return Status::error(fmt::format("{} is empty: it holds no trace", name_));
  if (n < static_cast<int64_t>(kSignature.size()) ||
      std::string_view(pre, kSignature.size()) != kSignature)
    return Status::error(fmt::format(
        "{} is not a wstrace trace: it does not start with the .wst signature", name_));
  if (n < static_cast<int64_t>(sizeof pre))
    return Status::error(fmt::format("{} is cut short inside its first {} bytes: no events in it",
                                     name_, sizeof pre));
  wire::In in(reinterpret_cast<const uint8_t*>(pre) + kSignature.size(),
              sizeof pre - kSignature.size());
  uint16_t major = in.u16(), minor = in.u16();
  if (major != kFormatMajor)
    return Status::error(fmt::format(
        "{} is trace format {}.{}; this wstrace reads format {}.x: use the wstrace version that "
        "recorded it or a newer one",
        name_, major, minor, kFormatMajor));
  offset_ = kPreambleSize;

  // Header and schema come before any events.
  bool have_header = false;
  while (!have_header || !have_schema_) {
    BlockType type;
    BlockRead br = read_block(type);
    if (br != BlockRead::Ok) {
      if (problem_.kind == ReadProblem::Kind::None || problem_.kind == ReadProblem::Kind::Unfinished)
        return Status::error(fmt::format("{} ends before its schema: it holds no events", name_));
      return Status::error(problem_.message);
    }
    std::string_view body(block_.data() + 8, block_.size() - kBlockOverhead);
    if (type == BlockType::Header) {
      if (Status s = parse_header(body); !s.ok()) return s;
      have_header = true;
    } else if (type == BlockType::Schema) {
      if (Status s = parse_schema(body); !s.ok()) return s;
    } else if (type == BlockType::Events || type == BlockType::Footer) {
      return Status::error(fmt::format(
          "{} is damaged: events at byte offset {} come before the header and schema", name_,
          block_offset_));
    }
  }
  return {};
}

void TraceReader::set_problem(ReadProblem::Kind kind, uint64_t offset, std::string what) {
  problem_.kind = kind;
  problem_.offset = offset;
  problem_.message = std::move(what);
  done_ = true;
}

bool TraceReader::wait_for_more() {
  if (!opt_.follow || (opt_.keep_following && !opt_.keep_following())) return false;
  follow_pause();
  return true;
}

TraceReader::BlockRead TraceReader::read_block(BlockType& type) {
  for (;;) {
    char head[8];
    int64_t n = read_full(*file_, offset_, head, sizeof head);
    if (n < 0) {
      set_problem(ReadProblem::Kind::Damaged, offset_,
                  fmt::format("cannot read {} at byte offset {}", name_, offset_));
      return BlockRead::Problem;
    }
    if (n < static_cast<int64_t>(sizeof head)) {
      if (wait_for_more()) continue;
      if (n == 0) {
        set_problem(ReadProblem::Kind::Unfinished, offset_,
                    fmt::format("{} has no end marker: the recorder stopped without closing it "
                                "(killed or crashed); everything before byte offset {} was read",
                                name_, offset_));
        return BlockRead::End;
      }
      set_problem(ReadProblem::Kind::Truncated, offset_,
                  fmt::format("{} is cut short: it ends inside a block at byte offset {}; "
                              "everything before it was read",
                              name_, offset_));
      return BlockRead::Problem;
    }
    wire::In in(reinterpret_cast<const uint8_t*>(head), sizeof head);
    uint32_t t = in.u32();
    uint32_t len = in.u32();
    if (len < kBlockOverhead || len > kMaxBlockSize) {
      set_problem(ReadProblem::Kind::Damaged, offset_,
                  fmt::format("{} is damaged at byte offset {}: a block claims {} bytes; "
                              "everything before it was read",
                              name_, offset_, len));
      return BlockRead::Problem;
    }
    block_.resize(len);
    n = read_full(*file_, offset_, block_.data(), len);
    if (n < static_cast<int64_t>(len)) {
      if (n >= 0 && wait_for_more()) continue;
      set_problem(ReadProblem::Kind::Truncated, offset_,
                  fmt::format("{} is cut short: the block at byte offset {} has {} of its {} "
                              "bytes; everything before it was read",
                              name_, offset_, std::max<int64_t>(n, 0), len));
      return BlockRead::Problem;
    }
    wire::In tail(reinterpret_cast<const uint8_t*>(block_.data()) + len - 4, 4);
    if (tail.u32() != block_crc(std::string_view(block_.data(), len - 4))) {
      set_problem(ReadProblem::Kind::Damaged, offset_,
                  fmt::format("{} is damaged at byte offset {}: the block's checksum does not "
                              "match; everything before it was read",
                              name_, offset_));
      return BlockRead::Problem;
    }
    type = static_cast<BlockType>(t);
    block_offset_ = offset_;
    offset_ += len;
    return BlockRead::Ok;
  }
}

Status TraceReader::parse_header(std::string_view body) {
  wire::In in(body);
  uint64_t count = in.varint();
  for (uint64_t i = 0; i < count && in.ok(); ++i) {
    std::string k(in.blob()), v(in.blob());
    if (k == "wstrace_version") header_.wstrace_version = v;
    else if (k == "host") header_.host = v;
    else if (k == "os") header_.os = v;
    else if (k == "platform") header_.platform = static_cast<Platform>(to_int(v));
    else if (k == "arch") header_.arch = v;
    else if (k == "command") header_.command = v;
    else if (k == "snaplen") header_.snaplen = static_cast<uint64_t>(to_int(v));
    else if (k == "follow_children") header_.follow_children = v == "1";
    else if (k == "redacted") header_.redacted = v == "1";
    else if (k == "engine") header_.engine = v;
    else if (k == "mode") header_.mode = v;
    else if (k == "wall_anchor_ns") header_.wall_anchor_ns = to_int(v);
    else if (k == "mono_anchor_ns") header_.mono_anchor_ns = to_int(v);
    else header_.extra.emplace_back(std::move(k), std::move(v));
  }
  if (!in.ok())
    return Status::error(
        fmt::format("{} is damaged: its header block at byte offset {} does not decode", name_,
                    block_offset_));
  return {};
}

Status TraceReader::parse_schema(std::string_view body) {
  wire::In in(body);
  auto bad = [&] {
    return Status::error(fmt::format(
        "{} is damaged: its schema block at byte offset {} does not decode", name_, block_offset_));
  };
  uint64_t nfields = in.varint();
  if (nfields > 4096) return bad();
  for (uint64_t i = 0; i < nfields && in.ok(); ++i) {
    std::string_view name = in.blob();
    auto type = static_cast<FieldType>(in.u8());
    FieldId id = field_by_name(name);
    // A field this build knows by name but with another type is skipped, not misread.
    if (id != FieldId::Unknown && field_def(id).type != type) id = FieldId::Unknown;
    fields_.push_back({id, type});
  }
  uint64_t nevents = in.varint();
  if (nevents > 4096) return bad();
  for (uint64_t i = 0; i < nevents && in.ok(); ++i) {
    in.blob();  // the event's name: functions carry what readers need
    uint64_t n = in.varint();
    if (n > 63) return bad();
    FileEvent e;
    for (uint64_t j = 0; j < n && in.ok(); ++j) {
      uint64_t f = in.varint();
      if (f >= fields_.size()) return bad();
      e.fields.push_back(static_cast<uint32_t>(f));
    }
    events_.push_back(std::move(e));
  }
  uint64_t nfuncs = in.varint();
  if (nfuncs > 4096) return bad();
  for (uint64_t i = 0; i < nfuncs && in.ok(); ++i) {
    FuncId id = func_by_name(in.blob());
    uint64_t ev = in.varint();
    if (ev >= events_.size()) return bad();
    funcs_.push_back({id, static_cast<uint32_t>(ev)});
  }
  if (!in.ok()) return bad();
  have_schema_ = true;
  return {};
}

bool TraceReader::load_events_block() {
  for (;;) {
    if (done_) return false;
    BlockType type;
    BlockRead br = read_block(type);
    if (br != BlockRead::Ok) return false;
    std::string_view body(block_.data() + 8, block_.size() - kBlockOverhead);
    if (type == BlockType::Footer) {
      wire::In in(body);
      TraceFooter f;
      f.events = in.varint();
      f.end_ts = in.svarint();
      footer_ = f;
      done_ = true;
      return false;
    }
    if (type != BlockType::Events) continue;  // header repeats, schema, or newer block types
    wire::In in(body);
    block_pid_ = static_cast<uint32_t>(in.varint());
    next_seq_ = in.varint();
    prev_ts_ = in.svarint();
    if (!in.ok()) {
      set_problem(ReadProblem::Kind::Damaged, block_offset_,
                  fmt::format("{} is damaged at byte offset {}: an events block does not decode; "
                              "everything before it was read",
                              name_, block_offset_));
      return false;
    }
    rec_pos_ = 8 + (body.size() - in.remaining());
    rec_end_ = block_.size() - 4;
    return true;
  }
}

bool TraceReader::next(Event& ev) {
  while (rec_pos_ >= rec_end_) {
    if (!load_events_block()) return false;
  }
  wire::In in(reinterpret_cast<const uint8_t*>(block_.data()) + rec_pos_, rec_end_ - rec_pos_);
  std::string_view rec = in.blob();
  if (!in.ok() || !decode_record(rec, ev)) {
    set_problem(ReadProblem::Kind::Damaged, block_offset_,
                fmt::format("{} is damaged at byte offset {}: an event record does not decode; "
                            "everything before it was read",
                            name_, block_offset_));
    rec_pos_ = rec_end_ = 0;
    return false;
  }
  rec_pos_ = rec_end_ - in.remaining();
  return true;
}

bool TraceReader::decode_record(std::string_view rec, Event& ev) {
  wire::In in(rec);
  uint64_t func = in.varint();
  if (!in.ok() || func >= funcs_.size()) return false;
  const FileFunc& ff = funcs_[func];
  ev.seq = next_seq_++;
  ev.pid = block_pid_;
  ev.func = ff.id;
  ev.tid = static_cast<uint32_t>(in.varint());
  ev.ts = prev_ts_ + in.svarint();
  prev_ts_ = ev.ts;
  ev.dur = in.varint();
  ev.result = in.svarint();
  ev.error = ErrorCode::unpack(in.varint());
  uint64_t present = in.varint();
  ev.nvalues = 0;
  const FileEvent& fe = events_[ff.event];
  if (fe.fields.size() < 64 && (present >> fe.fields.size()) != 0) return false;
  for (size_t i = 0; i < fe.fields.size() && in.ok(); ++i) {
    if (!(present & (1ull << i))) continue;
    const FileField& f = fields_[fe.fields[i]];
    Value v{f.id, 0, nullptr, 0};
    if (!is_blob(f.type)) {
      uint64_t n = in.varint();
      v.num = f.type == FieldType::Int ? static_cast<uint64_t>(wire::unzigzag(n)) : n;
    } else {
      std::string_view b = in.blob();
      if (f.type == FieldType::Bytes) {
        wire::In inner(b);
        v.num = inner.varint();
        if (!inner.ok()) return false;
        b = inner.take(inner.remaining());
      }
      v.data = reinterpret_cast<const uint8_t*>(b.data());
      v.size = static_cast<uint32_t>(b.size());
    }
    if (f.id != FieldId::Unknown) ev.set(v);
  }
  // Bytes past the known fields are fields a newer writer appended: skipped.
  return in.ok();
}

}  // namespace ws::trace
