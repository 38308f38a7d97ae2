// Any bytes as a process name, a host name and a Unix socket path go through every JSON writer
// (show --json and export jsonl, the shared json_dump of the tables and the Chrome trace, the
// report's JsonOut) to JSON that parses, and through the text view to a line with no control
// characters: never an exception, never raw escape sequences.
//
// Input: two bytes give the lengths of the process name and the host name (each modulo the
// rest); what is left after them is the path.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "event_builder.h"
#include "json_out.h"
#include "safe_text.h"
#include "sockaddr.h"
#include "view.h"

namespace {

void must_parse(const std::string& json) {
  if (!nlohmann::json::accept(json)) std::abort();
}

void must_be_terminal_safe(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) std::abort();
    if (c == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xa0) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data + 2), size - 2);
  const size_t a = rest.empty() ? 0 : data[0] % (rest.size() + 1);
  const std::string_view name = rest.substr(0, a);
  rest.remove_prefix(a);
  const size_t b = rest.empty() ? 0 : data[1] % (rest.size() + 1);
  const std::string_view host = rest.substr(0, b);
  const std::string_view path = rest.substr(b);

  ws::trace::TraceHeader h;
  h.host = std::string(host);
  const ws::present::LineNotes notes{name, 1};
  ws::EventBuilder eb;
  eb.begin(ws::FuncId::getaddrinfo, 1, 2, 1000).result(0).str(ws::FieldId::host, host);
  must_parse(ws::present::json_line(eb.event(), h, notes));
  must_be_terminal_safe(ws::present::event_line(eb.event(), h, {}, 0, notes));
  (void)ws::present::csv_row(eb.event(), h, notes);
  eb.begin(ws::FuncId::connect, 1, 2, 1000).result(0).addr(
      ws::FieldId::addr, ws::SockAddr::unix_path(path));
  must_parse(ws::present::json_line(eb.event(), h, notes));
  must_be_terminal_safe(ws::present::event_line(eb.event(), h, {}, 0, notes));

  nlohmann::ordered_json j;
  j[std::string(name)] = {std::string(host), ws::to_string(ws::SockAddr::unix_path(path))};
  const std::string dumped = ws::present::json_dump(j, 2);
  must_parse(dumped);
  ws::report::JsonOut o;
  o.str(name);
  must_parse(o.text());
  must_be_terminal_safe(ws::present::printable(path));
  return 0;
}
