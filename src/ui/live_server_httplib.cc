// The live view's server on Debian's cpp-httplib (live_server.h says what it promises).
#include <pthread.h>
#include <signal.h>
#include <sys/random.h>

#include <atomic>
#include <thread>

#include <fmt/format.h>
#include <httplib.h>

#include "live_server.h"
#include "report_html.h"

namespace ws::ui {
namespace {

// 32 random bytes from the kernel's CSPRNG, as hex; empty when it cannot give them.
std::string random_token() {
  unsigned char bytes[32];
  size_t got = 0;
  while (got < sizeof bytes) {
    const ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n <= 0) return {};
    got += static_cast<size_t>(n);
  }
  std::string hex;
  for (unsigned char b : bytes) hex += fmt::format("{:02x}", b);
  return hex;
}

// The value of cookie `name` in a Cookie header; empty when absent.
std::string cookie_value(const std::string& header, const std::string& name) {
  size_t at = 0;
  while (at < header.size()) {
    while (at < header.size() && (header[at] == ' ' || header[at] == ';')) ++at;
    const size_t end = std::min(header.find(';', at), header.size());
    const std::string pair = header.substr(at, end - at);
    if (pair.size() > name.size() && pair.compare(0, name.size(), name) == 0 &&
        pair[name.size()] == '=')
      return pair.substr(name.size() + 1);
    at = end;
  }
  return {};
}

class HttplibServer final : public LiveServer {
 public:
  HttplibServer(report::LiveFeed& feed, ServeOptions opt, std::string token)
      : feed_(feed), opt_(std::move(opt)), token_(std::move(token)) {}
  ~HttplibServer() override { stop(); }

  Status start() {
    // Wildcard or IPv6 binds are never made: loopback IPv4 only.
    const int port = opt_.port ? (server_.bind_to_port("127.0.0.1", opt_.port) ? opt_.port : -1)
                               : server_.bind_to_any_port("127.0.0.1");
    if (port <= 0)
      return Status::error(fmt::format("cannot listen on 127.0.0.1:{} for the live view{}",
                                       opt_.port, opt_.port ? " (in use? try another --ui-port)"
                                                            : ""));
    port_ = port;
    cookie_ = fmt::format("wstrace_token_{}", port_);
    url_ = fmt::format("http://127.0.0.1:{}/?token={}", port_, token_);
    routes();
    // The server's threads take no signals: Ctrl+C stays with wstrace's main thread.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    // (connections wait in the listening socket's backlog until the thread accepts them)
    return Status();
  }

  const std::string& url() const override { return url_; }

  void stop() override {
    stopping_ = true;
    feed_.notify();
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  // Refuses what is not from a page of this server: a Host other than the loopback address and
  // port (DNS rebinding), a missing or wrong token. Every request, the event stream too.
  bool allowed(const httplib::Request& req, httplib::Response& res) {
    const std::string host = req.get_header_value("Host");
    const std::string p = fmt::format(":{}", port_);
    if (host != "127.0.0.1" + p && host != "localhost" + p && host != "[::1]" + p) {
      refuse(res, 403, "wrong Host header: the live view answers only to 127.0.0.1" + p);
      return false;
    }
    std::string given = req.get_param_value("token");
    if (given.empty()) given = cookie_value(req.get_header_value("Cookie"), cookie_);
    if (!same_secret(given, token_)) {
      refuse(res, 403, "wrong or missing token: open the URL wstrace printed");
      return false;
    }
    // A page of another origin may send a request here (it cannot read the answer, it has no
    // token); refused all the same when the browser names it.
    const std::string origin = req.get_header_value("Origin");
    if (!origin.empty() && origin != "http://" + host) {
      refuse(res, 403, "cross-origin request refused");
      return false;
    }
    return true;
  }

  static void refuse(httplib::Response& res, int status, const std::string& why) {
    res.status = status;
    res.set_content("wstrace: " + why + "\n", "text/plain; charset=utf-8");
  }

  // What every answer carries: no framing, no caching, no referrer (the URL holds the token).
  static void harden(httplib::Response& res) {
    res.set_header("X-Frame-Options", "DENY");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    res.set_header("Cache-Control", "no-store");
  }

  void routes() {
    server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      harden(res);
      return allowed(req, res) ? httplib::Server::HandlerResponse::Unhandled
                               : httplib::Server::HandlerResponse::Handled;
    });
    server_.Get("/", [this](const httplib::Request&, httplib::Response& res) { page(res); });
    server_.Get("/events", [this](const httplib::Request& req, httplib::Response& res) {
      events(req, res);
    });
    server_.Post("/control", [this](const httplib::Request& req, httplib::Response& res) {
      if (!opt_.control) return refuse(res, 404, "no playback to control");
      res.set_content(opt_.control(req.get_param_value("op"), req.get_param_value("value")),
                      "application/json");
    });
    server_.Get("/calls", [this](const httplib::Request& req, httplib::Response& res) {
      if (!opt_.calls) return refuse(res, 404, "no trace to read older calls from");
      const size_t q = req.target.find('?');
      res.set_content(opt_.calls(q == std::string::npos ? "" : req.target.substr(q + 1)),
                      "application/json");
    });
  }

  // The report's page with what the feed has (the calls come by the event stream), and the
  // token as a cookie for the requests the page makes.
  void page(httplib::Response& res) {
    report::FeedCursor at;
    const std::string json = feed_.next_part(at, 0, true);
    res.set_header("Content-Security-Policy",
                   std::string(report::page_csp(true)) + "; frame-ancestors 'none'");
    res.set_header("Set-Cookie", fmt::format("{}={}; Path=/; HttpOnly; SameSite=Strict", cookie_,
                                             token_));
    res.set_content(report::report_page(json, true), "text/html; charset=utf-8");
  }

  // Server-Sent Events: a part of the feed as each comes, from the cursor the page names (what
  // it has), never waiting on the recording.
  void events(const httplib::Request& req, httplib::Response& res) {
    auto at = std::make_shared<report::FeedCursor>();
    if (!at->parse(req.get_param_value("at"))) return refuse(res, 400, "bad cursor");
    at->version = UINT64_MAX;  // (something is new to it: at least the state as it is)
    res.set_chunked_content_provider(
        "text/event-stream", [this, at](size_t, httplib::DataSink& sink) {
          if (stopping_) return false;
          if (!feed_.wait_news(*at, std::chrono::seconds(10))) {
            const std::string ping = ": still here\n\n";  // (finds pages that went away)
            return sink.write(ping.data(), ping.size());
          }
          const std::string part = "data: " + feed_.next_part(*at, kPartCalls, false) + "\n\n";
          if (!sink.write(part.data(), part.size())) return false;
          // Parts at most ten a second: what comes meanwhile goes with the next one.
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          return !stopping_.load();
        });
  }

  static constexpr size_t kPartCalls = 20000;
  report::LiveFeed& feed_;
  ServeOptions opt_;
  std::string token_, cookie_, url_;
  int port_ = 0;
  httplib::Server server_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
};

}  // namespace

std::string no_live_view() { return {}; }

Result<std::unique_ptr<LiveServer>> start_live_server(report::LiveFeed& feed,
                                                      const ServeOptions& options) {
  std::string token = random_token();
  if (token.empty()) return Status::error("cannot draw a random token for the live view");
  auto server = std::make_unique<HttplibServer>(feed, options, std::move(token));
  if (Status s = server->start(); !s.ok()) return s;
  return std::unique_ptr<LiveServer>(std::move(server));
}

}  // namespace ws::ui
