// The collector's half of capture: raw ring records become events, with the recording
// platform's numbers (address families, flags, options, sockaddr layouts, UTF-16 text)
// translated into wstrace's own codes. No OS headers: both platforms' records can be decoded
// (and tested) anywhere.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "event_builder.h"
#include "sockaddr.h"

namespace ws::capture {

// Decodes one record (the bytes after its length word) of an agent on `platform`.
bool translate_record(Platform platform, const uint8_t* rec, size_t len, uint32_t pid,
                      EventBuilder& out);
bool translate_linux_record(const uint8_t* rec, size_t len, uint32_t pid, EventBuilder& out);
bool translate_windows_record(const uint8_t* rec, size_t len, uint32_t pid, EventBuilder& out);

// A sockaddr as the platform lays it out, as wstrace's portable address.
SockAddr platform_sockaddr(Platform platform, const void* sa, size_t len);

// UTF-16LE to UTF-8; unpaired surrogates become U+FFFD.
std::string utf16_to_utf8(const void* data, size_t bytes);

}  // namespace ws::capture
