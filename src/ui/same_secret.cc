#include "live_server.h"

namespace ws::ui {

bool same_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;  // (the token's length is no secret)
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace ws::ui
