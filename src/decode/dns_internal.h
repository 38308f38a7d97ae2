// Pieces of the DNS decoder shared by dns.cc and dns_rdata.cc (internal).
#pragma once

#include <cstdint>
#include <string>

#include "bytes.h"

namespace ws::decode::detail {

enum class NameError : uint8_t { None, RanOut, TooLong, Loop, BadLabel };

// Reads the (possibly compressed) domain name at `pos` of `msg` into `out` in presentation form
// and moves `pos` past the name's bytes in place. Compression pointers may point anywhere in
// `msg`; at most a bounded number of jumps are followed, so loops end as NameError::Loop. On
// error, `pos` is the offset of the byte at fault.
NameError read_dns_name(Bytes msg, size_t& pos, std::string& out);
const char* name_error_text(NameError e);

// The rdata of a record of `type` as text (see DnsRecord::data); `msg` is the message up to the
// rdata's end, so that names inside it can use compression but cannot run past it.
std::string format_rdata(Bytes msg, size_t start, uint16_t type, uint16_t klass, uint32_t ttl);

}  // namespace ws::decode::detail
