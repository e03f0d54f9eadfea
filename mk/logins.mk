# Linux logins (docs/LINUX-LOGINS.md): vouchd's io.systemd.UserDatabase
# service through nss-systemd, userdbctl, PAM and a real sshd, in a private
# mount namespace (Tests/logins/run_logins_tests.sh; needs root and unshare).
#   test-logins   runs them (part of make test)
# userdbctl (systemd-userdbd) and sshd (openssh-server) are unpacked from
# their Debian packages into $(LOGINS_DEBS), never installed: nothing starts
# on port 22 and no userdbd runs.
DEB_PACKAGES += libnss-systemd openssh-client libwrap0 libpam-modules

LOGINS_DEBS    := .build/logins-debs
LOGINS_BIN     := .build/$(if $(CONFIG),$(CONFIG),debug)

.PHONY: test-logins
$(LOGINS_DEBS)/.stamp:
	rm -rf $(LOGINS_DEBS) && mkdir -p $(LOGINS_DEBS)/root
	cd $(LOGINS_DEBS) && pkgs="systemd-userdbd=$$(dpkg-query -W -f='$${Version}' systemd) openssh-server" && \
	  { apt-get download $$pkgs 2>/dev/null || { apt-get update -qq && apt-get download $$pkgs; }; }
	for d in $(LOGINS_DEBS)/*.deb; do dpkg-deb -x "$$d" $(LOGINS_DEBS)/root; done
	touch $@

test-logins: deps clib $(LOGINS_DEBS)/.stamp
	$(SWIFT) build --product vouchd
	$(SWIFT) build --product vouchctl
	SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo -E ); \
	VOUCHD=$(CURDIR)/$(LOGINS_BIN)/vouchd VOUCHCTL=$(CURDIR)/$(LOGINS_BIN)/vouchctl \
	PAM_VOUCH=$(CURDIR)/build/pam_vouch.so SSHD=$(CURDIR)/$(LOGINS_DEBS)/root/usr/sbin/sshd \
	USERDBCTL=$$(command -v userdbctl || echo $(CURDIR)/$(LOGINS_DEBS)/root/usr/bin/userdbctl) \
	  $$SUDO unshare --mount --propagation private bash Tests/logins/run_logins_tests.sh
