// The rdata of DNS records as presentation text (RFC 1035 §5.1 and each type's RFC); rdata that
// does not fit its type's layout falls back to RFC 3597's generic form.
#include <fmt/format.h>

#include <array>
#include <optional>

#include "dns_internal.h"
#include "sockaddr.h"

namespace ws::decode::detail {
namespace {

// Reads rdata fields in order; any field that does not fit makes the whole rdata generic.
class RdataText {
 public:
  RdataText(Bytes msg, size_t start) : msg_(msg), start_(start), r_(msg, start) {}

  RdataText& num(uint64_t v) { return word(std::to_string(v)); }
  RdataText& u8() { return num(r_.u8()); }
  RdataText& u16() { return num(r_.u16()); }
  RdataText& u32() { return num(r_.u32()); }
  RdataText& name() {
    size_t pos = r_.pos();
    std::string n;
    if (read_dns_name(msg_, pos, n) != NameError::None) bad_ = true;
    r_ = Reader(msg_, pos);
    return word(n);
  }
  // One <character-string>, quoted.
  RdataText& string() {
    const Bytes s = r_.take(r_.u8());
    std::string q = "\"";
    append_escaped(q, s);
    return word(q + '"');
  }
  RdataText& strings() {
    do string();
    while (r_.remaining() > 0 && !r_.ran_out());
    return *this;
  }
  RdataText& hex_rest() { return word(hex(r_.take(r_.remaining()))); }
  RdataText& word(std::string_view w) {
    if (!text_.empty()) text_ += ' ';
    text_ += w;
    return *this;
  }
  Reader& reader() { return r_; }
  void fail() { bad_ = true; }

  // The text, or the generic form when a field ran past the rdata or bytes are left over.
  std::string done() const {
    if (bad_ || r_.ran_out() || r_.remaining() != 0) return generic(msg_.subspan(start_));
    return text_;
  }

  static std::string generic(Bytes rdata) {
    std::string s = "\\# " + std::to_string(rdata.size());
    if (!rdata.empty()) s += " " + hex(rdata);
    return s;
  }

 private:
  Bytes msg_;
  size_t start_;
  Reader r_;
  std::string text_;
  bool bad_ = false;
};

std::string ipv4_text(Bytes b) { return fmt::format("{}.{}.{}.{}", b[0], b[1], b[2], b[3]); }

std::string ipv6_text(Bytes b) {
  std::array<uint8_t, 16> ip{};
  std::copy(b.begin(), b.end(), ip.begin());
  return ip_string(SockAddr::ipv6(ip, 0));
}

// A list of fixed-size addresses, comma-separated; nullopt when the size does not divide.
template <typename F>
std::optional<std::string> address_list(Bytes v, size_t size, F text) {
  if (v.empty() || v.size() % size) return std::nullopt;
  std::string s;
  for (size_t i = 0; i < v.size(); i += size) {
    if (i) s += ',';
    s += text(v.subspan(i, size));
  }
  return s;
}

std::string base64(Bytes b) {
  static constexpr char k[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string s;
  for (size_t i = 0; i < b.size(); i += 3) {
    const uint32_t v = uint32_t{b[i]} << 16 | (i + 1 < b.size() ? b[i + 1] << 8 : 0) |
                       (i + 2 < b.size() ? b[i + 2] : 0);
    s += k[v >> 18 & 63];
    s += k[v >> 12 & 63];
    s += i + 1 < b.size() ? k[v >> 6 & 63] : '=';
    s += i + 2 < b.size() ? k[v & 63] : '=';
  }
  return s;
}

constexpr std::string_view kSvcKeys[] = {"mandatory", "alpn", "no-default-alpn", "port",
                                         "ipv4hint",  "ech",  "ipv6hint"};

std::string svc_key(uint16_t key) {
  return key < std::size(kSvcKeys) ? std::string(kSvcKeys[key]) : "key" + std::to_string(key);
}

// One SvcParam (RFC 9460 §7) as key=value; nullopt when its value breaks the key's format.
std::optional<std::string> svc_param(uint16_t key, Bytes v) {
  std::string s = svc_key(key);
  Reader r(v);
  switch (key) {
    case 0:  // mandatory: a list of keys
      if (v.empty() || v.size() % 2) return std::nullopt;
      s += '=';
      while (r.remaining()) s += svc_key(r.u16()) + (r.remaining() ? "," : "");
      return s;
    case 1:  // alpn: a list of length-prefixed ids
      if (v.empty()) return std::nullopt;
      s += '=';
      while (r.remaining()) {
        append_escaped(s, r.take(r.u8()));
        if (r.remaining()) s += ',';
      }
      return r.ran_out() ? std::nullopt : std::optional(s);
    case 2:
      return v.empty() ? std::optional(s) : std::nullopt;
    case 3:
      return v.size() == 2 ? std::optional(s + '=' + std::to_string(r.u16())) : std::nullopt;
    case 4:
      if (auto list = address_list(v, 4, ipv4_text)) return s + '=' + *list;
      return std::nullopt;
    case 5:
      return s + '=' + base64(v);
    case 6:
      if (auto list = address_list(v, 16, ipv6_text)) return s + '=' + *list;
      return std::nullopt;
    default:
      s += "=\"";
      append_escaped(s, v);
      return s + '"';
  }
}

std::string svcb(Bytes msg, size_t start) {
  RdataText t(msg, start);
  t.u16().name();
  Reader& r = t.reader();
  while (r.remaining() > 0 && !r.ran_out()) {
    const uint16_t key = r.u16();
    const Bytes value = r.take(r.u16());
    if (r.ran_out()) break;
    auto param = svc_param(key, value);
    if (!param)
      t.fail();
    else
      t.word(*param);
  }
  return t.done();
}

// OPT (RFC 6891): "udp=1232 version=0 do", then each option as "optN=hex" ("padding=N" for
// padding, whose content is meaningless).
std::string opt(Bytes msg, size_t start, uint16_t klass, uint32_t ttl) {
  RdataText t(msg, start);
  t.word("udp=" + std::to_string(klass)).word("version=" + std::to_string(ttl >> 16 & 0xff));
  if (ttl & 0x8000) t.word("do");
  Reader& r = t.reader();
  while (r.remaining() > 0 && !r.ran_out()) {
    const uint16_t code = r.u16();
    const Bytes value = r.take(r.u16());
    if (code == 12)
      t.word("padding=" + std::to_string(value.size()));
    else
      t.word("opt" + std::to_string(code) + "=" + hex(value));
  }
  return t.done();
}

}  // namespace

std::string format_rdata(Bytes msg, size_t start, uint16_t type, uint16_t klass, uint32_t ttl) {
  const Bytes rdata = msg.subspan(start);
  RdataText t(msg, start);
  switch (type) {
    case 1:  // A
      return rdata.size() == 4 ? ipv4_text(rdata) : RdataText::generic(rdata);
    case 28:  // AAAA
      return rdata.size() == 16 ? ipv6_text(rdata) : RdataText::generic(rdata);
    case 2:
    case 5:
    case 7:
    case 8:
    case 9:
    case 12:
    case 39:  // NS CNAME MB MG MR PTR DNAME
      return t.name().done();
    case 15:
    case 18:
    case 36:  // MX AFSDB KX
      return t.u16().name().done();
    case 13:
    case 16:
    case 99:  // HINFO TXT SPF
      return t.strings().done();
    case 6:  // SOA
      return t.name().name().u32().u32().u32().u32().u32().done();
    case 33:  // SRV
      return t.u16().u16().u16().name().done();
    case 43:
    case 59:  // DS CDS
      return t.u16().u8().u8().hex_rest().done();
    case 257: {  // CAA: flags tag "value"
      t.u8();
      Reader& r = t.reader();
      const Bytes tag = r.take(r.u8());
      std::string value = "\"";
      append_escaped(value, r.take(r.remaining()));
      return t.word(as_text(tag)).word(value + '"').done();
    }
    case 64:
    case 65:  // SVCB HTTPS
      return svcb(msg, start);
    case 41:
      return opt(msg, start, klass, ttl);
    default:
      return RdataText::generic(rdata);
  }
}

}  // namespace ws::decode::detail
