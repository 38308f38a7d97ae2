// HTTP exchanges and TLS hellos as rows: the text table and JSON objects of `http`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "http_watch.h"
#include "tracker.h"
#include "trace_format.h"
#include "view.h"

namespace ws::present {

std::string http_header();
// `first_ts` is the trace's first timestamp, for relative times.
std::string exchange_row(const inspect::HttpExchange& x, const inspect::Tracker& t,
                         const trace::TraceHeader& h, const TextOptions& text, int64_t first_ts);
// The lines under a row with --headers: "> name: value" for the request, "<" for the response.
std::vector<std::string> exchange_header_lines(const inspect::HttpExchange& x);
nlohmann::ordered_json exchange_json(const inspect::HttpExchange& x, const trace::TraceHeader& h);

std::string tls_row(const inspect::TlsInfo& t, const inspect::Tracker& tracker,
                    const trace::TraceHeader& h, const TextOptions& text, int64_t first_ts);
nlohmann::ordered_json tls_json(const inspect::TlsInfo& t, const trace::TraceHeader& h);

}  // namespace ws::present
