#include "engine.h"
#include "redact.h"

namespace ws {
namespace {

class MaskingEngine final : public Engine {
 public:
  explicit MaskingEngine(std::unique_ptr<Engine> inner) : inner_(std::move(inner)) {}
  const trace::TraceHeader& header() const override { return inner_->header(); }
  bool next(Event& ev) override {
    if (!inner_->next(ev)) return false;
    redactor_.redact(ev);
    return true;
  }
  const trace::ReadProblem& end() const override { return inner_->end(); }

 private:
  std::unique_ptr<Engine> inner_;
  decode::PayloadRedactor redactor_;
};

}  // namespace

std::unique_ptr<Engine> mask_secrets(std::unique_ptr<Engine> inner) {
  return std::make_unique<MaskingEngine>(std::move(inner));
}

}  // namespace ws
