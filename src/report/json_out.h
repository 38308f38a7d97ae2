// A small JSON writer for the report's data: appends to one string, no tree in between (a
// million calls become a few columns of numbers quickly).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace ws::report {

class JsonOut {
 public:
  std::string& text() { return s_; }
  // Separators are the caller's: these append one value each.
  void str(std::string_view v);  // quoted; invalid UTF-8 becomes U+FFFD, '<' becomes \u003c
  void num(int64_t v);
  void unum(uint64_t v);
  void key(std::string_view k) {
    str(k);
    s_ += ':';
  }
  void raw(std::string_view v) { s_ += v; }
  // [a,b,c]; with `delta`, each number minus the one before (the first as it is).
  template <typename T>
  void array(const std::vector<T>& v, bool delta = false) {
    s_ += '[';
    T prev{};
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) s_ += ',';
      const T x = delta ? static_cast<T>(v[i] - prev) : v[i];
      if constexpr (std::is_signed_v<T>) num(static_cast<int64_t>(x));
      else unum(static_cast<uint64_t>(x));
      prev = v[i];
    }
    s_ += ']';
  }

 private:
  std::string s_;
};

// Standard base64 with padding.
std::string base64(std::string_view bytes);

}  // namespace ws::report
