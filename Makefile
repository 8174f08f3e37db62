# Thin wrapper over CMake: `make demo`, `make test`, `make bench`.
BUILD    ?= build
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all setup build demo test bench sanitize clean

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

demo: setup build
	mkdir -p runs
	./$(BUILD)/skadi run scenarios/heat_spike_row_c.json --out runs/heat_spike_row_c.h5

test: setup build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: setup build
	./tests/bench/run.sh $(BUILD)

sanitize: setup
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSKADI_SANITIZE=ON -DSKADI_WERROR=ON -DSKADI_BENCH=OFF
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure -j $(JOBS)

clean:
	rm -rf $(BUILD) build-asan build-ci
