// Matching events against a compiled filter. Nothing here allocates: values are read from the
// event and the context in place and compared with constants resolved at parse time.
//
// A test on a field the event does not have is false, whatever its operator; fields with two
// values (ip, port and sock: either end, or the used and the created socket) pass `==` when
// either value does and `!=` when neither does.
#include <algorithm>
#include <string_view>

#include "constants.h"
#include "filter_internal.h"

namespace ws::inspect::detail {
namespace {

bool compare(Op op, uint64_t a, uint64_t b, bool is_signed) {
  if (is_signed) {
    const auto x = static_cast<int64_t>(a), y = static_cast<int64_t>(b);
    switch (op) {
      case Op::Lt: return x < y;
      case Op::Le: return x <= y;
      case Op::Gt: return x > y;
      case Op::Ge: return x >= y;
      default: return x == y;
    }
  }
  switch (op) {
    case Op::Lt: return a < b;
    case Op::Le: return a <= b;
    case Op::Gt: return a > b;
    case Op::Ge: return a >= b;
    default: return a == b;
  }
}

// "curl" from "/usr/bin/curl", "client.exe" from "C:\app\client.exe".
std::string_view base_name(std::string_view path) {
  const size_t slash = path.find_last_of("/\\");
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

bool family_of(const Event& ev, const FilterContext& ctx, uint64_t& out) {
  if (const Value* f = ev.get(FieldId::family)) {
    out = f->num;
    return true;
  }
  const SockAddr* a = ctx.remote_addr(ev);
  if (a == nullptr) a = ctx.local_addr(ev);
  if (a == nullptr) return false;
  out = a->family;
  return true;
}

uint64_t proto_of(const Event& ev, const FilterContext& ctx) {
  uint64_t family = 0;
  if (family_of(ev, ctx, family) && family == af::kUnix) return kProtoUnix;
  return ctx.protocol(ev);
}

size_t sockets_of(const Event& ev, uint64_t (&v)[2]) {
  size_t count = 0;
  if (const Value* s = ev.get(FieldId::sock)) v[count++] = s->num;
  const Value* created = ev.get(FieldId::new_sock);
  if (created != nullptr) v[count++] = created->num;
  const EventType t = ev.type();
  if (created == nullptr && (t == EventType::socket || t == EventType::accept) && ev.error.ok() &&
      ev.result >= 0)
    v[count++] = static_cast<uint64_t>(ev.result);
  return count;
}

std::string_view host_of(const Event& ev, const FilterContext& ctx) {
  const Value* h = ev.get(FieldId::host);
  std::string_view s = h != nullptr ? h->bytes() : ctx.remote_host(ev);
  if (s.size() > 1 && s.back() == '.') s.remove_suffix(1);
  return s;
}

std::string_view proc_of(const Event& ev, const FilterContext& ctx) {
  return base_name(ctx.process_name(ev.pid));
}

namespace {

class Evaluator {
 public:
  Evaluator(const Program& p, const Event& ev, const FilterContext& ctx)
      : p_(p), ev_(ev), ctx_(ctx) {}

  bool node(uint32_t i) const {
    const Node& n = p_.nodes[i];
    switch (n.type) {
      case NodeType::And:
        for (uint32_t k = n.begin; k < n.end; ++k)
          if (!node(p_.kids[k])) return false;
        return true;
      case NodeType::Or:
        for (uint32_t k = n.begin; k < n.end; ++k)
          if (node(p_.kids[k])) return true;
        return false;
      case NodeType::Not: return !node(p_.kids[n.begin]);
      case NodeType::Test: return test(n);
    }
    return false;
  }

 private:
  bool test(const Node& n) const {
    switch (n.kind) {
      case Kind::Number:
      case Kind::Duration: return number_test(n);
      case Kind::Text: return text_test(n);
      case Kind::Code: return code_test(n);
      case Kind::Flags: return flags_test(n);
      case Kind::Error: return error_test(n);
      case Kind::Ip: return ip_test(n);
      case Kind::Bytes: return payload_test(n);
      case Kind::Bool: return bool_test(n);
    }
    return false;
  }

  bool in_set(const Node& n, uint64_t v) const {
    return std::binary_search(p_.nums.begin() + n.begin, p_.nums.begin() + n.end, v);
  }

  // ---- numbers ----

  bool number_test(const Node& n) const {
    uint64_t v[4];
    const size_t count = numbers(n, v);
    if (count == 0) return false;
    if (n.op == Op::Exists) return true;
    if (n.op == Op::Eq || n.op == Op::Ne) {
      bool any = false;
      for (size_t i = 0; i < count && !any; ++i)
        for (uint32_t k = n.begin; k < n.end && !any; ++k) any = v[i] == p_.nums[k];
      return any == (n.op == Op::Eq);
    }
    for (size_t i = 0; i < count; ++i)
      if (compare(n.op, v[i], p_.nums[n.begin], n.is_signed)) return true;
    return false;
  }

  size_t numbers(const Node& n, uint64_t (&v)[4]) const {
    switch (n.key) {
      case Key::Pid: v[0] = ev_.pid; return 1;
      case Key::Tid: v[0] = ev_.tid; return 1;
      case Key::Ret: v[0] = static_cast<uint64_t>(ev_.result); return 1;
      case Key::Dur: v[0] = ev_.dur; return 1;
      case Key::Conn: v[0] = ctx_.connection_id(ev_); return v[0] != 0 ? 1 : 0;
      case Key::Sock: {
        uint64_t socks[2];
        const size_t count = sockets_of(ev_, socks);
        for (size_t i = 0; i < count; ++i) v[i] = socks[i];
        return count;
      }
      case Key::Bytes: return bytes_moved(ev_, v[0]) ? 1 : 0;
      case Key::Port:
      case Key::Lport:
      case Key::Rport: {
        size_t count = 0;
        const SockAddr* ends[2];
        const size_t k = addr_ends(n.key, ends);
        for (size_t i = 0; i < k; ++i)
          if (ends[i] != nullptr && ends[i]->is_inet()) v[count++] = ends[i]->port;
        return count;
      }
      case Key::Raw:
        if (const Value* x = ev_.get(n.raw)) {
          v[0] = x->num;
          return 1;
        }
        return 0;
      default: return 0;
    }
  }

  size_t addr_ends(Key key, const SockAddr* (&ends)[2]) const {
    size_t k = 0;
    if (key == Key::Ip || key == Key::Lip || key == Key::Port || key == Key::Lport)
      ends[k++] = ctx_.local_addr(ev_);
    if (key == Key::Ip || key == Key::Rip || key == Key::Port || key == Key::Rport)
      ends[k++] = ctx_.remote_addr(ev_);
    return k;
  }

  // ---- text ----

  bool text_value(const Node& n, std::string_view& s) const {
    switch (n.key) {
      case Key::Proc: s = proc_of(ev_, ctx_); return !s.empty();
      case Key::Host: s = host_of(ev_, ctx_); return !s.empty();
      case Key::Raw:
        if (const Value* x = ev_.get(n.raw)) {
          s = x->bytes();
          return true;
        }
        return false;
      default: return false;
    }
  }

  bool text_test(const Node& n) const {
    std::string_view s;
    if (!text_value(n, s)) return false;
    if (n.op == Op::Exists) return true;
    bool any = false;
    for (uint32_t k = n.begin; k < n.end && !any; ++k) {
      const std::string_view c = p_.strs[k];
      switch (n.op) {
        case Op::Contains: any = icontains(s, c); break;
        case Op::StartsWith: any = istarts(s, c); break;
        case Op::EndsWith: any = iends(s, c); break;
        default:
          // `proc == client` also matches client.exe.
          any = ieq(s, c) || (n.key == Key::Proc && s.size() == c.size() + 4 && istarts(s, c) &&
                              iends(s, ".exe"));
          break;
      }
    }
    return n.op == Op::Ne ? !any : any;
  }

  // ---- names ----

  bool code_value(const Node& n, uint64_t& out) const {
    switch (n.key) {
      case Key::Func: out = static_cast<uint64_t>(ev_.func); return ev_.func < FuncId::kCount;
      case Key::Event:
        out = static_cast<uint64_t>(ev_.type());
        return ev_.type() != EventType::Unknown;
      case Key::Family: return family_of(ev_, ctx_, out);
      case Key::Proto: out = proto_of(ev_, ctx_); return out != 0;
      case Key::Raw:
        if (const Value* x = ev_.get(n.raw)) {
          out = x->num;
          return true;
        }
        return false;
      default: return false;
    }
  }

  bool code_test(const Node& n) const {
    uint64_t v = 0;
    if (!code_value(n, v)) return false;
    if (n.op == Op::Exists) return true;
    return in_set(n, v) == (n.op != Op::Ne);
  }

  bool flags_test(const Node& n) const {
    const Value* x = ev_.get(n.raw);
    if (x == nullptr) return false;
    if (n.op == Op::Exists) return true;
    bool any = false;
    for (uint32_t k = n.begin; k < n.end && !any; ++k) {
      const uint64_t c = p_.nums[k];
      any = n.op == Op::Contains ? (x->num & c) == c : x->num == c;
    }
    return n.op == Op::Ne ? !any : any;
  }

  bool error_test(const Node& n) const {
    if (ev_.error.ok()) return false;
    if (n.op == Op::Exists) return true;
    return in_set(n, ev_.error.pack()) == (n.op != Op::Ne);
  }

  bool bool_test(const Node& n) const {
    const uint64_t failed = ev_.error.ok() ? 0 : 1;  // the only yes/no field
    if (n.op == Op::Exists) return failed != 0;
    bool any = false;
    for (uint32_t k = n.begin; k < n.end; ++k) any = any || p_.nums[k] == failed;
    return n.op == Op::Ne ? !any : any;
  }

  // ---- addresses and payloads ----

  bool ip_test(const Node& n) const {
    const SockAddr* ends[2];
    const size_t k = addr_ends(n.key, ends);
    bool present = false, hit = false;
    for (size_t i = 0; i < k && !hit; ++i) {
      if (ends[i] == nullptr || !ends[i]->is_inet()) continue;
      present = true;
      const auto ip = as_ipv6(*ends[i]);
      for (uint32_t c = n.begin; c < n.end && !hit; ++c) hit = p_.cidrs[c].contains(ip);
    }
    if (!present) return false;
    if (n.op == Op::Exists) return true;
    return hit == (n.op != Op::Ne);
  }

  // Compared with the recorded bytes: `==` and `endswith` need the whole payload to be there.
  bool payload_test(const Node& n) const {
    const Value* x = ev_.get(FieldId::payload);
    if (x == nullptr) return false;
    if (n.op == Op::Exists) return true;
    const std::string_view kept = x->bytes();
    const bool whole = x->num <= x->size;
    bool any = false;
    for (uint32_t k = n.begin; k < n.end && !any; ++k) {
      const std::string_view c = p_.strs[k];
      switch (n.op) {
        case Op::Contains: any = kept.find(c) != std::string_view::npos; break;
        case Op::StartsWith: any = kept.starts_with(c); break;
        case Op::EndsWith: any = whole && kept.ends_with(c); break;
        default: any = whole && kept == c; break;
      }
    }
    return n.op == Op::Ne ? !any : any;
  }

  const Program& p_;
  const Event& ev_;
  const FilterContext& ctx_;
};

}  // namespace

bool evaluate(const Program& p, const Event& ev, const FilterContext& ctx) {
  return Evaluator(p, ev, ctx).node(p.root);
}

}  // namespace ws::inspect::detail

namespace ws::inspect {

FilterFacts filter_facts(const Event& ev, const FilterContext& ctx) {
  FilterFacts f;
  f.has_family = detail::family_of(ev, ctx, f.family);
  f.proto = detail::proto_of(ev, ctx);
  if (const SockAddr* a = ctx.local_addr(ev); a != nullptr && a->is_inet()) f.local = a;
  if (const SockAddr* a = ctx.remote_addr(ev); a != nullptr && a->is_inet()) f.remote = a;
  f.host = detail::host_of(ev, ctx);
  f.proc = detail::proc_of(ev, ctx);
  f.conn = ctx.connection_id(ev);
  f.sock_count = detail::sockets_of(ev, f.socks);
  f.has_bytes = bytes_moved(ev, f.bytes);
  return f;
}

}  // namespace ws::inspect
