# Thin wrapper over meson: installs missing Debian packages (as root) or prints the apt-get line,
# then configures and builds. `make demo` runs the main job on real data; `make test` runs every
# suite in a normal build and again under AddressSanitizer + UndefinedBehaviorSanitizer.
BUILD ?= build
ASAN_BUILD ?= build-asan
CLIENT_BUILD ?= build-client
PACKAGES := $(shell grep -v '^\#' .ci/packages)

.PHONY: all deps build asan client test test-fast test-long demo demo-cluster bench clean format

all: build

deps:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	  else \
	    echo "missing Debian packages; run:"; echo "  sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

$(BUILD)/build.ninja:
	meson setup $(BUILD) --buildtype=debugoptimized

$(ASAN_BUILD)/build.ninja:
	CC=clang CXX=clang++ meson setup $(ASAN_BUILD) --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

# libpinhole alone (-Dserver=false): what an NDK or Xcode build needs, libsodium only.
$(CLIENT_BUILD)/build.ninja:
	meson setup $(CLIENT_BUILD) --buildtype=release -Dserver=false

client: deps $(CLIENT_BUILD)/build.ninja
	ninja -C $(CLIENT_BUILD)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

asan: deps $(ASAN_BUILD)/build.ninja
	ninja -C $(ASAN_BUILD)

# Every suite in the normal build, then again under ASan+UBSan (clang), then the client-only build's.
test: build asan client
	meson test -C $(BUILD) --print-errorlogs --num-processes 2
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  meson test -C $(ASAN_BUILD) --print-errorlogs --num-processes 2 --timeout-multiplier 3
	meson test -C $(CLIENT_BUILD) --print-errorlogs --num-processes 2
	./tests/portability.sh
	./tests/browser/run.sh $(BUILD)

# Long checks left out of `make test` (suite 'long': the paper-size single_location run, ~2 min).
test-long: build
	meson test -C $(BUILD) --setup long --suite long --print-errorlogs --num-processes 1

# The main job on real data, end to end over HTTP: pinhole-server on a temporary SQLite file, a
# collection for the SUBTLEX-US words, 1,000,000 simulated devices posting reports, the top 20.
demo: build
	./$(BUILD)/server/pinhole demo --users 1000000 --epsilon 4 --seed 2026 --top 20

# The same demo on a local PostgreSQL with three server replicas (tests/pg/demo_cluster.sh starts
# and stops a throwaway PostgreSQL and the replicas): 300,000 simulated devices by default.
demo-cluster: build
	./tests/pg/demo_cluster.sh $(BUILD) $(or $(USERS),300000)

# Every performance figure in one table (docs/BENCHMARKS.md, "make bench"): this tree against a
# baseline built from BENCH_BASE (the commit before the reconstruction workspace, the batch
# encoder and the shared MLE program), instruction counts by callgrind, wall medians of alternating
# runs. BENCH_ROUNDS alternating rounds; about 10 minutes on 2 cores.
BENCH_BASE ?= f1d91ae
BENCH_BASE_DIR ?= build-bench-base
BENCH_ROUNDS ?= 5
bench: build
	tests/bench/bench_base.sh $(BENCH_BASE) $(BENCH_BASE_DIR)
	python3 tests/bench/bench_table.py --build $(BUILD) --base-build $(BENCH_BASE_DIR)/build \
	  --rounds $(BENCH_ROUNDS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(CLIENT_BUILD) $(BENCH_BASE_DIR)
