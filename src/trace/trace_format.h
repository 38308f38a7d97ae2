// The trace file (.wst) layout, shared by the writer and the reader. docs/trace-format.md
// describes it for people who write their own readers; keep the two in step.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "constants.h"

namespace ws::trace {

// The file starts with these 8 bytes, then u16 major, u16 minor, u32 reserved (0).
inline constexpr std::string_view kSignature{"\x89WST\r\n\x1a\n", 8};
inline constexpr uint16_t kFormatMajor = 1;  // bumped only when old readers cannot cope
inline constexpr uint16_t kFormatMinor = 0;  // bumped when something is appended
inline constexpr size_t kPreambleSize = 16;

// Every block: u32 type, u32 total length (these 8 bytes + body + 4), body, u32 CRC-32 of the
// type, length and body. Readers skip block types they do not know.
enum class BlockType : uint32_t { Header = 1, Schema = 2, Events = 3, Footer = 4 };
inline constexpr size_t kBlockOverhead = 12;
inline constexpr uint32_t kMaxBlockSize = 64u << 20;     // anything larger is damage
inline constexpr size_t kTargetEventsBlockSize = 64u << 10;  // writers close a block near this

// What the trace says about where and how it was recorded.
struct TraceHeader {
  std::string wstrace_version;
  std::string host;
  std::string os;                  // "Linux 6.1.0-18-amd64", "Windows 10.0.19045"
  Platform platform = Platform::Unknown;
  std::string arch;                // "x86_64"
  std::string command;             // what was traced, as typed
  uint64_t snaplen = 0;            // payload bytes kept per call
  bool follow_children = true;
  int64_t wall_anchor_ns = 0;      // UTC nanoseconds since 1970 …
  int64_t mono_anchor_ns = 0;      // … at this monotonic time: wall = anchor + (ts - mono)
  bool redacted = false;           // credentials in payloads were masked when recorded
  std::string engine;              // the capture engine that recorded it ("preload", "ebpf", …;
                                   // empty in traces of wstrace before engines were named)
  std::string mode;                // what was traced: "program" (empty too), "attach" (running
                                   // processes), "system" (every process)
  // Properties this version of wstrace does not know, kept as they were read.
  std::vector<std::pair<std::string, std::string>> extra;

  int64_t wall_ns(int64_t mono_ts) const { return wall_anchor_ns + (mono_ts - mono_anchor_ns); }
};

// Written last by a writer that closed the file properly.
struct TraceFooter {
  uint64_t events = 0;
  int64_t end_ts = 0;  // monotonic time the recording stopped
};

}  // namespace ws::trace
