// The collector's half of capture on Linux: raw ring records become events, with Linux's
// numbers (address families, flags, options) translated into wstrace's own codes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "event_builder.h"
#include "sockaddr.h"

namespace ws::capture {

// Decodes one record (the bytes after its length word). False when it is malformed.
bool translate_record(const uint8_t* rec, size_t len, uint32_t pid, EventBuilder& out);

// A Linux sockaddr as wstrace's portable address.
SockAddr linux_sockaddr(const void* sa, size_t len);

}  // namespace ws::capture
