// Bounds-checked big-endian reading and small text helpers shared by the decoders (internal).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace ws::decode::detail {

using Bytes = std::span<const uint8_t>;

// Reads network-order fields from a span. Reading past the end never touches memory outside the
// span: it returns 0 (or an empty span), leaves the position at the end and sets ran_out(),
// which stays set. Callers check ran_out() after a group of reads.
class Reader {
 public:
  explicit Reader(Bytes data, size_t pos = 0)
      : data_(data), pos_(pos <= data.size() ? pos : data.size()) {}

  uint8_t u8() { return static_cast<uint8_t>(fixed(1)); }
  uint16_t u16() { return static_cast<uint16_t>(fixed(2)); }
  uint32_t u24() { return static_cast<uint32_t>(fixed(3)); }
  uint32_t u32() { return static_cast<uint32_t>(fixed(4)); }
  // The next n bytes, or all that is left (and ran_out()) when fewer remain.
  Bytes take(size_t n);
  void skip(size_t n) { (void)take(n); }

  size_t pos() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool ran_out() const { return ran_out_; }
  Bytes data() const { return data_; }

 private:
  uint64_t fixed(size_t n);
  Bytes data_;
  size_t pos_;
  bool ran_out_ = false;
};

// "0a1bff": two lower-case hex digits a byte.
std::string hex(Bytes b);
// Appends `b` as the inside of a DNS/TLS quoted string: printable ASCII as is, '"' and '\' with
// a backslash, any other byte as \DDD (RFC 1035 §5.1).
void append_escaped(std::string& out, Bytes b, bool escape_dot = false);

inline Bytes as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view as_text(Bytes b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// ASCII case folding for protocol text (header names, DNS mnemonics): the same on every machine,
// which <cctype>'s locale-dependent tolower is not.
constexpr char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
constexpr bool ascii_iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}

}  // namespace ws::decode::detail
