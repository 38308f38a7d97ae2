// Every source of events — a trace file, a live capture, a synthetic scenario — is an engine
// behind this one interface, so that inspection runs the same way live and offline.
#pragma once

#include <memory>
#include <string>

#include "event.h"
#include "trace_format.h"
#include "reader.h"
#include "status.h"

namespace ws {

class Engine {
 public:
  virtual ~Engine() = default;
  virtual const trace::TraceHeader& header() const = 0;
  // The next event; false when there are no more. Blob values stay valid until the next call.
  virtual bool next(Event& ev) = 0;
  // After next() returned false: how the source ended (Kind::None = complete and clean).
  virtual const trace::ReadProblem& end() const = 0;
};

// Events from a trace file (following it while it grows when asked).
Result<std::unique_ptr<Engine>> open_file_engine(const std::string& path,
                                                 trace::TraceReader::Options opt = {});

// Deterministic events for demos, tests and benchmarks. Scenarios:
//   "demo"       a client on loopback: lookups (one failing), an HTTP exchange, refused connects,
//                a UDP DNS query, a connection reset by its peer;
//   "bench:N"    N payload-less send/recv events over a few connections;
//   "conns:N"    N events of connections that open, talk and close, 64 open at a time;
//   "payload:N"  a download of N bytes over one TCP connection, every byte kept (64 KiB a call).
// `platform` picks the platform whose functions and error codes the scenario uses.
Result<std::unique_ptr<Engine>> make_synthetic_engine(const std::string& scenario,
                                                      Platform platform);

// The events of `inner` with the credentials in their payloads masked (decode/redact.h): what
// every command reads unless asked to show secrets. `inner` is owned; the same header and end.
std::unique_ptr<Engine> mask_secrets(std::unique_ptr<Engine> inner);

}  // namespace ws
