// The HTTP/1.x message framing of RFC 9112 §6, for payloads whose tails a snap length may cut.
//
// Written here rather than taken from a library: Debian's http-parser (libhttp-parser-dev) is
// a Linux-only binary and no longer maintained upstream; llhttp (whose C source Debian ships in
// node-llhttp) is built for servers that see every byte. A trace's payloads are cut by the snap
// length, and the parts that matter here — counting bytes that were never captured inside a
// body, losing sync only when a cut falls in framing, naming the call where each message
// started, ended its headers and ended, pairing responses with HEAD/CONNECT requests by index,
// accepting any method token — would have to be built around llhttp from its internal state
// and synthetic bytes. docs/dependencies.md says more.
#include "http.h"

#include <algorithm>

#include "bytes.h"
#include "http_internal.h"

namespace ws::decode {

namespace {

constexpr size_t kMaxChunkLine = 4096;

const char* phase_text(bool start_line_done, int phase) {
  static constexpr const char* kText[] = {"message",    "header block",
                                          "body",       "chunk size line",
                                          "chunk data", "line end after chunk data",
                                          "trailers",   "body"};
  return phase == 1 && !start_line_done ? "start line" : kText[phase];
}

}  // namespace

HttpParser::HttpParser(Direction direction) : direction_(direction) {}

void HttpParser::expect_response_to(std::string_view method) { methods_.emplace_back(method); }

const HttpMessage* HttpParser::current() const {
  return phase_ == Phase::Idle || state_ != State::Decoding ? nullptr : &msg_;
}

std::vector<HttpMessage> HttpParser::feed(std::span<const uint8_t> kept, uint64_t size,
                                          uint64_t tag) {
  std::vector<HttpMessage> out;
  tag_ = tag;
  size = std::max<uint64_t>(size, kept.size());
  size_t at = 0;
  while (at < kept.size() && state_ == State::Decoding) at += step(kept.subspan(at), out);
  if (state_ != State::Decoding) {
    ignored_ += kept.size() - at;
    at = kept.size();
  }
  if (size > kept.size()) gap(size - kept.size(), out);
  return out;
}

std::vector<HttpMessage> HttpParser::end_of_stream(uint64_t tag) {
  std::vector<HttpMessage> out;
  tag_ = tag;
  if (state_ != State::Decoding) return out;
  if (phase_ == Phase::Close) {
    complete(out);
  } else if (phase_ != Phase::Idle) {
    fail(HttpEnd::Truncated,
         std::string("the stream ended inside the ") +
             phase_text(detail::start_line_done(start_part_), static_cast<int>(phase_)),
         State::Ended, out);
  }
  state_ = State::Ended;
  return out;
}

size_t HttpParser::step(std::span<const uint8_t> in, std::vector<HttpMessage>& out) {
  switch (phase_) {
    case Phase::Idle: {
      // Empty lines between messages are allowed (RFC 9112 §2.2).
      size_t n = 0;
      while (n < in.size() && (in[n] == '\r' || in[n] == '\n')) ++n;
      if (n == 0) begin_message();
      return n;
    }
    case Phase::Head:
      return head(in, out);
    case Phase::Body:
    case Phase::ChunkData:
    case Phase::Close:
      return body_bytes(in.size(), true, out);
    case Phase::ChunkLine:
      return chunk_line(in, out);
    case Phase::ChunkEnd:
      return chunk_end(in, out);
    case Phase::Trailers:
      return trailers(in, out);
  }
  return in.size();
}

void HttpParser::begin_message() {
  msg_ = HttpMessage{};
  msg_.request = direction_ == Direction::Request;
  msg_.index = messages_++;
  msg_.start_tag = tag_;
  phase_ = Phase::Head;
  buf_.clear();
  line_state_ = 0;
  start_part_ = 0;
  start_count_ = 0;
}

size_t HttpParser::head(std::span<const uint8_t> in, std::vector<HttpMessage>& out) {
  const bool request = direction_ == Direction::Request;
  size_t n = 0;
  bool end = false, bad = false;
  for (; n < in.size() && !end; ++n) {
    if (!detail::start_line_done(start_part_) &&
        !detail::start_line_byte(request, in[n], start_part_, start_count_)) {
      bad = true;
      break;
    }
    end = detail::block_end_byte(in[n], line_state_);
  }
  if (buf_.size() + n > detail::kMaxHttpHeadBytes) {
    fail(HttpEnd::Malformed, "header block larger than 64 KiB", State::Malformed, out);
    return n;
  }
  buf_.append(detail::as_text(in.first(n)));
  msg_.header_size += n;
  if (bad) {
    if (tunnel_pending_) {  // the peer agreed to switch protocols: this is the new one
      ignored_ += buf_.size();
      msg_ = HttpMessage{};
      phase_ = Phase::Idle;
      state_ = State::Tunnel;
      return n;
    }
    std::string shown = buf_.substr(0, 24);
    if (shown.size() < 24) shown += static_cast<char>(in[n]);
    std::string what = "not an HTTP/1.x start line: \"";
    detail::append_escaped(what, detail::as_bytes(shown));
    fail(HttpEnd::Malformed, what + "\"", State::Malformed, out);
    return n;
  }
  if (detail::start_line_done(start_part_)) tunnel_pending_ = false;
  if (end) headers_done(out);
  return n;
}

void HttpParser::headers_done(std::vector<HttpMessage>& out) {
  msg_.headers_tag = tag_;
  std::string problem = detail::parse_http_head(buf_, msg_);
  buf_.clear();
  if (problem.empty()) problem = msg_.request ? frame_request() : frame_response();
  if (!problem.empty()) {
    fail(HttpEnd::Malformed, problem, State::Malformed, out);
    return;
  }
  msg_.headers_complete = true;
  switch (msg_.framing) {
    case HttpFraming::None:
      complete(out);
      break;
    case HttpFraming::ContentLength:
      remaining_ = msg_.content_length;
      phase_ = Phase::Body;
      if (remaining_ == 0) complete(out);
      break;
    case HttpFraming::Chunked:
      phase_ = Phase::ChunkLine;
      break;
    case HttpFraming::UntilClose:
      phase_ = Phase::Close;
      break;
  }
}

std::string HttpParser::frame_request() {
  if (msg_.method == "CONNECT") {
    msg_.upgrade = true;
    return {};
  }
  msg_.upgrade = detail::has_token(msg_.headers, "Connection", "upgrade") && msg_.header("Upgrade");
  return frame_body(false);
}

std::string HttpParser::frame_response() {
  const uint16_t s = msg_.status;
  const uint64_t k = finals_;
  msg_.request_index = k;
  if (k >= methods_base_ && k - methods_base_ < methods_.size())
    msg_.request_method = methods_[k - methods_base_];
  if (s < 200) {  // informational: the final response to the same request follows
    msg_.upgrade = s == 101;
    return {};
  }
  ++finals_;
  while (!methods_.empty() && methods_base_ < finals_) {
    methods_.pop_front();
    ++methods_base_;
  }
  if (msg_.request_method == "HEAD" || s == 204 || s == 304) return {};
  if (msg_.request_method == "CONNECT" && s < 300) {
    msg_.upgrade = true;
    return {};
  }
  return frame_body(true);
}

std::string HttpParser::frame_body(bool response) {
  switch (detail::transfer_encoding(msg_.headers)) {
    case 1:
      msg_.framing = HttpFraming::Chunked;
      return {};
    case 2:  // RFC 9112 §6.3: a response reads until close, a request is an error
      if (!response) return "Transfer-Encoding without chunked last";
      msg_.framing = HttpFraming::UntilClose;
      return {};
    default:
      break;
  }
  bool present = false;
  const auto length = detail::content_length(msg_.headers, present);
  if (present && !length) return "a bad Content-Length";
  if (length) {
    msg_.framing = HttpFraming::ContentLength;
    msg_.content_length = *length;
  } else if (response) {
    msg_.framing = HttpFraming::UntilClose;
  }
  return {};
}

size_t HttpParser::body_bytes(uint64_t available, bool captured, std::vector<HttpMessage>& out) {
  const uint64_t take = phase_ == Phase::Close ? available : std::min(available, remaining_);
  if (phase_ != Phase::Close) remaining_ -= take;
  msg_.body_size += take;
  msg_.body_wire_size += take;
  if (!captured) msg_.body_uncaptured += take;
  if (remaining_ == 0 && phase_ == Phase::Body) complete(out);
  if (remaining_ == 0 && phase_ == Phase::ChunkData) {
    phase_ = Phase::ChunkEnd;
    buf_.clear();
  }
  return static_cast<size_t>(take);
}

size_t HttpParser::chunk_line(std::span<const uint8_t> in, std::vector<HttpMessage>& out) {
  const auto lf = std::find(in.begin(), in.end(), uint8_t{'\n'});
  const size_t n = static_cast<size_t>(lf - in.begin()) + (lf != in.end());
  msg_.body_wire_size += n;
  if (buf_.size() + n > kMaxChunkLine) {
    fail(HttpEnd::Malformed, "chunk size line longer than 4 KiB", State::Malformed, out);
    return n;
  }
  buf_.append(detail::as_text(in.first(n)));
  if (lf == in.end()) return n;
  std::string_view line = buf_;
  line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  uint64_t size = 0;
  size_t digits = 0;
  bool too_big = false;
  for (; digits < line.size() && !too_big; ++digits) {
    const char c = line[digits];
    const int v = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
    if (v < 0) break;
    too_big = (size >> 58) != 0;  // over 2^62 bytes
    size = size << 4 | static_cast<uint64_t>(v);
  }
  std::string_view rest = line.substr(digits);
  while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
  if (digits == 0 || too_big || (!rest.empty() && rest.front() != ';')) {
    fail(HttpEnd::Malformed, "a bad chunk size line", State::Malformed, out);
    return n;
  }
  buf_.clear();
  if (size == 0) {
    phase_ = Phase::Trailers;
    line_state_ = 1;  // just after a line's end: an empty line ends the trailers
  } else {
    remaining_ = size;
    phase_ = Phase::ChunkData;
  }
  return n;
}

size_t HttpParser::chunk_end(std::span<const uint8_t> in, std::vector<HttpMessage>& out) {
  const uint8_t c = in[0];
  msg_.body_wire_size += 1;
  if (c == '\r' && buf_.empty()) {
    buf_.assign(1, '\r');
    return 1;
  }
  if (c != '\n') {
    fail(HttpEnd::Malformed, "chunk data not followed by a line end", State::Malformed, out);
    return 1;
  }
  buf_.clear();
  phase_ = Phase::ChunkLine;
  return 1;
}

size_t HttpParser::trailers(std::span<const uint8_t> in, std::vector<HttpMessage>& out) {
  size_t n = 0;
  bool end = false;
  while (n < in.size() && !end) end = detail::block_end_byte(in[n++], line_state_);
  msg_.body_wire_size += n;
  if (buf_.size() + n > detail::kMaxHttpHeadBytes) {
    fail(HttpEnd::Malformed, "trailers larger than 64 KiB", State::Malformed, out);
    return n;
  }
  buf_.append(detail::as_text(in.first(n)));
  if (!end) return n;
  std::string problem = detail::parse_header_lines(buf_, msg_.trailers);
  buf_.clear();
  if (!problem.empty())
    fail(HttpEnd::Malformed, problem, State::Malformed, out);
  else
    complete(out);
  return n;
}

void HttpParser::gap(uint64_t size, std::vector<HttpMessage>& out) {
  if (state_ == State::Decoding && phase_ == Phase::Close) {
    body_bytes(size, false, out);
    return;
  }
  if (state_ == State::Decoding && (phase_ == Phase::Body || phase_ == Phase::ChunkData))
    size -= body_bytes(std::min(size, remaining_), false, out);
  if (size == 0) return;
  if (state_ != State::Decoding) {
    ignored_ += size;
    return;
  }
  if (phase_ == Phase::Idle) {
    if (tunnel_pending_) {
      state_ = State::Tunnel;
      ignored_ += size;
      return;
    }
    begin_message();
    fail(HttpEnd::Truncated, "began in bytes that were not captured", State::LostSync, out);
  } else {
    // A header block cut by the snap length: keep what was captured — the start line and the
    // header lines that ended before the cut — so that the message still says what it was.
    if (phase_ == Phase::Head && detail::start_line_done(start_part_)) {
      const size_t last = buf_.rfind('\n');
      if (last != std::string::npos) {
        HttpMessage partial = msg_;
        partial.headers.clear();
        detail::parse_http_head(std::string_view(buf_).substr(0, last + 1), partial);
        msg_.method = std::move(partial.method);
        msg_.target = std::move(partial.target);
        msg_.status = partial.status;
        msg_.reason = std::move(partial.reason);
        msg_.version_major = partial.version_major;
        msg_.version_minor = partial.version_minor;
        msg_.headers = std::move(partial.headers);
      }
    }
    fail(HttpEnd::Truncated,
         std::string("bytes not captured inside the ") +
             phase_text(detail::start_line_done(start_part_), static_cast<int>(phase_)),
         State::LostSync, out);
  }
  ignored_ += size;
}

void HttpParser::complete(std::vector<HttpMessage>& out) {
  msg_.end = HttpEnd::Complete;
  msg_.end_tag = tag_;
  if (msg_.upgrade) {
    if (msg_.request)
      tunnel_pending_ = true;
    else
      state_ = State::Tunnel;
  }
  out.push_back(std::move(msg_));
  msg_ = HttpMessage{};
  phase_ = Phase::Idle;
}

void HttpParser::fail(HttpEnd end, std::string problem, State next, std::vector<HttpMessage>& out) {
  msg_.end = end;
  msg_.problem = std::move(problem);
  msg_.end_tag = tag_;
  out.push_back(std::move(msg_));
  msg_ = HttpMessage{};
  phase_ = Phase::Idle;
  state_ = next;
  buf_.clear();
}

std::string end_text(const HttpMessage& m) {
  switch (m.end) {
    case HttpEnd::Complete: return "complete";
    case HttpEnd::Truncated: return "cut: " + m.problem;
    case HttpEnd::Malformed: return "malformed: " + m.problem;
  }
  return "?";
}

}  // namespace ws::decode
