# Documentation checks; included by the Makefile (-include mk/*.mk).
#
#   make check-docs     every vouchd.conf key (vouchd --check-config) in
#                       vouchd.conf(5), with its default and [reload]/[restart],
#                       and in etc/vouch/vouchd.conf; every vouchd option in
#                       vouchd(8); every vouchctl command and
#                       option (vouchctl help) in vouchctl(8); every pam_vouch
#                       option in pam_vouch(8); every libvouch function and code
#                       in libvouch(3), and the library's exported symbols
#                       exactly those of debian/libvouch1.symbols (mk/check-docs.py)
#
# check-man (mk/deb.mk) runs it, so `make test` does.

.PHONY: check-docs check-docs-config check-docs-clib

check-man: check-docs
check-docs: check-docs-config check-docs-clib
	python3 mk/check-docs.py pam

check-docs-config: deps
	$(SWIFT) build --product vouchd
	$(SWIFT) build --product vouchctl
	python3 mk/check-docs.py config $(VOUCHD)
	python3 mk/check-docs.py vouchctl $(VOUCHCTL)

check-docs-clib: clib
	python3 mk/check-docs.py clib build/libvouch.so.$(CLIB_SOVER)
