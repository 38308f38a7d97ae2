// The tracker follows a trace event by event and knows what the events alone do not say: which
// process a pid is, which connection a call belongs to, both ends of that connection, the name
// a lookup gave its remote address, how many bytes went each way and how it ended.
//
// Connections get stable ids (1, 2, … in the order wstrace first saw them). A connection is a
// TCP connection, a listener, a Unix-domain socket, or one UDP flow: a UDP socket that talks to
// several peers without connect() is one connection per peer.
//
// Memory is bounded by what is open, not by the trace's length: a connection is handed to the
// caller (on_end) when it ends and then forgotten; processes and resolved names are kept (a few
// dozen bytes each; names are capped).
//
// The tracker is also the FilterContext of the filter language: after observe(ev), the filter
// fields proc, conn, lip/rip/lport/rport and host answer for `ev`.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "constants.h"
#include "error_class.h"
#include "event.h"
#include "filter.h"
#include "sockaddr.h"

namespace ws::inspect {

struct Process {
  uint32_t pid = 0;
  uint32_t ppid = 0;
  std::string image;    // as recorded: "/usr/bin/curl", "C:\\tools\\client.exe"
  std::string cmdline;
  Platform platform = Platform::Unknown;
  int64_t start_ts = 0;   // process_start, or the first event seen of it
  int64_t end_ts = 0;     // process_exit; 0 = still running at the end of the trace
  bool exited = false;
  int64_t exit_code = 0;
  uint64_t calls = 0, failed = 0, bytes_out = 0, bytes_in = 0;

  // "curl", "client.exe"; "pid 4242" when the image is unknown.
  std::string name() const;
};

enum class ConnRole : uint8_t {
  Socket,    // created, not yet connected, accepted or listening
  Client,    // connect()ed (or connecting)
  Accepted,  // returned by accept()
  Listener,  // listen()ed
  Flow,      // datagrams with one peer (UDP without connect, or after it)
  Pair,      // one end of socketpair()
};
std::string_view role_name(ConnRole r);  // "client", "accepted", "listener", …

enum class ConnEnd : uint8_t {
  Open,         // still open when the trace ended
  ClosedByUs,   // we closed (or shut down sending) first
  ClosedByPeer, // the peer closed first: a receive returned end-of-stream
  Reset,        // the peer reset it (ECONNRESET/WSAECONNRESET)
  Error,        // failed: refused, timed out, unreachable, aborted, broken pipe
  NotClosed,    // its process ended without closing it
};
std::string_view end_name(ConnEnd e);  // "closed by us", "reset", …

// A connection's TCP statistics as the agent read them (tcp_info events): the latest reading's
// figures (a figure the platform does not give stays empty), the SYN retransmissions of the
// reading taken when it was set up, and the largest RTT seen.
struct TcpStats {
  uint64_t readings = 0;
  bool final = false;  // the latest was read just before the program closed it
  int64_t ts = 0;      // when the latest was read
  std::optional<uint64_t> state, rtt, rtt_var, min_rtt, retrans, retrans_bytes, syn_retrans,
      timeouts, bytes_sent, bytes_recvd;
  uint64_t max_rtt = 0;
  // What the kernel engine saw TCP do (tcp_state_change and tcp_retransmit events), with exact
  // times: each state change, and each retransmission — its segments and bytes.
  uint64_t state_changes = 0, retransmits = 0, retrans_segments = 0, retrans_stream_bytes = 0;
  bool seen() const { return readings != 0 || state_changes != 0 || retransmits != 0; }
};

struct Connection {
  uint64_t id = 0;
  uint32_t pid = 0;
  uint64_t sock = 0;
  uint64_t family = 0, type = 0;  // ws::af / ws::socktype codes; 0 = unknown
  uint64_t proto = 0;             // ws::proto code (kTcp, kUdp); 0 = unknown or Unix
  ConnRole role = ConnRole::Socket;
  uint64_t listener = 0;          // Accepted: the listener's id
  std::optional<SockAddr> local, remote;  // unknown until a call tells them
  std::string host;               // the name a lookup resolved to the remote address
  int64_t opened_ts = 0;          // creation (or first sight)
  int64_t connected_ts = 0;       // connect/accept done; 0 = never
  int64_t closed_ts = 0;          // 0 = still open
  int64_t first_out_ts = 0, first_in_ts = 0, last_ts = 0;
  uint64_t bytes_out = 0, bytes_in = 0, calls_out = 0, calls_in = 0;
  uint64_t errors = 0;            // failed calls, not counting would-block/in-progress/pending
  std::vector<ErrorCode> error_codes;  // the distinct errors, first ones (at most 4)
  ConnEnd end = ConnEnd::Open;
  ErrorCode end_error;            // for Reset and Error: the error that ended it
  bool peer_eof = false, we_shut = false, connecting = false;
  // SO_RCVTIMEO / SO_SNDTIMEO were set: a receive or send that times out is that timeout (an
  // outcome the program asked for), not the connection failing.
  bool recv_timeout = false, send_timeout = false;
  // The process had it when the agent started in it (an `inherited` event): it was made,
  // connected or accepted before the trace began.
  bool inherited = false;
  // The C library made it inside a name lookup (the kernel engine's `nested` mark): the
  // resolver's sockets, getifaddrs' netlink socket, the UDP connects that order getaddrinfo's
  // answers. Only one that carried bytes over IP (DNS) is a row of conns.
  bool nested = false;
  uint64_t first_event_seq = 0;
  // The first connect that did not finish at once (non-blocking or overlapped): when its SYN
  // left. func is FuncId::Unknown when there was none.
  struct Attempt {
    uint64_t seq = 0;
    uint32_t tid = 0;
    FuncId func = FuncId::Unknown;
    int64_t ts = 0;
  } attempt;
  bool matched = false;           // a call of it passed the Inspector's filter
  // Its local address is the loopback source the system picks for a wildcard-bound datagram
  // socket sending to a loopback peer (127.0.0.1 / ::1), not an address a call reported.
  bool local_inferred = false;
  TcpStats tcp;

  std::string kind() const;       // "tcp", "udp", "unix", "tcp6"…  ("?" when unknown)
};

class Tracker : public FilterContext {
 public:
  // Called when a connection ends (closed, or its process ended) and, from finish(), for every
  // connection still open. The reference is valid during the call only.
  std::function<void(const Connection&)> on_end;

  Tracker();
  ~Tracker() override;

  // Follows one event; call in trace order. Afterwards the FilterContext methods and
  // connection() answer for this event.
  void observe(const Event& ev);
  // Hands every connection still open to on_end (end = Open), in id order.
  void finish();

  // What the tracker worked out about the event last observed (valid until the next observe):
  // The connection of the event last observed; nullptr when it has none.
  const Connection* connection() const { return current_; }
  // Marks that connection as having a call that passed the filter (Connection::matched).
  void mark_current() {
    if (current_) current_->matched = true;
  }
  // Which way the event moved data (an overlapped completion: its operation's); None when it
  // moved none (a pending call, a control call, a completion of a call not seen starting).
  enum class Dir : uint8_t { None, Out, In };
  Dir direction() const { return dir_; }
  // The bytes it moved (counted in its connection's and process's totals; see bytes_moved()),
  // and the payload the trace kept of them (a completion: its own, else the one its call
  // carried when it started, e.g. an overlapped WSASend's bytes).
  uint64_t moved() const { return moved_; }
  std::string_view payload() const { return payload_; }
  // The seq of the overlapped call (WSARecv, ConnectEx, AcceptEx …) that the event last observed
  // completed; 0 when it completed none that this tracker saw start.
  uint64_t completed_seq() const { return completed_seq_; }
  // True when the event was an overlapped call left pending: what it moves, it moves when it
  // completes.
  bool pending() const { return pending_call_; }
  // The class of the event's error as its connection tells it: a receive or send that timed out
  // under the SO_RCVTIMEO/SO_SNDTIMEO the program set is WouldBlock (Linux's EAGAIN), an
  // outcome; otherwise classify(ev.error).
  ErrorClass error_class() const { return error_class_; }
  // True when the event was the end of a stream: a receive that returned 0 with room to receive
  // (a zero-byte read, a readiness poll, completing with 0 is data being ready).
  bool end_of_stream() const { return eof_; }
  // True when the event is a completion wstrace noticed itself at a later call on its socket:
  // it completed at some time before the event, when is not known.
  bool noticed_late() const { return late_; }
  // Every process seen so far, by pid.
  const std::unordered_map<uint32_t, Process>& processes() const { return procs_; }
  const Process* process(uint32_t pid) const;
  // The name a lookup in the trace gave this IP; empty when none did.
  std::string_view host_of(const SockAddr& a) const;
  // Notes that `ip` is called `name` (lookups from decoded DNS packets feed this too).
  void learn_host(const SockAddr& ip, std::string_view name);
  uint64_t connections_seen() const { return next_id_ - 1; }
  size_t open_connections() const;
  // Every connection not handed to on_end yet — open, or ended at the event last observed (they
  // go at the next) — each once, in id order (a live view's); valid until the next observe().
  std::vector<const Connection*> open_list() const;

  // FilterContext
  std::string_view process_name(uint32_t pid) const override;
  uint64_t connection_id(const Event& ev) const override;
  const SockAddr* local_addr(const Event& ev) const override;
  const SockAddr* remote_addr(const Event& ev) const override;
  std::string_view remote_host(const Event& ev) const override;
  uint64_t protocol(const Event& ev) const override;

 private:
  struct SockEntry;
  struct Key {
    uint32_t pid;
    uint64_t sock;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return (k.sock * 0x9E3779B97F4A7C15ull) ^ (uint64_t{k.pid} << 17);
    }
  };
  struct PendingOp {
    EventType type;
    uint64_t new_sock = 0;     // AcceptEx: the socket that becomes the connection
    uint64_t listener = 0;     // AcceptEx: the listener's connection id …
    std::optional<SockAddr> listener_local{};  // … and its address
    uint64_t seq = 0;          // the call that started it
    uint64_t conn = 0;         // the connection it was started on (AcceptEx: the listener)
    uint64_t room = UINT64_MAX;  // a receive: the room it gave (0: a zero-byte read)
    bool done = false;         // it finished at once: its completion packet only names it
    std::string payload{};     // what the call carried when it started (a send's bytes)
  };

  Process& process_of(const Event& ev);
  Connection* create(const Event& ev, uint64_t sock, ConnRole role);
  Connection* find(uint32_t pid, uint64_t sock);
  Connection* find_or_adopt(const Event& ev, uint64_t sock);
  Connection* flow_for(const Event& ev, Connection* base, const SockAddr& peer);
  void set_remote(Connection& c, const SockAddr& a);
  void note_error(Connection& c, const Event& ev);
  void release(uint32_t pid, uint64_t sock, int64_t ts, bool closed);
  void end(Connection& c, int64_t ts, bool closed);
  void transfer(Connection& c, const Event& ev, bool out, uint64_t bytes);
  void on_process_start(const Event& ev, Process& p);
  void on_process_exit(const Event& ev, Process& p);
  void on_lookup(const Event& ev);
  void on_reverse_lookup(const Event& ev);
  void on_sock_event(const Event& ev, EventType type, const Process& p);
  void on_socket(const Event& ev, ConnRole role);
  void on_inherited(const Event& ev);
  void on_tcp_info(const Event& ev);
  void on_tcp_happening(const Event& ev);
  void on_fork(const Event& ev);
  void on_orphan_completion(const Event& ev);
  void on_close(const Event& ev, uint64_t sock);
  void on_bind(const Event& ev, Connection& c);
  void on_connect(const Event& ev, Connection& c);
  void on_accept(const Event& ev, Connection& c);
  void on_transfer(const Event& ev, Connection& c, bool out);
  void on_completion(const Event& ev, uint64_t sock);
  void on_complete(const Event& ev, Connection& c);
  void on_shutdown(const Event& ev, Connection& c);
  void on_dup(const Event& ev, uint64_t sock);
  void on_sockopt(const Event& ev, Connection& c, const Process& p);
  void on_sockname(const Event& ev, Connection& c);
  void flush_ended();
  std::unique_ptr<Connection> fresh_connection();

  std::unordered_map<uint32_t, Process> procs_;
  std::unordered_map<Key, std::shared_ptr<SockEntry>, KeyHash> socks_;  // shared: dup, fork
  // The copies a child got at fork and has not used yet: they keep the connection open, but when
  // one is the last to go it ends the connection as its last user left it.
  std::unordered_set<Key, KeyHash> unused_forked_;
  std::unordered_map<Key, PendingOp, KeyHash> pending_;  // (pid, op) of overlapped calls
  void pend(const Event& ev, uint64_t op, PendingOp po);
  uint64_t completed_seq_ = 0;
  std::unordered_map<std::string, std::string> hosts_;   // IP bytes → name
  std::vector<std::unique_ptr<Connection>> ended_;       // freed at the next observe()
  std::vector<std::unique_ptr<Connection>> spare_;       // freed ones, for reuse (at most 256)
  uint64_t next_id_ = 1;
  Connection* current_ = nullptr;
  Dir dir_ = Dir::None;
  uint64_t moved_ = 0;
  std::string_view payload_;
  std::string completed_payload_;  // payload_ of a completion whose call carried it
  bool pending_call_ = false;
  bool eof_ = false, late_ = false;
  ErrorClass error_class_ = ErrorClass::None;
  Process* last_proc_ = nullptr;  // process_of() of the event being observed (elements never move)
  uint64_t current_seq_ = UINT64_MAX;
  // A direct-mapped cache in front of socks_: most events hit a socket that is busy right now.
  struct CacheSlot {
    Key key{0, UINT64_MAX};
    SockEntry* entry = nullptr;
  };
  static constexpr size_t kCacheSlots = 256;
  std::array<CacheSlot, kCacheSlots> cache_{};
  CacheSlot& slot(const Key& k) { return cache_[KeyHash()(k) % kCacheSlots]; }
  void cache_put(const Key& k, SockEntry* e) { slot(k) = CacheSlot{k, e}; }
  void cache_drop(const Key& k) {
    if (slot(k).key == k) slot(k) = CacheSlot{};
  }
  EventOnlyContext fallback_;
};

}  // namespace ws::inspect
