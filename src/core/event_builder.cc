#include "event_builder.h"

#include "wire.h"

namespace ws {

EventBuilder& EventBuilder::begin(FuncId func, uint32_t pid, uint32_t tid, int64_t ts,
                                  uint64_t dur) {
  store_.clear();
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
  ev_.set_num(id, v);
  return *this;
}

EventBuilder& EventBuilder::blob(FieldId id, std::string s, uint64_t n) {
  const std::string& kept = store_.emplace_back(std::move(s));
  ev_.set(Value{id, n, reinterpret_cast<const uint8_t*>(kept.data()),
                static_cast<uint32_t>(kept.size())});
  return *this;
}

EventBuilder& EventBuilder::str(FieldId id, std::string_view s) { return blob(id, std::string(s)); }

EventBuilder& EventBuilder::addr(FieldId id, const SockAddr& a) {
  std::string s;
  encode_addr(a, s);
  return blob(id, std::move(s));
}

EventBuilder& EventBuilder::addrs(FieldId id, const std::vector<SockAddr>& list) {
  std::string s, one;
  wire::Out o(s);
  for (const auto& a : list) {
    one.clear();
    encode_addr(a, one);
    o.blob(one);
  }
  return blob(id, std::move(s));
}

EventBuilder& EventBuilder::polls(FieldId id, const std::vector<PollEntry>& list) {
  std::string s;
  wire::Out o(s);
  for (const auto& p : list) {
    o.varint(p.sock);
    o.varint(p.events);
    o.varint(p.revents);
  }
  return blob(id, std::move(s));
}

EventBuilder& EventBuilder::payload(std::string_view kept, uint64_t original) {
  return blob(FieldId::payload, std::string(kept), original);
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
