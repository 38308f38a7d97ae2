# The kernel capture engine (eBPF, src/capture/linux/ebpf/): optional, on by default on x86-64
# Linux when libbpf, bpftool and clang are found and this machine's kernel describes itself with
# BTF. vmlinux.h is generated from that BTF at build time (never committed), the BPF object is
# compiled with clang -target bpf (CO-RE: it loads on other kernels than the build machine's),
# and bpftool makes the skeleton that embeds it into wstrace.
set(_ebpf_default OFF)
set(_ebpf_why "")
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(LIBBPF QUIET IMPORTED_TARGET libbpf)
endif()
find_program(WSTRACE_BPFTOOL bpftool PATHS /usr/sbin /sbin)
find_program(WSTRACE_BPF_CLANG NAMES clang clang-16 clang-15 clang-14)
set(WSTRACE_VMLINUX_BTF /sys/kernel/btf/vmlinux CACHE FILEPATH
    "The kernel BTF vmlinux.h is generated from")
if(NOT CMAKE_SYSTEM_NAME STREQUAL "Linux" OR NOT CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set(_ebpf_why "not x86-64 Linux")
elseif(WSTRACE_SANITIZE OR WSTRACE_FUZZ)
  set(_ebpf_why "sanitizer or fuzzing build")
elseif(NOT LIBBPF_FOUND)
  set(_ebpf_why "libbpf-dev not found")
elseif(NOT WSTRACE_BPFTOOL)
  set(_ebpf_why "bpftool not found")
elseif(NOT WSTRACE_BPF_CLANG)
  set(_ebpf_why "clang not found")
elseif(NOT EXISTS ${WSTRACE_VMLINUX_BTF})
  set(_ebpf_why "${WSTRACE_VMLINUX_BTF} missing (a kernel without BTF)")
else()
  set(_ebpf_default ON)
endif()
option(WSTRACE_EBPF "Build the kernel capture engine (eBPF)" ${_ebpf_default})
if(WSTRACE_EBPF AND NOT _ebpf_default)
  message(FATAL_ERROR "WSTRACE_EBPF=ON but the kernel engine cannot be built: ${_ebpf_why} "
                      "(scripts/deps.sh installs libbpf-dev, bpftool and clang)")
endif()
if(NOT WSTRACE_EBPF AND _ebpf_why)
  message(STATUS "wstrace: the kernel engine (eBPF) is left out: ${_ebpf_why}")
endif()

# Adds the kernel engine to `target`: the BPF object, its skeleton and libbpf.
function(wstrace_add_ebpf target src_dir)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/ebpf)
  file(MAKE_DIRECTORY ${out})
  # (parts of the BPF programs kept in files of their own, included by wstrace.bpf.c)
  file(GLOB bpf_parts CONFIGURE_DEPENDS ${src_dir}/*.bpf.h)
  add_custom_command(
    OUTPUT ${out}/vmlinux.h
    COMMAND ${WSTRACE_BPFTOOL} btf dump file ${WSTRACE_VMLINUX_BTF} format c > ${out}/vmlinux.h
    COMMENT "Generating vmlinux.h from the kernel's BTF"
    VERBATIM)
  add_custom_command(
    OUTPUT ${out}/wstrace.bpf.o
    COMMAND ${WSTRACE_BPF_CLANG} -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_x86
            -I${out} -I${src_dir} ${LIBBPF_CFLAGS}
            -c ${src_dir}/wstrace.bpf.c -o ${out}/wstrace.bpf.o
    DEPENDS ${src_dir}/wstrace.bpf.c ${bpf_parts} ${src_dir}/ebpf_event.h ${out}/vmlinux.h
    COMMENT "Compiling the kernel engine's BPF programs"
    VERBATIM)
  add_custom_command(
    OUTPUT ${out}/wstrace.skel.h
    COMMAND ${WSTRACE_BPFTOOL} gen skeleton ${out}/wstrace.bpf.o name wstrace_bpf
            > ${out}/wstrace.skel.h
    DEPENDS ${out}/wstrace.bpf.o
    COMMENT "Generating the kernel engine's BPF skeleton"
    VERBATIM)
  add_custom_target(${target}_bpf_skeleton DEPENDS ${out}/wstrace.skel.h)
  add_dependencies(${target} ${target}_bpf_skeleton)
  # (generated C: a system header, so that the C++ warnings do not apply to it)
  target_include_directories(${target} SYSTEM PRIVATE ${out})
  target_link_libraries(${target} PRIVATE PkgConfig::LIBBPF)
endfunction()
