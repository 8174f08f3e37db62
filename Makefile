# Thin wrapper over CMake: `make demo`, `make test`, `make bench`.
BUILD    ?= build
JOBS     ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all setup build demo test bench sanitize clean

all: build

setup:
	./scripts/setup.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: $(BUILD)/CMakeCache.txt
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
	rm -rf $(BUILD) build-asan
