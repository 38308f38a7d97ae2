// Tests of the pre-filter the kernel engine checks in the kernel (src/filter/prefilter.h): it
// must keep every event the filter keeps (a superset, checked over a corpus of events and
// filters), and it should drop what its dimensions can tell apart.
#include "prefilter.h"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "event_builder.h"
#include "sockaddr.h"

namespace {

using ws::Event;
using ws::EventBuilder;
using ws::FieldId;
using ws::FuncId;
using ws::SockAddr;
using ws::inspect::Filter;
using ws::inspect::FilterContext;
using ws::inspect::PreFacts;
using ws::inspect::PreFilter;

SockAddr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  return SockAddr::ipv4(static_cast<uint32_t>(a) << 24 | static_cast<uint32_t>(b) << 16 |
                            static_cast<uint32_t>(c) << 8 | d,
                        port);
}

SockAddr v6_loopback(uint16_t port) {
  std::array<uint8_t, 16> ip{};
  ip[15] = 1;
  return SockAddr::ipv6(ip, port);
}

SockAddr v4_mapped(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  std::array<uint8_t, 16> ip{};
  ip[10] = ip[11] = 0xff;
  ip[12] = a, ip[13] = b, ip[14] = c, ip[15] = d;
  return SockAddr::ipv6(ip, port);
}

// What a tracker would know of the event: its process's name and its socket's ends.
class Context : public FilterContext {
 public:
  std::string proc;
  const SockAddr* local = nullptr;
  const SockAddr* remote = nullptr;
  std::string_view process_name(uint32_t) const override { return proc; }
  uint64_t connection_id(const Event&) const override { return 7; }
  const SockAddr* local_addr(const Event&) const override { return local; }
  const SockAddr* remote_addr(const Event&) const override { return remote; }
  std::string_view remote_host(const Event&) const override { return "api.example.test"; }
  uint64_t protocol(const Event&) const override { return ws::proto::kTcp; }
};

PreFilter derive(std::string_view text) {
  auto f = Filter::parse(text);
  EXPECT_TRUE(f.ok()) << text;
  return derive_prefilter(f.ok() ? f.value() : Filter());
}

// The kernel's facts of an event in `ctx`: the ends the tracker knows are the socket's.
struct Facts {
  std::vector<uint16_t> ports;
  std::vector<std::array<uint8_t, 16>> addrs;
  PreFacts f;
  Facts(const Event& ev, const Context& ctx, bool is_call) {
    for (const SockAddr* a : {ctx.local, ctx.remote}) {
      if (a == nullptr || !a->is_inet()) continue;
      ports.push_back(a->port);
      addrs.push_back(ws::as_ipv6(*a));
    }
    f.pid = ev.pid;
    f.name = ctx.proc;
    f.is_call = is_call;
    f.func = ev.func;
    f.ports = ports;
    f.addrs = addrs;
  }
};

bool admits(const PreFilter& p, const Event& ev, const Context& ctx, bool is_call = true) {
  return p.admits(Facts(ev, ctx, is_call).f);
}

TEST(PreFilterTest, KeepsEveryEventTheFilterKeeps) {
  const std::vector<std::string_view> filters = {
      "port == 8080", "rport == 443", "lport in (80, 8080)", "port != 80", "port > 1000",
      "ip == 127.0.0.1", "rip in 10.0.0.0/8", "lip == ::1", "ip == ::ffff:127.0.0.1",
      "ip in (::1, 192.168.0.0/16)", "pid == 100", "pid in (100, 200)", "pid != 100",
      "proc == curl", "proc == client", "proc startswith py", "proc endswith thon3",
      "proc contains url", "proc == averyveryverylongprogramname", "func == connect",
      "func in (send, sendto)", "func contains recv", "func != connect", "event == send",
      "event in (connect, accept)", "port == 8080 and pid == 100",
      "port == 8080 or pid == 200", "(port == 8080 or port == 443) and (proc == curl or pid == 1)",
      "port == 8080 and port == 443", "pid == 100 and pid == 200", "not port == 8080",
      "not (pid == 100 or port == 443)", "port == 8080 or failed", "port == 8080 and failed",
      "payload contains GET", "host == api.example.test", "conn == 7", "dur > 1ms",
      "err == ECONNREFUSED or rport == 443", "func == process_start", "event == inherited",
      "port == 443 and func == connect and proc == curl and ip in 93.184.0.0/16 and pid == 100",
      "(port == 1 or port == 2 or port == 3 or port == 4 or port == 5 or port == 6) and "
      "(pid == 1 or pid == 2 or pid == 3 or pid == 4 or pid == 5 or pid == 6 or pid == 100)",
  };
  const SockAddr ends[] = {v4(127, 0, 0, 1, 8080), v4(93, 184, 216, 34, 443),
                           v4(10, 1, 2, 3, 80),     v6_loopback(8080),
                           v4_mapped(127, 0, 0, 1, 5555), v4(192, 168, 1, 1, 1),
                           SockAddr::unix_path("/run/x.sock")};
  const FuncId funcs[] = {FuncId::connect, FuncId::send,  FuncId::sendto, FuncId::recvfrom,
                          FuncId::accept4, FuncId::close, FuncId::socket, FuncId::read,
                          FuncId::process_start, FuncId::inherited};
  const char* names[] = {"curl", "curl.exe", "python3", "client", "Client.EXE",
                         "averyveryverylongprogramname", ""};
  const uint32_t pids[] = {100, 200, 1};
  EventBuilder b;
  Context ctx;
  size_t checked = 0, kept = 0;
  for (std::string_view text : filters) {
    const Filter filter = Filter::parse(text).value();
    const PreFilter pre = derive_prefilter(filter);
    for (FuncId func : funcs)
      for (uint32_t pid : pids)
        for (const char* name : names)
          for (size_t l = 0; l <= std::size(ends); ++l)
            for (size_t r = 0; r <= std::size(ends); ++r) {
              Event& ev = b.begin(func, pid, pid, 0, 2'000'000).num(FieldId::sock, 3)
                              .payload("GET / HTTP/1.1\r\n", 16).result(-1,
                                  ws::ErrorCode{ws::ErrDomain::Errno, 111}).event();
              ctx.proc = name;
              ctx.local = l < std::size(ends) ? &ends[l] : nullptr;
              ctx.remote = r < std::size(ends) ? &ends[r] : nullptr;
              const bool call = func != FuncId::process_start && func != FuncId::inherited;
              ++checked;
              if (!filter.matches(ev, ctx)) continue;
              ++kept;
              EXPECT_TRUE(admits(pre, ev, ctx, call))
                  << "'" << text << "' keeps " << ws::func_def(func).name << " of " << name << "["
                  << pid << "] " << l << "->" << r << " but its pre-filter drops it";
            }
  }
  EXPECT_GT(kept, checked / 20);  // (the corpus does exercise the filters)
}

TEST(PreFilterTest, DropsWhatItsDimensionsTellApart) {
  EventBuilder b;
  Context ctx;
  const SockAddr p8080 = v4(127, 0, 0, 1, 8080), p9090 = v4(127, 0, 0, 1, 9090),
                 client = v4(127, 0, 0, 1, 40000);
  Event& ev = b.begin(FuncId::connect, 100, 100, 0).event();
  ctx.proc = "curl";
  ctx.local = &client;

  const PreFilter port = derive("port == 8080");
  EXPECT_FALSE(port.all());
  ctx.remote = &p8080;
  EXPECT_TRUE(admits(port, ev, ctx));
  ctx.remote = &p9090;
  EXPECT_FALSE(admits(port, ev, ctx));
  EXPECT_TRUE(admits(port, ev, ctx, false));  // a process's start: its process is not excluded
  ctx.remote = nullptr;
  EXPECT_FALSE(admits(port, ev, ctx));  // (a socket without ends yet: socket())

  const PreFilter proc = derive("proc == curl and func == connect");
  EXPECT_TRUE(admits(proc, ev, ctx));
  ctx.proc = "wget";
  EXPECT_FALSE(admits(proc, ev, ctx));
  EXPECT_FALSE(admits(proc, ev, ctx, false));
  ctx.proc = "curl";
  EXPECT_FALSE(admits(proc, b.begin(FuncId::send, 100, 100, 0).event(), ctx));

  EXPECT_TRUE(derive("not port == 8080").all());
  EXPECT_TRUE(derive("port == 8080 or failed").all());
  EXPECT_TRUE(derive("payload contains GET").all());
  EXPECT_TRUE(derive("port > 1000").all());
  EXPECT_TRUE(derive("pid == 100 and pid == 200").clauses.empty());  // never
  EXPECT_EQ(derive("(port == 1 or port == 2) and (pid == 1 or pid == 2)").clauses.size(), 4u);
  // Too many clauses to cross: one side alone, still a superset.
  EXPECT_FALSE(derive("(port == 1 or port == 2 or port == 3 or port == 4 or port == 5 or port "
                      "== 6) and (pid == 1 or pid == 2 or pid == 3 or pid == 4 or pid == 5 or "
                      "pid == 6 or pid == 7)")
                   .all());
  const PreFilter send = derive("event == send");
  ASSERT_EQ(send.clauses.size(), 1u);
  const auto& funcs = *send.clauses[0].funcs;
  EXPECT_TRUE(std::find(funcs.begin(), funcs.end(), FuncId::sendto) != funcs.end());
  EXPECT_TRUE(std::find(funcs.begin(), funcs.end(), FuncId::connect) == funcs.end());
}

}  // namespace
