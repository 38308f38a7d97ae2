// pcapng export: packets synthesized from the socket calls of a trace, so that Wireshark and
// tshark reassemble and decode them (docs/export.md, section "pcapng").
//
// Two layers: the block builder (append_* below) turns one packet description into pcapng bytes
// and knows nothing of traces; PacketSynth follows the events of a trace and the tracker's
// connections and describes the packets: handshakes, data segments, FIN and RST, UDP datagrams.
// Both append to a string the caller owns; the exporter (pcapng.cc) writes that string to the
// file in large pieces. No library in Debian writes pcapng for us in a better way: libpcap's
// dump writer only writes pcap (no per-packet comments, direction flags or nanosecond
// resolution per interface); libwiretap writes pcapng but is Linux-only in Debian (no Windows
// export), GLib-based and changes its API with each Wireshark release (docs/dependencies.md).
// The blocks we need are few and simple.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "event.h"
#include "sockaddr.h"
#include "inspector.h"
#include "trace_format.h"

namespace ws::exporter::pcapng {

// ---- Blocks -----------------------------------------------------------------------------------

// One end of a packet. IPv4 addresses use the first 4 bytes of `ip`.
struct Endpoint {
  bool v6 = false;
  std::array<uint8_t, 16> ip{};
  uint16_t port = 0;
  bool operator==(const Endpoint&) const = default;
};

// The endpoint a socket address is on the wire: an IPv4-mapped IPv6 address (::ffff:a.b.c.d)
// is the IPv4 address. False for families that are not IP.
bool endpoint_of(const SockAddr& a, Endpoint& out);

namespace tcpflag {
inline constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;
}

// The link type of the one interface: LINKTYPE_RAW, packets start with the IP header (there are
// no link-layer addresses to tell, so none are invented).
inline constexpr uint16_t kLinkTypeRaw = 101;
// No packet is larger than this (IP header included).
inline constexpr uint32_t kMaxIpPacket = 65535;
inline constexpr uint32_t kTcpHeader = 20, kUdpHeader = 8;
inline constexpr uint32_t ip_header_size(bool v6) { return v6 ? 40 : 20; }
// The most TCP payload one packet carries.
inline constexpr uint32_t max_tcp_payload(bool v6) { return kMaxIpPacket - ip_header_size(v6) - kTcpHeader; }
// TCP window scale announced in SYNs: every window is 65535 << 14 bytes (about 1 GiB).
inline constexpr uint8_t kWindowScale = 14;

// A TCP segment or UDP datagram. `kept` is the start of the payload as the trace kept it;
// `length` the payload's real length (>= kept.size()): a packet whose payload was cut by the
// snap length is written with a captured length smaller than its original length.
struct Packet {
  Endpoint src, dst;
  bool udp = false;
  uint32_t seq = 0, ack = 0;  // TCP
  uint8_t flags = 0;          // TCP, tcpflag bits
  std::string_view kept;
  uint32_t length = 0;
  int64_t wall_ns = 0;        // UTC nanoseconds since 1970
  bool outbound = false;      // seen leaving the traced process (epb_flags direction)
  std::string_view comment;   // opt_comment; empty = none
  uint32_t ip_id = 0;         // IPv4 identification
};

// Section Header Block with shb_hardware/os/userappl and a comment; then the Interface
// Description Block of interface 0 (LINKTYPE_RAW, if_tsresol 9: nanoseconds).
void append_section_header(std::string& out, std::string_view os, std::string_view app,
                           std::string_view comment);
void append_interface(std::string& out, std::string_view name, std::string_view description);
// One Enhanced Packet Block. IPv4 header, TCP and UDP checksums are right when the whole payload
// was kept; otherwise the transport checksum is 0 (IPv6 UDP: 0xffff, as 0 is illegal there).
void append_packet(std::string& out, const Packet& p);
// Sets the time of `block`, one packet block append_packet() made.
void set_packet_time(std::string& block, int64_t wall_ns);

// ---- From calls to packets --------------------------------------------------------------------

struct SynthStats {
  uint64_t packets = 0;
  uint64_t connections = 0;        // TCP connections and UDP flows written
  uint64_t skipped_no_address = 0; // connections left out: Unix sockets, socketpair, no peer
  uint64_t shared_ends = 0;        // connections found to be the other end of one written
  uint64_t bytes_not_kept = 0;     // payload bytes the snap length cut (written as such)
  uint64_t retransmissions = 0;    // segments written again for tcp_retransmit events
};

// Follows a trace (same order of calls as exporter::Exporter) and appends the packets of its TCP
// connections and UDP flows to `out`.
class PacketSynth {
 public:
  explicit PacketSynth(std::string& out);
  ~PacketSynth();
  PacketSynth(const PacketSynth&) = delete;
  PacketSynth& operator=(const PacketSynth&) = delete;

  // The section header and the interface.
  void begin(const trace::TraceHeader& h);
  // An event that passed the filter, with what the inspection worked out about it.
  void add(const inspect::Facts& f);
  // The tracker finished with `c`: its FIN or RST, and it is forgotten.
  void connection_ended(const inspect::Connection& c);
  // Writes the packets still held (see held_): call after the last event.
  void finish();
  const SynthStats& stats() const { return stats_; }

 private:
  struct Stream;
  struct End;
  struct Emit;
  End* end_for(const Event& ev, const inspect::Connection& c, const inspect::Tracker& t);
  void tcp_control(const inspect::Facts& f, const inspect::Connection& c);
  End* refused_at_end(const inspect::Connection& c);
  void data(End& e, const Event& ev, bool out, uint64_t length, std::string_view kept);
  void datagram(End& e, const Event& ev, bool out, uint64_t length, std::string_view kept);
  // One TCP packet from stream->ep[dir], its sequence and acknowledgement numbers from the
  // stream; `ev` is the call it stands for (nullptr: the connection's end).
  void tcp(End& e, int dir, uint8_t flags, int64_t ts, std::string_view note,
           const Event* ev = nullptr, std::string_view kept = {}, uint32_t length = 0);
  void fin(End& e, int dir, int64_t ts, std::string_view note, const Event* ev);
  void reset(End& e, int dir, int64_t ts, std::string_view note, const Event* ev);
  void refused(End& e, int64_t ts, int64_t done, const Event* ev);
  std::string comment(const End& e, const Event* ev, std::string_view note) const;
  void forget(uint64_t conn_id);
  // Retransmissions the kernel engine saw (tcp_retransmit events): the range written again at
  // their time, once the stream holds it (the call that sent it is written when it returned,
  // after the retransmissions during it).
  struct Resend;
  void retransmitted(const inspect::Facts& f, const inspect::Connection& c);
  void resend_due(End& e, int dir, bool syn_only);
  void resend(End& e, int dir, const Resend& r);
  std::unordered_map<uint64_t, std::vector<Resend>> early_resends_;  // by connection, no end yet

  std::string& out_;
  trace::TraceHeader header_;
  SynthStats stats_;
  std::unordered_map<uint64_t, std::unique_ptr<End>> ends_;     // by connection id
  std::unordered_map<std::string, std::shared_ptr<Stream>> by_tuple_;  // both ends known
  uint32_t ip_id_ = 0;
  // Packets are written in time order: each is held until the trace has passed its time
  // (events come in the order their calls began; a receive's data is stamped when it returned,
  // after calls of other threads that began meanwhile). Within one connection they keep the
  // order they were made in (Stream::stamp). One made for a moment before a packet already
  // written (the SYN of a connect first seen sending) takes that packet's time: the times in
  // the file never go backwards.
  void emit(const Packet& p);
  void release(int64_t upto);  // writes the packets held up to time `upto`
  std::multimap<int64_t, std::string> held_;  // by time; equal times in the order made
  int64_t last_wall_ns_ = INT64_MIN;          // the time of the last packet written
  bool sending_ = false;  // the call add() is at sends data: it left when the call began
  const inspect::Tracker* tracker_ = nullptr;  // of the last add(): process names at the end
};

}  // namespace ws::exporter::pcapng
