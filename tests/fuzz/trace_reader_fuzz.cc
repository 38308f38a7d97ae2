// Any bytes given to the trace reader end in events and a verdict, never a crash or a hang.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine.h"
#include "event_builder.h"
#include "reader.h"
#include "sockaddr.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = ws::trace::TraceReader::open(
      ws::trace::memory_input(std::string(reinterpret_cast<const char*>(data), size)), "fuzz");
  if (!r.ok()) return 0;
  ws::Event ev;
  std::vector<ws::SockAddr> addrs;
  std::vector<ws::PollEntry> polls;
  while (r.value()->next(ev)) {
    // Decode every blob the way the presenters will.
    for (uint8_t i = 0; i < ev.nvalues; ++i) {
      const auto& v = ev.values[i];
      const auto& def = ws::field_def(v.id);
      ws::SockAddr a;
      if (def.type == ws::FieldType::Addr && ws::decode_addr(v.bytes(), a)) (void)ws::to_string(a);
      if (def.type == ws::FieldType::AddrList) (void)ws::decode_addr_list(v.bytes(), addrs);
      if (def.type == ws::FieldType::PollList) (void)ws::decode_poll_list(v.bytes(), polls);
    }
  }
  return 0;
}
