# Libraries from Debian's packages (see docs/dependencies.md for why each was chosen).
# fmt, CLI11 and nlohmann-json are used header-only so that the mingw-w64 build uses the very
# same headers as the Linux build; GoogleTest is built from Debian's source package for both.
add_library(ws_thirdparty INTERFACE)
if(CMAKE_CROSSCOMPILING)
  # The host's /usr/include cannot be put on a cross compiler's path as a whole: link just
  # the header-only libraries into a folder of their own.
  set(_hdr ${CMAKE_BINARY_DIR}/third_party_include)
  file(MAKE_DIRECTORY ${_hdr})
  foreach(_lib fmt CLI nlohmann)
    if(NOT EXISTS ${_hdr}/${_lib})
      file(CREATE_LINK /usr/include/${_lib} ${_hdr}/${_lib} SYMBOLIC)
    endif()
  endforeach()
  target_include_directories(ws_thirdparty SYSTEM INTERFACE ${_hdr})
endif()
target_compile_definitions(ws_thirdparty INTERFACE FMT_HEADER_ONLY)

set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
set(BUILD_GMOCK OFF CACHE BOOL "" FORCE)
set(gtest_force_shared_crt ON CACHE BOOL "" FORCE)
if(NOT WSTRACE_FUZZ)
  add_subdirectory(/usr/src/googletest ${CMAKE_BINARY_DIR}/googletest EXCLUDE_FROM_ALL)
endif()
