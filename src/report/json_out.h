// A small JSON writer for the report's data: appends to one string, no tree in between (a
// million calls become a few columns of numbers quickly).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace ws::report {

class JsonOut {
 public:
  std::string& text() { return s_; }
  // Separators are the caller's: these append one value each.
  // Quoted; a byte that is not UTF-8 becomes U+00NN (present::to_utf8), '<' becomes \u003c.
  void str(std::string_view v);
  void num(int64_t v);
  void unum(uint64_t v);
  void key(std::string_view k) {
    str(k);
    s_ += ':';
  }
  void raw(std::string_view v) { s_ += v; }
  // A column that mostly holds `usual`: {"d":usual,"at":[…],"v":[…]} with the positions of the
  // other values (each minus the one before) and those values; a plain array when that is not
  // shorter.
  template <typename T>
  void sparse(const std::vector<T>& v, T usual) {
    size_t others = 0;
    for (const T& x : v) others += x != usual;
    if (others * 3 > v.size()) return array(v);
    s_ += "{\"d\":";
    emit(usual);
    s_ += ",\"at\":[";
    size_t prev = 0;
    bool first = true;
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i] == usual) continue;
      if (!first) s_ += ',';
      unum(i - prev);
      prev = i;
      first = false;
    }
    s_ += "],\"v\":[";
    first = true;
    for (const T& x : v) {
      if (x == usual) continue;
      if (!first) s_ += ',';
      emit(x);
      first = false;
    }
    s_ += "]}";
  }
  // One value by its C++ type: texts quoted, integers as numbers, an empty optional as null.
  void value(std::string_view v) { str(v); }
  void value(const std::string& v) { str(v); }
  void value(const char* v) { str(v); }
  template <typename T>
    requires std::is_integral_v<T>
  void value(T v) {
    if constexpr (std::is_same_v<T, bool>) s_ += v ? "true" : "false";
    else emit(v);
  }
  template <typename T>
  void value(const std::optional<T>& v) {
    if (v) value(*v);
    else s_ += "null";
  }
  // A list of values: [a,b,c].
  template <typename T>
  void value(const std::vector<T>& v) {
    list(v);
  }
  template <typename T, size_t N>
  void value(const std::array<T, N>& v) {
    list(v);
  }
  // [a,b,c] of values of any of those types: a row of a table whose columns the page names.
  template <typename... T>
  void tuple(const T&... v) {
    s_ += '[';
    bool first = true;
    ((first ? void() : void(s_ += ','), first = false, value(v)), ...);
    s_ += ']';
  }
  // [a,b,c]; with `delta`, each number minus the one before (the first as it is).
  template <typename T>
  void array(const std::vector<T>& v, bool delta = false) {
    s_ += '[';
    T prev{};
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) s_ += ',';
      emit(delta ? static_cast<T>(v[i] - prev) : v[i]);
      prev = v[i];
    }
    s_ += ']';
  }

 private:
  template <typename T>
  void emit(T x) {
    if constexpr (std::is_signed_v<T>) num(static_cast<int64_t>(x));
    else unum(static_cast<uint64_t>(x));
  }
  template <typename C>
  void list(const C& c) {
    s_ += '[';
    bool first = true;
    for (const auto& x : c) {
      if (!first) s_ += ',';
      first = false;
      value(x);
    }
    s_ += ']';
  }
  std::string s_;
};

// One row of a table as an array, each value given with the name of its column:
//   row("id", c.id)("pid", c.pid);
// A value may also be a function of the JsonOut that writes it (a table inside the row).
// A Row made on a list of names writes nothing and lists the names instead: the same code then
// gives a table's rows and the names of its columns, which cannot drift apart.
class Row {
 public:
  explicit Row(JsonOut& o) : o_(&o) {}
  explicit Row(std::vector<std::string_view>& names) : names_(&names) {}
  template <typename T>
  Row& operator()(std::string_view name, const T& v) {
    if (names_) {
      names_->push_back(name);
    } else {
      if (!first_) o_->raw(",");
      first_ = false;
      if constexpr (std::is_invocable_v<const T&, JsonOut&>) v(*o_);
      else o_->value(v);
    }
    return *this;
  }

 private:
  JsonOut* o_ = nullptr;
  std::vector<std::string_view>* names_ = nullptr;
  bool first_ = true;
};

// Standard base64 with padding.
std::string base64(std::string_view bytes);

}  // namespace ws::report
