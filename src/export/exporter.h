// `wstrace export`: one interface for every output format, so that the command reads the trace,
// follows it with a tracker, applies --filter and hands each chosen event to one exporter.
//
// Order of calls: begin() once, add() for every event that passed the filter (in trace order,
// after the tracker observed it, so tracker.connection() and tracker.direction() answer for it),
// then finish() once (after tracker.finish(), so every connection has been handed to on_end).
// An exporter that needs whole connections (pcapng's FIN/RST, sqlite's connections table) may
// set its own handler through connection_ended(), which the command forwards from
// Tracker::on_end.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "event.h"
#include "status.h"
#include "tracker.h"
#include "trace_format.h"

namespace ws::exporter {

enum class Format : uint8_t { Pcapng, Csv, Jsonl, Text, Sqlite, Chrome };

// "pcapng" → Format::Pcapng; false for a name that is not a format.
bool parse_format(std::string_view name, Format& out);
std::string_view format_name(Format f);

struct ExportOptions {
  std::string out_path;          // the file written ("-" = stdout, for the text formats only)
  int64_t utc_offset_ns = 0;     // text: local time zone
};

class Exporter {
 public:
  virtual ~Exporter() = default;
  virtual Status begin(const trace::TraceHeader& header) = 0;
  virtual Status add(const Event& ev, const inspect::Tracker& tracker) = 0;
  // A connection the tracker has finished with (closed, its process ended, or open at the end).
  virtual void connection_ended(const inspect::Connection&) {}
  // Writes what is left and closes the file; the output is complete only when this succeeded.
  virtual Status finish(const inspect::Tracker& tracker) = 0;
};

// One factory per format; each lives in its own file (pcapng.cc, sqlite.cc, chrome.cc, rows.cc).
Result<std::unique_ptr<Exporter>> make_exporter(Format f, const ExportOptions& opt);
Result<std::unique_ptr<Exporter>> make_pcapng_exporter(const ExportOptions& opt);

}  // namespace ws::exporter
