# One set of warnings for every target of ours; third-party code is built without them.
add_library(ws_warnings INTERFACE)
target_compile_options(ws_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
  -Wno-sign-conversion -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
  -Wdouble-promotion -Wformat=2 -Wimplicit-fallthrough)
if(WSTRACE_WARNINGS_AS_ERRORS)
  target_compile_options(ws_warnings INTERFACE -Werror)
endif()
