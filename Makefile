# Front door: `make demo` and `make test` on a fresh Debian 12 machine.

BUILD_DIR ?= build
MESON ?= meson

# Debian packages needed to build and run omcp.
RUNTIME_PACKAGES = meson ninja-build pkg-config gcc libc6-dev libjansson-dev libseccomp-dev \
	python3 python3-pandas python3-numpy python3-matplotlib
# Also needed by the test suite and the benchmark: cmocka for unit tests,
# Node.js and npm for the official MCP SDK client, bubblewrap to compare with.
TEST_PACKAGES = libcmocka-dev nodejs npm bubblewrap

.PHONY: all build demo test bench deps test-deps clean

all: build

build: deps
	@if [ ! -f $(BUILD_DIR)/build.ninja ]; then $(MESON) setup $(BUILD_DIR); fi
	ninja -C $(BUILD_DIR)

demo: build
	python3 scripts/demo.py --binary $(BUILD_DIR)/omcp

test: test-deps build
	$(MESON) test -C $(BUILD_DIR) --print-errorlogs

bench: test-deps build
	python3 bench/bench.py --binary $(BUILD_DIR)/omcp

deps:
	@scripts/ensure-packages.sh $(RUNTIME_PACKAGES)

test-deps:
	@scripts/ensure-packages.sh $(RUNTIME_PACKAGES) $(TEST_PACKAGES)

clean:
	rm -rf $(BUILD_DIR)
