# This build's identity: the version and the commit it was built from, in build_id.cc (and, on
# Windows, the version resource of wstrace.exe). `wstrace --version`, the trace header and the
# agents read it from there; the collector and each agent compare theirs through the shared
# rings (ring.h), so that an agent of another build is named instead of silently recording
# nothing. Run at configure time and again at every build (cmake -P): the files are rewritten
# only when the commit changed, so a build of the same commit recompiles nothing.
#   -DSOURCE_DIR= -DOUT_DIR= -DVERSION=X.Y.Z [-DRC=ON]
execute_process(COMMAND git -C "${SOURCE_DIR}" rev-parse --short=12 HEAD
                OUTPUT_VARIABLE commit RESULT_VARIABLE rc ERROR_QUIET
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0 OR commit STREQUAL "")
  set(commit "unknown")  # (built from a copy without git: said as such)
else()
  # Changes to tracked files not committed yet: the commit alone would not say what was built.
  execute_process(COMMAND git -C "${SOURCE_DIR}" status --porcelain --untracked-files=no
                  OUTPUT_VARIABLE changes ERROR_QUIET)
  if(NOT changes STREQUAL "")
    string(APPEND commit "-dirty")
  endif()
endif()
string(REPLACE "." ";" parts "${VERSION}")
list(GET parts 0 WS_MAJOR)
list(GET parts 1 WS_MINOR)
list(GET parts 2 WS_PATCH)
set(WS_VERSION "${VERSION}")
set(WS_COMMIT "${commit}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/build_id.cc.in ${OUT_DIR}/build_id.cc @ONLY)
if(RC)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/wstrace.rc.in ${OUT_DIR}/wstrace.rc @ONLY)
endif()
