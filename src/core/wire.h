// The portable encodings of the trace file: little-endian fixed-width integers, LEB128 varints
// and zigzag for signed values. Fixed-width for block framing, varints inside event records so
// that an average record stays far below 32 bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace ws::wire {

inline uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t unzigzag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

inline size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

// Appends to a std::string used as a byte buffer.
class Out {
 public:
  explicit Out(std::string& buf) : buf_(buf) {}
  void u8(uint8_t v) { buf_.push_back(static_cast<char>(v)); }
  void u16(uint16_t v) { fixed(v, 2); }
  void u32(uint32_t v) { fixed(v, 4); }
  void u64(uint64_t v) { fixed(v, 8); }
  void varint(uint64_t v) {
    char tmp[10];
    size_t n = 0;
    while (v >= 0x80) {
      tmp[n++] = static_cast<char>(v | 0x80);
      v >>= 7;
    }
    tmp[n++] = static_cast<char>(v);
    buf_.append(tmp, n);
  }
  void svarint(int64_t v) { varint(zigzag(v)); }
  void bytes(const void* p, size_t n) { buf_.append(static_cast<const char*>(p), n); }
  // Length-delimited: varint length, then the bytes.
  void blob(std::string_view s) {
    varint(s.size());
    buf_.append(s);
  }
  size_t size() const { return buf_.size(); }
  std::string& buffer() { return buf_; }

 private:
  void fixed(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) buf_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  std::string& buf_;
};

// Reads from a byte range; every read checks bounds. After the first failure ok() is false and
// every further read returns 0 or an empty view, so callers check once at the end.
class In {
 public:
  In(const uint8_t* p, size_t n) : p_(p), end_(p + n) {}
  explicit In(std::string_view s)
      : In(reinterpret_cast<const uint8_t*>(s.data()), s.size()) {}

  bool ok() const { return ok_; }
  bool empty() const { return p_ == end_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  const uint8_t* pos() const { return p_; }

  uint8_t u8() { return static_cast<uint8_t>(fixed(1)); }
  uint16_t u16() { return static_cast<uint16_t>(fixed(2)); }
  uint32_t u32() { return static_cast<uint32_t>(fixed(4)); }
  uint64_t u64() { return fixed(8); }
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p_ == end_) return fail();
      uint8_t b = *p_++;
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    return fail();  // more than 10 bytes: not a varint we wrote
  }
  int64_t svarint() { return unzigzag(varint()); }
  std::string_view take(size_t n) {
    if (remaining() < n) {
      fail();
      return {};
    }
    std::string_view s(reinterpret_cast<const char*>(p_), n);
    p_ += n;
    return s;
  }
  std::string_view blob() {
    uint64_t n = varint();
    if (!ok_ || n > remaining()) {
      fail();
      return {};
    }
    return take(static_cast<size_t>(n));
  }
  void skip(size_t n) { take(n); }

 private:
  uint64_t fixed(int n) {
    if (remaining() < static_cast<size_t>(n)) return fail();
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(p_[i]) << (8 * i);
    p_ += n;
    return v;
  }
  uint64_t fail() {
    ok_ = false;
    p_ = end_;
    return 0;
  }
  const uint8_t* p_;
  const uint8_t* end_;
  bool ok_ = true;
};

}  // namespace ws::wire
