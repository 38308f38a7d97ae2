// What the live view's server reads from a request, as plain functions of its text (no sockets):
// the query's parameters, a cookie, and whether the Host and Origin headers name this server.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ws::ui {

// `text` percent-decoded ('+' is a space) into `out`; false when a % is not followed by two hex
// digits.
bool percent_decode(std::string_view text, std::string& out);
// The path of a request target ("/events?at=1" → "/events").
std::string_view target_path(std::string_view target);
// The value of parameter `name` in the target's query, percent-decoded ('+' is a space); empty
// when absent or when its encoding is broken.
std::string query_param(std::string_view target, std::string_view name);
// The value of cookie `name` in a Cookie header; empty when absent.
std::string cookie_value(std::string_view header, std::string_view name);
// True when `host` (a Host header) names the loopback address and `port`: 127.0.0.1:PORT,
// localhost:PORT or [::1]:PORT. Anything else may be a DNS rebinding.
bool loopback_host(std::string_view host, uint16_t port);
// True when `origin` (an Origin header) is absent or is the page's own: http:// and `host`.
bool own_origin(std::string_view origin, std::string_view host);

}  // namespace ws::ui
