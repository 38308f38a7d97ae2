#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.h"
#include "common.h"
#include "writer.h"

namespace ws::cli {
namespace {

struct SynthOptions {
  std::string scenario, out, platform = "linux";
};

int run_synth(const SynthOptions& o) {
  Platform p = o.platform == "windows" ? Platform::Windows : Platform::Linux;
  auto engine = make_synthetic_engine(o.scenario, p);
  if (!engine.ok()) {
    report(engine.status().message());
    return kExitUsage;
  }
  auto& src = *engine.value();
  auto writer = trace::TraceWriter::create(o.out, src.header());
  if (!writer.ok()) {
    report(writer.status().message());
    return kExitError;
  }
  Event ev;
  int64_t last = src.header().mono_anchor_ns;
  while (src.next(ev)) {
    last = ev.ts + static_cast<int64_t>(ev.dur);
    if (Status s = writer.value()->write(ev); !s.ok()) {
      report(s.message());
      return kExitError;
    }
  }
  if (Status s = writer.value()->close(last); !s.ok()) {
    report(s.message());
    return kExitError;
  }
  return kExitOk;
}

}  // namespace

void add_synth_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<SynthOptions>();
  auto* cmd = app.add_subcommand(
      "synth", "Write a trace of a built-in scenario (for demos, tests and benchmarks)");
  cmd->add_option("SCENARIO", o->scenario,
                  "demo; retransmissions (a Linux upload with the kernel engine's TCP events); bench:N (N send/recv events), conns:N (N events of short "
                  "connections), ports:N (the same, each connection to a port of its own), payload:N (a download of N bytes)")
      ->required();
  cmd->add_option("-o,--output", o->out, "trace file to write")->required();
  cmd->add_option("--platform", o->platform, "whose functions and error codes to use")
      ->check(CLI::IsMember({"linux", "windows"}));
  cmd->callback([o, &exit_code] { exit_code = run_synth(*o); });
}

}  // namespace ws::cli
