#include "tracker.h"

#include <algorithm>

#include "error_class.h"
#include "event_builder.h"

namespace ws::inspect {

// One socket handle's state. dup() and fork() make several (pid, handle) keys share one entry;
// the entry's connections end when the last key goes.
struct Tracker::SockEntry {
  std::unique_ptr<Connection> base;
  std::vector<std::unique_ptr<Connection>> flows;  // UDP: further peers, one connection each
};

namespace {

constexpr size_t kMaxFlowsPerSocket = 64;  // further peers beyond this count on the base
constexpr size_t kMaxHosts = 1 << 16;       // names kept for addresses; the first ones win
constexpr size_t kMaxErrorCodes = 4;

std::string ip_key(const SockAddr& a) {
  const size_t n = a.family == af::kInet ? 4 : 16;
  // An IPv4-mapped IPv6 address is the IPv4 address.
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (a.family == af::kInet6 && std::equal(kMapped, kMapped + 12, a.ip.begin()))
    return std::string(reinterpret_cast<const char*>(a.ip.data()) + 12, 4);
  return std::string(reinterpret_cast<const char*>(a.ip.data()), n);
}

bool get_addr(const Event& ev, FieldId id, SockAddr& out) {
  const Value* v = ev.get(id);
  return v != nullptr && decode_addr(v->bytes(), out);
}

uint64_t num_or(const Event& ev, FieldId id, uint64_t dflt) {
  const Value* v = ev.get(id);
  return v ? v->num : dflt;
}

std::string_view base_name(std::string_view path) {
  const size_t cut = path.find_last_of("/\\");
  return cut == std::string_view::npos ? path : path.substr(cut + 1);
}

}  // namespace

std::string Process::name() const {
  if (image.empty()) return "pid " + std::to_string(pid);
  return std::string(base_name(image));
}

std::string_view role_name(ConnRole r) {
  switch (r) {
    case ConnRole::Socket: return "socket";
    case ConnRole::Client: return "client";
    case ConnRole::Accepted: return "accepted";
    case ConnRole::Listener: return "listener";
    case ConnRole::Flow: return "flow";
    case ConnRole::Pair: return "pair";
  }
  return "?";
}

std::string_view end_name(ConnEnd e) {
  switch (e) {
    case ConnEnd::Open: return "open at end";
    case ConnEnd::ClosedByUs: return "closed by us";
    case ConnEnd::ClosedByPeer: return "closed by peer";
    case ConnEnd::Reset: return "reset";
    case ConnEnd::Error: return "error";
    case ConnEnd::NotClosed: return "not closed";
  }
  return "?";
}

std::string Connection::kind() const {
  if (family == af::kUnix) return "unix";
  std::string k = proto == proto::kTcp ? "tcp" : proto == proto::kUdp ? "udp" : "?";
  if (family == af::kInet6 && k != "?") k += "6";
  return k;
}

Tracker::Tracker() = default;
Tracker::~Tracker() = default;

const Process* Tracker::process(uint32_t pid) const {
  auto it = procs_.find(pid);
  return it == procs_.end() ? nullptr : &it->second;
}

std::string_view Tracker::process_name(uint32_t pid) const {
  const Process* p = process(pid);
  return p ? std::string_view(p->image) : std::string_view();
}

std::string_view Tracker::host_of(const SockAddr& a) const {
  if (!a.is_inet() || hosts_.empty()) return {};
  auto it = hosts_.find(ip_key(a));
  return it == hosts_.end() ? std::string_view() : std::string_view(it->second);
}

void Tracker::learn_host(const SockAddr& ip, std::string_view name) {
  if (!ip.is_inet() || name.empty()) return;
  std::string key = ip_key(ip);
  auto it = hosts_.find(key);
  if (it != hosts_.end()) {
    it->second = name;  // the latest lookup names the address
  } else if (hosts_.size() < kMaxHosts) {
    hosts_.emplace(std::move(key), name);
  }
}

size_t Tracker::open_connections() const {
  size_t n = 0;
  for (const auto& [key, entry] : socks_) n += 1 + entry->flows.size();
  return n;
}

Process& Tracker::process_of(const Event& ev) {
  if (last_proc_ != nullptr && last_proc_->pid == ev.pid) return *last_proc_;
  auto [it, fresh] = procs_.try_emplace(ev.pid);
  last_proc_ = &it->second;
  if (fresh) {
    it->second.pid = ev.pid;
    it->second.start_ts = ev.ts;
  }
  return it->second;
}

Connection* Tracker::create(const Event& ev, uint64_t sock, ConnRole role) {
  release(ev.pid, sock, ev.ts, true);  // a handle reused without a close we saw
  auto entry = std::make_shared<SockEntry>();
  entry->base = fresh_connection();
  Connection& c = *entry->base;
  c.id = next_id_++;
  c.pid = ev.pid;
  c.sock = sock;
  c.role = role;
  c.opened_ts = ev.ts;
  c.last_ts = ev.ts;
  c.first_event_seq = ev.seq;
  socks_[Key{ev.pid, sock}] = entry;
  cache_put(Key{ev.pid, sock}, entry.get());
  return &c;
}

Connection* Tracker::find(uint32_t pid, uint64_t sock) {
  const Key key{pid, sock};
  CacheSlot& hit = slot(key);
  if (hit.entry != nullptr && hit.key == key) return hit.entry->base.get();
  auto it = socks_.find(key);
  if (it == socks_.end()) return nullptr;
  hit = CacheSlot{key, it->second.get()};
  return hit.entry->base.get();
}

// The connection of a handle; one the trace never showed being created is adopted from the
// parent process (inherited across fork) or started here, first seen now.
Connection* Tracker::find_or_adopt(const Event& ev, uint64_t sock) {
  if (Connection* c = find(ev.pid, sock)) return c;
  const Process* p = process(ev.pid);
  if (p != nullptr && p->ppid != 0) {
    auto it = socks_.find(Key{p->ppid, sock});
    if (it != socks_.end()) {
      socks_[Key{ev.pid, sock}] = it->second;
      cache_put(Key{ev.pid, sock}, it->second.get());
      return it->second->base.get();
    }
  }
  return create(ev, sock, ConnRole::Socket);
}

// UDP without connect(): each peer is a flow of its own. The socket's first peer is the socket's
// own connection.
Connection* Tracker::flow_for(const Event& ev, Connection* base, const SockAddr& peer) {
  if (base->role == ConnRole::Socket) base->role = ConnRole::Flow;
  if (!base->has_remote) {
    set_remote(*base, peer);
    return base;
  }
  if (base->remote == peer) return base;
  if (base->connecting || base->connected_ts != 0) return base;  // connected UDP: one peer
  auto it = socks_.find(Key{ev.pid, base->sock});
  if (it == socks_.end()) return base;
  SockEntry& entry = *it->second;
  for (auto& f : entry.flows)
    if (f->remote == peer) return f.get();
  if (entry.flows.size() >= kMaxFlowsPerSocket) return base;
  auto f = fresh_connection();
  f->id = next_id_++;
  f->pid = base->pid;
  f->sock = base->sock;
  f->family = base->family;
  f->type = base->type;
  f->proto = base->proto;
  f->role = ConnRole::Flow;
  f->local = base->local;
  f->has_local = base->has_local;
  f->opened_ts = ev.ts;
  f->first_event_seq = ev.seq;
  set_remote(*f, peer);
  entry.flows.push_back(std::move(f));
  return entry.flows.back().get();
}

void Tracker::set_remote(Connection& c, const SockAddr& a) {
  c.remote = a;
  c.has_remote = true;
  if (c.family == 0) c.family = a.family;
  if (c.host.empty()) c.host = std::string(host_of(a));
}

void Tracker::note_error(Connection& c, const Event& ev) {
  const ErrorClass cls = classify(ev.error);
  if (cls == ErrorClass::None || is_transient(cls)) return;
  ++c.errors;
  if (c.error_codes.size() < kMaxErrorCodes &&
      std::find(c.error_codes.begin(), c.error_codes.end(), ev.error) == c.error_codes.end())
    c.error_codes.push_back(ev.error);
  if (c.end == ConnEnd::Reset || c.end == ConnEnd::Error) return;  // the first one says it
  switch (cls) {
    case ErrorClass::Reset:
      c.end = ConnEnd::Reset;
      c.end_error = ev.error;
      break;
    case ErrorClass::Aborted:
    case ErrorClass::PeerGone:
    case ErrorClass::Refused:
    case ErrorClass::TimedOut:
    case ErrorClass::Unreachable:
      c.end = ConnEnd::Error;
      c.end_error = ev.error;
      break;
    default:
      // Any other failure of connect ends the attempt.
      if (ev.type() == EventType::connect) {
        c.end = ConnEnd::Error;
        c.end_error = ev.error;
      }
      break;
  }
}

void Tracker::end(Connection& c, int64_t ts, bool closed) {
  c.closed_ts = ts;
  if (c.end == ConnEnd::Open) {
    if (!closed) c.end = ConnEnd::NotClosed;
    else if (c.peer_eof && !c.we_shut) c.end = ConnEnd::ClosedByPeer;
    else c.end = ConnEnd::ClosedByUs;
  }
}

// One handle goes away (closed, or its process ended); the connections end with the last handle.
void Tracker::release(uint32_t pid, uint64_t sock, int64_t ts, bool closed) {
  auto it = socks_.find(Key{pid, sock});
  if (it == socks_.end()) return;
  std::shared_ptr<SockEntry> entry = std::move(it->second);
  socks_.erase(it);
  cache_drop(Key{pid, sock});
  if (entry.use_count() > 1) return;  // still open through a dup or another process
  end(*entry->base, ts, closed);
  ended_.push_back(std::move(entry->base));
  for (auto& f : entry->flows) {
    end(*f, ts, closed);
    ended_.push_back(std::move(f));
  }
}

void Tracker::transfer(Connection& c, const Event& ev, bool out, uint64_t bytes) {
  dir_ = out ? Dir::Out : Dir::In;
  if (out) {
    ++c.calls_out;
    c.bytes_out += bytes;
    if (bytes && !c.first_out_ts) c.first_out_ts = ev.ts;
  } else {
    ++c.calls_in;
    c.bytes_in += bytes;
    if (bytes && !c.first_in_ts) c.first_in_ts = ev.ts;
  }
  Process& p = process_of(ev);
  (out ? p.bytes_out : p.bytes_in) += bytes;
}

void Tracker::flush_ended() {
  for (auto& c : ended_) {
    if (on_end) on_end(*c);
    if (spare_.size() < 256) spare_.push_back(std::move(c));
  }
  ended_.clear();
}

// Connections come and go by the million in some traces: reuse the ones that ended.
std::unique_ptr<Connection> Tracker::fresh_connection() {
  if (spare_.empty()) return std::make_unique<Connection>();
  std::unique_ptr<Connection> c = std::move(spare_.back());
  spare_.pop_back();
  *c = Connection();
  return c;
}

void Tracker::pend(const Event& ev, uint64_t op, PendingOp po) {
  po.seq = ev.seq;
  pending_[Key{ev.pid, op}] = std::move(po);
}

void Tracker::observe(const Event& ev) {
  flush_ended();
  current_ = nullptr;
  dir_ = Dir::None;
  current_seq_ = ev.seq;
  completed_seq_ = 0;
  Process& p = process_of(ev);
  const EventType type = ev.type();
  if (type == EventType::process_start) {
    p.ppid = static_cast<uint32_t>(num_or(ev, FieldId::ppid, 0));
    if (const Value* v = ev.get(FieldId::image)) p.image = std::string(v->bytes());
    if (const Value* v = ev.get(FieldId::cmdline)) p.cmdline = std::string(v->bytes());
    p.platform = static_cast<Platform>(num_or(ev, FieldId::platform, 0));
    p.start_ts = ev.ts;
    return;
  }
  if (type == EventType::process_exit) {
    p.exited = true;
    p.end_ts = ev.ts;
    p.exit_code = static_cast<int64_t>(num_or(ev, FieldId::exit_code, 0));
    std::vector<uint64_t> mine;
    for (const auto& [key, entry] : socks_)
      if (key.pid == ev.pid) mine.push_back(key.sock);
    for (uint64_t s : mine) release(ev.pid, s, ev.ts, false);
    return;
  }
  ++p.calls;
  if (!ev.error.ok() && !is_transient(classify(ev.error))) ++p.failed;
  if (type == EventType::lookup) {
    const Value* host = ev.get(FieldId::host);
    const Value* addrs = ev.get(FieldId::addrs);
    if (host == nullptr || addrs == nullptr || host->size == 0) return;
    std::vector<SockAddr> list;
    if (!decode_addr_list(addrs->bytes(), list)) return;
    for (const auto& a : list) learn_host(a, host->bytes());
    return;
  }
  if (type == EventType::reverse_lookup) {
    SockAddr a;
    const Value* host = ev.get(FieldId::host);
    if (ev.error.ok() && host != nullptr && get_addr(ev, FieldId::addr, a))
      learn_host(a, host->bytes());
    return;
  }
  on_sock_event(ev, p);
}

void Tracker::on_sock_event(const Event& ev, Process& p) {
  const EventType type = ev.type();
  const bool ok = ev.error.ok();
  const ErrorClass cls = classify(ev.error);
  const Value* sockv = ev.get(FieldId::sock);
  SockAddr a;
  switch (type) {
    case EventType::socket: {
      if (!ok || ev.result < 0) return;
      Connection* c = create(ev, static_cast<uint64_t>(ev.result), ConnRole::Socket);
      c->family = num_or(ev, FieldId::family, 0);
      c->type = num_or(ev, FieldId::type, 0);
      c->proto = fallback_.protocol(ev);
      current_ = c;
      return;
    }
    case EventType::socketpair: {
      const Value* nv = ev.get(FieldId::new_sock);
      if (!ok || sockv == nullptr || nv == nullptr) return;
      Connection* first = nullptr;
      for (uint64_t s : {sockv->num, nv->num}) {
        Connection* c = create(ev, s, ConnRole::Pair);
        c->family = num_or(ev, FieldId::family, 0);
        c->type = num_or(ev, FieldId::type, 0);
        c->proto = fallback_.protocol(ev);
        c->connected_ts = ev.ts;
        if (!first) first = c;
      }
      current_ = first;
      return;
    }
    default: break;
  }
  if (sockv == nullptr) {
    // A completion packet that names no socket: the one queued for a call that finished at
    // once (the recorder knew the socket only of the calls still pending).
    if (const Value* op = ev.get(FieldId::op); op != nullptr && type == EventType::io_complete) {
      auto it = pending_.find(Key{ev.pid, op->num});
      if (it != pending_.end() && it->second.done) {
        completed_seq_ = it->second.seq;
        pending_.erase(it);
      }
    }
    return;
  }
  const uint64_t sock = sockv->num;
  if (type == EventType::close) {
    Connection* c = find(ev.pid, sock);
    current_ = c;
    if (c == nullptr) return;
    c->last_ts = ev.ts;
    // Keep the connection answerable for this event: it ends now but is freed at the next one.
    release(ev.pid, sock, ev.ts, true);
    return;
  }
  Connection* c = find_or_adopt(ev, sock);
  current_ = c;
  c->last_ts = ev.ts;
  note_error(*c, ev);
  switch (type) {
    case EventType::bind:
      if (ok && get_addr(ev, FieldId::addr, a)) {
        c->local = a;
        c->has_local = true;
        if (c->family == 0) c->family = a.family;
      }
      break;
    case EventType::listen:
      if (ok) c->role = ConnRole::Listener;
      break;
    case EventType::connect: {
      if (c->role == ConnRole::Socket || c->role == ConnRole::Flow) c->role = ConnRole::Client;
      if (get_addr(ev, FieldId::addr, a)) set_remote(*c, a);
      if (get_addr(ev, FieldId::local, a)) c->local = a, c->has_local = true;
      if (c->proto == 0 && c->type == socktype::kStream) c->proto = proto::kTcp;
      if (ok) {
        c->connected_ts = ev.ts;
        c->connecting = false;
      } else if (is_transient(cls)) {
        c->connecting = true;
        if (cls == ErrorClass::Pending)
          if (const Value* op = ev.get(FieldId::op))
            pend(ev, op->num, PendingOp{.type = type});
      }
      break;
    }
    case EventType::accept: {
      const Value* nv = ev.get(FieldId::new_sock);
      const bool overlapped = nv != nullptr && ev.get(FieldId::op) != nullptr;
      if (overlapped && cls == ErrorClass::Pending) {
        PendingOp po{.type = type,
                     .new_sock = nv->num,
                     .listener = c->id,
                     .listener_local = c->local,
                     .has_listener_local = c->has_local};
        pend(ev, ev.get(FieldId::op)->num, std::move(po));
        break;
      }
      if (!ok) break;
      const uint64_t ns = nv ? nv->num : static_cast<uint64_t>(ev.result);
      const uint64_t listener = c->id;
      const SockAddr listener_local = c->local;
      const bool listener_has_local = c->has_local;
      const uint64_t fam = c->family, typ = c->type, pro = c->proto;
      Connection* n = overlapped ? find_or_adopt(ev, ns) : create(ev, ns, ConnRole::Accepted);
      n->role = ConnRole::Accepted;
      n->listener = listener;
      n->family = n->family ? n->family : fam;
      n->type = n->type ? n->type : typ;
      n->proto = n->proto ? n->proto : pro;
      if (get_addr(ev, FieldId::peer, a)) set_remote(*n, a);
      if (get_addr(ev, FieldId::local, a)) n->local = a, n->has_local = true;
      else if (listener_has_local) n->local = listener_local, n->has_local = true;
      n->connected_ts = ev.ts;
      if (const Value* pl = ev.get(FieldId::payload); pl && ev.result > 0 && overlapped)
        transfer(*n, ev, false, pl->num);
      current_ = n;
      break;
    }
    case EventType::send:
    case EventType::recv: {
      const bool out = type == EventType::send;
      Connection* target = c;
      if (get_addr(ev, out ? FieldId::addr : FieldId::peer, a) && a.is_inet() &&
          c->type != socktype::kStream && c->role != ConnRole::Listener) {
        if (c->proto == 0) c->proto = proto::kUdp;
        target = flow_for(ev, c, a);
        current_ = target;
        if (target != c) target->last_ts = ev.ts, note_error(*target, ev);
      }
      if (cls == ErrorClass::Pending) {
        if (const Value* op = ev.get(FieldId::op))
          pend(ev, op->num, PendingOp{.type = type});
        break;
      }
      const uint64_t bytes = ok && ev.result > 0 ? static_cast<uint64_t>(ev.result) : 0;
      transfer(*target, ev, out, bytes);
      // An overlapped call that finished at once may still queue a completion packet (unless
      // the socket skips them): remember it, so that the packet names it and counts nothing.
      if (const Value* op = ev.get(FieldId::op); op != nullptr && ok)
        pend(ev, op->num, PendingOp{.type = type, .done = true});
      // End of stream: a stream receive that returned 0 with room to receive.
      if (!out && ok && ev.result == 0 && target->type != socktype::kDgram &&
          target->proto != proto::kUdp && num_or(ev, FieldId::len, 1) != 0)
        target->peer_eof = true;
      break;
    }
    case EventType::io_complete: {
      const Value* op = ev.get(FieldId::op);
      if (op == nullptr) break;
      auto it = pending_.find(Key{ev.pid, op->num});
      if (it == pending_.end()) break;
      const PendingOp po = it->second;
      pending_.erase(it);
      completed_seq_ = po.seq;
      if (po.done) break;
      const uint64_t bytes = ok ? num_or(ev, FieldId::len, 0) : 0;
      if (po.type == EventType::send || po.type == EventType::recv) {
        transfer(*c, ev, po.type == EventType::send, bytes);
        if (po.type == EventType::recv && ok && bytes == 0) c->peer_eof = true;
      } else if (po.type == EventType::connect) {
        c->connecting = false;
        if (ok) c->connected_ts = ev.ts;
        if (bytes) transfer(*c, ev, true, bytes);  // ConnectEx's send buffer went out
      } else if (po.type == EventType::accept && ok) {
        // The completion may name either socket: the accepted one is the call's new_sock.
        Connection* n = find_or_adopt(ev, po.new_sock);
        current_ = n;
        n->role = ConnRole::Accepted;
        n->listener = po.listener;
        if (!n->has_local && po.has_listener_local) n->local = po.listener_local, n->has_local = true;
        if (n->proto == 0 && n->type == socktype::kStream) n->proto = proto::kTcp;
        n->connected_ts = ev.ts;
        if (bytes) transfer(*n, ev, false, bytes);  // AcceptEx's first data
        if (get_addr(ev, FieldId::peer, a)) set_remote(*n, a);
      }
      break;
    }
    case EventType::shutdown: {
      const uint64_t how = num_or(ev, FieldId::how, shut::kRdwr);
      if (ok && (how == shut::kWr || how == shut::kRdwr || ev.func == FuncId::DisconnectEx))
        if (!c->peer_eof) c->we_shut = true;
      break;
    }
    case EventType::dup: {
      const Value* nv = ev.get(FieldId::new_sock);
      const uint64_t ns = nv ? nv->num : static_cast<uint64_t>(ev.result);
      if (!ok || ev.result < 0) break;
      auto it = socks_.find(Key{ev.pid, sock});
      if (it == socks_.end() || ns == sock) break;
      std::shared_ptr<SockEntry> entry = it->second;
      release(ev.pid, ns, ev.ts, true);  // dup2 onto an open handle closes it
      cache_put(Key{ev.pid, ns}, entry.get());
      socks_[Key{ev.pid, ns}] = std::move(entry);
      break;
    }
    case EventType::sockopt: {
      // A non-blocking connect's outcome: getsockopt(SO_ERROR).
      if (ev.func != FuncId::getsockopt || !ok || !c->connecting) break;
      if (num_or(ev, FieldId::level, 99) != solevel::kSolSocket ||
          num_or(ev, FieldId::optname, 0) != sockopt::kSoError)
        break;
      const auto value = static_cast<int32_t>(num_or(ev, FieldId::optval, 0));
      if (value == 0) {
        c->connecting = false;
        c->connected_ts = ev.ts;
      } else {
        Event failed = ev;
        failed.func = FuncId::connect;
        failed.error = ErrorCode{p.platform == Platform::Windows ? ErrDomain::Win : ErrDomain::Errno,
                                 value};
        // The error counts once, as the connect's.
        const ErrorClass fc = classify(failed.error);
        if (!is_transient(fc)) {
          c->connecting = false;
          note_error(*c, failed);
        }
      }
      break;
    }
    case EventType::sockname:
      if (!ok || !get_addr(ev, FieldId::addr, a)) break;
      if (ev.func == FuncId::getsockname) c->local = a, c->has_local = true;
      else if (!c->has_remote) set_remote(*c, a);
      break;
    default: break;
  }
}

void Tracker::finish() {
  flush_ended();
  std::vector<std::unique_ptr<Connection>> open;
  for (auto& [key, entry] : socks_) {
    if (!entry) continue;
    if (entry->base) open.push_back(std::move(entry->base));
    for (auto& f : entry->flows) open.push_back(std::move(f));
  }
  socks_.clear();
  cache_.fill(CacheSlot{});
  current_ = nullptr;
  std::sort(open.begin(), open.end(), [](const auto& x, const auto& y) { return x->id < y->id; });
  for (auto& c : open)
    if (on_end) on_end(*c);
}

// ---- FilterContext ---------------------------------------------------------------------------

uint64_t Tracker::connection_id(const Event& ev) const {
  if (ev.seq == current_seq_) return current_ ? current_->id : 0;
  const Value* s = ev.get(FieldId::sock);
  if (s == nullptr) return 0;
  auto it = socks_.find(Key{ev.pid, s->num});
  return it == socks_.end() ? 0 : it->second->base->id;
}

const SockAddr* Tracker::local_addr(const Event& ev) const {
  if (const SockAddr* a = fallback_.local_addr(ev)) return a;
  if (ev.seq == current_seq_ && current_ && current_->has_local) return &current_->local;
  return nullptr;
}

const SockAddr* Tracker::remote_addr(const Event& ev) const {
  if (ev.seq == current_seq_ && current_ && current_->has_remote && current_->role != ConnRole::Listener)
    return &current_->remote;
  return fallback_.remote_addr(ev);
}

std::string_view Tracker::remote_host(const Event& ev) const {
  if (ev.seq == current_seq_ && current_ && !current_->host.empty()) return current_->host;
  if (const SockAddr* a = remote_addr(ev)) return host_of(*a);
  return {};
}

uint64_t Tracker::protocol(const Event& ev) const {
  if (ev.seq == current_seq_ && current_ && current_->proto) return current_->proto;
  return fallback_.protocol(ev);
}

}  // namespace ws::inspect
