// The live view's server on Boost.Beast (HTTP) and Boost.Asio (sockets), header-only from
// Debian's libboost-dev, the same code on Linux and Windows (live_server.h says what it
// promises). One thread runs every connection; a page's event stream looks for news every
// 100 ms (parts at most ten a second) and never waits on the recording. Older calls (`/calls`)
// are read by a ScanPool's threads, their answers handed back to this one.
#include <chrono>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <fmt/format.h>

#include "live_server.h"
#include "report_html.h"
#include "request_rules.h"
#include "scan_pool.h"
#include "server_platform.h"

namespace ws::ui {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Response = http::response<http::string_body>;
using namespace std::chrono_literals;

// 32 random bytes as hex; empty when the system gives none.
std::string random_token() {
  unsigned char bytes[32];
  if (!random_bytes(bytes, sizeof bytes)) return {};
  std::string hex;
  for (unsigned char b : bytes) hex += fmt::format("{:02x}", b);
  return hex;
}

// A request as the routes read it.
struct Request {
  const http::request<http::string_body>& msg;
  std::string param(std::string_view name) const { return query_param(msg.target(), name); }
};

// What a route answers: a whole response, the head of the event stream that follows from
// `events` (the cursor of what the page has), or the head of a response whose body a scan of
// page `page` gives later, off the server's thread (`scan`).
struct Answer {
  Response res;
  std::optional<report::FeedCursor> events;
  ScanPool::Work scan = {};
  std::string page = {};
};

struct Route {
  http::verb method;
  std::string_view path;
  std::function<Answer(const Request&)> answer;
};

class BeastServer;

// One connection: requests one after another (keep-alive), or the event stream to its end.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(BeastServer& server, tcp::socket socket)
      : server_(server), stream_(std::move(socket)), timer_(stream_.get_executor()) {}
  void read_request();

 private:
  void on_request(beast::error_code ec);
  void scan(Answer a);
  void send(Response res);
  void start_events(Response head, report::FeedCursor at);
  void look_for_news();
  void send_chunk(std::string text);
  void later(std::chrono::milliseconds wait);

  static constexpr auto kIdle = 30s;  // a client that neither asks nor reads is let go
  BeastServer& server_;
  beast::tcp_stream stream_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Response res_;  // (outlive their writes)
  std::string chunk_;
  std::optional<http::response<http::empty_body>> head_;
  std::optional<http::response_serializer<http::empty_body>> head_writer_;
  report::FeedCursor at_;
  int quiet_ticks_ = 0;  // 100 ms looks that found nothing new
};

class BeastServer final : public LiveServer {
 public:
  BeastServer(report::LiveFeed& feed, ServeOptions opt, std::string token)
      : feed_(feed), opt_(std::move(opt)), token_(std::move(token)) {}
  ~BeastServer() override { stop(); }

  Status start() {
    beast::error_code ec;
    acceptor_ = std::make_unique<tcp::acceptor>(*io_);
    // Wildcard or IPv6 binds are never made: loopback IPv4 only.
    const tcp::endpoint at(net::ip::address_v4::loopback(), opt_.port);
    acceptor_->open(at.protocol(), ec);
    if (!ec && !listen_alone(static_cast<uintptr_t>(acceptor_->native_handle())))
      ec = net::error::access_denied;
    if (!ec) acceptor_->bind(at, ec);
    if (!ec) acceptor_->listen(net::socket_base::max_listen_connections, ec);
    if (ec)
      return Status::error(fmt::format("cannot listen on 127.0.0.1:{} for the live view: {}{}",
                                       opt_.port, ec.message(),
                                       opt_.port ? " (in use? try another --ui-port)" : ""));
    port_ = acceptor_->local_endpoint().port();
    cookie_ = fmt::format("wstrace_token_{}", port_);
    url_ = fmt::format("http://127.0.0.1:{}/?token={}", port_, token_);
    routes_ = routes();
    accept();
    // (connections wait in the listening socket's backlog until the thread accepts them)
    thread_ = quiet_thread([this] { io_->run(); });
    return Status();
  }

  const std::string& url() const override { return url_; }

  void stop() override {
    if (!io_) return;
    scans_.stop();  // (their answers, posted to the connections, are dropped with them)
    io_->stop();
    if (thread_.joinable()) thread_.join();
    acceptor_.reset();
    io_.reset();  // (closes every connection: open event streams end)
  }

  // The answer to `req`, checked and routed.
  Answer answer(const http::request<http::string_body>& req) {
    Answer a = checked_answer(req);
    harden(a.res);
    a.res.version(req.version());
    a.res.keep_alive(req.keep_alive());
    return a;
  }

  report::LiveFeed& feed() { return feed_; }
  ScanPool& scans() { return scans_; }
  static constexpr size_t kPartCalls = 20000;
  // Older calls are read by at most two threads at once, with at most 4 more scans waiting.
  static constexpr size_t kScanThreads = 2, kScansWaiting = 4;

 private:
  // Every route of the server, in one place. Each is behind allowed(): token and Host checked.
  std::vector<Route> routes() {
    return {
        {http::verb::get, "/", [this](const Request&) { return page(); }},
        {http::verb::get, "/events", [this](const Request& r) { return events(r); }},
        {http::verb::post, "/control", [this](const Request& r) { return control(r); }},
        {http::verb::get, "/calls", [this](const Request& r) { return calls(r); }},
    };
  }

  Answer checked_answer(const http::request<http::string_body>& req) {
    const Request r{req};
    if (std::optional<Answer> refused = refusal(r)) return std::move(*refused);
    const std::string_view path = target_path(req.target());
    bool path_known = false;
    for (const Route& route : routes_) {
      if (route.path != path) continue;
      if (route.method == req.method()) return route.answer(r);
      path_known = true;
    }
    return path_known ? refuse(http::status::method_not_allowed, "method not allowed")
                      : refuse(http::status::not_found, "no such page");
  }

  // Refuses what is not from a page of this server: a Host other than the loopback address and
  // port (DNS rebinding), a missing or wrong token. Every request, the event stream too.
  std::optional<Answer> refusal(const Request& r) {
    const std::string_view host = r.msg[http::field::host];
    if (!loopback_host(host, port_))
      return refuse(http::status::forbidden,
                    fmt::format("wrong Host header: the live view answers only to 127.0.0.1:{}",
                                port_));
    std::string given = r.param("token");
    if (given.empty()) given = cookie_value(r.msg[http::field::cookie], cookie_);
    if (!same_secret(given, token_))
      return refuse(http::status::forbidden, "wrong or missing token: open the URL wstrace printed");
    // A page of another origin may send a request here (it cannot read the answer, it has no
    // token); refused all the same when the browser names it.
    if (!own_origin(r.msg[http::field::origin], host))
      return refuse(http::status::forbidden, "cross-origin request refused");
    return std::nullopt;
  }

  static Answer refuse(http::status status, const std::string& why) {
    return {text(status, "wstrace: " + why + "\n", "text/plain; charset=utf-8"), std::nullopt};
  }

  static Response text(http::status status, std::string body, std::string_view type) {
    Response res(status, 11);
    res.set(http::field::content_type, type);
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
  }

  // What every answer carries: no framing, no caching, no referrer (the URL holds the token).
  static void harden(Response& res) {
    res.set(http::field::x_frame_options, "DENY");
    res.set("X-Content-Type-Options", "nosniff");
    res.set("Referrer-Policy", "no-referrer");
    res.set(http::field::cache_control, "no-store");
  }

  // The report's page with what the feed has (the calls come by the event stream), and the
  // token as a cookie for the requests the page makes.
  Answer page() {
    report::FeedCursor at;
    const std::string json = feed_.next_part(at, 0, true);
    Response res = text(http::status::ok, report::report_page(json, true),
                        "text/html; charset=utf-8");
    res.set("Content-Security-Policy",
            std::string(report::page_csp(true)) + "; frame-ancestors 'none'");
    res.set(http::field::set_cookie,
            fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict", cookie_, token_));
    return {std::move(res), std::nullopt};
  }

  // Server-Sent Events from the cursor the page names (what it has).
  Answer events(const Request& r) {
    report::FeedCursor at;
    if (!at.parse(r.param("at"))) return refuse(http::status::bad_request, "bad cursor");
    at.version = UINT64_MAX;  // (something is new to it: at least the state as it is)
    Response head(http::status::ok, 11);
    head.set(http::field::content_type, "text/event-stream");
    return {std::move(head), at};
  }

  // Playback's controls (`wstrace ui`): the only request that changes anything, and only the
  // playback's pace, never the trace.
  Answer control(const Request& r) {
    if (!opt_.control) return refuse(http::status::not_found, "no playback to control");
    return {text(http::status::ok, opt_.control(r.param("op"), r.param("value")),
                 "application/json"),
            std::nullopt};
  }

  // The calls a page no longer holds, read again from the trace (older_calls.h) by the scan
  // pool; the page's key (`page=`) cancels its earlier scan.
  Answer calls(const Request& r) {
    if (!opt_.calls) return refuse(http::status::not_found, "no trace to read older calls from");
    const std::string_view target = r.msg.target();
    const size_t q = target.find('?');
    std::string query = q == std::string_view::npos ? "" : std::string(target.substr(q + 1));
    Answer a{text(http::status::ok, "", "application/json"), std::nullopt, {}, r.param("page")};
    a.scan = [calls = opt_.calls, query = std::move(query)](const std::atomic<bool>& cancelled) {
      return calls(query, cancelled);
    };
    return a;
  }

  void accept() {
    acceptor_->async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted) return;
      if (!ec) std::make_shared<Connection>(*this, std::move(socket))->read_request();
      accept();
    });
  }

  report::LiveFeed& feed_;
  ServeOptions opt_;
  std::string token_, cookie_, url_;
  uint16_t port_ = 0;
  std::vector<Route> routes_;
  ScanPool scans_{opt_.calls ? kScanThreads : 0, kScansWaiting};
  std::unique_ptr<net::io_context> io_ = std::make_unique<net::io_context>(1);
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::thread thread_;
};

void Connection::read_request() {
  parser_.emplace();
  parser_->body_limit(64 * 1024);  // (no route takes a body)
  stream_.expires_after(kIdle);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, size_t) {
                     self->on_request(ec);
                   });
}

void Connection::on_request(beast::error_code ec) {
  if (ec) return;  // closed, timed out or not HTTP: the connection ends
  Answer a = server_.answer(parser_->get());
  if (a.events) return start_events(std::move(a.res), *a.events);
  if (a.scan) return scan(std::move(a));
  send(std::move(a.res));
}

// The answer's body from a scan on the pool's threads, sent from this thread when it is read
// (this connection waits for it, the others go on); refused at once when the pool is full.
void Connection::scan(Answer a) {
  res_ = std::move(a.res);
  auto done = [self = shared_from_this()](std::string body) {
    net::post(self->stream_.get_executor(), [self, body = std::move(body)]() mutable {
      self->res_.body() = std::move(body);
      self->res_.prepare_payload();
      self->send(std::move(self->res_));
    });
  };
  if (server_.scans().submit(a.page, std::move(a.scan), std::move(done))) return;
  res_.result(http::status::service_unavailable);
  res_.body() = "{\"error\":\"busy: too many older calls being read; ask again\"}";
  res_.prepare_payload();
  send(std::move(res_));
}

void Connection::send(Response res) {
  res_ = std::move(res);
  stream_.expires_after(kIdle);
  http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code ec, size_t) {
    if (ec) return;
    if (self->res_.keep_alive()) return self->read_request();
    beast::error_code ignored;
    self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  });
}

void Connection::start_events(Response head, report::FeedCursor at) {
  at_ = at;
  head_.emplace(std::move(head.base()));
  head_->chunked(true);
  head_writer_.emplace(*head_);
  stream_.expires_after(kIdle);
  http::async_write_header(stream_, *head_writer_,
                           [self = shared_from_this()](beast::error_code ec, size_t) {
                             if (!ec) self->look_for_news();
                           });
}

// A part of the feed when there is news for the page, a comment every 10 s when there is none
// (which finds pages that went away); looks again 100 ms later.
void Connection::look_for_news() {
  report::LiveFeed& feed = server_.feed();
  if (feed.wait_news(at_, 0ms)) {
    quiet_ticks_ = 0;
    return send_chunk("data: " + feed.next_part(at_, BeastServer::kPartCalls, false) + "\n\n");
  }
  if (++quiet_ticks_ >= 100) {
    quiet_ticks_ = 0;
    return send_chunk(": still here\n\n");
  }
  later(100ms);
}

void Connection::send_chunk(std::string text) {
  chunk_ = std::move(text);
  stream_.expires_after(kIdle);
  net::async_write(stream_, http::make_chunk(net::buffer(chunk_)),
                   [self = shared_from_this()](beast::error_code ec, size_t) {
                     if (!ec) self->later(100ms);  // (parts at most ten a second)
                   });
}

void Connection::later(std::chrono::milliseconds wait) {
  stream_.expires_never();
  timer_.expires_after(wait);
  timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
    if (!ec) self->look_for_news();
  });
}

}  // namespace

Result<std::unique_ptr<LiveServer>> start_live_server(report::LiveFeed& feed,
                                                      const ServeOptions& options) {
  std::string token = random_token();
  if (token.empty()) return Status::error("cannot draw a random token for the live view");
  auto server = std::make_unique<BeastServer>(feed, options, std::move(token));
  if (Status s = server->start(); !s.ok()) return s;
  return std::unique_ptr<LiveServer>(std::move(server));
}

}  // namespace ws::ui
