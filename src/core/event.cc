#include "event.h"

#include <algorithm>

namespace ws {
namespace {

constexpr FieldDef kFields[] = {
#define WS_X(id, type, table, desc) \
  {FieldId::id, #id, FieldType::type, ConstTable::table, desc},
    WS_FIELD_LIST(WS_X)
#undef WS_X
};

// Each event's field list as an array of its own, closed by a kCount sentinel so that an event
// without fields still has an array.
namespace fields_of {
using enum FieldId;
#define WS_X(id, desc, ...) constexpr FieldId k_##id[] = {__VA_ARGS__ __VA_OPT__(, ) kCount};
WS_EVENT_LIST(WS_X)
#undef WS_X
}  // namespace fields_of

template <size_t N>
constexpr std::span<const FieldId> without_sentinel(const FieldId (&a)[N]) {
  return {a, N - 1};
}

constexpr EventDef kEvents[] = {
#define WS_X(id, desc, ...) \
  {EventType::id, #id, desc, without_sentinel(fields_of::k_##id)},
    WS_EVENT_LIST(WS_X)
#undef WS_X
};

constexpr FuncDef kFuncs[] = {
#define WS_X(name, event) {FuncId::name, #name, EventType::event},
    WS_FUNC_LIST(WS_X)
#undef WS_X
};

constexpr bool fields_fit() {
  for (const auto& e : kEvents)
    if (e.fields.size() > kMaxFields) return false;
  return true;
}
static_assert(fields_fit(), "an event has more fields than kMaxFields: raise it");
// A trace names its fields in its own table, an event's values by their place in that event's
// list: the presence bitmap is one varint over those places (readers take at most 63), not over
// every field there is. Raw records of the agents name a field in one byte.
static_assert(kMaxFields <= 63, "an event's presence bitmap is one varint");
static_assert(static_cast<size_t>(FieldId::kCount) <= 255, "raw records name a field in a byte");

template <typename Def, typename Id>
Id by_name(std::span<const Def> defs, std::string_view name, Id unknown) {
  for (const auto& d : defs)
    if (d.name == name) return d.id;
  return unknown;
}

}  // namespace

std::string_view field_type_name(FieldType t) {
  switch (t) {
    case FieldType::UInt: return "uint";
    case FieldType::Int: return "int";
    case FieldType::Sock: return "socket";
    case FieldType::Enum: return "enum";
    case FieldType::Flags: return "flags";
    case FieldType::Duration: return "duration";
    case FieldType::Addr: return "address";
    case FieldType::Str: return "string";
    case FieldType::Bytes: return "bytes";
    case FieldType::AddrList: return "address list";
    case FieldType::PollList: return "poll list";
  }
  return "unknown";
}

std::span<const FieldDef> all_fields() { return kFields; }
std::span<const EventDef> all_events() { return kEvents; }
std::span<const FuncDef> all_funcs() { return kFuncs; }
const FieldDef& field_def(FieldId id) { return kFields[static_cast<size_t>(id)]; }
const EventDef& event_def(EventType id) { return kEvents[static_cast<size_t>(id)]; }
const FuncDef& func_def(FuncId id) { return kFuncs[static_cast<size_t>(id)]; }
FieldId field_by_name(std::string_view n) { return by_name(all_fields(), n, FieldId::Unknown); }
EventType event_by_name(std::string_view n) { return by_name(all_events(), n, EventType::Unknown); }
FuncId func_by_name(std::string_view n) { return by_name(all_funcs(), n, FuncId::Unknown); }


bool Event::set(const Value& v) {
  for (uint8_t i = 0; i < nvalues; ++i) {
    if (values[i].id == v.id) {
      values[i] = v;
      return true;
    }
  }
  if (nvalues == kMaxFields) return false;
  values[nvalues++] = v;
  return true;
}

}  // namespace ws
