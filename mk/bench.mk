# Benchmarks; included by the Makefile (-include mk/*.mk).  See docs/BENCHMARKS.md.
#
#   make bench                      the default run (100,000 users and tokens; about 5 minutes)
#   make bench USERS=1000000        the large run (1,000,000 users and 1,000,000 tokens)
#   make bench DURATION=10 ROUNDS=3 longer measured windows, more alternations
#   make bench-memory USERS=1000000 scenario 6 alone (memory and start-up)
#   make bench-fair                 scenario 8 alone (a uid flooding logins beside a normal client)
#   make bench-tools                only builds build/vouch-bench and the release binaries
#
# Needs redis-server (installed with apt-get when missing, like `make deps`),
# libargon2 and libcrypto (already in DEB_PACKAGES).  Writes the full log
# and the table to $(BENCH_OUT).

USERS       ?= 100000
TOKENS      ?= $(USERS)
DURATION    ?= 5
WARMUP      ?= 1
ROUNDS      ?= 2
MEMORY_ONLY ?= 0
FAIR_ONLY   ?= 0
BENCH_OUT   ?= build/bench-last.txt
BENCH_BIN   := build/vouch-bench
BENCH_STAMP := .build/.bench-deps-ok

.PHONY: bench bench-memory bench-fair bench-tools bench-deps

bench-deps: $(BENCH_STAMP)
$(BENCH_STAMP): $(DEPS_STAMP)
	@if ! command -v redis-server >/dev/null; then \
	  echo "Installing Debian packages: redis-server"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends redis-server; \
	fi
	@mkdir -p .build && touch $@

$(BENCH_BIN): Benchmarks/vouch-bench.c
	@mkdir -p $(@D)
	$(CC) -std=c11 -O2 -g -Wall -Wextra -Werror -pthread -o $@ $< -largon2 -lcrypto

bench-tools: bench-deps $(BENCH_BIN)
	$(SWIFT) build $(SWIFT_RELEASE_FLAGS) --product vouchd
	$(SWIFT) build $(SWIFT_RELEASE_FLAGS) --product vouch-seed

bench: bench-tools
	@mkdir -p $(dir $(BENCH_OUT))
	MEMORY_ONLY=$(MEMORY_ONLY) FAIR_ONLY=$(FAIR_ONLY) USERS=$(USERS) TOKENS=$(TOKENS) DURATION=$(DURATION) WARMUP=$(WARMUP) ROUNDS=$(ROUNDS) \
	  BENCH=$(BENCH_BIN) VOUCHD=.build/release/vouchd SEED=.build/release/vouch-seed \
	  bash mk/bench.sh 2>&1 | tee $(BENCH_OUT); exit $${PIPESTATUS[0]}

bench-memory:
	$(MAKE) bench MEMORY_ONLY=1 BENCH_OUT=build/bench-memory-last.txt

bench-fair:
	$(MAKE) bench FAIR_ONLY=1 BENCH_OUT=build/bench-fair-last.txt
