# The truth harness under Wine (tests/README.md, "The truth harness"): Windows programs no one
# here wrote, traced by wstrace.exe, compared with the wire. Included by tests/CMakeLists.txt in
# the Windows build; `win_targets` is where the Windows test programs go.
#
# Asio's own examples, compiled where Debian puts them (libasio-doc; the headers are libasio-dev's
# standalone asio): nothing of them is copied into this repository. Debian ships these .cpp files
# uncompressed (its .gz neighbours are prebuilt Linux programs, not sources).
set(asio_examples /usr/share/doc/libasio-dev/examples/cpp11)
set(asio_sources
    echo/async_tcp_echo_server.cpp echo/blocking_tcp_echo_client.cpp
    echo/async_udp_echo_server.cpp echo/blocking_udp_echo_client.cpp
    timeouts/async_tcp_client.cpp
    http/server/connection.cpp http/server/connection_manager.cpp http/server/main.cpp
    http/server/mime_types.cpp http/server/reply.cpp http/server/request_handler.cpp
    http/server/request_parser.cpp http/server/server.cpp)
set(asio_missing "")
foreach(f ${asio_sources})
  if(NOT EXISTS ${asio_examples}/${f})
    list(APPEND asio_missing ${f})
  endif()
endforeach()
if(NOT EXISTS /usr/include/asio.hpp)
  list(APPEND asio_missing /usr/include/asio.hpp)
endif()

set(truth ${CMAKE_CURRENT_SOURCE_DIR}/truth)
if(asio_missing)
  # The cases that need them say so and are skipped (scripts/deps.sh installs both packages).
  message(WARNING "Asio's examples or headers are missing (${asio_missing}): the Wine truth "
                  "cases that run them are skipped; scripts/deps.sh installs libasio-dev and "
                  "libasio-doc")
else()
  # Only asio itself from /usr/include: the rest of that folder is Linux's, not mingw's.
  set(asio_include ${CMAKE_CURRENT_BINARY_DIR}/asio_include)
  file(MAKE_DIRECTORY ${asio_include})
  file(CREATE_LINK /usr/include/asio ${asio_include}/asio SYMBOLIC)
  file(CREATE_LINK /usr/include/asio.hpp ${asio_include}/asio.hpp SYMBOLIC)
  function(asio_example name)
    list(TRANSFORM ARGN PREPEND ${asio_examples}/)
    add_executable(${name} ${ARGN})
    target_include_directories(${name} SYSTEM PRIVATE ${asio_include})
    # Standalone asio (no Boost); the build.s _WIN32_WINNT (Windows 10) gives it AcceptEx,
    # ConnectEx and completion ports.
    target_compile_definitions(${name} PRIVATE ASIO_STANDALONE)
    target_link_libraries(${name} PRIVATE ws2_32 mswsock)
    set_target_properties(${name} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${win_targets}/asio)
  endfunction()
  asio_example(async_tcp_echo_server echo/async_tcp_echo_server.cpp)
  asio_example(blocking_tcp_echo_client echo/blocking_tcp_echo_client.cpp)
  asio_example(async_udp_echo_server echo/async_udp_echo_server.cpp)
  asio_example(blocking_udp_echo_client echo/blocking_udp_echo_client.cpp)
  asio_example(async_tcp_client timeouts/async_tcp_client.cpp)
  list(FILTER asio_sources INCLUDE REGEX "^http/server/")
  asio_example(http_server ${asio_sources})
endif()

# One test per case of cases_wine.py, each in namespaces and a Wine prefix of its own; they read
# the trace with the Linux build's wstrace (built first, as for the other Wine tests).
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${truth}/cases_wine.py)
execute_process(COMMAND /usr/bin/python3 ${truth}/truth.py --list-wine
                OUTPUT_VARIABLE truth_wine_cases OUTPUT_STRIP_TRAILING_WHITESPACE)
foreach(case ${truth_wine_cases})
  add_test(NAME truth_${case}
           COMMAND /usr/bin/python3 ${truth}/truth.py ${PROJECT_SOURCE_DIR}/build/bin/wstrace
                   ${PROJECT_SOURCE_DIR} ${CMAKE_CURRENT_BINARY_DIR}/truth_${case} ${case}
                   --wine $<TARGET_FILE:wstrace> ${win_targets})
  set_tests_properties(truth_${case} PROPERTIES LABELS truth SKIP_RETURN_CODE 77 TIMEOUT 120)
endforeach()
