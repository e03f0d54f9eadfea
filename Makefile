# vouch: build, run, test and install.  See README.md.
#
#   make run      installs what is missing, builds, starts vouchd on ./var/ (foreground)
#   make test     installs what is missing, builds, runs every test
#   make bench    benchmarks (see docs/BENCHMARKS.md)
#   make install  see mk/install.mk
SHELL := /bin/bash
SWIFT ?= swift
CC ?= cc

# Debian packages the build and the tests need.  `make deps` installs the
# missing ones (apt-get update once, then apt-get install -y).
DEB_PACKAGES := libsqlite3-dev libssl-dev libsystemd-dev libargon2-dev libcrypt-dev \
                libpam0g-dev pamtester sqlite3 python3 systemd util-linux pkg-config binutils gcc
DEPS_STAMP := .build/.deps-ok

VAR := $(CURDIR)/var
VOUCHD_RUN_FLAGS := --config etc/vouch/vouchd.conf --socket $(VAR)/vouchd.sock --database $(VAR)/vouch.db --log-to stderr

.PHONY: all deps build release run test test-swift format format-check clean
all: build

deps: $(DEPS_STAMP)
$(DEPS_STAMP):
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y --no-install-recommends $$missing; \
	fi
	@mkdir -p .build && touch $@

build: deps
	$(SWIFT) build

# Release executables with the Swift standard library linked in: they need
# only Debian's shared libraries, not the toolchain, have no RUNPATH, and are
# linked -z now like Debian's hardened binaries (what install and deb ship).
SWIFT_RELEASE_FLAGS := -c release --static-swift-stdlib --disable-local-rpath -Xlinker -z -Xlinker now
release: deps
	$(SWIFT) build $(SWIFT_RELEASE_FLAGS) --product vouchd
	$(SWIFT) build $(SWIFT_RELEASE_FLAGS) --product vouchctl

run: build
	@mkdir -p $(VAR)
	@echo "vouchd on $(VAR)/vouchd.sock; in another shell: export PATH=\"$(CURDIR)/.build/debug:\$$PATH\""
	@echo "  vouchctl --socket ./var/vouchd.sock user create --username bob --password-stdin <<<'correct horse 1'"
	exec .build/debug/vouchd $(VOUCHD_RUN_FLAGS)

test: deps format-check test-swift check-units clib-test check-install python-test examples-test check-man deb-test test-logins
	@echo "make test: all checks passed"

# One test at a time, like test-asan and test-tsan: the integration tests block on
# sockets and processes, and on 2 cores a parallel run starves the tests' own timers
# (a sleep of 500 ms became seconds, past the idle timeouts the tests exercise).
test-swift: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --no-parallel

# Swift sources `swift format` checks: the package, the examples and the fuzzer.
FORMAT_PATHS := Sources Tests Package.swift Fuzz $(wildcard examples/*/Package.swift examples/*/Sources)

format:
	$(SWIFT) format -i -r $(FORMAT_PATHS)

# Fails on any drift from .swift-format (CI runs it through `make test`).
format-check:
	$(SWIFT) format lint --strict -r $(FORMAT_PATHS)

clean:
	rm -rf .build build var

-include mk/*.mk
