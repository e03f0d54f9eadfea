# The Python client (clients/python) and the examples (examples/); included
# by the Makefile (-include mk/*.mk).
#
#   python-test     pytest of clients/python and examples/fastapi against a real vouchd
#   examples-test   the C and Swift examples, built the way their users build them
#
# The tests run in a venv under .build/ with pytest, mypy, fastapi and httpx
# from PyPI, at the versions pinned in clients/python/test-requirements.txt;
# the vouch package itself is installed with --no-index, which proves
# `pip install ./clients/python` needs no network.

DEB_PACKAGES += python3-venv
PYTHON       ?= python3
PY_VENV      := .build/python-venv
PY_STAMP     := $(PY_VENV)/.requirements-ok
PY_TEST_REQS := clients/python/test-requirements.txt
PY_SOURCES   := $(wildcard clients/python/src/vouch/*.py) clients/python/pyproject.toml clients/python/vouch_build.py

EXAMPLES_SWIFT_SCRATCH := .build-examples-swift
EXAMPLES_C_STAGE       := build/examples/stage

.PHONY: python-test python-venv examples-test examples-c-test examples-swift-test

$(PY_STAMP): $(DEPS_STAMP) mk/python.mk $(PY_TEST_REQS)
	rm -rf $(PY_VENV)
	$(PYTHON) -m venv $(PY_VENV)
	$(PY_VENV)/bin/pip install --quiet --disable-pip-version-check -r $(PY_TEST_REQS)
	touch $@

python-venv: $(PY_STAMP)

# pytest exits 5 when it collected no test: that fails the target, as any
# other non-zero status does.  Each directory runs on its own, so one that
# lost its tests cannot hide behind the other.
python-test: $(PY_STAMP) $(PY_SOURCES)
	$(SWIFT) build --product vouchd
	$(PY_VENV)/bin/pip install --quiet --disable-pip-version-check --no-index --force-reinstall ./clients/python
	cd clients/python && ../../$(PY_VENV)/bin/mypy --strict --no-incremental src/vouch
	$(PY_VENV)/bin/python -m pytest -p no:cacheprovider -q clients/python/tests
	$(PY_VENV)/bin/python -m pytest -p no:cacheprovider -q examples/fastapi

# examples/c: a staged install (library, header, vouch.pc), then the
# example's own Makefile, which asks pkg-config for the flags.
examples-c-test: clib
	$(SWIFT) build --product vouchd
	$(SWIFT) build --product vouchctl
	rm -rf $(EXAMPLES_C_STAGE)
	install -d $(EXAMPLES_C_STAGE)$(CLIB_LIBDIR)/pkgconfig $(EXAMPLES_C_STAGE)$(CLIB_PREFIX)/include
	cp -P build/libvouch.so build/libvouch.so.$(CLIB_SOVER) build/libvouch.so.$(CLIB_VERSION) $(EXAMPLES_C_STAGE)$(CLIB_LIBDIR)/
	install -m 0644 Sources/CVouch/include/vouch.h $(EXAMPLES_C_STAGE)$(CLIB_PREFIX)/include/
	install -m 0644 build/vouch.pc $(EXAMPLES_C_STAGE)$(CLIB_LIBDIR)/pkgconfig/
	PKG_CONFIG_SYSROOT_DIR=$(CURDIR)/$(EXAMPLES_C_STAGE) PKG_CONFIG_PATH=$(CURDIR)/$(EXAMPLES_C_STAGE)$(CLIB_LIBDIR)/pkgconfig \
	  $(MAKE) -C examples/c OUT=$(CURDIR)/build/examples
	VOUCHD="$(VOUCHD)" VOUCHCTL="$(VOUCHCTL)" LD_LIBRARY_PATH=$(CURDIR)/$(EXAMPLES_C_STAGE)$(CLIB_LIBDIR) \
	  examples/check_login_program.sh $(CURDIR)/build/examples/login-check 'ok: alice (id [0-9]*)' 'No such file or directory'

# examples/swift: its own package (VouchClient by path), in its own scratch
# directory, built once.
examples-swift-test:
	$(SWIFT) build --package-path examples/swift --scratch-path $(EXAMPLES_SWIFT_SCRATCH)
	VOUCHD="$(VOUCHD)" VOUCHCTL="$(VOUCHCTL)" \
	  examples/check_login_program.sh $(EXAMPLES_SWIFT_SCRATCH)/debug/vouch-login 'ok: alice (id [0-9]*), token verified for alice' 'cannot connect to vouchd'

examples-test: examples-c-test examples-swift-test
