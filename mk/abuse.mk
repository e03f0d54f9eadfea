# Abuse tests alone (issue 12: one peer must not deny service to another);
# `make test` runs them with the others.  The attacker runs as uid 65534
# through setpriv, so most need root (as in CI).  See docs/SECURITY.md.
#
#   make test-abuse

.PHONY: test-abuse
test-abuse: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --filter 'Abuse|RateLimiterTests|WorkerPoolTests|FileLimitTests|ReservedConnectionTests'
