// The live view's web server (`record --ui`, `attach --ui`, `wstrace ui`): serves the report's
// page and, as Server-Sent Events, the parts of a LiveFeed each page has not seen. Safe by
// default: bound to 127.0.0.1 only; every request must carry the random token of the URL it
// prints (query or cookie) and a Host header naming the loopback address and port (no DNS
// rebinding); a request naming another Origin is refused; no CORS headers; nothing it serves
// changes the trace; the report's Content-Security-Policy plus frame-ancestors 'none'. The same
// server on Linux and Windows (Boost.Beast, live_server.cc).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "live_feed.h"
#include "status.h"

namespace ws::ui {

struct ServeOptions {
  uint16_t port = 0;  // 0: a free one
  // Playback's controls (`wstrace ui`): called with the page's request (op "play", "pause",
  // "speed" or "seek", and its value), returns the playback's state as JSON; unset: none.
  std::function<std::string(const std::string& op, const std::string& value)> control;
  // The calls a page no longer holds (`GET /calls`, older_calls.h): called with the request's
  // query string, returns the JSON to answer; unset: none. Called on a thread of its own (at
  // most two at once), never the connections' thread; stops early, saying so, once `cancelled`
  // (the same page asked again, or the server stops).
  std::function<std::string(const std::string& query, const std::atomic<bool>& cancelled)> calls;
};

class LiveServer {
 public:
  virtual ~LiveServer() = default;
  // http://127.0.0.1:PORT/?token=…
  virtual const std::string& url() const = 0;
  // Stops serving: open event streams end.
  virtual void stop() = 0;
};

// Serves `feed` (which must outlive the server) from a thread of its own.
Result<std::unique_ptr<LiveServer>> start_live_server(report::LiveFeed& feed,
                                                      const ServeOptions& options);

// True when `a` and `b` are the same, in a time that depends on their lengths only.
bool same_secret(std::string_view a, std::string_view b);

}  // namespace ws::ui
