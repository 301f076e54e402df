# Front door: `make demo` and `make test` on a fresh Debian 12 machine.

BUILD_DIR ?= build
MESON ?= meson

# Debian packages needed to build and run omcp.
RUNTIME_PACKAGES = meson ninja-build pkg-config gcc libc6-dev libjansson-dev libseccomp-dev \
	libsqlite3-dev libpq-dev libpg-query-dev libprotobuf-c-dev libcsv-dev libzip-dev \
	python3 python3-pandas python3-numpy python3-matplotlib python3-psycopg2
# Also needed by the test suite and the benchmark: cmocka for unit tests,
# Node.js and npm for the official MCP SDK client, bubblewrap to compare with,
# a PostgreSQL server and the sqlite3 shell for the data tests and benchmark,
# pip for package installation, clang and its sanitizer runtime for
# `make fuzz` and `make test-asan`.
TEST_PACKAGES = libcmocka-dev nodejs npm bubblewrap postgresql sqlite3 python3-pip \
	clang libclang-rt-14-dev

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
