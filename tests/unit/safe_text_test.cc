// Text from a trace on its way out: every JSON writer gives JSON that parses whatever bytes a
// name, path or header holds (all bytes, invalid UTF-8, surrogates, overlong forms); terminal
// text carries no control characters; CSV cells are not formulas.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "event_builder.h"
#include "json_out.h"
#include "report_data.h"
#include "report_html.h"
#include "safe_text.h"
#include "sockaddr.h"
#include "view.h"

namespace {

using ws::present::printable;
using ws::present::to_utf8;

// Inputs that break naive writers: every byte alone, every pair, the classic bad sequences,
// and random strings biased to high bytes.
std::vector<std::string> hostile_strings() {
  std::vector<std::string> v;
  for (int a = 0; a < 256; ++a) {
    v.emplace_back(1, static_cast<char>(a));
    for (int b = 0; b < 256; b += 3) v.push_back({static_cast<char>(a), static_cast<char>(b)});
  }
  for (const char* s : {"\xc0\x80", "\xe0\x80\x80", "\xf0\x80\x80\x80", "\xed\xa0\x80",
                        "\xed\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xc2", "\xe2\x82",
                        "\x1b[31mred\x1b[0m", "\x07\r\x9b\xc2\x9b", "\xe2\x80\xae", "ok é"})
    v.emplace_back(s);
  std::mt19937 rng(42);
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 24, '\0');
    for (char& c : s) c = static_cast<char>(rng() % 3 ? 0x80 + rng() % 128 : rng() % 128);
    v.push_back(s);
  }
  return v;
}

bool valid_json(const std::string& text) {
  return nlohmann::json::accept(text);
}

// No byte a terminal acts on: C0, DEL, C1 in UTF-8 (C2 80–9F) or alone.
bool terminal_safe(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return false;
    if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xa0)
      return false;
  }
  return true;
}

TEST(SafeText, Utf8LengthFollowsRfc3629) {
  EXPECT_EQ(ws::present::utf8_char_length("a", 0), 1u);
  EXPECT_EQ(ws::present::utf8_char_length("\xc3\xa9", 0), 2u);
  EXPECT_EQ(ws::present::utf8_char_length("\xe2\x82\xac", 0), 3u);
  EXPECT_EQ(ws::present::utf8_char_length("\xf0\x9f\x98\x80", 0), 4u);
  for (const char* bad : {"\x80", "\xc0\x80", "\xc1\xbf", "\xe0\x9f\xbf", "\xed\xa0\x80",
                          "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf8\x88\x80\x80\x80", "\xff",
                          "\xc3", "\xe2\x82", "\xc3("})
    EXPECT_EQ(ws::present::utf8_char_length(bad, 0), 0u) << printable(bad);
}

TEST(SafeText, InvalidBytesBecomeLatin1Characters) {
  EXPECT_EQ(to_utf8("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(to_utf8("a\xff" "b"), "a\xc3\xbf" "b");
  EXPECT_EQ(to_utf8("\xed\xa0\x80"), "\xc3\xad\xc2\xa0\xc2\x80");  // a surrogate: three bytes
  nlohmann::json j = {{"name", "bad\xfe\xff"}, {"k\xff", {"x\xc0\x80"}}};
  EXPECT_EQ(ws::present::json_dump(j), R"({"k\u00ff":["x\u00c0\u0080"],"name":"bad\u00fe\u00ff"})");
}

TEST(SafeText, EveryJsonWriterParsesWhateverTheBytes) {
  ws::trace::TraceHeader h;
  ws::EventBuilder b;
  for (const std::string& s : hostile_strings()) {
    nlohmann::ordered_json j;
    j[s] = s;
    const std::string dumped = ws::present::json_dump(j);
    ASSERT_TRUE(valid_json(dumped)) << printable(s);
    ASSERT_TRUE(terminal_safe(dumped)) << printable(s);
    ws::report::JsonOut o;
    o.str(s);
    ASSERT_TRUE(valid_json(o.text())) << printable(s);
    // One event with the bytes as a host name, a Unix socket path and its process's name.
    b.begin(ws::FuncId::getaddrinfo, 1, 2, 1000).result(0).str(ws::FieldId::host, s);
    const std::string line = ws::present::json_line(b.event(), h, {s, 0});
    ASSERT_TRUE(valid_json(line)) << printable(s);
    b.begin(ws::FuncId::connect, 1, 2, 1000).result(0).addr(ws::FieldId::addr,
                                                            ws::SockAddr::unix_path(s));
    ASSERT_TRUE(valid_json(ws::present::json_line(b.event(), h, {s, 0}))) << printable(s);
    ASSERT_TRUE(terminal_safe(ws::present::event_line(b.event(), h, {}, 0, {s, 0})))
        << printable(s);
  }
}

TEST(SafeText, ReportDataParsesWithHostileNames) {
  ws::report::ReportBuilder builder({});
  ws::EventBuilder b;
  int64_t ts = 1000;
  uint32_t pid = 10;
  for (const std::string& s : hostile_strings()) {
    if (++pid % 16) continue;  // every 16th: a few hundred processes are plenty
    b.begin(ws::FuncId::process_start, pid, pid, ++ts).num(ws::FieldId::ppid, 1)
        .str(ws::FieldId::image, "/bin/" + s).str(ws::FieldId::cmdline, s);
    builder.observe(b.event());
    b.begin(ws::FuncId::thread_name, pid, pid, ++ts).str(ws::FieldId::name, s);
    builder.observe(b.event());
    b.begin(ws::FuncId::getaddrinfo, pid, pid, ++ts).result(0).str(ws::FieldId::host, s);
    builder.observe(b.event());
    b.begin(ws::FuncId::connect, pid, pid, ++ts).result(0).num(ws::FieldId::sock, 3)
        .addr(ws::FieldId::addr, ws::SockAddr::unix_path(s));
    builder.observe(b.event());
  }
  ws::trace::TraceHeader h;
  h.host = "host\xff\x1b";
  h.command = "cmd\xc0\x80";
  auto data = builder.finish(h, "problem \xfe");
  EXPECT_TRUE(valid_json(ws::report::report_json(*data)));
}

TEST(SafeText, TerminalTextShowsControlsEscaped) {
  EXPECT_EQ(printable("a\x1b[31mb\x07\r\n\t"), "a\\x1b[31mb\\x07\\r\\n\\t");
  EXPECT_EQ(printable("caf\xc3\xa9 C:\\dir"), "caf\xc3\xa9 C:\\dir");  // printable as it is
  EXPECT_EQ(printable("\xc2\x9b" "2J"), "\\xc2\\x9b2J");                // C1 CSI in UTF-8
  EXPECT_EQ(printable("\x9b\xff"), "\\x9b\\xff");                       // bytes that are no UTF-8
  EXPECT_EQ(printable("x\xe2\x80\xaey"), "x\\xe2\\x80\\xaey");          // right-to-left override
  for (const std::string& s : hostile_strings()) {
    const std::string p = printable(s);
    ASSERT_TRUE(terminal_safe(p)) << p;
    ASSERT_EQ(to_utf8(p), p) << p;  // valid UTF-8
  }
}

TEST(SafeText, CsvTextCellsAreNoFormulas) {
  EXPECT_EQ(ws::present::csv_text("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
  for (const char* f : {"+1", "-1+2", "@SUM(A1)", "\tx", "\rx"})
    EXPECT_EQ(ws::present::csv_text(f), std::string("'") + f);
  EXPECT_EQ(ws::present::csv_text("curl"), "curl");
  EXPECT_EQ(ws::present::csv_text(""), "");
  ws::trace::TraceHeader h;
  ws::EventBuilder b;
  b.begin(ws::FuncId::getaddrinfo, 1, 2, 1000).result(-1).str(ws::FieldId::host, "=1+1");
  const std::string row = ws::present::csv_row(b.event(), h, {"@evil", 0});
  EXPECT_NE(row.find(",'@evil,"), std::string::npos) << row;
  EXPECT_NE(row.find(",'=1+1"), std::string::npos) << row;
  EXPECT_NE(row.find(",-1,"), std::string::npos) << row;  // the result stays a number
}

}  // namespace

namespace {

// Windows words shown as a developer reads them: WSAStartup's MAKEWORD(2, 2) as 2.2, and
// WSAEventSelect's mask as its FD_* names.
TEST(ValueText, WinsockVersionAndNetworkEvents) {
  using ws::FieldId;
  ws::Value v;
  v.num = 0x0202;
  EXPECT_EQ(ws::present::value_text(ws::field_def(FieldId::version), v), "2.2");
  v.num = 0x0101;
  EXPECT_EQ(ws::present::value_text(ws::field_def(FieldId::version), v), "1.1");
  v.num = 0x21;  // FD_READ | FD_CLOSE
  EXPECT_EQ(ws::present::value_text(ws::field_def(FieldId::mask), v), "FD_READ|FD_CLOSE");
  v.num = 0x8;
  EXPECT_EQ(ws::present::value_text(ws::field_def(FieldId::mask), v), "FD_ACCEPT");
}

// select's sockets by the sets they were in (read, write, except) on both platforms: a Windows
// except set is how a failed connect is told, not "priority data".
TEST(ValueText, SelectSets) {
  using ws::FieldId;
  ws::EventBuilder b;
  b.begin(ws::FuncId::select, 1, 1, 0)
      .polls(FieldId::fds, {{7, ws::pollev::kRdnorm | ws::pollev::kRdband, ws::pollev::kRdband},
                            {8, ws::pollev::kOut, 0}});
  const ws::Value* v = b.event().get(FieldId::fds);
  ASSERT_NE(v, nullptr);
  const ws::FieldDef& def = ws::field_def(FieldId::fds);
  EXPECT_EQ(ws::present::value_text(def, *v, 40, ws::FuncId::select),
            "[7:read|except->except, 8:write->-]");
  // A poll's list keeps its POLL* names.
  EXPECT_EQ(ws::present::value_text(def, *v, 40, ws::FuncId::poll).find("except"),
            std::string::npos);
}

}  // namespace
