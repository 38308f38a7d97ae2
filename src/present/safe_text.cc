#include "safe_text.h"

#include <cstdint>

namespace ws::present {
namespace {

constexpr char kHex[] = "0123456789abcdef";

uint8_t byte_at(std::string_view s, size_t i) { return static_cast<uint8_t>(s[i]); }

// The code point of the well-formed character of length n at s[i].
uint32_t code_point(std::string_view s, size_t i, size_t n) {
  static constexpr uint8_t kLeadMask[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
  uint32_t c = byte_at(s, i) & kLeadMask[n];
  for (size_t k = 1; k < n; ++k) c = (c << 6) | (byte_at(s, i + k) & 0x3f);
  return c;
}

// Characters a terminal acts on instead of showing: C0, DEL, C1, and the bidirectional
// controls that reorder what follows them on the line.
bool is_control(uint32_t c) {
  return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == 0x200e || c == 0x200f ||
         (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

void append_hex_byte(std::string& out, uint8_t b) {
  out += "\\x";
  out += kHex[b >> 4];
  out += kHex[b & 15];
}

}  // namespace

size_t utf8_char_length(std::string_view s, size_t i) {
  const uint8_t c = byte_at(s, i);
  if (c < 0x80) return 1;
  // RFC 3629's table: the lead byte decides the length and the range of the second byte.
  size_t n;
  uint8_t lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) n = 2;
  else if (c == 0xe0) n = 3, lo = 0xa0;
  else if (c == 0xed) n = 3, hi = 0x9f;  // no surrogates
  else if (c >= 0xe1 && c <= 0xef) n = 3;
  else if (c == 0xf0) n = 4, lo = 0x90;
  else if (c == 0xf4) n = 4, hi = 0x8f;  // nothing above U+10FFFF
  else if (c >= 0xf1 && c <= 0xf3) n = 4;
  else return 0;
  if (i + n > s.size()) return 0;
  if (byte_at(s, i + 1) < lo || byte_at(s, i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k)
    if ((byte_at(s, i + k) & 0xc0) != 0x80) return 0;
  return n;
}

std::string to_utf8(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() + 8);
  for (size_t i = 0; i < bytes.size();) {
    const size_t n = utf8_char_length(bytes, i);
    if (n) {
      out.append(bytes.substr(i, n));
      i += n;
      continue;
    }
    const uint8_t b = byte_at(bytes, i++);  // 0x80 or above: two bytes in UTF-8
    out += static_cast<char>(0xc0 | (b >> 6));
    out += static_cast<char>(0x80 | (b & 0x3f));
  }
  return out;
}

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const size_t n = utf8_char_length(text, i);
    if (n == 0) {
      append_hex_byte(out, byte_at(text, i++));
      continue;
    }
    const uint32_t c = code_point(text, i, n);
    if (c == '\t' || c == '\n' || c == '\r') {
      out += c == '\t' ? "\\t" : c == '\n' ? "\\n" : "\\r";
    } else if (is_control(c)) {
      for (size_t k = 0; k < n; ++k) append_hex_byte(out, byte_at(text, i + k));
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  return out;
}

std::string csv_text(std::string_view text) {
  if (!text.empty() && std::string_view("=+-@\t\r").find(text[0]) != std::string_view::npos)
    return "'" + std::string(text);
  return std::string(text);
}

}  // namespace ws::present
