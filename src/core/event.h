// Events as every part of wstrace sees them: the typed view of the table in event_defs.h, and
// the in-memory event that engines produce and the trace writer consumes.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "constants.h"
#include "event_defs.h"

namespace ws {

enum class FieldType : uint8_t {
  // Varint wire class (< 16): one LEB128 number in the record.
  UInt = 1,
  Int = 2,       // zigzag
  Sock = 3,
  Enum = 4,      // a wstrace code of the field's ConstTable
  Flags = 5,     // wstrace flag bits of the field's ConstTable
  Duration = 6,  // nanoseconds
  // Blob wire class (>= 16): varint length, then that many bytes.
  Addr = 16,
  Str = 17,
  Bytes = 18,     // varint original length, then the kept bytes
  AddrList = 19,  // a sequence of Addr blobs
  PollList = 20,  // a sequence of (sock varint, asked flags varint, returned flags varint)
};
inline bool is_blob(FieldType t) { return static_cast<uint8_t>(t) >= 16; }
std::string_view field_type_name(FieldType t);

enum class FieldId : uint8_t {
#define WS_X(id, type, table, desc) id,
  WS_FIELD_LIST(WS_X)
#undef WS_X
  kCount,
  Unknown = 0xff,
};

enum class EventType : uint8_t {
#define WS_X(id, desc, ...) id,
  WS_EVENT_LIST(WS_X)
#undef WS_X
  kCount,
  Unknown = 0xff,
};

// Events that state a fact about a process (it started, forked, ended, named a thread, lost
// records or tracing, has an inherited socket, cannot be fully seen) rather than a call it made:
// they are not counted as calls.
inline bool is_process_fact(EventType t) {
  return t == EventType::process_start || t == EventType::process_exit ||
         t == EventType::thread_name || t == EventType::drops || t == EventType::tracing_lost ||
         t == EventType::unseen || t == EventType::inherited || t == EventType::fork;
}
// What the system did to a connection on its own, as the kernel engine saw it (a state change,
// a retransmission): no call of the program either.
inline bool is_tcp_happening(EventType t) {
  return t == EventType::tcp_state_change || t == EventType::tcp_retransmit;
}
// An event that is no call of the program: a process fact, what the agent read itself (a
// connection's TCP statistics) or what the system did. Not counted as calls.
inline bool is_fact(EventType t) {
  return is_process_fact(t) || t == EventType::tcp_info || is_tcp_happening(t);
}

enum class FuncId : uint8_t {
#define WS_X(name, event) name,
  WS_FUNC_LIST(WS_X)
#undef WS_X
  kCount,
  Unknown = 0xff,
};

struct FieldDef {
  FieldId id;
  std::string_view name;
  FieldType type;
  ConstTable table;
  std::string_view description;
};

inline constexpr size_t kMaxFields = 12;  // the most fields any event has (checked in event.cc)

struct EventDef {
  EventType id;
  std::string_view name;
  std::string_view description;
  std::span<const FieldId> fields;
};

struct FuncDef {
  FuncId id;
  std::string_view name;
  EventType event;
};

std::span<const FieldDef> all_fields();
std::span<const EventDef> all_events();
std::span<const FuncDef> all_funcs();
const FieldDef& field_def(FieldId id);
const EventDef& event_def(EventType id);
const FuncDef& func_def(FuncId id);
// Lookups by name; Unknown when there is no such name.
FieldId field_by_name(std::string_view name);
EventType event_by_name(std::string_view name);
FuncId func_by_name(std::string_view name);

// One field value. For varint types `num` holds it; for blob types `data`/`size` point at the
// encoded bytes (the event's producer keeps them alive); for Bytes `num` is the original length
// and data/size the kept part.
struct Value {
  FieldId id = FieldId::Unknown;
  uint64_t num = 0;
  const uint8_t* data = nullptr;
  uint32_t size = 0;

  std::string_view bytes() const {
    return {reinterpret_cast<const char*>(data), size};
  }
};

// One traced call (or process fact). Plain data: cheap to copy, no allocation.
struct Event {
  uint64_t seq = 0;     // position in the trace, from 0
  uint32_t pid = 0;
  uint32_t tid = 0;
  FuncId func = FuncId::Unknown;
  int64_t ts = 0;       // monotonic nanoseconds at entry (see TraceHeader for the wall clock)
  uint64_t dur = 0;     // nanoseconds from entry to exit
  int64_t result = 0;   // the function's return value
  ErrorCode error;      // what errno/WSAGetLastError() said, when the call failed
  uint8_t nvalues = 0;
  std::array<Value, kMaxFields> values{};

  // Both inline: every stage of inspection asks them of every event.
  EventType type() const;
  const Value* get(FieldId id) const {
    for (uint8_t i = 0; i < nvalues; ++i)
      if (values[i].id == id) return &values[i];
    return nullptr;
  }
  // A text or blob field's bytes; empty when the event has no such field.
  std::string_view text(FieldId id) const {
    const Value* v = get(id);
    return v ? v->bytes() : std::string_view();
  }
  // Sets or replaces a value. Returns false when the event already holds kMaxFields others.
  bool set(const Value& v);
  bool set_num(FieldId id, uint64_t num) { return set(Value{id, num, nullptr, 0}); }
  void clear_values() { nvalues = 0; }
};

// The event type of each function, by FuncId (the event table's, for Event::type()).
inline constexpr EventType kFuncEvent[] = {
#define WS_X(name, event) EventType::event,
    WS_FUNC_LIST(WS_X)
#undef WS_X
};

inline EventType Event::type() const {
  return func < FuncId::kCount ? kFuncEvent[static_cast<size_t>(func)] : EventType::Unknown;
}

// True for the functions whose result, when they succeed, is the number of bytes moved (the
// Windows agent records WSASend's and WSAGetOverlappedResult's byte count as their result).
inline bool result_is_byte_count(FuncId f) {
  switch (f) {
    case FuncId::send:
    case FuncId::sendto:
    case FuncId::sendmsg:
    case FuncId::write:
    case FuncId::writev:
    case FuncId::sendfile:
    case FuncId::splice:
    case FuncId::copy_file_range:
    case FuncId::splice_recv:
    case FuncId::sendmmsg_msg:
    case FuncId::recvmmsg_msg:
    case FuncId::recv:
    case FuncId::recvfrom:
    case FuncId::recvmsg:
    case FuncId::read:
    case FuncId::readv:
    case FuncId::WSASend:
    case FuncId::WSASendTo:
    case FuncId::WSASendMsg:
    case FuncId::WSARecv:
    case FuncId::WSARecvFrom:
    case FuncId::WSARecvMsg:
    case FuncId::WSAGetOverlappedResult:
    case FuncId::GetOverlappedResult: return true;
    default: return false;
  }
}

// The call a message event belongs to: sendmmsg and recvmmsg record each message after the
// first as an event of its own (sendmmsg_msg, recvmmsg_msg), a datagram but not a call; any
// other function is its own call.
inline FuncId call_of(FuncId f) {
  if (f == FuncId::sendmmsg_msg) return FuncId::sendmmsg;
  if (f == FuncId::recvmmsg_msg) return FuncId::recvmmsg;
  return f;
}

// The bytes a successful send, receive or completion says it moved: its payload's original
// length, else a completion's length, else the result of the functions whose result is a byte
// count (not sendmmsg/recvmmsg, which count messages, nor TransmitFile's BOOL); 0 for a receive
// with MSG_PEEK, which moves nothing (its bytes are counted when received). False for any
// other call and for a failed one. The one definition of "bytes moved": the tracker counts it,
// the filter's `bytes` field and every export read it.
// Inline: the tracker asks it of every send and receive.
// The second form takes the event's payload, len and flags fields (nullptr when absent) already
// found, for a caller that has looked through the event's values once for all it needs.
inline bool bytes_moved(const Event& ev, const Value* payload, const Value* len,
                        const Value* flags, uint64_t& out) {
  if (!ev.error.ok()) return false;
  const EventType t = ev.type();
  if (t != EventType::send && t != EventType::recv && t != EventType::io_complete) return false;
  // A peek (MSG_PEEK) leaves the bytes queued: the receive that takes them counts them.
  if (t == EventType::recv) {
    if (flags && (flags->num & msgflag::kPeek)) {
      out = 0;
      return true;
    }
  }
  if (payload != nullptr) {
    out = payload->num;
    return true;
  }
  if (t == EventType::io_complete && len != nullptr) {
    out = len->num;
    return true;
  }
  if (result_is_byte_count(ev.func) && ev.result >= 0) {
    out = static_cast<uint64_t>(ev.result);
    return true;
  }
  return false;
}
inline bool bytes_moved(const Event& ev, uint64_t& out) {
  return bytes_moved(ev, ev.get(FieldId::payload), ev.get(FieldId::len), ev.get(FieldId::flags),
                     out);
}

}  // namespace ws
