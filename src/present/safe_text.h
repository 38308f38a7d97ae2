// Text from a trace made safe for the place it goes: JSON that always parses, terminal lines
// that carry no control sequences, CSV cells a spreadsheet does not run. A trace holds bytes
// the traced program chose (process and thread names, host names, socket paths, headers): any
// of them may be invalid UTF-8 or an escape sequence meant for whoever reads our output.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace ws::present {

// Length (1 to 4) of the well-formed UTF-8 character at s[i] (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF); 0 when the byte at s[i] starts none.
size_t utf8_char_length(std::string_view s, size_t i);

// `bytes` as valid UTF-8: well-formed characters as they are, every other byte 0xNN as the
// character U+00NN (its Latin-1 reading), so that no byte disappears. The one rule of every
// JSON writer (docs/cli.md).
std::string to_utf8(std::string_view bytes);

// `text` for a terminal: printable characters (UTF-8 included) as they are; control
// characters (C0, DEL, C1 — ESC, BEL, CR …), bidirectional overrides and bytes that are not
// UTF-8 shown as \xNN (\t \n \r as such), so that nothing in a trace moves the cursor, sets
// colours or rewrites what is on screen. Backslashes are kept (Windows paths stay readable).
std::string printable(std::string_view text);

// A CSV cell of text that a spreadsheet would run as a formula (it begins with = + - @, a tab
// or CR) gets a leading ' (OWASP's CSV injection advice); other text is returned as it is.
// For text columns only: numbers keep their sign.
std::string csv_text(std::string_view text);

namespace detail {
// Replaces every string and object key of `j` that is not valid UTF-8 by to_utf8() of it.
template <typename Json>
void make_utf8(Json& j) {
  if (j.is_string()) {
    j = to_utf8(j.template get_ref<const std::string&>());
  } else if (j.is_array()) {
    for (auto& x : j) make_utf8(x);
  } else if (j.is_object()) {
    Json fixed = Json::object();
    for (auto it = j.begin(); it != j.end(); ++it) {
      make_utf8(it.value());
      fixed[to_utf8(it.key())] = std::move(it.value());
    }
    j = std::move(fixed);
  }
}
}  // namespace detail

// The one way JSON is written (every --json, export jsonl and chrome, sqlite's JSON columns):
// ASCII only (other characters as \uXXXX escapes, so that the text is safe on any terminal),
// strings that are not UTF-8 read by to_utf8(). Never throws for the text it holds.
template <typename Json>
std::string json_dump(const Json& j, int indent = -1) {
  try {
    return j.dump(indent, ' ', true);
  } catch (const nlohmann::json::type_error&) {
    // A string that is not UTF-8 (error 316): rare, so the whole value is fixed only then.
    Json copy = j;
    detail::make_utf8(copy);
    return copy.dump(indent, ' ', true);
  }
}

}  // namespace ws::present
