#include "http_watch.h"

#include <algorithm>

namespace ws::inspect {

struct HttpWatcher::Conn {
  enum class Kind : uint8_t { Unknown, Http, Tls, Other };
  Kind kind = Kind::Unknown;
  uint64_t id = 0;
  uint32_t pid = 0;
  std::string host;
  bool matched = false;      // the connection's Connection::matched, as of its last call
  // HTTP
  bool requests_out = true;  // requests go out: a traced client (in: a traced server)
  std::unique_ptr<decode::HttpParser> req, resp;
  std::deque<HttpExchange> waiting;
  // TLS: [0] the client's first bytes, [1] the server's
  bool client_out = true;
  std::string hello[2];
  bool hello_done[2] = {false, false};
  TlsInfo tls;
};

namespace {

std::span<const uint8_t> kept_of(const Value& v) { return {v.data, v.size}; }

bool is_stream(const Connection& c) {
  return c.type == socktype::kStream || c.proto == proto::kTcp;
}

}  // namespace

HttpWatcher::HttpWatcher(Tracker& tracker) : tracker_(tracker) {}
HttpWatcher::~HttpWatcher() = default;

void HttpWatcher::observe(const Event& ev) {
  last_ts_ = std::max(last_ts_, ev.ts + static_cast<int64_t>(ev.dur));
  const Connection* c = tracker_.connection();
  if (c == nullptr || !is_stream(*c)) return;
  if (auto known = conns_.find(c->id); known != conns_.end()) known->second->matched = c->matched;
  const EventType t = ev.type();
  if (t == EventType::close) {
    auto it = conns_.find(c->id);
    if (it == conns_.end()) return;
    close(*it->second, ev.ts + static_cast<int64_t>(ev.dur));
    conns_.erase(it);
    return;
  }
  const Value* payload = ev.get(FieldId::payload);
  bool out = false;
  uint64_t size = 0;
  const bool ok = ev.error.ok();
  if (t == EventType::recv && ok && ev.result > 0 && bytes_moved(ev, size) && size == 0)
    return;  // a peek (MSG_PEEK): the receive that takes the bytes decodes them
  if (t == EventType::send && payload != nullptr && (ok || ev.get(FieldId::op) != nullptr)) {
    out = true;
    size = ok && ev.result >= 0 && ev.get(FieldId::op) == nullptr
               ? static_cast<uint64_t>(ev.result) : payload->num;
  } else if (t == EventType::recv && ok && ev.result > 0) {
    size = static_cast<uint64_t>(ev.result);
  } else if (t == EventType::io_complete && ok && tracker_.direction() == Tracker::Dir::In &&
             ev.result > 0) {
    size = static_cast<uint64_t>(ev.result);
  } else if (t == EventType::recv && ok && ev.result == 0) {
    // End of stream from the peer: the inbound direction is over.
    auto it = conns_.find(c->id);
    if (it == conns_.end() || it->second->kind != Conn::Kind::Http) return;
    Conn& s = *it->second;
    const int64_t tag = ev.ts + static_cast<int64_t>(ev.dur);
    auto& parser = s.requests_out ? s.resp : s.req;
    took(s, parser->end_of_stream(static_cast<uint64_t>(tag)), !s.requests_out);
    return;
  } else {
    return;
  }
  if (size == 0) return;
  auto [it, fresh] = conns_.try_emplace(c->id);
  if (fresh) {
    it->second = std::make_unique<Conn>();
    it->second->id = c->id;
    it->second->pid = c->pid;
    it->second->host = !c->host.empty() ? c->host : c->remote ? to_string(*c->remote) : "";
    it->second->matched = c->matched;
  }
  Value empty;
  feed(*it->second, ev, out, payload ? *payload : empty, size);
}

void HttpWatcher::feed(Conn& s, const Event& ev, bool out, const Value& payload, uint64_t size) {
  const std::span<const uint8_t> kept = kept_of(payload);
  const int64_t tag = ev.ts + static_cast<int64_t>(ev.dur);
  if (s.kind == Conn::Kind::Unknown) {
    if (decode::looks_like_http_request(kept)) {
      s.kind = Conn::Kind::Http;
      s.requests_out = out;
      s.req = std::make_unique<decode::HttpParser>(decode::HttpParser::Direction::Request);
      s.resp = std::make_unique<decode::HttpParser>(decode::HttpParser::Direction::Response);
    } else if (decode::looks_like_tls(kept)) {
      s.kind = Conn::Kind::Tls;
      s.client_out = out;
      s.tls.conn = s.id;
      s.tls.pid = s.pid;
      s.tls.ts = ev.ts;
    } else {
      s.kind = Conn::Kind::Other;
    }
  }
  if (s.kind == Conn::Kind::Http) {
    const bool requests = out == s.requests_out;
    auto& parser = requests ? s.req : s.resp;
    took(s, parser->feed(kept, size, static_cast<uint64_t>(tag)), requests);
    return;
  }
  if (s.kind != Conn::Kind::Tls) return;
  const int side = out == s.client_out ? 0 : 1;
  if (s.hello_done[side]) return;
  std::string& buf = s.hello[side];
  buf.append(reinterpret_cast<const char*>(kept.data()),
             std::min(kept.size(), kMaxHello - std::min(kMaxHello, buf.size())));
  const auto* data = reinterpret_cast<const uint8_t*>(buf.data());
  bool truncated;
  if (side == 0) {
    s.tls.client = decode::parse_tls_client_hello({data, buf.size()});
    truncated = s.tls.client.status == decode::TlsStatus::Truncated;
  } else {
    s.tls.server = decode::parse_tls_server_hello({data, buf.size()});
    s.tls.has_server = true;
    truncated = s.tls.server.status == decode::TlsStatus::Truncated;
  }
  // Done when decoded, or when more bytes cannot help (cut by the snap length, or too many).
  if (!truncated || kept.size() < size || buf.size() >= kMaxHello) {
    s.hello_done[side] = true;
    buf.clear();
    buf.shrink_to_fit();
  }
  if (s.hello_done[0] && s.hello_done[1]) {
    tls(s);
    s.kind = Conn::Kind::Other;
  }
}

void HttpWatcher::took(Conn& s, std::vector<decode::HttpMessage> msgs, bool requests) {
  for (auto& m : msgs) {
    if (requests) {
      s.resp->expect_response_to(m.method);
      HttpExchange x;
      x.conn = s.id;
      x.pid = s.pid;
      x.has_request = true;
      x.request_start = static_cast<int64_t>(m.start_tag);
      x.request_end = static_cast<int64_t>(m.end_tag);
      x.request = std::move(m);
      if (s.waiting.size() >= kMaxWaiting) {
        emit(s, s.waiting.front());
        s.waiting.pop_front();
      }
      s.waiting.push_back(std::move(x));
      continue;
    }
    if (m.status >= 100 && m.status < 200 && m.status != 101) continue;  // interim
    auto it = std::find_if(s.waiting.begin(), s.waiting.end(), [&](const HttpExchange& x) {
      return x.request.index == m.request_index;
    });
    HttpExchange lone;
    HttpExchange& x = it != s.waiting.end() ? *it : lone;
    x.conn = s.id;
    x.pid = s.pid;
    x.has_response = true;
    x.response_start = static_cast<int64_t>(m.start_tag);
    x.response_end = static_cast<int64_t>(m.end_tag);
    x.response = std::move(m);
    emit(s, x);
    if (it != s.waiting.end()) s.waiting.erase(it);
  }
}

void HttpWatcher::emit(Conn& s, HttpExchange& x) {
  if (x.has_request)
    if (auto h = x.request.header("Host")) x.host = std::string(*h);
  if (x.host.empty()) x.host = s.host;
  x.matched = s.matched;
  if (on_exchange) on_exchange(x);
}

void HttpWatcher::tls(Conn& s) {
  s.tls.matched = s.matched;
  if (on_tls) on_tls(s.tls);
}

void HttpWatcher::close(Conn& s, int64_t ts) {
  if (s.kind == Conn::Kind::Http) {
    took(s, s.req->end_of_stream(static_cast<uint64_t>(ts)), true);
    took(s, s.resp->end_of_stream(static_cast<uint64_t>(ts)), false);
    for (auto& x : s.waiting) emit(s, x);  // requests that got no response
    s.waiting.clear();
  } else if (s.kind == Conn::Kind::Tls && s.hello_done[0]) {
    tls(s);
  } else if (s.kind == Conn::Kind::Tls && !s.hello[0].empty()) {
    tls(s);  // what arrived of a ClientHello cut short
  }
  s.kind = Conn::Kind::Other;
}

void HttpWatcher::finish() {
  std::vector<uint64_t> ids;
  for (const auto& [id, s] : conns_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  for (uint64_t id : ids) close(*conns_[id], last_ts_);
  conns_.clear();
}

}  // namespace ws::inspect
