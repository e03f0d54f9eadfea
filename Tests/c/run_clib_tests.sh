#!/usr/bin/env bash
# Runs Tests/c/test_libvouch (linked against build/libvouch.so) against a
# daemon: the real vouchd ($VOUCHD, default .build/debug/vouchd; exit 77 if
# it is not built) or, with VOUCH_FAKE=1, Tests/c/fake_vouchd.py.
set -u
source "$(dirname "$0")/daemon.sh"
T=$ROOT/build/clib/test_libvouch
[ -x "$T" ] || { echo "missing $T (make clib-test builds it)"; exit 1; }
fail=0
start_daemon || exit 1
echo "== libvouch against the $DAEMON_KIND daemon"
"$T" full "$SOCK" || fail=1
stop_daemon
"$T" down "$SOCK" || fail=1
if [ "$DAEMON_KIND" = fake ] || command -v python3 >/dev/null; then
    start_fake silent || exit 1
    "$T" timeout "$SOCK" || fail=1
    stop_daemon
fi
# A daemon that is not root, the daemon user or us: the fake one as nobody.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && [ -x /usr/bin/python3 ] \
        && getent passwd nobody >/dev/null; then
    start_fake_as_nobody || exit 1
    "$T" untrusted "$SOCK" || fail=1
    stop_daemon
else
    echo "SKIP: the untrusted-daemon test needs root, setpriv and python3"
fi
[ $fail = 0 ] && echo "libvouch tests ($([ "${VOUCH_FAKE:-0}" = 1 ] && echo fake || echo real) daemon): PASS" || echo "libvouch tests ($([ "${VOUCH_FAKE:-0}" = 1 ] && echo fake || echo real) daemon): FAIL"
exit $fail
