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
  // When a holder that used it last let it go (a close, its process ending), and whether it
  // closed it: the end of a connection whose last holder is a child's unused copy.
  int64_t released_ts = 0;
  bool released_closed = false;
};

namespace {

constexpr size_t kMaxFlowsPerSocket = 64;  // further peers beyond this count on the base
constexpr size_t kMaxHosts = 1 << 16;       // names kept for addresses; the first ones win
constexpr size_t kMaxErrorCodes = 4;

// Names are kept per IP as on the wire: an IPv4-mapped IPv6 address is the IPv4 address.
std::string ip_key(const SockAddr& addr) {
  const SockAddr a = wire_addr(addr);
  return std::string(reinterpret_cast<const char*>(a.ip.data()), a.family == af::kInet ? 4 : 16);
}

std::optional<SockAddr> get_addr(const Event& ev, FieldId id) {
  const Value* v = ev.get(id);
  if (v == nullptr) return std::nullopt;  // most events: nothing to build
  SockAddr a;
  if (!decode_addr(v->bytes(), a)) return std::nullopt;
  return a;
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

std::vector<const Connection*> Tracker::open_list() const {
  std::vector<const Connection*> out;
  for (const auto& [key, entry] : socks_) {
    if (!entry) continue;
    if (entry->base) out.push_back(entry->base.get());
    for (const auto& f : entry->flows) out.push_back(f.get());
  }
  for (const auto& c : ended_) out.push_back(c.get());
  // (a socket dup'ed or inherited is under several keys)
  std::sort(out.begin(), out.end(), [](auto* x, auto* y) { return x->id < y->id; });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
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
namespace {

// A datagram flow of a socket bound to the wildcard address (0.0.0.0, ::) with a loopback peer
// leaves from the loopback address: the system's source for any 127/8 destination is 127.0.0.1
// (its route on lo says `src 127.0.0.1`), for ::1 it is ::1. Anything else stays the wildcard.
void loopback_source(Connection& c) {
  if (!c.local || !c.remote || c.local->family != c.remote->family) return;
  std::array<uint8_t, 16>& l = c.local->ip;
  const std::array<uint8_t, 16>& r = c.remote->ip;
  const bool v4 = c.local->family == af::kInet;
  if (!v4 && c.local->family != af::kInet6) return;
  const size_t n = v4 ? 4 : 16;
  for (size_t i = 0; i < n; ++i)
    if (l[i] != 0) return;
  if (v4 && r[0] == 127) {
    l[0] = 127, l[3] = 1;
  } else if (!v4 && std::all_of(r.begin(), r.begin() + 15, [](uint8_t b) { return b == 0; }) &&
             r[15] == 1) {
    l[15] = 1;
  } else {
    return;
  }
  c.local_inferred = true;
}

}  // namespace

Connection* Tracker::flow_for(const Event& ev, Connection* base, const SockAddr& peer) {
  if (base->role == ConnRole::Socket) base->role = ConnRole::Flow;
  if (!base->remote) {
    set_remote(*base, peer);
    loopback_source(*base);
    return base;
  }
  if (*base->remote == peer) return base;
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
  if (base->local_inferred && f->local) f->local->ip = {};  // (the wildcard it was bound to)
  f->opened_ts = ev.ts;
  f->first_event_seq = ev.seq;
  set_remote(*f, peer);
  loopback_source(*f);
  entry.flows.push_back(std::move(f));
  return entry.flows.back().get();
}

void Tracker::set_remote(Connection& c, const SockAddr& a) {
  c.remote = a;
  if (c.family == 0) c.family = a.family;
  if (c.host.empty()) c.host = std::string(host_of(a));
}

void Tracker::note_error(Connection& c, const Event& ev) {
  if (ev.error.ok()) return;
  const ErrorClass cls = classify(ev.error);
  if (cls == ErrorClass::None || is_transient(cls)) return;
  // A receive or send that ran into the timeout the program set waited that long, no more:
  // what Linux reports as EAGAIN.
  if (cls == ErrorClass::TimedOut && ((ev.type() == EventType::recv && c.recv_timeout) ||
                                      (ev.type() == EventType::send && c.send_timeout))) {
    error_class_ = ErrorClass::WouldBlock;
    return;
  }
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
  const bool unused_copy = !unused_forked_.empty() && unused_forked_.erase(Key{pid, sock}) > 0;
  std::shared_ptr<SockEntry> entry = std::move(it->second);
  socks_.erase(it);
  cache_drop(Key{pid, sock});
  if (entry.use_count() > 1) {  // still open through a dup or another process
    if (!unused_copy) entry->released_ts = ts, entry->released_closed = closed;
    return;
  }
  if (unused_copy && entry->released_ts != 0) ts = entry->released_ts, closed = entry->released_closed;
  end(*entry->base, ts, closed);
  ended_.push_back(std::move(entry->base));
  for (auto& f : entry->flows) {
    end(*f, ts, closed);
    ended_.push_back(std::move(f));
  }
}

void Tracker::transfer(Connection& c, const Event& ev, bool out, uint64_t bytes) {
  dir_ = out ? Dir::Out : Dir::In;
  moved_ = bytes;
  if (out) {
    ++c.calls_out;
    c.bytes_out += bytes;
    if (bytes && !c.first_out_ts) c.first_out_ts = ev.ts;
  } else {
    ++c.calls_in;
    c.bytes_in += bytes;
    if (bytes && !c.first_in_ts) c.first_in_ts = ev.ts;
  }
  Process& p = *last_proc_;  // observe() found the event's process
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
  po.conn = current_ ? current_->id : 0;
  // What the call carried when it started (a WSASend's bytes, ConnectEx's first data) moves
  // when it completes.
  if (!po.done)
    if (const Value* pl = ev.get(FieldId::payload)) po.payload = std::string(pl->bytes());
  pending_[Key{ev.pid, op}] = std::move(po);
}

void Tracker::observe(const Event& ev) {
  if (!ended_.empty()) flush_ended();
  current_ = nullptr;
  dir_ = Dir::None;
  moved_ = 0;
  payload_ = {};
  pending_call_ = false;
  eof_ = late_ = false;
  error_class_ = ev.error.ok() ? ErrorClass::None : classify(ev.error);
  current_seq_ = ev.seq;
  completed_seq_ = 0;
  Process& p = process_of(ev);
  const EventType type = ev.type();
  switch (type) {
    case EventType::process_start: return on_process_start(ev, p);
    case EventType::process_exit: return on_process_exit(ev, p);
    case EventType::inherited: return on_inherited(ev);
    case EventType::fork: return on_fork(ev);
    default:
      if (is_process_fact(type)) return;
      break;
  }
  if (type == EventType::tcp_info) return on_tcp_info(ev);
  if (is_tcp_happening(type)) return on_tcp_happening(ev);
  if (call_of(ev.func) == ev.func) ++p.calls;  // (a further message of sendmmsg is no call)
  switch (type) {
    case EventType::lookup: on_lookup(ev); break;
    case EventType::reverse_lookup: on_reverse_lookup(ev); break;
    default: on_sock_event(ev, type, p); break;
  }
  if (error_class_ != ErrorClass::None && !is_transient(error_class_)) ++p.failed;
}

void Tracker::on_process_start(const Event& ev, Process& p) {
  // An exec: the copies it got at fork and never used were closed by it (close-on-exec) or come
  // back as `inherited` events.
  if (!p.image.empty() && !unused_forked_.empty()) {
    std::vector<uint64_t> unused;
    for (const Key& k : unused_forked_)
      if (k.pid == ev.pid) unused.push_back(k.sock);
    for (uint64_t sock : unused) release(ev.pid, sock, ev.ts, true);
  }
  p.ppid = static_cast<uint32_t>(num_or(ev, FieldId::ppid, 0));
  if (const Value* v = ev.get(FieldId::image)) p.image = std::string(v->bytes());
  if (const Value* v = ev.get(FieldId::cmdline)) p.cmdline = std::string(v->bytes());
  p.platform = static_cast<Platform>(num_or(ev, FieldId::platform, 0));
  p.start_ts = ev.ts;
}

void Tracker::on_process_exit(const Event& ev, Process& p) {
  p.exited = true;
  p.end_ts = ev.ts;
  p.exit_code = static_cast<int64_t>(num_or(ev, FieldId::exit_code, 0));
  std::vector<uint64_t> mine;
  for (const auto& [key, entry] : socks_)
    if (key.pid == ev.pid) mine.push_back(key.sock);
  for (uint64_t s : mine) release(ev.pid, s, ev.ts, false);
}

void Tracker::on_lookup(const Event& ev) {
  const Value* host = ev.get(FieldId::host);
  const Value* addrs = ev.get(FieldId::addrs);
  if (host == nullptr || addrs == nullptr || host->size == 0) return;
  std::vector<SockAddr> list;
  if (!decode_addr_list(addrs->bytes(), list)) return;
  for (const auto& a : list) learn_host(a, host->bytes());
}

void Tracker::on_reverse_lookup(const Event& ev) {
  const Value* host = ev.get(FieldId::host);
  if (!ev.error.ok() || host == nullptr) return;
  if (auto a = get_addr(ev, FieldId::addr)) learn_host(*a, host->bytes());
}

// TCP statistics the agent read: kept with the connection, newest figures first.
void Tracker::on_tcp_info(const Event& ev) {
  const Value* sockv = ev.get(FieldId::sock);
  if (sockv == nullptr) return;
  Connection* c = find_or_adopt(ev, sockv->num);
  current_ = c;
  TcpStats& t = c->tcp;
  ++t.readings;
  t.ts = ev.ts;
  const Value* at = ev.get(FieldId::tcp_at);
  t.final = at != nullptr && at->num == 4;
  auto take = [&ev](FieldId f, std::optional<uint64_t>& to) {
    if (const Value* v = ev.get(f)) to = v->num;
  };
  take(FieldId::tcp_state, t.state);
  take(FieldId::rtt, t.rtt);
  take(FieldId::rtt_var, t.rtt_var);
  take(FieldId::min_rtt, t.min_rtt);
  take(FieldId::retrans, t.retrans);
  take(FieldId::retrans_bytes, t.retrans_bytes);
  take(FieldId::syn_retrans, t.syn_retrans);
  take(FieldId::timeouts, t.timeouts);
  take(FieldId::bytes_sent, t.bytes_sent);
  take(FieldId::bytes_recvd, t.bytes_recvd);
  if (t.rtt) t.max_rtt = std::max(t.max_rtt, *t.rtt);
}

// A state change or a retransmission the kernel engine saw: counted with the connection.
void Tracker::on_tcp_happening(const Event& ev) {
  const Value* sockv = ev.get(FieldId::sock);
  // (The kernel engine follows sockets from their connect or accept to their close: one it
  // names is known, unless the process's records were lost.)
  Connection* c = sockv ? find(ev.pid, sockv->num) : nullptr;
  if (c == nullptr) return;
  current_ = c;
  TcpStats& t = c->tcp;
  if (ev.type() == EventType::tcp_state_change) {
    ++t.state_changes;
    if (const Value* v = ev.get(FieldId::tcp_state)) t.state = v->num;
    return;
  }
  ++t.retransmits;
  t.retrans_segments += num_or(ev, FieldId::count, 1);
  t.retrans_stream_bytes += num_or(ev, FieldId::len, 0);
}

// The calls on a socket: found (or adopted) by their handle, then one handler per kind.
void Tracker::on_sock_event(const Event& ev, EventType type, const Process& p) {
  pending_call_ = !ev.error.ok() && classify(ev.error) == ErrorClass::Pending &&
                  ev.get(FieldId::op) != nullptr;
  if (type == EventType::socket) return on_socket(ev, ConnRole::Socket);
  if (type == EventType::socketpair) return on_socket(ev, ConnRole::Pair);
  const Value* sockv = ev.get(FieldId::sock);
  if (sockv == nullptr) return on_orphan_completion(ev);
  // A wait's `sock` is an epoll descriptor (epoll_wait, epoll_pwait, epoll_pwait2), never a
  // socket: it has no connection.
  if (type == EventType::poll) return;
  if (type == EventType::close) return on_close(ev, sockv->num);
  if (type == EventType::io_complete) return on_completion(ev, sockv->num);
  // A call refused because its handle is no socket makes no connection either.
  if (names_no_socket(ev.error) && find(ev.pid, sockv->num) == nullptr) return;
  Connection* c = find_or_adopt(ev, sockv->num);
  if (!unused_forked_.empty()) unused_forked_.erase(Key{ev.pid, sockv->num});
  current_ = c;
  c->last_ts = ev.ts;
  note_error(*c, ev);
  switch (type) {
    case EventType::bind: return on_bind(ev, *c);
    case EventType::listen:
      if (ev.error.ok()) c->role = ConnRole::Listener;
      return;
    case EventType::connect: return on_connect(ev, *c);
    case EventType::accept: return on_accept(ev, *c);
    case EventType::send: return on_transfer(ev, *c, true);
    case EventType::recv: return on_transfer(ev, *c, false);
    case EventType::shutdown: return on_shutdown(ev, *c);
    case EventType::dup: return on_dup(ev, sockv->num);
    case EventType::sockopt: return on_sockopt(ev, *c, p);
    case EventType::sockname: return on_sockname(ev, *c);
    default: return;
  }
}

// socket() makes one connection; socketpair() two, connected, the first one the event's.
void Tracker::on_socket(const Event& ev, ConnRole role) {
  if (!ev.error.ok()) return;
  uint64_t socks[2];
  size_t n = 0;
  if (role == ConnRole::Socket) {
    if (ev.result < 0) return;
    socks[n++] = static_cast<uint64_t>(ev.result);
  } else {
    const Value* sv = ev.get(FieldId::sock);
    const Value* nv = ev.get(FieldId::new_sock);
    if (sv == nullptr || nv == nullptr) return;
    socks[n++] = sv->num;
    socks[n++] = nv->num;
  }
  for (size_t i = 0; i < n; ++i) {
    Connection* c = create(ev, socks[i], role);
    c->family = num_or(ev, FieldId::family, 0);
    c->type = num_or(ev, FieldId::type, 0);
    c->proto = fallback_.protocol(ev);
    c->nested = num_or(ev, FieldId::nested, 0) != 0;
    if (role == ConnRole::Pair) c->connected_ts = ev.ts;
    if (i == 0) current_ = c;
  }
}

// A socket the process had when the agent started in it: what the kernel said it is, a
// listener or a connection with both ends, known from here on. One the trace already follows
// (an exec in a traced process keeps its sockets) only gains what it did not know.
void Tracker::on_inherited(const Event& ev) {
  const Value* sv = ev.get(FieldId::sock);
  if (sv == nullptr) return;
  Connection* c = find(ev.pid, sv->num);
  if (c == nullptr) {
    c = create(ev, sv->num, ConnRole::Socket);
    c->inherited = true;
  }
  current_ = c;
  if (c->family == 0) c->family = num_or(ev, FieldId::family, 0);
  if (c->type == 0) c->type = num_or(ev, FieldId::type, 0);
  if (c->proto == 0) c->proto = fallback_.protocol(ev);
  if (!c->local) c->local = get_addr(ev, FieldId::local);
  if (num_or(ev, FieldId::listening, 0) != 0) {
    c->role = ConnRole::Listener;
    return;
  }
  if (auto peer = get_addr(ev, FieldId::peer); peer && !c->remote) {
    set_remote(*c, *peer);
    if (c->connected_ts == 0) c->connected_ts = ev.ts;
  }
}

// fork(): the child starts with every socket of its parent, as the same connections (its calls
// count on them, and they stay open until both have let them go).
void Tracker::on_fork(const Event& ev) {
  if (!ev.error.ok() || ev.result <= 0) return;
  const auto child = static_cast<uint32_t>(ev.result);
  std::vector<std::pair<uint64_t, std::shared_ptr<SockEntry>>> copies;
  for (const auto& [key, entry] : socks_)
    if (key.pid == ev.pid && !socks_.count(Key{child, key.sock})) copies.emplace_back(key.sock, entry);
  for (auto& [sock, entry] : copies) {
    socks_[Key{child, sock}] = std::move(entry);
    unused_forked_.insert(Key{child, sock});
  }
}

// A completion packet that names no socket: the one queued for a call that finished at once
// (the recorder knew the socket only of the calls still pending).
void Tracker::on_orphan_completion(const Event& ev) {
  const Value* op = ev.get(FieldId::op);
  if (op == nullptr || ev.type() != EventType::io_complete) return;
  auto it = pending_.find(Key{ev.pid, op->num});
  if (it != pending_.end() && it->second.done) {
    completed_seq_ = it->second.seq;
    pending_.erase(it);
  }
}

void Tracker::on_close(const Event& ev, uint64_t sock) {
  if (!unused_forked_.empty()) unused_forked_.erase(Key{ev.pid, sock});  // closing it is a use
  Connection* c = find(ev.pid, sock);
  current_ = c;
  if (c == nullptr) return;
  c->last_ts = ev.ts;
  // Keep the connection answerable for this event: it ends now but is freed at the next one.
  release(ev.pid, sock, ev.ts, true);
}

void Tracker::on_bind(const Event& ev, Connection& c) {
  if (!ev.error.ok()) return;
  if (auto a = get_addr(ev, FieldId::addr)) {
    c.local = a;
    if (c.family == 0) c.family = a->family;
  }
}

void Tracker::on_connect(const Event& ev, Connection& c) {
  const ErrorClass cls = classify(ev.error);
  if (c.role == ConnRole::Socket || c.role == ConnRole::Flow) c.role = ConnRole::Client;
  if (auto a = get_addr(ev, FieldId::addr)) set_remote(c, *a);
  if (auto a = get_addr(ev, FieldId::local)) c.local = a;
  if (c.proto == 0 && c.type == socktype::kStream) c.proto = proto::kTcp;
  if (ev.error.ok()) {
    c.connected_ts = ev.ts;
    c.connecting = false;
    return;
  }
  if (!is_transient(cls)) return;
  c.connecting = true;
  if ((cls == ErrorClass::InProgress || cls == ErrorClass::WouldBlock ||
       cls == ErrorClass::Pending) &&
      c.attempt.func == FuncId::Unknown)
    c.attempt = Connection::Attempt{ev.seq, ev.tid, ev.func, ev.ts};
  if (cls == ErrorClass::Pending)
    if (const Value* op = ev.get(FieldId::op)) pend(ev, op->num, PendingOp{.type = ev.type()});
}

void Tracker::on_accept(const Event& ev, Connection& c) {
  const ErrorClass cls = classify(ev.error);
  const Value* nv = ev.get(FieldId::new_sock);
  const bool overlapped = nv != nullptr && ev.get(FieldId::op) != nullptr;
  if (overlapped && cls == ErrorClass::Pending) {
    PendingOp po{.type = ev.type(), .new_sock = nv->num, .listener = c.id,
                 .listener_local = c.local};
    pend(ev, ev.get(FieldId::op)->num, std::move(po));
    return;
  }
  if (!ev.error.ok()) return;
  const uint64_t ns = nv ? nv->num : static_cast<uint64_t>(ev.result);
  const uint64_t listener = c.id;
  const std::optional<SockAddr> listener_local = c.local;
  const uint64_t fam = c.family, typ = c.type, pro = c.proto;
  // `c` may not survive this: the new handle can reuse the listener's entry.
  Connection* n = overlapped ? find_or_adopt(ev, ns) : create(ev, ns, ConnRole::Accepted);
  n->role = ConnRole::Accepted;
  n->listener = listener;
  n->family = n->family ? n->family : fam;
  n->type = n->type ? n->type : typ;
  n->proto = n->proto ? n->proto : pro;
  if (auto a = get_addr(ev, FieldId::peer)) set_remote(*n, *a);
  if (auto a = get_addr(ev, FieldId::local)) n->local = a;
  else if (listener_local) n->local = listener_local;
  n->connected_ts = ev.ts;
  current_ = n;
  // AcceptEx that finished at once: its first data came with it.
  if (const Value* pl = ev.get(FieldId::payload); pl && ev.result > 0 && overlapped) {
    transfer(*n, ev, false, pl->num);
    payload_ = pl->bytes().substr(0, pl->num);
  }
}

void Tracker::on_transfer(const Event& ev, Connection& c, bool out) {
  // Every send and receive passes here: its fields are found in one look through its values.
  const FieldId peer_id = out ? FieldId::addr : FieldId::peer;
  const Value *peer = nullptr, *op = nullptr, *payload = nullptr, *len = nullptr,
              *flags = nullptr, *local = nullptr;
  for (uint8_t i = 0; i < ev.nvalues; ++i) {
    const Value& v = ev.values[i];
    if (v.id == peer_id) peer = &v;
    else if (v.id == FieldId::local) local = &v;
    else if (v.id == FieldId::op) op = &v;
    else if (v.id == FieldId::payload) payload = &v;
    else if (v.id == FieldId::len) len = &v;
    else if (v.id == FieldId::flags) flags = &v;
  }
  Connection* target = &c;
  // A datagram socket's first send bound it (implicitly, the port the system chose): its own
  // address, where the socket had none yet or only the wildcard port.
  SockAddr own;
  if (local != nullptr && (!c.local || c.local->port == 0) && decode_addr(local->bytes(), own)) {
    c.local = own;
    c.local_inferred = false;
    loopback_source(c);
  }
  // Datagrams name their peer: the cheap tests first, the address decoded only for them.
  SockAddr a;
  if (peer != nullptr && c.type != socktype::kStream && c.role != ConnRole::Listener &&
      decode_addr(peer->bytes(), a) && a.is_inet()) {
    if (c.proto == 0) c.proto = proto::kUdp;
    target = flow_for(ev, &c, a);
    current_ = target;
    if (target != &c) target->last_ts = ev.ts, note_error(*target, ev);
  }
  if (!ev.error.ok() && classify(ev.error) == ErrorClass::Pending) {
    if (op == nullptr) return;
    pend(ev, op->num, PendingOp{.type = out ? EventType::send : EventType::recv,
                                .room = len ? len->num : UINT64_MAX});
    return;
  }
  uint64_t bytes = 0;
  if (!bytes_moved(ev, payload, len, flags, bytes)) bytes = 0;
  transfer(*target, ev, out, bytes);
  if (bytes != 0 && payload != nullptr) payload_ = payload->bytes().substr(0, bytes);
  // An overlapped call that finished at once may still queue a completion packet (unless
  // the socket skips them): remember it, so that the packet names it and counts nothing.
  if (op != nullptr && ev.error.ok())
    pend(ev, op->num, PendingOp{.type = out ? EventType::send : EventType::recv, .done = true});
  // End of stream: a stream receive that returned 0 with room to receive.
  if (!out && ev.error.ok() && ev.result == 0 && target->type != socktype::kDgram &&
      target->proto != proto::kUdp && (len == nullptr || len->num != 0))
    target->peer_eof = eof_ = true;
}

// A completion: it belongs to the connection its operation was started on, while that is open.
// One of a socket closed since (WSA_OPERATION_ABORTED after closesocket, or its handle reused)
// and one of an operation never seen starting on a socket the trace does not know make no
// connection.
void Tracker::on_completion(const Event& ev, uint64_t sock) {
  late_ = num_or(ev, FieldId::noticed, 0) == 2;
  Connection* c = find(ev.pid, sock);
  const Value* op = ev.get(FieldId::op);
  auto it = op ? pending_.find(Key{ev.pid, op->num}) : pending_.end();
  if (it != pending_.end()) {
    const PendingOp& po = it->second;
    // (AcceptEx's completion names the accepted socket; it was started on the listener.)
    const bool gone = po.type == EventType::accept ? !ev.error.ok()
                                                   : c == nullptr || c->id != po.conn;
    if (gone) {
      completed_seq_ = po.seq;
      pending_.erase(it);
      return;
    }
  } else if (c == nullptr) {
    return;
  }
  if (c == nullptr) c = find_or_adopt(ev, sock);
  if (!unused_forked_.empty()) unused_forked_.erase(Key{ev.pid, sock});
  current_ = c;
  c->last_ts = ev.ts;
  note_error(*c, ev);
  on_complete(ev, *c);
}

// An overlapped operation completed: what it moved counts now, on its connection.
void Tracker::on_complete(const Event& ev, Connection& c) {
  const Value* op = ev.get(FieldId::op);
  if (op == nullptr) return;
  auto it = pending_.find(Key{ev.pid, op->num});
  if (it == pending_.end()) return;
  PendingOp po = std::move(it->second);
  pending_.erase(it);
  completed_seq_ = po.seq;
  if (po.done) return;
  const bool ok = ev.error.ok();
  const uint64_t bytes = ok ? num_or(ev, FieldId::len, 0) : 0;
  Connection* target = &c;
  if (po.type == EventType::send || po.type == EventType::recv) {
    // A datagram received names its sender: the flow of that peer.
    SockAddr from;
    if (const Value* peer = po.type == EventType::recv ? ev.get(FieldId::peer) : nullptr;
        peer && ok && c.type != socktype::kStream && c.role != ConnRole::Listener &&
        decode_addr(peer->bytes(), from) && from.is_inet()) {
      if (c.proto == 0) c.proto = proto::kUdp;
      current_ = target = flow_for(ev, &c, from);
      if (target != &c) target->last_ts = ev.ts;
    }
    transfer(*target, ev, po.type == EventType::send, bytes);
    // 0 bytes into room for some is the end of the stream; a zero-byte read completing says
    // data is ready.
    if (po.type == EventType::recv && ok && bytes == 0 && po.room != 0 &&
        target->type != socktype::kDgram && target->proto != proto::kUdp)
      target->peer_eof = eof_ = true;
  } else if (po.type == EventType::connect) {
    c.connecting = false;
    if (ok) c.connected_ts = ev.ts;
    if (auto a = get_addr(ev, FieldId::local); a && ok) c.local = a;
    if (bytes) transfer(c, ev, true, bytes);  // ConnectEx's send buffer went out
  } else if (po.type == EventType::accept && ok) {
    // The completion may name either socket: the accepted one is the call's new_sock.
    Connection* n = find_or_adopt(ev, po.new_sock);
    current_ = target = n;
    n->role = ConnRole::Accepted;
    n->listener = po.listener;
    if (auto a = get_addr(ev, FieldId::local)) n->local = a;
    else if (!n->local && po.listener_local) n->local = po.listener_local;
    if (n->proto == 0 && n->type == socktype::kStream) n->proto = proto::kTcp;
    // The connection opens now: its socket was made beforehand, for the accept to fill.
    n->opened_ts = n->connected_ts = ev.ts;
    if (bytes) transfer(*n, ev, false, bytes);  // AcceptEx's first data
    if (auto a = get_addr(ev, FieldId::peer)) set_remote(*n, *a);
  }
  if (dir_ == Dir::None) return;
  const Value* pl = ev.get(FieldId::payload);
  if (pl != nullptr && pl->size != 0) {
    payload_ = pl->bytes().substr(0, bytes);
  } else {
    completed_payload_ = std::move(po.payload);
    payload_ = std::string_view(completed_payload_).substr(0, bytes);
  }
}

void Tracker::on_shutdown(const Event& ev, Connection& c) {
  const uint64_t how = num_or(ev, FieldId::how, shut::kRdwr);
  if (ev.error.ok() &&
      (how == shut::kWr || how == shut::kRdwr || ev.func == FuncId::DisconnectEx) && !c.peer_eof)
    c.we_shut = true;
}

void Tracker::on_dup(const Event& ev, uint64_t sock) {
  const Value* nv = ev.get(FieldId::new_sock);
  const uint64_t ns = nv ? nv->num : static_cast<uint64_t>(ev.result);
  if (!ev.error.ok() || ev.result < 0) return;
  auto it = socks_.find(Key{ev.pid, sock});
  if (it == socks_.end() || ns == sock) return;
  std::shared_ptr<SockEntry> entry = it->second;
  release(ev.pid, ns, ev.ts, true);  // dup2 onto an open handle closes it
  cache_put(Key{ev.pid, ns}, entry.get());
  socks_[Key{ev.pid, ns}] = std::move(entry);
}

// Options that say what the socket is: its timeouts, and the ends of a socket AcceptEx or
// ConnectEx made, told when SO_UPDATE_*_CONTEXT makes it whole; a non-blocking connect's
// outcome: getsockopt(SO_ERROR).
void Tracker::on_sockopt(const Event& ev, Connection& c, const Process& p) {
  if (ev.func == FuncId::setsockopt && ev.error.ok() &&
      num_or(ev, FieldId::level, 99) == solevel::kSolSocket) {
    const uint64_t name = num_or(ev, FieldId::optname, 0);
    const bool on = num_or(ev, FieldId::optval, 1) != 0;
    if (name == sockopt::kSoRcvtimeo || name == sockopt::kSoRcvtimeoNew) c.recv_timeout = on;
    if (name == sockopt::kSoSndtimeo || name == sockopt::kSoSndtimeoNew) c.send_timeout = on;
    if (auto a = get_addr(ev, FieldId::local)) c.local = a;
    if (auto a = get_addr(ev, FieldId::peer); a && !c.remote) set_remote(c, *a);
    return;
  }
  if (ev.func != FuncId::getsockopt || !ev.error.ok() || !c.connecting) return;
  if (num_or(ev, FieldId::level, 99) != solevel::kSolSocket ||
      num_or(ev, FieldId::optname, 0) != sockopt::kSoError)
    return;
  const auto value = static_cast<int32_t>(num_or(ev, FieldId::optval, 0));
  if (value == 0) {
    c.connecting = false;
    c.connected_ts = ev.ts;
    return;
  }
  Event failed = ev;
  failed.func = FuncId::connect;
  failed.error =
      ErrorCode{p.platform == Platform::Windows ? ErrDomain::Win : ErrDomain::Errno, value};
  // The error counts once, as the connect's.
  if (!is_transient(classify(failed.error))) {
    c.connecting = false;
    note_error(c, failed);
  }
}

void Tracker::on_sockname(const Event& ev, Connection& c) {
  if (!ev.error.ok()) return;
  auto a = get_addr(ev, FieldId::addr);
  if (!a) return;
  if (ev.func == FuncId::getsockname) c.local = a;
  else if (!c.remote) set_remote(c, *a);
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
  if (ev.seq == current_seq_ && current_ && current_->local) return &*current_->local;
  return nullptr;
}

const SockAddr* Tracker::remote_addr(const Event& ev) const {
  if (ev.seq == current_seq_ && current_ && current_->remote &&
      current_->role != ConnRole::Listener)
    return &*current_->remote;
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
