// The HTML report as one self-contained file: the page (src/report/web/, built into wstrace)
// with the report's data inline as JSON (docs/report.md describes its layout).
#pragma once

#include <string>

#include "report_data.h"
#include "status.h"

namespace ws::report {

// The data as the page reads it: one JSON object, columnar for the calls. Every '<' is written
// as \u003c so that the text can sit inside a <script> element.
std::string report_json(const ReportData& data);

// A part of the data for the live view's page, which adds it to what it has (report.js'
// applyPart): without the tables that never change unless `statics`; the strings from
// `strings_from` on, taken from `strings` (the whole table: `data` holds a part of the calls);
// `live` (raw JSON) becomes the part's "live" object.
struct JsonPart {
  bool statics = true;
  const std::vector<std::string>* strings = nullptr;  // nullptr: data.strings
  size_t strings_from = 0;
  std::string live = "null";
};
std::string report_json(const ReportData& data, const JsonPart& part);

// The whole page with the data inline.
std::string report_html(const ReportData& data);
// The page with `json` as its data; `served` by the live view's server (its CSP then lets the
// page open the event stream from the page's own origin).
std::string report_page(const std::string& json, bool served);
// The page's Content-Security-Policy.
std::string page_csp(bool served);

// Writes report_html(data) to `path`; a Status naming the path when it cannot.
Status write_report(const std::string& path, const ReportData& data);

}  // namespace ws::report
