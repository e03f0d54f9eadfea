#!/usr/bin/env bash
# Checks vouch's systemd files without a running systemd:
#   - systemd-analyze verify of vouchd.socket and vouchd.service (any
#     warning fails), on copies whose ExecStart= names an existing binary,
#     since /usr/sbin/vouchd is not installed here;
#   - systemd-analyze security --offline=yes of vouchd.service: fails when
#     the exposure is above MAX_EXPOSURE (default 2.0);
#   - vouch.sysusers.conf and vouch.tmpfiles.conf applied to a scratch root.
# Usage: mk/systemd-check.sh [systemd-dir]      (make check-units)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=${1:-$here/../systemd}
max=${MAX_EXPOSURE:-2.0}
failed=0

for tool in systemd-analyze systemd-sysusers systemd-tmpfiles; do
    command -v "$tool" >/dev/null || { echo "systemd-check: $tool not found (apt-get install systemd)" >&2; exit 2; }
done

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# 1. verify
mkdir -p "$scratch/units"
sed -E 's#^ExecStart=([-@:+!]*)/usr/sbin/vouchd#ExecStart=\1/bin/true#' "$dir/vouchd.service" >"$scratch/units/vouchd.service"
cp "$dir/vouchd.socket" "$dir/vouchd-userdb.socket" "$scratch/units/"
if out=$(systemd-analyze verify --man=no "$scratch/units/vouchd.socket" "$scratch/units/vouchd-userdb.socket" "$scratch/units/vouchd.service" 2>&1) && [ -z "$out" ]; then
    echo "systemd-check: verify: OK"
else
    echo "systemd-check: verify: FAILED"
    printf '%s\n' "$out" | sed "s#$scratch/units/##g"
    failed=1
fi

# 2. security
report=$(systemd-analyze security --offline=yes "$dir/vouchd.service" 2>&1) || true
line=$(printf '%s\n' "$report" | grep 'Overall exposure level' || true)
exposure=$(printf '%s\n' "$line" | sed -nE 's/.*: ([0-9]+\.[0-9]+) .*/\1/p')
if [ -z "$exposure" ]; then
    echo "systemd-check: security: no exposure figure in the output:"
    printf '%s\n' "$report"
    failed=1
elif awk -v e="$exposure" -v m="$max" 'BEGIN { exit !(e <= m) }'; then
    echo "systemd-check: security: exposure $exposure (at most $max): OK"
    if ! head -n 5 "$dir/vouchd.service" | grep -qF " $exposure "; then
        echo "systemd-check: note: the comment atop vouchd.service does not record $exposure"
    fi
else
    echo "systemd-check: security: exposure $exposure is above $max: FAILED"
    printf '%s\n' "$report" | grep '✗' || true
    failed=1
fi

# 3. sysusers and tmpfiles on a scratch root
root="$scratch/root"
mkdir -p "$root/etc" "$root/var/lib"
if out=$(systemd-sysusers --root="$root" - <"$dir/vouch.sysusers.conf" 2>&1) \
    && grep -q '^vouch:' "$root/etc/passwd" && grep -q '^vouch-admin:' "$root/etc/group" \
    && out2=$(systemd-tmpfiles --root="$root" --create - <"$dir/vouch.tmpfiles.conf" 2>&1) \
    && [ "$(stat -c '%a %U' "$root/var/lib/vouch" 2>/dev/null | cut -d' ' -f1)" = 700 ] \
    && [ -d "$root/etc/vouch/hooks.d" ]; then
    echo "systemd-check: sysusers, tmpfiles: OK"
else
    echo "systemd-check: sysusers, tmpfiles: FAILED"
    printf '%s\n' "${out:-}" "${out2:-}"
    failed=1
fi

exit $failed
