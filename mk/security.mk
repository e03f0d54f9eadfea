# Security checks (see docs/SECURITY.md).
#
#   make timing-check   login timing: unknown user vs wrong password vs locked account,
#                       default argon2 cost; medians must be within 10% (VOUCH_TIMING_SAMPLES=60)

.PHONY: timing-check
timing-check: deps
	$(SWIFT) build --build-tests
	VOUCH_TIMING=1 $(SWIFT) test --skip-build --filter TimingCheckTests
