// The live view where no embedded web server is built (the Windows build: Debian's cpp-httplib
// ships its implementation compiled for Linux only, docs/dependencies.md).
#include "live_server.h"

namespace ws::ui {

std::string no_live_view() {
  return "this build of wstrace has no live view (--ui, `wstrace ui`): it is built without an "
         "embedded web server; record to a file and run `wstrace report` on it instead";
}

Result<std::unique_ptr<LiveServer>> start_live_server(report::LiveFeed&, const ServeOptions&) {
  return Status::error(no_live_view());
}

}  // namespace ws::ui
