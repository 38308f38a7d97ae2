#include "engine.h"

namespace ws {
namespace {

class FileEngine final : public Engine {
 public:
  explicit FileEngine(std::unique_ptr<trace::TraceReader> r) : reader_(std::move(r)) {}
  const trace::TraceHeader& header() const override { return reader_->header(); }
  bool next(Event& ev) override { return reader_->next(ev); }
  const trace::ReadProblem& end() const override { return reader_->problem(); }

 private:
  std::unique_ptr<trace::TraceReader> reader_;
};

}  // namespace

Result<std::unique_ptr<Engine>> open_file_engine(const std::string& path,
                                                 trace::TraceReader::Options opt) {
  auto r = trace::TraceReader::open(path, std::move(opt));
  if (!r.ok()) return r.status();
  return std::unique_ptr<Engine>(new FileEngine(std::move(r.value())));
}

}  // namespace ws
