// Pieces of the HTTP/1.x decoder shared by http.cc and http_head.cc (internal).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http.h"

namespace ws::decode::detail {

inline constexpr size_t kMaxHttpHeaders = 100;
inline constexpr size_t kMaxHttpHeadBytes = 64 * 1024;

// Checks a start line one byte at a time, so that a stream that is not HTTP/1.x is refused at
// its first wrong byte. `part` and `count` hold the check's place (both 0 at the start).
bool start_line_byte(bool request, uint8_t c, uint8_t& part, uint16_t& count);
bool start_line_done(uint8_t part);

// Follows the end of a header block one byte at a time: true at the LF that ends its empty
// line (CRLF CRLF, or bare LFs). `state` 0 at a block's start, 1 right after a line's end.
bool block_end_byte(uint8_t c, uint8_t& state);

// Fills the start line and headers of `msg` from a complete header block; "" or the problem.
std::string parse_http_head(std::string_view block, HttpMessage& msg);
// Header lines up to an empty line (or the end) into `out`; "" or the problem.
std::string parse_header_lines(std::string_view lines, std::vector<HttpHeader>& out);

// Content-Length from all its headers (lists of one value, RFC 9110 §8.6); nullopt when a value
// is not a number or values differ. `present` says whether there was any.
std::optional<uint64_t> content_length(const std::vector<HttpHeader>& headers, bool& present);
// Transfer-Encoding: 0 none, 1 chunked last, 2 present without chunked last.
int transfer_encoding(const std::vector<HttpHeader>& headers);
// True when some header `name` holds `token` in its comma-separated list (any case).
bool has_token(const std::vector<HttpHeader>& headers, std::string_view name,
               std::string_view token);

}  // namespace ws::decode::detail
