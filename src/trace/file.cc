#include "file.h"

#include <fmt/format.h>

namespace ws::trace {

Status disk_full(const std::string& path, uint64_t written, bool kept) {
  if (!kept)
    return Status::error(fmt::format("disk full while writing {}: free some space and try again",
                                     path));
  return Status::error(fmt::format(
      "disk full while writing {}: free some space and record again (the first {} bytes are kept "
      "and readable)",
      path, written));
}

}  // namespace ws::trace
