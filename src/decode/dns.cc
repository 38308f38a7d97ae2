#include "dns.h"

#include "dns_internal.h"

namespace ws::decode {

using detail::Bytes;
using detail::NameError;

namespace detail {

NameError read_dns_name(Bytes msg, size_t& pos, std::string& out) {
  // 255 octets of wire form at most (RFC 1035 §3.1), so at most 127 labels; one jump per label
  // and one more is all a well-formed name can need.
  constexpr size_t kMaxWire = 255, kMaxJumps = 128;
  out.clear();
  size_t at = pos, wire = 1, jumps = 0;
  size_t end = SIZE_MAX;  // the offset after the name in place, set at the first pointer
  for (;;) {
    if (at >= msg.size()) {
      pos = msg.size();
      return NameError::RanOut;
    }
    const uint8_t len = msg[at];
    if (len == 0) {
      if (end == SIZE_MAX) end = at + 1;
      break;
    }
    if ((len & 0xc0) == 0xc0) {
      if (at + 1 >= msg.size()) {
        pos = msg.size();
        return NameError::RanOut;
      }
      if (end == SIZE_MAX) end = at + 2;
      if (++jumps > kMaxJumps) {
        pos = at;
        return NameError::Loop;
      }
      at = static_cast<size_t>(len & 0x3f) << 8 | msg[at + 1];
      continue;
    }
    if (len & 0xc0) {  // 0x40 (extended, RFC 6891 deprecated it) and 0x80 are not in use
      pos = at;
      return NameError::BadLabel;
    }
    if (at + 1 + len > msg.size()) {
      pos = msg.size();
      return NameError::RanOut;
    }
    wire += 1 + len;
    if (wire > kMaxWire) {
      pos = at;
      return NameError::TooLong;
    }
    if (!out.empty()) out += '.';
    append_escaped(out, msg.subspan(at + 1, len), true);
    at += 1 + len;
  }
  if (out.empty()) out = ".";
  pos = end;
  return NameError::None;
}

const char* name_error_text(NameError e) {
  switch (e) {
    case NameError::None:
      return "";
    case NameError::RanOut:
      return "name runs past the end";
    case NameError::TooLong:
      return "name longer than 255 octets";
    case NameError::Loop:
      return "compression pointer loop";
    case NameError::BadLabel:
      return "reserved label type";
  }
  return "";
}

}  // namespace detail

namespace {

// One decoding run: the message being filled and how it stops.
class DnsParser {
 public:
  DnsParser(Bytes msg, bool whole, DnsMessage& out) : msg_(msg), whole_(whole), out_(out) {}

  void run() {
    if (!header()) return;
    for (uint16_t i = 0; i < out_.qdcount; ++i)
      if (!question(i)) return;
    if (!section(out_.answers, out_.ancount, "answer")) return;
    if (!section(out_.authority, out_.nscount, "authority")) return;
    if (!section(out_.additional, out_.arcount, "additional")) return;
    out_.size = pos_;
  }

 private:
  // Stops decoding: the input ran out (Truncated, or Malformed for a whole message) or broke
  // the format.
  bool stop(bool ran_out, std::string what, size_t offset) {
    out_.status = ran_out && !whole_ ? DnsStatus::Truncated : DnsStatus::Malformed;
    if (ran_out && whole_) what += ": message ends early";
    out_.problem = std::move(what);
    out_.offset = offset;
    return false;
  }

  static std::string label(const char* section, size_t index, const char* part) {
    return std::string(section) + " " + std::to_string(index + 1) + " " + part;
  }

  bool header() {
    detail::Reader r(msg_);
    out_.id = r.u16();
    const uint16_t flags = r.u16();
    out_.qdcount = r.u16();
    out_.ancount = r.u16();
    out_.nscount = r.u16();
    out_.arcount = r.u16();
    if (r.ran_out()) {
      out_ = DnsMessage{};
      return stop(true, "header", msg_.size());
    }
    out_.header_complete = true;
    out_.qr = flags & 0x8000;
    out_.opcode = static_cast<uint8_t>(flags >> 11 & 0xf);
    out_.aa = flags & 0x0400;
    out_.tc = flags & 0x0200;
    out_.rd = flags & 0x0100;
    out_.ra = flags & 0x0080;
    out_.ad = flags & 0x0020;
    out_.cd = flags & 0x0010;
    out_.rcode = flags & 0xf;
    pos_ = r.pos();
    return true;
  }

  bool name(std::string& out, std::string what) {
    const NameError e = detail::read_dns_name(msg_, pos_, out);
    if (e == NameError::None) return true;
    if (e != NameError::RanOut) what += std::string(": ") + detail::name_error_text(e);
    return stop(e == NameError::RanOut, std::move(what), pos_);
  }

  bool question(size_t i) {
    DnsQuestion q;
    if (!name(q.name, label("question", i, "name"))) return false;
    detail::Reader r(msg_, pos_);
    q.type = r.u16();
    q.klass = r.u16();
    if (r.ran_out()) return stop(true, label("question", i, "type and class"), msg_.size());
    pos_ = r.pos();
    out_.questions.push_back(std::move(q));
    return true;
  }

  bool section(std::vector<DnsRecord>& records, uint16_t count, const char* what) {
    for (uint16_t i = 0; i < count; ++i)
      if (!record(records, what, i)) return false;
    return true;
  }

  bool record(std::vector<DnsRecord>& records, const char* what, size_t i) {
    DnsRecord rr;
    if (!name(rr.name, label(what, i, "name"))) return false;
    detail::Reader r(msg_, pos_);
    rr.type = r.u16();
    rr.klass = r.u16();
    rr.ttl = r.u32();
    rr.data_size = r.u16();
    if (r.ran_out()) return stop(true, label(what, i, "fixed fields"), msg_.size());
    const size_t start = r.pos();
    if (rr.data_size > r.remaining()) return stop(true, label(what, i, "rdata"), msg_.size());
    const size_t end = start + rr.data_size;
    rr.data = detail::format_rdata(msg_.first(end), start, rr.type, rr.klass, rr.ttl);
    if (rr.type == 41 && &records == &out_.additional)
      out_.rcode = static_cast<uint16_t>(out_.rcode | (rr.ttl >> 24) << 4);
    pos_ = end;
    records.push_back(std::move(rr));
    return true;
  }

  Bytes msg_;
  bool whole_;
  DnsMessage& out_;
  size_t pos_ = 0;
};

}  // namespace

DnsMessage parse_dns(std::span<const uint8_t> bytes, bool whole) {
  DnsMessage m;
  DnsParser(bytes, whole, m).run();
  return m;
}

bool is_plain_dns_query(const DnsMessage& m, size_t bytes) {
  constexpr uint16_t kClassIn = 1, kUnicastResponse = 0x8000;
  return m.ok() && m.size == bytes && !m.qr && m.opcode == 0 && m.qdcount == 1 &&
         m.questions.size() == 1 && m.questions[0].type != 0 &&
         (m.questions[0].klass & ~kUnicastResponse) == kClassIn && m.ancount == 0 &&
         m.nscount == 0 && m.arcount <= 1 &&
         (m.additional.empty() || m.additional[0].type == 41 /* OPT */);
}

DnsTcpMessages parse_dns_tcp(std::span<const uint8_t> stream, bool final) {
  DnsTcpMessages out;
  size_t at = 0;
  while (at < stream.size()) {
    const size_t left = stream.size() - at;
    const size_t frame = left >= 2 ? (size_t{stream[at]} << 8 | stream[at + 1]) : SIZE_MAX;
    if (frame != SIZE_MAX && 2 + frame <= left) {
      out.messages.push_back(parse_dns(stream.subspan(at + 2, frame), true));
      at += 2 + frame;
      continue;
    }
    if (final) {  // a frame the chunk cut: decode what there is of it
      DnsMessage m = parse_dns(stream.subspan(at + (left >= 2 ? 2 : left)), false);
      if (m.status == DnsStatus::Ok) {  // the message fit in what arrived, but the frame said more
        m.status = DnsStatus::Truncated;
        m.problem = "frame";
        m.offset = left - 2;
      }
      out.messages.push_back(std::move(m));
      at = stream.size();
    }
    break;
  }
  out.consumed = at;
  out.left_over = stream.size() - at;
  return out;
}

}  // namespace ws::decode
