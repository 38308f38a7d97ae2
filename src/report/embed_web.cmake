# Turns the page's files (src/report/web/) into a C++ header of string constants, so that
# wstrace carries its report page inside. Run as
#   cmake -DOUT=report_assets.h "-DFILES=name=path|name=path…" -P embed_web.cmake
# A file may not contain the raw string's closing delimiter (checked). GCC and mingw-w64 take
# string literals of any length (MSVC would need them cut into pieces).
set(delim "ws_web")
set(text "// Generated from src/report/web/ by embed_web.cmake: DO NOT EDIT.\n#pragma once\n#include <string_view>\nnamespace ws::report::web {\n")
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
string(APPEND text "}  // namespace ws::report::web\n")
file(WRITE "${OUT}.tmp" "${text}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
