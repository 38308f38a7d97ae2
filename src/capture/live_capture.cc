#include "live_capture.h"

#include <chrono>
#include <utility>

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

int64_t LiveCapture::steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool LiveCapture::next(Event& ev) {
  for (;;) {
    if (out_.pop(ev)) {
      if (!over_ && ++since_look_ >= kCatchUpLook) {
        since_look_ = 0;
        if (const int64_t now = steady_ns(); now - collected_ns_ >= kCatchUpNs) {
          catch_up();
          collected_ns_ = now;
        }
      }
      return true;
    }
    out_.clear();
    if (!in_.empty()) {
      std::swap(out_, in_);
      continue;
    }
    if (over_) return false;
    over_ = !step();
    collected_ns_ = steady_ns();
  }
}

void LiveCapture::take(const Event& ev) {
  // The writer numbers events in writing order, from 0, and so does this.
  Event numbered = ev;
  numbered.seq = seq_++;
  in_.push(numbered);
}

}  // namespace ws::capture
