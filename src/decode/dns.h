// DNS messages in wire format (RFC 1035 and later), as carried by UDP datagrams and by TCP
// streams (each message behind a 2-byte length). Decodes header, questions and records, with the
// rdata of common types as presentation text. Never reads outside its input, never crashes on
// any input, and allocates in proportion to the input only. docs/decoders.md has the details.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ws::decode {

enum class DnsStatus : uint8_t {
  Ok,         // the whole message was decoded
  Truncated,  // the input ended before the message did (a payload cut by the snap length)
  Malformed,  // the bytes break the format: `problem` says how, `offset` where
};

struct DnsQuestion {
  std::string name;  // presentation form without the final dot ("www.example.com"), root "."
  uint16_t type = 0;
  uint16_t klass = 0;
};

struct DnsRecord {
  std::string name;
  uint16_t type = 0;
  uint16_t klass = 0;  // for OPT: the sender's UDP payload size
  uint32_t ttl = 0;    // for OPT: extended rcode, version and flags
  // The rdata as text: "93.184.216.34", "2001:db8::1", "mail.example.com" (CNAME, NS, PTR,
  // DNAME), "10 mx.example.com" (MX), "\"v=spf1 -all\" \"x\"" (TXT), "ns1.x hostmaster.x 2024010101
  // 7200 3600 1209600 300" (SOA), "10 5 443 sip.example.com" (SRV), "1 . alpn=h2,h3 port=443"
  // (SVCB/HTTPS), "udp=1232 version=0 do" (OPT); anything else, and rdata that does not fit its
  // type's layout, in RFC 3597's generic form "\# 4 0a000001".
  std::string data;
  uint16_t data_size = 0;  // rdlength
};

struct DnsMessage {
  DnsStatus status = DnsStatus::Ok;
  std::string problem;  // Truncated/Malformed: what was being read ("answer 2 rdata", …)
  size_t offset = 0;    // Truncated/Malformed: where decoding stopped, from the message's first
                        // byte (after the length of a TCP frame)

  bool header_complete = false;  // false: fewer than 12 bytes, nothing below is set
  uint16_t id = 0;
  bool qr = false;  // true: a response
  uint8_t opcode = 0;
  bool aa = false, tc = false, rd = false, ra = false, ad = false, cd = false;
  // 4 bits from the header, extended by the OPT record's 8 upper bits when there is one.
  uint16_t rcode = 0;
  uint16_t qdcount = 0, ancount = 0, nscount = 0, arcount = 0;  // as the header says

  // What was decoded, in message order; fewer than the counts when not Ok.
  std::vector<DnsQuestion> questions;
  std::vector<DnsRecord> answers;
  std::vector<DnsRecord> authority;
  std::vector<DnsRecord> additional;
  size_t size = 0;  // Ok: the bytes the message took (what follows them is not part of it)

  bool ok() const { return status == DnsStatus::Ok; }
};

// Decodes one message. `whole` says the bytes are the entire message (a datagram captured in
// full, a complete TCP frame): running out of bytes is then Malformed instead of Truncated.
DnsMessage parse_dns(std::span<const uint8_t> bytes, bool whole = false);

// True when `m`, decoded from a datagram of `bytes` bytes, is a standard query as resolvers send
// them: decoded whole with nothing after it, a query (not a response), opcode QUERY, one
// question of class IN (mDNS's unicast-response bit allowed), no answer or authority records,
// at most one additional (EDNS's OPT). Strict on purpose: it decides that traffic on a port
// other than 53 is DNS, and other protocols must not pass for it.
bool is_plain_dns_query(const DnsMessage& m, size_t bytes);

struct DnsTcpMessages {
  std::vector<DnsMessage> messages;
  // Bytes taken by the frames in `messages`. The rest of the input (`left_over`) is the start
  // of a frame that did not end inside it: keep it and put it before the next chunk of the
  // stream, or, when no more is coming, call again with `final` set.
  size_t consumed = 0;
  size_t left_over = 0;
};

// Decodes the length-prefixed messages of a TCP stream chunk, in order (RFC 1035 §4.2.2). Each
// complete frame is decoded as a whole message. With `final`, an incomplete last frame (the
// chunk was cut) is decoded too, as far as it goes, and counted in `consumed`.
DnsTcpMessages parse_dns_tcp(std::span<const uint8_t> stream, bool final = false);

// "A", "AAAA", "HTTPS", … ; "TYPE4711" for types without a mnemonic (RFC 3597).
std::string dns_type_name(uint16_t type);
// The number of a type mnemonic, any case, or "TYPEnnn"; nullopt when unknown.
std::optional<uint16_t> dns_type_from_name(std::string_view name);
// "IN", "CH", "HS", "NONE", "ANY"; "CLASS7" otherwise.
std::string dns_class_name(uint16_t klass);
// "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", …; "RCODE42" otherwise.
std::string dns_rcode_name(uint16_t rcode);
// "QUERY", "IQUERY", "STATUS", "NOTIFY", "UPDATE", "DSO"; "OPCODE9" otherwise.
std::string dns_opcode_name(uint8_t opcode);

}  // namespace ws::decode
