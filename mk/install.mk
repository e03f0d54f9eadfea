# Installation of vouch; included by the Makefile (include mk/*.mk).
#
#   make install   [PREFIX=/usr/local] [DESTDIR=] [SYSCONFDIR=/etc] ...
#   make uninstall (keeps /etc/vouch and /var/lib/vouch, like apt remove)
#   make check-units   (systemd-analyze verify + security, see mk/systemd-check.sh)
#
# For a Debian-like system layout: make install PREFIX=/usr.
# With an empty DESTDIR, install also creates the accounts and directories
# (systemd-sysusers, systemd-tmpfiles) and reloads systemd if it runs.

PREFIX       ?= /usr/local
EXEC_PREFIX  ?= $(PREFIX)
BINDIR       ?= $(EXEC_PREFIX)/bin
SBINDIR      ?= $(EXEC_PREFIX)/sbin
LIBDIR       ?= $(EXEC_PREFIX)/lib
INCLUDEDIR   ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
SYSCONFDIR   ?= /etc
UNITDIR      ?= /lib/systemd/system
SYSUSERSDIR  ?= /usr/lib/sysusers.d
TMPFILESDIR  ?= /usr/lib/tmpfiles.d
# Where libpam looks for modules (not under PREFIX): /lib/x86_64-linux-gnu/security on Debian.
PAMDIR       ?= $(or $(shell pkg-config --variable=libdir pam 2>/dev/null),/lib/$(shell $(CC) -dumpmachine 2>/dev/null || echo x86_64-linux-gnu))/security
SWIFT_RELEASE_DIR ?= .build/release
INSTALL      ?= install

VOUCH_CONFDIR := $(SYSCONFDIR)/vouch
# Paths in the shipped files, rewritten to the configured ones.
VOUCH_SUBST := sed -e 's|/usr/sbin/vouchd|$(SBINDIR)/vouchd|g' -e 's|/etc/vouch|$(VOUCH_CONFDIR)|g'

# Built by other parts of the build when present.
VOUCH_LIBS   = $(wildcard build/libvouch.so.1*)
VOUCH_HEADER = $(wildcard Sources/CVouch/include/vouch.h)
VOUCH_PC     = $(firstword $(wildcard vouch.pc build/vouch.pc))
VOUCH_PAM    = $(wildcard build/pam_vouch.so)

.PHONY: install uninstall check-units check-install

# `make check-install` installs the debug build instead of a release one.
INSTALL_DEPENDS ?= release

install: $(INSTALL_DEPENDS)
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR)
	$(INSTALL) -m 0755 $(SWIFT_RELEASE_DIR)/vouchd $(DESTDIR)$(SBINDIR)/vouchd
	$(INSTALL) -m 0755 $(SWIFT_RELEASE_DIR)/vouchctl $(DESTDIR)$(BINDIR)/vouchctl
	$(INSTALL) -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	$(VOUCH_SUBST) systemd/vouchd.service >$(DESTDIR)$(UNITDIR)/vouchd.service
	$(VOUCH_SUBST) systemd/vouchd.socket >$(DESTDIR)$(UNITDIR)/vouchd.socket
	$(VOUCH_SUBST) systemd/vouchd-userdb.socket >$(DESTDIR)$(UNITDIR)/vouchd-userdb.socket
	$(VOUCH_SUBST) systemd/vouch.sysusers.conf >$(DESTDIR)$(SYSUSERSDIR)/vouch.conf
	$(VOUCH_SUBST) systemd/vouch.tmpfiles.conf >$(DESTDIR)$(TMPFILESDIR)/vouch.conf
	chmod 0644 $(DESTDIR)$(UNITDIR)/vouchd.service $(DESTDIR)$(UNITDIR)/vouchd.socket \
	  $(DESTDIR)$(UNITDIR)/vouchd-userdb.socket \
	  $(DESTDIR)$(SYSUSERSDIR)/vouch.conf $(DESTDIR)$(TMPFILESDIR)/vouch.conf
	$(INSTALL) -d -m 0755 $(DESTDIR)$(VOUCH_CONFDIR) $(DESTDIR)$(VOUCH_CONFDIR)/hooks.d
	@# The configuration is the administrator's: never overwritten.
	@if [ -e $(DESTDIR)$(VOUCH_CONFDIR)/vouchd.conf ]; then \
	  echo "Keeping $(DESTDIR)$(VOUCH_CONFDIR)/vouchd.conf"; \
	else \
	  echo "Installing $(DESTDIR)$(VOUCH_CONFDIR)/vouchd.conf"; \
	  $(VOUCH_SUBST) etc/vouch/vouchd.conf >$(DESTDIR)$(VOUCH_CONFDIR)/vouchd.conf.new && \
	  chmod 0644 $(DESTDIR)$(VOUCH_CONFDIR)/vouchd.conf.new && \
	  mv $(DESTDIR)$(VOUCH_CONFDIR)/vouchd.conf.new $(DESTDIR)$(VOUCH_CONFDIR)/vouchd.conf; \
	fi
ifneq ($(VOUCH_LIBS),)
	$(INSTALL) -d $(DESTDIR)$(LIBDIR)
	cp -P $(VOUCH_LIBS) $(DESTDIR)$(LIBDIR)/
	ln -sf libvouch.so.1 $(DESTDIR)$(LIBDIR)/libvouch.so
endif
ifneq ($(VOUCH_HEADER),)
	$(INSTALL) -d $(DESTDIR)$(INCLUDEDIR)
	$(INSTALL) -m 0644 $(VOUCH_HEADER) $(DESTDIR)$(INCLUDEDIR)/vouch.h
endif
ifneq ($(VOUCH_PC),)
	$(INSTALL) -d $(DESTDIR)$(PKGCONFIGDIR)
	$(INSTALL) -m 0644 $(VOUCH_PC) $(DESTDIR)$(PKGCONFIGDIR)/vouch.pc
endif
ifneq ($(VOUCH_PAM),)
	$(INSTALL) -d $(DESTDIR)$(PAMDIR)
	$(INSTALL) -m 0644 $(VOUCH_PAM) $(DESTDIR)$(PAMDIR)/pam_vouch.so
endif
	@if [ -z "$(DESTDIR)" ]; then \
	  command -v systemd-sysusers >/dev/null && systemd-sysusers $(SYSUSERSDIR)/vouch.conf || true; \
	  command -v systemd-tmpfiles >/dev/null && systemd-tmpfiles --create $(TMPFILESDIR)/vouch.conf || true; \
	  if [ -n "$(VOUCH_LIBS)" ] && command -v ldconfig >/dev/null; then ldconfig || true; fi; \
	  if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; \
	    echo "Start with: systemctl enable --now vouchd.socket vouchd.service"; fi; \
	fi

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/vouchd $(DESTDIR)$(BINDIR)/vouchctl
	rm -f $(DESTDIR)$(UNITDIR)/vouchd.service $(DESTDIR)$(UNITDIR)/vouchd.socket \
	  $(DESTDIR)$(UNITDIR)/vouchd-userdb.socket
	rm -f $(DESTDIR)$(SYSUSERSDIR)/vouch.conf $(DESTDIR)$(TMPFILESDIR)/vouch.conf
	rm -f $(DESTDIR)$(LIBDIR)/libvouch.so $(DESTDIR)$(LIBDIR)/libvouch.so.1*
	rm -f $(DESTDIR)$(INCLUDEDIR)/vouch.h $(DESTDIR)$(PKGCONFIGDIR)/vouch.pc
	rm -f $(DESTDIR)$(PAMDIR)/pam_vouch.so
	-rmdir $(DESTDIR)$(VOUCH_CONFDIR)/hooks.d 2>/dev/null
	@echo "Kept $(DESTDIR)$(VOUCH_CONFDIR), the vouch accounts and /var/lib/vouch (remove them by hand)."
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi

check-units:
	bash mk/systemd-check.sh systemd

# Installs into a scratch DESTDIR and checks the tree the README documents.
check-install: build clib
	bash mk/install-check.sh
