// csv, jsonl and text: the rows of `show --csv`, `show --json` and `show`, byte for byte (show
// itself writes through this exporter).
#include "exporter.h"
#include "notes.h"
#include "output.h"

namespace ws::exporter {
namespace {

class RowsExporter final : public Exporter {
 public:
  RowsExporter(Format f, const ExportOptions& opt) : format_(f), opt_(opt) {}

  Status begin(const trace::TraceHeader& header, const inspect::Inspector& in) override {
    header_ = header;
    inspector_ = &in;
    if (Status s = out_.open(opt_.out_path); !s.ok()) return s;
    if (format_ == Format::Csv) line(present::csv_header());
    return Status();
  }

  void on_event(const inspect::Facts& f) override {
    if (!f.matched) return;
    const Event& ev = f.ev;
    const present::LineNotes notes = present::line_notes(f, name_);
    switch (format_) {
      case Format::Csv: line(present::csv_row(ev, header_, notes)); break;
      case Format::Jsonl: line(present::json_line(ev, header_, notes)); break;
      default:
        line(present::event_line(ev, header_, opt_.text, inspector_->first_ts(), notes));
        break;
    }
  }

  Status finish() override { return out_.commit(); }

 private:
  void line(std::string s) {
    s += '\n';
    out_.write(s);
  }

  Format format_;
  ExportOptions opt_;
  Output out_;
  trace::TraceHeader header_;
  const inspect::Inspector* inspector_ = nullptr;
  std::string name_;
};

}  // namespace

Result<std::unique_ptr<Exporter>> make_rows_exporter(Format f, const ExportOptions& opt) {
  return std::unique_ptr<Exporter>(new RowsExporter(f, opt));
}

}  // namespace ws::exporter
