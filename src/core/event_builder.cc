#include "event_builder.h"

#include "wire.h"

namespace ws {

EventBuilder& EventBuilder::begin(FuncId func, uint32_t pid, uint32_t tid, int64_t ts,
                                  uint64_t dur) {
  arena_.clear();
  ev_ = Event{};
  ev_.func = func;
  ev_.pid = pid;
  ev_.tid = tid;
  ev_.ts = ts;
  ev_.dur = dur;
  return *this;
}

EventBuilder& EventBuilder::result(int64_t r, ErrorCode e) {
  ev_.result = r;
  ev_.error = e;
  return *this;
}

EventBuilder& EventBuilder::num(FieldId id, uint64_t v) {
  if (ev_.set_num(id, v)) {
    for (uint8_t i = 0; i < ev_.nvalues; ++i)
      if (ev_.values[i].id == id) offsets_[i] = -1;
  }
  return *this;
}

EventBuilder& EventBuilder::blob_from(FieldId id, size_t start, uint64_t n) {
  if (ev_.set(Value{id, n, nullptr, static_cast<uint32_t>(arena_.size() - start)})) {
    for (uint8_t i = 0; i < ev_.nvalues; ++i)
      if (ev_.values[i].id == id) offsets_[i] = static_cast<int64_t>(start);
  }
  return *this;
}

Event& EventBuilder::event() {
  // The arena may have moved while it grew: point the blobs at where their bytes are now.
  for (uint8_t i = 0; i < ev_.nvalues; ++i)
    if (offsets_[i] >= 0)
      ev_.values[i].data = reinterpret_cast<const uint8_t*>(arena_.data()) + offsets_[i];
  return ev_;
}

EventBuilder& EventBuilder::str(FieldId id, std::string_view s) {
  size_t start = arena_.size();
  arena_.append(s);
  return blob_from(id, start);
}

EventBuilder& EventBuilder::addr(FieldId id, const SockAddr& a) {
  size_t start = arena_.size();
  encode_addr(a, arena_);
  return blob_from(id, start);
}

EventBuilder& EventBuilder::addrs(FieldId id, const std::vector<SockAddr>& list) {
  size_t start = arena_.size();
  wire::Out o(arena_);
  for (const auto& a : list) {
    scratch_.clear();
    encode_addr(a, scratch_);
    o.blob(scratch_);
  }
  return blob_from(id, start);
}

EventBuilder& EventBuilder::polls(FieldId id, const std::vector<PollEntry>& list) {
  size_t start = arena_.size();
  wire::Out o(arena_);
  for (const auto& p : list) {
    o.varint(p.sock);
    o.varint(p.events);
    o.varint(p.revents);
  }
  return blob_from(id, start);
}

EventBuilder& EventBuilder::payload(std::string_view kept, uint64_t original) {
  size_t start = arena_.size();
  arena_.append(kept);
  return blob_from(FieldId::payload, start, original);
}

bool decode_addr_list(std::string_view blob, std::vector<SockAddr>& out) {
  out.clear();
  wire::In in(blob);
  while (in.ok() && !in.empty()) {
    SockAddr a;
    if (!decode_addr(in.blob(), a)) return false;
    out.push_back(std::move(a));
  }
  return in.ok();
}

bool decode_poll_list(std::string_view blob, std::vector<PollEntry>& out) {
  out.clear();
  wire::In in(blob);
  while (in.ok() && !in.empty()) {
    PollEntry p;
    p.sock = in.varint();
    p.events = in.varint();
    p.revents = in.varint();
    if (in.ok()) out.push_back(p);
  }
  return in.ok();
}

}  // namespace ws
