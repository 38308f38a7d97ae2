// TLS records (RFC 8446 §5.1) and the ClientHello/ServerHello (RFC 8446 §4.1.2–3, RFC 5246
// §7.4.1) with the extensions server_name (RFC 6066), ALPN (RFC 7301) and supported_versions.
// No Debian library parses a hello it did not receive itself (OpenSSL and GnuTLS look at one
// only inside their own handshake), so this is written here.
#include "tls.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "bytes.h"

namespace ws::decode {

using detail::Bytes;
using detail::Reader;

namespace {

constexpr uint8_t kHandshake = 22;
constexpr size_t kMaxRecord = 16384 + 2048;  // TLSCiphertext limit

bool is_grease(uint16_t v) { return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff); }

// The handshake bytes of the first records, as far as the first message needs.
struct Handshake {
  std::vector<uint8_t> bytes;
  bool cut = false;  // the input ended before the message did
};

// Gathers the first handshake message from the records at the start of `in`; false (with
// `out` set) when the input is not TLS or its records are broken.
bool gather(Bytes in, Handshake& hs, TlsHelloBase& out) {
  if (in.empty()) {
    out.status = TlsStatus::Truncated;
    out.problem = "no bytes";
    return false;
  }
  if (!looks_like_tls(in)) {
    out.status = TlsStatus::NotTls;
    out.problem = "not a TLS handshake record";
    return false;
  }
  Reader r(in);
  for (bool first = true;; first = false) {
    if (hs.bytes.size() >= 4) {
      const size_t need = 4 + (size_t{hs.bytes[1]} << 16 | size_t{hs.bytes[2]} << 8 | hs.bytes[3]);
      if (hs.bytes.size() >= need) {
        hs.bytes.resize(need);
        return true;
      }
    }
    const uint8_t type = r.u8();
    const uint16_t version = r.u16();
    const uint16_t length = r.u16();
    if (r.ran_out()) break;
    if (first) out.record_version = version;
    if (type != kHandshake || length == 0 || length > kMaxRecord) {
      out.status = TlsStatus::Malformed;
      out.problem = type != kHandshake ? fmt::format("a record of type {} inside the hello", type)
                                       : fmt::format("a record of {} bytes", length);
      out.offset = hs.bytes.size();
      return false;
    }
    const Bytes fragment = r.take(length);
    hs.bytes.insert(hs.bytes.end(), fragment.begin(), fragment.end());
    if (r.ran_out()) break;
  }
  hs.cut = true;
  return true;
}

// Reads a hello's body: running out of bytes in the body's own fields is Truncated when the
// input was cut, else Malformed; inside an extension (whose bytes are all there) it is Malformed.
class HelloReader {
 public:
  HelloReader(TlsHelloBase& out, bool cut) : out_(out), cut_(cut) {}

  // False (and the status set) when `r`, reading the body, ran out.
  bool body_ok(const Reader& r, const char* what) { return check(r, what, cut_, 0); }
  // False (and the status set) when `r`, reading inside an extension, ran out.
  bool inner_ok(const Reader& r, const char* what) { return check(r, what, false, base_); }
  bool malformed(const char* what, size_t at) {
    out_.status = TlsStatus::Malformed;
    out_.problem = what;
    out_.offset = at;
    return false;
  }

  // Walks the extension block at `r`, calling f(type, reader of its data) for each; f returns
  // false to stop. True when the block was read to its end.
  template <typename F>
  bool extensions(Reader& r, F f) {
    if (r.remaining() == 0 && !cut_) return true;  // no extensions at all
    const uint16_t size = r.u16();
    if (!body_ok(r, "extensions")) return false;
    const size_t start = r.pos();
    const Bytes block = r.take(size);
    if (!cut_ && !body_ok(r, "extensions")) return false;
    const bool block_cut = r.ran_out();
    Reader e(block);
    while (e.remaining() > 0) {
      const size_t at = e.pos();
      const uint16_t type = e.u16();
      const Bytes data = e.take(e.u16());
      if (!check(e, "extension", block_cut, start)) return false;
      out_.extensions.push_back(type);
      base_ = start + at + 4;
      if (!f(type, Reader(data))) return false;
    }
    return !block_cut || check(r, "extensions", true, 0);
  }

  bool alpn(Reader r) {
    Reader list(r.take(r.u16()));
    if (!inner_ok(r, "ALPN list")) return false;
    while (list.remaining() > 0) {
      const Bytes id = list.take(list.u8());
      if (!inner_ok(list, "ALPN protocol id")) return false;
      std::string s;
      detail::append_escaped(s, id);
      out_.alpn.push_back(std::move(s));
    }
    return true;
  }

 private:
  bool check(const Reader& r, const char* what, bool cut, size_t base) {
    if (!r.ran_out()) return true;
    out_.status = cut ? TlsStatus::Truncated : TlsStatus::Malformed;
    out_.problem = cut ? what : fmt::format("{} runs past its length", what);
    out_.offset = base + r.pos();
    return false;
  }

  TlsHelloBase& out_;
  bool cut_;
  size_t base_ = 0;
};

bool client_extension(HelloReader& h, TlsClientHello& out, uint16_t type, Reader r) {
  switch (type) {
    case 0: {  // server_name
      Reader list(r.take(r.u16()));
      if (!h.inner_ok(r, "server_name list")) return false;
      while (list.remaining() > 0) {
        const uint8_t kind = list.u8();
        const Bytes name = list.take(list.u16());
        if (!h.inner_ok(list, "server_name entry")) return false;
        if (kind == 0 && out.server_name.empty()) detail::append_escaped(out.server_name, name);
      }
      return true;
    }
    case 16:
      return h.alpn(r);
    case 43: {  // supported_versions
      Reader list(r.take(r.u8()));
      if (!h.inner_ok(r, "supported_versions list")) return false;
      while (list.remaining() >= 2) out.supported_versions.push_back(list.u16());
      return true;
    }
    default:
      return true;
  }
}

// Gathers the first handshake message of `in` and checks that it is a hello of `type` (1 client,
// 2 server); returns a reader of its body after the legacy version (which it fills in), or
// nullopt with `out`'s status set.
std::optional<Reader> open_hello(Bytes in, uint8_t type, Handshake& hs, TlsHelloBase& out) {
  if (!gather(in, hs, out)) return std::nullopt;
  HelloReader h(out, hs.cut);
  Reader m(hs.bytes);
  const uint8_t got = m.u8();
  m.skip(3);
  if (!h.body_ok(m, "handshake header")) return std::nullopt;
  if (got != type) {
    h.malformed(type == 1 ? "the first handshake message is not a ClientHello"
                          : "the first handshake message is not a ServerHello",
                0);
    return std::nullopt;
  }
  Reader r(Bytes(hs.bytes).subspan(4));
  out.legacy_version = r.u16();
  out.version = out.legacy_version;
  return r;
}

// A hello of `type` from `in`: read_body(reader after the legacy version, HelloReader, hello)
// fills in the rest when the records and handshake header are fine.
template <typename Hello, typename F>
Hello read_hello(Bytes in, uint8_t type, F read_body) {
  Hello out;
  Handshake hs;
  if (std::optional<Reader> r = open_hello(in, type, hs, out)) {
    HelloReader h(out, hs.cut);
    read_body(*r, h, out);
  }
  return out;
}

}  // namespace

TlsClientHello parse_tls_client_hello(std::span<const uint8_t> bytes) {
  return read_hello<TlsClientHello>(bytes, 1, [](Reader& r, HelloReader& h, TlsClientHello& out) {
    r.skip(32);
    const Bytes session = r.take(r.u8());
    if (session.size() > 32) {
      h.malformed("session id longer than 32 bytes", 34);
      return;
    }
    const uint16_t suites = r.u16();
    if (!r.ran_out() && (suites % 2 || suites == 0)) {
      h.malformed("odd or empty cipher suite list", r.pos() - 2);
      return;
    }
    out.cipher_suites = suites / 2;
    r.skip(suites);
    r.skip(r.u8());  // compression methods
    if (!h.body_ok(r, "ClientHello fields")) return;
    h.extensions(r, [&](uint16_t t, Reader e) { return client_extension(h, out, t, e); });
    for (uint16_t v : out.supported_versions)
      if (!is_grease(v)) out.version = std::max(out.version, v);
  });
}

TlsServerHello parse_tls_server_hello(std::span<const uint8_t> bytes) {
  return read_hello<TlsServerHello>(bytes, 2, [](Reader& r, HelloReader& h, TlsServerHello& out) {
    // SHA-256("HelloRetryRequest"), the random of a HelloRetryRequest.
    static constexpr uint8_t kRetry[32] = {0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11,
                                           0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
                                           0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
                                           0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};
    const Bytes random = r.take(32);
    out.hello_retry = std::equal(random.begin(), random.end(), kRetry, kRetry + 32);
    r.skip(r.u8());  // session id
    out.cipher_suite = r.u16();
    r.skip(1);  // compression method
    if (!h.body_ok(r, "ServerHello fields")) return;
    h.extensions(r, [&](uint16_t t, Reader e) {
      if (t == 16) return h.alpn(e);
      if (t == 43 && e.remaining() >= 2) out.version = e.u16();
      return true;
    });
  });
}

bool looks_like_tls(std::span<const uint8_t> b) {
  return !b.empty() && b[0] == kHandshake && (b.size() < 2 || b[1] == 3) &&
         (b.size() < 3 || b[2] <= 4);
}

std::string tls_version_name(uint16_t v) {
  switch (v) {
    case 0x0300:
      return "SSL 3.0";
    case 0x0301:
      return "TLS 1.0";
    case 0x0302:
      return "TLS 1.1";
    case 0x0303:
      return "TLS 1.2";
    case 0x0304:
      return "TLS 1.3";
    default:
      return fmt::format("0x{:04x}", v);
  }
}

}  // namespace ws::decode
