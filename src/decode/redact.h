// Masks the secrets of HTTP/1.x (secrets.h) in the payloads of a stream of events: each
// direction of each socket of each process is one byte stream, so that a header cut between
// two calls is still masked. Used where payloads are read (every command, unless told to show
// secrets) and by `record --redact` before they are written.
//
// Memory: one small scanner per direction of each socket that carried a payload, forgotten
// when the socket is closed or its process ends.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "event.h"
#include "secrets.h"

namespace ws::decode {

class PayloadRedactor {
 public:
  // Follows `ev` (call for every event, in trace order). When its payload held a secret, the
  // payload value is pointed at a masked copy of the same length, valid until the next call,
  // and true is returned; otherwise `ev` is left as it was.
  bool redact(Event& ev);

 private:
  struct Key {
    uint32_t pid;
    uint64_t sock;
    bool out;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const {
      return (k.sock * 0x9E3779B97F4A7C15ull) ^ (uint64_t{k.pid} << 17) ^ k.out;
    }
  };
  void forget(const Event& ev);
  bool outbound(const Event& ev, const Value* op);

  std::unordered_map<Key, SecretScanner, KeyHash> streams_;
  // Overlapped sends under way (pid, op): their completion's payload, if any, went out.
  std::unordered_set<uint64_t> pending_sends_;
  std::vector<MaskRange> ranges_;
  std::string masked_;
};

}  // namespace ws::decode
