// What the inspection adds to an event's line (view.h's LineNotes): its process's name and its
// connection, as `show`, `replay`, record's live lines and the text, CSV and JSON exports print
// them.
#pragma once

#include <string>

#include "inspector.h"
#include "view.h"

namespace ws::present {

// The notes of the event of `f`; `name` holds the process name the notes point to.
LineNotes line_notes(const inspect::Facts& f, std::string& name);

}  // namespace ws::present
