#include "request_rules.h"

#include <fmt/format.h>

namespace ws::ui {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool percent_decode(std::string_view text, std::string& out) {
  out.clear();
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] != '%') {
      out += text[i];
    } else {
      const int hi = i + 2 < text.size() ? hex_digit(text[i + 1]) : -1;
      const int lo = hi >= 0 ? hex_digit(text[i + 2]) : -1;
      if (lo < 0) return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
  }
  return true;
}

std::string_view target_path(std::string_view target) {
  return target.substr(0, target.find('?'));
}

std::string query_param(std::string_view target, std::string_view name) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = target.substr(q + 1);
  query = query.substr(0, query.find('#'));
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    std::string key, value;
    if (!percent_decode(pair.substr(0, eq), key) || key != name) continue;
    if (eq == std::string_view::npos) return {};
    return percent_decode(pair.substr(eq + 1), value) ? value : std::string();
  }
  return {};
}

std::string cookie_value(std::string_view header, std::string_view name) {
  size_t at = 0;
  while (at < header.size()) {
    while (at < header.size() && (header[at] == ' ' || header[at] == ';')) ++at;
    const size_t end = std::min(header.find(';', at), header.size());
    const std::string_view pair = header.substr(at, end - at);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name &&
        pair[name.size()] == '=')
      return std::string(pair.substr(name.size() + 1));
    at = end;
  }
  return {};
}

bool loopback_host(std::string_view host, uint16_t port) {
  const std::string p = fmt::format(":{}", port);
  return host == "127.0.0.1" + p || host == "localhost" + p || host == "[::1]" + p;
}

bool own_origin(std::string_view origin, std::string_view host) {
  return origin.empty() || origin == "http://" + std::string(host);
}

}  // namespace ws::ui
