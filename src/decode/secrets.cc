// A byte-at-a-time scanner rather than a reuse of HttpParser: the parser hands out whole
// headers once a block is complete, while masking must name byte positions of every call's
// payload as it comes, including payloads cut in the middle of a header.
#include "secrets.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <string_view>

namespace ws::decode {
namespace {

constexpr std::string_view kNames[] = {"authorization", "proxy-authorization", "cookie",
                                       "set-cookie", "host"};
constexpr uint8_t kAllNames = (1u << std::size(kNames)) - 1;
// Authorization schemes shown before the masked credentials.
constexpr std::string_view kSchemes[] = {"basic", "bearer", "digest", "negotiate", "ntlm",
                                         "token"};
constexpr uint8_t kAllSchemes = (1u << std::size(kSchemes)) - 1;

uint8_t lower(uint8_t c) { return c >= 'A' && c <= 'Z' ? static_cast<uint8_t>(c + 32) : c; }
bool blank(uint8_t c) { return c == ' ' || c == '\t'; }

// The bits of `set` whose word has `c` at `pos`.
template <size_t N>
uint8_t matching(const std::string_view (&words)[N], uint8_t set, size_t pos, uint8_t c) {
  uint8_t keep = 0;
  for (size_t i = 0; i < N; ++i)
    if ((set & (1u << i)) && pos < words[i].size() && words[i][pos] == static_cast<char>(c))
      keep |= static_cast<uint8_t>(1u << i);
  return keep;
}

// The bits of `set` whose word is `len` bytes long.
template <size_t N>
uint8_t ending(const std::string_view (&words)[N], uint8_t set, size_t len) {
  uint8_t keep = 0;
  for (size_t i = 0; i < N; ++i)
    if ((set & (1u << i)) && words[i].size() == len) keep |= static_cast<uint8_t>(1u << i);
  return keep;
}

// A byte that may stand in a URL's authority (RFC 3986: unreserved, pct-encoded, sub-delims,
// ':'; '[' and ']' of an IPv6 host).
bool authority_byte(uint8_t c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("-._~%!$&'()*+,;=:[]").find(static_cast<char>(c)) !=
         std::string_view::npos;
}

// The first '\n' or ':' at or after `i`, else `n` (memchr: the bulk of payloads is skipped here).
uint32_t next_stop(const uint8_t* p, uint32_t i, uint32_t n) {
  const void* nl = std::memchr(p + i, '\n', n - i);
  const uint32_t end = nl ? static_cast<uint32_t>(static_cast<const uint8_t*>(nl) - p) : n;
  const void* colon = std::memchr(p + i, ':', end - i);
  return colon ? static_cast<uint32_t>(static_cast<const uint8_t*>(colon) - p) : end;
}

void mark(std::vector<MaskRange>& out, uint32_t from, uint32_t to) {
  if (from >= to) return;
  if (!out.empty() && out.back().offset + out.back().size == from)
    out.back().size += to - from;
  else
    out.push_back(MaskRange{from, to - from});
}

}  // namespace

void SecretScanner::scan(std::span<const uint8_t> bytes, std::vector<MaskRange>& out) {
  out.clear();
  const uint8_t* p = bytes.data();
  const auto n = static_cast<uint32_t>(bytes.size());
  password_start_ = 0;  // a password open from the last scan goes on from here
  for (uint32_t i = 0; i < n; ++i) {
    // Most bytes are in lines that hold no secret header: skip to what could change that.
    if (line_ == Line::Other && url_ == Url::None) {
      i = next_stop(p, i, n);
      if (i == n) break;
    }
    const uint8_t c = p[i];
    if (url_ != Url::None || c == ':') url_byte(c, i, out);
    if (c == '\n') {
      folded_ = line_ == Line::Value ? kind_ : Kind::None;
      line_ = Line::Start;
      continue;
    }
    switch (line_) {
      case Line::Start:
        start_byte(c);
        if (line_ != Line::Value) break;
        [[fallthrough]];  // a folded line: its blank belongs to the value
      case Line::Value:
        if (value_byte(c)) mark(out, i, i + 1);
        break;
      case Line::Name: name_byte(c); break;
      case Line::Colon:
        if (c == ':') start_value(kind_);
        else if (!blank(c)) line_ = Line::Other;
        break;
      case Line::Other: break;
    }
  }
  if (url_ == Url::Password) mark(out, password_start_, n);
}

void SecretScanner::start_byte(uint8_t c) {
  if (blank(c) && folded_ != Kind::None) {  // obs-fold: the secret value goes on
    line_ = Line::Value;
    kind_ = folded_;
    fold_lead_ = true;
    return;
  }
  folded_ = Kind::None;
  line_ = Line::Name;
  name_len_ = 0;
  candidates_ = kAllNames;
  name_byte(c);
}

void SecretScanner::name_byte(uint8_t c) {
  static constexpr Kind kKinds[] = {Kind::Auth, Kind::Auth, Kind::Cookie, Kind::SetCookie,
                                    Kind::Host};
  if (c == ':' || blank(c)) {
    if (const uint8_t done = ending(kNames, candidates_, name_len_)) {
      const Kind k = kKinds[std::countr_zero(done)];
      if (c == ':') {
        start_value(k);
        return;
      }
      kind_ = k;
      line_ = Line::Colon;
      return;
    }
  }
  candidates_ = matching(kNames, candidates_, name_len_, lower(c));
  ++name_len_;
  if (candidates_ == 0) line_ = Line::Other;
}

void SecretScanner::start_value(Kind k) {
  if (k == Kind::Host) {  // "user:password@host" (some clients copy a URL's userinfo there)
    line_ = Line::Other;
    url_ = Url::Lead;
    return;
  }
  line_ = Line::Value;
  kind_ = k;
  part_ = k == Kind::Auth ? Part::Scheme : Part::CookieName;
  fold_lead_ = false;
  scheme_len_ = 0;
  schemes_ = kAllSchemes;
}

bool SecretScanner::value_byte(uint8_t c) {
  if (c == '\r') return false;
  if (fold_lead_) {  // the blanks that start a continuation line are syntax, not the value
    if (blank(c)) return false;
    fold_lead_ = false;
  }
  switch (part_) {
    case Part::Scheme: return scheme_byte(c);
    case Part::Secret: return true;
    case Part::CookieName:
      if (c == '=') part_ = Part::CookieValue;
      return false;
    case Part::CookieValue:
      if (c != ';') return true;
      part_ = kind_ == Kind::SetCookie ? Part::Attributes : Part::CookieName;
      return false;
    case Part::Attributes: return false;
  }
  return true;
}

// Shows leading blanks and a known scheme word; the first byte that is neither starts the
// masked credentials.
bool SecretScanner::scheme_byte(uint8_t c) {
  if (blank(c)) {
    if (scheme_len_ == 0) return false;
    const bool word = ending(kSchemes, schemes_, scheme_len_) != 0;
    part_ = Part::Secret;
    return !word;
  }
  schemes_ = matching(kSchemes, schemes_, scheme_len_, lower(c));
  ++scheme_len_;
  if (schemes_ != 0) return false;
  part_ = Part::Secret;
  return true;
}

// Follows "://" user [":" password] "@": the password is masked once its '@' is seen.
void SecretScanner::url_byte(uint8_t c, uint32_t i, std::vector<MaskRange>& out) {
  switch (url_) {
    case Url::None: url_ = Url::Colon; return;  // called only with ':' here
    case Url::Colon: url_ = c == '/' ? Url::Slash : c == ':' ? Url::Colon : Url::None; return;
    case Url::Slash: url_ = c == '/' ? Url::User : c == ':' ? Url::Colon : Url::None; return;
    case Url::Lead:
      if (blank(c)) return;
      url_ = Url::User;
      [[fallthrough]];
    case Url::User:
      if (c == ':') {
        url_ = Url::Password;
        password_start_ = i + 1;
      } else if (!authority_byte(c)) {
        url_ = Url::None;
      }
      return;
    case Url::Password:
      if (c == '@') mark(out, password_start_, i);
      if (!authority_byte(c)) url_ = Url::None;
      return;
  }
}

void apply_masks(std::span<uint8_t> bytes, std::span<const MaskRange> ranges) {
  for (const MaskRange& r : ranges) {
    if (r.offset >= bytes.size()) continue;
    const size_t end = std::min<size_t>(bytes.size(), size_t{r.offset} + r.size);
    std::fill(bytes.begin() + r.offset, bytes.begin() + static_cast<std::ptrdiff_t>(end),
              kMaskByte);
  }
}

}  // namespace ws::decode
