# Front door: `make demo` and `make test` on a fresh Debian 12 machine.

BUILD_DIR ?= build
MESON ?= meson
# `make fuzz` and `make test-asan` build with sanitizers in directories of
# their own, so the normal build stays uninstrumented.
FUZZ_BUILD_DIR ?= build-fuzz
ASAN_BUILD_DIR ?= build-asan
# How long `make fuzz` runs the fuzzer, in seconds, and the largest input it
# tries, in bytes.
FUZZ_SECONDS ?= 120
FUZZ_MAX_LEN ?= 16384

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

.PHONY: all build demo test test-asan fuzz bench deps test-deps clean

all: build

build: deps
	@if [ ! -f $(BUILD_DIR)/build.ninja ]; then $(MESON) setup $(BUILD_DIR); fi
	ninja -C $(BUILD_DIR)

demo: build
	python3 scripts/demo.py --binary $(BUILD_DIR)/omcp

test: test-deps build
	$(MESON) test -C $(BUILD_DIR) --print-errorlogs

# Both sanitizer builds use clang, whose UBSan also reports arithmetic on
# NULL pointers, which GCC 12's does not. Sanitizer reports are written to
# files in SANITIZER_LOG_DIR, so that a report from a server process whose
# exit status no test checks still fails the run. -fno-sanitize-recover
# makes every UBSan finding fatal, and b_lundef=false is needed by clang's
# sanitizer runtime with meson.
SANITIZER_FLAGS = -Db_sanitize=address,undefined -Dc_args=-fno-sanitize-recover=all \
	-Dc_link_args=-fno-sanitize-recover=all
SANITIZER_LOG_DIR = $(abspath $(ASAN_BUILD_DIR))/sanitizer-logs
ASAN_TEST_OPTIONS = log_path=$(SANITIZER_LOG_DIR)/asan:detect_leaks=1:halt_on_error=1:abort_on_error=1
UBSAN_TEST_OPTIONS = log_path=$(SANITIZER_LOG_DIR)/ubsan:halt_on_error=1:abort_on_error=1:print_stacktrace=1

test-asan: test-deps
	@if [ ! -f $(ASAN_BUILD_DIR)/build.ninja ]; then \
		CC=clang $(MESON) setup $(ASAN_BUILD_DIR) -Db_lundef=false $(SANITIZER_FLAGS); fi
	ninja -C $(ASAN_BUILD_DIR)
	rm -rf $(SANITIZER_LOG_DIR)
	mkdir -m 1777 $(SANITIZER_LOG_DIR)
	@status=0; \
	ASAN_OPTIONS=$(ASAN_TEST_OPTIONS) UBSAN_OPTIONS=$(UBSAN_TEST_OPTIONS) \
		$(MESON) test -C $(ASAN_BUILD_DIR) --print-errorlogs --timeout-multiplier 3 || status=$$?; \
	if [ -n "$$(ls -A $(SANITIZER_LOG_DIR))" ]; then \
		cat $(SANITIZER_LOG_DIR)/*; \
		echo "sanitizer reports above, also kept in $(SANITIZER_LOG_DIR)"; \
		exit 1; \
	fi; \
	exit $$status

# Builds the libFuzzer target with clang and runs it for FUZZ_SECONDS. New
# inputs go to $(FUZZ_BUILD_DIR)/corpus, never to the committed seed corpus,
# and crashing inputs to $(FUZZ_BUILD_DIR)/crashes.
fuzz: test-deps
	@if [ ! -f $(FUZZ_BUILD_DIR)/build.ninja ]; then \
		CC=clang $(MESON) setup $(FUZZ_BUILD_DIR) -Dfuzzer=true -Dtests=false \
			-Db_lundef=false $(SANITIZER_FLAGS); fi
	ninja -C $(FUZZ_BUILD_DIR) tests/fuzz/fuzz_mcp
	mkdir -p $(FUZZ_BUILD_DIR)/corpus $(FUZZ_BUILD_DIR)/crashes
	$(FUZZ_BUILD_DIR)/tests/fuzz/fuzz_mcp $(FUZZ_BUILD_DIR)/corpus tests/fuzz/corpus \
		-dict=tests/fuzz/mcp.dict -max_len=$(FUZZ_MAX_LEN) -max_total_time=$(FUZZ_SECONDS) \
		-timeout=30 -print_final_stats=1 -artifact_prefix=$(FUZZ_BUILD_DIR)/crashes/

bench: test-deps build
	python3 bench/bench.py --binary $(BUILD_DIR)/omcp

deps:
	@scripts/ensure-packages.sh $(RUNTIME_PACKAGES)

test-deps:
	@scripts/ensure-packages.sh $(RUNTIME_PACKAGES) $(TEST_PACKAGES)

clean:
	rm -rf $(BUILD_DIR) $(FUZZ_BUILD_DIR) $(ASAN_BUILD_DIR)
