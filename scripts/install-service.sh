#!/bin/sh
# install-service.sh INIT DESTDIR PREFIX SYSCONFDIR: the service files of
# one init system, for `make install` (run from the top of the tree).
#   INIT: openrc | sysvinit | systemd | runit | s6 | none, or empty to
#   detect it on this host: a packager building for another host names
#   it. Also installs /etc/logrotate.d/ergo (openrc, sysvinit, systemd:
#   under runit and s6 the log goes through svlogd or s6-log, which
#   rotate). A file an operator may have edited (conf.d, /etc/default,
#   the runit/s6 conf) is never overwritten; an init script of another
#   init system in init.d/ergo is kept. Each file is written beside its
#   target and renamed into place.
init=$1 destdir=$2 prefix=$3 sysconfdir=$4

detect() {
	if [ -d /run/systemd/system ]; then
		echo systemd
	elif command -v openrc-run >/dev/null 2>&1 ||
	    [ -x /sbin/openrc-run ]; then
		echo openrc
	elif command -v runsv >/dev/null 2>&1 &&
	    { [ -d /etc/sv ] || [ -d /etc/runit ]; }; then
		echo runit
	elif command -v s6-svscan >/dev/null 2>&1 && [ -d /etc/s6 ]; then
		echo s6
	elif [ -d /etc/init.d ]; then
		echo sysvinit
	else
		echo none
	fi
}

# put SRC DEST MODE [keep]: copy, or with keep leave an existing DEST
put() {
	if [ ! -f "$1" ]; then
		echo "no $1 in this tree: not installed"
		return 0
	fi
	if [ "$4" = keep ] && [ -e "$2" ]; then
		echo "keeping existing $2"
		return 0
	fi
	echo "install -m $3 $1 $2"
	mkdir -p "$(dirname "$2")" && cp "$1" "$2.new" &&
		chmod "$3" "$2.new" && mv -f "$2.new" "$2"
}

if [ -z "$init" ]; then
	init=$(detect)
	echo "INIT not given: detected $init (make install INIT=... to choose)"
fi
etc=$destdir$sysconfdir
case $init in
openrc)
	d=$etc/init.d
	if [ -e "$d/ergo" ] && ! head -n 1 "$d/ergo" | grep -q openrc-run; then
		echo "keeping $d/ergo: not an OpenRC script"
	else
		put ergo.rc "$d/ergo" 755 || exit 1
	fi
	put distrib/openrc/ergo.confd "$etc/conf.d/ergo" 644 keep || exit 1
	;;
sysvinit)
	d=$etc/init.d
	if [ -e "$d/ergo" ] && head -n 1 "$d/ergo" | grep -q openrc-run; then
		echo "keeping $d/ergo: an OpenRC script"
	else
		put distrib/sysvinit/ergo "$d/ergo" 755 || exit 1
	fi
	;;
systemd)
	# the unit names /usr/local/bin/ergo: the binary's real place
	tmp=$(mktemp) || exit 1
	[ -f distrib/systemd/ergo.service ] || exit 0
	sed "s|/usr/local/bin/ergo|$prefix/bin/ergo|g" \
	    distrib/systemd/ergo.service >"$tmp" &&
		put "$tmp" "$destdir$prefix/lib/systemd/system/ergo.service" \
		    644
	rc=$?
	rm -f "$tmp"
	[ $rc = 0 ] || exit 1
	;;
runit|s6)
	[ -d "distrib/$init/ergo" ] || { echo "no distrib/$init/ergo"; exit 0; }
	d=$etc/$init/sv/ergo
	[ "$init" = runit ] && d=$etc/sv/ergo
	for f in $(cd "distrib/$init/ergo" && find . -type f | sort); do
		m=644
		[ -x "distrib/$init/ergo/$f" ] && m=755
		k=
		[ "${f##*/}" = conf ] && k=keep
		put "distrib/$init/ergo/$f" "$d/${f#./}" $m $k || exit 1
	done
	echo "enable it: ln -s $sysconfdir${d#"$etc"} into your scan directory"
	;;
none)
	;;
*)
	echo "INIT=$init: expected openrc, sysvinit, systemd, runit, s6 or none" >&2
	exit 2
	;;
esac
case $init in
openrc|sysvinit|systemd)
	put distrib/logrotate/ergo "$etc/logrotate.d/ergo" 644 keep || exit 1
	;;
esac
exit 0
