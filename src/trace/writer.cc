#include "writer.h"

#include <zlib.h>

#include <fmt/format.h>

#include "wire.h"

namespace ws::trace {

uint32_t block_crc(std::string_view framed_without_crc) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(framed_without_crc.data()),
            static_cast<uInt>(framed_without_crc.size())));
}

std::string encode_header(const TraceHeader& h) {
  std::vector<std::pair<std::string, std::string>> props = {
      {"wstrace_version", h.wstrace_version},
      {"host", h.host},
      {"os", h.os},
      {"platform", std::to_string(static_cast<int>(h.platform))},
      {"arch", h.arch},
      {"command", h.command},
      {"snaplen", std::to_string(h.snaplen)},
      {"follow_children", h.follow_children ? "1" : "0"},
      {"wall_anchor_ns", std::to_string(h.wall_anchor_ns)},
      {"mono_anchor_ns", std::to_string(h.mono_anchor_ns)},
  };
  if (h.redacted) props.emplace_back("redacted", "1");
  if (!h.engine.empty()) props.emplace_back("engine", h.engine);
  if (!h.mode.empty()) props.emplace_back("mode", h.mode);
  props.insert(props.end(), h.extra.begin(), h.extra.end());
  std::string body;
  wire::Out o(body);
  o.varint(props.size());
  for (const auto& [k, v] : props) {
    o.blob(k);
    o.blob(v);
  }
  return body;
}

// Functions, events and their fields, by name and type, so that any reader can decode the
// records of this file whatever its own table says.
std::string encode_schema() {
  std::string body;
  wire::Out o(body);
  o.varint(all_fields().size());
  for (const auto& f : all_fields()) {
    o.blob(f.name);
    o.u8(static_cast<uint8_t>(f.type));
  }
  o.varint(all_events().size());
  for (const auto& e : all_events()) {
    o.blob(e.name);
    o.varint(e.fields.size());
    for (FieldId f : e.fields) o.varint(static_cast<uint64_t>(f));
  }
  o.varint(all_funcs().size());
  for (const auto& fn : all_funcs()) {
    o.blob(fn.name);
    o.varint(static_cast<uint64_t>(fn.event));
  }
  return body;
}

Result<std::unique_ptr<TraceWriter>> TraceWriter::create(const std::string& path,
                                                         const TraceHeader& header) {
  auto file = OutputFile::create(path);
  if (!file.ok()) return file.status();
  return create(std::move(file.value()), header);
}

Result<std::unique_ptr<TraceWriter>> TraceWriter::create(std::unique_ptr<OutputFile> file,
                                                         const TraceHeader& header) {
  std::unique_ptr<TraceWriter> w(new TraceWriter(std::move(file)));
  if (Status s = w->start(header); !s.ok()) return s;
  return w;
}

Status TraceWriter::start(const TraceHeader& header) {
  std::string pre;
  wire::Out o(pre);
  o.bytes(kSignature.data(), kSignature.size());
  o.u16(kFormatMajor);
  o.u16(kFormatMinor);
  o.u32(0);
  if (Status s = file_->write(pre); !s.ok()) return s;
  if (Status s = write_block(BlockType::Header, encode_header(header)); !s.ok()) return s;
  return write_block(BlockType::Schema, encode_schema());
}

Status TraceWriter::write_block(BlockType type, std::string_view body) {
  std::string block;
  block.reserve(body.size() + kBlockOverhead);
  wire::Out o(block);
  o.u32(static_cast<uint32_t>(type));
  o.u32(static_cast<uint32_t>(body.size() + kBlockOverhead));
  o.bytes(body.data(), body.size());
  o.u32(block_crc(block));
  return file_->write(block);
}

Status TraceWriter::write(const Event& ev) {
  if (!failed_.ok()) return failed_;
  if (closed_) return Status::error("trace writer used after close");
  if (ev.func >= FuncId::kCount) return Status::error("event with an unknown function");
  if (block_count_ > 0 && (ev.pid != block_pid_ || body_.size() >= kTargetEventsBlockSize)) {
    if (Status s = flush(); !s.ok()) return s;
  }
  if (block_count_ == 0) {
    // Block head: pid, sequence number of the first event, base timestamp.
    body_.clear();
    wire::Out head(body_);
    head.varint(ev.pid);
    head.varint(events_);
    head.svarint(ev.ts);
    block_pid_ = ev.pid;
    prev_ts_ = ev.ts;
  }

  record_.clear();
  wire::Out r(record_);
  r.varint(static_cast<uint64_t>(ev.func));
  r.varint(ev.tid);
  r.svarint(ev.ts - prev_ts_);
  r.varint(ev.dur);
  r.svarint(ev.result);
  r.varint(ev.error.pack());
  const EventDef& def = event_def(ev.type());
  uint64_t present = 0;
  const Value* vals[kMaxFields] = {};
  for (size_t i = 0; i < def.fields.size(); ++i) {
    vals[i] = ev.get(def.fields[i]);
    if (vals[i]) present |= 1ull << i;
  }
  r.varint(present);
  for (size_t i = 0; i < def.fields.size(); ++i) {
    const Value* v = vals[i];
    if (!v) continue;
    FieldType t = field_def(def.fields[i]).type;
    if (!is_blob(t)) {
      r.varint(t == FieldType::Int ? wire::zigzag(static_cast<int64_t>(v->num)) : v->num);
    } else if (t == FieldType::Bytes) {
      // Bytes: the original length, then the kept bytes, inside one blob.
      std::string_view kept = v->bytes();
      r.varint(wire::varint_size(v->num) + kept.size());
      r.varint(v->num);
      r.bytes(kept.data(), kept.size());
    } else {
      r.blob(v->bytes());
    }
  }
  wire::Out(body_).blob(record_);
  prev_ts_ = ev.ts;
  ++block_count_;
  ++events_;
  return {};
}

Status TraceWriter::flush() {
  if (!failed_.ok()) return failed_;
  if (block_count_ == 0) return {};
  block_count_ = 0;
  Status s = write_block(BlockType::Events, body_);
  if (!s.ok()) failed_ = s;
  return s;
}

Status TraceWriter::close(int64_t end_ts) {
  if (closed_) return {};
  if (Status s = flush(); !s.ok()) return s;
  std::string body;
  wire::Out o(body);
  o.varint(events_);
  o.svarint(end_ts);
  Status s = write_block(BlockType::Footer, body);
  if (!s.ok()) failed_ = s;
  closed_ = true;
  return s;
}

}  // namespace ws::trace
