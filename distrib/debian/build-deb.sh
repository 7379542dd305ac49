#!/bin/sh
# distrib/debian/build-deb.sh [VERSION]: a Debian package of ergo from this
# tree (a checkout of a tag: git checkout vX.Y.Z), with dpkg-deb alone (no
# debhelper, no nfpm). From the top of the tree, on the Debian release the
# package is for, with the build dependencies installed
# (sh scripts/deps.sh):
#   sh distrib/debian/build-deb.sh 0.1.0    -> ./ergo-c_0.1.0-1_ARCH.deb
#   apt install ./ergo-c_0.1.0-1_ARCH.deb
# The package is named ergo-c (Debian's own `ergo` is the Go server, whose
# /usr/bin/ergo it would replace: it conflicts with it). It holds
# /usr/bin/ergo (stripped), the man pages, /etc/ergo/ergo.conf and
# ergo.conf.example, the sysvinit script, the systemd unit and the
# logrotate file; its postinst makes the system user ergo and
# /var/lib/ergo (0700) and /var/log/ergo (0750), and enables the service
# without starting it (edit /etc/ergo/ergo.conf first). tests/test_install.py
# builds one and checks its contents and control data.
set -eu
version=${1:-$(./ergo version 2>/dev/null | sed 's/^ergo-c-//')}
[ -n "$version" ] || { echo "usage: $0 VERSION" >&2; exit 2; }
arch=$(dpkg --print-architecture)
out=${OUT:-.}
work=$(mktemp -d "${TMPDIR:-/tmp}/ergo-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root

make ergo
make install DESTDIR="$root" PREFIX=/usr SYSCONFDIR=/etc \
    MANDIR=/usr/share/man INIT=sysvinit >/dev/null
sh scripts/install-service.sh systemd "$root" /usr /etc >/dev/null
gzip -9n "$root/usr/share/man/man8/ergo.8" "$root/usr/share/man/man5/ergo.conf.5"
mkdir -p "$root/usr/share/doc/ergo-c" "$root/DEBIAN"
cp README.md "$root/usr/share/doc/ergo-c/"

size=$(du -sk "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<CONTROL
Package: ergo-c
Version: $version-1
Architecture: $arch
Maintainer: ergo developers <root@localhost>
Installed-Size: $size
Depends: libc6, libbearssl0, libsqlite3-0, adduser
Conflicts: ergo
Section: net
Priority: optional
Description: small single-threaded IRC server
 ergo is an IRC server for small networks in C: one process, one poll()
 loop, TLS through BearSSL and storage in SQLite, with accounts, channel
 registration, history and IRCv3. Its config keys follow the Ergo IRC
 server's.
CONTROL
# every file under /etc is a conffile: dpkg keeps the operator's edits
(cd "$root" && find etc -type f | sed 's|^|/|' | sort) >"$root/DEBIAN/conffiles"
cat >"$root/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
	if ! getent passwd ergo >/dev/null; then
		adduser --system --group --home /var/lib/ergo --no-create-home \
		    --shell /usr/sbin/nologin ergo
	fi
	install -d -o ergo -g ergo -m 0700 /var/lib/ergo
	install -d -o ergo -g ergo -m 0750 /var/log/ergo
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload >/dev/null 2>&1 || true
		systemctl enable ergo.service >/dev/null 2>&1 || true
	elif command -v update-rc.d >/dev/null 2>&1; then
		update-rc.d ergo defaults >/dev/null
	fi
	echo "ergo-c: edit /etc/ergo/ergo.conf (see ergo.conf.example), then start ergo"
fi
POSTINST
cat >"$root/DEBIAN/prerm" <<'PRERM'
#!/bin/sh
set -e
if [ "$1" = remove ]; then
	if [ -d /run/systemd/system ]; then
		systemctl stop ergo.service >/dev/null 2>&1 || true
	elif [ -x /etc/init.d/ergo ]; then
		/etc/init.d/ergo stop >/dev/null 2>&1 || true
	fi
fi
PRERM
cat >"$root/DEBIAN/postrm" <<'POSTRM'
#!/bin/sh
set -e
if [ "$1" = purge ] && command -v update-rc.d >/dev/null 2>&1; then
	update-rc.d ergo remove >/dev/null || true
fi
POSTRM
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"
deb=$out/ergo-c_${version}-1_${arch}.deb
dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
echo "$deb"
