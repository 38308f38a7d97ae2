// How events look to people and to scripts. Everything here is derived from the event table:
// a new field shows up in the text view, the CSV columns and the JSON objects without edits here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "event.h"
#include "trace_format.h"

namespace ws::present {

enum class TimeMode { Local = 0, Utc, Relative };

struct TextOptions {
  TimeMode time = TimeMode::Utc;
  int64_t utc_offset_ns = 0;  // for TimeMode::Local: the caller's zone (present makes no OS calls)
  bool color = false;         // ANSI colours: function names, errors, durations
  bool hex = false;        // a hex+ASCII dump of payloads under the line
  size_t preview = 40;     // payload characters shown inline
};

// What a tracker knows about an event beyond its fields (present itself tracks nothing).
struct LineNotes {
  std::string_view process;  // "curl"; empty = unknown
  uint64_t conn = 0;         // connection id; 0 = none
};

// "12:00:00.001240 curl[4242/4242] #1 connect(sock=3, addr=127.0.0.1:8080) = 0 <150us>"
// Without notes (or an unknown process): "12:00:00.001240 4242/4242 connect(…) = 0 <150us>".
std::string event_line(const Event& ev, const trace::TraceHeader& h, const TextOptions& opt,
                       int64_t first_ts, const LineNotes& notes = {});
// The time column of event_line: "12:00:00.001240" (UTC or local) or "+0.001240" (relative).
std::string time_text(int64_t wall_ns, const TextOptions& opt, int64_t rel_ns);
// "ECONNREFUSED (The peer refused the connection)"
std::string error_text(const ErrorCode& e);
// One field value as the text view prints it; `func` is the call it belongs to (select's
// socket list names its sets: read, write, except).
std::string value_text(const FieldDef& def, const Value& v, size_t preview = 40,
                       FuncId func = FuncId::kCount);
// "1.2ms", "150us", "3.000s"
std::string duration_text(uint64_t ns);
// "2026-11-27T12:00:00.001240000Z"
std::string utc_text(int64_t wall_ns);
// Classic hexdump lines: offset, 16 bytes in hex, ASCII.
std::string hex_dump(std::string_view bytes, const std::string& indent);
// Escaped for display: \r \n \t \\ \" and \xNN for the rest of the non-printables.
std::string escape(std::string_view bytes);

// The CSV columns, in order: common columns, then every field of the table (Bytes fields
// become <name>_len and <name>_hex, lists are JSON text).
std::vector<std::string> csv_columns();
std::string csv_header();
std::string csv_row(const Event& ev, const trace::TraceHeader& h, const LineNotes& notes = {});
// One JSON object on one line (JSON Lines); fields appear only when the event has them.
std::string json_line(const Event& ev, const trace::TraceHeader& h, const LineNotes& notes = {});
// The keys every JSON object of one call starts with: seq, time, ts_ns, pid, tid and process
// (when known).
nlohmann::ordered_json call_json(uint64_t seq, int64_t ts, uint32_t pid, uint32_t tid,
                                 std::string_view process, const trace::TraceHeader& h);

}  // namespace ws::present
