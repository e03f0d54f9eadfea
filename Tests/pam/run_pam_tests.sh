#!/usr/bin/env bash
# PAM tests of build/pam_vouch.so through Tests/pam/pam_harness.c, with a
# private PAM configuration directory (pam_start_confdir; nothing in /etc is
# touched), against the real vouchd ($VOUCHD; exit 77 if not built) or, with
# VOUCH_FAKE=1, Tests/c/fake_vouchd.py.
set -u
source "$(dirname "$0")/../c/daemon.sh"
H=$ROOT/build/clib/pam_harness
MOD=$ROOT/build/pam_vouch.so
[ -x "$H" ] && [ -f "$MOD" ] || { echo "missing $H or $MOD (make clib-test builds them)"; exit 1; }
CONF=$TMP/pam.d
mkdir -p "$CONF"
fail=0
out=

svc() { # name, lines (one per argument)
    printf '%s\n' "${@:2}" > "$CONF/$1"
}
ph() { out=$("$H" --confdir "$CONF" "$@" 2>&1); }
expect() { # label, exact lines that must be in the output
    local label=$1 p; shift
    for p in "$@"; do
        if ! grep -qxF -- "$p" <<<"$out"; then
            echo "FAIL: $label: no line '$p' in:"; sed 's/^/    /' <<<"$out"; fail=1; return
        fi
    done
    echo "ok: $label"
}
absent() { # label, text that must not be in what the modules logged
    if grep '^SYSLOG: ' <<<"$out" | grep -qF -- "$2"; then
        echo "FAIL: $1: '$2' in:"; sed 's/^/    /' <<<"$out"; fail=1
    else
        echo "ok: $1"
    fi
}
elapsed_ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

A="socket=$SOCK timeout=3000"
svc vouch   "auth required $MOD $A" "account required $MOD $A" \
            "password required $MOD $A" "session required $MOD $A"
svc vouch-uu "auth required $MOD $A unknown_is_user_unknown" \
             "password required $MOD $A unknown_is_user_unknown"
svc first   "auth optional $MOD $A" "auth required $MOD $A use_first_pass"
svc first-none "auth required $MOD $A use_first_pass"
svc try     "auth optional $MOD $A" "auth required $MOD $A try_first_pass"
svc stack   "auth [success=done user_unknown=ignore authinfo_unavail=ignore default=die] $MOD $A unknown_is_user_unknown" \
            "auth required pam_permit.so"
svc down    "auth required $MOD socket=$TMP/nothing.sock timeout=1000" \
            "account required $MOD socket=$TMP/nothing.sock timeout=1000" \
            "password required $MOD socket=$TMP/nothing.sock timeout=1000"
svc down-stack "auth [success=done user_unknown=ignore authinfo_unavail=ignore default=die] $MOD socket=$TMP/nothing.sock timeout=1000" \
               "auth required pam_permit.so"
svc slow    "auth required $MOD socket=$SOCK timeout=1000"
svc ignorecase "auth required $MOD $A ignore_case"
svc lognames "auth required $MOD $A log_unknown_names"

start_daemon || exit 1
echo "== pam_vouch against the $DAEMON_KIND daemon"

# auth
ph --service vouch --user alice --answer 'wonderland rabbit 1' --rhost host.example --tty pts/1 auth setcred
expect "right password" "PROMPT: Password: " "auth: PAM_SUCCESS" "setcred: PAM_SUCCESS" "prompts: 1"
ph --service vouch --user bob --answer 'nope' auth
expect "wrong password" "auth: PAM_AUTH_ERR"
ph --service vouch --user nobody-here --answer 'whatever' auth
expect "unknown user, default" "auth: PAM_AUTH_ERR"
ph --service vouch --user carol --answer 'winter songs 9' auth
expect "inactive user, auth" "auth: PAM_AUTH_ERR"

# issue 12 item 8: the account vouchd matched must be PAM_USER exactly
ph --service vouch --user ALICE --answer 'wonderland rabbit 1' auth
expect "another case of the name is refused" "auth: PAM_AUTH_ERR" "user: ALICE"
ph --service ignorecase --user ALICE --answer 'wonderland rabbit 1' auth
expect "ignore_case: the account's own name becomes PAM_USER" "auth: PAM_SUCCESS" "user: alice"

# an expired password (status 22) names no account in its answer: the name
# rule holds all the same (real daemon: the fake one has no password aging)
if [ "$DAEMON_KIND" = real ]; then
    printf '%s' 'expired pass word 5' | ctl user create --username dora --password-stdin >/dev/null
    ctl user expire dora >/dev/null
    ph --service vouch --user DORA --answer 'expired pass word 5' auth
    expect "expired password, another case of the name is refused" "auth: PAM_AUTH_ERR" "user: DORA"
    ph --service vouch --user dora --answer 'expired pass word 5' auth account
    expect "expired password, own name: auth, then a change is required" "auth: PAM_SUCCESS" \
        "account: PAM_NEW_AUTHTOK_REQD"
fi

# issue 12 item 12: a name vouchd does not know is logged as UNKNOWN (it may
# be a password typed at the login prompt), a known one by name
ph --service vouch --user 'Typed-Password-9' --answer 'whatever' auth
expect "unknown name: logged as UNKNOWN" "auth: PAM_AUTH_ERR"
absent "unknown name: not in syslog" "Typed-Password-9"
grep -q "^SYSLOG: pam_vouch([a-z]*:auth): authentication failed; user=UNKNOWN " <<<"$out" || { echo "FAIL: no user=UNKNOWN line"; sed 's/^/    /' <<<"$out"; fail=1; }
ph --service vouch --user bob --answer 'nope' auth
grep -q "^SYSLOG: pam_vouch([a-z]*:auth): authentication failed; user=bob " <<<"$out" && echo "ok: known name logged" \
    || { echo "FAIL: bob not logged by name"; sed 's/^/    /' <<<"$out"; fail=1; }
ph --service lognames --user 'Typed-Password-9' --answer 'whatever' auth
grep -q "^SYSLOG: pam_vouch([a-z]*:auth): authentication failed; user=Typed-Password-9 " <<<"$out" && echo "ok: log_unknown_names logs the name" \
    || { echo "FAIL: log_unknown_names"; sed 's/^/    /' <<<"$out"; fail=1; }

# account (needs account_status, opcode 0x18)
ph --service vouch --user alice account
if grep -qx "account: PAM_AUTHINFO_UNAVAIL" <<<"$out" && [ "$DAEMON_KIND" = real ]; then
    echo "SKIP: the daemon does not implement account_status (0x18): account and unknown_is_user_unknown tests"
    has_status=0
else
    has_status=1
    expect "active user, account" "account: PAM_SUCCESS"
    ph --service vouch --user carol account
    expect "inactive user, account" "account: PAM_ACCT_EXPIRED"
    ph --service vouch --user nobody-here account
    expect "unknown user, account" "account: PAM_USER_UNKNOWN"
    ph --service vouch-uu --user nobody-here --answer 'whatever' auth
    expect "unknown user, unknown_is_user_unknown" "auth: PAM_USER_UNKNOWN"
    ph --service vouch-uu --user bob --answer 'nope' auth
    expect "known user wrong password, unknown_is_user_unknown" "auth: PAM_AUTH_ERR"
    ph --service stack --user nobody-here --answer 'whatever' auth
    expect "example stack: unknown user falls through to the next module" "auth: PAM_SUCCESS"
fi
ph --service stack --user bob --answer 'nope' auth
expect "example stack: wrong password dies" "auth: PAM_AUTH_ERR"
ph --service stack --user alice --answer 'wonderland rabbit 1' auth
expect "example stack: right password" "auth: PAM_SUCCESS" "prompts: 1"

# use_first_pass / try_first_pass (Linux-PAM lets only modules set
# PAM_AUTHTOK, so a first pam_vouch line provides it)
ph --service first --user alice --answer 'wonderland rabbit 1' auth
expect "use_first_pass: no second prompt" "auth: PAM_SUCCESS" "prompts: 1"
ph --service first-none --user alice --answer 'wonderland rabbit 1' auth
expect "use_first_pass without a password: no prompt, failure" "auth: PAM_AUTH_ERR" "prompts: 0"
ph --service try --user alice --answer 'wrong' --answer 'wonderland rabbit 1' auth
expect "try_first_pass: stored password refused, asked again" "auth: PAM_SUCCESS" "prompts: 2"
ph --service try --user alice --answer 'wonderland rabbit 1' auth
expect "try_first_pass: stored password accepted" "auth: PAM_SUCCESS" "prompts: 1"

# password
ph --service vouch --user alice --answer 'wonderland rabbit 1' --answer 'looking glass 2' --answer 'looking glass 2' chauthtok
expect "chauthtok" "PROMPT: Current password: " "PROMPT: New password: " \
    "PROMPT: Retype new password: " "chauthtok: PAM_SUCCESS"
ph --service vouch --user alice --answer 'looking glass 2' auth
expect "new password works" "auth: PAM_SUCCESS"
ph --service vouch --user alice --answer 'wonderland rabbit 1' auth
expect "old password no longer works" "auth: PAM_AUTH_ERR"
ph --service vouch --user alice --answer 'looking glass 2' --answer 'a' --answer 'a' chauthtok
expect "chauthtok policy refusal" "chauthtok: PAM_AUTHTOK_ERR"
if grep -q '^ERROR_MSG: .\+' <<<"$out"; then echo "ok: refusal reason shown: $(grep '^ERROR_MSG' <<<"$out")"
else echo "FAIL: no ERROR_MSG with the policy's reason"; sed 's/^/    /' <<<"$out"; fail=1; fi
ph --service vouch --user alice --answer 'looking glass 2' --answer 'looking glass 3' --answer 'looking glass 4' chauthtok
expect "chauthtok: retyped password differs" "ERROR_MSG: Sorry, passwords do not match." "chauthtok: PAM_AUTHTOK_ERR"
ph --service vouch --user bob --answer 'nope' chauthtok
expect "chauthtok: wrong current password" "chauthtok: PAM_AUTH_ERR" "prompts: 1"
if [ $has_status = 1 ]; then
    ph --service vouch-uu --user nobody-here --answer 'x' chauthtok
    expect "chauthtok: unknown user, unknown_is_user_unknown: no prompt" "chauthtok: PAM_USER_UNKNOWN" "prompts: 0"
    ph --service vouch-uu --user alice --answer 'looking glass 2' --answer 'looking glass 5' --answer 'looking glass 5' chauthtok
    expect "chauthtok with unknown_is_user_unknown, vouch user" "chauthtok: PAM_SUCCESS" "prompts: 3"
fi

# session
ph --service vouch --user alice open_session close_session
expect "session" "open_session: PAM_SUCCESS" "close_session: PAM_SUCCESS"

# pamtester, the stock PAM client, with the stack in a throwaway /etc/pam.d:
# a private mount namespace binds our config directory over /etc/pam.d, so
# the machine's own /etc is never touched (needs root and unshare).
if [ "${VOUCH_FAKE:-0}" != 1 ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null \
    && command -v pamtester >/dev/null; then
    if pt=$(printf 'token holder 7\n' | unshare --mount --propagation private \
        sh -c "mount --bind '$CONF' /etc/pam.d && exec pamtester vouch dave authenticate acct_mgmt" 2>&1); then
        echo "ok: pamtester smoke test: $(echo "$pt" | tail -n1)"
    else
        case "$pt" in
        *"mount"*|*"unshare"*) echo "SKIP: pamtester smoke test: no private mount namespace here ($pt)" ;;
        *) echo "FAIL: pamtester smoke test: $pt"; fail=1 ;;
        esac
    fi
    pt=$(printf 'token holder 7\n' | unshare --mount --propagation private \
        sh -c "mount --bind '$CONF' /etc/pam.d && exec pamtester vouch DAVE authenticate" 2>&1) \
        && { echo "FAIL: pamtester accepted DAVE with dave's password"; fail=1; } \
        || echo "ok: pamtester refuses another case of the name"
    pt=$(printf 'not the password 1\n' | unshare --mount --propagation private \
        sh -c "mount --bind '$CONF' /etc/pam.d && exec pamtester vouch dave authenticate" 2>&1) \
        && { echo "FAIL: pamtester accepted a wrong password"; fail=1; } || echo "ok: pamtester refuses a wrong password"
else
    echo "SKIP: pamtester smoke test: needs root, unshare, pamtester and the real daemon"
fi

# daemon not answering: within the timeout
stop_daemon
t0=$(date +%s%N)
ph --service down --user alice --answer 'wonderland rabbit 1' auth account chauthtok
ms=$(elapsed_ms "$t0")
expect "daemon stopped ($ms ms)" "auth: PAM_AUTHINFO_UNAVAIL" "account: PAM_AUTHINFO_UNAVAIL" \
    "chauthtok: PAM_AUTHINFO_UNAVAIL" "prompts: 0"
[ "$ms" -lt 3000 ] || { echo "FAIL: took $ms ms"; fail=1; }
ph --service down-stack --user alice --answer 'x' auth
expect "example stack: daemon down falls through" "auth: PAM_SUCCESS"
start_fake silent || exit 1
t0=$(date +%s%N)
ph --service slow --user alice --answer 'wonderland rabbit 1' auth
ms=$(elapsed_ms "$t0")
expect "daemon silent: timeout ($ms ms)" "auth: PAM_AUTHINFO_UNAVAIL"
[ "$ms" -ge 900 ] && [ "$ms" -lt 3000 ] || { echo "FAIL: timeout took $ms ms (timeout=1000)"; fail=1; }
stop_daemon

KIND=$([ "${VOUCH_FAKE:-0}" = 1 ] && echo fake || echo real)
[ $fail = 0 ] && echo "PAM tests ($KIND daemon): PASS" || echo "PAM tests ($KIND daemon): FAIL"
exit $fail
