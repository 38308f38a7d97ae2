// The facts the Inspector works out once about each event, handed to the finding rules and to
// every subscriber (inspector.h).
#pragma once

#include <cstdint>
#include <string_view>

#include "error_class.h"
#include "event.h"
#include "tracker.h"

namespace ws::inspect {

// What the inspection worked out about one event; valid during the call it is given to.
struct Facts {
  const Event& ev;
  const Tracker& tracker;          // processes, names of addresses; a FilterContext for `ev`
  const Connection* conn;          // the event's connection; nullptr when it has none
  Tracker::Dir dir;                // which way it moves data (the end of a stream is In, 0 bytes)
  uint64_t moved;                  // bytes it moved (0 when dir is None)
  std::string_view payload;        // the bytes kept of those (a completion: its call's)
  ErrorClass error;                // the class of ev.error
  uint64_t completed_seq;          // the overlapped call it completed; 0 = none
  bool pending;                    // an overlapped call left pending (moves when it completes)
  bool matched;                    // it passed the filter
};

}  // namespace ws::inspect
