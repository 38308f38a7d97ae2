// Scripted scenarios. They are deterministic to the byte: the same scenario written by the Linux
// build and by the Windows build gives identical trace files, which the tests compare.
#include <algorithm>
#include <charconv>
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "engine.h"
#include "event_builder.h"

namespace ws {
namespace {

constexpr int64_t kMonoBase = 1'000'000'000;              // the scenario's first monotonic ns
constexpr int64_t kWallBase = 1'795'780'800'000'000'000;  // 2026-11-27T12:00:00Z
constexpr int64_t kUs = 1000, kMs = 1000 * kUs;

trace::TraceHeader synthetic_header(const std::string& scenario, Platform p) {
  trace::TraceHeader h;
  h.wstrace_version = "synthetic";
  h.host = "synthetic";
  h.os = p == Platform::Windows ? "Windows (synthetic)" : "Linux (synthetic)";
  h.platform = p;
  h.arch = "x86_64";
  h.command = "synth " + scenario;
  h.snaplen = 64;
  h.wall_anchor_ns = kWallBase;
  h.mono_anchor_ns = kMonoBase;
  return h;
}

// A DNS query for `name` (type A) as it goes on the wire; with `answer`, the response too.
std::string dns_message(uint16_t id, const std::string& name, const uint8_t* answer) {
  std::string m;
  auto u16 = [&](uint16_t v) {
    m.push_back(static_cast<char>(v >> 8));
    m.push_back(static_cast<char>(v & 0xff));
  };
  u16(id);
  u16(answer ? 0x8180 : 0x0100);  // response+RD+RA, or query+RD
  u16(1);
  u16(answer ? 1 : 0);
  u16(0);
  u16(0);
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    m.push_back(static_cast<char>(dot - start));
    m.append(name, start, dot - start);
    start = dot + 1;
  }
  m.push_back('\0');
  u16(1);  // A
  u16(1);  // IN
  if (answer) {
    u16(0xc00c);  // name: pointer to the question
    u16(1);
    u16(1);
    u16(0);
    u16(300);  // TTL
    u16(4);
    m.append(reinterpret_cast<const char*>(answer), 4);
  }
  return m;
}

class Script {
 public:
  explicit Script(Platform p) : p_(p), win_(p == Platform::Windows) {}

  EventBuilder& add(FuncId f, uint32_t tid, int64_t dur) {
    auto& b = *events_.emplace_back(std::make_unique<EventBuilder>());
    b.begin(f, kPid, tid, now_, static_cast<uint64_t>(dur));
    now_ += dur + 40 * kUs;
    return b;
  }
  void wait(int64_t ns) { now_ += ns; }
  // An event at `ns` after now, which stays where it is (what happened during the next call).
  EventBuilder& during(FuncId f, uint32_t tid, int64_t ns) {
    auto& b = *events_.emplace_back(std::make_unique<EventBuilder>());
    b.begin(f, kPid, tid, now_ + ns, 0);
    return b;
  }

  // Error of a failed socket call: the platform's own code, and the result the call returned.
  ErrorCode err(int linux_errno, int wsa) const {
    return win_ ? ErrorCode{ErrDomain::Win, wsa} : ErrorCode{ErrDomain::Errno, linux_errno};
  }
  FuncId fn(FuncId linux_fn, FuncId win_fn) const { return win_ ? win_fn : linux_fn; }
  uint64_t sock(int n) const { return win_ ? 0x100 + 4 * static_cast<uint64_t>(n) : static_cast<uint64_t>(n); }
  int64_t sock_result(int n) const { return static_cast<int64_t>(sock(n)); }

  std::vector<std::unique_ptr<EventBuilder>>& events() { return events_; }
  Platform platform() const { return p_; }
  bool win() const { return win_; }
  static constexpr uint32_t kPid = 4242;

 private:
  Platform p_;
  bool win_;
  int64_t now_ = kMonoBase;
  std::vector<std::unique_ptr<EventBuilder>> events_;
};

void tcp_socket(Script& s, uint32_t tid, int n) {
  s.add(s.fn(FuncId::socket, FuncId::WSASocketW), tid, 12 * kUs)
      .num(FieldId::family, af::kInet)
      .num(FieldId::type, socktype::kStream)
      .num(FieldId::protocol, proto::kTcp)
      .result(s.sock_result(n));
}

void close_socket(Script& s, uint32_t tid, int n) {
  s.add(s.fn(FuncId::close, FuncId::closesocket), tid, 8 * kUs)
      .num(FieldId::sock, s.sock(n))
      .result(0);
}

void build_demo(Script& s) {
  const uint32_t main_tid = Script::kPid, dns_tid = Script::kPid + 1;
  const SockAddr server = SockAddr::ipv4(0x7f000001, 8080);
  s.add(FuncId::process_start, main_tid, 0)
      .num(FieldId::ppid, 1)
      .str(FieldId::image, s.win() ? "C:\\demo\\client.exe" : "/usr/bin/demo-client")
      .str(FieldId::cmdline, s.win() ? "client.exe --server api.example.test"
                                     : "demo-client --server api.example.test")
      .num(FieldId::platform, static_cast<uint64_t>(s.platform()));
  s.add(FuncId::thread_name, main_tid, 0).str(FieldId::name, "main");
  if (s.win()) s.add(FuncId::WSAStartup, main_tid, 300 * kUs).num(FieldId::version, 0x0202).result(0);

  // A lookup that works, then an HTTP exchange.
  std::vector<SockAddr> found = {server, SockAddr::ipv6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 8080)};
  s.add(s.fn(FuncId::getaddrinfo, FuncId::GetAddrInfoW), main_tid, 1200 * kUs)
      .str(FieldId::host, "api.example.test")
      .str(FieldId::service, "8080")
      .num(FieldId::hint_family, af::kUnspec)
      .num(FieldId::hint_type, socktype::kStream)
      .addrs(FieldId::addrs, found)
      .result(0);
  tcp_socket(s, main_tid, 3);
  s.add(FuncId::connect, main_tid, 150 * kUs)
      .num(FieldId::sock, s.sock(3))
      .addr(FieldId::addr, server)
      .result(0);
  std::string request =
      "GET /status HTTP/1.1\r\nHost: api.example.test:8080\r\nUser-Agent: demo/1.0\r\n\r\n";
  s.add(FuncId::send, main_tid, 20 * kUs)
      .num(FieldId::sock, s.sock(3))
      .num(FieldId::len, request.size())
      .payload(request.substr(0, 64), request.size())
      .result(static_cast<int64_t>(request.size()));
  std::string response =
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n";
  s.add(FuncId::recv, main_tid, 2 * kMs)
      .num(FieldId::sock, s.sock(3))
      .num(FieldId::len, 4096)
      .payload(response.substr(0, 64), response.size())
      .result(static_cast<int64_t>(response.size()));
  s.add(FuncId::recv, main_tid, 300 * kUs)
      .num(FieldId::sock, s.sock(3))
      .num(FieldId::len, 4096)
      .result(0);
  close_socket(s, main_tid, 3);

  // Nothing listens on port 9: three refused connects, with back-off.
  const SockAddr discard = SockAddr::ipv4(0x7f000001, 9);
  for (int attempt = 0; attempt < 3; ++attempt) {
    tcp_socket(s, main_tid, 4);
    s.add(FuncId::connect, main_tid, 90 * kUs)
        .num(FieldId::sock, s.sock(4))
        .addr(FieldId::addr, discard)
        .result(-1, s.err(111, 10061));
    close_socket(s, main_tid, 4);
    s.wait((100 << attempt) * kMs);
  }

  // A name that does not resolve.
  auto& failed = s.add(s.fn(FuncId::getaddrinfo, FuncId::GetAddrInfoW), main_tid, 30 * kMs)
                     .str(FieldId::host, "missing.example.test")
                     .str(FieldId::service, "https")
                     .num(FieldId::hint_family, af::kUnspec);
  if (s.win()) failed.result(11001, ErrorCode{ErrDomain::Win, 11001});
  else failed.result(-2, ErrorCode{ErrDomain::Eai, -2});

  // A DNS query over UDP, from a second thread.
  s.add(FuncId::thread_name, dns_tid, 0).str(FieldId::name, "resolver");
  s.add(s.fn(FuncId::socket, FuncId::WSASocketW), dns_tid, 10 * kUs)
      .num(FieldId::family, af::kInet)
      .num(FieldId::type, socktype::kDgram)
      .num(FieldId::protocol, proto::kUdp)
      .result(s.sock_result(5));
  const SockAddr resolver = SockAddr::ipv4(0x7f000001, 53);
  const uint8_t answer_ip[4] = {127, 0, 0, 1};
  std::string query = dns_message(0x2a2a, "api.example.test", nullptr);
  std::string reply = dns_message(0x2a2a, "api.example.test", answer_ip);
  s.add(FuncId::sendto, dns_tid, 25 * kUs)
      .num(FieldId::sock, s.sock(5))
      .num(FieldId::len, query.size())
      .addr(FieldId::addr, resolver)
      .payload(query, query.size())
      .result(static_cast<int64_t>(query.size()));
  s.add(FuncId::recvfrom, dns_tid, 800 * kUs)
      .num(FieldId::sock, s.sock(5))
      .num(FieldId::len, 512)
      .addr(FieldId::peer, resolver)
      .payload(reply.substr(0, 64), reply.size())
      .result(static_cast<int64_t>(reply.size()));
  close_socket(s, dns_tid, 5);

  // A peer that resets the connection after we sent more than it read.
  const SockAddr flaky = SockAddr::ipv4(0x7f000001, 8081);
  tcp_socket(s, main_tid, 6);
  s.add(FuncId::connect, main_tid, 140 * kUs)
      .num(FieldId::sock, s.sock(6))
      .addr(FieldId::addr, flaky)
      .result(0);
  std::string upload(512, 'x');
  s.add(FuncId::send, main_tid, 30 * kUs)
      .num(FieldId::sock, s.sock(6))
      .num(FieldId::len, upload.size())
      .payload(upload.substr(0, 64), upload.size())
      .result(512);
  s.add(FuncId::recv, main_tid, 5 * kMs)
      .num(FieldId::sock, s.sock(6))
      .num(FieldId::len, 4096)
      .result(-1, s.err(104, 10054));
  close_socket(s, main_tid, 6);

  if (s.win()) s.add(FuncId::WSACleanup, main_tid, 50 * kUs).result(0);
  s.add(FuncId::process_exit, main_tid, 0).snum(FieldId::exit_code, 0);
}

class ScriptEngine final : public Engine {
 public:
  ScriptEngine(trace::TraceHeader h, std::unique_ptr<Script> s)
      : header_(std::move(h)), script_(std::move(s)) {}
  const trace::TraceHeader& header() const override { return header_; }
  bool next(Event& ev) override {
    auto& evs = script_->events();
    if (i_ >= evs.size()) return false;
    ev = evs[i_]->event();
    ev.seq = i_++;
    return true;
  }
  const trace::ReadProblem& end() const override { return end_; }

 private:
  trace::TraceHeader header_;
  std::unique_ptr<Script> script_;
  size_t i_ = 0;
  trace::ReadProblem end_;
};

// Payload-less send/recv pairs on eight sockets, generated as they are asked for.
class BenchEngine final : public Engine {
 public:
  BenchEngine(trace::TraceHeader h, uint64_t n) : header_(std::move(h)), n_(n) {}
  const trace::TraceHeader& header() const override { return header_; }
  bool next(Event& ev) override {
    if (i_ >= n_) return false;
    ev = Event{};
    ev.seq = i_;
    ev.pid = 4242;
    ev.tid = 4242 + static_cast<uint32_t>(i_ % 4);
    ev.func = i_ % 2 ? FuncId::recv : FuncId::send;
    ev.ts = kMonoBase + static_cast<int64_t>(i_) * 1500;
    ev.dur = 900 + (i_ * 7919) % 1000;
    ev.result = 100 + static_cast<int64_t>(i_ % 64);
    ev.set_num(FieldId::sock, 3 + i_ % 8);
    ev.set_num(FieldId::len, i_ % 2 ? 4096 : static_cast<uint64_t>(ev.result));
    ++i_;
    return true;
  }
  const trace::ReadProblem& end() const override { return end_; }

 private:
  trace::TraceHeader header_;
  uint64_t n_;
  uint64_t i_ = 0;
  trace::ReadProblem end_;
};

// Connections that come and go: 64 open at any time, each socket, connect, 4 sends and 4
// receives, end-of-stream, close (12 events). Memory of inspection must follow the 64, not N.
// With `ports`, each connection goes to a port of its own (1024 to 65535, round), so that its
// connect and its filter facts are texts no other connection has (as a client's ephemeral
// ports, or a server's peers, make them).
class ChurnEngine final : public Engine {
 public:
  static constexpr uint64_t kLanes = 64, kSteps = 12;
  ChurnEngine(trace::TraceHeader h, uint64_t n, bool ports = false)
      : header_(std::move(h)), n_(n), ports_(ports) {
    for (uint64_t lane = 0; lane < kLanes; ++lane)
      encode_addr(SockAddr::ipv4(0x7f000001, static_cast<uint16_t>(8000 + lane)), addrs_[lane]);
  }
  const trace::TraceHeader& header() const override { return header_; }
  bool next(Event& ev) override {
    if (i_ >= n_) return false;
    const uint64_t lane = i_ % kLanes, step = (i_ / kLanes) % kSteps;
    const uint64_t fd = 3 + lane;
    ev = Event{};
    ev.seq = i_;
    ev.pid = 4242;
    ev.tid = 4242 + static_cast<uint32_t>(lane % 4);
    ev.ts = kMonoBase + static_cast<int64_t>(i_) * 1500;
    ev.dur = 900 + (i_ * 7919) % 1000;
    if (step == 0) {
      ev.func = FuncId::socket;
      ev.result = static_cast<int64_t>(fd);
      ev.set_num(FieldId::family, af::kInet);
      ev.set_num(FieldId::type, socktype::kStream);
      ev.set_num(FieldId::protocol, proto::kTcp);
    } else if (step == 1) {
      ev.func = FuncId::connect;
      ev.set_num(FieldId::sock, fd);
      if (ports_) {
        addrs_[lane].clear();  // (encode_addr appends)
        const uint64_t conn = i_ / (kLanes * kSteps) * kLanes + lane;
        encode_addr(SockAddr::ipv4(0x7f000001, static_cast<uint16_t>(1024 + conn % 64512)),
                    addrs_[lane]);
      }
      const std::string& a = addrs_[lane];
      ev.set(Value{FieldId::addr, 0, reinterpret_cast<const uint8_t*>(a.data()),
                   static_cast<uint32_t>(a.size())});
    } else if (step < kSteps - 2) {
      ev.func = step % 2 ? FuncId::recv : FuncId::send;
      ev.result = step == kSteps - 3 ? 0 : 100 + static_cast<int64_t>(i_ % 64);
      ev.set_num(FieldId::sock, fd);
      ev.set_num(FieldId::len, step % 2 ? 4096 : static_cast<uint64_t>(ev.result));
    } else {
      ev.func = FuncId::close;
      ev.set_num(FieldId::sock, fd);
    }
    ++i_;
    return true;
  }
  const trace::ReadProblem& end() const override { return end_; }

 private:
  trace::TraceHeader header_;
  uint64_t n_;
  bool ports_;
  uint64_t i_ = 0;
  std::string addrs_[kLanes];
  trace::ReadProblem end_;
};

// A download over one TCP connection with every payload byte kept: a request, then `n` bytes
// received 64 KiB a call, the end of the stream, close (the pcapng export benchmark).
class PayloadEngine final : public Engine {
 public:
  static constexpr uint64_t kChunk = 64 << 10;
  PayloadEngine(trace::TraceHeader h, uint64_t n) : header_(std::move(h)), n_(n) {
    header_.snaplen = kChunk;
    chunk_.resize(kChunk);
    for (size_t i = 0; i < chunk_.size(); ++i) chunk_[i] = static_cast<char>('a' + i % 26);
  }
  const trace::TraceHeader& header() const override { return header_; }
  bool next(Event& ev) override {
    const int64_t ts = kMonoBase + static_cast<int64_t>(seq_) * 20 * kUs;
    const uint32_t pid = 4242;
    const uint64_t fd = 3;
    if (received_ < n_ && step_ == 4) {
      const uint64_t len = std::min(kChunk, n_ - received_);
      received_ += len;
      ev = Event{};
      ev.seq = seq_++;
      ev.pid = ev.tid = pid;
      ev.func = FuncId::recv;
      ev.ts = ts;
      ev.dur = 5 * kUs;
      ev.result = static_cast<int64_t>(len);
      ev.set_num(FieldId::sock, fd);
      ev.set_num(FieldId::len, kChunk);
      ev.set(Value{FieldId::payload, len, reinterpret_cast<const uint8_t*>(chunk_.data()),
                   static_cast<uint32_t>(len)});
      return true;
    }
    const std::string request = "GET /big HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";
    switch (step_++) {
      case 0:
        b_.begin(FuncId::process_start, pid, pid, ts).num(FieldId::ppid, 1)
            .str(FieldId::image, "/usr/bin/bench-download").num(FieldId::platform, 1);
        break;
      case 1:
        b_.begin(FuncId::socket, pid, pid, ts, kUs).num(FieldId::family, af::kInet)
            .num(FieldId::type, socktype::kStream).num(FieldId::protocol, proto::kTcp)
            .result(static_cast<int64_t>(fd));
        break;
      case 2:
        b_.begin(FuncId::connect, pid, pid, ts, 50 * kUs).num(FieldId::sock, fd)
            .addr(FieldId::addr, SockAddr::ipv4(0x7f000001, 8080))
            .addr(FieldId::local, SockAddr::ipv4(0x7f000001, 40000)).result(0);
        break;
      case 3:
        b_.begin(FuncId::send, pid, pid, ts, 5 * kUs).num(FieldId::sock, fd)
            .num(FieldId::len, request.size()).payload(request, request.size())
            .result(static_cast<int64_t>(request.size()));
        break;
      case 4:
        b_.begin(FuncId::recv, pid, pid, ts, 5 * kUs).num(FieldId::sock, fd)
            .num(FieldId::len, kChunk).result(0);
        break;
      case 5: b_.begin(FuncId::close, pid, pid, ts, kUs).num(FieldId::sock, fd).result(0); break;
      case 6: b_.begin(FuncId::process_exit, pid, pid, ts).snum(FieldId::exit_code, 0); break;
      default: return false;
    }
    ev = b_.event();
    ev.seq = seq_++;
    return true;
  }
  const trace::ReadProblem& end() const override { return end_; }

 private:
  trace::TraceHeader header_;
  uint64_t n_;
  uint64_t received_ = 0, seq_ = 0;
  int step_ = 0;
  std::string chunk_;
  EventBuilder b_;
  trace::ReadProblem end_;
};

// A Linux client on a lossy path, as the kernel engine records it: its connection's state
// changes and TCP statistics, 64 KiB sent at once, and three retransmissions of parts of them
// (each at its time, while the program waits for the answer: before its receive in the trace,
// which is written when the call returns).
void build_retransmissions(Script& s) {
  const uint32_t tid = Script::kPid;
  const SockAddr server = SockAddr::ipv4(0x7f000001, 8080);
  const SockAddr local = SockAddr::ipv4(0x7f000001, 41000);
  s.add(FuncId::process_start, tid, 0)
      .num(FieldId::ppid, 1)
      .str(FieldId::image, "/usr/bin/upload")
      .str(FieldId::cmdline, "upload --to 127.0.0.1:8080")
      .num(FieldId::platform, static_cast<uint64_t>(Platform::Linux));
  tcp_socket(s, tid, 3);
  auto state = [&](int64_t at, uint64_t from, uint64_t to) {
    s.during(FuncId::tcp_state_change, tid, at).num(FieldId::sock, 3)
        .num(FieldId::old_state, from).num(FieldId::tcp_state, to);
  };
  state(0, tcpstate::kClosed, tcpstate::kSynSent);
  state(90 * kUs, tcpstate::kSynSent, tcpstate::kEstablished);
  s.add(FuncId::connect, tid, 100 * kUs).num(FieldId::sock, 3).addr(FieldId::addr, server)
      .addr(FieldId::local, local).result(0);
  std::string data(64 << 10, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  s.add(FuncId::send, tid, 40 * kUs).num(FieldId::sock, 3).num(FieldId::len, data.size())
      .payload(data, data.size()).result(static_cast<int64_t>(data.size()));
  const struct {
    int64_t at;
    uint64_t off, len;
  } resent[] = {{210 * kMs, 16384, 16384}, {630 * kMs, 32768, 8192}, {1260 * kMs, 32768, 1000}};
  uint64_t count = 0;
  for (const auto& r : resent)
    s.during(FuncId::tcp_retransmit, tid, r.at).num(FieldId::sock, 3)
        .num(FieldId::tcp_state, tcpstate::kEstablished).num(FieldId::stream_offset, r.off)
        .num(FieldId::len, r.len).num(FieldId::count, 1).num(FieldId::retrans, count++);
  s.add(FuncId::recv, tid, 1500 * kMs).num(FieldId::sock, 3).num(FieldId::len, 16)
      .payload("k", 1).result(1);
  s.add(FuncId::tcp_info, tid, 0).num(FieldId::sock, 3).num(FieldId::tcp_at, 4)
      .num(FieldId::tcp_state, tcpstate::kEstablished).num(FieldId::rtt, 60 * kUs)
      .num(FieldId::min_rtt, 30 * kUs).num(FieldId::retrans, 3)
      .num(FieldId::retrans_bytes, 16384 + 8192 + 1000)
      .num(FieldId::bytes_sent, data.size() + 16384 + 8192 + 1000).num(FieldId::bytes_recvd, 1);
  close_socket(s, tid, 3);
  s.add(FuncId::process_exit, tid, 0).num(FieldId::exit_code, 0);
}

bool parse_count(std::string_view scenario, std::string_view prefix, uint64_t& n) {
  if (!scenario.starts_with(prefix)) return false;
  std::string_view digits = scenario.substr(prefix.size());
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  return ec == std::errc() && p == digits.data() + digits.size();
}

}  // namespace

Result<std::unique_ptr<Engine>> make_synthetic_engine(const std::string& scenario,
                                                      Platform platform) {
  if (platform == Platform::Unknown) platform = Platform::Linux;
  auto header = synthetic_header(scenario, platform);
  if (scenario == "demo") {
    auto script = std::make_unique<Script>(platform);
    build_demo(*script);
    return std::unique_ptr<Engine>(new ScriptEngine(std::move(header), std::move(script)));
  }
  if (scenario == "retransmissions") {  // (the kernel engine's events: Linux)
    header = synthetic_header(scenario, Platform::Linux);
    auto script = std::make_unique<Script>(Platform::Linux);
    build_retransmissions(*script);
    return std::unique_ptr<Engine>(new ScriptEngine(std::move(header), std::move(script)));
  }
  uint64_t n = 0;
  if (parse_count(scenario, "bench:", n))
    return std::unique_ptr<Engine>(new BenchEngine(std::move(header), n));
  if (parse_count(scenario, "conns:", n))
    return std::unique_ptr<Engine>(new ChurnEngine(std::move(header), n));
  if (parse_count(scenario, "ports:", n))
    return std::unique_ptr<Engine>(new ChurnEngine(std::move(header), n, true));
  if (parse_count(scenario, "payload:", n))
    return std::unique_ptr<Engine>(new PayloadEngine(std::move(header), n));
  return Status::error(fmt::format(
      "unknown scenario '{}': choose 'demo', 'retransmissions', 'bench:N', 'conns:N', "
      "'ports:N' (N events) or 'payload:N' (N bytes)",
      scenario));
}

}  // namespace ws
