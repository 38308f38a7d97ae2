// A build without libsqlite3 (the Windows one, cross-built with mingw-w64): the format is named
// but not available.
#include "exporter.h"

namespace ws::exporter {

Result<std::unique_ptr<Exporter>> make_sqlite_exporter(const ExportOptions&) {
  return Status::error(
      "this build of wstrace has no sqlite export (the Windows build has no SQLite library): "
      "export on Linux, where traces from Windows read the same");
}

}  // namespace ws::exporter
