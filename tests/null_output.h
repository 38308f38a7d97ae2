// An output file that only counts what it is given: for tests and fuzz targets that drive a
// TraceWriter (a collector, say) and look at the events rather than the file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "file.h"

namespace ws::testing_support {

class NullOutput final : public trace::OutputFile {
 public:
  Status write(std::string_view data) override {
    written_ += data.size();
    return {};
  }
  uint64_t written() const override { return written_; }
  Status commit() override { return {}; }
  const std::string& temp_path() const override { return path_; }

 private:
  uint64_t written_ = 0;
  std::string path_;
};

}  // namespace ws::testing_support
