# Thin wrapper over CMake: `make demo`, `make test`, `make bench`.
BUILD    ?= build
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all setup build demo test tour long bench sanitize clean

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

# Every suite but the README tour (label tour: a few minutes of whole runs; `make tour`) and
# the long acceptance runs (label long: `make long`).
test: setup build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE 'tour|long'

long: setup build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L long

tour: setup build
	cd $(BUILD) && ctest --output-on-failure -L tour

bench: setup build
	./tests/bench/run.sh $(BUILD)

sanitize: setup
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSKADI_SANITIZE=ON -DSKADI_WERROR=ON -DSKADI_BENCH=OFF
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure -j $(JOBS) -LE 'tour|long'

clean:
	rm -rf $(BUILD) build-asan build-ci
