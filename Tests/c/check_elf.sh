#!/usr/bin/env bash
# ELF checks of build/libvouch.so.1 and build/pam_vouch.so: SONAME, NEEDED,
# exported symbols and their version node.  Usage: check_elf.sh BUILD_DIR
set -u
B=${1:-build}
fail=0
bad() { echo "FAIL: $*"; fail=1; }
command -v readelf >/dev/null && command -v nm >/dev/null || { echo "SKIP: readelf/nm missing (binutils)"; exit 77; }

lib=$B/libvouch.so.1
[ "$(readlink "$B/libvouch.so.1")" = libvouch.so.1.0.0 ] || bad "$B/libvouch.so.1 is not a link to libvouch.so.1.0.0"
[ "$(readlink "$B/libvouch.so")" = libvouch.so.1 ] || bad "$B/libvouch.so is not a link to libvouch.so.1"
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libvouch.so.1 ] || bad "SONAME is '$soname'"
needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
[ "$needed" = "libc.so.6 " ] || bad "libvouch NEEDED: $needed"
syms=$(nm -D --defined-only "$lib" | awk '{print $3}')
others=$(echo "$syms" | grep -v -e '^vouch_[a-z0-9_]*@@VOUCH_1$' -e '^VOUCH_1$')
[ -z "$others" ] || bad "libvouch exports non-vouch symbols: $others"
for f in vouch_open vouch_close vouch_login vouch_login_ctx vouch_change_password \
         vouch_verify_token vouch_revoke_token vouch_get_user vouch_account_status \
         vouch_strerror vouch_version vouch_ping vouch_hello; do
    echo "$syms" | grep -qx "$f@@VOUCH_1" || bad "libvouch does not export $f@@VOUCH_1"
done
grep -q '^Libs: .*-lvouch' "$B/vouch.pc" || bad "$B/vouch.pc has no Libs: -lvouch"

pam=$B/pam_vouch.so
needed=$(readelf -d "$pam" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
[ "$needed" = "libc.so.6 libpam.so.0 " ] || bad "pam_vouch NEEDED: $needed"
psyms=$(nm -D --defined-only "$pam" | awk '{print $3}' | sort | tr '\n' ' ')
want="pam_sm_acct_mgmt pam_sm_authenticate pam_sm_chauthtok pam_sm_close_session pam_sm_open_session pam_sm_setcred "
[ "$psyms" = "$want" ] || bad "pam_vouch exports: $psyms"

[ $fail = 0 ] && echo "ELF checks: PASS"
exit $fail
