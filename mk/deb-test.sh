#!/usr/bin/env bash
# make deb-test: the Debian packages on this machine, as an admin would use them.
#
#   1. dpkg -i of vouch, libvouch1, libvouch-dev, libpam-vouch (no systemd
#      PID 1 here: the maintainer scripts skip what needs it, like Debian's
#      helpers in a chroot); the accounts, directories, conffile, socket
#      enablement (deb-systemd-helper) and the unmodified PAM stacks checked;
#      every library the binaries load belongs to a package they depend on.
#   2. systemd-analyze verify of the installed units (man pages included).
#   3. In a mount namespace where the Swift toolchain is an empty tmpfs: the
#      installed vouchd with the installed config and a scratch database and
#      socket; vouchctl creates a user and logs in; pam_vouch.so (found by
#      libpam in its module directory) through a pam_start_confdir harness;
#      a C program built with `pkg-config --cflags --libs vouch` alone; the
#      shipped mail hook and vouch-outbox deliver a reset link that works;
#      ExecReload of the installed unit refuses a broken config, naming the
#      line, and the daemon is not signalled.
#   4. dpkg -r: config and data stay; dpkg -P: nothing of vouch stays, and the
#      machine is as it was (the accounts the package keeps are removed by
#      this test when it created them).
# Needs root; exits 77 (skipped) otherwise or when vouch is already installed.
# Usage: mk/deb-test.sh vouch_*.deb libvouch1_*.deb libvouch-dev_*.deb libpam-vouch_*.deb
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd)
fail=0
bad() { echo "FAIL: $*"; fail=1; }
ok() { echo "ok: $*"; }

# ---- 3. inside the namespace (re-executed by the outer part) -------------
if [ "${1:-}" = --hidden ]; then
    T=$2 toolchain=$3
    mount -t tmpfs -o mode=0755 tmpfs "$toolchain" || { echo "FAIL: cannot hide $toolchain"; exit 1; }
    if [ -z "$(ls -A "$toolchain")" ] && ! command -v swift >/dev/null; then ok "the Swift toolchain ($toolchain) is hidden"
    else bad "the Swift toolchain ($toolchain) is still visible"; fi
    /usr/sbin/vouchd --version >/dev/null || bad "the installed vouchd does not run without the toolchain"
    sock=$T/vouchd.sock
    /usr/sbin/vouchd --config /etc/vouch/vouchd.conf --socket "$sock" --database "$T/vouch.db" --log-to stderr \
        >"$T/vouchd.log" 2>&1 &
    pid=$!
    for _ in $(seq 300); do [ -S "$sock" ] && break; sleep 0.1; done
    [ -S "$sock" ] || { echo "FAIL: vouchd did not start:"; cat "$T/vouchd.log"; kill "$pid" 2>/dev/null; exit 1; }
    ok "installed vouchd started with /etc/vouch/vouchd.conf (pid $pid)"
    trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null' EXIT
    export VOUCH_SOCKET=$sock

    out=$(vouchctl user create --username bob --email bob@example.com --password-stdin <<<'correct horse 1' 2>&1) \
        && grep -q '^Created user' <<<"$out" && ok "vouchctl user create: $out" || bad "vouchctl user create: $out"
    id=$(vouchctl login bob --password-stdin <<<'correct horse 1' 2>&1) && [ "$id" -gt 0 ] 2>/dev/null \
        && ok "vouchctl login bob: user $id" || bad "vouchctl login bob: $id"
    if out=$(vouchctl login bob --password-stdin <<<'wrong horse' 2>&1); then bad "a wrong password logged in"
    else ok "vouchctl login with a wrong password is refused: $out"; fi

    # pam_vouch.so by name: libpam finds it in its module directory.
    mkdir -p "$T/pam.d"
    printf '%s\n' "auth required pam_vouch.so socket=$sock" "account required pam_vouch.so socket=$sock" >"$T/pam.d/vouch-test"
    h=$root/build/clib/pam_harness
    out=$("$h" --confdir "$T/pam.d" --service vouch-test --user bob --answer 'correct horse 1' auth account 2>&1)
    grep -qx "auth: PAM_SUCCESS" <<<"$out" && grep -qx "account: PAM_SUCCESS" <<<"$out" \
        && ok "installed pam_vouch.so: right password, auth and account PAM_SUCCESS" || bad "pam_vouch.so, right password: $out"
    out=$("$h" --confdir "$T/pam.d" --service vouch-test --user bob --answer 'nope nope' auth 2>&1)
    grep -qx "auth: PAM_AUTH_ERR" <<<"$out" && ok "installed pam_vouch.so: wrong password PAM_AUTH_ERR" || bad "pam_vouch.so, wrong password: $out"

    # The pam-auth-update profile, enabled on copies of /etc/pam.d,
    # /var/lib/pam and /usr/share/pam-configs mounted over them in this
    # namespace only (the profile's socket= pointed at this vouchd): a vouch
    # user logs in through common-auth and common-account (pam_unix first).
    cp -a /etc/pam.d "$T/etc-pam.d" && cp -a /var/lib/pam "$T/var-lib-pam" && cp -a /usr/share/pam-configs "$T/pam-configs"
    sed -i "s|pam_vouch.so|pam_vouch.so socket=$sock|" "$T/pam-configs/vouch"
    mount --bind "$T/etc-pam.d" /etc/pam.d && mount --bind "$T/var-lib-pam" /var/lib/pam \
        && mount --bind "$T/pam-configs" /usr/share/pam-configs || bad "cannot mount copies of the PAM configuration"
    if DEBIAN_FRONTEND=noninteractive pam-auth-update --enable vouch >"$T/pam-auth-update.log" 2>&1 \
        && grep -q pam_vouch /etc/pam.d/common-auth; then
        printf '%s\n' "@include common-auth" "@include common-account" >/etc/pam.d/vouch-common
        out=$("$h" --confdir /etc/pam.d --service vouch-common --user bob --answer 'correct horse 1' auth account 2>&1)
        grep -qx "auth: PAM_SUCCESS" <<<"$out" && grep -qx "account: PAM_SUCCESS" <<<"$out" \
            && ok "pam-auth-update --enable vouch: bob logs in through common-auth, common-account" || bad "common-auth with vouch enabled: $out"
        out=$("$h" --confdir /etc/pam.d --service vouch-common --user bob --answer 'wrong horse' auth 2>&1)
        grep -qx "auth: PAM_AUTH_ERR" <<<"$out" && ok "common-auth with vouch enabled: a wrong password fails" || bad "common-auth, wrong password: $out"
    else
        bad "pam-auth-update --enable vouch: $(cat "$T/pam-auth-update.log")"
    fi

    # A C program against the installed library, with pkg-config alone.
    cat >"$T/login.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <vouch.h>
int main(int argc, char **argv) {
    char pw[256]; int err; int64_t id = 0;
    if (argc != 2 || !fgets(pw, sizeof pw, stdin)) return 2;
    pw[strcspn(pw, "\n")] = 0;
    vouch_client *c = vouch_open(NULL, 5000, &err);   /* $VOUCH_SOCKET */
    if (!c) { printf("%s\n", vouch_strerror(err)); return 2; }
    int rc = vouch_login(c, argv[1], pw, &id);
    printf("%s %lld\n", rc == VOUCH_OK ? "ok" : vouch_strerror(rc), (long long)id);
    vouch_close(c);
    return rc != VOUCH_OK;
}
C
    # shellcheck disable=SC2046
    if cc -Wall -Werror -o "$T/login" "$T/login.c" $(pkg-config --cflags --libs vouch) 2>"$T/cc.err"; then
        out=$("$T/login" bob <<<'correct horse 1' 2>&1)
        [ "$out" = "ok $id" ] && ok "C program (cc login.c \$(pkg-config --cflags --libs vouch)): $out" || bad "C program: $out"
        libs=$(ldd "$T/login")
        grep -Eq "libvouch.so.1 => (/usr)?/lib/$ma/libvouch.so.1 " <<<"$libs" || bad "the C program does not use the installed libvouch: $libs"
    else
        bad "the C program does not build with pkg-config alone: $(cat "$T/cc.err")"
    fi

    # The shipped mail hook, as shipped (hooks_dir /etc/vouch/hooks.d, outbox
    # /var/lib/vouch/outbox), then vouch-outbox with a sendmail that keeps the mail.
    install -d /etc/vouch/hooks.d/forgot_password
    install -m 0755 /usr/share/doc/vouch/examples/hooks.d/forgot_password/60-mail-reset-link /etc/vouch/hooks.d/forgot_password/
    vouchctl password forgot bob >/dev/null 2>&1 || bad "vouchctl password forgot bob"
    for _ in $(seq 100); do compgen -G "/var/lib/vouch/outbox/*.eml" >/dev/null && break; sleep 0.1; done
    rm -rf /etc/vouch/hooks.d/forgot_password
    printf '#!/bin/sh\n[ "$1 $2" = "-t -oi" ] || exit 64\ncat >>%s\n' "$T/mail" >"$T/sendmail" && chmod 0755 "$T/sendmail"
    VOUCH_SENDMAIL=$T/sendmail /usr/libexec/vouch/vouch-outbox /var/lib/vouch/outbox >/dev/null || bad "vouch-outbox failed"
    token=$(grep -o 'token=vrp_[A-Za-z0-9_-]*' "$T/mail" 2>/dev/null | head -n1 | cut -d= -f2)
    if grep -qx "To: bob@example.com" "$T/mail" 2>/dev/null && [ -n "$token" ] && [ -z "$(ls -A /var/lib/vouch/outbox)" ]; then
        printf '%s\n%s\n' "$token" 'battery staple 2' | vouchctl password reset >/dev/null 2>&1 \
            && vouchctl login bob --password-stdin <<<'battery staple 2' >/dev/null 2>&1 \
            && ok "mail hook + vouch-outbox: bob got a reset link, and it works" || bad "the mailed reset token does not reset the password"
    else
        bad "mail hook + vouch-outbox: no mail to bob with a token (log: $(tail -n3 "$T/vouchd.log"))"
    fi

    # ExecReload of the installed unit, as systemd runs it: line by line, the
    # first failure stops the reload.
    reload() { # config file; prints the output, fails like systemctl reload
        local line
        while IFS= read -r line; do
            line=${line#ExecReload=}
            line=${line//\/etc\/vouch\/vouchd.conf/$1}
            line=${line//\$MAINPID/$pid}
            eval "$line" || return 1
        done < <(grep '^ExecReload=' "$unitdir/vouchd.service")
    }
    cp /etc/vouch/vouchd.conf "$T/broken.conf"
    echo "sesion_ttl = 1h" >>"$T/broken.conf"
    n=$(wc -l <"$T/broken.conf")
    if out=$(reload "$T/broken.conf" 2>&1); then bad "ExecReload accepted a broken config"
    elif grep -q "broken.conf:$n: .*sesion_ttl" <<<"$out"; then ok "ExecReload refuses a broken config: $out"
    else bad "ExecReload's error does not name line $n: $out"; fi
    sleep 0.5
    grep -q "reload" "$T/vouchd.log" && bad "vouchd was signalled despite the broken config"
    cp /etc/vouch/vouchd.conf "$T/good.conf"
    reload "$T/good.conf" >/dev/null 2>&1 || bad "ExecReload failed on the shipped config"
    for _ in $(seq 50); do grep -q "configuration reloaded" "$T/vouchd.log" && break; sleep 0.1; done
    grep -q "configuration reloaded" "$T/vouchd.log" && ok "ExecReload with the shipped config reloads vouchd" || bad "vouchd did not reload"
    kill "$pid"; wait "$pid" 2>/dev/null
    trap - EXIT
    exit $fail
fi

# ---- outer part ------------------------------------------------------------
[ "$(id -u)" = 0 ] || { echo "deb-test: SKIPPED (needs root for dpkg -i)"; exit 77; }
[ $# = 4 ] || { echo "usage: $0 vouch.deb libvouch1.deb libvouch-dev.deb libpam-vouch.deb" >&2; exit 2; }
debs=("$@")
pkgs=(vouch libvouch1 libvouch-dev libpam-vouch)
for p in "${pkgs[@]}"; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)
    if [ -n "$st" ] && [ "$st" != not-installed ]; then
        echo "deb-test: SKIPPED ($p is already on this machine; the test would remove it)"; exit 77
    fi
done
# One deb-test at a time on a machine.
exec 9>/run/lock/vouch-deb-test.lock
flock 9

T=$(mktemp -d)
chmod 0755 "$T"   # vouch (socket group) traverses it
# dpkg waits for another apt/dpkg (other users of the machine) instead of failing.
dpkg_wait() {
    local i out
    for i in $(seq 120); do
        out=$(dpkg "$@" 2>&1) && { printf '%s\n' "$out" >>"$T/dpkg.log"; return 0; }
        grep -q "lock" <<<"$out" || { printf '%s\n' "$out"; return 1; }
        sleep 5
    done
    printf '%s\n' "$out"; return 1
}
vouch_files() { find /etc /usr /lib /var/lib /run -xdev -name '*vouch*' 2>/dev/null | sort; }
snapshot() { # what the test must leave as it found it
    vouch_files
    cut -d: -f1 /etc/passwd /etc/group | sort
    md5sum /etc/pam.d/common-* /var/lib/pam/* 2>/dev/null
    find /etc/systemd/system -name '*vouch*' 2>/dev/null
}
before=$(snapshot)
files_before=$(vouch_files)
had_user=$(getent passwd vouch >/dev/null && echo 1 || echo 0)
had_group=$(getent group vouch >/dev/null && echo 1 || echo 0)
had_admin=$(getent group vouch-admin >/dev/null && echo 1 || echo 0)
cleanup() {
    dpkg_wait -P "${pkgs[@]}" >/dev/null 2>&1
    [ "$had_user" = 1 ] || userdel vouch 2>/dev/null
    [ "$had_group" = 1 ] || groupdel vouch 2>/dev/null
    [ "$had_admin" = 1 ] || groupdel vouch-admin 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT

# ---- 1. install --------------------------------------------------------------
if out=$(dpkg_wait -i "${debs[@]}"); then ok "dpkg -i ${debs[*]##*/}"; else echo "FAIL: dpkg -i:"; echo "$out"; exit 1; fi
for p in "${pkgs[@]}"; do
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$p")" = installed ] || bad "$p is not installed"
done
getent passwd vouch >/dev/null && getent group vouch-admin >/dev/null && ok "sysusers: vouch, vouch-admin" || bad "the vouch accounts were not created"
[ "$(stat -c '%U %a' /var/lib/vouch 2>/dev/null)" = "vouch 700" ] && [ -d /var/lib/vouch/outbox ] \
    && ok "tmpfiles: /var/lib/vouch (vouch, 0700), outbox" || bad "/var/lib/vouch: $(stat -c '%U %a' /var/lib/vouch 2>&1)"
grep -qx /etc/vouch/vouchd.conf /var/lib/dpkg/info/vouch.conffiles && ok "/etc/vouch/vouchd.conf is a conffile" || bad "/etc/vouch/vouchd.conf is not a conffile"
[ -L /etc/systemd/system/sockets.target.wants/vouchd.socket ] && ok "vouchd.socket enabled (deb-systemd-helper)" || bad "vouchd.socket is not enabled"
[ ! -e /etc/systemd/system/multi-user.target.wants/vouchd.service ] || bad "vouchd.service enabled: it should be socket-activated"
[ ! -e /etc/systemd/system/paths.target.wants/vouch-outbox.path ] || bad "vouch-outbox.path enabled by default"
[ -f /usr/share/pam-configs/vouch ] && ! grep -q pam_vouch /etc/pam.d/common-* \
    && ok "pam-auth-update profile shipped, not enabled" || bad "the pam-auth-update profile is missing or enabled"
man -w vouchd vouchctl pam_vouch libvouch vouchd.conf >/dev/null && ok "man pages: vouchd vouchctl pam_vouch libvouch vouchd.conf" || bad "man pages missing"
[ -f /usr/share/bash-completion/completions/vouchctl ] && [ -f /usr/share/zsh/vendor-completions/_vouchctl ] \
    && [ -f /usr/share/fish/vendor_completions.d/vouchctl.fish ] && ok "completions: bash, zsh, fish" || bad "completions missing"

# Every library a binary needs (DT_NEEDED; what those need is their
# packages' business) belongs to a package the binary's package depends on.
toolchain=$(dirname "$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")")
[ -x "$toolchain/usr/bin/swift" ] || { bad "cannot find the Swift toolchain to hide (swift not in PATH?)"; toolchain=; }
check_deps() { # package, binary
    local deps soname lib owner resolved
    deps=" $(dpkg-query -W -f='${Depends}' "$1" | sed -E 's/\([^)]*\)//g; s/[,|]/ /g; s/:[a-z0-9]+//g') $1 "
    resolved=$(ldd "$2")
    if grep -Eq "not found|${toolchain:-/nonexistent}/" <<<"$resolved"; then bad "$2: $resolved"; fi
    for soname in $(readelf -d "$2" | sed -nE 's/.*\(NEEDED\).*\[(.*)\]/\1/p'); do
        lib=$(awk -v s="$soname" '$1 == s && $2 == "=>" { print $3 }
            substr($1, 1, 1) == "/" && substr($1, length($1) - length(s)) == "/" s { print $1 }' <<<"$resolved")
        [ -n "$lib" ] || { bad "$2 needs $soname, which ldd does not resolve"; continue; }
        owner=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null)
        owner=${owner%%:*}
        [ -n "$owner" ] || { bad "$2 needs $lib, which no package owns"; continue; }
        [[ $deps == *" $owner "* ]] || bad "$2 needs $lib from $owner, which $1 does not depend on (Depends: $deps)"
    done
}
before_fail=$fail
check_deps vouch /usr/sbin/vouchd
check_deps vouch /usr/bin/vouchctl
check_deps libvouch1 "/usr/lib/$ma/libvouch.so.1"
check_deps libpam-vouch "$(pkg-config --variable=libdir pam)/security/pam_vouch.so"
[ $fail = "$before_fail" ] && ok "ldd: every library the binaries need comes from a declared dependency; none from $toolchain"

# ---- 2. the installed units ------------------------------------------------
units=("$unitdir"/vouchd.socket "$unitdir"/vouchd.service "$unitdir"/vouch-outbox.path "$unitdir"/vouch-outbox.service)
if out=$(systemd-analyze verify "${units[@]}" 2>&1) && [ -z "$out" ]; then ok "systemd-analyze verify (with man pages) of the installed units"
else bad "systemd-analyze verify: $out"; fi

# ---- 3. use it, toolchain hidden ---------------------------------------------
[ -n "$toolchain" ] && { unshare -m --propagation private bash "$0" --hidden "$T" "$toolchain" || fail=1; }

# An upgrade (here: the same version again) keeps an edited config.
echo "# edited by deb-test" >>/etc/vouch/vouchd.conf
dpkg_wait -i "${debs[0]}" >/dev/null || bad "dpkg -i again (upgrade) failed"
[ "$(tail -n1 /etc/vouch/vouchd.conf)" = "# edited by deb-test" ] && ok "an upgrade keeps the edited /etc/vouch/vouchd.conf" \
    || bad "an upgrade replaced the edited /etc/vouch/vouchd.conf"

# ---- 4. remove, purge ----------------------------------------------------------
dpkg_wait -r "${pkgs[@]}" >/dev/null || bad "dpkg -r failed"
[ ! -e /usr/sbin/vouchd ] && [ -f /etc/vouch/vouchd.conf ] && [ -d /var/lib/vouch ] \
    && ok "dpkg -r: programs gone; /etc/vouch/vouchd.conf and /var/lib/vouch kept" || bad "dpkg -r: $(ls -d /usr/sbin/vouchd /etc/vouch/vouchd.conf /var/lib/vouch 2>&1)"
[ "$(dpkg-query -W -f='${db:Status-Status}' vouch)" = config-files ] || bad "vouch is not in state config-files after dpkg -r"
dpkg_wait -P "${pkgs[@]}" >/dev/null || bad "dpkg -P failed"
left=$(vouch_files)
[ "$left" = "$files_before" ] && ok "dpkg -P: nothing of vouch is left" \
    || { bad "dpkg -P left (or removed):"; diff <(echo "$files_before") <(echo "$left"); }
getent passwd vouch >/dev/null && ok "the vouch account stays after purge (Debian practice; removed by this test)"
cleanup
trap - EXIT
after=$(snapshot)
[ "$before" = "$after" ] && ok "the machine is as the test found it" || { bad "the machine changed:"; diff <(echo "$before") <(echo "$after"); }
[ $fail = 0 ] && echo "deb-test: OK" || echo "deb-test: FAILED"
exit $fail
