# Installation of vouch; included by the Makefile (include mk/*.mk).
#
#   make install     [PREFIX=/usr/local] [DESTDIR=] [LIBDIR=...] ...  builds what it installs
#   make uninstall   removes exactly what install wrote; keeps /etc/vouch/vouchd.conf
#                    and /var/lib/vouch (like apt remove)
#   make check-units   (systemd-analyze verify + security, see mk/systemd-check.sh)
#   make check-install (mk/install-check.sh: the tree install lays out, uninstall)
#
# For a Debian-like system layout: make install PREFIX=/usr.  On Debian the
# libraries go to the multiarch directory (lib/x86_64-linux-gnu); systemd's
# directories come from `pkg-config systemd`, the PAM module directory from
# `pkg-config pam`.  With an empty DESTDIR, install also creates the accounts
# and directories (systemd-sysusers, systemd-tmpfiles) and reloads systemd if
# it runs.  Debian packages: `make deb` (mk/deb.mk, docs/PACKAGING.md).

PREFIX       ?= /usr/local
EXEC_PREFIX  ?= $(PREFIX)
BINDIR       ?= $(EXEC_PREFIX)/bin
SBINDIR      ?= $(EXEC_PREFIX)/sbin
LIBEXECDIR   ?= $(EXEC_PREFIX)/libexec
# Debian's multiarch triplet (x86_64-linux-gnu) where dpkg-architecture exists.
MULTIARCH    ?= $(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null)
LIBDIR       ?= $(EXEC_PREFIX)/lib$(if $(MULTIARCH),/$(MULTIARCH))
INCLUDEDIR   ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DATADIR      ?= $(PREFIX)/share
MANDIR       ?= $(DATADIR)/man
DOCDIR       ?= $(DATADIR)/doc/vouch
BASHCOMPDIR  ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR   ?= $(DATADIR)/zsh/vendor-completions
FISHCOMPDIR  ?= $(DATADIR)/fish/vendor_completions.d
SYSCONFDIR   ?= /etc
# systemd's own answer for where units, sysusers.d and tmpfiles.d files go.
pc_systemd    = $(shell pkg-config --variable=$(1) systemd 2>/dev/null)
UNITDIR      ?= $(or $(call pc_systemd,systemdsystemunitdir),/lib/systemd/system)
SYSUSERSDIR  ?= $(or $(call pc_systemd,sysusersdir),/usr/lib/sysusers.d)
TMPFILESDIR  ?= $(or $(call pc_systemd,tmpfilesdir),/usr/lib/tmpfiles.d)
# Where libpam looks for modules (not under PREFIX): /lib/x86_64-linux-gnu/security on Debian.
PAMDIR       ?= $(or $(shell pkg-config --variable=libdir pam 2>/dev/null),/lib/$(or $(MULTIARCH),$(shell $(CC) -dumpmachine 2>/dev/null)))/security
SWIFT_RELEASE_DIR ?= .build/release
INSTALL      ?= install

VOUCH_CONFDIR := $(SYSCONFDIR)/vouch
# Paths in the shipped files, rewritten to the configured ones.
VOUCH_SUBST := sed -e 's|/usr/sbin/vouchd|$(SBINDIR)/vouchd|g' -e 's|/usr/libexec/vouch|$(LIBEXECDIR)/vouch|g' \
                   -e 's|/etc/vouch|$(VOUCH_CONFDIR)|g'

# What install writes besides /etc/vouch (uninstall removes exactly these).
VOUCH_UNITS    := vouchd.service vouchd.socket vouchd-userdb.socket vouch-outbox.service vouch-outbox.path
VOUCH_MAN      := man8/vouchd.8 man8/vouchctl.8 man8/pam_vouch.8 man5/vouchd.conf.5 man3/libvouch.3
VOUCH_EXAMPLES := vouchd.conf pam.d/vouch hooks.d/forgot_password/50-print-reset-link \
                  hooks.d/forgot_password/60-mail-reset-link
VOUCH_DOCS     := README.md docs/HOOKS.md docs/LIBVOUCH.md docs/SECURITY.md docs/DATA.md docs/PROTOCOL.md docs/PACKAGING.md docs/CLIENTS.md docs/LINUX-LOGINS.md
VOUCH_INSTALLED = $(SBINDIR)/vouchd $(BINDIR)/vouchctl $(LIBEXECDIR)/vouch/vouch-outbox \
                  $(addprefix $(UNITDIR)/,$(VOUCH_UNITS)) $(SYSUSERSDIR)/vouch.conf $(TMPFILESDIR)/vouch.conf \
                  $(LIBDIR)/libvouch.so.$(CLIB_VERSION) $(LIBDIR)/libvouch.so.$(CLIB_SOVER) $(LIBDIR)/libvouch.so \
                  $(INCLUDEDIR)/vouch.h $(PKGCONFIGDIR)/vouch.pc $(PAMDIR)/pam_vouch.so \
                  $(addprefix $(MANDIR)/,$(VOUCH_MAN)) \
                  $(BASHCOMPDIR)/vouchctl $(ZSHCOMPDIR)/_vouchctl $(FISHCOMPDIR)/vouchctl.fish \
                  $(addprefix $(DOCDIR)/examples/,$(VOUCH_EXAMPLES)) $(addprefix $(DOCDIR)/,$(notdir $(VOUCH_DOCS)))
# Directories that are vouch's alone: uninstall removes them when empty.
VOUCH_OWN_DIRS  = $(DOCDIR)/examples/hooks.d/forgot_password $(DOCDIR)/examples/hooks.d \
                  $(DOCDIR)/examples/pam.d $(DOCDIR)/examples $(DOCDIR) $(LIBEXECDIR)/vouch

.PHONY: install install-files uninstall check-units check-install completions

# What install needs built: the release executables (Swift standard library
# linked in), the C library and PAM module, the completions.  `make
# check-install` and the Debian build pass INSTALL_DEPENDS= to install what
# is already built.
INSTALL_DEPENDS ?= release clib completions

# bash-completion sources the file: no #! line (lintian: bash-completion-with-hashbang).
COMPLETIONS := build/completions/vouchctl build/completions/_vouchctl build/completions/vouchctl.fish
completions: $(COMPLETIONS)
build/completions/vouchctl: $(SWIFT_RELEASE_DIR)/vouchctl
	@mkdir -p $(@D)
	$< --generate-completion-script bash | sed '1{/^#!/d}' >$@
build/completions/_vouchctl: $(SWIFT_RELEASE_DIR)/vouchctl
	@mkdir -p $(@D)
	$< --generate-completion-script zsh >$@
build/completions/vouchctl.fish: $(SWIFT_RELEASE_DIR)/vouchctl
	@mkdir -p $(@D)
	$< --generate-completion-script fish >$@

install: $(INSTALL_DEPENDS)
	@$(MAKE) --no-print-directory install-files
	@if [ -z "$(DESTDIR)" ]; then \
	  command -v systemd-sysusers >/dev/null && systemd-sysusers $(SYSUSERSDIR)/vouch.conf || true; \
	  command -v systemd-tmpfiles >/dev/null && systemd-tmpfiles --create $(TMPFILESDIR)/vouch.conf || true; \
	  command -v ldconfig >/dev/null && ldconfig || true; \
	  if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; \
	    echo "Start with: systemctl enable --now vouchd.socket"; fi; \
	fi

# The copying alone (the Debian build calls it with DESTDIR=debian/tmp).
install-files:
	@for f in $(COMPLETIONS) build/libvouch.so.$(CLIB_VERSION) build/pam_vouch.so $(SWIFT_RELEASE_DIR)/vouchd $(SWIFT_RELEASE_DIR)/vouchctl; do \
	  [ -e $$f ] || { echo "install: $$f is not built (make install builds it; INSTALL_DEPENDS=$(INSTALL_DEPENDS))" >&2; exit 1; }; done
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR)/vouch
	$(INSTALL) -m 0755 $(SWIFT_RELEASE_DIR)/vouchd $(DESTDIR)$(SBINDIR)/vouchd
	$(INSTALL) -m 0755 $(SWIFT_RELEASE_DIR)/vouchctl $(DESTDIR)$(BINDIR)/vouchctl
	$(INSTALL) -m 0755 systemd/vouch-outbox $(DESTDIR)$(LIBEXECDIR)/vouch/vouch-outbox
	$(INSTALL) -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(TMPFILESDIR)
	for u in $(VOUCH_UNITS); do $(VOUCH_SUBST) systemd/$$u >$(DESTDIR)$(UNITDIR)/$$u; chmod 0644 $(DESTDIR)$(UNITDIR)/$$u; done
	$(INSTALL) -m 0644 systemd/vouch.sysusers.conf $(DESTDIR)$(SYSUSERSDIR)/vouch.conf
	$(VOUCH_SUBST) systemd/vouch.tmpfiles.conf >$(DESTDIR)$(TMPFILESDIR)/vouch.conf
	chmod 0644 $(DESTDIR)$(TMPFILESDIR)/vouch.conf
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(PAMDIR)
	$(INSTALL) -m 0644 build/libvouch.so.$(CLIB_VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sfn libvouch.so.$(CLIB_VERSION) $(DESTDIR)$(LIBDIR)/libvouch.so.$(CLIB_SOVER)
	ln -sfn libvouch.so.$(CLIB_SOVER) $(DESTDIR)$(LIBDIR)/libvouch.so
	$(INSTALL) -m 0644 Sources/CVouch/include/vouch.h $(DESTDIR)$(INCLUDEDIR)/vouch.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
	    -e 's|@VERSION@|$(CLIB_VERSION)|g' Sources/CVouch/vouch.pc.in >$(DESTDIR)$(PKGCONFIGDIR)/vouch.pc
	chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/vouch.pc
	$(INSTALL) -m 0644 build/pam_vouch.so $(DESTDIR)$(PAMDIR)/pam_vouch.so
	for m in $(VOUCH_MAN); do \
	  $(INSTALL) -d $(DESTDIR)$(MANDIR)/$$(dirname $$m); \
	  $(VOUCH_SUBST) man/$$(basename $$m) >$(DESTDIR)$(MANDIR)/$$m; chmod 0644 $(DESTDIR)$(MANDIR)/$$m; done
	$(INSTALL) -d $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	$(INSTALL) -m 0644 build/completions/vouchctl $(DESTDIR)$(BASHCOMPDIR)/vouchctl
	$(INSTALL) -m 0644 build/completions/_vouchctl $(DESTDIR)$(ZSHCOMPDIR)/_vouchctl
	$(INSTALL) -m 0644 build/completions/vouchctl.fish $(DESTDIR)$(FISHCOMPDIR)/vouchctl.fish
	$(INSTALL) -d $(DESTDIR)$(DOCDIR)
	$(INSTALL) -m 0644 $(VOUCH_DOCS) $(DESTDIR)$(DOCDIR)/
	for e in $(VOUCH_EXAMPLES); do \
	  $(INSTALL) -d $(DESTDIR)$(DOCDIR)/examples/$$(dirname $$e); \
	  $(VOUCH_SUBST) etc/$$(echo $$e | sed 's|^vouchd.conf|vouch/vouchd.conf|; s|^hooks.d|vouch/hooks.d|') >$(DESTDIR)$(DOCDIR)/examples/$$e; \
	  case $$e in hooks.d/*) chmod 0755 $(DESTDIR)$(DOCDIR)/examples/$$e;; *) chmod 0644 $(DESTDIR)$(DOCDIR)/examples/$$e;; esac; done
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

uninstall:
	rm -f $(addprefix $(DESTDIR),$(VOUCH_INSTALLED))
	-rmdir $(addprefix $(DESTDIR),$(VOUCH_OWN_DIRS) $(VOUCH_CONFDIR)/hooks.d) 2>/dev/null
	@if [ -z "$(DESTDIR)" ]; then command -v ldconfig >/dev/null && ldconfig || true; \
	  [ -d /run/systemd/system ] && systemctl daemon-reload || true; fi
	@echo "Kept $(DESTDIR)$(VOUCH_CONFDIR) and /var/lib/vouch (configuration and data)"

check-units:
	bash mk/systemd-check.sh systemd

# Installs the release build into a scratch DESTDIR, checks the tree the
# README documents, the binaries' libraries, vouch.pc, and that uninstall
# leaves only the configuration.
check-install: release clib completions
	bash mk/install-check.sh
