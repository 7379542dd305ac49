#!/bin/sh
# static.sh: builds ./ergo-static, a fully static, stripped ergo linked
# against musl libc, BearSSL and SQLite. `make static` runs it.
#
# Debian / Ubuntu: musl-gcc (musl-tools). BearSSL and SQLite are compiled
#   from source by musl-gcc, because a glibc-built .a does not link into a
#   musl program (it wants __memcpy_chk and friends). The sources are the
#   distribution's own source packages, fetched by `apt-get source` with a
#   private apt state under build/ (deb-src entries derived from the
#   machine's deb entries; /etc/apt is only read), checked against the
#   sha256 pinned below for the upstream tarballs, and unpacked with
#   dpkg-source, which applies Debian's patches (security fixes included).
#   The built libraries and headers are cached in build/deps/KEY/, KEY a
#   checksum of the pins and flags, so trees (branches) built with other
#   flags keep their own caches side by side: `rm -rf build/deps` rebuilds.
# Alpine: the system's musl toolchain with the static libraries of
#   bearssl-dev, sqlite-dev and sqlite-static.
#
# Missing tools are installed with apt-get / apk when run as root;
# otherwise the command to run is printed and the script stops.
# Idempotent: run it again and it rebuilds ./ergo-static from the cache.
#
# Environment: JOBS (parallel compiles, default: CPU count);
# ERGO_DEPS_DIR (absolute path of the library cache, default build/deps:
# CI can keep it outside a fresh clone, e.g. /var/cache/ergo-static-deps).

# Word lists ($pkgs, $flags) are split on purpose.
# shellcheck disable=SC2086,SC2046
set -u
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
build=$top/build
deps_base=${ERGO_DEPS_DIR:-$build/deps}	# KEY/: include/, lib/, stamp
deps=$deps_base
work=$build/static		# scratch: apt state, sources, objects, logs
out=ergo-static

BEARSSL_ORIG=bearssl_0.6+dfsg.1.orig.tar.xz
BEARSSL_SHA256=102a625bd8f6155260867a50c508df8d8c3f796985dd744df1a68e5cd1a79004
SQLITE_ORIG=sqlite3_3.40.1.orig.tar.xz
SQLITE_SHA256=aaa776260ab4dc976db34aa7891819484c8676b5b2783123ebc6301e2ca5d655

# ergo does not load extensions, use threads, the UTF-16 API, decltype,
# progress callbacks, shared cache or deprecated calls. (Not
# OMIT_DATETIME_FUNCS: schema migration 1 stamps created-at with
# strftime(); not OMIT_VACUUM or OMIT_ATTACH: 3.40.1 does not link without
# them.) SQLITE_DQS=0: a
# double-quoted string literal is an error (SQL must use 'strings').
# (Not OMIT_VIRTUALTABLE: its grammar holds ALTER TABLE; not OMIT_TEMPDB:
# ALTER TABLE reads sqlite_temp_schema; not OMIT_TRIGGER: foreign-key
# cascades are triggers. tests/test_static.py runs the store's tests
# against the result.) These change
# SQL's grammar, so lemon must see them when sqlite3.c is
# generated from the canonical sources (OPTS below), not only the compiler.
SQLITE_GRAMMAR="-DSQLITE_OMIT_EXPLAIN -DSQLITE_OMIT_WINDOWFUNC
	-DSQLITE_OMIT_AUTHORIZATION -DSQLITE_OMIT_ANALYZE -DSQLITE_OMIT_REINDEX
	-DSQLITE_OMIT_CTE
	-DSQLITE_OMIT_GENERATED_COLUMNS -DSQLITE_OMIT_CHECK
	-DSQLITE_OMIT_VIEW -DSQLITE_OMIT_COMPOUND_SELECT
	-DSQLITE_OMIT_CAST"
SQLITE_DEFS="-DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION
	-DSQLITE_DEFAULT_MEMSTATUS=0 -DSQLITE_OMIT_DEPRECATED
	-DSQLITE_OMIT_SHARED_CACHE -DSQLITE_OMIT_PROGRESS_CALLBACK
	-DSQLITE_OMIT_DECLTYPE -DSQLITE_OMIT_UTF16 -DSQLITE_OMIT_COMPLETE
	-DSQLITE_OMIT_GET_TABLE -DSQLITE_OMIT_TCL_VARIABLE -DSQLITE_DQS=0
	-DSQLITE_LIKE_DOESNT_MATCH_BLOBS -DSQLITE_MAX_EXPR_DEPTH=0
	-DSQLITE_USE_ALLOCA -DSQLITE_OMIT_JSON -DSQLITE_OMIT_TRACE
	-DSQLITE_OMIT_DESERIALIZE -DSQLITE_OMIT_COMPILEOPTION_DIAGS
	-DSQLITE_OMIT_INCRBLOB -DSQLITE_OMIT_AUTOVACUUM
	-DSQLITE_OMIT_INTEGRITY_CHECK -DSQLITE_OMIT_LOCALTIME
	-DSQLITE_OMIT_SCHEMA_PRAGMAS -DSQLITE_OMIT_INTROSPECTION_PRAGMAS
	-DSQLITE_OMIT_AUTOMATIC_INDEX -DSQLITE_OMIT_XFER_OPT
	-DSQLITE_OMIT_BLOB_LITERAL -DSQLITE_OMIT_TRUNCATE_OPTIMIZATION
	-DSQLITE_OMIT_BTREECOUNT -DSQLITE_UNTESTABLE -DSQLITE_OMIT_BETWEEN_OPTIMIZATION
	-DSQLITE_OMIT_LIKE_OPTIMIZATION $SQLITE_GRAMMAR"
# No unwind tables: C has no exceptions, and they are a tenth of the size.
# One line: BearSSL's make puts CFLAGS into recipes, where a newline
# ends the command.
SIZE_CFLAGS="-Os -ffunction-sections -fdata-sections"
SIZE_CFLAGS="$SIZE_CFLAGS -fno-asynchronous-unwind-tables -fno-unwind-tables"
# Ergo's importers (importdb, importconf: 40 KiB with their YAML and JSON
# readers) stay out, so the server with everything else fits 1 MiB; the
# binary says so when asked for them (ERGO_NO_IMPORT in ergo.c).
NO_SRCS="-e ergo_import.c -e conf_yaml.c -e json.c"
# ergo's own objects with -Oz (4 KiB less than -Os) and link-time
# optimisation (-flto: about 4 KiB less); the link drops the build-id note. (Not -z noseparate-code:
# it would save a page or two by making read-only data executable.)
ERGO_CFLAGS="-std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Wpedantic
	$SIZE_CFLAGS -Oz -flto -DERGO_NO_IMPORT"
LINK_FLAGS="-static -Oz -flto -Wl,--gc-sections -s -Wl,--build-id=none"

say() { echo "static.sh: $*"; }
die() { echo "static.sh: $*" >&2; exit 1; }

jobs=${JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}
case $jobs in ''|*[!0-9]*|0) jobs=2 ;; esac

# Unique words, in order.
uniq_words() {
	u=
	for w in "$@"; do
		case " $u " in *" $w "*) ;; *) u="$u $w" ;; esac
	done
	echo "${u# }"
}

# need_tools "cmd:debpkg:apkpkg ...": installs (root) or names (others)
# the packages that provide the missing commands.
need_tools() {
	miss=''
	pkgs=''
	for spec in $1; do
		cmd=${spec%%:*}
		rest=${spec#*:}
		command -v "$cmd" >/dev/null 2>&1 && continue
		miss="$miss $cmd"
		if [ -n "$alpine" ]; then
			pkgs="$pkgs ${rest#*:}"
		else
			pkgs="$pkgs ${rest%%:*}"
		fi
	done
	[ -z "$miss" ] && return 0
	pkgs=$(uniq_words $pkgs)
	install_pkgs "$miss" $pkgs
}

# install_pkgs WHAT PKG...
install_pkgs() {
	what=$1
	shift
	if [ -n "$alpine" ]; then
		cmd="apk add $*"
	elif command -v apt-get >/dev/null 2>&1; then
		cmd="apt-get update && apt-get install -y --no-install-recommends $*"
	else
		die "missing:$what (install them with your package manager)"
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "static.sh: missing:$what" >&2
		echo "static.sh: as root, run:" >&2
		echo "    $cmd" >&2
		exit 1
	fi
	say "installing:$what ($*)"
	if [ -n "$alpine" ]; then
		apk add "$@" || die "apk add $* failed"
	else
		DEBIAN_FRONTEND=noninteractive
		export DEBIAN_FRONTEND
		{ apt-get update -q >/dev/null &&
		    apt-get install -y -q --no-install-recommends "$@"; } ||
			die "apt-get install $* failed"
	fi
}

# The sources ergo is made of: the Makefile's SRCS as make expands it
# (it is built from other variables), so the two never drift apart.
# POSIX make reads a second makefile from stdin with -f -.
# shellcheck disable=SC2016 # $(SRCS) is make's to expand, not the shell's
ergo_srcs() {
	printf 'ergo-static-srcs:\n\t@echo "SRCS: $(SRCS)"\n' |
	    ${MAKE:-make} -s -f Makefile -f - ergo-static-srcs |
	    sed -n 's/^SRCS: //p' | tr ' ' '\n' | grep -v -x -e '' $NO_SRCS |
	    tr '\n' ' '
}

sha256_of() {
	if command -v sha256sum >/dev/null 2>&1; then
		sha256sum "$1" | awk '{ print $1 }'
	else
		sha256 -q "$1"		# BSD
	fi
}

# verify FILE SHA256: dies unless FILE exists and matches.
verify() {
	[ -f "$1" ] || die "$1: missing"
	got=$(sha256_of "$1")
	[ "$got" = "$2" ] ||
		die "$1: sha256 $got, expected $2 (pinned in scripts/static.sh)"
}

# ---------------------------------------------------------------- Debian

# deb-src entries for a private apt, derived from this machine's deb
# entries (one-line and deb822 formats) for its own release.
write_apt_sources() {
	codename=
	if [ -r /etc/os-release ]; then
		# shellcheck disable=SC1091
		codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	fi
	etc=$work/apt/etc
	mkdir -p "$etc/sources.list.d" || exit 1
	rm -f "$etc/sources.list.d"/*
	# One-line format: "deb [opts] URI SUITE COMPONENT..." -> deb-src.
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] && cat "$f"
	done | awk -v cn="$codename" '
	/^[ \t]*deb(-src)?[ \t]/ {
		sub(/^[ \t]*/, "")
		n = split($0, f, /[ \t]+/)
		i = 2
		if (f[2] ~ /^\[/) {
			while (i <= n && f[i] !~ /\]$/)
				i++
			i++
		}
		if (cn != "" && index(f[i + 1], cn) != 1)
			next
		sub(/^deb(-src)?/, "deb-src")
		print
	}' | sort -u >"$etc/sources.list"
	# deb822 format: one stanza a paragraph; Types becomes deb-src.
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] && { cat "$f"; echo; }
	done | awk -v cn="$codename" '
	BEGIN { RS = ""; FS = "\n" }
	{
		types = ""; suites = ""; enabled = "yes"; out = ""
		for (i = 1; i <= NF; i++) {
			line = $i
			if (line ~ /^#/)
				continue
			low = tolower(line)
			if (low ~ /^types:/) {
				types = substr(line, 7)
				line = "Types: deb-src"
			} else if (low ~ /^suites:/) {
				suites = substr(line, 8)
			} else if (low ~ /^enabled:/) {
				enabled = tolower(substr(line, 9))
				gsub(/[ \t]/, "", enabled)
			}
			out = out line "\n"
		}
		if (enabled == "no")
			next
		ok = 0
		n = split(types, t, /[ \t]+/)
		for (j = 1; j <= n; j++)
			if (t[j] == "deb" || t[j] == "deb-src")
				ok = 1
		if (!ok)
			next
		if (cn != "") {
			ok = 0
			n = split(suites, s, /[ \t]+/)
			for (j = 1; j <= n; j++)
				if (index(s[j], cn) == 1)
					ok = 1
			if (!ok)
				next
		}
		printf "%s\n", out
	}' >"$etc/sources.list.d/ergo-src.sources"
	[ -s "$etc/sources.list.d/ergo-src.sources" ] ||
		rm -f "$etc/sources.list.d/ergo-src.sources"
	[ -s "$etc/sources.list" ] ||
	    [ -f "$etc/sources.list.d/ergo-src.sources" ] ||
		die "no Debian deb entries for '${codename:-this release}'" \
		    "in /etc/apt; put $BEARSSL_ORIG, $SQLITE_ORIG and their" \
		    ".dsc and .debian.tar.xz files in $work/src by hand"
}

# Downloads the source packages into $work/src unless they are there.
fetch_sources() {
	src=$work/src
	mkdir -p "$src" || exit 1
	if ls "$src"/bearssl_*.dsc "$src"/sqlite3_*.dsc >/dev/null 2>&1 &&
	    [ -f "$src/$BEARSSL_ORIG" ] && [ -f "$src/$SQLITE_ORIG" ]; then
		return 0
	fi
	command -v apt-get >/dev/null 2>&1 ||
		die "no apt-get: put $BEARSSL_ORIG, $SQLITE_ORIG and their" \
		    ".dsc and .debian.tar.xz files in $src by hand"
	write_apt_sources
	a=$work/apt
	mkdir -p "$a/state/lists/partial" "$a/cache/archives/partial" ||
		exit 1
	set -- -q -o Dir::State="$a/state" -o Dir::Cache="$a/cache" \
	    -o Dir::Etc::SourceList="$a/etc/sources.list" \
	    -o Dir::Etc::SourceParts="$a/etc/sources.list.d" \
	    -o APT::Get::Only-Source=true
	# As root apt would hand the download to the _apt user, who may not
	# be able to write into this tree; the files are verified anyway.
	[ "$(id -u)" = 0 ] && set -- "$@" -o APT::Sandbox::User=root
	say "apt-get update (private state in build/static/apt)"
	apt-get "$@" update >"$work/log/apt-update.log" 2>&1 || {
		cat "$work/log/apt-update.log" >&2
		say "apt-get update reported errors; trying the download anyway"
	}
	say "apt-get source --download-only bearssl sqlite3"
	(cd "$src" && apt-get "$@" source --download-only bearssl sqlite3) \
	    >"$work/log/apt-source.log" 2>&1 || {
		cat "$work/log/apt-source.log" >&2
		die "apt-get source failed"
	}
}

# newest_dsc NAME: the newest NAME_*.dsc in $work/src
newest_dsc() {
	# shellcheck disable=SC2012
	ls "$work/src/$1"_*.dsc 2>/dev/null | sort -V | tail -n 1
}

build_bearssl() {
	dsc=$(newest_dsc bearssl)
	rm -rf "$work/unpack/bearssl" "$work/bearssl-build"
	mkdir -p "$work/unpack" || return 1
	dpkg-source -x "$dsc" "$work/unpack/bearssl" >"$work/log/bearssl.log" 2>&1 ||
		{ cat "$work/log/bearssl.log" >&2; return 1; }
	# BearSSL's own makefile, static library only.
	(cd "$work/unpack/bearssl" && make -j"$jobs" lib CC=musl-gcc AR=ar \
	    CFLAGS="-W -Wall $SIZE_CFLAGS" BUILD="$work/bearssl-build") \
	    >>"$work/log/bearssl.log" 2>&1 ||
		{ cat "$work/log/bearssl.log" >&2; return 1; }
	cp "$work/unpack/bearssl/inc"/*.h "$newdeps/include/" &&
	    cp "$work/bearssl-build/libbearssl.a" "$newdeps/lib/" &&
	    echo "bearssl $(basename "$dsc" .dsc)" >"$newdeps/bearssl.version"
}

build_sqlite() {
	dsc=$(newest_dsc sqlite3)
	rm -rf "$work/unpack/sqlite3" "$work/sqlite3-build"
	mkdir -p "$work/unpack" || return 1
	dpkg-source -x "$dsc" "$work/unpack/sqlite3" >"$work/log/sqlite3.log" 2>&1 ||
		{ cat "$work/log/sqlite3.log" >&2; return 1; }
	mkdir -p "$work/sqlite3-build" || return 1
	# The amalgamation is generated by host tools (lemon, tclsh) and is
	# plain C: only its compilation below needs musl-gcc.
	(cd "$work/sqlite3-build" &&
	    "$work/unpack/sqlite3/configure" --disable-tcl --disable-readline \
		--disable-threadsafe --disable-load-extension &&
	    make sqlite3.c OPTS="$(echo $SQLITE_GRAMMAR)" &&
	    musl-gcc $SIZE_CFLAGS $SQLITE_DEFS -c sqlite3.c -o sqlite3.o &&
	    rm -f libsqlite3.a && ar rcs libsqlite3.a sqlite3.o) \
	    >>"$work/log/sqlite3.log" 2>&1 ||
		{ cat "$work/log/sqlite3.log" >&2; return 1; }
	cp "$work/sqlite3-build/sqlite3.h" "$newdeps/include/" &&
	    cp "$work/sqlite3-build/libsqlite3.a" "$newdeps/lib/" &&
	    echo "sqlite3 $(basename "$dsc" .dsc)" >"$newdeps/sqlite3.version"
}

# What the cache in build/deps was built from: when any of it changes,
# the libraries are rebuilt (into another KEY directory).
deps_stamp() {
	echo "$BEARSSL_ORIG $BEARSSL_SHA256"
	echo "$SQLITE_ORIG $SQLITE_SHA256"
	echo "musl-gcc $(musl-gcc -dumpversion 2>/dev/null)" \
	    "$(uname -m)"
	echo "cflags" $SIZE_CFLAGS
	echo "sqlite" $SQLITE_DEFS
}

debian_deps() {
	stamp=$(deps_stamp)
	deps=$deps_base/$(echo "$stamp" | cksum | awk '{ print $1 }')
	if [ -f "$deps/stamp" ] && [ "$(cat "$deps/stamp")" = "$stamp" ] &&
	    [ -f "$deps/lib/libbearssl.a" ] && [ -f "$deps/lib/libsqlite3.a" ] &&
	    [ -f "$deps/include/bearssl.h" ] &&
	    [ -f "$deps/include/sqlite3.h" ]; then
		say "using cached BearSSL and SQLite in $deps" \
		    "($(cat "$deps/bearssl.version" "$deps/sqlite3.version" |
		    awk '{ printf "%s%s", s, $2; s = ", " }'))"
		return 0
	fi
	need_tools "cc:build-essential: make:build-essential:
	    tclsh:tcl: dpkg-source:dpkg-dev: xz:xz-utils: ar:binutils:"
	mkdir -p "$work/log" || exit 1
	fetch_sources
	verify "$work/src/$BEARSSL_ORIG" "$BEARSSL_SHA256"
	verify "$work/src/$SQLITE_ORIG" "$SQLITE_SHA256"
	say "pinned sha256 of $BEARSSL_ORIG and $SQLITE_ORIG: ok"
	# Built aside and renamed into place whole: a cache shared by
	# several trees (ERGO_DEPS_DIR) is never seen half-written.
	newdeps=$deps_base/new.$$
	rm -rf "$newdeps"
	mkdir -p "$newdeps/include" "$newdeps/lib" || exit 1
	say "building BearSSL and SQLite with musl-gcc (logs in" \
	    "build/static/log)"
	build_bearssl &
	bpid=$!
	build_sqlite
	src_rc=$?
	wait "$bpid"
	bssl_rc=$?
	[ "$bssl_rc" = 0 ] || { rm -rf "$newdeps"; die "BearSSL build failed"; }
	[ "$src_rc" = 0 ] || { rm -rf "$newdeps"; die "SQLite build failed"; }
	echo "$stamp" >"$newdeps/stamp"
	# Another tree may have finished the same KEY first: keep its copy.
	if [ -f "$deps/stamp" ]; then
		rm -rf "$newdeps"
	else
		rm -rf "$deps"
		mv "$newdeps" "$deps" || exit 1
	fi
	# The unpacked trees (and the copies of the orig tarballs that
	# dpkg-source leaves beside them) are large; src/ has it all.
	rm -rf "$work/unpack" "$work/bearssl-build" "$work/sqlite3-build"
}

# ---------------------------------------------------------------- Alpine

# Alpine's compiler already targets musl: the system's static libraries
# link as they are.
alpine_deps() {
	pkgs=''
	[ -f /usr/include/bearssl.h ] || pkgs="$pkgs bearssl-dev"
	[ -f /usr/include/sqlite3.h ] || pkgs="$pkgs sqlite-dev"
	[ -f /usr/lib/libsqlite3.a ] || pkgs="$pkgs sqlite-static"
	[ -f /usr/lib/libbearssl.a ] || pkgs="$pkgs bearssl-dev"
	[ -n "$pkgs" ] &&
		install_pkgs " BearSSL and SQLite headers and static libraries" \
		    $(uniq_words $pkgs)
	# Should a release move libbearssl.a into a -static package.
	[ -f /usr/lib/libbearssl.a ] || [ "$(id -u)" != 0 ] ||
		apk add bearssl-static >/dev/null 2>&1
	[ -f /usr/lib/libbearssl.a ] ||
		die "no /usr/lib/libbearssl.a: apk add bearssl-dev (or bearssl-static)"
}

# ---------------------------------------------------------------- ergo

# compile CC CFLAGS-EXTRA: ergo's sources into $work/obj, $jobs at a time.
compile_ergo() {
	ccmd=$1
	extra=$2
	rm -rf "$work/obj"
	mkdir -p "$work/obj" || exit 1
	srcs=$(ergo_srcs)
	[ -n "$srcs" ] || die "no SRCS in Makefile"
	objs=''
	pids=''
	n=0
	fail=0
	for s in $srcs; do
		[ -f "$s" ] || die "$s: missing"
		o=$work/obj/$(basename "$s" .c).o
		objs="$objs $o"
		echo "$ccmd ... -c $s"
		$ccmd $ERGO_CFLAGS $extra -c "$s" -o "$o" &
		pids="$pids $!"
		n=$((n + 1))
		if [ "$n" -ge "$jobs" ]; then
			for p in $pids; do wait "$p" || fail=1; done
			pids=''
			n=0
		fi
	done
	for p in $pids; do wait "$p" || fail=1; done
	[ "$fail" = 0 ] || die "compiling ergo failed"
}

link_ergo() {	# link CC LIBFLAGS...
	ccmd=$1
	shift
	echo "$ccmd $LINK_FLAGS -o $out ... $*"
	$ccmd $LINK_FLAGS -o "$out.tmp" $objs "$@" ||
		{ rm -f "$out.tmp"; die "linking $out failed"; }
	mv -f "$out.tmp" "$out" || exit 1
}

# ---------------------------------------------------------------- main

# One run at a time per tree (`make static` and a test run may overlap):
# a lock directory holding the owner's PID, taken over if that is gone.
lock() {
	n=0
	while ! mkdir "$work/lock" 2>/dev/null; do
		pid=$(cat "$work/lock/pid" 2>/dev/null)
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			rm -rf "$work/lock"
			continue
		fi
		[ "$n" = 0 ] && say "waiting for another static.sh (pid ${pid:-?})"
		n=$((n + 1))
		[ "$n" -gt 900 ] && die "$work/lock: still held after 15 minutes"
		sleep 1
	done
	echo $$ >"$work/lock/pid"
	trap 'rm -rf "$work/lock"' EXIT
	trap 'exit 1' INT TERM HUP
}

alpine=
[ -f /etc/alpine-release ] && alpine=1
mkdir -p "$work" "$deps_base" || exit 1
lock
start=$(date +%s)

if [ -n "$alpine" ]; then
	need_tools "cc:-:build-base make:-:build-base"
	alpine_deps
	compile_ergo cc ""
	link_ergo cc -lbearssl -lsqlite3
else
	need_tools "musl-gcc:musl-tools:"
	debian_deps
	# musl-gcc searches the musl headers and never /usr/include, so
	# <bearssl.h> and <sqlite3.h> come from build/deps/KEY only.
	compile_ergo musl-gcc "-I$deps/include"
	link_ergo musl-gcc -L"$deps/lib" -lbearssl -lsqlite3
fi

if command -v readelf >/dev/null 2>&1 &&
    readelf -l "$out" 2>/dev/null | grep -q INTERP; then
	die "$out has a program interpreter: it is not static"
fi
size=$(wc -c <"$out" | tr -d ' ')
say "built ./$out in $(($(date +%s) - start)) s:" \
    "static, stripped, $size bytes ($((size / 1024)) KiB)"
