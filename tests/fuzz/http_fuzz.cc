// Any bytes fed to the HTTP/1.x parsers, in any pieces, with any parts not captured, end in
// messages that are each returned once, never in a crash, a hang or unbounded memory. Both
// directions read the same bytes; a response parser is told request methods as they come.
//
// Input: a header of 8 bytes sets the pieces: 4 split sizes (one byte each, 0 = the rest) and 4
// bytes saying how many bytes past each piece were not captured (0–255 × 7). The rest is the
// stream.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "http.h"

namespace {

using ws::decode::HttpMessage;
using ws::decode::HttpParser;

void check(const std::vector<HttpMessage>& ms, uint64_t& last_index, bool& any) {
  for (const HttpMessage& m : ms) {
    if (any && m.index <= last_index) std::abort();  // each message once, in order
    if (m.end != ws::decode::HttpEnd::Complete && m.problem.empty()) std::abort();
    if (m.headers.size() > 100 || m.trailers.size() > 100) std::abort();
    if (m.body_uncaptured > m.body_wire_size || m.body_size > m.body_wire_size) std::abort();
    (void)m.header("content-type");
    last_index = m.index;
    any = true;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  const std::span<const uint8_t> stream(data + 8, size - 8);
  HttpParser req(HttpParser::Direction::Request), resp(HttpParser::Direction::Response);
  uint64_t last_req = 0, last_resp = 0;
  bool any_req = false, any_resp = false;
  (void)ws::decode::looks_like_http_request(stream);
  (void)ws::decode::looks_like_http_response(stream);
  size_t at = 0;
  for (uint64_t piece = 0; piece < 5 && at < stream.size(); ++piece) {
    const size_t n = piece < 4 && data[piece] ? std::min<size_t>(data[piece], stream.size() - at)
                                              : stream.size() - at;
    const uint64_t cut = piece < 4 ? uint64_t{data[4 + piece]} * 7 : 0;
    const auto kept = stream.subspan(at, n);
    std::vector<HttpMessage> requests = req.feed(kept, n + cut, piece);
    check(requests, last_req, any_req);
    for (const HttpMessage& m : requests) resp.expect_response_to(m.method);
    check(resp.feed(kept, n + cut, piece), last_resp, any_resp);
    at += n;
  }
  check(req.end_of_stream(9), last_req, any_req);
  check(resp.end_of_stream(9), last_resp, any_resp);
  if (req.current() || resp.current()) std::abort();
  return 0;
}
