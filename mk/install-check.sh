#!/usr/bin/env bash
# make install DESTDIR=<scratch> lays out the tree documented in README.md ("Install").
set -euo pipefail
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
make --no-print-directory install DESTDIR="$dest" PREFIX=/usr INSTALL_DEPENDS= SWIFT_RELEASE_DIR=.build/debug \
  PAMDIR=/lib/x86_64-linux-gnu/security LIBDIR=/usr/lib/x86_64-linux-gnu >/dev/null
expected=(
  usr/sbin/vouchd
  usr/bin/vouchctl
  etc/vouch/vouchd.conf
  etc/vouch/hooks.d
  lib/systemd/system/vouchd.service
  lib/systemd/system/vouchd.socket
  lib/systemd/system/vouchd-userdb.socket
  usr/lib/sysusers.d/vouch.conf
  usr/lib/tmpfiles.d/vouch.conf
  usr/lib/x86_64-linux-gnu/libvouch.so.1
  usr/lib/x86_64-linux-gnu/libvouch.so
  usr/include/vouch.h
  usr/lib/x86_64-linux-gnu/pkgconfig/vouch.pc
  lib/x86_64-linux-gnu/security/pam_vouch.so
)
fail=0
for f in "${expected[@]}"; do
  if [ ! -e "$dest/$f" ]; then echo "install-check: missing $f"; fail=1; fi
done
grep -q "ExecStart=/usr/sbin/vouchd" "$dest/lib/systemd/system/vouchd.service" || { echo "install-check: unit does not run /usr/sbin/vouchd"; fail=1; }
"$dest/usr/sbin/vouchd" --config "$dest/etc/vouch/vouchd.conf" --check-config >/dev/null || { echo "install-check: installed config does not load"; fail=1; }
# A second install keeps an edited config.
echo "# edited" >>"$dest/etc/vouch/vouchd.conf"
make --no-print-directory install DESTDIR="$dest" PREFIX=/usr INSTALL_DEPENDS= SWIFT_RELEASE_DIR=.build/debug \
  PAMDIR=/lib/x86_64-linux-gnu/security LIBDIR=/usr/lib/x86_64-linux-gnu >/dev/null
tail -n1 "$dest/etc/vouch/vouchd.conf" | grep -q "# edited" || { echo "install-check: the config was overwritten"; fail=1; }
make --no-print-directory uninstall DESTDIR="$dest" PREFIX=/usr PAMDIR=/lib/x86_64-linux-gnu/security LIBDIR=/usr/lib/x86_64-linux-gnu >/dev/null
[ ! -e "$dest/usr/sbin/vouchd" ] || { echo "install-check: uninstall left vouchd"; fail=1; }
[ -e "$dest/etc/vouch/vouchd.conf" ] || { echo "install-check: uninstall removed the config"; fail=1; }
[ $fail = 0 ] && echo "install-check: OK"
exit $fail
