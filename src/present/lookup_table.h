// Name lookups as rows: the text table and JSON objects of `dns`.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "lookups.h"
#include "tracker.h"
#include "trace_format.h"
#include "view.h"

namespace ws::present {

std::string lookup_header();
// `first_ts` is the trace's first timestamp, for relative times.
std::string lookup_row(const inspect::Lookup& l, const inspect::Tracker& t,
                       const trace::TraceHeader& h, const TextOptions& text, int64_t first_ts);
nlohmann::ordered_json lookup_json(const inspect::Lookup& l, const inspect::Tracker& t,
                                   const trace::TraceHeader& h);

}  // namespace ws::present
