#!/usr/bin/env bash
# Linux logins end to end (docs/LINUX-LOGINS.md): the real vouchd serving
# io.systemd.UserDatabase, looked up through nss-systemd (getent, id),
# userdbctl, PAM (pamtester: pam_vouch + pam_unix + pam_mkhomedir) and a
# real sshd on a loopback port.
#
# Runs as root inside a private mount namespace (mk/logins.mk starts it with
# `unshare --mount --propagation private`): /run, /home and /etc/pam.d are
# fresh tmpfs mounts, and a test nsswitch.conf, machine-id and passwd (with
# sshd's privilege-separation user) are bind-mounted over the real ones,
# which are never modified.
#
# Environment: VOUCHD, VOUCHCTL, PAM_VOUCH (absolute paths), USERDBCTL, SSHD.
set -u
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
check() { # label, expected, actual
    if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: expected '$2', got '$3'"; fi
}
contains() { # label, needle, haystack
    if grep -qF -- "$2" <<<"$3"; then ok "$1"; else bad "$1: no '$2' in: $3"; fi
}
lacks() { # label, needle, haystack
    if grep -qF -- "$2" <<<"$3"; then bad "$1: '$2' found in: $3"; else ok "$1"; fi
}

[ "$(id -u)" = 0 ] || { echo "needs root"; exit 1; }
for v in VOUCHD VOUCHCTL PAM_VOUCH USERDBCTL SSHD; do
    [ -e "${!v}" ] || { echo "missing $v=${!v}"; exit 1; }
done
# Refuse to run in the host's namespace: everything below mounts over /run, /home and /etc.
if [ "$(readlink /proc/self/ns/mnt)" = "$(readlink /proc/1/ns/mnt)" ]; then
    echo "run me in a private mount namespace (unshare --mount --propagation private)"; exit 1
fi

T=$(mktemp -d /tmp/vouch-logins.XXXXXX)
chmod 755 "$T"
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    if mountpoint -q "$T/etc-layers" 2>/dev/null; then umount -l /etc; umount -l "$T/etc-layers"; fi
    rm -rf "$T"
}
trap cleanup EXIT

# ---- the private namespace ---------------------------------------------------
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=0755 tmpfs /home
mkdir -p /run/systemd/userdb /run/sshd /run/vouch-test
printf 'passwd: files systemd\ngroup: files systemd\nshadow: files systemd\nhosts: files\n' > "$T/nsswitch.conf"
mount --bind "$T/nsswitch.conf" /etc/nsswitch.conf
echo 0123456789abcdef0123456789abcdef > "$T/machine-id"
if [ -e /etc/machine-id ] && [ "${LOGINS_OVERLAY_ETC:-0}" != 1 ]; then
    mount --bind "$T/machine-id" /etc/machine-id
else
    # No file to bind over (a container without one): an overlay of /etc whose
    # upper layer is a tmpfs of this namespace takes the writes instead.
    mkdir -p "$T/etc-layers"
    mount -t tmpfs tmpfs "$T/etc-layers"
    mkdir "$T/etc-layers/upper" "$T/etc-layers/work"
    mount -t overlay overlay -o "lowerdir=/etc,upperdir=$T/etc-layers/upper,workdir=$T/etc-layers/work" /etc
    cp "$T/machine-id" /etc/machine-id
fi
cp /etc/passwd "$T/passwd"
grep -q '^sshd:' "$T/passwd" || echo 'sshd:x:64999:65534:sshd privsep:/run/sshd:/usr/sbin/nologin' >> "$T/passwd"
mount --bind "$T/passwd" /etc/passwd
mkdir -p "$T/pam.d"
mount --bind "$T/pam.d" /etc/pam.d

# ---- vouchd ------------------------------------------------------------------
cat > "$T/vouchd.conf" <<EOF
socket_group = none
admin_group = none
hooks_dir = none
userdb = yes
argon2_memory_kib = 1024
argon2_iterations = 1
EOF
"$VOUCHD" --config "$T/vouchd.conf" --socket "$T/v.sock" --database "$T/v.db" --log-to stderr 2> "$T/vouchd.log" &
pids+=($!)
export VOUCH_SOCKET=$T/v.sock
for _ in $(seq 100); do [ -S /run/systemd/userdb/io.vouch.UserDatabase ] && "$VOUCHCTL" status >/dev/null 2>&1 && break; sleep 0.1; done
"$VOUCHCTL" status >/dev/null || { echo "FAIL: vouchd did not start"; cat "$T/vouchd.log"; exit 1; }
check "userdb socket is mode 0666" "666" "$(stat -c %a /run/systemd/userdb/io.vouch.UserDatabase)"

vc() { "$VOUCHCTL" "$@"; }
new_user() { # name, extra options
    printf 'correct horse 1\n' | vc user create --username "$1" --password-stdin "${@:2}" >/dev/null
}
uid_of() { vc user linux "$1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["uid"])'; }

new_user alice --login || bad "create alice --login"
new_user bob || bad "create bob"
new_user carol --login || bad "create carol --login"
new_user dave --login || bad "create dave --login"
vc user linux alice --real-name "Alice Liddell" >/dev/null || bad "set alice's real name"
A=$(uid_of alice)
C=$(uid_of carol)
if [ "$A" -ge 70000 ] && [ "$A" -le 99999 ]; then ok "alice's uid $A is in uid_range"; else bad "alice's uid $A"; fi
check "bob (not a login) has no uid" "0" "$(uid_of bob)"

# ---- NSS ---------------------------------------------------------------------
check "getent passwd by name" "alice:x:$A:$A:Alice Liddell:/home/alice:/bin/bash" "$(getent passwd alice)"
check "getent passwd by uid" "alice:x:$A:$A:Alice Liddell:/home/alice:/bin/bash" "$(getent passwd "$A")"
check "getent group by name" "alice:x:$A:" "$(getent group alice)"
check "getent group by gid" "alice:x:$A:" "$(getent group "$A")"
check "id" "uid=$A(alice) gid=$A(alice) groups=$A(alice)" "$(id alice)"
all=$(getent passwd)
contains "enumeration lists alice" "alice:x:$A:" "$all"
contains "enumeration lists carol" "carol:x:$C:" "$all"
lacks "enumeration leaves out bob" "bob:x:" "$all"
contains "enumeration still lists /etc/passwd" "root:x:0:0:" "$all"
contains "group enumeration lists alice" "alice:x:$A:" "$(getent group)"
getent passwd bob >/dev/null; check "non-login user is invisible" "2" "$?"

# ---- userdbctl ---------------------------------------------------------------
out=$("$USERDBCTL" user alice 2>&1)
contains "userdbctl user: name" "User name: alice" "$out"
contains "userdbctl user: uid" "UID: $A" "$out"
contains "userdbctl user: service" "io.vouch.UserDatabase" "$out"

# ---- the rules of login users ------------------------------------------------
out=$(printf 'correct horse 1\n' | vc user create --username Mallory --password-stdin --login 2>&1)
check "a non-portable name cannot be a login" "1" "$?"
contains "the portable rule is named" "[a-z_][a-z0-9_-]{0,31}" "$out"
out=$(printf 'correct horse 1\n' | vc user create --username daemon --password-stdin --login 2>&1)
contains "a login user cannot shadow /etc/passwd" "is a user in /etc/passwd" "$out"
out=$(vc user linux alice --shell /bin/no-such-shell 2>&1)
contains "a shell must be in /etc/shells" "not listed in /etc/shells" "$out"

# ---- keys and the privileged section -----------------------------------------
ssh-keygen -q -t ed25519 -N '' -C alice@test -f "$T/alice_key"
ssh-keygen -q -t ed25519 -N '' -C other@test -f "$T/other_key"
ssh-keygen -q -t ed25519 -N '' -f "$T/host_key"
KEY=$(cat "$T/alice_key.pub")
vc user keys add alice "$KEY" >/dev/null || bad "keys add"
check "keys print" "$KEY" "$(vc user keys print alice)"
check "keys print: nothing for a non-login user" "" "$(vc user keys add bob "$(cat "$T/other_key.pub")" >/dev/null; vc user keys print bob)"
check "userdbctl ssh-authorized-keys (root)" "$KEY" "$("$USERDBCTL" ssh-authorized-keys alice 2>&1)"
root_json=$("$USERDBCTL" --output=json user alice 2>&1)
contains "root sees the privileged section" "sshAuthorizedKeys" "$root_json"
nobody_json=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$USERDBCTL" --output=json user alice 2>&1)
contains "a non-root caller still gets the record" "\"userName\" : \"alice\"" "$nobody_json"
lacks "a non-root caller gets no privileged section" "sshAuthorizedKeys" "$nobody_json"
check "a non-root caller's getent" "alice:x:$A:$A:Alice Liddell:/home/alice:/bin/bash" \
    "$(setpriv --reuid=65534 --regid=65534 --clear-groups getent passwd alice)"

# ---- a stalled client delays nobody ------------------------------------------
python3 - /run/systemd/userdb/io.vouch.UserDatabase > "$T/stall.out" 2>&1 <<'EOF' &
import json, socket, sys, time
path = sys.argv[1]
silent = [socket.socket(socket.AF_UNIX) for _ in range(8)]
for s in silent: s.connect(path)
half = socket.socket(socket.AF_UNIX); half.connect(path); half.sendall(b'{"method":"io.systemd.UserDatabase.GetUs')
deaf = socket.socket(socket.AF_UNIX); deaf.connect(path)
deaf.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
call = json.dumps({"method": "io.systemd.UserDatabase.GetUserRecord",
                   "parameters": {"service": "io.vouch.UserDatabase"}, "more": True}).encode() + b"\0"
for _ in range(200): deaf.sendall(call)   # enumerations it never reads
print("stalling", flush=True)
# The connection deadline closes the silent one.
silent[0].settimeout(30)
start = time.monotonic()
print("silent closed" if silent[0].recv(1) == b"" else "silent got data", round(time.monotonic() - start), flush=True)
EOF
pids+=($!)
for _ in $(seq 50); do grep -q stalling "$T/stall.out" && break; sleep 0.1; done
contains "stalling clients connected" "stalling" "$(cat "$T/stall.out")"
check "getent while clients stall" "alice:x:$A:$A:Alice Liddell:/home/alice:/bin/bash" "$(timeout 10 getent passwd alice)"
check "id while clients stall" "uid=$A(alice) gid=$A(alice) groups=$A(alice)" "$(timeout 10 id alice)"
check "a /etc/passwd user while clients stall" "root" "$(timeout 10 id -un 0)"

# ---- deletion and de-flagging take effect at once ----------------------------
printf 'y\n' | vc user delete carol --yes >/dev/null || bad "delete carol"
getent passwd carol >/dev/null; check "a deleted user disappears at once" "2" "$?"
getent passwd "$C" >/dev/null; check "a deleted user's uid disappears at once" "2" "$?"
vc user change-permissions dave --login false >/dev/null || bad "dave --login false"
getent passwd dave >/dev/null; check "a de-flagged user disappears at once" "2" "$?"
new_user erin --login || bad "create erin --login"
E=$(uid_of erin)
if [ "$E" != "$C" ] && [ "$E" -gt "$C" ]; then ok "a deleted user's uid is not reused ($C -> $E)"; else bad "erin got uid $E after carol's $C"; fi

# ---- PAM: pam_vouch for auth and password, pam_unix for account --------------
# The stack of docs/LINUX-LOGINS.md, for pamtester (vouch-login) and sshd.
for service in vouch-login sshd; do
    cat > "/etc/pam.d/$service" <<EOF
auth     required $PAM_VOUCH socket=$T/v.sock
account  required pam_unix.so
account  required $PAM_VOUCH socket=$T/v.sock
password required $PAM_VOUCH socket=$T/v.sock
session  required pam_mkhomedir.so skel=/etc/skel umask=0077
EOF
done
pt() { printf "$1" | pamtester vouch-login "${@:2}" 2>&1; }
out=$(pt 'correct horse 1\n' alice authenticate acct_mgmt open_session)
check "pamtester: auth, account, session" "0" "$?"
check "pam_mkhomedir made the home" "$A" "$(stat -c %u /home/alice 2>&1)"
out=$(pt 'correct horse 1\n' bob authenticate acct_mgmt)
check "pamtester: a non-login user fails the account stage" "1" "$?"

vc user expire alice >/dev/null || bad "user expire"
out=$(pt 'correct horse 1\n' alice authenticate)
check "expired: auth still accepts the right password" "0" "$?"
out=$(pt '' alice acct_mgmt)
contains "expired: account gives NEW_AUTHTOK_REQD" "new one required" "$out"
out=$(pt 'correct horse 1\nnew horse 22\nnew horse 22\n' alice chauthtok)
check "expired: chauthtok changes it" "0" "$?"
out=$(pt '' alice acct_mgmt)
check "after the change the account stage passes" "0" "$?"
out=$(pt 'new horse 22\n' alice authenticate)
check "the new password works" "0" "$?"

# ---- sshd --------------------------------------------------------------------
printf '#!/bin/sh\nexec %s --socket %s user keys print "$1"\n' "$VOUCHCTL" "$T/v.sock" > /run/vouch-test/keys
chmod 755 /run/vouch-test/keys
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$T/sshd_config" <<EOF
Port $PORT
ListenAddress 127.0.0.1
HostKey $T/host_key
PidFile $T/sshd.pid
AuthorizedKeysFile none
AuthorizedKeysCommand /run/vouch-test/keys %u
AuthorizedKeysCommandUser root
PasswordAuthentication no
KbdInteractiveAuthentication yes
UsePAM yes
PermitRootLogin no
LogLevel VERBOSE
EOF
: > "$T/sshd.log"
"$SSHD" -D -e -f "$T/sshd_config" 2> "$T/sshd.log" &
pids+=($!)
for _ in $(seq 50); do grep -q "Server listening" "$T/sshd.log" && break; sleep 0.1; done
# ssh takes the first value of an option: BatchMode is set per use.
SSH0=(ssh -F none -p "$PORT" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes
    -o ConnectTimeout=10)
SSH=("${SSH0[@]}" -o BatchMode=yes)
check "ssh with alice's key" "$A" "$("${SSH[@]}" -i "$T/alice_key" alice@127.0.0.1 'id -u' 2>"$T/ssh.err")"
out=$("${SSH[@]}" -i "$T/other_key" alice@127.0.0.1 true 2>&1)
contains "ssh with another key is refused" "Permission denied" "$out"
out=$("${SSH[@]}" -i "$T/other_key" bob@127.0.0.1 true 2>&1)
contains "ssh as a non-login user is refused" "Permission denied" "$out"
# A password through keyboard-interactive, i.e. PAM, i.e. pam_vouch (askpass answers the prompt).
printf '#!/bin/sh\necho "$ASKPASS_ANSWER"\n' > "$T/askpass"
chmod 755 "$T/askpass"
pw_ssh() { # user, password
    ASKPASS_ANSWER=$2 SSH_ASKPASS=$T/askpass SSH_ASKPASS_REQUIRE=force DISPLAY=:0 \
        "${SSH0[@]}" -o BatchMode=no -o PubkeyAuthentication=no -o PreferredAuthentications=keyboard-interactive \
        -o NumberOfPasswordPrompts=1 "$1@127.0.0.1" 'id -u' 2>&1 </dev/null
}
check "ssh with alice's password (pam_vouch)" "$A" "$(pw_ssh alice 'new horse 22' | tail -n1)"
contains "ssh with a wrong password is refused" "Permission denied" "$(pw_ssh alice 'wrong horse 1')"
contains "ssh as a non-login user with the right password is refused" "Permission denied" "$(pw_ssh bob 'correct horse 1')"

wait "${pids[1]}" 2>/dev/null
contains "the connection deadline closed a silent client" "silent closed" "$(cat "$T/stall.out")"

# ---- socket activation: both sockets passed, userdb = auto --------------------
kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null
for _ in $(seq 50); do [ -e /run/systemd/userdb/io.vouch.UserDatabase ] || break; sleep 0.1; done
sed 's/^userdb = yes$/userdb = auto/' "$T/vouchd.conf" > "$T/vouchd-auto.conf"
systemd-socket-activate -l "$T/v.sock" -l /run/systemd/userdb/io.vouch.UserDatabase \
    "$VOUCHD" --config "$T/vouchd-auto.conf" --database "$T/v.db" --log-to stderr 2> "$T/vouchd-activated.log" &
pids+=($!)
for _ in $(seq 50); do [ -S /run/systemd/userdb/io.vouch.UserDatabase ] && break; sleep 0.1; done
chmod 666 /run/systemd/userdb/io.vouch.UserDatabase
# The first lookup starts vouchd, which serves both passed sockets.
check "socket-activated: a lookup starts vouchd and is answered" "alice:x:$A:$A:Alice Liddell:/home/alice:/bin/bash" \
    "$(timeout 20 getent passwd alice)"
check "socket-activated: the main socket" "alice" "$(vc user show alice --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["username"])')"

if [ $fail != 0 ]; then
    echo "--- vouchd log"; tail -n 30 "$T/vouchd.log"
    echo "--- sshd log"; tail -n 30 "$T/sshd.log"
    echo "--- ssh"; cat "$T/ssh.err" 2>/dev/null
fi
exit $fail
