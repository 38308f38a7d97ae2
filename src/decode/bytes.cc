#include "bytes.h"

namespace ws::decode::detail {

Bytes Reader::take(size_t n) {
  if (n > remaining()) {
    ran_out_ = true;
    n = remaining();
  }
  Bytes b = data_.subspan(pos_, n);
  pos_ += n;
  return b;
}

uint64_t Reader::fixed(size_t n) {
  if (n > remaining()) {
    ran_out_ = true;
    pos_ = data_.size();
    return 0;
  }
  uint64_t v = 0;
  for (size_t i = 0; i < n; ++i) v = v << 8 | data_[pos_ + i];
  pos_ += n;
  return v;
}

std::string hex(Bytes b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * b.size());
  for (uint8_t c : b) {
    s += kDigits[c >> 4];
    s += kDigits[c & 15];
  }
  return s;
}

void append_escaped(std::string& out, Bytes b, bool escape_dot) {
  for (uint8_t c : b) {
    if (c == '"' || c == '\\' || (escape_dot && c == '.')) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c > 0x7e) {
      out += '\\';
      out += static_cast<char>('0' + c / 100);
      out += static_cast<char>('0' + c / 10 % 10);
      out += static_cast<char>('0' + c % 10);
    } else {
      out += static_cast<char>(c);
    }
  }
}

}  // namespace ws::decode::detail
