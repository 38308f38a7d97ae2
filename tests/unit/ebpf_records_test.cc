// The kernel engine's events as the agent's raw records (capture/linux/ebpf/ebpf_records.cc),
// read back through the collector's translation: the events must be the ones the preload
// engine writes for the same calls. No BPF here: the events are made by hand.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "constants.h"
#include "ebpf_records.h"
#include "event_builder.h"
#include "translate.h"

namespace {

using namespace ws;
using namespace ws::capture;

std::vector<uint8_t> bytes_of(const ws_ebpf_event& e, const std::string& payload = {}) {
  std::vector<uint8_t> b(sizeof e + payload.size());
  std::memcpy(b.data(), &e, sizeof e);
  if (!payload.empty()) std::memcpy(b.data() + sizeof e, payload.data(), payload.size());
  return b;
}

ws_ebpf_event call(uint32_t nr, int64_t ret) {
  ws_ebpf_event e{};
  e.kind = WS_EV_CALL;
  e.pid = 100;
  e.tid = 101;
  e.nr = nr;
  e.ts = 5'000;
  e.dur = 70;
  e.ret = ret;
  return e;
}

uint32_t put_inet(uint8_t* out, uint32_t ip, uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(ip);
  std::memcpy(out, &a, sizeof a);
  return sizeof a;
}

// The one record the event makes, translated.
void translated(const std::vector<uint8_t>& ev, EventBuilder& out, EbpfRecords& records) {
  std::vector<EbpfRecord> recs;
  records.convert(ev.data(), ev.size(), recs);
  ASSERT_EQ(recs.size(), 1u);
  ASSERT_TRUE(translate_linux_record(recs[0].bytes.data(), recs[0].bytes.size(), recs[0].pid, out));
}

SockAddr addr_of(const Event& ev, FieldId f) {
  SockAddr a;
  const Value* v = ev.get(f);
  EXPECT_TRUE(v && decode_addr(v->bytes(), a)) << field_def(f).name;
  return a;
}

TEST(EbpfRecords, ConnectHasItsPeerAndLocalEnd) {
  ws_ebpf_event e = call(WS_NR_CONNECT, -EINPROGRESS);
  e.args[0] = 5;
  e.addr_len = put_inet(e.addr, 0x7f000001, 8080);
  e.local_len = put_inet(e.local, 0x7f000001, 40000);
  EbpfRecords records;
  EventBuilder b;
  translated(bytes_of(e), b, records);
  const Event& ev = b.event();
  EXPECT_EQ(ev.func, FuncId::connect);
  EXPECT_EQ(ev.pid, 100u);
  EXPECT_EQ(ev.tid, 101u);
  EXPECT_EQ(ev.ts, 5'000);
  EXPECT_EQ(ev.dur, 70u);
  EXPECT_EQ(ev.result, -1);  // as libc returns it, errno beside
  EXPECT_EQ(ev.error.domain, ErrDomain::Errno);
  EXPECT_EQ(ev.error.value, EINPROGRESS);
  EXPECT_EQ(ev.get(FieldId::sock)->num, 5u);
  EXPECT_EQ(addr_of(ev, FieldId::addr), SockAddr::ipv4(0x7f000001, 8080));
  EXPECT_EQ(addr_of(ev, FieldId::local), SockAddr::ipv4(0x7f000001, 40000));
}

TEST(EbpfRecords, ReceiveKeepsWhatTheSnapLengthLetThrough) {
  ws_ebpf_event e = call(WS_NR_RECVFROM, 11);
  e.args[0] = 3;
  e.args[2] = 4096;
  e.args[3] = MSG_PEEK;
  e.addr_len = put_inet(e.addr, 0x7f000001, 53);
  e.payload_len = 5;
  e.payload_total = 11;
  EbpfRecords records;
  EventBuilder b;
  translated(bytes_of(e, "hello"), b, records);
  const Event& ev = b.event();
  EXPECT_EQ(ev.func, FuncId::recvfrom);
  EXPECT_EQ(ev.result, 11);
  EXPECT_EQ(ev.get(FieldId::len)->num, 4096u);
  EXPECT_EQ(ev.get(FieldId::flags)->num, to_flags(ConstTable::MsgFlags, Platform::Linux, MSG_PEEK));
  EXPECT_EQ(addr_of(ev, FieldId::peer), SockAddr::ipv4(0x7f000001, 53));
  const Value* p = ev.get(FieldId::payload);
  ASSERT_TRUE(p);
  EXPECT_NE(p->bytes().find("hello"), std::string_view::npos);
}

TEST(EbpfRecords, FurtherMessagesOfSendmmsgAreSendsOfTheirOwn) {
  ws_ebpf_event e = call(WS_NR_SENDMMSG, 2);
  e.flags = WS_F_MMSG_MSG | WS_F_HAVE_A;
  e.msg_index = 1;
  e.aux[WS_AUX_A] = 30;
  EbpfRecords records;
  EventBuilder b;
  translated(bytes_of(e), b, records);
  EXPECT_EQ(b.event().func, FuncId::sendmmsg_msg);
  EXPECT_EQ(b.event().result, 30);  // the message's bytes, not the call's count
  EXPECT_EQ(b.event().get(FieldId::len)->num, 30u);
}

TEST(EbpfRecords, MessagesPastWhatTheKernelKeepsAreDeclaredUnseenOnce) {
  ws_ebpf_event e = call(WS_NR_RECVMMSG, WS_EBPF_MAX_MMSG + 2);
  e.args[0] = 6;
  EbpfRecords records;
  std::vector<EbpfRecord> recs;
  auto b = bytes_of(e);
  records.convert(b.data(), b.size(), recs);
  records.convert(b.data(), b.size(), recs);
  ASSERT_EQ(recs.size(), 3u);  // the call, the declaration, the second call
  EventBuilder out;
  ASSERT_TRUE(translate_linux_record(recs[1].bytes.data(), recs[1].bytes.size(), 1, out));
  EXPECT_EQ(out.event().func, FuncId::unseen);
  EXPECT_EQ(out.event().get(FieldId::what)->bytes(), "mmsg-messages");
  EXPECT_EQ(out.event().get(FieldId::sock)->num, 6u);
}

TEST(EbpfRecords, ExecForkAndExitAreTheProcessFacts) {
  EbpfRecords records;
  ws_ebpf_event x{};
  x.kind = WS_EV_EXEC;
  x.pid = x.tid = 200;
  x.aux[0] = 1;  // ppid
  std::string payload(WS_EBPF_PATH_MAX, '\0');
  const std::string path = "/usr/bin/dig", args = std::string("dig\0-p\0005353", 12);
  payload.replace(0, path.size(), path);
  payload += args;
  x.aux[1] = path.size();
  x.aux[2] = args.size();
  x.payload_len = static_cast<uint32_t>(payload.size());
  EventBuilder b;
  translated(bytes_of(x, payload), b, records);
  EXPECT_EQ(b.event().func, FuncId::process_start);
  EXPECT_EQ(b.event().get(FieldId::image)->bytes(), "/usr/bin/dig");
  EXPECT_EQ(b.event().get(FieldId::cmdline)->bytes(), "dig -p 5353");
  EXPECT_EQ(b.event().get(FieldId::ppid)->num, 1u);

  // The child starts as its parent's program; the parent's fork returns the child's pid.
  ws_ebpf_event f{};
  f.kind = WS_EV_FORK;
  f.pid = f.tid = 300;
  f.aux[0] = 200;
  f.aux[1] = 201;
  std::vector<EbpfRecord> recs;
  auto fb = bytes_of(f);
  records.convert(fb.data(), fb.size(), recs);
  ASSERT_EQ(recs.size(), 2u);
  ASSERT_TRUE(translate_linux_record(recs[0].bytes.data(), recs[0].bytes.size(), recs[0].pid, b));
  EXPECT_EQ(b.event().func, FuncId::fork);
  EXPECT_EQ(b.event().pid, 200u);
  EXPECT_EQ(b.event().tid, 201u);
  EXPECT_EQ(b.event().result, 300);
  ASSERT_TRUE(translate_linux_record(recs[1].bytes.data(), recs[1].bytes.size(), recs[1].pid, b));
  EXPECT_EQ(b.event().func, FuncId::process_start);
  EXPECT_EQ(b.event().pid, 300u);
  EXPECT_EQ(b.event().get(FieldId::cmdline)->bytes(), "dig -p 5353");

  // A thread's end gives its ring back; the last one's is the process's exit (killed: 128+9).
  ws_ebpf_event t{};
  t.kind = WS_EV_EXIT;
  t.pid = 300;
  t.tid = 302;
  auto tb = bytes_of(t);
  recs.clear();
  EbpfOutcome o = records.convert(tb.data(), tb.size(), recs);
  EXPECT_TRUE(recs.empty());
  EXPECT_EQ(o.ended_tid, 302u);
  EXPECT_EQ(o.ended_pid, 0u);
  t.tid = 300;
  t.flags = WS_F_LAST_THREAD;
  t.aux[0] = 9;
  tb = bytes_of(t);
  o = records.convert(tb.data(), tb.size(), recs);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(o.ended_pid, 300u);
  ASSERT_TRUE(translate_linux_record(recs[0].bytes.data(), recs[0].bytes.size(), recs[0].pid, b));
  EXPECT_EQ(b.event().func, FuncId::process_exit);
  EXPECT_EQ(static_cast<int64_t>(b.event().get(FieldId::exit_code)->num), 137);
  EXPECT_EQ(exit_status_of(3 << 8), 3);
}

TEST(EbpfRecords, DuplicatesOfSocketsNameTheirNewNumber) {
  ws_ebpf_event e = call(WS_NR_DUP2, 4);
  e.args[0] = 7;
  e.args[1] = 4;
  EbpfRecords records;
  EventBuilder b;
  translated(bytes_of(e), b, records);
  EXPECT_EQ(b.event().func, FuncId::dup2);
  EXPECT_EQ(b.event().get(FieldId::sock)->num, 7u);
  EXPECT_EQ(b.event().get(FieldId::new_sock)->num, 4u);
  e = call(WS_NR_FCNTL, 9);
  e.args[0] = 7;
  e.args[1] = F_DUPFD_CLOEXEC;
  translated(bytes_of(e), b, records);
  EXPECT_EQ(b.event().func, FuncId::fcntl_dupfd);
  EXPECT_EQ(b.event().get(FieldId::new_sock)->num, 9u);
  e = call(WS_NR_FCNTL, 0);
  e.args[0] = 7;
  e.args[1] = F_SETFL;
  e.args[2] = O_NONBLOCK;
  translated(bytes_of(e), b, records);
  EXPECT_EQ(b.event().func, FuncId::fcntl);
  EXPECT_EQ(b.event().get(FieldId::arg)->num, static_cast<uint64_t>(O_NONBLOCK));
}

TEST(EbpfRecords, AnInheritedSocketIsWhatTheKernelSaysItIs) {
  ws_ebpf_event e{};
  e.kind = WS_EV_INHERITED;
  e.pid = e.tid = 50;
  e.args[0] = 3;
  e.args[1] = AF_INET;
  e.args[2] = SOCK_STREAM;
  e.args[3] = IPPROTO_TCP;
  e.local_len = put_inet(e.local, 0x7f000001, 80);
  e.addr_len = put_inet(e.addr, 0x7f000001, 5000);
  EbpfRecords records;
  EventBuilder b;
  translated(bytes_of(e), b, records);
  const Event& ev = b.event();
  EXPECT_EQ(ev.func, FuncId::inherited);
  EXPECT_EQ(ev.get(FieldId::sock)->num, 3u);
  EXPECT_EQ(ev.get(FieldId::family)->num, af::kInet);
  EXPECT_EQ(ev.get(FieldId::listening)->num, 0u);
  EXPECT_EQ(addr_of(ev, FieldId::local), SockAddr::ipv4(0x7f000001, 80));
  EXPECT_EQ(addr_of(ev, FieldId::peer), SockAddr::ipv4(0x7f000001, 5000));
}

TEST(EbpfRecords, AChildTheKernelCouldNotTakeOnIsDeclaredLost) {
  ws_ebpf_event f{};
  f.kind = WS_EV_FORK;
  f.pid = f.tid = 300;
  f.aux[0] = 200;
  f.aux[1] = 200;
  f.flags = WS_F_NOT_TRACED;
  EbpfRecords records;
  std::vector<EbpfRecord> recs;
  auto b = bytes_of(f);
  records.convert(b.data(), b.size(), recs);
  ASSERT_EQ(recs.size(), 2u);  // the parent's fork, then the loss
  EventBuilder out;
  ASSERT_TRUE(translate_linux_record(recs[1].bytes.data(), recs[1].bytes.size(), 200, out));
  EXPECT_EQ(out.event().func, FuncId::tracing_lost);
  EXPECT_EQ(out.event().get(FieldId::child)->num, 300u);
}

TEST(EbpfRecords, WhatTheKernelCannotHaveWrittenMakesNothing) {
  EbpfRecords records;
  std::vector<EbpfRecord> recs;
  ws_ebpf_event e = call(WS_NR_WRITE, 5);
  e.payload_len = 100;  // more than follows it
  auto b = bytes_of(e, "abc");
  records.convert(b.data(), b.size(), recs);
  records.convert(b.data(), sizeof e - 1, recs);  // shorter than an event
  e = call(9999, 0);  // a system call the engine does not trace
  b = bytes_of(e);
  records.convert(b.data(), b.size(), recs);
  ws_ebpf_event big = call(WS_NR_CONNECT, 0);
  big.addr_len = 4000;  // more than its room: left out, the call kept
  b = bytes_of(big);
  records.convert(b.data(), b.size(), recs);
  ASSERT_EQ(recs.size(), 1u);
  EventBuilder out;
  ASSERT_TRUE(translate_linux_record(recs[0].bytes.data(), recs[0].bytes.size(), 1, out));
  EXPECT_EQ(out.event().get(FieldId::addr), nullptr);
}

}  // namespace

namespace {

// attach and --system: a process met first by a call is named as /proc has it, before the call.
TEST(EbpfRecords, AProcessMetByItsCallIsNamedFromProc) {
  ws_ebpf_event e = call(WS_NR_CLOSE, 0);
  e.pid = e.tid = static_cast<uint32_t>(getpid());
  EbpfRecords records;
  std::vector<EbpfRecord> recs;
  auto b = bytes_of(e);
  records.convert(b.data(), b.size(), recs);
  ASSERT_EQ(recs.size(), 1u);  // (not adopting: wstrace started every process it traces)
  records.adopt_unknown();
  e.pid = e.tid = static_cast<uint32_t>(getppid());  // (a process this one did not name yet)
  b = bytes_of(e);
  recs.clear();
  records.convert(b.data(), b.size(), recs);
  records.convert(b.data(), b.size(), recs);
  ASSERT_EQ(recs.size(), 3u);  // its start, then the two calls
  EventBuilder out;
  ASSERT_TRUE(translate_linux_record(recs[0].bytes.data(), recs[0].bytes.size(), e.pid, out));
  EXPECT_EQ(out.event().func, FuncId::process_start);
  EXPECT_EQ(out.event().ts, 5'000 - 1);  // just before the call
  char comm[64] = {};
  FILE* f = fopen(("/proc/" + std::to_string(getppid()) + "/comm").c_str(), "r");
  ASSERT_TRUE(f && fgets(comm, sizeof comm, f));
  fclose(f);
  std::string name(comm);
  name.erase(name.find('\n'));
  const std::string image(out.event().get(FieldId::image)->bytes());
  // Named as it was started (the kernel's name is the first 15 bytes of that file's name).
  EXPECT_EQ(image[0], '/') << image;
  EXPECT_EQ(image.substr(image.rfind('/') + 1, name.size()), name) << image;
  EXPECT_FALSE(out.event().get(FieldId::cmdline)->bytes().empty());
}

}  // namespace
// ---- What TCP did (wstrace_tcp.bpf.h) ---------------------------------------------------------

ws_ebpf_event tcp_kind(uint32_t kind) {
  ws_ebpf_event e{};
  e.kind = kind;
  e.pid = 100;
  e.tid = 100;
  e.ts = 9'000;
  e.args[0] = 7;
  return e;
}

uint64_t num(const Event& ev, FieldId f) {
  const Value* v = ev.get(f);
  EXPECT_TRUE(v) << field_def(f).name;
  return v ? v->num : 0;
}

TEST(EbpfRecords, TcpReadingIsATcpInfoEvent) {
  ws_ebpf_event e = tcp_kind(WS_EV_TCP_INFO);
  e.nr = WS_TCP_AT_CONNECTED;
  e.args[1] = 1;  // TCP_ESTABLISHED
  e.args[2] = 250;
  e.args[3] = 40;
  e.args[4] = 200;
  e.args[5] = 2;
  e.aux[0] = 0;
  e.aux[1] = 1;
  e.aux[2] = 0;
  EbpfRecords records;
  EventBuilder b;
  translated(bytes_of(e), b, records);
  const Event& ev = b.event();
  EXPECT_EQ(ev.func, FuncId::tcp_info);
  EXPECT_EQ(ev.ts, 9'000);
  EXPECT_EQ(num(ev, FieldId::sock), 7u);
  EXPECT_EQ(num(ev, FieldId::tcp_at), 1u);
  EXPECT_EQ(num(ev, FieldId::tcp_state), tcpstate::kEstablished);
  EXPECT_EQ(num(ev, FieldId::rtt), 250'000u);
  EXPECT_EQ(num(ev, FieldId::rtt_var), 40'000u);
  EXPECT_EQ(num(ev, FieldId::min_rtt), 200'000u);
  EXPECT_EQ(num(ev, FieldId::retrans), 2u);
  EXPECT_EQ(num(ev, FieldId::syn_retrans), 2u);  // (set up: those were SYNs)
  EXPECT_EQ(num(ev, FieldId::bytes_sent), 1u);
  // Before close, no SYN count; a connection with no RTT sample yet has no minimum.
  e.nr = WS_TCP_AT_CLOSE;
  e.args[4] = UINT32_MAX;
  EventBuilder c;
  translated(bytes_of(e), c, records);
  EXPECT_EQ(c.event().get(FieldId::syn_retrans), nullptr);
  EXPECT_EQ(c.event().get(FieldId::min_rtt), nullptr);
  EXPECT_EQ(num(c.event(), FieldId::tcp_at), 4u);
}

TEST(EbpfRecords, TcpStateChangeAndRetransmission) {
  ws_ebpf_event e = tcp_kind(WS_EV_TCP_STATE);
  e.args[1] = 2;  // TCP_SYN_SENT
  e.args[2] = 1;  // TCP_ESTABLISHED
  EbpfRecords records;
  EventBuilder b;
  translated(bytes_of(e), b, records);
  EXPECT_EQ(b.event().func, FuncId::tcp_state_change);
  EXPECT_EQ(num(b.event(), FieldId::old_state), tcpstate::kSynSent);
  EXPECT_EQ(num(b.event(), FieldId::tcp_state), tcpstate::kEstablished);
  EXPECT_TRUE(is_fact(b.event().type()));

  ws_ebpf_event r = tcp_kind(WS_EV_TCP_RETRANS);
  r.args[1] = 1;
  r.args[2] = 123456;
  r.args[3] = 1448;
  r.args[4] = 1;
  r.args[5] = 5;
  EventBuilder c;
  translated(bytes_of(r), c, records);
  const Event& ev = c.event();
  EXPECT_EQ(ev.func, FuncId::tcp_retransmit);
  EXPECT_EQ(ev.pid, 100u);
  EXPECT_EQ(num(ev, FieldId::sock), 7u);
  EXPECT_EQ(num(ev, FieldId::stream_offset), 123456u);
  EXPECT_EQ(num(ev, FieldId::len), 1448u);
  EXPECT_EQ(num(ev, FieldId::count), 1u);
  EXPECT_EQ(num(ev, FieldId::retrans), 5u);
  EXPECT_EQ(num(ev, FieldId::tcp_state), tcpstate::kEstablished);
}

namespace {

std::vector<uint8_t> lookup_event(const ws_ebpf_lookup& l) {
  ws_ebpf_event e{};
  e.kind = WS_EV_LOOKUP;
  e.pid = 100;
  e.tid = 101;
  e.ts = 7'000;
  e.dur = 900;
  e.payload_len = sizeof l;
  return bytes_of(e, std::string(reinterpret_cast<const char*>(&l), sizeof l));
}

}  // namespace

TEST(EbpfRecords, GetaddrinfoIsTheLookupTheAgentRecords) {
  ws_ebpf_lookup l{};
  l.fn = WS_LK_GETADDRINFO;
  std::strcpy(l.host, "api.test");
  std::strcpy(l.serv, "80");
  l.have_hints = 1;
  l.hint_family = AF_UNSPEC;
  l.hint_type = SOCK_STREAM;
  l.naddrs = 2;
  put_inet(l.addrs[0], 0x7f000001, 80);
  sockaddr_in6 six{};
  six.sin6_family = AF_INET6;
  six.sin6_port = htons(80);
  six.sin6_addr = in6addr_loopback;
  std::memcpy(l.addrs[1], &six, sizeof six);
  EbpfRecords records;
  EventBuilder b;
  translated(lookup_event(l), b, records);
  const Event& ev = b.event();
  EXPECT_EQ(ev.func, FuncId::getaddrinfo);
  EXPECT_EQ(ev.result, 0);
  EXPECT_TRUE(ev.error.ok());
  EXPECT_EQ(ev.dur, 900u);
  EXPECT_EQ(ev.get(FieldId::host)->bytes(), "api.test");
  EXPECT_EQ(ev.get(FieldId::service)->bytes(), "80");
  std::vector<SockAddr> addrs;
  ASSERT_TRUE(ev.get(FieldId::addrs) && decode_addr_list(ev.get(FieldId::addrs)->bytes(), addrs));
  ASSERT_EQ(addrs.size(), 2u);
  EXPECT_EQ(addrs[0], SockAddr::ipv4(0x7f000001, 80));
}

TEST(EbpfRecords, ALookupThatFailedHasItsResolverError) {
  ws_ebpf_lookup l{};
  l.fn = WS_LK_GETHOSTBYNAME_R;
  std::strcpy(l.host, "nx.test");
  l.ret = -2;  // returned 0 with no result: h_errno says why
  l.have_herr = 1;
  l.herr = HOST_NOT_FOUND;
  EbpfRecords records;
  EventBuilder b;
  translated(lookup_event(l), b, records);
  const Event& ev = b.event();
  EXPECT_EQ(ev.func, FuncId::gethostbyname_r);
  EXPECT_EQ(ev.result, -1);
  EXPECT_EQ(ev.error.domain, ErrDomain::HErrno);
  EXPECT_EQ(ev.get(FieldId::addrs), nullptr);
}

TEST(EbpfRecords, CallsInsideALookupAreMarkedNested) {
  ws_ebpf_event e = call(WS_NR_SOCKET, 7);
  e.args[0] = AF_INET;
  e.args[1] = SOCK_DGRAM;
  e.flags = WS_F_IN_LOOKUP;
  EbpfRecords records;
  EventBuilder b;
  translated(bytes_of(e), b, records);
  ASSERT_TRUE(b.event().get(FieldId::nested));
  EXPECT_EQ(b.event().get(FieldId::nested)->num, 1u);
}

TEST(EbpfRecords, APollListsItsSocketsAndTheirEvents) {
  ws_ebpf_event e = call(WS_NR_PPOLL, 1);
  ws_ebpf_poll p[2] = {{4, POLLIN, POLLIN}, {9, POLLOUT, 0}};
  e.payload_len = sizeof p;
  e.aux[WS_AUX_COUNT] = 3;  // one more socket than listed
  e.aux[WS_AUX_A] = 1'000'000'000;
  e.flags = WS_F_HAVE_A;
  EbpfRecords records;
  EventBuilder b;
  translated(bytes_of(e, std::string(reinterpret_cast<const char*>(p), sizeof p)), b, records);
  const Event& ev = b.event();
  EXPECT_EQ(ev.func, FuncId::ppoll);
  std::vector<PollEntry> got;
  ASSERT_TRUE(ev.get(FieldId::fds) && decode_poll_list(ev.get(FieldId::fds)->bytes(), got));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].sock, 4u);
  EXPECT_EQ(got[1].sock, 9u);
  EXPECT_EQ(ev.get(FieldId::count)->num, 3u);
  EXPECT_EQ(ev.get(FieldId::timeout)->num, 1'000'000'000u);
}

TEST(EbpfRecords, AnEpollWaitListsTheSocketsAmongTheEventsReturned) {
  // Three events returned: a socket, one the engine could not map (fd -1), another socket.
  ws_ebpf_event e = call(WS_NR_EPOLL_WAIT, 3);
  e.args[0] = 7;   // the epoll descriptor
  e.args[2] = 16;  // room
  ws_ebpf_poll p[3] = {{4, EPOLLIN | EPOLLRDHUP, EPOLLIN}, {-1, 0, 0}, {9, EPOLLOUT, EPOLLOUT}};
  e.payload_len = sizeof p;
  EbpfRecords records;
  EventBuilder b;
  translated(bytes_of(e, std::string(reinterpret_cast<const char*>(p), sizeof p)), b, records);
  const Event& ev = b.event();
  EXPECT_EQ(ev.func, FuncId::epoll_wait);
  EXPECT_EQ(ev.get(FieldId::sock)->num, 7u);
  EXPECT_EQ(ev.get(FieldId::count)->num, 16u);
  std::vector<PollEntry> got;
  ASSERT_TRUE(ev.get(FieldId::fds) && decode_poll_list(ev.get(FieldId::fds)->bytes(), got));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].sock, 4u);
  EXPECT_EQ(got[0].events, pollev::kIn | pollev::kRdhup);
  EXPECT_EQ(got[0].revents, pollev::kIn);
  EXPECT_EQ(got[1].sock, 9u);
  // a wait that failed or returned nothing lists nothing
  ws_ebpf_event none = call(WS_NR_EPOLL_WAIT, 0);
  EventBuilder b2;
  translated(bytes_of(none), b2, records);
  EXPECT_FALSE(b2.event().get(FieldId::fds));
}

// The records an event makes, translated in order.
std::vector<EventBuilder> all_translated(const std::vector<uint8_t>& ev, EbpfRecords& records) {
  std::vector<EbpfRecord> recs;
  records.convert(ev.data(), ev.size(), recs);
  std::vector<EventBuilder> out(recs.size());
  for (size_t i = 0; i < recs.size(); ++i)
    EXPECT_TRUE(translate_linux_record(recs[i].bytes.data(), recs[i].bytes.size(), recs[i].pid,
                                       out[i]));
  return out;
}

ws_ebpf_event splice_in(int64_t ret) {
  ws_ebpf_event e = call(WS_NR_SPLICE, ret);
  e.args[0] = 3;  // the pipe
  e.args[2] = 5;  // the socket
  e.args[4] = 4096;
  e.flags = WS_F_TO_SOCKET;
  e.payload_total = static_cast<uint64_t>(ret);
  return e;
}

TEST(EbpfRecords, ASpliceIntoASocketIsASendOfThePipesBytes) {
  ws_ebpf_event e = splice_in(5);
  e.payload_len = 5;
  EbpfRecords records;
  auto evs = all_translated(bytes_of(e, "piped"), records);
  ASSERT_EQ(evs.size(), 1u);  // (nothing declared unseen)
  const Event& ev = evs[0].event();
  EXPECT_EQ(ev.func, FuncId::splice);
  EXPECT_EQ(ev.get(FieldId::sock)->num, 5u);
  EXPECT_EQ(ev.get(FieldId::len)->num, 4096u);
  ASSERT_TRUE(ev.get(FieldId::payload));
  EXPECT_EQ(ev.get(FieldId::payload)->bytes(), "piped");
  EXPECT_EQ(ev.get(FieldId::payload)->num, 5u);
}

TEST(EbpfRecords, BytesTheKernelCouldNotReadAreDeclaredUnseenOnce) {
  EbpfRecords records;
  ws_ebpf_event e = splice_in(100);
  e.flags |= WS_F_ZC_UNSEEN;  // (bytes came into the pipe after the call began)
  auto evs = all_translated(bytes_of(e), records);
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].event().get(FieldId::payload)->bytes(), "");
  EXPECT_EQ(evs[0].event().get(FieldId::payload)->num, 100u);
  EXPECT_EQ(evs[1].event().get(FieldId::what)->bytes(), "zero-copy-payload");
  EXPECT_EQ(evs[1].event().get(FieldId::sock)->num, 5u);
  ws_ebpf_event f = call(WS_NR_SENDFILE, 1000);  // (from /dev/zero: no page cache)
  f.args[0] = 5;
  f.args[3] = 1000;
  f.payload_total = 1000;
  f.flags = WS_F_ZC_UNSEEN;
  EXPECT_EQ(all_translated(bytes_of(f), records).size(), 1u);  // (said once per process)
  // A splice out of a socket: its bytes went into a pipe, never read.
  EbpfRecords other;
  ws_ebpf_event r = call(WS_NR_SPLICE, 10);
  r.args[0] = 5;
  r.args[4] = 10;
  r.payload_total = 10;
  evs = all_translated(bytes_of(r), other);
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].event().func, FuncId::splice_recv);
  EXPECT_EQ(evs[1].event().get(FieldId::what)->bytes(), "zero-copy-payload");
}

TEST(EbpfRecords, CopyFileRangeToASocketIsTheSendTheKernelRefused) {
  ws_ebpf_event e = call(WS_NR_COPY_FILE_RANGE, -EINVAL);
  e.args[0] = 3;  // the file
  e.args[2] = 5;  // the socket
  e.args[4] = 10;
  EbpfRecords records;
  auto evs = all_translated(bytes_of(e), records);
  ASSERT_EQ(evs.size(), 1u);
  const Event& ev = evs[0].event();
  EXPECT_EQ(ev.func, FuncId::copy_file_range);
  EXPECT_EQ(ev.result, -1);
  EXPECT_EQ(ev.get(FieldId::sock)->num, 5u);
  EXPECT_EQ(ev.get(FieldId::len)->num, 10u);
  EXPECT_EQ(ev.get(FieldId::payload), nullptr);
}

ws_ebpf_event sendfile_piece(uint64_t at, uint32_t len) {
  ws_ebpf_event e = call(WS_NR_SENDFILE, 0);
  e.kind = WS_EV_ZC_PIECE;
  e.aux[WS_AUX_LEN] = at;
  e.payload_len = len;
  return e;
}

TEST(EbpfRecords, ASendfilesPayloadIsItsPiecesThenItsOwnBytes) {
  EbpfRecords records;
  std::vector<EbpfRecord> recs;
  auto p1 = bytes_of(sendfile_piece(0, 4), "abcd");
  auto p2 = bytes_of(sendfile_piece(4, 4), "efgh");
  records.convert(p1.data(), p1.size(), recs);
  records.convert(p2.data(), p2.size(), recs);
  EXPECT_TRUE(recs.empty());  // (pieces make no record of their own)
  ws_ebpf_event e = call(WS_NR_SENDFILE, 10);
  e.args[0] = 5;
  e.args[3] = 10;
  e.aux[WS_AUX_LEN] = 8;
  e.payload_len = 2;
  e.payload_total = 10;
  auto evs = all_translated(bytes_of(e, "ij"), records);
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].event().func, FuncId::sendfile);
  EXPECT_EQ(evs[0].event().get(FieldId::payload)->bytes(), "abcdefghij");
  EXPECT_EQ(evs[0].event().get(FieldId::payload)->num, 10u);
  // A piece the ring lost: the bytes before it are kept, the rest declared unseen.
  auto p3 = bytes_of(sendfile_piece(0, 4), "abcd");
  records.convert(p3.data(), p3.size(), recs);
  evs = all_translated(bytes_of(e, "ij"), records);
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].event().get(FieldId::payload)->bytes(), "abcd");
  EXPECT_EQ(evs[1].event().get(FieldId::what)->bytes(), "zero-copy-payload");
  // Pieces of a call the ring lost are not another call's.
  ws_ebpf_event lost = sendfile_piece(0, 4);
  lost.ts = 1'000;
  auto p4 = bytes_of(lost, "zzzz");
  auto p5 = bytes_of(sendfile_piece(4, 4), "efgh");  // (its first piece lost)
  records.convert(p4.data(), p4.size(), recs);
  records.convert(p5.data(), p5.size(), recs);
  e.aux[WS_AUX_LEN] = 4;
  evs = all_translated(bytes_of(e, "ij"), records);
  ASSERT_GE(evs.size(), 1u);
  EXPECT_EQ(evs[0].event().get(FieldId::payload)->bytes(), "");
}

TEST(EbpfRecords, IoUringSocketOperationsAreCountedAtTheProcessEnd) {
  ws_ebpf_event e{};
  e.kind = WS_EV_EXIT;
  e.pid = e.tid = 100;
  e.flags = WS_F_LAST_THREAD;
  e.aux[1] = 2;
  EbpfRecords records;
  std::vector<EbpfRecord> recs;
  auto bytes = bytes_of(e);
  records.convert(bytes.data(), bytes.size(), recs);
  ASSERT_EQ(recs.size(), 2u);
  EventBuilder u;
  ASSERT_TRUE(translate_linux_record(recs[0].bytes.data(), recs[0].bytes.size(), 100, u));
  EXPECT_EQ(u.event().get(FieldId::what)->bytes(), "io_uring-sockets");
  EXPECT_EQ(u.event().get(FieldId::count)->num, 2u);
}
