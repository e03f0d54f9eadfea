# Debian packages; included by the Makefile (-include mk/*.mk).  See docs/PACKAGING.md.
#
#   make deb        vouch_<version>_<arch>.deb, libvouch1_..., libvouch-dev_...,
#                   libpam-vouch_... in the top directory, then lintian on them
#   make deb-test   installs them with dpkg -i on this machine (root), uses the
#                   installed programs with the Swift toolchain hidden, removes
#                   and purges them (mk/deb-test.sh); part of `make test`
#   make check-man  groff -ww and man -l on every man page
#   make clean-deb  removes the .deb files and debhelper's leftovers (make clean does too)
#
# debian/rules builds nothing: the release executables, libvouch, pam_vouch.so
# and the completions are built here once, with the toolchain, and reused.

DEB_PACKAGES += debhelper dpkg-dev fakeroot lintian groff man-db libpam-runtime
DEB_VERSION   = $(shell dpkg-parsechangelog -SVersion 2>/dev/null)
DEB_ARCH      = $(shell dpkg-architecture -qDEB_HOST_ARCH 2>/dev/null)
DEB_NAMES    := vouch libvouch1 libvouch-dev libpam-vouch
DEB_FILES     = $(foreach p,$(DEB_NAMES),$(p)_$(DEB_VERSION)_$(DEB_ARCH).deb)
MAN_PAGES    := $(wildcard man/*.[0-9])

.PHONY: deb deb-build deb-test check-man clean-deb

deb: deb-build
	lintian --fail-on error,warning $(DEB_FILES)

deb-build: deps release clib completions
	@v=$$(sed -n 's/.*static let string = "\(.*\)".*/\1/p' Sources/VouchProtocol/VouchVersion.swift); \
	  [ "$$v" = "$(DEB_VERSION)" ] || { echo "deb: debian/changelog says $(DEB_VERSION), VouchVersion.swift $$v"; exit 1; }
	rm -f $(foreach p,$(DEB_NAMES),$(p)_*.deb)
	DEB_RULES_REQUIRES_ROOT=no debian/rules clean
	DEB_RULES_REQUIRES_ROOT=no DEB_DESTDIR=$(CURDIR) debian/rules binary
	DEB_RULES_REQUIRES_ROOT=no debian/rules clean
	@ls -l $(DEB_FILES)

deb-test: deb $(CLIB_OBJDIR)/pam_harness
	@bash mk/deb-test.sh $(DEB_FILES); rc=$$?; \
	  if [ $$rc = 77 ]; then echo "deb-test: SKIPPED"; elif [ $$rc != 0 ]; then exit $$rc; fi

clean: clean-deb
clean-deb:
	rm -f $(foreach p,$(DEB_NAMES),$(p)_*.deb)
	-DEB_RULES_REQUIRES_ROOT=no debian/rules clean >/dev/null

check-man:
	@for m in $(MAN_PAGES); do \
	  out=$$(groff -ww -z -t -man $$m 2>&1) && [ -z "$$out" ] || { echo "check-man: groff: $$m: $$out"; exit 1; }; \
	  out=$$(MANWIDTH=80 LC_ALL=C.UTF-8 man --warnings -l $$m 2>&1 >/dev/null) && [ -z "$$out" ] || { echo "check-man: man -l: $$m: $$out"; exit 1; }; \
	done; echo "check-man: $(words $(MAN_PAGES)) pages: OK"
