# Libraries from Debian's packages (see docs/dependencies.md for why each was chosen).
# CLI11, nlohmann-json and Boost (Beast, Asio: the live view's server) are header-only; fmt is
# Debian's compiled library on Linux and used header-only by the mingw-w64 build (Debian has no
# Windows build of it), from the very same headers. GoogleTest is built from Debian's source
# package for both.
add_library(ws_thirdparty INTERFACE)
if(CMAKE_CROSSCOMPILING)
  # The host's /usr/include cannot be put on a cross compiler's path as a whole: link just
  # the header-only libraries into a folder of their own.
  set(_hdr ${CMAKE_BINARY_DIR}/third_party_include)
  file(MAKE_DIRECTORY ${_hdr})
  foreach(_lib fmt CLI nlohmann boost)
    if(NOT EXISTS ${_hdr}/${_lib})
      file(CREATE_LINK /usr/include/${_lib} ${_hdr}/${_lib} SYMBOLIC)
    endif()
  endforeach()
  target_include_directories(ws_thirdparty SYSTEM INTERFACE ${_hdr})
endif()
if(NOT EXISTS /usr/include/boost/beast.hpp)
  message(FATAL_ERROR "Boost.Beast is missing (the live view's server): install libboost-dev "
                      "(scripts/deps.sh)")
endif()
# Boost.Asio's sockets (Winsock on Windows), without deprecated interfaces; Beast with
# std::string_view.
add_library(ws_boost INTERFACE)
target_compile_definitions(ws_boost INTERFACE BOOST_ASIO_NO_DEPRECATED
                                             BOOST_BEAST_USE_STD_STRING_VIEW)
if(WIN32)
  target_link_libraries(ws_boost INTERFACE ws2_32 mswsock)
else()
  find_package(Threads REQUIRED)
  target_link_libraries(ws_boost INTERFACE Threads::Threads)
endif()
if(CMAKE_CROSSCOMPILING)
  target_compile_definitions(ws_thirdparty INTERFACE FMT_HEADER_ONLY)
else()
  # Header-only fmt compiles its whole implementation into every file that formats: linking the
  # library instead took a quarter off each such file's compile time.
  find_package(fmt REQUIRED)
  target_link_libraries(ws_thirdparty INTERFACE fmt::fmt)
endif()

set(INSTALL_GTEST OFF CACHE BOOL "" FORCE)
set(BUILD_GMOCK OFF CACHE BOOL "" FORCE)
set(gtest_force_shared_crt ON CACHE BOOL "" FORCE)
add_subdirectory(/usr/src/googletest ${CMAKE_BINARY_DIR}/googletest EXCLUDE_FROM_ALL)
