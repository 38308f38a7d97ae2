// The live view where no embedded web server is built (the Windows build: Debian's cpp-httplib
// ships its implementation compiled for Linux only, docs/dependencies.md).
#include "live_server.h"

namespace ws::ui {

Result<std::unique_ptr<LiveServer>> start_live_server(report::LiveFeed&, const ServeOptions&) {
  return Status::error(
      "this build of wstrace has no live view (--ui, `wstrace ui`): it is built without an "
      "embedded web server; record to a file and run `wstrace report` on it instead");
}

}  // namespace ws::ui
