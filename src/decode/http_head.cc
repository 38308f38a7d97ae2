// HTTP/1.x start lines and header fields (RFC 9112 §3–5, RFC 9110 §5).
#include <algorithm>
#include <charconv>

#include "bytes.h"
#include "http_internal.h"

namespace ws::decode {

namespace {

constexpr auto iequal = detail::ascii_iequal;

bool is_tchar(uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls f(item) for each comma-separated item of `list`, trimmed, empty ones skipped.
template <typename F>
void for_each_item(std::string_view list, F f) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view item = trim(list.substr(0, comma));
    if (!item.empty()) f(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
}

// Splits off the next line (without its CR LF) from `rest`.
std::string_view next_line(std::string_view& rest) {
  const size_t lf = rest.find('\n');
  std::string_view line = rest.substr(0, lf);
  rest = lf == std::string_view::npos ? std::string_view() : rest.substr(lf + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

constexpr std::string_view kHttp1 = "HTTP/1.";

// The parts of a start line the byte check walks through.
enum Part : uint8_t {
  kMethod,
  kTarget,
  kVersion,
  kAfterVersion,
  kStatus,
  kAfterStatus,
  kReason,
  kCr,
  kDone
};

}  // namespace

std::optional<std::string_view> HttpMessage::header(std::string_view name) const {
  for (const HttpHeader& h : headers)
    if (iequal(h.name, name)) return h.value;
  return std::nullopt;
}

namespace detail {

bool start_line_byte(bool request, uint8_t c, uint8_t& part, uint16_t& count) {
  auto next = [&](uint8_t p) {
    part = p;
    count = 0;
    return true;
  };
  auto line_end = [&]() { return c == '\r' ? next(kCr) : c == '\n' ? next(kDone) : false; };
  if (part == kMethod && !request) part = kVersion;  // a status line starts with the version
  switch (part) {
    case kMethod:
      if (c == ' ' && count > 0) return next(kTarget);
      return is_tchar(c) && ++count <= 32;
    case kTarget:
      if (c == ' ' && count > 0) return next(kVersion);
      ++count;
      return c > 0x20 && c != 0x7f;
    case kVersion:
      if (count < kHttp1.size()) return c == static_cast<uint8_t>(kHttp1[count++]);
      if (c < '0' || c > '9') return false;
      return next(request ? kAfterVersion : kStatus);
    case kAfterVersion:
      return line_end();
    case kStatus:
      // count 0: the space before the code; 1 to 3: its digits.
      if (count == 0 ? c != ' ' : c < '0' || c > '9') return false;
      return ++count == 4 ? next(kAfterStatus) : true;
    case kAfterStatus:
      return c == ' ' ? next(kReason) : line_end();
    case kReason:
      if (c == '\r' || c == '\n') return line_end();
      return c >= 0x20 ? c != 0x7f : c == '\t';
    case kCr:
      return c == '\n' && next(kDone);
    default:
      return true;
  }
}

bool start_line_done(uint8_t part) { return part == kDone; }

bool block_end_byte(uint8_t c, uint8_t& state) {
  // 0: inside a line; 1: right after LF; 2: after LF CR.
  if (c == '\n') {
    if (state != 0) return true;
    state = 1;
  } else {
    state = c == '\r' && state == 1 ? 2 : 0;
  }
  return false;
}

std::string parse_header_lines(std::string_view rest, std::vector<HttpHeader>& out) {
  while (!rest.empty()) {
    const std::string_view line = next_line(rest);
    if (line.empty()) break;
    if (line.front() == ' ' || line.front() == '\t') {  // obs-fold: continues the last value
      if (out.empty()) return "a folded line before any header";
      std::string& value = out.back().value;
      const std::string_view more = trim(line);
      if (!value.empty() && !more.empty()) value += ' ';
      value += more;
      continue;
    }
    const size_t colon = line.find(':');
    const std::string_view name = line.substr(0, colon);
    if (colon == std::string_view::npos || name.empty() ||
        !std::all_of(name.begin(), name.end(),
                     [](char c) { return is_tchar(static_cast<uint8_t>(c)); }))
      return "a header line without a valid name";
    if (out.size() >= kMaxHttpHeaders) return "more than 100 header lines";
    out.push_back({std::string(name), std::string(trim(line.substr(colon + 1)))});
  }
  return {};
}

std::string parse_http_head(std::string_view block, HttpMessage& msg) {
  std::string_view rest = block;
  const std::string_view line = next_line(rest);
  // start_line_byte() has checked the line: only the fields are left to take.
  std::string_view version;
  if (msg.request) {
    const size_t sp1 = line.find(' '), sp2 = line.find(' ', sp1 + 1);
    msg.method = line.substr(0, sp1);
    msg.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    version = line.substr(sp2 + 1);
  } else {
    version = line.substr(0, 8);
    msg.status =
        static_cast<uint16_t>((line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0'));
    if (line.size() > 13) msg.reason = line.substr(13);
    if (msg.status < 100) return "status code below 100";
  }
  msg.version_major = version[5] - '0';
  msg.version_minor = version[7] - '0';
  return parse_header_lines(rest, msg.headers);
}

std::optional<uint64_t> content_length(const std::vector<HttpHeader>& headers, bool& present) {
  present = false;
  std::optional<uint64_t> length;
  bool bad = false;
  for (const HttpHeader& h : headers) {
    if (!iequal(h.name, "Content-Length")) continue;
    present = true;
    bad |= trim(h.value).empty();
    for_each_item(h.value, [&](std::string_view item) {
      uint64_t v = 0;
      auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), v);
      if (ec != std::errc() || end != item.data() + item.size() || item.front() == '+' ||
          v > (uint64_t{1} << 62) || (length && *length != v))
        bad = true;
      length = v;
    });
  }
  if (bad) return std::nullopt;
  return length;
}

int transfer_encoding(const std::vector<HttpHeader>& headers) {
  bool present = false;
  std::string_view last;
  for (const HttpHeader& h : headers) {
    if (!iequal(h.name, "Transfer-Encoding")) continue;
    present = true;
    for_each_item(h.value,
                  [&](std::string_view item) { last = trim(item.substr(0, item.find(';'))); });
  }
  if (!present) return 0;
  return iequal(last, "chunked") ? 1 : 2;
}

bool has_token(const std::vector<HttpHeader>& headers, std::string_view name,
               std::string_view token) {
  bool found = false;
  for (const HttpHeader& h : headers)
    if (iequal(h.name, name))
      for_each_item(h.value, [&](std::string_view item) { found |= iequal(item, token); });
  return found;
}

}  // namespace detail

bool looks_like_http_request(std::span<const uint8_t> bytes) {
  const std::string_view s = detail::as_text(bytes);
  static constexpr std::string_view kMethods[] = {
      "GET ", "POST ", "PUT ", "HEAD ", "DELETE ", "OPTIONS ", "PATCH ", "CONNECT ", "TRACE "};
  for (std::string_view m : kMethods)
    if (s.starts_with(m)) return true;
  // Another method: an upper-case token, a target and " HTTP/1." on the first line.
  size_t n = 0;
  while (n < s.size() && n < 24 && ((s[n] >= 'A' && s[n] <= 'Z') || s[n] == '-' || s[n] == '_'))
    ++n;
  if (n == 0 || n >= s.size() || s[n] != ' ') return false;
  const std::string_view line = s.substr(0, s.find('\n'));
  return line.find(" HTTP/1.", n + 1) != std::string_view::npos;
}

bool looks_like_http_response(std::span<const uint8_t> bytes) {
  const std::string_view s = detail::as_text(bytes);
  return s.size() >= 8 && s.starts_with(kHttp1) && s[7] >= '0' && s[7] <= '9';
}

}  // namespace ws::decode
