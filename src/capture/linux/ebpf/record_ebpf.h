// The kernel engine (`record --engine ebpf`): BPF programs at the system call tracepoints see
// the socket calls of the program and its descendants — static binaries, Go, raw syscall()
// included — and the collector writes them as the preload engine's events.
#pragma once

#include <memory>
#include <string>

#include "record.h"

namespace ws::capture {

// start_record's contract. Refuses (RecordError, nothing run, no file left) when the BPF
// programs cannot be loaded here — no privileges, no BTF, a build without the engine —
// saying what to do.
RecordError record_ebpf(const RecordOptions& opt, std::unique_ptr<LiveEngine>& out,
                        std::string& warning);

// start_attach's and start_system's contracts, with the same refusals.
RecordError attach_ebpf(const RecordOptions& opt, std::unique_ptr<LiveEngine>& out);
RecordError system_ebpf(const RecordOptions& opt, std::unique_ptr<LiveEngine>& out);

// Whether this build has the kernel engine.
bool ebpf_built();
// Why the kernel engine cannot run here, and what to do (privileges, BTF, a build without it);
// empty when it may.
std::string ebpf_unavailable();

}  // namespace ws::capture
