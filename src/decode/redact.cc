#include "redact.h"

#include <algorithm>
#include <iterator>

namespace ws::decode {
namespace {

uint64_t op_key(uint32_t pid, uint64_t op) { return (op * 0x9E3779B97F4A7C15ull) ^ pid; }

}  // namespace

bool PayloadRedactor::redact(Event& ev) {
  const EventType t = ev.type();
  if (t == EventType::close || t == EventType::process_exit) {
    forget(ev);
    return false;
  }
  if (t != EventType::send && t != EventType::recv && t != EventType::io_complete) return false;
  // One pass over the values: this runs for every call of every trace read.
  const Value *payload = nullptr, *sock = nullptr, *op = nullptr;
  for (uint8_t i = 0; i < ev.nvalues; ++i) {
    const Value& v = ev.values[i];
    if (v.id == FieldId::payload) payload = &v;
    else if (v.id == FieldId::sock) sock = &v;
    else if (v.id == FieldId::op) op = &v;
  }
  const bool out = outbound(ev, op);
  if (payload == nullptr || payload->size == 0) return false;
  // A completion whose socket the agent did not know still gets scanned, as a stream of its own.
  const uint64_t sock_id = sock != nullptr ? sock->num : UINT64_MAX;
  SecretScanner& s = streams_[Key{ev.pid, sock_id, out}];
  s.scan({payload->data, payload->size}, ranges_);
  if (ranges_.empty()) return false;
  masked_.assign(reinterpret_cast<const char*>(payload->data), payload->size);
  apply_masks({reinterpret_cast<uint8_t*>(masked_.data()), masked_.size()}, ranges_);
  Value v = *payload;
  v.data = reinterpret_cast<const uint8_t*>(masked_.data());
  ev.set(v);
  return true;
}

// Which way the payload of a send, recv or overlapped completion went.
bool PayloadRedactor::outbound(const Event& ev, const Value* op) {
  switch (ev.type()) {
    case EventType::send:
      if (op != nullptr && !ev.error.ok()) pending_sends_.insert(op_key(ev.pid, op->num));
      return true;
    case EventType::io_complete:
      return op != nullptr && pending_sends_.erase(op_key(ev.pid, op->num)) > 0;
    default: return false;
  }
}

void PayloadRedactor::forget(const Event& ev) {
  if (ev.type() == EventType::process_exit) {
    std::erase_if(streams_, [&](const auto& kv) { return kv.first.pid == ev.pid; });
    return;
  }
  const Value* sock = ev.get(FieldId::sock);
  if (sock == nullptr) return;
  streams_.erase(Key{ev.pid, sock->num, true});
  streams_.erase(Key{ev.pid, sock->num, false});
}

}  // namespace ws::decode
