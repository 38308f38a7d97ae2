// The first handshake message of each side of a TLS connection: the ClientHello (SNI, ALPN,
// versions, cipher suite count) and the ServerHello (the version and cipher suite chosen, ALPN
// when it is in the clear). Platform-neutral, no OS calls; reads only what is given, never past
// it. docs/decoders.md has the details and limits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace ws::decode {

enum class TlsStatus : uint8_t {
  Ok,
  NotTls,     // the bytes do not start a TLS handshake record (first byte 22, version 3.x)
  Truncated,  // the input ended before the hello did: what was read up to there is filled in
  Malformed,  // `problem` says how, `offset` where (in the handshake message, after its header)
};

struct TlsHelloBase {
  TlsStatus status = TlsStatus::Ok;
  std::string problem;
  size_t offset = 0;
  uint16_t record_version = 0;       // of the first record: 0x0301 for TLS 1.0 … (often 0x0301)
  uint16_t legacy_version = 0;       // the hello's version field: 0x0303 also for TLS 1.3
  uint16_t version = 0;              // the real one: see each hello
  std::vector<std::string> alpn;     // ALPN protocol ids ("h2", "http/1.1")
  std::vector<uint16_t> extensions;  // extension types, in order
  bool ok() const { return status == TlsStatus::Ok; }
};

struct TlsClientHello : TlsHelloBase {
  // version: the highest of supported_versions (GREASE values skipped), else legacy_version.
  std::vector<uint16_t> supported_versions;
  std::string server_name;   // SNI host_name, "" when absent
  size_t cipher_suites = 0;  // how many were offered
};

struct TlsServerHello : TlsHelloBase {
  // version: supported_versions' selected version (TLS 1.3), else legacy_version.
  uint16_t cipher_suite = 0;
  bool hello_retry = false;  // a HelloRetryRequest (RFC 8446 §4.1.3)
};

// The ClientHello from a client's first bytes on a connection, across as many handshake
// records as it takes.
TlsClientHello parse_tls_client_hello(std::span<const uint8_t> bytes);
// The ServerHello from a server's first bytes.
TlsServerHello parse_tls_server_hello(std::span<const uint8_t> bytes);

// True when the bytes could start a TLS handshake record (22, 3.x), for choosing a decoder.
bool looks_like_tls(std::span<const uint8_t> bytes);

// "TLS 1.3", "TLS 1.2", "TLS 1.1", "TLS 1.0", "SSL 3.0"; "0x7f1c" for others.
std::string tls_version_name(uint16_t version);

}  // namespace ws::decode
