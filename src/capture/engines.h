// The live engines a platform offers, for the registry (live_engines.cc). Each platform's
// folder defines platform_engines(); a new engine (the kernel engine) is one more entry there.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "record.h"

namespace ws::capture {

struct EngineEntry {
  std::string_view name;  // what `record --engine` takes
  // Starts a program under this engine (start_record's contract).
  RecordError (*record)(const RecordOptions& opt, std::unique_ptr<LiveEngine>& out,
                        std::string& warning);
  // Attaches to running processes (start_attach's contract); nullptr: this engine cannot.
  RecordError (*attach)(const RecordOptions& opt, std::unique_ptr<LiveEngine>& out);
  // Records every process (start_system's contract); nullptr: this engine cannot.
  RecordError (*system)(const RecordOptions& opt, std::unique_ptr<LiveEngine>& out) = nullptr;
};

// This platform's engines; attach and system-wide capture use the first that can.
std::span<const EngineEntry> platform_engines();

// The engine `record --engine auto` runs `opt.argv` with; `why` gets one line to show before it
// runs when that is not the first engine (empty otherwise).
const EngineEntry& platform_auto_engine(const RecordOptions& opt, std::string& why);

}  // namespace ws::capture
