#include "call_tape.h"

#include <algorithm>
#include <cstring>
#include <type_traits>

namespace ws::report {
namespace {

template <typename T>
void put(std::string& out, const T& v) {
  static_assert(std::is_trivially_copyable_v<T>);
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

void put_text(std::string& out, std::string_view s) {
  put(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

template <typename T>
T get(const std::string& in, size_t& at) {
  T v;
  std::memcpy(&v, in.data() + at, sizeof v);
  at += sizeof v;
  return v;
}

std::string_view get_text(const std::string& in, size_t& at) {
  const auto n = get<uint32_t>(in, at);
  std::string_view s(in.data() + at, n);
  at += n;
  return s;
}

void put_addr(std::string& out, const SockAddr& a) {
  put(out, a.family), put(out, a.ip), put(out, a.port), put(out, a.scope_id);
  put(out, a.flowinfo), put_text(out, a.path);
}

void get_addr(const std::string& in, size_t& at, SockAddr& a) {
  a.family = get<uint64_t>(in, at);
  a.ip = get<std::array<uint8_t, 16>>(in, at);
  a.port = get<uint16_t>(in, at);
  a.scope_id = get<uint32_t>(in, at);
  a.flowinfo = get<uint32_t>(in, at);
  a.path = std::string(get_text(in, at));
}

// The facts' parts that CallRows reads (the others are in the CallHead).
enum FactsHas : uint8_t { kFamily = 1, kLocal = 2, kRemote = 4 };

}  // namespace

void CallTape::append(const CallHead& head, const Event& ev, const inspect::FilterFacts& facts,
                      uint32_t payload_cap) {
  if (chunks_.empty() || chunks_.back().calls == chunk_calls_) {
    chunks_.emplace_back();
    chunks_.back().bytes.reserve(size_t{chunk_calls_} * 128);
  }
  Chunk& c = chunks_.back();
  std::string& out = c.bytes;
  put(out, head);
  put(out, ev.nvalues);
  for (uint8_t i = 0; i < ev.nvalues; ++i) {
    const Value& v = ev.values[i];
    // (a payload beyond the cap is never shown: its length stays in num)
    const uint32_t size = v.id == FieldId::payload ? std::min(v.size, payload_cap) : v.size;
    put(out, v.id), put(out, v.num), put(out, static_cast<uint8_t>(v.data != nullptr));
    if (v.data) put_text(out, std::string_view(reinterpret_cast<const char*>(v.data), size));
    else put(out, v.size);
  }
  const uint8_t has = (facts.has_family ? kFamily : 0) | (facts.local ? kLocal : 0) |
                      (facts.remote ? kRemote : 0);
  put(out, has), put(out, facts.family), put(out, facts.proto);
  if (facts.local) put_addr(out, *facts.local);
  if (facts.remote) put_addr(out, *facts.remote);
  put_text(out, facts.host), put_text(out, facts.proc);
  ++c.calls;
  ++end_;
}

size_t CallTape::read(const std::string& in, size_t at, Replayed& r) {
  r.head = get<CallHead>(in, at);
  r.ev = Event{};
  r.ev.seq = r.head.seq;
  r.ev.func = static_cast<FuncId>(r.head.func);
  r.ev.dur = r.head.dur;
  r.ev.result = r.head.result;
  r.ev.nvalues = get<uint8_t>(in, at);
  for (uint8_t i = 0; i < r.ev.nvalues; ++i) {
    Value& v = r.ev.values[i];
    v.id = get<FieldId>(in, at);
    v.num = get<uint64_t>(in, at);
    if (get<uint8_t>(in, at)) {
      const std::string_view s = get_text(in, at);
      v.data = reinterpret_cast<const uint8_t*>(s.data());
      v.size = static_cast<uint32_t>(s.size());
    } else {
      v.data = nullptr;
      v.size = get<uint32_t>(in, at);
    }
  }
  r.facts = inspect::FilterFacts{};
  const auto has = get<uint8_t>(in, at);
  r.facts.has_family = has & kFamily;
  r.facts.family = get<uint64_t>(in, at);
  r.facts.proto = get<uint64_t>(in, at);
  if (has & kLocal) get_addr(in, at, r.local), r.facts.local = &r.local;
  if (has & kRemote) get_addr(in, at, r.remote), r.facts.remote = &r.remote;
  r.facts.host = get_text(in, at);
  r.facts.proc = get_text(in, at);
  return at;
}

void CallTape::drop_front(uint64_t keep) {
  while (!chunks_.empty() && size() > keep) {
    begin_ += chunks_.front().calls;
    chunks_.pop_front();
  }
}

CallTape CallTape::take() {
  CallTape out(chunk_calls_);
  out.chunks_.swap(chunks_);
  out.begin_ = begin_;
  out.end_ = end_;
  begin_ = end_;
  return out;
}

size_t CallTape::bytes() const {
  size_t n = 0;
  for (const Chunk& c : chunks_) n += c.bytes.capacity();
  return n;
}

}  // namespace ws::report
