#include "live_capture.h"

namespace ws::capture {

void EventQueue::push(const Event& ev) {
  if (size_ == held_.size()) held_.emplace_back();
  Held& h = held_[size_++];
  h.ev = ev;
  h.bytes.clear();
  h.blobs = 0;
  for (uint32_t i = 0; i < ev.nvalues; ++i) {
    const Value& v = ev.values[i];
    if (!v.data) continue;
    h.blobs |= 1u << i;
    h.at[i] = static_cast<uint32_t>(h.bytes.size());
    h.bytes.append(reinterpret_cast<const char*>(v.data), v.size);
  }
}

bool EventQueue::pop(Event& ev) {
  if (next_ == size_) return false;
  const Held& h = held_[next_++];
  ev = h.ev;
  // (pointed at when handed out: `bytes` moves when held_ grows)
  for (uint32_t i = 0; i < ev.nvalues; ++i)
    if (h.blobs & (1u << i))
      ev.values[i].data = reinterpret_cast<const uint8_t*>(h.bytes.data()) + h.at[i];
  return true;
}

bool LiveCapture::next(Event& ev) {
  while (!queue_.pop(ev)) {
    if (over_) return false;
    queue_.clear();
    over_ = !step();
  }
  return true;
}

void LiveCapture::take(const Event& ev) {
  // The writer numbers events in writing order, from 0, and so does this.
  Event numbered = ev;
  numbered.seq = seq_++;
  queue_.push(numbered);
}

}  // namespace ws::capture
