#include "filter.h"

#include <utility>

#include "constants.h"
#include "filter_internal.h"
#include "wire.h"

namespace ws::inspect {
namespace {

// decode_addr() without its allocations: `out` keeps the capacity of its path between calls.
bool decode_addr_in_place(std::string_view blob, SockAddr& out) {
  wire::In in(blob);
  out.family = in.varint();
  out.ip = {};
  out.port = 0;
  out.scope_id = 0;
  out.flowinfo = 0;
  out.path.clear();
  if (out.family == af::kInet || out.family == af::kInet6) {
    const size_t n = out.family == af::kInet ? 4 : 16;
    const std::string_view ip = in.take(n);
    for (size_t i = 0; i < ip.size(); ++i) out.ip[i] = static_cast<uint8_t>(ip[i]);
    out.port = in.u16();
    if (out.family == af::kInet6) {
      out.scope_id = static_cast<uint32_t>(in.varint());
      out.flowinfo = static_cast<uint32_t>(in.varint());
    }
  } else {
    out.path.assign(in.take(in.remaining()));
  }
  return in.ok();
}

const SockAddr* event_addr(const Event& ev, FieldId id, SockAddr& scratch) {
  const Value* v = ev.get(id);
  if (v == nullptr || !decode_addr_in_place(v->bytes(), scratch)) return nullptr;
  return &scratch;
}

}  // namespace

// ---- EventOnlyContext -------------------------------------------------------------------------

std::string_view EventOnlyContext::process_name(uint32_t) const { return {}; }
uint64_t EventOnlyContext::connection_id(const Event&) const { return 0; }
std::string_view EventOnlyContext::remote_host(const Event&) const { return {}; }

const SockAddr* EventOnlyContext::local_addr(const Event& ev) const {
  switch (ev.type()) {
    case EventType::bind: return event_addr(ev, FieldId::addr, local_);
    case EventType::connect:
    case EventType::accept:
    case EventType::inherited: return event_addr(ev, FieldId::local, local_);
    case EventType::sockname:
      return ev.func == FuncId::getsockname ? event_addr(ev, FieldId::addr, local_) : nullptr;
    default: return nullptr;
  }
}

const SockAddr* EventOnlyContext::remote_addr(const Event& ev) const {
  switch (ev.type()) {
    case EventType::connect:
    case EventType::send:
    case EventType::reverse_lookup: return event_addr(ev, FieldId::addr, remote_);
    case EventType::accept:
    case EventType::recv:
    case EventType::io_complete:
    case EventType::inherited: return event_addr(ev, FieldId::peer, remote_);
    case EventType::sockname:
      return ev.func == FuncId::getpeername ? event_addr(ev, FieldId::addr, remote_) : nullptr;
    default: return nullptr;
  }
}

uint64_t EventOnlyContext::protocol(const Event& ev) const {
  const EventType t = ev.type();
  if (t != EventType::socket && t != EventType::socketpair && t != EventType::inherited) return 0;
  const Value* proto = ev.get(FieldId::protocol);
  if (proto != nullptr && proto->num != proto::kIp) return proto->num;
  // Protocol 0 is the family's default for the type.
  const Value* family = ev.get(FieldId::family);
  const Value* type = ev.get(FieldId::type);
  if (family == nullptr || type == nullptr) return 0;
  if (family->num != af::kInet && family->num != af::kInet6) return 0;
  if (type->num == socktype::kStream) return proto::kTcp;
  if (type->num == socktype::kDgram) return proto::kUdp;
  return 0;
}

// ---- Filter -----------------------------------------------------------------------------------

Filter::Filter() = default;

Filter::Filter(std::shared_ptr<const detail::Program> program) : program_(std::move(program)) {}

Result<Filter> Filter::parse(std::string_view text) {
  auto program = std::make_shared<detail::Program>();
  if (Status s = detail::compile(text, *program); !s.ok()) return s;
  return Filter(std::move(program));
}

bool Filter::matches(const Event& ev, const FilterContext& ctx) const {
  return program_ == nullptr || detail::evaluate(*program_, ev, ctx);
}

const std::string& Filter::text() const {
  static const std::string kEmpty;
  return program_ != nullptr ? program_->text : kEmpty;
}

}  // namespace ws::inspect
