#!/usr/bin/env bash
# make check-install: `make install DESTDIR=<scratch>` lays out the tree the
# README documents ("Install"), with self-contained executables and a vouch.pc
# made from the install variables; a second install keeps an edited config;
# `make uninstall` removes exactly what install wrote (the config stays).
set -euo pipefail
dest=$(mktemp -d)
trap 'rm -rf "$dest"' EXIT
ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
pamdir=$(pkg-config --variable=libdir pam)/security
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd)
fail=0
bad() { echo "install-check: $*"; fail=1; }
inst() { make --no-print-directory "$@" INSTALL_DEPENDS= >/dev/null; }

inst install DESTDIR="$dest" PREFIX=/usr
expected=(
  usr/sbin/vouchd usr/bin/vouchctl usr/libexec/vouch/vouch-outbox
  etc/vouch/vouchd.conf etc/vouch/hooks.d
  "$unitdir"/vouchd.service "$unitdir"/vouchd.socket "$unitdir"/vouchd-userdb.socket "$unitdir"/vouch-outbox.path "$unitdir"/vouch-outbox.service
  usr/lib/sysusers.d/vouch.conf usr/lib/tmpfiles.d/vouch.conf
  usr/lib/"$ma"/libvouch.so.1.0.0 usr/lib/"$ma"/libvouch.so.1 usr/lib/"$ma"/libvouch.so
  usr/lib/"$ma"/pkgconfig/vouch.pc usr/include/vouch.h
  "$pamdir"/pam_vouch.so
  usr/share/man/man8/vouchd.8 usr/share/man/man8/vouchctl.8 usr/share/man/man8/pam_vouch.8
  usr/share/man/man5/vouchd.conf.5 usr/share/man/man3/libvouch.3
  usr/share/bash-completion/completions/vouchctl usr/share/zsh/vendor-completions/_vouchctl
  usr/share/fish/vendor_completions.d/vouchctl.fish
  usr/share/doc/vouch/examples/vouchd.conf usr/share/doc/vouch/examples/pam.d/vouch
  usr/share/doc/vouch/examples/hooks.d/forgot_password/60-mail-reset-link
  usr/share/doc/vouch/README.md usr/share/doc/vouch/HOOKS.md
)
for f in "${expected[@]}"; do
  [ -e "$dest/${f#/}" ] || bad "missing ${f#/}"
done
[ "$(readlink "$dest/usr/lib/$ma/libvouch.so.1")" = libvouch.so.1.0.0 ] || bad "libvouch.so.1 is not a link to libvouch.so.1.0.0"
[ "$(readlink "$dest/usr/lib/$ma/libvouch.so")" = libvouch.so.1 ] || bad "libvouch.so is not a link to libvouch.so.1"
grep -qx "ExecStart=/usr/sbin/vouchd --config /etc/vouch/vouchd.conf" "$dest$unitdir/vouchd.service" || bad "the unit does not run /usr/sbin/vouchd"
grep -q "^ExecReload=.*/usr/sbin/vouchd --config /etc/vouch/vouchd.conf --check-config" "$dest$unitdir/vouchd.service" || bad "ExecReload does not check the config first"

# Self-contained: no RUNPATH, no library from the Swift toolchain.
toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")
for b in usr/sbin/vouchd usr/bin/vouchctl usr/lib/"$ma"/libvouch.so.1.0.0 "${pamdir#/}"/pam_vouch.so; do
  dyn=$(readelf -d "$dest/$b")
  if grep -Eq 'RUNPATH|RPATH' <<<"$dyn"; then bad "$b has a RUNPATH: $(grep -E 'RUNPATH|RPATH' <<<"$dyn")"; fi
  libs=$(ldd "$dest/$b")
  if grep -Eq "not found|$toolchain|libswift|libFoundation|libdispatch" <<<"$libs"; then bad "$b needs the toolchain:"; echo "$libs"; fi
done
"$dest/usr/sbin/vouchd" --config "$dest/etc/vouch/vouchd.conf" --check-config >/dev/null || bad "the installed config does not load"

# vouch.pc from the install variables.
pc=$dest/usr/lib/$ma/pkgconfig/vouch.pc
grep -qx "prefix=/usr" "$pc" && grep -qx "libdir=/usr/lib/$ma" "$pc" && grep -qx "includedir=/usr/include" "$pc" \
  || { bad "vouch.pc does not match PREFIX=/usr:"; cat "$pc"; }

# A second install keeps an edited config.
echo "# edited" >>"$dest/etc/vouch/vouchd.conf"
inst install DESTDIR="$dest" PREFIX=/usr
[ "$(tail -n1 "$dest/etc/vouch/vouchd.conf")" = "# edited" ] || bad "the config was overwritten"

# Uninstall removes exactly what install wrote: only the config is left.
inst uninstall DESTDIR="$dest" PREFIX=/usr
left=$(cd "$dest" && find . \( -type f -o -type l \) | sort)
[ "$left" = "./etc/vouch/vouchd.conf" ] || { bad "after uninstall, left besides the config:"; echo "$left"; }
for d in usr/share/doc/vouch usr/libexec/vouch etc/vouch/hooks.d; do [ ! -e "$dest/$d" ] || bad "uninstall left $d"; done

# Another prefix: the units, the man pages and vouch.pc follow it.
rm -rf "$dest" && mkdir "$dest"
inst install DESTDIR="$dest" PREFIX=/usr/local
grep -qx "ExecStart=/usr/local/sbin/vouchd --config /etc/vouch/vouchd.conf" "$dest$unitdir/vouchd.service" || bad "PREFIX=/usr/local: the unit does not run /usr/local/sbin/vouchd"
grep -qx "libdir=/usr/local/lib/$ma" "$dest/usr/local/lib/$ma/pkgconfig/vouch.pc" || bad "PREFIX=/usr/local: vouch.pc libdir"
grep -q "/usr/local/libexec/vouch/vouch-outbox" "$dest$unitdir/vouch-outbox.service" || bad "PREFIX=/usr/local: vouch-outbox.service"

[ $fail = 0 ] && echo "install-check: OK"
exit $fail
