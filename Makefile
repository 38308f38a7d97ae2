# wstrace — top-level commands. CMake does the building; this file only strings the steps
# together so that a fresh Debian 12 machine needs nothing but `make demo` and `make test`.
SHELL := /bin/bash
JOBS ?= $(shell nproc)
CMAKE_BUILD = cmake --build --parallel $(JOBS) --preset

.PHONY: all deps build build-linux build-win64 build-asan demo check test bench dist clean

all: build

deps:
	@scripts/deps.sh

build: deps build-linux build-win64

build-linux:
	@cmake --preset linux >/dev/null
	@$(CMAKE_BUILD) linux

build-win64:
	@cmake --preset win64 >/dev/null
	@$(CMAKE_BUILD) win64

# The sanitizer build (clang) runs the unit tests and the fuzz targets: build just those.
build-asan:
	@cmake --preset asan >/dev/null
	@$(CMAKE_BUILD) asan --target ws_unit_tests fuzz_trace_reader fuzz_filter fuzz_dns \
	  fuzz_http fuzz_tls fuzz_json fuzz_secrets \
	  fuzz_ring_drain

demo: build
	@scripts/demo.sh

# The inner loop (tests/README.md): the Linux build's unit and command-line tests, in minutes.
check: build-linux
	@ctest --preset linux -j $(JOBS) -L '^(unit|cli)$$'

test: build build-asan
	@scripts/test.sh

bench: build
	@scripts/bench.sh

# The archives to copy to a machine to trace (README.md, "Get it"), in build/dist: both builds
# first, so that a fresh machine needs nothing but this.
dist: build
	@scripts/dist.sh

clean:
	rm -rf build
