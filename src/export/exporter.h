// `wstrace export`: one interface for every output format, so that the command reads the trace,
// follows it with a tracker, applies --filter and hands each chosen event to one exporter.
//
// Order of calls: begin() once; for every event of the trace, in trace order and after the
// tracker observed it (so tracker.connection() and tracker.direction() answer for it),
// observe(), then add() when it passed the filter; then finish() once (after
// tracker.finish(), so every connection has been handed to on_end). A connection is `marked`
// once one of its calls passed the filter (as in `conns --filter`).
// An exporter that needs whole connections (pcapng's FIN/RST, sqlite's connections table)
// overrides connection_ended(), which export_events() forwards from Tracker::on_end.
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
#include "tracker.h"
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

class Exporter {
 public:
  virtual ~Exporter() = default;
  virtual Status begin(const trace::TraceHeader& header) = 0;
  // Every event of the trace, whether it passed the filter or not (sqlite's lookups, http and
  // findings describe the whole trace; text's relative times count from the first event).
  virtual void observe(const Event&) {}
  virtual Status add(const Event& ev, const inspect::Tracker& tracker) = 0;
  // A connection the tracker has finished with (closed, its process ended, or open at the end).
  virtual void connection_ended(const inspect::Connection&) {}
  // Writes what is left and closes the file; the output is complete only when this succeeded.
  virtual Status finish(const inspect::Tracker& tracker) = 0;
};

// One factory per format; each lives in its own file (pcapng.cc, sqlite.cc, chrome.cc, rows.cc).
Result<std::unique_ptr<Exporter>> make_exporter(Format f, const ExportOptions& opt);
Result<std::unique_ptr<Exporter>> make_pcapng_exporter(const ExportOptions& opt);

// Reads `engine` to its end through `exp` in the order above, with a tracker of its own;
// `progress` (if set) is called every few thousand events. An error of the exporter stops the
// reading; how the trace itself ended is the engine's end().
Status export_events(Engine& engine, const inspect::Filter& filter, Exporter& exp,
                     const std::function<void()>& progress = {});

}  // namespace ws::exporter
