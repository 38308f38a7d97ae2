# One set of warnings for every target of ours; third-party code is built without them.
add_library(ws_warnings INTERFACE)
target_compile_options(ws_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
  -Wno-sign-conversion -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
if(WSTRACE_WARNINGS_AS_ERRORS)
  target_compile_options(ws_warnings INTERFACE -Werror)
endif()
if(WSTRACE_UNITY_BUILD AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC takes every file but the first of a unity batch for a header, and would say that a class
  # of one file holding a type of that file's anonymous namespace breaks the one-definition rule
  # across files: within one file, it does not.
  target_compile_options(ws_warnings INTERFACE -Wno-subobject-linkage)
endif()
