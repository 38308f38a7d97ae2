// HTTP/1.x exchanges and TLS hellos, from the payloads of each TCP connection. A connection
// whose first bytes look like an HTTP request is decoded as HTTP both ways (requests in the
// direction that spoke first, so it works for traced clients and traced servers); one whose
// first bytes start a TLS handshake gives its ClientHello (server name, ALPN) and ServerHello
// (version chosen); anything else is left alone.
//
// Memory: the parsers of open connections and their requests still waiting for a response
// (at most kMaxWaiting per connection).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "event.h"
#include "http.h"
#include "tls.h"
#include "tracker.h"

namespace ws::inspect {

struct HttpExchange {
  uint64_t conn = 0;
  bool matched = false;  // a call of its connection passed the Inspector's filter
  uint32_t pid = 0;
  std::string host;  // the Host header, else the connection's remote host name or address
  bool has_request = false, has_response = false;
  decode::HttpMessage request, response;
  // Times (the recorder's monotonic ns) at which the calls carrying these bytes returned.
  int64_t request_start = 0, request_end = 0, response_start = 0, response_end = 0;
  // Request's last byte sent to response's first byte received; -1 when unknown.
  int64_t ttfb() const {
    return has_request && has_response ? response_start - request_end : -1;
  }
};

struct TlsInfo {
  uint64_t conn = 0;
  bool matched = false;  // a call of its connection passed the Inspector's filter
  uint32_t pid = 0;
  int64_t ts = 0;
  decode::TlsClientHello client;
  bool has_server = false;
  decode::TlsServerHello server;
};

class HttpWatcher {
 public:
  static constexpr size_t kMaxWaiting = 64;
  static constexpr size_t kMaxHello = 16384;  // bytes of a hello gathered across calls

  explicit HttpWatcher(Tracker& tracker);
  ~HttpWatcher();
  // An exchange when its response ended, or when its connection closed without one.
  std::function<void(const HttpExchange&)> on_exchange;
  // A TLS connection once both hellos were read (or the connection closed).
  std::function<void(const TlsInfo&)> on_tls;
  // Call after tracker.observe(ev) for every event.
  void observe(const Event& ev);
  void finish();

 private:
  struct Conn;
  void feed(Conn& s, const Event& ev, bool out, const Value& payload, uint64_t size);
  void close(Conn& s, int64_t ts);
  void took(Conn& s, std::vector<decode::HttpMessage> msgs, bool requests);
  void emit(Conn& s, HttpExchange& x);
  void tls(Conn& s);
  Tracker& tracker_;
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
  int64_t last_ts_ = 0;
};

}  // namespace ws::inspect
