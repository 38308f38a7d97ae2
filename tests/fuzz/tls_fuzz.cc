// Any bytes given to the TLS hello decoders end in a status, never in a crash or a read out of
// bounds; Ok only when the bytes start with a handshake record.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "tls.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  using ws::decode::TlsStatus;
  const auto c = ws::decode::parse_tls_client_hello(in);
  const auto s = ws::decode::parse_tls_server_hello(in);
  for (TlsStatus st : {c.status, s.status})
    if (st == TlsStatus::Ok && !ws::decode::looks_like_tls(in)) std::abort();
  // cipher_suites comes from the list's length field, also when the list was cut.
  if (c.cipher_suites > 0x7fff || c.alpn.size() > size || c.server_name.size() > 4 * size)
    std::abort();
  (void)ws::decode::tls_version_name(c.version);
  return 0;
}
