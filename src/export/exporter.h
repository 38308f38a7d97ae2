// `wstrace export`: one interface for every output format. An exporter is a subscriber of the
// one Inspector (inspect/inspector.h): it gets every event with its facts (Facts::matched says
// whether it passed --filter), the connections as they end (Connection::matched: one of its
// calls passed the filter, as in `conns --filter`), and what the watchers found when the format
// asks for them (sqlite's lookups, HTTP, TLS and findings describe the whole trace).
//
// Order of calls: begin() once; the Inspector's callbacks while the trace is read; finish()
// once, after the inspection finished (every connection has been handed over).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "engine.h"
#include "event.h"
#include "filter.h"
#include "status.h"
#include "inspector.h"
#include "trace_format.h"
#include "view.h"

namespace ws::exporter {

enum class Format : uint8_t { Pcapng, Csv, Jsonl, Text, Sqlite, Chrome };

// "pcapng" → Format::Pcapng; false for a name that is not a format.
bool parse_format(std::string_view name, Format& out);
std::string_view format_name(Format f);

struct ExportOptions {
  std::string out_path;          // the file written ("-" = stdout, for the text formats only)
  present::TextOptions text;     // text: times (UTC, or relative as show --relative), -x dumps
};

class Exporter : public inspect::Subscriber {
 public:
  // What the format needs of the inspection beyond the tracker.
  virtual bool wants_http() const { return false; }      // on_exchange, on_tls
  virtual bool wants_findings() const { return false; }  // inspector.findings() at finish()
  // Opens the output. `inspector` answers for processes and names while events arrive, and
  // holds the findings at finish(); it outlives the export.
  virtual Status begin(const trace::TraceHeader& header, const inspect::Inspector& inspector) = 0;
  // Writes what is left and closes the file; the output is complete only when this succeeded.
  virtual Status finish() = 0;
  // The first failure while events arrived (callbacks cannot return one); export_events()
  // stops reading at it.
  const Status& problem() const { return problem_; }

 protected:
  void keep(Status s) {
    if (problem_.ok() && !s.ok()) problem_ = std::move(s);
  }

 private:
  Status problem_;
};

// One factory per format; each lives in its own file (pcapng.cc, sqlite.cc, chrome.cc, rows.cc).
Result<std::unique_ptr<Exporter>> make_exporter(Format f, const ExportOptions& opt);
Result<std::unique_ptr<Exporter>> make_pcapng_exporter(const ExportOptions& opt);

// Reads `engine` to its end through one Inspector (with `filter`) and `exp` in the order above;
// `progress` (if set) is called every few thousand events. An error of the exporter stops the
// reading; how the trace itself ended is the engine's end().
Status export_events(Engine& engine, const inspect::Filter& filter, Exporter& exp,
                     const std::function<void()>& progress = {});

}  // namespace ws::exporter
