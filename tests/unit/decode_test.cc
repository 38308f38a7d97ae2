// The protocol decoders of src/decode: DNS wire format, HTTP/1.x and the TLS hellos, on messages
// built byte by byte, cut at every offset and split at every point.
#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "dns.h"
#include "http.h"
#include "tls.h"

namespace {

using namespace ws::decode;

// A byte buffer written in network order.
struct Wire {
  std::vector<uint8_t> b;
  Wire& u8(unsigned v) {
    b.push_back(static_cast<uint8_t>(v));
    return *this;
  }
  Wire& u16(unsigned v) { return u8(v >> 8).u8(v); }
  Wire& u24(unsigned v) { return u8(v >> 16).u16(v & 0xffff); }
  Wire& u32(uint32_t v) { return u16(v >> 16).u16(v & 0xffff); }
  Wire& raw(std::string_view s) {
    b.insert(b.end(), s.begin(), s.end());
    return *this;
  }
  Wire& bytes(const std::vector<uint8_t>& v) {
    b.insert(b.end(), v.begin(), v.end());
    return *this;
  }
  // Uncompressed labels of a dotted name, ending in the root label.
  Wire& name(std::string_view dotted) {
    while (!dotted.empty()) {
      const size_t dot = dotted.find('.');
      const std::string_view label = dotted.substr(0, dot);
      u8(static_cast<unsigned>(label.size())).raw(label);
      dotted = dot == std::string_view::npos ? std::string_view() : dotted.substr(dot + 1);
    }
    return u8(0);
  }
  Wire& ptr(unsigned offset) { return u16(0xc000 | offset); }
  // A 2-byte length followed by what `w` wrote.
  Wire& with_len16(const Wire& w) { return u16(static_cast<unsigned>(w.b.size())).bytes(w.b); }
  Wire& with_len8(const Wire& w) { return u8(static_cast<unsigned>(w.b.size())).bytes(w.b); }
  size_t size() const { return b.size(); }
  std::span<const uint8_t> first(size_t n) const { return std::span(b).first(n); }
};

std::span<const uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// ---- DNS -----------------------------------------------------------------------------------

Wire dns_header(unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns, unsigned ar) {
  Wire w;
  w.u16(id).u16(flags).u16(qd).u16(an).u16(ns).u16(ar);
  return w;
}

// A response for www.example.com: CNAME web.example.com (compressed against the question), its
// A and AAAA records, and an OPT record.
Wire dns_cname_response() {
  Wire w = dns_header(0xbeef, 0x8180, 1, 3, 0, 1);
  w.name("www.example.com").u16(1).u16(1);                           // question at 12
  w.ptr(12).u16(5).u16(1).u32(300).u16(6).u8(3).raw("web").ptr(16);  // rdata name at 45
  w.ptr(45).u16(1).u16(1).u32(60).u16(4).u8(93).u8(184).u8(216).u8(34);
  w.ptr(45).u16(28).u16(1).u32(60).u16(16).u16(0x2001).u16(0xdb8).u32(0).u32(0).u32(1);
  w.u8(0).u16(41).u16(1232).u32(0x00008000).u16(0);  // OPT: udp 1232, DO
  return w;
}

TEST(Dns, Query) {
  Wire w = dns_header(0x1234, 0x0100, 1, 0, 0, 0);
  w.name("www.example.com").u16(28).u16(1);
  const DnsMessage m = parse_dns(w.b, true);
  ASSERT_EQ(m.status, DnsStatus::Ok) << m.problem;
  EXPECT_EQ(m.id, 0x1234);
  EXPECT_FALSE(m.qr);
  EXPECT_TRUE(m.rd);
  EXPECT_FALSE(m.ra);
  EXPECT_EQ(m.opcode, 0);
  ASSERT_EQ(m.questions.size(), 1u);
  EXPECT_EQ(m.questions[0].name, "www.example.com");
  EXPECT_EQ(m.questions[0].type, 28);
  EXPECT_EQ(m.questions[0].klass, 1);
  EXPECT_TRUE(m.answers.empty());
}

// What decides that traffic off port 53 is DNS: a plain query, decoded whole, nothing after it.
TEST(Dns, PlainQueryIsStrict) {
  auto query = [](uint16_t flags, uint16_t qd, uint16_t an, uint16_t klass) {
    Wire w = dns_header(0x4242, flags, qd, an, 0, 0);
    for (uint16_t i = 0; i < qd; ++i) w.name("svc.test").u16(1).u16(klass);
    return w;
  };
  const Wire plain = query(0x0100, 1, 0, 1);
  EXPECT_TRUE(is_plain_dns_query(parse_dns(plain.b, true), plain.b.size()));
  const Wire mdns = query(0x0000, 1, 0, 0x8001);  // class IN with the unicast-response bit
  EXPECT_TRUE(is_plain_dns_query(parse_dns(mdns.b, true), mdns.b.size()));
  Wire edns = dns_header(0x4242, 0x0120, 1, 0, 0, 1);
  edns.name("svc.test").u16(1).u16(1).u8(0).u16(41).u16(1232).u32(0).u16(0);
  EXPECT_TRUE(is_plain_dns_query(parse_dns(edns.b, true), edns.b.size()));

  Wire trailing = plain;
  trailing.u8(0);
  EXPECT_FALSE(is_plain_dns_query(parse_dns(trailing.b, true), trailing.b.size()));
  const Wire response = query(0x8180, 1, 0, 1);
  EXPECT_FALSE(is_plain_dns_query(parse_dns(response.b, true), response.b.size()));
  const Wire update = query(0x2800, 1, 0, 1);  // opcode UPDATE
  EXPECT_FALSE(is_plain_dns_query(parse_dns(update.b, true), update.b.size()));
  const Wire two = query(0x0100, 2, 0, 1);
  EXPECT_FALSE(is_plain_dns_query(parse_dns(two.b, true), two.b.size()));
  const Wire chaos = query(0x0100, 1, 0, 3);
  EXPECT_FALSE(is_plain_dns_query(parse_dns(chaos.b, true), chaos.b.size()));
  // Twelve bytes of anything parse as a header: with no question they are not a query.
  const std::vector<uint8_t> zeros(12, 0);
  EXPECT_FALSE(is_plain_dns_query(parse_dns(zeros, true), zeros.size()));
  const std::string text = "hello, this is not dns at all";
  const std::vector<uint8_t> t(text.begin(), text.end());
  EXPECT_FALSE(is_plain_dns_query(parse_dns(t, true), t.size()));
}

TEST(Dns, CnameAAndAaaaWithCompression) {
  const Wire w = dns_cname_response();
  const DnsMessage m = parse_dns(w.b, true);
  ASSERT_EQ(m.status, DnsStatus::Ok) << m.problem << " at " << m.offset;
  EXPECT_EQ(m.id, 0xbeef);
  EXPECT_TRUE(m.qr);
  EXPECT_TRUE(m.rd);
  EXPECT_TRUE(m.ra);
  EXPECT_EQ(m.rcode, 0);
  EXPECT_EQ(dns_rcode_name(m.rcode), "NOERROR");
  ASSERT_EQ(m.answers.size(), 3u);
  EXPECT_EQ(m.answers[0].name, "www.example.com");
  EXPECT_EQ(m.answers[0].type, 5);
  EXPECT_EQ(m.answers[0].ttl, 300u);
  EXPECT_EQ(m.answers[0].data, "web.example.com");
  EXPECT_EQ(m.answers[1].name, "web.example.com");
  EXPECT_EQ(m.answers[1].data, "93.184.216.34");
  EXPECT_EQ(m.answers[2].type, 28);
  EXPECT_EQ(m.answers[2].data, "2001:db8::1");
  ASSERT_EQ(m.additional.size(), 1u);
  EXPECT_EQ(m.additional[0].name, ".");
  EXPECT_EQ(m.additional[0].data, "udp=1232 version=0 do");
}

TEST(Dns, NxdomainWithSoa) {
  Wire w = dns_header(7, 0x8183, 1, 0, 1, 0);
  w.name("nope.example.com").u16(1).u16(1);
  Wire soa;
  soa.name("ns1.example.com").name("hostmaster.example.com");
  soa.u32(2024010101).u32(7200).u32(3600).u32(1209600).u32(300);
  w.ptr(17).u16(6).u16(1).u32(900).with_len16(soa);  // owner: "example.com" at 12+5
  const DnsMessage m = parse_dns(w.b, true);
  ASSERT_EQ(m.status, DnsStatus::Ok) << m.problem;
  EXPECT_EQ(m.rcode, 3);
  EXPECT_EQ(dns_rcode_name(m.rcode), "NXDOMAIN");
  ASSERT_EQ(m.authority.size(), 1u);
  EXPECT_EQ(m.authority[0].name, "example.com");
  EXPECT_EQ(m.authority[0].data,
            "ns1.example.com hostmaster.example.com 2024010101 7200 3600 1209600 300");
}

TEST(Dns, RdataOfOtherTypes) {
  Wire w = dns_header(9, 0x8180, 0, 6, 0, 0);
  Wire mx, txt, srv, https, unknown, bad_a;
  mx.u16(10).name("mx.example.com");
  txt.u8(11).raw("v=spf1 -all").u8(5).raw("a\"b\\c");
  srv.u16(10).u16(5).u16(5060).name("sip.example.com");
  https.u16(1).u8(0).u16(1).u16(6).u8(2).raw("h2").u8(2).raw("h3");  // alpn=h2,h3
  https.u16(3).u16(2).u16(443).u16(4).u16(4).u8(192).u8(0).u8(2).u8(1);
  unknown.u8(0xde).u8(0xad);
  bad_a.u8(1).u8(2).u8(3);
  w.name("example.com").u16(15).u16(1).u32(1).with_len16(mx);
  w.ptr(12).u16(16).u16(1).u32(1).with_len16(txt);
  w.ptr(12).u16(33).u16(1).u32(1).with_len16(srv);
  w.ptr(12).u16(65).u16(1).u32(1).with_len16(https);
  w.ptr(12).u16(4711).u16(1).u32(1).with_len16(unknown);
  w.ptr(12).u16(1).u16(1).u32(1).with_len16(bad_a);
  const DnsMessage m = parse_dns(w.b, true);
  ASSERT_EQ(m.status, DnsStatus::Ok) << m.problem;
  ASSERT_EQ(m.answers.size(), 6u);
  EXPECT_EQ(m.answers[0].data, "10 mx.example.com");
  EXPECT_EQ(m.answers[1].data, "\"v=spf1 -all\" \"a\\\"b\\\\c\"");
  EXPECT_EQ(m.answers[2].data, "10 5 5060 sip.example.com");
  EXPECT_EQ(m.answers[3].data, "1 . alpn=h2,h3 port=443 ipv4hint=192.0.2.1");
  EXPECT_EQ(m.answers[4].data, "\\# 2 dead");
  EXPECT_EQ(m.answers[5].data, "\\# 3 010203");  // an A record of the wrong size
}

TEST(Dns, ExtendedRcodeFromOpt) {
  Wire w = dns_header(1, 0x8000, 0, 0, 0, 1);
  w.u8(0).u16(41).u16(512).u32(0x01000000).u16(0);
  const DnsMessage m = parse_dns(w.b, true);
  ASSERT_EQ(m.status, DnsStatus::Ok);
  EXPECT_EQ(m.rcode, 16);
  EXPECT_EQ(dns_rcode_name(m.rcode), "BADVERS");
}

TEST(Dns, CompressionLoopIsMalformed) {
  Wire w = dns_header(1, 0x8180, 1, 0, 0, 0);
  w.ptr(12).u16(1).u16(1);  // a name that points at itself
  const DnsMessage m = parse_dns(w.b, false);
  EXPECT_EQ(m.status, DnsStatus::Malformed);
  EXPECT_NE(m.problem.find("compression pointer loop"), std::string::npos) << m.problem;
  EXPECT_EQ(m.offset, 12u);
  // Two names pointing at each other.
  Wire two = dns_header(1, 0x8180, 2, 0, 0, 0);
  two.ptr(18).u16(1).u16(1).ptr(12).u16(1).u16(1);
  EXPECT_EQ(parse_dns(two.b).status, DnsStatus::Malformed);
}

TEST(Dns, BadLabelsAndLongNames) {
  Wire label = dns_header(1, 0, 1, 0, 0, 0);
  label.u8(64).raw(std::string(64, 'a')).u8(0).u16(1).u16(1);
  const DnsMessage m = parse_dns(label.b, true);
  EXPECT_EQ(m.status, DnsStatus::Malformed);
  EXPECT_NE(m.problem.find("reserved label type"), std::string::npos) << m.problem;

  Wire longer = dns_header(1, 0, 1, 0, 0, 0);
  for (int i = 0; i < 5; ++i) longer.u8(60).raw(std::string(60, 'a'));  // 305 octets
  longer.u8(0).u16(1).u16(1);
  const DnsMessage n = parse_dns(longer.b, true);
  EXPECT_EQ(n.status, DnsStatus::Malformed);
  EXPECT_NE(n.problem.find("longer than 255"), std::string::npos) << n.problem;

  Wire escaped = dns_header(1, 0, 1, 0, 0, 0);
  escaped.u8(3).raw("a.b").u8(2).u8(0).u8(0x7f).u8(0).u16(1).u16(1);
  const DnsMessage e = parse_dns(escaped.b, true);
  ASSERT_EQ(e.status, DnsStatus::Ok);
  EXPECT_EQ(e.questions[0].name, "a\\.b.\\000\\127");
}

TEST(Dns, CutAtEveryOffset) {
  const Wire w = dns_cname_response();
  for (size_t n = 0; n < w.size(); ++n) {
    const DnsMessage m = parse_dns(w.first(n));
    ASSERT_EQ(m.status, DnsStatus::Truncated) << "cut at " << n;
    EXPECT_LE(m.offset, n);
    EXPECT_EQ(m.header_complete, n >= 12) << n;
    if (n >= 33) {  // the question ends at 33: it is kept
      ASSERT_EQ(m.questions.size(), 1u) << n;
      EXPECT_EQ(m.questions[0].name, "www.example.com");
    }
    EXPECT_LE(m.answers.size(), 3u);
    // The same bytes said to be the whole message: the message itself is broken.
    EXPECT_EQ(parse_dns(w.first(n), true).status, DnsStatus::Malformed) << n;
  }
  // Answer 3 starts at 67 with a 2-byte name.
  const DnsMessage cut = parse_dns(w.first(68));
  EXPECT_EQ(cut.answers.size(), 2u);
  EXPECT_EQ(cut.problem, "answer 3 name");
  EXPECT_EQ(cut.offset, 68u);
  EXPECT_EQ(parse_dns(w.first(70)).problem, "answer 3 fixed fields");
}

TEST(Dns, TcpTwoMessagesAndAPartialOne) {
  Wire query = dns_header(0x1111, 0x0100, 1, 0, 0, 0);
  query.name("example.org").u16(1).u16(1);
  const Wire answer = dns_cname_response();
  Wire stream;
  stream.with_len16(query).with_len16(answer).with_len16(query);
  const size_t two = 2 + query.size() + 2 + answer.size();
  const size_t cut = stream.size() - 5;
  const DnsTcpMessages r = parse_dns_tcp(stream.first(cut));
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0].id, 0x1111);
  EXPECT_EQ(r.messages[1].id, 0xbeef);
  EXPECT_EQ(r.messages[1].answers.size(), 3u);
  EXPECT_EQ(r.consumed, two);
  EXPECT_EQ(r.left_over, cut - two);

  const DnsTcpMessages f = parse_dns_tcp(stream.first(cut), true);
  ASSERT_EQ(f.messages.size(), 3u);
  EXPECT_EQ(f.messages[2].status, DnsStatus::Truncated);
  EXPECT_EQ(f.messages[2].id, 0x1111);
  EXPECT_EQ(f.consumed, cut);
  EXPECT_EQ(f.left_over, 0u);

  const DnsTcpMessages whole = parse_dns_tcp(stream.b);
  EXPECT_EQ(whole.messages.size(), 3u);
  EXPECT_EQ(whole.left_over, 0u);

  // A frame whose message claims more records than it holds.
  Wire liar = dns_header(2, 0, 1, 0, 0, 0);
  Wire framed;
  framed.with_len16(liar);
  const DnsTcpMessages l = parse_dns_tcp(framed.b);
  ASSERT_EQ(l.messages.size(), 1u);
  EXPECT_EQ(l.messages[0].status, DnsStatus::Malformed);
}

TEST(Dns, Names) {
  EXPECT_EQ(dns_type_name(1), "A");
  EXPECT_EQ(dns_type_name(28), "AAAA");
  EXPECT_EQ(dns_type_name(64), "SVCB");
  EXPECT_EQ(dns_type_name(65), "HTTPS");
  EXPECT_EQ(dns_type_name(41), "OPT");
  EXPECT_EQ(dns_type_name(255), "ANY");
  EXPECT_EQ(dns_type_name(4711), "TYPE4711");
  EXPECT_EQ(dns_type_from_name("aaaa"), 28);
  EXPECT_EQ(dns_type_from_name("HTTPS"), 65);
  EXPECT_EQ(dns_type_from_name("type4711"), 4711);
  EXPECT_EQ(dns_type_from_name("TYPE70000"), std::nullopt);
  EXPECT_EQ(dns_type_from_name("BOGUS"), std::nullopt);
  EXPECT_EQ(dns_class_name(1), "IN");
  EXPECT_EQ(dns_class_name(9), "CLASS9");
  EXPECT_EQ(dns_rcode_name(2), "SERVFAIL");
  EXPECT_EQ(dns_rcode_name(5), "REFUSED");
  EXPECT_EQ(dns_rcode_name(12), "RCODE12");
  EXPECT_EQ(dns_opcode_name(5), "UPDATE");
}

// ---- HTTP ----------------------------------------------------------------------------------

using Dir = HttpParser::Direction;
using State = HttpParser::State;

// Feeds `text` in pieces cut at `cuts`, tags 1, 2, …; returns every message.
std::vector<HttpMessage> feed_split(HttpParser& p, std::string_view text,
                                    std::initializer_list<size_t> cuts, bool end = false) {
  std::vector<HttpMessage> all;
  size_t at = 0;
  uint64_t tag = 1;
  std::vector<size_t> points(cuts);
  points.push_back(text.size());
  for (size_t cut : points) {
    for (HttpMessage& m : p.feed(bytes_of(text.substr(at, cut - at)), cut - at, tag++))
      all.push_back(std::move(m));
    at = cut;
  }
  if (end)
    for (HttpMessage& m : p.end_of_stream(tag)) all.push_back(std::move(m));
  return all;
}

constexpr std::string_view kGet =
    "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test/1.0\r\n"
    "Accept: */*\r\n\r\n";
constexpr std::string_view k200 =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world";

TEST(Http, GetEverySplit) {
  for (size_t i = 0; i <= kGet.size(); ++i) {
    HttpParser p(Dir::Request);
    const auto ms = feed_split(p, kGet, {i});
    ASSERT_EQ(ms.size(), 1u) << i;
    const HttpMessage& m = ms[0];
    EXPECT_EQ(m.end, HttpEnd::Complete);
    EXPECT_TRUE(m.request);
    EXPECT_EQ(m.method, "GET");
    EXPECT_EQ(m.target, "/index.html?q=1");
    EXPECT_EQ(m.version_major, 1);
    EXPECT_EQ(m.version_minor, 1);
    ASSERT_EQ(m.headers.size(), 3u);
    EXPECT_EQ(m.header("host"), "example.com");
    EXPECT_EQ(m.header("USER-AGENT"), "test/1.0");
    EXPECT_EQ(m.header("Cookie"), std::nullopt);
    EXPECT_EQ(m.framing, HttpFraming::None);
    EXPECT_EQ(m.header_size, kGet.size());
    EXPECT_EQ(m.start_tag, i == 0 ? 2u : 1u);
    EXPECT_EQ(m.headers_tag, i == kGet.size() ? 1u : 2u);
    EXPECT_EQ(m.end_tag, m.headers_tag);
  }
}

TEST(Http, ResponseWithContentLengthEverySplit) {
  for (size_t i = 0; i <= k200.size(); ++i) {
    for (size_t j = i; j <= k200.size(); j += 7) {
      HttpParser p(Dir::Response);
      p.expect_response_to("GET");
      const auto ms = feed_split(p, k200, {i, j});
      ASSERT_EQ(ms.size(), 1u) << i << "," << j;
      const HttpMessage& m = ms[0];
      EXPECT_EQ(m.end, HttpEnd::Complete);
      EXPECT_FALSE(m.request);
      EXPECT_EQ(m.status, 200);
      EXPECT_EQ(m.reason, "OK");
      EXPECT_EQ(m.request_method, "GET");
      EXPECT_EQ(m.framing, HttpFraming::ContentLength);
      EXPECT_EQ(m.content_length, 11u);
      EXPECT_EQ(m.body_size, 11u);
      EXPECT_EQ(m.body_wire_size, 11u);
      EXPECT_EQ(m.header_size + m.body_wire_size, k200.size());
      EXPECT_EQ(m.end_tag, j == k200.size() ? (i == k200.size() ? 1u : 2u) : 3u);
      EXPECT_EQ(p.state(), State::Decoding);
      EXPECT_EQ(p.current(), nullptr);
    }
  }
}

TEST(Http, ByteAtATime) {
  HttpParser p(Dir::Response);
  std::vector<HttpMessage> ms;
  for (size_t i = 0; i < k200.size(); ++i) {
    for (auto& m : p.feed(bytes_of(k200.substr(i, 1)), 1, i)) ms.push_back(std::move(m));
    if (i == 20) {
      ASSERT_NE(p.current(), nullptr);
      EXPECT_FALSE(p.current()->headers_complete);
    }
  }
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].start_tag, 0u);
  EXPECT_EQ(ms[0].headers_tag, k200.find("hello") - 1);
  EXPECT_EQ(ms[0].end_tag, k200.size() - 1);
}

constexpr std::string_view kChunked =
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
    "5;name=\"v\"\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n";

TEST(Http, ChunkedEverySplit) {
  for (size_t i = 0; i <= kChunked.size(); ++i) {
    HttpParser p(Dir::Response);
    const auto ms = feed_split(p, kChunked, {i});
    ASSERT_EQ(ms.size(), 1u) << i;
    const HttpMessage& m = ms[0];
    EXPECT_EQ(m.end, HttpEnd::Complete) << i << ": " << m.problem;
    EXPECT_EQ(m.framing, HttpFraming::Chunked);
    EXPECT_EQ(m.body_size, 11u);
    EXPECT_EQ(m.header_size + m.body_wire_size, kChunked.size());
    ASSERT_EQ(m.trailers.size(), 1u);
    EXPECT_EQ(m.trailers[0].name, "X-Checksum");
    EXPECT_EQ(m.trailers[0].value, "abc");
  }
}

TEST(Http, NoBodyForHead204And304) {
  HttpParser p(Dir::Response);
  p.expect_response_to("HEAD");
  p.expect_response_to("GET");
  p.expect_response_to("GET");
  p.expect_response_to("GET");
  const std::string text = std::string("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n") +
                           "HTTP/1.1 204 No Content\r\n\r\n" +
                           "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n" +
                           std::string(k200);
  const auto ms = feed_split(p, text, {});
  ASSERT_EQ(ms.size(), 4u);
  EXPECT_EQ(ms[0].request_method, "HEAD");
  EXPECT_EQ(ms[0].framing, HttpFraming::None);
  EXPECT_EQ(ms[0].body_size, 0u);
  EXPECT_EQ(ms[1].status, 204);
  EXPECT_EQ(ms[1].reason, "No Content");
  EXPECT_EQ(ms[2].status, 304);
  EXPECT_EQ(ms[2].framing, HttpFraming::None);
  EXPECT_EQ(ms[3].status, 200);
  EXPECT_EQ(ms[3].body_size, 11u);
  for (size_t i = 0; i < ms.size(); ++i) {
    EXPECT_EQ(ms[i].index, i);
    EXPECT_EQ(ms[i].request_index, i);
  }
}

TEST(Http, PipelinedRequests) {
  const std::string text =
      std::string(kGet) + "\r\n" + "POST /api HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd" +
      "PUT /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\n" +
      "DELETE /x HTTP/1.0\r\n\r\n";
  HttpParser p(Dir::Request);
  const auto ms = feed_split(p, text, {text.size() / 2});
  ASSERT_EQ(ms.size(), 4u);
  EXPECT_EQ(ms[0].method, "GET");
  EXPECT_EQ(ms[1].method, "POST");
  EXPECT_EQ(ms[1].body_size, 4u);
  EXPECT_EQ(ms[2].method, "PUT");
  EXPECT_EQ(ms[2].body_size, 3u);
  EXPECT_EQ(ms[3].method, "DELETE");
  EXPECT_EQ(ms[3].version_minor, 0);
  EXPECT_EQ(ms[0].end_tag, 1u);
  EXPECT_EQ(ms[3].end_tag, 2u);
}

TEST(Http, ContinueThenFinalResponse) {
  HttpParser req(Dir::Request);
  const auto r = feed_split(req,
                            "POST /upload HTTP/1.1\r\nExpect: 100-continue\r\n"
                            "Content-Length: 5\r\n\r\n",
                            {});
  EXPECT_TRUE(r.empty());
  ASSERT_NE(req.current(), nullptr);
  EXPECT_TRUE(req.current()->headers_complete);
  EXPECT_EQ(req.current()->header("expect"), "100-continue");

  HttpParser p(Dir::Response);
  p.expect_response_to("POST");
  const auto ms = feed_split(p,
                             "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"
                             "Content-Length: 2\r\n\r\nok",
                             {10});
  ASSERT_EQ(ms.size(), 2u);
  EXPECT_EQ(ms[0].status, 100);
  EXPECT_EQ(ms[0].request_index, 0u);
  EXPECT_EQ(ms[0].request_method, "POST");
  EXPECT_EQ(ms[1].status, 201);
  EXPECT_EQ(ms[1].request_index, 0u);
  EXPECT_EQ(ms[1].body_size, 2u);
}

TEST(Http, ReadUntilClose) {
  HttpParser p(Dir::Response);
  const auto ms =
      feed_split(p, "HTTP/1.0 200 OK\r\nServer: old\r\n\r\nsome body bytes", {20, 40}, true);
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].end, HttpEnd::Complete);
  EXPECT_EQ(ms[0].framing, HttpFraming::UntilClose);
  EXPECT_EQ(ms[0].body_size, 15u);
  EXPECT_EQ(ms[0].end_tag, 4u);  // end_of_stream's tag
  EXPECT_EQ(p.state(), State::Ended);
  EXPECT_TRUE(p.feed(bytes_of("HTTP/1.1 200 OK\r\n\r\n"), 19, 5).empty());
}

TEST(Http, StreamEndsInsideABody) {
  HttpParser p(Dir::Request);
  const auto ms = feed_split(p, "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", {}, true);
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].end, HttpEnd::Truncated);
  EXPECT_EQ(ms[0].problem, "the stream ended inside the body");
  EXPECT_EQ(ms[0].body_size, 3u);
}

TEST(Http, UncapturedBytesInsideABodyAreCounted) {
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n";
  const std::string kept = head + std::string(100, 'x');
  HttpParser p(Dir::Response);
  auto ms = p.feed(bytes_of(kept), head.size() + 6000, 1);
  EXPECT_TRUE(ms.empty());
  ms = p.feed(bytes_of(std::string(50, 'y')), 4000, 2);  // the last 4000 bytes, 50 kept
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].end, HttpEnd::Complete);
  EXPECT_EQ(ms[0].body_size, 10000u);
  EXPECT_EQ(ms[0].body_uncaptured, 10000u - 150u);
  EXPECT_EQ(ms[0].end_tag, 2u);
  ms = p.feed(bytes_of(k200), k200.size(), 3);  // the next message decodes
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].status, 200);
  EXPECT_EQ(ms[0].index, 1u);

  // Inside chunk data, too.
  HttpParser c(Dir::Response);
  const std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3ee\r\nab";
  EXPECT_TRUE(c.feed(bytes_of(chunked), chunked.size() + 1000, 1).empty());
  ms = c.feed(bytes_of("cdef\r\n0\r\n\r\n"), 11, 2);  // 0x3ee = 2 + 1000 + 4
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].end, HttpEnd::Complete);
  EXPECT_EQ(ms[0].body_size, 1006u);
  EXPECT_EQ(ms[0].body_uncaptured, 1000u);
}

TEST(Http, UncapturedBytesInsideHeadersLoseSync) {
  HttpParser p(Dir::Response);
  auto ms = p.feed(bytes_of("HTTP/1.1 200 OK\r\nContent-Le"), 500, 7);
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].end, HttpEnd::Truncated);
  EXPECT_EQ(ms[0].problem, "bytes not captured inside the header block");
  EXPECT_EQ(ms[0].start_tag, 7u);
  EXPECT_EQ(ms[0].end_tag, 7u);
  EXPECT_EQ(p.state(), State::LostSync);
  EXPECT_TRUE(p.feed(bytes_of(k200), k200.size(), 8).empty());
  EXPECT_TRUE(p.end_of_stream(9).empty());
  EXPECT_EQ(p.ignored_bytes(), 500u - 27u + k200.size());
  EXPECT_EQ(ms[0].status, 200) << "the start line was captured whole";
  EXPECT_EQ(ms[0].reason, "OK");
  EXPECT_TRUE(ms[0].headers.empty()) << "the header line was cut";

  // A request cut after its first header line keeps the start line and that header.
  HttpParser r(Dir::Request);
  ms = r.feed(bytes_of("GET /status HTTP/1.1\r\nHost: api.example.test\r\nUser-Ag"), 80, 3);
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].end, HttpEnd::Truncated);
  EXPECT_EQ(ms[0].method, "GET");
  EXPECT_EQ(ms[0].target, "/status");
  EXPECT_EQ(ms[0].version_minor, 1);
  ASSERT_EQ(ms[0].headers.size(), 1u);
  EXPECT_EQ(ms[0].header("host").value_or(""), "api.example.test");

  // A body that ends inside the cut: the next message began in bytes never seen.
  HttpParser q(Dir::Response);
  ms = q.feed(bytes_of("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab"), 200, 1);
  ASSERT_EQ(ms.size(), 2u);
  EXPECT_EQ(ms[0].end, HttpEnd::Complete);
  EXPECT_EQ(ms[1].end, HttpEnd::Truncated);
  EXPECT_EQ(ms[1].problem, "began in bytes that were not captured");
  EXPECT_EQ(q.state(), State::LostSync);

  // A cut in chunk framing.
  HttpParser c(Dir::Response);
  ms =
      c.feed(bytes_of("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n1"), 90, 1);
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].problem, "bytes not captured inside the chunk size line");
  EXPECT_EQ(c.state(), State::LostSync);
}

TEST(Http, NotHttpIsMalformedOnce) {
  const uint8_t tls[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03};
  HttpParser p(Dir::Request);
  auto ms = p.feed(tls, sizeof tls, 1);
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].end, HttpEnd::Malformed);
  EXPECT_EQ(ms[0].problem, "not an HTTP/1.x start line: \"\\022\"");
  EXPECT_EQ(p.state(), State::Malformed);
  EXPECT_TRUE(p.feed(tls, sizeof tls, 2).empty());
  EXPECT_TRUE(p.feed(bytes_of(kGet), kGet.size(), 3).empty());
  EXPECT_TRUE(p.end_of_stream(4).empty());

  for (std::string_view bad : {"GET /\r\n\r\n", "HTTP/1.1 200 OK\r\n\r\n", "get / HTTP/2.0\r\n",
                               "GET / HTTP/1.1\r\nNo colon here\r\n\r\n",
                               "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
                               "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
                               "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
                               "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}) {
    HttpParser r(Dir::Request);
    ms = feed_split(r, bad, {});
    ASSERT_EQ(ms.size(), 1u) << bad;
    EXPECT_EQ(ms[0].end, HttpEnd::Malformed) << bad;
    EXPECT_EQ(r.state(), State::Malformed) << bad;
  }
  HttpParser s(Dir::Response);
  ms = feed_split(s, "HTTP/1.1 2000 OK\r\n\r\n", {});
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].end, HttpEnd::Malformed);
}

TEST(Http, HeaderLimits) {
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 101; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  HttpParser p(Dir::Request);
  auto ms = feed_split(p, many + "\r\n", {});
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].problem, "more than 100 header lines");

  const std::string big = "GET / HTTP/1.1\r\nX-Big: " + std::string(70000, 'a') + "\r\n\r\n";
  HttpParser q(Dir::Request);
  ms = feed_split(q, big, {1000, 30000});
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].problem, "header block larger than 64 KiB");

  HttpParser f(Dir::Request);
  ms = feed_split(f, "GET / HTTP/1.1\r\nX-Long: a\r\n  b\r\n\tc\r\n\r\n", {});
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].header("x-long"), "a b c");
}

TEST(Http, UpgradeAndConnectStartTunnels) {
  HttpParser ws(Dir::Response);
  auto ms = feed_split(ws,
                       "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                       "Connection: Upgrade\r\n\r\n\x81\x05hello",
                       {});
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_TRUE(ms[0].upgrade);
  EXPECT_EQ(ws.state(), State::Tunnel);
  EXPECT_EQ(ws.ignored_bytes(), 7u);

  HttpParser wreq(Dir::Request);
  ms = feed_split(wreq,
                  "GET /chat HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
                  "\x81\x85masked",
                  {});
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_TRUE(ms[0].upgrade);
  EXPECT_EQ(wreq.state(), State::Tunnel);  // not Malformed: the frames are the new protocol

  HttpParser declined(Dir::Request);  // an upgrade the server declined: HTTP goes on
  ms = feed_split(declined,
                  "GET / HTTP/1.1\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                  "\r\nGET /next HTTP/1.1\r\n\r\n",
                  {});
  ASSERT_EQ(ms.size(), 2u);
  EXPECT_EQ(ms[1].target, "/next");
  EXPECT_EQ(declined.state(), State::Decoding);

  HttpParser connect(Dir::Response);
  connect.expect_response_to("CONNECT");
  ms = feed_split(connect, "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01", {});
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_TRUE(ms[0].upgrade);
  EXPECT_EQ(ms[0].framing, HttpFraming::None);
  EXPECT_EQ(connect.state(), State::Tunnel);
}

TEST(Http, ResponsesPairWithLateRequests) {
  HttpParser p(Dir::Response);
  // The first response comes before its request was named: read as an ordinary answer.
  auto ms = p.feed(bytes_of(k200), k200.size(), 1);
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].request_method, "");
  p.expect_response_to("POST");  // request 0, late
  p.expect_response_to("HEAD");  // request 1
  const std::string head_answer = "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n";
  ms = p.feed(bytes_of(head_answer), head_answer.size(), 2);
  ASSERT_EQ(ms.size(), 1u);
  EXPECT_EQ(ms[0].request_index, 1u);
  EXPECT_EQ(ms[0].request_method, "HEAD");
  EXPECT_EQ(ms[0].framing, HttpFraming::None);
}

TEST(Http, LooksLike) {
  EXPECT_TRUE(looks_like_http_request(bytes_of("GET / HTTP/1.1\r\n")));
  EXPECT_TRUE(looks_like_http_request(bytes_of("POST ")));
  EXPECT_TRUE(looks_like_http_request(bytes_of("PROPFIND /dav HTTP/1.1\r\n")));
  EXPECT_FALSE(looks_like_http_request(bytes_of("EHLO mail.example.com\r\n")));
  EXPECT_FALSE(looks_like_http_request(bytes_of("\x16\x03\x01")));
  EXPECT_FALSE(looks_like_http_request(bytes_of("")));
  EXPECT_TRUE(looks_like_http_response(bytes_of("HTTP/1.1 200 OK\r\n")));
  EXPECT_TRUE(looks_like_http_response(bytes_of("HTTP/1.0")));
  EXPECT_FALSE(looks_like_http_response(bytes_of("HTTP/2 200")));
  EXPECT_FALSE(looks_like_http_response(bytes_of("HTTP/1")));
}

// ---- TLS -----------------------------------------------------------------------------------

// The body of a ClientHello offering TLS 1.3 and 1.2 for example.com with ALPN h2, http/1.1.
Wire client_hello_body() {
  Wire sni, alpn, versions, ext, body;
  sni.with_len16(Wire().u8(0).with_len16(Wire().raw("example.com")));
  alpn.with_len16(Wire().with_len8(Wire().raw("h2")).with_len8(Wire().raw("http/1.1")));
  versions.with_len8(Wire().u16(0x2a2a).u16(0x0304).u16(0x0303));
  ext.u16(0x0a0a).u16(0);  // GREASE
  ext.u16(0).with_len16(sni).u16(16).with_len16(alpn).u16(43).with_len16(versions);
  ext.u16(51).with_len16(
      Wire().with_len16(Wire().u16(29).with_len16(Wire().raw(std::string(32, 'k')))));
  body.u16(0x0303).raw(std::string(32, 'r')).with_len8(Wire().raw(std::string(32, 's')));
  body.with_len16(Wire().u16(0x1301).u16(0x1302).u16(0xc02f)).u8(1).u8(0);
  return body.with_len16(ext);
}

Wire handshake(unsigned type, const Wire& body) {
  Wire h;
  return h.u8(type).u24(static_cast<unsigned>(body.size())).bytes(body.b);
}

Wire records(const Wire& hs, size_t max_fragment) {
  Wire r;
  for (size_t at = 0; at < hs.size(); at += max_fragment) {
    const size_t n = std::min(max_fragment, hs.size() - at);
    r.u8(22).u16(0x0301).u16(static_cast<unsigned>(n));
    r.b.insert(r.b.end(), hs.b.begin() + static_cast<long>(at),
               hs.b.begin() + static_cast<long>(at + n));
  }
  return r;
}

void expect_full_client_hello(const TlsClientHello& h) {
  ASSERT_EQ(h.status, TlsStatus::Ok) << h.problem << " at " << h.offset;
  EXPECT_EQ(h.record_version, 0x0301);
  EXPECT_EQ(h.legacy_version, 0x0303);
  EXPECT_EQ(h.version, 0x0304);
  EXPECT_EQ(tls_version_name(h.version), "TLS 1.3");
  EXPECT_EQ(h.server_name, "example.com");
  EXPECT_EQ(h.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
  EXPECT_EQ(h.cipher_suites, 3u);
  EXPECT_EQ(h.supported_versions, (std::vector<uint16_t>{0x2a2a, 0x0304, 0x0303}));
  EXPECT_EQ(h.extensions, (std::vector<uint16_t>{0x0a0a, 0, 16, 43, 51}));
}

TEST(Tls, ClientHello) {
  const Wire hs = handshake(1, client_hello_body());
  expect_full_client_hello(parse_tls_client_hello(records(hs, 16384).b));
  // Across records of 50 bytes, and followed by other bytes.
  Wire more = records(hs, 50);
  more.u8(20).u16(0x0303).u16(1).u8(1);
  expect_full_client_hello(parse_tls_client_hello(more.b));
}

TEST(Tls, ClientHelloCutAtEveryOffset) {
  const Wire whole = records(handshake(1, client_hello_body()), 100);
  // The SNI extension's data ends at byte 107 of the handshake message: 5 + 100 of the first
  // record, 5 of the second record's header, 7 more.
  const size_t sni_end = 117;
  for (size_t n = 0; n < whole.size(); ++n) {
    const TlsClientHello h = parse_tls_client_hello(whole.first(n));
    ASSERT_EQ(h.status, TlsStatus::Truncated) << n << ": " << h.problem;
    EXPECT_EQ(h.server_name, n >= sni_end ? "example.com" : "") << n;
    if (n > 5 + 4 + 2) {
      EXPECT_EQ(h.legacy_version, 0x0303) << n;
    }
  }
}

TEST(Tls, NotTlsAndMalformed) {
  EXPECT_EQ(parse_tls_client_hello(bytes_of(kGet)).status, TlsStatus::NotTls);
  EXPECT_EQ(parse_tls_client_hello(bytes_of("\x16\x02\x00")).status, TlsStatus::NotTls);
  EXPECT_FALSE(looks_like_tls(bytes_of("GET")));
  EXPECT_TRUE(looks_like_tls(bytes_of("\x16\x03\x01\x02")));

  // An ALPN list longer than its extension.
  Wire body = client_hello_body();
  const Wire good = handshake(1, body);
  Wire bad = good;
  const size_t alpn_list = 4 + 2 + 32 + 33 + 8 + 2 + 2 + 4 + 4 + 16 + 4;
  ASSERT_EQ(bad.b[alpn_list + 1], 12);
  bad.b[alpn_list + 1] = 40;
  const TlsClientHello h = parse_tls_client_hello(records(bad, 16384).b);
  EXPECT_EQ(h.status, TlsStatus::Malformed);
  EXPECT_EQ(h.problem, "ALPN list runs past its length");
  EXPECT_EQ(h.server_name, "example.com");

  // A ServerHello where a ClientHello should be; an alert record.
  EXPECT_EQ(parse_tls_client_hello(records(handshake(2, body), 16384).b).status,
            TlsStatus::Malformed);
  Wire alert;
  alert.u8(22).u16(0x0303).u16(4).u8(1).u24(100).u8(21).u16(0x0303).u16(2).u16(0x0228);
  const TlsClientHello a = parse_tls_client_hello(alert.b);
  EXPECT_EQ(a.status, TlsStatus::Malformed);
  EXPECT_EQ(a.problem, "a record of type 21 inside the hello");
}

TEST(Tls, ServerHello) {
  Wire tls13;
  tls13.u16(0x0303).raw(std::string(32, 'r')).with_len8(Wire().raw(std::string(32, 's')));
  tls13.u16(0x1301).u8(0).with_len16(Wire().u16(43).u16(2).u16(0x0304).u16(51).u16(2).u16(29));
  const TlsServerHello h = parse_tls_server_hello(records(handshake(2, tls13), 16384).b);
  ASSERT_EQ(h.status, TlsStatus::Ok) << h.problem;
  EXPECT_EQ(h.version, 0x0304);
  EXPECT_EQ(h.cipher_suite, 0x1301);
  EXPECT_FALSE(h.hello_retry);

  Wire tls12;
  tls12.u16(0x0303).raw(std::string(32, 'r')).u8(0).u16(0xc02f).u8(0);
  tls12.with_len16(
      Wire().u16(16).with_len16(Wire().with_len16(Wire().with_len8(Wire().raw("h2")))));
  const TlsServerHello g = parse_tls_server_hello(records(handshake(2, tls12), 16384).b);
  ASSERT_EQ(g.status, TlsStatus::Ok) << g.problem;
  EXPECT_EQ(g.version, 0x0303);
  EXPECT_EQ(tls_version_name(g.version), "TLS 1.2");
  EXPECT_EQ(g.alpn, std::vector<std::string>{"h2"});
  EXPECT_EQ(tls_version_name(0x7f1c), "0x7f1c");
}

}  // namespace
