// This build's identity (generated into build_id.cc by cmake/BuildId.cmake at every build).
#pragma once

namespace ws {
extern const char kVersion[];  // "0.1.0"
extern const char kCommit[];   // 12 hex digits of the commit, "-dirty" after it when the
                               // tracked files had changes; "unknown" outside git
// "VERSION+COMMIT": what the collector and its agents must share (ring.h's RegionHeader::build).
extern const char kBuildId[];
}  // namespace ws
