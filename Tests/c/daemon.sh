# Sourced by the C and PAM test drivers: starts and stops a daemon to test
# against, the real vouchd ($VOUCHD, users made with $VOUCHCTL) or, with
# VOUCH_FAKE=1, Tests/c/fake_vouchd.py.  Users:
#   alice / "wonderland rabbit 1"  active
#   bob   / "builder of things 1"    active (for wrong-password tests)
#   carol / "winter songs 9"  inactive
# Sets SOCK, DAEMON_PID, DAEMON_KIND.  Exit code 77 means "skipped".

ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
VOUCHD=${VOUCHD:-.build/debug/vouchd}
VOUCHCTL=${VOUCHCTL:-.build/debug/vouchctl}
case $VOUCHD in /*) ;; *) VOUCHD=$ROOT/$VOUCHD ;; esac
case $VOUCHCTL in /*) ;; *) VOUCHCTL=$ROOT/$VOUCHCTL ;; esac
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vouch-ctest.XXXXXX")
chmod 755 "$TMP"
SOCK=$TMP/vouchd.sock
DAEMON_PID=
VOUCH_TEST_TOKEN=

cleanup() {
    stop_daemon
    rm -rf "$TMP"
}
trap cleanup EXIT

wait_socket() {
    for _ in $(seq 1 200); do
        [ -S "$SOCK" ] && return 0
        kill -0 "$DAEMON_PID" 2>/dev/null || { echo "daemon exited early; log:"; cat "$TMP/daemon.log"; return 1; }
        sleep 0.05
    done
    echo "daemon did not create $SOCK; log:"; cat "$TMP/daemon.log"; return 1
}

stop_daemon() {
    if [ -n "$DAEMON_PID" ]; then
        kill "$DAEMON_PID" 2>/dev/null
        wait "$DAEMON_PID" 2>/dev/null
        DAEMON_PID=
    fi
    rm -f "$SOCK"
}

start_fake() { # [mode]
    command -v python3 >/dev/null || { echo "SKIP: python3 missing (fake daemon)"; exit 77; }
    python3 "$ROOT/Tests/c/fake_vouchd.py" --socket "$SOCK" --mode "${1:-normal}" \
        --user 'alice:wonderland rabbit 1' --user 'bob:builder of things 1' --user 'carol:winter songs 9:inactive' \
        >"$TMP/daemon.log" 2>&1 &
    DAEMON_PID=$!
    DAEMON_KIND=fake
    wait_socket
}

start_fake_as_nobody() { # the fake daemon run as uid 65534 (needs root)
    mkdir -p "$TMP/nobody" && chown nobody "$TMP/nobody" || return 1
    SOCK=$TMP/nobody/vouchd.sock
    setpriv --reuid=nobody --regid=nogroup --clear-groups /usr/bin/python3 "$ROOT/Tests/c/fake_vouchd.py" \
        --socket "$SOCK" --user 'alice:wonderland rabbit 1' >"$TMP/daemon.log" 2>&1 &
    DAEMON_PID=$!
    DAEMON_KIND=fake
    wait_socket
}

# Skips (exit 77) unless $VOUCHD looks like the real daemon.
require_real() {
    if [ ! -x "$VOUCHD" ] || [ ! -x "$VOUCHCTL" ]; then
        echo "SKIP: $VOUCHD or $VOUCHCTL not built; real-daemon tests skipped"; exit 77
    fi
    if ! "$VOUCHD" --help 2>&1 | grep -q -- --socket; then
        echo "SKIP: $VOUCHD --help does not mention --socket (not the daemon yet); skipped"; exit 77
    fi
}

ctl() { "$VOUCHCTL" --socket "$SOCK" "$@"; }

start_real() {
    local extra=()
    "$VOUCHD" --help 2>&1 | grep -q -- --config && extra+=(--config /dev/null)
    # shellcheck disable=SC2086
    "$VOUCHD" --socket "$SOCK" --database "$TMP/vouch.db" "${extra[@]}" ${VOUCHD_ARGS:-} \
        >"$TMP/daemon.log" 2>&1 &
    DAEMON_PID=$!
    DAEMON_KIND=real
    wait_socket || return 1
    printf '%s' 'wonderland rabbit 1' | ctl user create --username alice --password-stdin \
        >/dev/null || { echo "vouchctl user create alice failed"; return 1; }
    printf '%s' 'builder of things 1' | ctl user create --username bob --password-stdin \
        >/dev/null || { echo "vouchctl user create bob failed"; return 1; }
    if ! printf '%s' 'winter songs 9' | ctl user create --username carol --password-stdin \
            --inactive >/dev/null 2>&1; then
        printf '%s' 'winter songs 9' | ctl user create --username carol --password-stdin \
            >/dev/null && ctl user change-permissions carol --active false >/dev/null \
            || { echo "cannot create the inactive user carol"; return 1; }
    fi
    # The token belongs to its own user: the tests change alice's password,
    # which (rightly) revokes alice's sessions.
    printf '%s' 'token holder 7' | ctl user create --username dave --password-stdin \
        >/dev/null || { echo "vouchctl user create dave failed"; return 1; }
    VOUCH_TEST_TOKEN=$(printf '%s' 'token holder 7' | ctl login dave --token --password-stdin \
        2>/dev/null | grep -o 'vch_[A-Za-z0-9_-]*' | head -n1) || true
    VOUCH_TEST_TOKEN_USER=dave
    export VOUCH_TEST_TOKEN_USER
    [ -n "$VOUCH_TEST_TOKEN" ] || echo "note: vouchctl login --token gave no token; its test is skipped"
    export VOUCH_TEST_TOKEN
}

start_daemon() {
    if [ "${VOUCH_FAKE:-0}" = 1 ]; then start_fake; else require_real; start_real; fi
}
