#include "json_out.h"

#include <charconv>

#include "safe_text.h"

namespace ws::report {

void JsonOut::str(std::string_view v) {
  static constexpr char kHex[] = "0123456789abcdef";
  s_ += '"';
  for (size_t i = 0; i < v.size();) {
    const auto c = static_cast<unsigned char>(v[i]);
    if (c >= 0x80) {
      // The rule of every JSON writer (present::to_utf8): a byte that is not UTF-8 is U+00NN.
      const size_t n = present::utf8_char_length(v, i);
      if (n == 0) {
        s_ += "\\u00";
        s_ += kHex[c >> 4];
        s_ += kHex[c & 15];
        ++i;
      } else {
        s_.append(v.substr(i, n));
        i += n;
      }
      continue;
    }
    switch (c) {
      case '"': s_ += "\\\""; break;
      case '\\': s_ += "\\\\"; break;
      case '\n': s_ += "\\n"; break;
      case '\r': s_ += "\\r"; break;
      case '\t': s_ += "\\t"; break;
      default:
        if (c < 0x20 || c == '<' || c == 0x7f) {
          s_ += "\\u00";
          s_ += kHex[c >> 4];
          s_ += kHex[c & 15];
        } else {
          s_ += static_cast<char>(c);
        }
    }
    ++i;
  }
  s_ += '"';
}

void JsonOut::num(int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  s_.append(buf, r.ptr);
}

void JsonOut::unum(uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  s_.append(buf, r.ptr);
}

std::string base64(std::string_view b) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((b.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= b.size(); i += 3) {
    const uint32_t n = (uint32_t{static_cast<unsigned char>(b[i])} << 16) |
                       (uint32_t{static_cast<unsigned char>(b[i + 1])} << 8) |
                       static_cast<unsigned char>(b[i + 2]);
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i < b.size()) {
    uint32_t n = uint32_t{static_cast<unsigned char>(b[i])} << 16;
    if (i + 1 < b.size()) n |= uint32_t{static_cast<unsigned char>(b[i + 1])} << 8;
    out += kAlphabet[n >> 18];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < b.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace ws::report
