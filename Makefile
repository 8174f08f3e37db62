# Thin wrapper over CMake: `make demo`, `make test`, `make bench`.
BUILD    ?= build
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all setup build demo test tour long browser bench sanitize fuzz clean

all: build

setup:
	sh scripts/setup.sh

# Configures a new build tree; an existing one is configured again only when CMAKE_FLAGS
# is given, so that `make test CMAKE_FLAGS=-DSKADI_WERROR=ON` is not silently ignored by
# a tree that was configured without it.
build:
	@if [ ! -f $(BUILD)/CMakeCache.txt ]; then \
	  set -x; cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS); \
	elif [ -n "$(CMAKE_FLAGS)" ]; then \
	  set -x; cmake -S . -B $(BUILD) $(CMAKE_FLAGS); \
	fi
	cmake --build $(BUILD) -j $(JOBS)

# The demo's recording is runs/heat_spike_row_c-seed1-off.h5, then -2, -3, ... on later
# runs: a demo never replaces an earlier one.
demo: setup build
	./$(BUILD)/skadi run scenarios/heat_spike_row_c.json

# Every suite but the README tour (label tour: a few minutes of whole runs; `make tour`),
# the long acceptance runs (label long: `make long`) and the dashboard in headless
# Chromium (label browser: `make browser`).
test: setup build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE 'tour|long|browser'

long: setup build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L long

browser: setup build
	cd $(BUILD) && ctest --output-on-failure -L browser

tour: setup build
	cd $(BUILD) && ctest --output-on-failure -L tour

bench: setup build
	./tests/bench/run.sh $(BUILD)

sanitize: setup
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSKADI_SANITIZE=ON -DSKADI_WERROR=ON -DSKADI_BENCH=OFF
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure -j $(JOBS) -LE 'tour|long|browser'

# libFuzzer harnesses (tests/fuzz, docs/TESTING.md), clang with ASan+UBSan, each run
# FUZZ_SECONDS; FUZZ_HARNESSES picks some (name, or name:seeds to run its corpus once).
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
FUZZ_HARNESSES ?=
fuzz: setup
	@if [ ! -f $(FUZZ_BUILD)/CMakeCache.txt ]; then \
	  set -x; CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DSKADI_FUZZ=ON -DSKADI_TESTS=OFF -DSKADI_BENCH=OFF -DSKADI_WERROR=ON; \
	fi
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	sh tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_HARNESSES)

clean:
	rm -rf $(BUILD) build-asan build-ci build-clang build-fuzz
