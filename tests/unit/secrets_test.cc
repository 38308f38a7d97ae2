// Masking credentials in HTTP/1.x streams (decode/secrets.h, decode/redact.h): header values
// in any case, split between calls at every byte, folded, cookies, Set-Cookie attributes, URL
// passwords; per socket and direction over events.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "event_builder.h"
#include "redact.h"
#include "secrets.h"

namespace {

using ws::EventBuilder;
using ws::FieldId;
using ws::FuncId;
using ws::decode::MaskRange;
using ws::decode::SecretScanner;

// The stream after masking, fed to one scanner in `pieces`.
std::string masked(const std::vector<std::string>& pieces) {
  SecretScanner s;
  std::vector<MaskRange> ranges;
  std::string all;
  for (std::string p : pieces) {
    s.scan({reinterpret_cast<const uint8_t*>(p.data()), p.size()}, ranges);
    ws::decode::apply_masks({reinterpret_cast<uint8_t*>(p.data()), p.size()}, ranges);
    all += p;
  }
  return all;
}
std::string masked(const std::string& whole) { return masked(std::vector<std::string>{whole}); }

const std::string kRequest =
    "GET http://alice:s3cret-pw@127.0.0.1:8080/p?q=1 HTTP/1.1\r\n"
    "Host: example.test\r\n"
    "Authorization: Bearer tok.EN-123\r\n"
    "Cookie: session=c00kie; theme=dark\r\n"
    "Referer: http://example.test/a:b\r\n"
    "\r\n";
const std::string kRequestMasked =
    "GET http://alice:*********@127.0.0.1:8080/p?q=1 HTTP/1.1\r\n"
    "Host: example.test\r\n"
    "Authorization: Bearer **********\r\n"
    "Cookie: session=******; theme=****\r\n"
    "Referer: http://example.test/a:b\r\n"
    "\r\n";

TEST(Secrets, MasksHeaderValuesCookieValuesAndUrlPasswordsKeepingLengths) {
  EXPECT_EQ(masked(kRequest), kRequestMasked);
}

TEST(Secrets, SplitAtEveryByteGivesTheSameMasks) {
  for (size_t cut = 0; cut <= kRequest.size(); ++cut) {
    // A password cut at a call's end is masked before its '@' is seen: the same result here.
    EXPECT_EQ(masked({kRequest.substr(0, cut), kRequest.substr(cut)}), kRequestMasked)
        << "cut at " << cut;
    for (size_t cut2 = cut; cut2 <= kRequest.size(); cut2 += 7)
      ASSERT_EQ(masked({kRequest.substr(0, cut), kRequest.substr(cut, cut2 - cut),
                        kRequest.substr(cut2)}),
                kRequestMasked)
          << "cuts at " << cut << ", " << cut2;
  }
}

TEST(Secrets, HeaderNamesInAnyCaseAndBlanksBeforeTheColon) {
  EXPECT_EQ(masked("aUtHoRiZaTiOn: Basic dXNlcjpwYXNz\r\n"),
            "aUtHoRiZaTiOn: Basic ************\r\n");
  EXPECT_EQ(masked("PROXY-AUTHORIZATION:Negotiate YII=\r\n"),
            "PROXY-AUTHORIZATION:Negotiate ****\r\n");
  EXPECT_EQ(masked("COOKIE : a=1\n"), "COOKIE : a=*\n");
  // A token without a scheme word is masked whole; other headers are left alone.
  EXPECT_EQ(masked("Authorization: abc123\r\nX-Authorization: abc\r\nCookies: a=b\r\n"),
            "Authorization: ******\r\nX-Authorization: abc\r\nCookies: a=b\r\n");
}

TEST(Secrets, SetCookieKeepsItsAttributesAndResponsesWork) {
  EXPECT_EQ(masked("HTTP/1.1 200 OK\r\nSet-Cookie: id=a3fWa; Expires=Wed, 21 Oct 2015 07:28:00 "
                   "GMT; HttpOnly\r\nset-cookie: b=xyz\r\nContent-Length: 0\r\n\r\n"),
            "HTTP/1.1 200 OK\r\nSet-Cookie: id=*****; Expires=Wed, 21 Oct 2015 07:28:00 "
            "GMT; HttpOnly\r\nset-cookie: b=***\r\nContent-Length: 0\r\n\r\n");
}

TEST(Secrets, FoldedValuesAreMaskedOnTheirContinuationLines) {
  EXPECT_EQ(masked("Authorization: Bearer\r\n  abc\r\n\tdef\r\nX: y\r\n"),
            "Authorization: Bearer\r\n  ***\r\n\t***\r\nX: y\r\n");
  EXPECT_EQ(masked("Cookie: a=1;\r\n b=22\r\nX: y\r\n"), "Cookie: a=*;\r\n b=**\r\nX: y\r\n");
}

TEST(Secrets, UrlPasswordsAnywhereButNotPortsOrUsersAlone) {
  EXPECT_EQ(masked("Location: https://bob:hunter2@example.com/\r\n"),
            "Location: https://bob:*******@example.com/\r\n");
  EXPECT_EQ(masked("see ftp://u:p%40ss@h and http://only-user@h/ and http://h:8080/x"),
            "see ftp://u:******@h and http://only-user@h/ and http://h:8080/x");
  // A port cut at a call's end cannot be told from a password yet: masked (more, not less).
  EXPECT_EQ(masked(std::vector<std::string>{"http://h:80", "80/x"}), "http://h:**80/x");
}

TEST(Secrets, UserinfoInAHostHeader) {
  EXPECT_EQ(masked("GET / HTTP/1.1\r\nHost:  bob:pw@127.0.0.1:80\r\nHOST: h:80\r\n\r\n"),
            "GET / HTTP/1.1\r\nHost:  bob:**@127.0.0.1:80\r\nHOST: h:80\r\n\r\n");
}

TEST(Secrets, BinaryAndEmptyInputIsLeftAlone) {
  std::string bin;
  for (int i = 0; i < 256; ++i) bin += static_cast<char>(i);
  EXPECT_EQ(masked(bin), bin);
  EXPECT_EQ(masked(std::string()), "");
}

// Events: each direction of each socket is its own stream; a close starts the socket afresh.
class RedactTest : public ::testing::Test {
 protected:
  std::string io(FuncId f, uint64_t fd, const std::string& data, uint32_t pid = 7) {
    b_.begin(f, pid, pid, ++ts_).num(FieldId::sock, fd).payload(data, data.size());
    b_.result(static_cast<int64_t>(data.size()));
    ws::Event& ev = b_.event();  // (event() points blobs into the builder afresh)
    redactor_.redact(ev);
    return std::string(ev.get(FieldId::payload)->bytes());
  }
  void close(uint64_t fd) {
    b_.begin(FuncId::close, 7, 7, ++ts_).num(FieldId::sock, fd).result(0);
    redactor_.redact(b_.event());
  }
  EventBuilder b_;
  ws::decode::PayloadRedactor redactor_;
  int64_t ts_ = 0;
};

TEST_F(RedactTest, EachDirectionOfEachSocketIsOneStream) {
  EXPECT_EQ(io(FuncId::send, 3, "GET / HTTP/1.1\r\nAuthor"), "GET / HTTP/1.1\r\nAuthor");
  EXPECT_EQ(io(FuncId::recv, 3, "HTTP/1.1 200 OK\r\nX: "), "HTTP/1.1 200 OK\r\nX: ");
  EXPECT_EQ(io(FuncId::send, 4, "ization: no\r\n"), "ization: no\r\n");
  EXPECT_EQ(io(FuncId::send, 3, "ization: Basic abc\r\n"), "ization: Basic ***\r\n");
  EXPECT_EQ(io(FuncId::send, 3, "x\r\nCookie: a=b\r\n", 8), "x\r\nCookie: a=*\r\n");
  EXPECT_EQ(io(FuncId::recv, 3, "y\r\nSet-Cookie: s=1\r\n"), "y\r\nSet-Cookie: s=*\r\n");
  EXPECT_EQ(io(FuncId::send, 3, "Cookie"), "Cookie");
  close(3);
  EXPECT_EQ(io(FuncId::send, 3, ": not-a-header\r\n"), ": not-a-header\r\n");
}

TEST_F(RedactTest, LengthsStayAndTheOriginalLengthIsKept) {
  b_.begin(FuncId::send, 7, 7, 1).num(FieldId::sock, 5).payload("Cookie: k=v", 4000);
  ws::Event& ev = b_.event();
  EXPECT_TRUE(redactor_.redact(ev));
  const ws::Value* p = ev.get(FieldId::payload);
  EXPECT_EQ(p->bytes(), "Cookie: k=*");
  EXPECT_EQ(p->num, 4000u);
}

// Overlapped I/O: a pending send's completion goes on with the outbound stream; a completion
// whose socket is unknown is still scanned.
TEST_F(RedactTest, OverlappedCompletionsFollowTheirSend) {
  b_.begin(FuncId::WSASend, 7, 7, 1).num(FieldId::sock, 9).num(FieldId::op, 77);
  b_.payload("GET / HTTP/1.1\r\nCook", 20).result(-1, ws::errcode::kWsaIoPending);
  redactor_.redact(b_.event());
  b_.begin(FuncId::GetQueuedCompletionStatus, 7, 7, 2).num(FieldId::sock, 9);
  b_.num(FieldId::op, 77).payload("ie: a=b\r\n", 9).result(9);
  ws::Event& done = b_.event();
  EXPECT_TRUE(redactor_.redact(done));
  EXPECT_EQ(done.get(FieldId::payload)->bytes(), "ie: a=*\r\n");
  b_.begin(FuncId::GetQueuedCompletionStatus, 7, 7, 3).num(FieldId::op, 78);
  b_.payload("Set-Cookie: s=1\r\n", 17).result(17);
  ws::Event& unknown = b_.event();
  EXPECT_TRUE(redactor_.redact(unknown));
  EXPECT_EQ(unknown.get(FieldId::payload)->bytes(), "Set-Cookie: s=*\r\n");
}

}  // namespace
