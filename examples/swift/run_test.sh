#!/usr/bin/env bash
# Runs the built vouch-login (argument 1) against a real vouchd (Tests/c/daemon.sh).
set -u
PROGRAM=$1
source "$(dirname "$0")/../../Tests/c/daemon.sh"
require_real
start_real || exit 1
export VOUCH_SOCKET=$SOCK
fail=0
expect() { # status password username pattern
    local want=$1 password=$2 user=$3 pattern=$4 out rc
    out=$(printf '%s' "$password" | "$PROGRAM" "$user" 2>&1); rc=$?
    if [ "$rc" != "$want" ] || ! grep -q -- "$pattern" <<<"$out"; then
        echo "FAIL: vouch-login $user: status $rc (want $want), output: $out"; fail=1
    fi
}
expect 0 'wonderland rabbit 1' alice 'ok: alice (id [0-9]*), token verified for alice'
expect 1 'not the password' alice 'refused: '
expect 1 'winter songs 9' carol 'refused: '
stop_daemon
expect 2 'wonderland rabbit 1' alice 'cannot connect to vouchd'
[ $fail = 0 ] && echo "examples/swift: PASS" || echo "examples/swift: FAIL"
exit $fail
