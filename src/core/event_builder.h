// Builds an Event whose blob values (addresses, strings, payloads) live in the builder: one
// buffer that keeps its capacity from event to event, so a builder that is reused (the
// collector's) stops allocating once it has seen its largest event.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "event.h"
#include "sockaddr.h"

namespace ws {

struct PollEntry {
  uint64_t sock = 0;
  uint64_t events = 0;   // PollEvents flags asked for
  uint64_t revents = 0;  // PollEvents flags returned
  bool operator==(const PollEntry&) const = default;
};

class EventBuilder {
 public:
  EventBuilder() = default;
  EventBuilder(const EventBuilder&) = delete;
  EventBuilder& operator=(const EventBuilder&) = delete;

  // Starts a new event; earlier storage is released.
  EventBuilder& begin(FuncId func, uint32_t pid, uint32_t tid, int64_t ts, uint64_t dur = 0);
  EventBuilder& result(int64_t r, ErrorCode e = {});
  EventBuilder& num(FieldId id, uint64_t v);
  EventBuilder& snum(FieldId id, int64_t v) { return num(id, static_cast<uint64_t>(v)); }
  EventBuilder& str(FieldId id, std::string_view s);
  EventBuilder& addr(FieldId id, const SockAddr& a);
  EventBuilder& addrs(FieldId id, const std::vector<SockAddr>& list);
  EventBuilder& polls(FieldId id, const std::vector<PollEntry>& list);
  // `kept` is what the snap length let through, `original` how many bytes the call moved.
  EventBuilder& payload(std::string_view kept, uint64_t original);

  // The event, its blob values pointing into this builder until the next begin().
  Event& event();

 private:
  // Records that the bytes appended to arena_ since `start` are the value of `id`.
  EventBuilder& blob_from(FieldId id, size_t start, uint64_t num = 0);
  Event ev_;
  std::string arena_;
  std::string scratch_;
  std::array<int64_t, kMaxFields> offsets_{};  // per value: where its bytes start, or -1
};

// Decoders for the list blobs; false when malformed.
bool decode_addr_list(std::string_view blob, std::vector<SockAddr>& out);
bool decode_poll_list(std::string_view blob, std::vector<PollEntry>& out);

}  // namespace ws
