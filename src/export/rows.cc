// csv, jsonl and text: the rows of `show --csv`, `show --json` and `show`, byte for byte (show
// itself writes through this exporter).
#include "exporter.h"
#include "output.h"

namespace ws::exporter {
namespace {

class RowsExporter final : public Exporter {
 public:
  RowsExporter(Format f, const ExportOptions& opt) : format_(f), opt_(opt) {}

  Status begin(const trace::TraceHeader& header) override {
    header_ = header;
    if (Status s = out_.open(opt_.out_path); !s.ok()) return s;
    if (format_ == Format::Csv) line(present::csv_header());
    return Status();
  }

  void observe(const Event& ev) override {
    if (first_) first_ts_ = ev.ts, first_ = false;
  }

  Status add(const Event& ev, const inspect::Tracker& tracker) override {
    const inspect::Process* p = tracker.process(ev.pid);
    name_ = p && !p->image.empty() ? p->name() : std::string();
    const present::LineNotes notes{name_, tracker.connection_id(ev)};
    switch (format_) {
      case Format::Csv: line(present::csv_row(ev, header_, notes)); break;
      case Format::Jsonl: line(present::json_line(ev, header_, notes)); break;
      default: line(present::event_line(ev, header_, opt_.text, first_ts_, notes)); break;
    }
    return Status();
  }

  Status finish(const inspect::Tracker&) override { return out_.commit(); }

 private:
  void line(std::string s) {
    s += '\n';
    out_.write(s);
  }

  Format format_;
  ExportOptions opt_;
  Output out_;
  trace::TraceHeader header_;
  std::string name_;
  int64_t first_ts_ = 0;
  bool first_ = true;
};

}  // namespace

Result<std::unique_ptr<Exporter>> make_rows_exporter(Format f, const ExportOptions& opt) {
  return std::unique_ptr<Exporter>(new RowsExporter(f, opt));
}

}  // namespace ws::exporter
