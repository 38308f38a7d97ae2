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

// The whole page with the data inline.
std::string report_html(const ReportData& data);

// Writes report_html(data) to `path`; a Status naming the path when it cannot.
Status write_report(const std::string& path, const ReportData& data);

}  // namespace ws::report
