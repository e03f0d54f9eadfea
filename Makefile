# vouch: build, run, test and install.  See README.md.
SHELL := /bin/bash
SWIFT ?= swift
CC ?= cc
CONFIG ?= debug

# Debian packages the build and the tests need.  `make deps` installs the
# missing ones (apt-get update once, then apt-get install -y).
DEB_PACKAGES := libsqlite3-dev libssl-dev libsystemd-dev libargon2-dev libcrypt-dev \
                libpam0g-dev pamtester sqlite3 python3 systemd
DEPS_STAMP := .build/.deps-ok

.PHONY: all deps build run test clean
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
