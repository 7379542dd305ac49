#!/bin/sh
# deps.sh [build|test]: make sure what ergo needs is installed.
#   build (default): a C compiler, make, BearSSL, SQLite (headers + libs)
#   test: build + python3 and ii (the suckless IRC client, for
#         tests/test_client_ii.py), python3-irc and weechat-headless
#         (real IRCv3 clients, for tests/test_ircv3_client_lib.py);
#         python3-websockets, haproxy and chromium (web clients and
#         proxies: tests/test_websocket.py, tests/test_web_real.py);
#         clang too when CC=clang; bmake (BSD make: tests/test_install.py
#         builds with it, the Makefile being POSIX make); and the
#         service managers and tools tests/test_init.py drives: OpenRC,
#         runit, s6, logrotate, busybox (syslogd), shellcheck, strace
#         (tests/test_checkpoint.py: which process syncs); and
#         ircd-hybrid (a real TS6 peer: tests/test_link_hybrid.py runs
#         it on its own ports, never as the service) and
#         atheme-services (tests/test_atheme_link.py). Installed
#         with --no-install-recommends: plain `runit` would pull in
#         runit-run (runsvdir at boot); runit-init is never installed.
# Silent when everything is there. Otherwise, as root with apt-get (Debian,
# Ubuntu) or apk (Alpine), installs what is missing; as anyone else, prints
# the command to run and exits 1. Headers and libraries are found by
# compiling a tiny program, not by asking the package manager, so a
# hand-built BearSSL in /usr/local counts too.

# Word lists ($deb, $apk, $CFLAGS) are split on purpose.
# shellcheck disable=SC2086
mode=${1:-build}
case $mode in
build|test) ;;
*) echo "usage: $0 [build|test]" >&2; exit 2 ;;
esac

cc=${CC:-cc}
missing=		# what is missing, for people
deb=			# Debian package names
apk=			# Alpine package names

need() {	# need WHAT DEBIAN-PKG ALPINE-PKG
	missing="$missing $1"
	deb="$deb $2"
	apk="$apk $3"
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ergo-deps.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# try_link NAME LIB: compile and link $tmp/NAME.c against LIB
try_link() {
	$cc $CFLAGS -o "$tmp/$1" "$tmp/$1.c" $LDFLAGS $2 >/dev/null 2>&1
}

check() {
	missing="" deb="" apk=""
	ccname=${cc%% *}
	if ! command -v "$ccname" >/dev/null 2>&1; then
		case $ccname in
		*clang*) need "$ccname" clang clang ;;
		*) need "C compiler ($ccname)" build-essential build-base ;;
		esac
	fi
	command -v make >/dev/null 2>&1 ||
		need make build-essential build-base

	cat >"$tmp/bearssl.c" <<'EOF'
#include <bearssl.h>
int main(void) { br_sha256_context c; br_sha256_init(&c); return 0; }
EOF
	try_link bearssl -lbearssl ||
		need "BearSSL (bearssl.h, libbearssl)" libbearssl-dev bearssl-dev

	cat >"$tmp/sqlite.c" <<'EOF'
#include <sqlite3.h>
int main(void) { return sqlite3_libversion_number() > 0 ? 0 : 1; }
EOF
	try_link sqlite -lsqlite3 ||
		need "SQLite (sqlite3.h, libsqlite3)" libsqlite3-dev sqlite-dev

	if [ "$mode" = test ]; then
		command -v python3 >/dev/null 2>&1 ||
			need python3 python3 python3
		command -v ii >/dev/null 2>&1 ||
			need "ii (IRC client, for tests)" ii ii
		# tests/test_ircv3_client_lib.py runs the system's python3
		/usr/bin/python3 -c 'import irc.client' >/dev/null 2>&1 ||
			need "python3-irc (IRC library, for tests)" \
			    python3-irc py3-irc
		command -v weechat-headless >/dev/null 2>&1 ||
			need "weechat-headless (IRC client, for tests)" \
			    weechat-headless weechat
		# tests/test_install.py builds with BSD make as well as make
		command -v bmake >/dev/null 2>&1 ||
			need "bmake (BSD make, for tests)" bmake bmake
		# tests/test_init.py (on Alpine, OpenRC is the init already)
		command -v openrc-run >/dev/null 2>&1 ||
			need "OpenRC (openrc-run)" openrc openrc
		command -v runsv >/dev/null 2>&1 ||
			need "runit (runsv)" runit runit
		command -v s6-supervise >/dev/null 2>&1 ||
			need "s6 (s6-supervise)" s6 s6
		command -v logrotate >/dev/null 2>&1 ||
			need logrotate logrotate logrotate
		command -v busybox >/dev/null 2>&1 ||
			need "busybox (syslogd)" busybox busybox
		command -v shellcheck >/dev/null 2>&1 ||
			need shellcheck shellcheck shellcheck
		# which process syncs the database (tests/test_checkpoint.py)
		command -v strace >/dev/null 2>&1 ||
			need "strace (for tests)" strace strace
		# certificates for the TLS tests, and their s_client test
		command -v openssl >/dev/null 2>&1 ||
			need "openssl (command line)" openssl openssl
		command -v nsenter >/dev/null 2>&1 ||
			need "util-linux (unshare, nsenter)" util-linux util-linux
		# web clients and proxies (tests/test_websocket.py,
		# tests/test_web_real.py): a WebSocket client library, HAProxy
		# in front of a proxy listener, a real browser
		/usr/bin/python3 -c 'import websockets' >/dev/null 2>&1 ||
			need "python3-websockets (WebSocket library, for tests)" \
			    python3-websockets py3-websockets
		command -v haproxy >/dev/null 2>&1 ||
			need "haproxy (for tests)" haproxy haproxy
		command -v chromium >/dev/null 2>&1 ||
			need "chromium (headless browser, for tests)" chromium \
			    chromium
		# a real TS6 peer (tests/test_link_hybrid.py); run by the
		# test on its own ports, never as the system service
		[ -x /usr/sbin/ircd-hybrid ] ||
			need "ircd-hybrid (TS6 peer, for tests)" ircd-hybrid \
			    ircd-hybrid
		# Atheme as the services server of linked servers
		# (tests/test_atheme_link.py); not started as a service
		command -v atheme-services >/dev/null 2>&1 ||
			need "atheme-services (IRC services, for tests)" \
			    atheme-services atheme
	fi
}

check
[ -z "$missing" ] && exit 0

# Unique, in order: apt and apk do not mind repeats, people do.
uniq_words() {
	out=
	for w in "$@"; do
		case " $out " in *" $w "*) ;; *) out="$out $w" ;; esac
	done
	echo "${out# }"
}
deb=$(uniq_words $deb)
apk=$(uniq_words $apk)

if command -v apt-get >/dev/null 2>&1; then
	cmd="apt-get update && apt-get install -y --no-install-recommends $deb"
elif command -v apk >/dev/null 2>&1; then
	cmd="apk add $apk"
else
	echo "deps.sh: missing:$missing" >&2
	echo "deps.sh: install them with your package manager" >&2
	exit 1
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing:$missing" >&2
	echo "deps.sh: as root, run:" >&2
	echo "    $cmd" >&2
	exit 1
fi

echo "deps.sh: installing:$missing"
if command -v apt-get >/dev/null 2>&1; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null &&
		apt-get install -y -q --no-install-recommends $deb || exit 1
else
	# The test clients are not in every Alpine release (nor is
	# weechat-headless there: the weechat package may lack it): install
	# each on its own, and let their tests skip themselves.
	optional="ii py3-irc weechat py3-websockets chromium ircd-hybrid atheme"
	rest=
	for p in $apk; do
		case " $optional " in *" $p "*) ;; *) rest="$rest $p" ;; esac
	done
	[ -n "$rest" ] && { apk add $rest || exit 1; }
	for p in $optional; do
		case " $apk " in *" $p "*)
			apk add "$p" 2>/dev/null ||
				echo "deps.sh: $p is not packaged here;" \
				    "its tests will be skipped" ;;
		esac
	done
fi

check
if [ -n "$missing" ]; then
	# Alpine without the test clients: their tests skip themselves.
	if ! command -v apt-get >/dev/null 2>&1; then
		rest=$(echo "$missing" | sed -e 's/ ii (IRC client, for tests)//' \
		    -e 's/ python3-irc (IRC library, for tests)//' \
		    -e 's/ weechat-headless (IRC client, for tests)//' \
		    -e 's/ python3-websockets (WebSocket library, for tests)//' \
		    -e 's/ chromium (headless browser, for tests)//' \
		    -e 's/ ircd-hybrid (TS6 peer, for tests)//' \
		    -e 's/ atheme-services (IRC services, for tests)//')
		[ -z "$rest" ] && exit 0
	fi
	echo "deps.sh: still missing after install:$missing" >&2
	exit 1
fi
exit 0
