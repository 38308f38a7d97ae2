// From socket calls to packets (PacketSynth), and the pcapng exporter that writes them.
//
// Every TCP connection and UDP flow with IP addresses is a stream between two endpoints. The
// stream counts what has been written each way; each traced end of it (a connection of the
// tracker) counts what it moved itself. A call writes only the bytes beyond what the stream has
// written already, so a loopback connection traced at both ends — the client's send and the
// server's recv of the same bytes — is written once, by whichever call came first.
#include "pcapng.h"

#include <algorithm>

#include <fmt/format.h>

#include "error_class.h"
#include "exporter.h"
#include "output.h"

namespace ws::exporter::pcapng {

using inspect::ConnEnd;
using inspect::Connection;
using inspect::ErrorClass;

namespace {

enum class Kind : uint8_t { None, Tcp, Udp };

Kind kind_of(const Connection& c) {
  if (c.family != af::kInet && c.family != af::kInet6) return Kind::None;
  if (c.proto == proto::kTcp || (c.proto == 0 && c.type == socktype::kStream)) return Kind::Tcp;
  if (c.proto == proto::kUdp || (c.proto == 0 && c.type == socktype::kDgram)) return Kind::Udp;
  return Kind::None;
}

bool unspecified(const Endpoint& e) {
  return std::all_of(e.ip.begin(), e.ip.end(), [](uint8_t b) { return b == 0; });
}

// A port for a socket whose own port the trace does not tell: one of 49152-65535, the same for
// every UDP flow of the socket, another for each TCP connection (a socket reused for another
// connect after a failure would otherwise look like the same connection again).
uint16_t synthetic_port(const Connection& c, Kind kind) {
  const uint64_t key = kind == Kind::Tcp ? c.id * 0x100000001B3ull : c.sock;
  return static_cast<uint16_t>(49152 + (key * 0x9E3779B97F4A7C15ull + c.pid) % 16384);
}

// Deterministic initial sequence numbers, different for each connection and direction.
uint32_t initial_seq(uint64_t conn_id, int dir) {
  uint64_t x = (conn_id * 2 + static_cast<uint64_t>(dir) + 1) * 0x9E3779B97F4A7C15ull;
  x ^= x >> 29;
  return static_cast<uint32_t>(x);
}

std::string tuple_key(Kind k, const Endpoint& a, const Endpoint& b) {
  auto bytes = [](const Endpoint& e) {
    std::string s(reinterpret_cast<const char*>(e.ip.data()), e.v6 ? 16 : 4);
    s.push_back(static_cast<char>(e.port >> 8));
    s.push_back(static_cast<char>(e.port));
    return s;
  };
  std::string x = bytes(a), y = bytes(b);
  if (y < x) std::swap(x, y);
  return std::string(1, k == Kind::Tcp ? 'T' : 'U') + x + y;
}

bool get_addr(const Event& ev, FieldId id, SockAddr& out) {
  const Value* v = ev.get(id);
  return v != nullptr && decode_addr(v->bytes(), out);
}

// The first connect of `c` that did not finish at once, as a call: its SYN left then.
// func is FuncId::Unknown when there was none.
Event attempt_of(const Connection& c) {
  Event a;
  a.seq = c.attempt.seq;
  a.pid = c.pid;
  a.tid = c.attempt.tid;
  a.func = c.attempt.func;
  a.ts = c.attempt.ts;
  return a;
}

// Above this many bytes sent one way without a packet the other way, the receiver acknowledges
// them (a synthetic ACK): the announced window (about 1 GiB) is never filled.
constexpr uint64_t kAckEvery = 256ull << 20;

// The last bytes of each direction of a TCP stream kept for the retransmissions of them (a
// retransmission is of bytes still unacknowledged: within a window of the path, rarely more).
constexpr size_t kKeptForResend = 4u << 20;

// Bytes of one direction of a stream from offset `from` on, as far as the trace kept them all.
struct SentWindow {
  uint64_t from = 0;
  std::string bytes;
  void add(uint64_t at, std::string_view kept, uint64_t length) {
    if (at != from + bytes.size()) bytes.clear(), from = at;
    if (kept.size() < length) {  // (cut by the snap length: a gap)
      bytes.clear();
      from = at + length;
      return;
    }
    bytes.append(kept);
    if (bytes.size() > 2 * kKeptForResend) {
      const size_t drop = bytes.size() - kKeptForResend;
      bytes.erase(0, drop);
      from += drop;
    }
  }
  std::string_view range(uint64_t off, uint64_t len) const {
    if (off < from || off + len > from + bytes.size()) return {};
    return std::string_view(bytes).substr(off - from, len);
  }
};

uint64_t num_or(const Event& ev, FieldId id, uint64_t dflt) {
  const Value* v = ev.get(id);
  return v ? v->num : dflt;
}

}  // namespace

struct PacketSynth::Resend {
  uint64_t off = 0, len = 0;  // the range of the outgoing stream
  bool syn = false;           // a SYN sent again (no bytes)
  int64_t ts = 0;
  std::string comment;
};

struct PacketSynth::Stream {
  Kind kind = Kind::Tcp;
  Endpoint ep[2];            // TCP: ep[0] sent the SYN
  uint32_t isn[2] = {};
  uint64_t written[2] = {};  // direction d (ep[d] → ep[1-d]): TCP payload bytes, UDP datagrams
  uint64_t acked[2] = {};    // TCP: how much of direction d the other side acknowledged
  bool fin[2] = {}, rst = false;
  bool side_taken[2] = {};
  // The time of its last packet: one made later in sequence is never stamped before it (the
  // bytes a receive wrote, stamped when it returned, come before those of a send that began
  // earlier).
  int64_t last_ns = INT64_MIN;
  int64_t stamp(int64_t wall_ns) { return last_ns = std::max(last_ns, wall_ns); }
  SentWindow sent[2];              // TCP: the last bytes of each direction
  std::vector<Resend> resends[2];  // retransmissions of bytes not written yet
  int ends = 0;
  std::string key;           // in by_tuple_ when not empty

  uint32_t next_seq(int d) const {
    return static_cast<uint32_t>(isn[d] + 1 + written[d] + (fin[d] ? 1 : 0));
  }
};

struct PacketSynth::End {
  std::shared_ptr<Stream> stream;
  int side = 0;              // this end's own address is stream->ep[side]
  uint64_t off[2] = {};      // what this end moved each way (units of Stream::written)
  uint32_t pid = 0, tid = 0;
  std::string proc;
  uint64_t conn_id = 0;
};

PacketSynth::PacketSynth(std::string& out) : out_(out) {}
PacketSynth::~PacketSynth() = default;

void PacketSynth::begin(const trace::TraceHeader& h) {
  header_ = h;
  append_section_header(
      out_, h.os, "wstrace " + h.wstrace_version,
      fmt::format("packets synthesized by wstrace from the socket calls traced on {}: {}", h.host,
                  h.command));
  append_interface(out_, "wstrace", "socket calls as IP packets (synthesized)");
}

void PacketSynth::emit(const Packet& p) {
  std::string block;
  append_packet(block, p);
  held_.emplace(p.wall_ns, std::move(block));
  ++stats_.packets;
}

void PacketSynth::release(int64_t upto) {
  const auto end = held_.upper_bound(upto);
  for (auto it = held_.begin(); it != end; ++it) {
    const int64_t t = std::max(it->first, last_wall_ns_);
    if (t != it->first) set_packet_time(it->second, t);
    last_wall_ns_ = t;
    out_ += it->second;
  }
  held_.erase(held_.begin(), end);
}

void PacketSynth::finish() { release(INT64_MAX); }

std::string PacketSynth::comment(const End& e, const Event* ev, std::string_view note) const {
  std::string s = ev ? fmt::format("proc={} pid={} tid={} func={} call={}", e.proc, ev->pid,
                                   ev->tid, func_def(ev->func).name, ev->seq)
                     : fmt::format("proc={} pid={} tid={} conn={}", e.proc, e.pid, e.tid,
                                   e.conn_id);
  if (!note.empty()) fmt::format_to(std::back_inserter(s), " {}", note);
  return s;
}

void PacketSynth::tcp(End& e, int dir, uint8_t flags, int64_t ts, std::string_view note,
                      const Event* ev, std::string_view kept, uint32_t length) {
  Stream& s = *e.stream;
  Packet p;
  p.src = s.ep[dir];
  p.dst = s.ep[1 - dir];
  p.seq = (flags & tcpflag::kSyn) ? s.isn[dir] : s.next_seq(dir);
  if (flags & tcpflag::kAck) {
    p.ack = s.next_seq(1 - dir);
    s.acked[1 - dir] = s.written[1 - dir];
  }
  p.flags = flags;
  p.kept = kept;
  p.length = length;
  p.wall_ns = s.stamp(header_.wall_ns(ts));
  p.outbound = dir == e.side;
  const std::string text = comment(e, ev, note);
  p.comment = text;
  p.ip_id = ++ip_id_;
  emit(p);
}

// The end of connection `c` for the call `ev`: found, or made with a stream of its own or as the
// other end of a stream already written. nullptr when `c` has no IP peer.
PacketSynth::End* PacketSynth::end_for(const Event& ev, const Connection& c,
                                       const inspect::Tracker& t) {
  auto found = ends_.find(c.id);
  if (found != ends_.end()) {
    found->second->tid = ev.tid;
    return found->second.get();
  }
  const Kind kind = kind_of(c);
  Endpoint remote, local;
  if (kind == Kind::None || !c.remote || !endpoint_of(*c.remote, remote)) return nullptr;
  bool known = c.local && endpoint_of(*c.local, local);
  if (!known || local.v6 != remote.v6 || local.port == 0 || unspecified(local)) {
    // What the trace does not tell stays unspecified (0.0.0.0, ::), and can match no other end.
    if (local.v6 != remote.v6) local.ip = {};
    local.v6 = remote.v6;
    if (local.port == 0) local.port = synthetic_port(c, kind);
    known = false;
  }
  auto e = std::make_unique<End>();
  e->pid = ev.pid;
  e->tid = ev.tid;
  e->conn_id = c.id;
  const inspect::Process* proc = t.process(ev.pid);
  e->proc = proc ? proc->name() : fmt::format("pid {}", ev.pid);
  const std::string key = known ? tuple_key(kind, local, remote) : std::string();
  if (!key.empty()) {
    auto it = by_tuple_.find(key);
    if (it != by_tuple_.end()) {
      const int side = it->second->ep[0] == local ? 0 : 1;
      if (!it->second->side_taken[side] && !it->second->rst) {
        e->stream = it->second;
        e->side = side;
        ++stats_.shared_ends;
      }
    }
  }
  const bool fresh = !e->stream;
  if (fresh) {
    auto s = std::make_shared<Stream>();
    s->kind = kind;
    e->side = kind == Kind::Tcp && c.role == inspect::ConnRole::Accepted ? 1 : 0;
    s->ep[e->side] = local;
    s->ep[1 - e->side] = remote;
    s->isn[0] = initial_seq(c.id, 0);
    s->isn[1] = initial_seq(c.id, 1);
    s->key = key;
    if (!key.empty()) by_tuple_[key] = s;
    e->stream = std::move(s);
    ++stats_.connections;
  }
  e->stream->side_taken[e->side] = true;
  ++e->stream->ends;
  End* end = e.get();
  ends_[c.id] = std::move(e);
  // (An inherited connection's handshake happened before the trace: none is made up.)
  if (fresh && kind == Kind::Tcp && !c.inherited &&
      !(ev.type() == EventType::connect && !ev.error.ok())) {
    // The handshake: the SYN when the connect began (a non-blocking or overlapped one: its
    // first call), the answer and its ACK when this call returned — or, when this call sends
    // (the first send of a connection whose connect did not say it was done, ConnectEx's
    // data), when it began: its data leaves then.
    const int64_t done = ev.ts + (sending_ ? 0 : static_cast<int64_t>(ev.dur));
    const Event attempt = attempt_of(c);
    const Event& syn = attempt.func != FuncId::Unknown ? attempt : ev;
    tcp(*end, 0, tcpflag::kSyn, syn.ts, "synthetic SYN", &syn);
    // (SYNs sent again before the answer came)
    if (auto early = early_resends_.find(c.id); early != early_resends_.end()) {
      end->stream->resends[end->side] = std::move(early->second);
      early_resends_.erase(early);
      resend_due(*end, end->side, true);
    }
    tcp(*end, 1, tcpflag::kSyn | tcpflag::kAck, done, "synthetic SYN-ACK", &ev);
    tcp(*end, 0, tcpflag::kAck, done, "synthetic ACK", &ev);
  }
  if (auto early = early_resends_.find(c.id); early != early_resends_.end()) {
    auto& to = end->stream->resends[end->side];  // (they wait for their bytes)
    to.insert(to.end(), early->second.begin(), early->second.end());
    early_resends_.erase(early);
  }
  return end;
}

void PacketSynth::data(End& e, const Event& ev, bool out, uint64_t length, std::string_view kept) {
  Stream& s = *e.stream;
  const int d = out ? e.side : 1 - e.side;
  const uint64_t start = e.off[d];
  e.off[d] += length;
  if (e.off[d] <= s.written[d] || s.rst) return;  // the other end's call wrote these bytes
  uint64_t pos = s.written[d] > start ? s.written[d] - start : 0;
  // Sent bytes leave when the call begins; received ones are there when it returns.
  const int64_t ts = out ? ev.ts : ev.ts + static_cast<int64_t>(ev.dur);
  const uint32_t most = max_tcp_payload(s.ep[0].v6);
  while (pos < length) {
    const auto n = static_cast<uint32_t>(std::min<uint64_t>(most, length - pos));
    const std::string_view part = pos < kept.size() ? kept.substr(pos, n) : std::string_view();
    std::string note;
    if (part.size() < n) {
      note = fmt::format("snaplen: {} of {} bytes not kept", n - part.size(), n);
      stats_.bytes_not_kept += n - part.size();
    }
    s.written[d] = start + pos;
    const uint8_t flags = tcpflag::kAck | (pos + n == length ? tcpflag::kPsh : 0);
    tcp(e, d, flags, ts, note, &ev, part, n);
    s.sent[d].add(start + pos, part, n);
    pos += n;
  }
  s.written[d] = start + length;
  if (!s.resends[d].empty()) resend_due(e, d, false);
  if (s.written[d] - s.acked[d] > kAckEvery) tcp(e, 1 - d, tcpflag::kAck, ts, "synthetic ACK", &ev);
}

void PacketSynth::datagram(End& e, const Event& ev, bool out, uint64_t length,
                           std::string_view kept) {
  Stream& s = *e.stream;
  const int d = out ? e.side : 1 - e.side;
  Endpoint local = s.ep[e.side], peer = s.ep[1 - e.side];
  SockAddr a;
  Endpoint own;
  if (get_addr(ev, out ? FieldId::addr : FieldId::peer, a) && endpoint_of(a, own) && !(own == peer)) {
    // A peer of its own (the tracker's flows stop at 64 per socket): no other end to share with.
    peer = own;
    if (local.v6 != peer.v6) local = Endpoint{peer.v6, {}, local.port};
  } else if (++e.off[d] <= s.written[d]) {
    return;  // the other end's call wrote this datagram
  } else {
    s.written[d] = e.off[d];
  }
  const uint32_t most = kMaxIpPacket - ip_header_size(peer.v6) - kUdpHeader;
  std::string note;
  if (length > most) {
    note = fmt::format("{} bytes long, written as {}", length, most);
    length = most;
  }
  kept = kept.substr(0, length);
  if (kept.size() < length) {
    note = fmt::format("snaplen: {} of {} bytes not kept", length - kept.size(), length);
    stats_.bytes_not_kept += length - kept.size();
  }
  Packet p;
  p.udp = true;
  p.src = out ? local : peer;
  p.dst = out ? peer : local;
  p.kept = kept;
  p.length = static_cast<uint32_t>(length);
  p.wall_ns = s.stamp(header_.wall_ns(out ? ev.ts : ev.ts + static_cast<int64_t>(ev.dur)));
  p.outbound = out;
  const std::string text = comment(e, &ev, note);
  p.comment = text;
  p.ip_id = ++ip_id_;
  emit(p);
}

// A FIN from ep[dir]; once both sides sent theirs, the last one is acknowledged.
void PacketSynth::fin(End& e, int dir, int64_t ts, std::string_view note, const Event* ev) {
  Stream& s = *e.stream;
  if (s.fin[dir] || s.rst) return;
  tcp(e, dir, tcpflag::kFin | tcpflag::kAck, ts, note, ev);
  s.fin[dir] = true;
  if (s.fin[1 - dir]) tcp(e, 1 - dir, tcpflag::kAck, ts, "synthetic ACK of the FIN", ev);
}

void PacketSynth::reset(End& e, int dir, int64_t ts, std::string_view note, const Event* ev) {
  Stream& s = *e.stream;
  if (s.rst) return;
  tcp(e, dir, tcpflag::kRst | tcpflag::kAck, ts, note, ev);
  s.rst = true;
}

// A connect refused: our SYN, the peer's RST.
void PacketSynth::refused(End& e, int64_t ts, int64_t done, const Event* ev) {
  if (e.stream->rst || e.stream->written[0] || e.stream->written[1]) return;
  tcp(e, e.side, tcpflag::kSyn, ts, "synthetic SYN", ev);
  reset(e, 1 - e.side, done, "synthetic RST: connection refused", ev);
}

namespace {

bool is_shutdown_of_sending(const Event& ev) {
  if (ev.type() != EventType::shutdown || !ev.error.ok()) return false;
  if (ev.func == FuncId::DisconnectEx) return true;
  const Value* how = ev.get(FieldId::how);
  return how == nullptr || how->num == shut::kWr || how->num == shut::kRdwr;
}

}  // namespace

void PacketSynth::add(const inspect::Facts& f) {
  tracker_ = &f.tracker;
  const Event& ev = f.ev;
  release(header_.wall_ns(ev.ts));  // (no later call began before this one)
  if (f.pending) return;  // what it moves goes out when it completes
  if (is_tcp_happening(ev.type())) {
    if (ev.type() == EventType::tcp_retransmit && f.conn && kind_of(*f.conn) == Kind::Tcp)
      retransmitted(f, *f.conn);
    return;  // (a state change is no packet: the packets of the calls tell it)
  }
  sending_ = f.dir == inspect::Tracker::Dir::Out && f.moved > 0;
  const inspect::Tracker& t = f.tracker;
  const Connection* c = f.conn;
  const Kind kind = c ? kind_of(*c) : Kind::None;
  const bool out = f.dir == inspect::Tracker::Dir::Out;
  if (kind == Kind::Udp && f.dir != inspect::Tracker::Dir::None && ev.error.ok()) {
    if (End* e = end_for(ev, *c, t)) datagram(*e, ev, out, f.moved, f.payload);
  } else if (kind == Kind::Tcp && (f.dir == inspect::Tracker::Dir::None || f.moved == 0)) {
    tcp_control(f, *c);
  } else if (kind == Kind::Tcp) {
    if (End* e = end_for(ev, *c, t)) data(*e, ev, out, f.moved, f.payload);
  }
  sending_ = false;
}

// A TCP call that moved no data: a refused connect, a connection now connected (its
// handshake), a shutdown, a reset, the end of the stream.
void PacketSynth::tcp_control(const inspect::Facts& f, const Connection& c) {
  const Event& ev = f.ev;
  const inspect::Tracker& t = f.tracker;
  const ErrorClass cls = f.error;
  const int64_t done = ev.ts + static_cast<int64_t>(ev.dur);
  if (ev.type() == EventType::connect && cls == ErrorClass::Refused) {
    if (End* e = end_for(ev, c, t)) refused(*e, ev.ts, done, &ev);
    return;
  }
  if (f.dir == inspect::Tracker::Dir::None && c.connected_ts != 0) end_for(ev, c, t);
  auto it = ends_.find(c.id);
  if (it == ends_.end()) return;
  End& e = *it->second;
  if (is_shutdown_of_sending(ev)) {
    fin(e, e.side, ev.ts, "synthetic FIN: shutdown", &ev);
  } else if (cls == ErrorClass::Reset) {
    reset(e, 1 - e.side, done, "synthetic RST: the peer reset the connection", &ev);
  } else if (t.end_of_stream()) {
    // (A receive that returned bytes but moved none was a peek (MSG_PEEK); a zero-byte read
    // asked for none: the tracker tells the end of the stream apart.)
    fin(e, 1 - e.side, done, "synthetic FIN: end of stream", &ev);
  }
}

// A connect refused as getsockopt(SO_ERROR) told it (no call of it failed): its SYN and RST,
// when it was closed. nullptr when `c` is not such a connection.
PacketSynth::End* PacketSynth::refused_at_end(const Connection& c) {
  if (!c.matched || kind_of(c) != Kind::Tcp || c.end != ConnEnd::Error ||
      inspect::classify(c.end_error) != ErrorClass::Refused || tracker_ == nullptr)
    return nullptr;
  Event ev;
  ev.pid = c.pid;
  ev.ts = c.closed_ts ? c.closed_ts : c.last_ts;
  ev.func = FuncId::connect;
  ev.error = c.end_error;
  End* e = end_for(ev, c, *tracker_);
  const Event attempt = attempt_of(c);
  const Event* syn = attempt.func != FuncId::Unknown ? &attempt : nullptr;
  if (e) refused(*e, syn ? syn->ts : ev.ts, ev.ts, syn);
  return e;
}

void PacketSynth::connection_ended(const Connection& c) {
  early_resends_.erase(c.id);  // (of a connection never written: no packets to repeat)
  auto it = ends_.find(c.id);
  if (it == ends_.end()) {
    if ((kind_of(c) == Kind::None || !c.remote) && c.matched && c.bytes_in + c.bytes_out > 0)
      ++stats_.skipped_no_address;
    if (refused_at_end(c) != nullptr) forget(c.id);
    return;
  }
  End& e = *it->second;
  Stream& s = *e.stream;
  const int us = e.side, peer = 1 - e.side;
  const int64_t ts = c.closed_ts ? c.closed_ts : c.last_ts;
  const std::string why = fmt::format("({})", inspect::end_name(c.end));
  if (s.kind == Kind::Tcp && !s.rst) {
    switch (c.end) {
      case ConnEnd::ClosedByUs:
      case ConnEnd::NotClosed:
        fin(e, us, ts, "synthetic FIN " + why, nullptr);
        if (c.peer_eof) fin(e, peer, ts, "synthetic FIN " + why, nullptr);
        break;
      case ConnEnd::ClosedByPeer:
        fin(e, peer, ts, "synthetic FIN " + why, nullptr);
        fin(e, us, ts, "synthetic FIN " + why, nullptr);
        break;
      case ConnEnd::Reset: reset(e, peer, ts, "synthetic RST " + why, nullptr); break;
      case ConnEnd::Error: reset(e, us, ts, "synthetic RST " + why, nullptr); break;
      case ConnEnd::Open: break;
    }
  }
  forget(c.id);
}

// A range of the connection's outgoing bytes sent again: written now when the stream holds it,
// else when it does.
void PacketSynth::retransmitted(const inspect::Facts& f, const Connection& c) {
  const Event& ev = f.ev;
  Resend r;
  r.off = num_or(ev, FieldId::stream_offset, 0);
  r.len = num_or(ev, FieldId::len, 0);
  r.syn = r.len == 0 && num_or(ev, FieldId::tcp_state, 0) == tcpstate::kSynSent;
  if (r.len == 0 && !r.syn) return;  // a FIN alone: the connection's end writes its FIN
  r.ts = ev.ts;
  auto it = ends_.find(c.id);
  End none;
  if (it == ends_.end()) {
    const inspect::Process* proc = f.tracker.process(ev.pid);
    none.proc = proc ? proc->name() : fmt::format("pid {}", ev.pid);
  }
  r.comment = comment(it != ends_.end() ? *it->second : none, &ev,
                      r.syn ? "SYN sent again" : "sent again");
  if (it == ends_.end()) {
    auto& early = early_resends_[c.id];
    if (early.size() < 4096) early.push_back(std::move(r));
    return;
  }
  End& e = *it->second;
  e.stream->resends[e.side].push_back(std::move(r));
  resend_due(e, e.side, false);
}

// Writes the retransmissions of direction `dir` whose bytes the stream holds now (with
// `syn_only`, those of the SYN, while the handshake is being written).
void PacketSynth::resend_due(End& e, int dir, bool syn_only) {
  Stream& s = *e.stream;
  auto& list = s.resends[dir];
  size_t kept = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    Resend& r = list[i];
    const bool due = syn_only ? r.syn : (r.syn || r.off + r.len <= s.written[dir]);
    if (due && !s.rst) resend(e, dir, r);
    else if (!due && kept++ != i) list[kept - 1] = std::move(r);
  }
  list.resize(kept);
}

// One retransmission: the range's segments again, with their bytes when the trace kept them.
void PacketSynth::resend(End& e, int dir, const Resend& r) {
  Stream& s = *e.stream;
  Packet p;
  p.src = s.ep[dir];
  p.dst = s.ep[1 - dir];
  p.wall_ns = s.stamp(header_.wall_ns(r.ts));
  p.outbound = dir == e.side;
  p.comment = r.comment;
  if (r.syn) {
    p.seq = s.isn[dir];
    p.flags = tcpflag::kSyn;
    p.ip_id = ++ip_id_;
    emit(p);
    ++stats_.retransmissions;
    return;
  }
  const uint32_t most = max_tcp_payload(s.ep[0].v6);
  for (uint64_t pos = 0; pos < r.len;) {
    const auto n = static_cast<uint32_t>(std::min<uint64_t>(most, r.len - pos));
    p.seq = static_cast<uint32_t>(s.isn[dir] + 1 + r.off + pos);
    p.ack = s.next_seq(1 - dir);
    p.flags = tcpflag::kAck | (pos + n == r.len ? tcpflag::kPsh : 0);
    p.kept = s.sent[dir].range(r.off + pos, n);
    p.length = n;
    p.ip_id = ++ip_id_;
    emit(p);
    ++stats_.retransmissions;
    pos += n;
  }
}

void PacketSynth::forget(uint64_t conn_id) {
  auto it = ends_.find(conn_id);
  if (it == ends_.end()) return;
  std::shared_ptr<Stream> s = it->second->stream;
  ends_.erase(it);
  if (--s->ends > 0 || s->key.empty()) return;
  auto k = by_tuple_.find(s->key);
  if (k != by_tuple_.end() && k->second == s) by_tuple_.erase(k);
}

// ---- The exporter -----------------------------------------------------------------------------

namespace {

constexpr size_t kFlushAt = 4u << 20;  // bytes gathered before one write

class PcapngExporter final : public Exporter {
 public:
  explicit PcapngExporter(ExportOptions opt) : opt_(std::move(opt)), synth_(buf_) {
    buf_.reserve(kFlushAt + (128u << 10));
  }
  Status begin(const trace::TraceHeader& header, const inspect::Inspector&) override {
    if (Status s = out_.open(opt_.out_path); !s.ok()) return s;
    synth_.begin(header);
    return Status();
  }
  void on_event(const inspect::Facts& f) override {
    if (!f.matched) return;
    synth_.add(f);
    flush_if_full();
  }
  void on_connection_end(const inspect::Connection& c) override {
    synth_.connection_ended(c);
    flush_if_full();
  }
  Status finish() override {
    synth_.finish();
    out_.write(buf_);
    buf_.clear();
    return out_.commit();
  }

 private:
  void flush_if_full() {
    if (buf_.size() < kFlushAt) return;
    out_.write(buf_);
    buf_.clear();
  }
  ExportOptions opt_;
  std::string buf_;
  PacketSynth synth_;
  Output out_;
};

}  // namespace
}  // namespace ws::exporter::pcapng

namespace ws::exporter {

Result<std::unique_ptr<Exporter>> make_pcapng_exporter(const ExportOptions& opt) {
  return std::unique_ptr<Exporter>(new pcapng::PcapngExporter(opt));
}

}  // namespace ws::exporter
