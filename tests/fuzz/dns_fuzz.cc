// Any bytes given to the DNS decoder end in a message (Ok, Truncated or Malformed), never in a
// crash, a hang, a read out of bounds or a large allocation: as a datagram cut or whole, and as
// a TCP stream chunk.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "dns.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> in(data, size);
  using ws::decode::DnsStatus;
  for (bool whole : {false, true}) {
    const ws::decode::DnsMessage m = ws::decode::parse_dns(in, whole);
    if (m.status != DnsStatus::Ok && (m.problem.empty() || m.offset > size)) std::abort();
    if (whole && m.status == DnsStatus::Truncated) std::abort();
    // Each question takes 5 bytes at least, each record 11.
    if (m.questions.size() * 5 +
            (m.answers.size() + m.authority.size() + m.additional.size()) * 11 >
        size)
      std::abort();
    for (const auto& rr : m.answers) (void)ws::decode::dns_type_name(rr.type);
    (void)ws::decode::dns_rcode_name(m.rcode);
  }
  for (bool final : {false, true}) {
    const auto t = ws::decode::parse_dns_tcp(in, final);
    if (t.consumed + t.left_over != size || (final && t.left_over != 0)) std::abort();
  }
  return 0;
}
