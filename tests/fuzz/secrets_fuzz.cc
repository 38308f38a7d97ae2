// Any bytes fed to the secret scanner, in any pieces: ranges stay inside each piece, and a
// stream cut into pieces masks at least every byte that the whole stream masks (a cut may only
// mask more: a URL password still open at a piece's end).
//
// Input: a header of 4 bytes sets the split sizes (one byte each, 0 = the rest); the rest is
// the stream (the seeds of the HTTP fuzz target, whose header is longer, work too).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "secrets.h"

namespace {

using ws::decode::MaskRange;

// Which bytes of `stream` are masked when it is fed in pieces of the given sizes.
std::vector<bool> masks(std::span<const uint8_t> stream, const uint8_t* sizes) {
  ws::decode::SecretScanner s;
  std::vector<MaskRange> ranges;
  std::vector<bool> out(stream.size());
  size_t at = 0;
  for (int piece = 0; piece < 5 && at < stream.size(); ++piece) {
    const size_t left = stream.size() - at;
    const size_t n = piece < 4 && sizes && sizes[piece] && sizes[piece] < left ? sizes[piece]
                                                                               : left;
    s.scan(stream.subspan(at, n), ranges);
    for (const MaskRange& r : ranges) {
      if (r.size == 0 || size_t{r.offset} + r.size > n) std::abort();
      for (uint32_t i = 0; i < r.size; ++i) out[at + r.offset + i] = true;
    }
    at += n;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const std::span<const uint8_t> stream(data + 4, size - 4);
  const std::vector<bool> whole = masks(stream, nullptr);
  const std::vector<bool> cut = masks(stream, data);
  for (size_t i = 0; i < stream.size(); ++i)
    if (whole[i] && !cut[i]) std::abort();
  return 0;
}
