#!/bin/bash
# bench/profile.sh: ergo under valgrind's callgrind in the connect, fanout
# and channels scenarios; instruction counts are repeatable, so this is the
# figure to compare before and after a change. Only the message phase is
# counted in fanout and channels (instrumentation is switched on by load's
# -H hook once every client has registered, joined and answered a PING);
# connect counts every registration of 2000 clients. tlsfanout is fanout
# over TLS (load -t) against a TLS listener with the key `ergo mkcerts`
# makes: compare it with fanout, same binary and counts, per delivery.
#
#   bash bench/profile.sh [connect|fanout|channels|tlsfanout ...]
#   PROFILE_MSGS=500   messages per sender (default 500)
#   PROFILE_TOP=15     functions listed per scenario
#   ERGO_BIN=./ergo    the binary profiled (a private copy is run)
#
# Prints callgrind_annotate's top functions (self cost: instructions and
# % of all counted) and keeps the callgrind.out files in
# bench/.cache/profile/.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
msgs=${PROFILE_MSGS:-500}
ntop=${PROFILE_TOP:-15}
scen=${*:-"connect fanout channels"}
out=$here/.cache/profile
command -v valgrind >/dev/null 2>&1 || {
	echo "profile: needs valgrind (apt-get install valgrind)" >&2; exit 1; }

CC=${CC:-cc}
mkdir -p "$out"
$CC -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -O2 \
    -o "$out/load" "$here/load.c" "$here/load_tls.c" -lbearssl || exit 1
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

tmp=$(mktemp -d /tmp/ergo-prof.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
cp "${ERGO_BIN:-$top/ergo}" "$tmp/ergo" || exit 1

for s in $scen; do
	port=$(( RANDOM % 20000 + 30000 ))
	tls=
	if [ "$s" = tlsfanout ]; then
		"$tmp/ergo" mkcerts --cert "$tmp/tls.crt" --key "$tmp/tls.key" \
		    >/dev/null || exit 1
		tls="listen 127.0.0.1:$((port + 1)) { tls { cert \"$tmp/tls.crt\"  key \"$tmp/tls.key\" } }"
	fi
	cat >"$tmp/ergo.conf" <<EOF
server {
	name ergo.bench
	listen 127.0.0.1:$port
	$tls
	max-clients 0
	max-sendq 4m
	connection-limits { max-per-ip 0  throttle no }
	fakelag { enabled no }
	timeouts { registration 600s  idle 900s  ping 900s }
}
datastore { path $tmp/ircd-$s.db }
logging { method stderr  level warn }
EOF
	f=$out/callgrind.out.$s
	rm -f "$f"
	valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$f" \
	    "$tmp/ergo" run --config "$tmp/ergo.conf" \
	    $( [ "$(id -u)" != 0 ] || echo --allow-root ) \
	    2>"$out/valgrind-$s.log" &
	pid=$!
	for _ in $(seq 1 200); do
		ss -Hltn "sport = :$port" | grep -q . && break
		sleep 0.05
	done
	hook="callgrind_control -i on $pid >/dev/null"
	case $s in
	connect)	# the whole run is registrations: count from the start
		callgrind_control -i on "$pid" >/dev/null
		hook=true args="-s connect -n 2000 -f 50" ;;
	fanout) args="-s fanout -c 200 -S 4 -m $msgs -w 64" ;;
	tlsfanout)
		# the TLS listener is the only one load speaks to
		port=$((port + 1))
		args="-t -s fanout -c 200 -S 4 -m $msgs -w 64" ;;
	channels) args="-s channels -c 1000 -C 100 -k 10 -S 4 -m $msgs -w 64" ;;
	*) echo "profile: unknown scenario $s" >&2; kill "$pid"; continue ;;
	esac
	# shellcheck disable=SC2086
	"$out/load" -p "$port" -P "$pid" -T 600 -f 50 \
	    -H "$hook" $args
	callgrind_control -i off "$pid" >/dev/null
	kill -TERM "$pid"
	wait "$pid"
	echo "== $s: top $ntop functions by instructions (self)"
	callgrind_annotate --threshold=100 "$f" 2>/dev/null |
	    awk '/^-+$/ { n++ } n >= 3 && NF > 0' |
	    grep -v '^-' | head -n $((ntop + 1))
done
