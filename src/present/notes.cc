#include "notes.h"

namespace ws::present {

LineNotes line_notes(const inspect::Facts& f, std::string& name) {
  const inspect::Process* p = f.tracker.process(f.ev.pid);
  name = p && !p->image.empty() ? p->name() : std::string();
  return LineNotes{name, f.conn ? f.conn->id : 0};
}

}  // namespace ws::present
