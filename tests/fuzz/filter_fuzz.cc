// Any text given to the filter parser ends in a filter or in one caret message, never in a crash,
// a hang or a leak; every filter that parses is evaluated against events of every kind, with the
// event-only context and with a context that knows everything.
//
// The mutator splices words of the language (fields, keywords, operators, typical values) into
// the input, so that the fuzzer reaches deep into the parser without a dictionary file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "event_builder.h"
#include "filter.h"
#include "sockaddr.h"

namespace {

using ws::ErrDomain;
using ws::ErrorCode;
using ws::Event;
using ws::EventBuilder;
using ws::FieldId;
using ws::FuncId;
using ws::SockAddr;

class KnowsAll : public ws::inspect::FilterContext {
 public:
  std::string_view process_name(uint32_t pid) const override {
    return pid % 2 ? "C:\\Apps\\client.exe" : "/usr/bin/curl";
  }
  uint64_t connection_id(const Event& ev) const override { return ev.seq % 3; }
  const SockAddr* local_addr(const Event& ev) const override {
    return ev.seq % 4 == 3 ? nullptr : &local_;
  }
  const SockAddr* remote_addr(const Event& ev) const override {
    return ev.seq % 2 ? &remote6_ : &remote_;
  }
  std::string_view remote_host(const Event& ev) const override {
    return ev.seq % 2 ? "www.example.com." : "";
  }
  uint64_t protocol(const Event& ev) const override { return ev.seq % 3 ? ws::proto::kTcp : 0; }

 private:
  SockAddr local_ = SockAddr::ipv4(0x0a000002, 40000);
  SockAddr remote_ = SockAddr::ipv4(0x5db8d822, 443);
  SockAddr remote6_ =
      SockAddr::ipv6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 8443);
};

// One event of each shape the filter reads; built once, kept alive by their builders.
const std::vector<Event>& events() {
  static std::vector<std::unique_ptr<EventBuilder>> builders;
  static std::vector<Event> all;
  if (!all.empty()) return all;
  auto add = [&](FuncId f, uint64_t dur) -> EventBuilder& {
    auto& b = *builders.emplace_back(std::make_unique<EventBuilder>());
    return b.begin(f, 4242 + static_cast<uint32_t>(builders.size() % 2), 4242, 0, dur);
  };
  const std::string http = "GET /status HTTP/1.1\r\nHost: api.example.test\r\n\r\n";
  add(FuncId::connect, 150'000)
      .num(FieldId::sock, 3)
      .addr(FieldId::addr, SockAddr::ipv4(0x7f000001, 9))
      .result(-1, ErrorCode{ErrDomain::Errno, 111});
  add(FuncId::getaddrinfo, 1'200'000)
      .str(FieldId::host, "api.example.test")
      .str(FieldId::service, "https")
      .addrs(FieldId::addrs, {SockAddr::ipv4(0x0a000005, 443)})
      .result(0);
  add(FuncId::GetAddrInfoW, 30'000'000)
      .str(FieldId::host, "missing.example.test")
      .result(11001, ErrorCode{ErrDomain::Win, 11001});
  add(FuncId::send, 20'000)
      .num(FieldId::sock, 3)
      .num(FieldId::len, http.size())
      .payload(http.substr(0, 32), http.size())
      .result(static_cast<int64_t>(http.size()));
  add(FuncId::WSARecv, 5'000'000)
      .num(FieldId::sock, 0x10c)
      .num(FieldId::len, 4096)
      .num(FieldId::flags, ws::msgflag::kPeek)
      .result(-1, ErrorCode{ErrDomain::Win, 10054});
  add(FuncId::socket, 12'000)
      .num(FieldId::family, ws::af::kInet6)
      .num(FieldId::type, ws::socktype::kDgram)
      .num(FieldId::protocol, 0)
      .result(5);
  add(FuncId::accept4, 1'000)
      .num(FieldId::sock, 5)
      .num(FieldId::new_sock, 7)
      .addr(FieldId::peer,
            SockAddr::ipv6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3}, 5000))
      .addr(FieldId::local, SockAddr::ipv4(0xc0a80102, 8080))
      .result(7);
  add(FuncId::connect, 50'000)
      .num(FieldId::sock, 9)
      .addr(FieldId::addr, SockAddr::unix_path("/run/a-long-socket-path-for-the-fuzzer.sock"))
      .result(0);
  add(FuncId::recvfrom, 800'000)
      .num(FieldId::sock, 5)
      .addr(FieldId::peer, SockAddr::ipv4(0x08080808, 53))
      .payload(std::string("\x2a\x2a\x81\x80\0\x01", 6), 6)
      .result(6);
  add(FuncId::process_start, 0)
      .num(FieldId::ppid, 1)
      .str(FieldId::image, "/usr/bin/demo-client")
      .str(FieldId::cmdline, "demo-client --server x");
  add(FuncId::process_exit, 0).snum(FieldId::exit_code, -1);
  add(FuncId::setsockopt, 3'000)
      .num(FieldId::sock, 3)
      .num(FieldId::level, 0)
      .num(FieldId::optname, 8)
      .snum(FieldId::optval, 1);
  add(FuncId::poll, 1'000'000'000)
      .num(FieldId::timeout, 500'000'000)
      .num(FieldId::count, 2)
      .result(0);
  for (size_t i = 0; i < builders.size(); ++i) {
    all.push_back(builders[i]->event());
    all.back().seq = i;
  }
  Event unknown;  // a function this build does not know
  unknown.seq = all.size();
  all.push_back(unknown);
  return all;
}

constexpr std::string_view kWords[] = {"pid",
                                       "tid",
                                       "proc",
                                       "func",
                                       "event",
                                       "sock",
                                       "conn",
                                       "family",
                                       "proto",
                                       "ip",
                                       "lip",
                                       "rip",
                                       "port",
                                       "lport",
                                       "rport",
                                       "host",
                                       "err",
                                       "failed",
                                       "ret",
                                       "dur",
                                       "bytes",
                                       "payload",
                                       "type",
                                       "flags",
                                       "len",
                                       "service",
                                       "image",
                                       "exit_code",
                                       "optname",
                                       "timeout",
                                       "and",
                                       "or",
                                       "not",
                                       "in",
                                       "contains",
                                       "startswith",
                                       "endswith",
                                       "==",
                                       "!=",
                                       "<",
                                       "<=",
                                       ">",
                                       ">=",
                                       "&&",
                                       "||",
                                       "!",
                                       "(",
                                       ")",
                                       ",",
                                       "443",
                                       "-1",
                                       "0x10c",
                                       "1.5s",
                                       "50ms",
                                       "200us",
                                       "10ns",
                                       "2min",
                                       "10.0.0.0/8",
                                       "::1",
                                       "2001:db8::/32",
                                       "::ffff:10.1.2.3",
                                       "93.184.216.34",
                                       "connect",
                                       "WSARecv",
                                       "lookup",
                                       "inet",
                                       "inet6",
                                       "unix",
                                       "tcp",
                                       "udp",
                                       "ECONNRESET",
                                       "WSAECONNRESET",
                                       "EAI_NONAME",
                                       "MSG_PEEK",
                                       "SOCK_STREAM",
                                       "true",
                                       "\"GET\"",
                                       "'\\x16\\x03'",
                                       "\"a\\\"b\"",
                                       "curl",
                                       "client.exe",
                                       "example.com"};

}  // namespace

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned int seed) {
  if (seed % 3 != 0) return LLVMFuzzerMutate(data, size, max_size);
  const std::string_view w = kWords[(seed / 3) % std::size(kWords)];
  const size_t at = size == 0 ? 0 : (seed / 7) % (size + 1);
  if (size + w.size() + 1 > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::memmove(data + at + w.size() + 1, data + at, size - at);
  std::memcpy(data + at, w.data(), w.size());
  data[at + w.size()] = ' ';
  return size + w.size() + 1;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto filter = ws::inspect::Filter::parse(text);
  if (!filter.ok()) {
    // One message: the filter's line and a caret line (or one line for an empty filter).
    if (filter.status().message().empty()) std::abort();
    return 0;
  }
  if (filter.value().text() != text) std::abort();
  const ws::inspect::EventOnlyContext event_only;
  const KnowsAll knows_all;
  for (const Event& ev : events()) {
    const bool a = filter.value().matches(ev, event_only);
    const bool b = filter.value().matches(ev, knows_all);
    (void)a;
    (void)b;
  }
  return 0;
}
