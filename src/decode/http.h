// HTTP/1.x messages of one direction of one connection, decoded incrementally from the payloads
// of successive send()/recv() calls — payloads that the capture's snap length may have cut.
// Bodies are counted, not stored. Platform-neutral, no OS calls; docs/decoders.md has the
// details and limits.
//
//   HttpParser requests(HttpParser::Direction::Request),
//   responses(HttpParser::Direction::Response); for each send on the connection: for (HttpMessage&
//   m : requests.feed(kept, len, seq)) {
//                                       responses.expect_response_to(m.method); … }
//   for each recv:                   for (HttpMessage& m : responses.feed(kept, len, seq)) …
//   at the close:                    requests.end_of_stream(seq); responses.end_of_stream(seq);
//
// Every message is returned exactly once, by the feed() or end_of_stream() call in which it
// ended: completed, cut (Truncated) or broken (Malformed). After a Truncated message that lost
// the stream's framing, a Malformed one, or the start of a tunnel, the parser ignores the rest
// of the direction (state() says why).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ws::decode {

struct HttpHeader {
  std::string name;   // as sent
  std::string value;  // leading and trailing whitespace removed; folded lines joined by a space
};

enum class HttpEnd : uint8_t {
  Complete,   // the message's framing says it ended
  Truncated,  // bytes not captured broke its framing (or the stream ended first): `problem`
  Malformed,  // not HTTP/1.x or framing that breaks the protocol: `problem`
};

enum class HttpFraming : uint8_t {
  None,           // no body (requests without length, 1xx/204/304, responses to HEAD)
  ContentLength,  // content_length bytes
  Chunked,        // Transfer-Encoding: chunked
  UntilClose,     // a response without length: the body ends with the connection
};

struct HttpMessage {
  bool request = true;
  uint64_t index = 0;  // 0, 1, 2 … in this direction
  // Requests.
  std::string method;
  std::string target;
  // Responses.
  uint16_t status = 0;
  std::string reason;
  uint64_t request_index = 0;  // the request it answers (for 1xx: the one it precedes)
  std::string request_method;  // that request's method, "" when expect_response_to() had none

  int version_major = 0, version_minor = 0;  // HTTP/1.1 → 1, 1
  std::vector<HttpHeader> headers;           // in order
  std::vector<HttpHeader> trailers;          // after a chunked body

  HttpFraming framing = HttpFraming::None;
  uint64_t content_length = 0;   // when framing is ContentLength
  uint64_t header_size = 0;      // start line through the empty line, in bytes
  uint64_t body_size = 0;        // decoded body bytes (chunk data), captured or not
  uint64_t body_wire_size = 0;   // bytes after the header block: body, chunk framing, trailers
  uint64_t body_uncaptured = 0;  // body bytes the snap length cut: counted, never seen

  // The tags of the feed() calls where the message's first byte, the end of its header block
  // and its end were; end_tag is end_of_stream()'s tag when the stream's end ended it.
  uint64_t start_tag = 0, headers_tag = 0, end_tag = 0;
  bool headers_complete = false;
  HttpEnd end = HttpEnd::Complete;
  std::string problem;  // Truncated/Malformed: what happened, in a few words
  // Requests: asks to switch protocols (Upgrade, CONNECT). Responses: the connection switched
  // (101, or 2xx to CONNECT): the direction carries something else after this message.
  bool upgrade = false;

  // The value of the first header of that name, compared without regard to case.
  std::optional<std::string_view> header(std::string_view name) const;
};

class HttpParser {
 public:
  enum class Direction : uint8_t { Request, Response };
  enum class State : uint8_t {
    Decoding,   // reading messages
    Tunnel,     // after an upgrade or CONNECT: the rest is not HTTP and is not decoded
    LostSync,   // bytes not captured broke the framing: the rest is not decoded
    Malformed,  // the direction is not HTTP/1.x: the rest is not decoded
    Ended,      // end_of_stream() was called
  };

  explicit HttpParser(Direction direction);

  // Response direction: the method of the next request, once per request in order (the n-th
  // call names the n-th request), so that responses to HEAD get no body and a 2xx to CONNECT
  // starts a tunnel. Calls may come late: a response whose request was not named yet is read as
  // the answer to an ordinary method.
  void expect_response_to(std::string_view method);

  // The payload of one call, in order: `kept` the captured bytes, `size` the bytes the call
  // moved (>= kept.size(); the rest was cut by the snap length), `tag` the caller's name for
  // the call (its sequence number). Returns the messages that ended in it.
  std::vector<HttpMessage> feed(std::span<const uint8_t> kept, uint64_t size, uint64_t tag);

  // The connection closed (or the trace ended): ends a body read until close as Complete and
  // a message in progress as Truncated; returns it, if any. Later feeds are ignored.
  std::vector<HttpMessage> end_of_stream(uint64_t tag);

  State state() const { return state_; }
  // The message being read (its headers are there when headers_complete), or nullptr between
  // messages.
  const HttpMessage* current() const;
  // Bytes fed after decoding stopped (tunnel, lost sync, malformed, ended).
  uint64_t ignored_bytes() const { return ignored_; }

 private:
  enum class Phase : uint8_t { Idle, Head, Body, ChunkLine, ChunkData, ChunkEnd, Trailers, Close };

  size_t step(std::span<const uint8_t> in, std::vector<HttpMessage>& out);
  size_t head(std::span<const uint8_t> in, std::vector<HttpMessage>& out);
  size_t chunk_line(std::span<const uint8_t> in, std::vector<HttpMessage>& out);
  size_t chunk_end(std::span<const uint8_t> in, std::vector<HttpMessage>& out);
  size_t trailers(std::span<const uint8_t> in, std::vector<HttpMessage>& out);
  size_t body_bytes(uint64_t available, bool captured, std::vector<HttpMessage>& out);
  void gap(uint64_t size, std::vector<HttpMessage>& out);
  void begin_message();
  void headers_done(std::vector<HttpMessage>& out);
  void complete(std::vector<HttpMessage>& out);
  void fail(HttpEnd end, std::string problem, State next, std::vector<HttpMessage>& out);
  // Set the message's framing from its start line and headers; "" or the problem.
  std::string frame_response();
  std::string frame_request();
  std::string frame_body(bool response);

  Direction direction_;
  State state_ = State::Decoding;
  Phase phase_ = Phase::Idle;
  HttpMessage msg_;
  uint64_t tag_ = 0;
  uint64_t messages_ = 0;  // started so far
  uint64_t finals_ = 0;    // final (non-1xx) responses so far
  std::deque<std::string> methods_;
  uint64_t methods_base_ = 0;    // the request index of methods_.front()
  bool tunnel_pending_ = false;  // after a request that asked to switch protocols
  std::string buf_;              // the header block, a chunk line or the trailers so far
  uint8_t line_state_ = 0;       // where the end-of-block search stands
  uint8_t start_part_ = 0;       // where the start-line check stands
  uint16_t start_count_ = 0;
  uint64_t remaining_ = 0;  // of the body or chunk being read
  uint64_t ignored_ = 0;
};

// Cheap guesses for a connection's first payload: a request line's start ("GET ", "POST ", …
// or any upper-case token followed by a target and " HTTP/1.") and a status line's start
// ("HTTP/1.").
bool looks_like_http_request(std::span<const uint8_t> bytes);
bool looks_like_http_response(std::span<const uint8_t> bytes);

// How a message ended, in words: "complete", "cut: <problem>", "malformed: <problem>".
std::string end_text(const HttpMessage& m);

}  // namespace ws::decode
