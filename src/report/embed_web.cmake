# Turns the page's files (src/report/web/) into a C++ header of string constants, so that
# wstrace carries its report page inside. Run as
#   cmake -DOUT=report_assets.h "-DFILES=name=path|name=path…" -P embed_web.cmake
# A file may not contain the raw string's closing delimiter (checked). GCC, clang and mingw-w64
# take string literals of any length; the standard only promises 65,536 characters, which
# report.js has outgrown, so the header turns -Woverlength-strings off for itself (MSVC would
# need the files cut into pieces).
set(delim "ws_web")
set(text "// Generated from src/report/web/ by embed_web.cmake: DO NOT EDIT.\n#pragma once\n#include <string_view>\n#pragma GCC diagnostic push\n#pragma GCC diagnostic ignored \"-Woverlength-strings\"\nnamespace ws::report::web {\n")
string(REPLACE "|" ";" entries "${FILES}")
foreach(entry ${entries})
  string(REPLACE "=" ";" parts "${entry}")
  list(GET parts 0 name)
  list(GET parts 1 path)
  file(READ "${path}" content)
  string(FIND "${content}" ")${delim}\"" bad)
  if(NOT bad EQUAL -1)
    message(FATAL_ERROR "${path} contains )${delim}\" and cannot be embedded")
  endif()
  string(APPEND text "inline constexpr std::string_view ${name} = R\"${delim}(${content})${delim}\";\n")
  # Its SHA-256 in hex: the page's Content-Security-Policy names each inline script by hash.
  string(SHA256 hash "${content}")
  string(APPEND text "inline constexpr std::string_view ${name}Sha256 = \"${hash}\";\n")
endforeach()
string(APPEND text "}  // namespace ws::report::web\n#pragma GCC diagnostic pop\n")
file(WRITE "${OUT}.tmp" "${text}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
