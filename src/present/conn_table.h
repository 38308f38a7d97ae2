// Connections as rows: the text table and JSON objects of `conns` (and of `stats`' per
// connection section).
#pragma once

#include <cstdio>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "tracker.h"
#include "trace_format.h"
#include "view.h"

namespace ws::present {

std::string conn_header();
std::string conn_row(const inspect::Connection& c, const inspect::Tracker& t,
                     const trace::TraceHeader& h, const TextOptions& text,
                     int64_t first_ts);
nlohmann::ordered_json conn_json(const inspect::Connection& c, const inspect::Tracker& t,
                                 const trace::TraceHeader& h);

// Prints rows in id order although connections end in any order: a row waits until every
// lower id has been put. Ids are dense (1, 2, 3 …); an empty row is skipped.
class InOrder {
 public:
  ~InOrder();  // flushes
  void put(uint64_t id, std::string row);
  void flush();

 private:
  void emit(const std::string& row);
  uint64_t next_ = 1;
  std::map<uint64_t, std::string> waiting_;
  std::string out_;  // rows not yet written: one write per 64 KiB
};

}  // namespace ws::present
