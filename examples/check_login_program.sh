#!/usr/bin/env bash
# Runs an example login program against a real vouchd (Tests/c/daemon.sh):
#   examples/check_login_program.sh PROGRAM OK_PATTERN UNREACHABLE_PATTERN
# (the patterns of its output for alice's login, and with no daemon)
# The program takes a username, reads the password from standard input, finds
# the socket in $VOUCH_SOCKET and exits 0 logged in, 1 refused, 2 unreachable.
set -u
PROGRAM=$1
OK_PATTERN=$2
UNREACHABLE_PATTERN=$3
source "$(dirname "$0")/../Tests/c/daemon.sh"
require_real
start_real || exit 1
export VOUCH_SOCKET=$SOCK
fail=0
expect() { # status password username pattern
    local want=$1 password=$2 user=$3 pattern=$4 out rc
    out=$(printf '%s' "$password" | "$PROGRAM" "$user" 2>&1); rc=$?
    if [ "$rc" != "$want" ] || ! grep -q -- "$pattern" <<<"$out"; then
        echo "FAIL: $(basename "$PROGRAM") $user: status $rc (want $want), output: $out"; fail=1
    fi
}
expect 0 'wonderland rabbit 1' alice "$OK_PATTERN"
expect 1 'not the password' alice 'refused: '
expect 1 'winter songs 9' carol 'refused: '
stop_daemon
expect 2 'wonderland rabbit 1' alice "$UNREACHABLE_PATTERN"
[ $fail = 0 ] && echo "$(basename "$PROGRAM"): PASS" || echo "$(basename "$PROGRAM"): FAIL"
exit $fail
