#!/bin/bash
# bench/run.sh: `make bench`. Builds bench/load, runs every scenario of
# issue 7 against ./ergo and, when present, InspIRCd and ngIRCd (each on
# its own free loopback port, started and stopped by this script by PID,
# flood limits lifted), and prints one table of medians with ratios.
#
#   BENCH_RUNS=3       runs per scenario and server (median reported)
#   BENCH_QUICK=1      small counts, one run: under a minute
#   BENCH_INSTALL=1    as root: apt-get install inspircd, and fetch
#                      ngircd + libident (apt-get download, dpkg -x) into
#                      bench/.cache (Debian's ngircd conflicts with
#                      ircd-hybrid, so it is never installed system-wide)
#   BENCH_SERVERS="ergo inspircd ngircd"   which servers to run
#   BENCH_SCENARIOS="startup connect50 connect500 idle fanout paced channels tls tlsconnect tlsfanout"
#                      (tls: bench/tls.py, ergo only; tlsconnect:
#                      bench/tls_connect.py, ergo against openssl s_server;
#                      both need python3, openssl; tlsfanout: ergo only,
#                      the fanout over plain TCP then over TLS, load -t)
#   BENCH_PIN="paced tlsfanout"  scenarios run with load -A: the server
#                      on one CPU, the load generator on another (Linux,
#                      2+ CPUs), so latency does not measure the two
#                      meeting on a core (tlsfanout: nor does its ratio)
#   BENCH_KEEP=1       keep the temp directory (configs, logs, raw results)
#   BENCH_TABLE_FROM=FILE  run nothing: print the table of a kept results file
#
# Everything stays on 127.0.0.0/8; each load run has a time limit.
set -u

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cache=$here/.cache
runs=${BENCH_RUNS:-3}
quick=${BENCH_QUICK:-0}
servers=${BENCH_SERVERS:-"ergo inspircd ngircd"}
scenarios=${BENCH_SCENARIOS:-"startup connect50 connect500 idle fanout paced channels tls tlsconnect tlsfanout"}
pin_scenarios=${BENCH_PIN-paced tlsfanout}
benchuser=ergobench
ergo_bin=${ERGO_BIN:-$top/ergo}

if [ "$quick" = 1 ]; then
	runs=${BENCH_RUNS:-1}
	N_CONN=100; IDLE=1000; FAN_M=200; PACED_D=1; CH_C=300; CH_M=200; N_TLS=200
	N_HS=50; SW_FAN="10 100 1000"; SW_FAN_D=200000; SW_IDLE=1000,2000
	SW_CONN="0 1000"; SW_START="0:0 10000:0 10000:100000"
	HIST_ROWS=100000; HIST_CH=50
	TLIMIT=30
else
	N_CONN=2000; IDLE=1000,5000,10000; FAN_M=2000; PACED_D=10; CH_C=1000
	CH_M=2000; TLIMIT=240; N_TLS=1000; N_HS=300
	SW_FAN="10 100 1000 5000"; SW_FAN_D=1600000
	SW_IDLE=1000,5000,10000,15000,19000; SW_CONN="0 5000 15000"
	SW_START="0:0 10000:0 100000:0 100000:1000000"
	HIST_ROWS=1000000; HIST_CH=500
fi

say() { printf '%s\n' "$*" >&2; }

# -- file descriptors: the servers inherit this limit --
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 10100 ]; then
	say "bench: ulimit -n is $(ulimit -n); the 10,000-client idle step will fail"
fi

# -- the load generator --
CC=${CC:-cc}
if [ ! -x "$here/load" ] || [ "$here/load.c" -nt "$here/load" ] ||
    [ "$here/load_tls.c" -nt "$here/load" ]; then
	$CC -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -O2 \
	    -o "$here/load" "$here/load.c" "$here/load_tls.c" -lbearssl ||
	    exit 1
fi
[ -x "$ergo_bin" ] || { say "bench: no $ergo_bin; run make first"; exit 1; }

tmp=$(mktemp -d /tmp/ergo-bench.XXXXXX) || exit 1
# The benchmark's senders OPER with this (a fresh one per run).
oper_pass=bench$$$RANDOM
oper_hash=$(printf '%s\n' "$oper_pass" | "$ergo_bin" genpasswd 2>/dev/null | tail -n 1)
case $oper_hash in '$'*) ;; *) say "bench: ergo genpasswd failed"; exit 1 ;; esac
chmod 755 "$tmp"
# A private copy: the tree's ./ergo may be rebuilt while we run.
cp "$ergo_bin" "$tmp/ergo" && ergo_bin=$tmp/ergo || exit 1
cleanup() {
	[ -n "${spid:-}" ] && stop_server
	if [ "${BENCH_KEEP:-0}" = 1 ]; then say "bench: kept $tmp"
	else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# -- optional installs --
if [ "${BENCH_INSTALL:-0}" = 1 ]; then
	if [ "$(id -u)" != 0 ]; then
		say "bench: BENCH_INSTALL=1 needs root; skipping installs"
	else
		if ! command -v inspircd >/dev/null 2>&1; then
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			    apt-get install -y -qq inspircd >&2 ||
			    say "bench: apt-get install inspircd failed"
		fi
		if [ ! -x "$cache/ngircd/usr/sbin/ngircd" ]; then
			mkdir -p "$cache/deb" "$cache/ngircd"
			( cd "$cache/deb" && apt-get download ngircd libident >&2 ) &&
			    for d in "$cache"/deb/*.deb; do
				dpkg -x "$d" "$cache/ngircd" || exit 1
			    done || say "bench: could not fetch ngircd"
		fi
	fi
fi

# Other servers refuse root (InspIRCd) or drop to another user: run
# them as an unprivileged user, made here when missing and we are root.
as_user=
if [ "$(id -u)" = 0 ]; then
	if ! id "$benchuser" >/dev/null 2>&1; then
		useradd --system --no-create-home --shell /usr/sbin/nologin \
		    "$benchuser" 2>/dev/null ||
		    say "bench: could not create user $benchuser"
	fi
	if id "$benchuser" >/dev/null 2>&1; then
		as_user="setpriv --reuid=$benchuser --regid=$benchuser --init-groups --"
	fi
fi

have_server() {
	case $1 in
	ergo) return 0 ;;
	inspircd) command -v inspircd >/dev/null 2>&1 &&
		{ [ "$(id -u)" != 0 ] || [ -n "$as_user" ]; } ;;
	ngircd) [ -x "$cache/ngircd/usr/sbin/ngircd" ] ||
		command -v ngircd >/dev/null 2>&1 ;;
	*) return 1 ;;
	esac
}

# A free TCP port on 127.0.0.1 (not listened on, not in use).
free_port() {
	local p
	for _ in $(seq 1 50); do
		p=$(( (RANDOM * 32768 + RANDOM) % 30000 + 20000 ))
		if ! ss -Htan "( sport = :$p or dport = :$p )" 2>/dev/null |
		    grep -q .; then
			echo "$p"; return
		fi
	done
	echo $(( RANDOM % 30000 + 20000 ))
}

# -- per-server configs and command lines --
# write_conf SERVER DIR PORT: config files; sets cmd (an array).
write_conf() {
	local srv=$1 d=$2 port=$3
	case $srv in
	ergo)
		# tlsfanout: a TLS listener beside the plain one
		local tls_listen=
		[ -z "${tls_port:-}" ] || tls_listen="listen 127.0.0.1:$tls_port { tls { cert \"$tmp/tls.crt\"  key \"$tmp/tls.key\" } }"
		cat >"$d/ergo.conf" <<EOF
server {
	name ergo.bench
	listen 127.0.0.1:$port
	$tls_listen
	max-clients 0
	max-sendq 1m
	connection-limits { max-per-ip 0  throttle no }
	timeouts { registration 300s  idle 600s  ping 600s }
}
datastore { path $d/ircd.db }
logging { method stderr  level warn }
# fakelag stays on: the senders OPER as this (load -O) and it lifts
# fakelag for them alone
oper bench { class bench  password "$oper_hash"  nofakelag yes }
EOF
		cmd=("$ergo_bin" run --config "$d/ergo.conf")
		# ergo refuses root without server { user } unless told
		[ "$(id -u)" != 0 ] || cmd+=(--allow-root)
		;;
	inspircd)
		cat >"$d/inspircd.conf" <<EOF
<server name="insp.bench" description="bench" network="Bench">
<admin name="bench" nick="bench" email="bench@localhost">
<bind address="127.0.0.1" port="$port" type="clients">
<connect allow="*" timeout="300" pingfreq="600" threshold="1000000"
	commandrate="100000000" fakelag="no" localmax="100000"
	globalmax="100000" limit="100000" maxchans="100"
	resolvehostnames="no" useident="no" softsendq="1048576"
	hardsendq="16777216" recvq="1048576">
<channels users="100" opers="100">
<pid file="$d/inspircd.pid">
<options prefixquit="Quit: " syntaxhints="no" announcets="yes">
<security maxtargets="20">
<performance quietbursts="yes" softlimit="60000" somaxconn="4096"
	netbuffersize="65536">
<log method="file" type="* -USERINPUT -USEROUTPUT" level="default"
	target="$d/inspircd.log">
<whowas groupsize="10" maxgroups="100000" maxkeep="3d">
EOF
		cmd=($as_user inspircd --nofork --config="$d/inspircd.conf")
		;;
	ngircd)
		cat >"$d/ngircd.conf" <<EOF
[Global]
	Name = ngircd.bench
	Info = bench
	Listen = 127.0.0.1
	Ports = $port
	MotdPhrase = bench
	PidFile = $d/ngircd.pid
[Limits]
	MaxConnections = 0
	MaxConnectionsIP = 0
	MaxJoins = 0
	MaxPenaltyTime = 0
	PingTimeout = 600
	PongTimeout = 600
	ConnectRetry = 60
[Options]
	DNS = no
	Ident = no
	PAM = no
	OperCanUseMode = yes
EOF
		local bin=ngircd
		if [ -x "$cache/ngircd/usr/sbin/ngircd" ]; then
			bin=$cache/ngircd/usr/sbin/ngircd
			export LD_LIBRARY_PATH="$cache/ngircd/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
		fi
		cmd=($as_user "$bin" -n -f "$d/ngircd.conf")
		;;
	esac
}

spid=
start_server() {	# SERVER: starts it; sets spid, port
	local srv=$1 d
	d=$(mktemp -d "$tmp/$srv.XXXXXX"); chmod 777 "$d"
	port=$(free_port)
	write_conf "$srv" "$d" "$port"
	chmod 644 "$d"/*.conf
	"${cmd[@]}" >"$d/out.log" 2>&1 &
	spid=$!
	local i
	for i in $(seq 1 300); do	# up to 3 s to listen
		if ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then
			return 0
		fi
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.01
	done
	say "bench: $srv did not start; see below"; tail -5 "$d/out.log" >&2
	stop_server
	return 1
}

stop_server() {		# by its own PID, never by name
	[ -n "$spid" ] || return
	kill -TERM "$spid" 2>/dev/null
	local i
	for i in $(seq 1 100); do
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
	spid=
}

results=$tmp/results
: >"$results"

# -- scaling sweeps: one RESULT line with a key per size --
# kv LINE KEY: the value of KEY= in a RESULT line
kv() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -1; }

# sweep SERVER SCENARIO: runs the sizes, prints "RESULT scenario=..."
sweep() {
	local srv=$1 sc=$2 n m o line="RESULT scenario=$2" ok=1 f
	case $srv in ngircd) f="-f 10" ;; inspircd) f="-f 1000" ;; *) f="-f 500" ;; esac
	case $sc in
	sweepfanout)
		for n in $SW_FAN; do
			# About the same number of deliveries at every size,
			# and the steady state at every size: the first window
			# (64 per sender, all sent at once) is a warm-up, not
			# measured (-W), and every sender sends at least 8
			# windows, so a large channel's run is not one burst.
			m=$(( SW_FAN_D / (4 * n) )); [ "$m" -lt 512 ] && m=512
			[ "$m" -gt 50000 ] && m=50000
			start_server "$srv" || return 1
			o=$("$here/load" -p "$port" -P "$spid" -T "$TLIMIT" $f \
			    $( [ "$srv" = ergo ] && echo "-O bench:$oper_pass" ) \
			    $(case " $pin_scenarios " in *" sweepfanout "*) echo -A ;; esac) \
			    -s fanout -c "$n" -S 4 -m "$m" -w 64 -W 64 \
			    2>>"$tmp/load.err" |
			    grep '^RESULT' | tail -1)
			stop_server
			line="$line cpu_ns_per_deliv_$n=$(awk -v v="$(kv "$o" cpu_s_per_M)" 'BEGIN { if (v == "") print ""; else printf "%.1f", v * 1000 }')"
			[ "$(kv "$o" ok)" = 1 ] || ok=0
		done ;;
	sweepidle)
		start_server "$srv" || return 1
		o=$("$here/load" -p "$port" -P "$spid" -T "$TLIMIT" $f -s idle \
		    -n "$SW_IDLE" 2>>"$tmp/load.err" | grep '^RESULT' | tail -1)
		stop_server
		for n in $(echo "$SW_IDLE" | tr , ' '); do
			line="$line bytes_per_client_$n=$(kv "$o" bytes_per_client_$n)"
		done
		[ "$(kv "$o" ok)" = 1 ] || ok=0 ;;
	sweepconnect)
		for n in $SW_CONN; do
			start_server "$srv" || return 1
			o=$("$here/load" -p "$port" -P "$spid" -T "$TLIMIT" \
			    -s connect -n "$N_CONN" -f 50 -b "$n" \
			    2>>"$tmp/load.err" | grep '^RESULT' | tail -1)
			stop_server
			line="$line cpu_us_per_reg_$n=$(kv "$o" cpu_us_per_reg)"
			line="$line p99_ms_$n=$(kv "$o" p99_ms)"
			[ "$(kv "$o" ok)" = 1 ] || ok=0
		done ;;
	esac
	echo "$line ok=$ok"
}

# sweep_start: ergo's start (fork to the first 001) against its database
sweep_start() {
	local spec d o line="RESULT scenario=sweepstart" ok=1 key
	for spec in $SW_START; do	# ACCOUNTS:HISTORY_ROWS
		d=$(mktemp -d "$tmp/start.XXXXXX"); chmod 777 "$d"
		port=$(free_port)
		write_conf ergo "$d" "$port"
		printf 'history { persistent yes }\n' >>"$d/ergo.conf"
		chmod 644 "$d/ergo.conf"
		"$ergo_bin" initdb --config "$d/ergo.conf" >/dev/null 2>&1 &&
		    python3 "$here/mkdb.py" "$d/ircd.db" "${spec%%:*}" \
		    "${spec##*:}" 2>>"$tmp/load.err" || { ok=0; continue; }
		key=${spec%%:*}a_${spec##*:}h
		o=$("$here/load" -p "$port" -s startup -- "${cmd[@]}" \
		    2>>"$tmp/load.err" | grep '^RESULT' | tail -1)
		line="$line ready_ms_$key=$(kv "$o" ready_ms) cpu_ms_$key=$(kv "$o" ready_cpu_ms)"
		[ "$(kv "$o" ok)" = 1 ] || ok=0
		rm -rf "$d"
	done
	echo "$line ok=$ok"
}

# tls_fanout: one ergo with a plain and a TLS listener (the ECDSA P-256
# key `ergo mkcerts` makes), the fanout scenario over plain TCP then over
# TLS (load -t: BearSSL's client engine) against the same server, each
# with fresh clients and every delivery checked; server CPU per 1M
# deliveries of each (message phase only) and TLS / plain of the round.
tls_fanout() {
	local args o_p o_t p t tp ok=1
	if [ ! -s "$tmp/tls.key" ]; then
		"$ergo_bin" mkcerts --cert "$tmp/tls.crt" --key "$tmp/tls.key" \
		    >/dev/null 2>>"$tmp/load.err" ||
		    { echo "RESULT scenario=tlsfanout ok=0"; return; }
		chmod 644 "$tmp/tls.crt" "$tmp/tls.key"
	fi
	args="-O bench:$oper_pass -f 500 -s fanout -c 200 -S 4 -m $FAN_M -w 64"
	case " $pin_scenarios " in *" tlsfanout "*) args="-A $args" ;; esac
	tp=$(free_port)
	tls_port=$tp start_server ergo || return 1
	# shellcheck disable=SC2086
	o_p=$("$here/load" -p "$port" -P "$spid" -T "$TLIMIT" $args \
	    2>>"$tmp/load.err" | grep '^RESULT' | tail -1)
	# shellcheck disable=SC2086
	o_t=$("$here/load" -t -p "$tp" -P "$spid" -T "$TLIMIT" $args \
	    2>>"$tmp/load.err" | grep '^RESULT' | tail -1)
	stop_server
	p=$(kv "$o_p" cpu_s_per_M); t=$(kv "$o_t" cpu_s_per_M)
	[ "$(kv "$o_p" ok)" = 1 ] && [ "$(kv "$o_t" ok)" = 1 ] || ok=0
	echo "RESULT scenario=tlsfanout plain_cpu_s_per_M=$p" \
	    "tls_cpu_s_per_M=$t ratio=$(awk -v p="$p" -v t="$t" \
	    'BEGIN { if (p > 0 && t > 0) printf "%.2f", t / p }')" \
	    "plain_deliv_per_s=$(kv "$o_p" deliv_per_s)" \
	    "tls_deliv_per_s=$(kv "$o_t" deliv_per_s)" \
	    "plain_lost=$(kv "$o_p" lost) tls_lost=$(kv "$o_t" lost) ok=$ok"
}

# run_one SERVER SCENARIO RUN
run_one() {
	local srv=$1 sc=$2 r=$3 args out fillf
	# Clients registering at once while a scenario fills up: ngIRCd's
	# listen backlog is 10 (more in flight only makes SYNs time out and
	# retry); InspIRCd answers on a once-a-second timer, so it needs many.
	case $srv in
	ngircd) fillf="-f 10" ;;
	inspircd) fillf="-f 1000" ;;
	*) fillf="-f 500" ;;
	esac
	if [ "$sc" = sweepfanout ] || [ "$sc" = sweepidle ] ||
	    [ "$sc" = sweepconnect ]; then
		out=$(sweep "$srv" "$sc")
	elif [ "$sc" = sweepstart ]; then
		[ "$srv" = ergo ] || return 0
		out=$(sweep_start)
	elif [ "$sc" = history ]; then
		[ "$srv" = ergo ] || return 0
		out=$(ERGO_BIN=$ergo_bin timeout 900 python3 "$here/history.py" \
		    -r "$HIST_ROWS" -c "$HIST_CH" 2>>"$tmp/load.err" |
		    tee -a "$tmp/history.txt")
	elif [ "$sc" = tlsfanout ]; then	# ergo: plain then TLS, same server
		[ "$srv" = ergo ] || return 0
		out=$(tls_fanout)
	elif [ "$sc" = tlsconnect ]; then	# ergo against openssl s_server
		[ "$srv" = ergo ] || return 0
		command -v python3 >/dev/null && command -v openssl >/dev/null ||
		    { say "bench: tlsconnect needs python3 and openssl; skipped"; return 0; }
		out=$(ERGO_BIN=$ergo_bin timeout "$TLIMIT" python3 \
		    "$here/tls_connect.py" -n "$N_HS" -r 1 2>>"$tmp/load.err")
	elif [ "$sc" = tls ]; then	# bench/tls.py drives ergo only
		[ "$srv" = ergo ] || return 0
		command -v python3 >/dev/null && command -v openssl >/dev/null ||
		    { say "bench: tls needs python3 and openssl; skipped"; return 0; }
		out=$(ERGO_BIN=$ergo_bin timeout "$TLIMIT" python3 "$here/tls.py" \
		    "$N_TLS" 2>>"$tmp/load.err" | awk '
		    /^tls:/ { hs = $2; kib = $4; ms = $8 }
		    END { if (hs != "") printf "RESULT scenario=tls handshakes_per_s=%s bytes_per_tls_client=%.0f cpu_us_per_handshake=%.0f ok=1\n", hs, kib * 1024, ms * 1000 }')
	elif [ "$sc" = startup ]; then
		local d; d=$(mktemp -d "$tmp/$srv-start.XXXXXX"); chmod 777 "$d"
		port=$(free_port)
		write_conf "$srv" "$d" "$port"; chmod 644 "$d"/*.conf
		out=$("$here/load" -p "$port" -s startup -- "${cmd[@]}" 2>>"$tmp/load.err")
	else
		case $sc in
		connect50) args="-s connect -n $N_CONN -f 50" ;;
		connect500) args="-s connect -n $N_CONN -f 500" ;;
		idle) args="-s idle -n $IDLE $fillf" ;;
		fanout) args="$fillf -s fanout -c 200 -S 4 -m $FAN_M -w 64" ;;
		paced) args="$fillf -s fanout -c 200 -S 4 -r 50 -d $PACED_D" ;;
		channels) args="$fillf -s channels -c $CH_C -C 100 -k 10 -S 4 -m $CH_M -w 64" ;;
		esac
		case " $pin_scenarios " in *" $sc "*) args="-A $args" ;; esac
		case $srv:$sc in
		ergo:fanout | ergo:paced | ergo:channels)
			args="-O bench:$oper_pass $args" ;;
		esac
		start_server "$srv" || return 1
		# shellcheck disable=SC2086
		out=$("$here/load" -p "$port" -P "$spid" -T "$TLIMIT" $args 2>>"$tmp/load.err")
		stop_server
	fi
	out=$(printf '%s\n' "$out" | grep '^RESULT' | tail -1)
	[ -n "$out" ] || out="RESULT scenario=$sc ok=0"
	say "  $srv $sc #$r: ${out#RESULT }"
	printf '%s %s %s\n' "$srv" "$sc" "${out#RESULT }" >>"$results"
}

active=
for s in $servers; do
	if have_server "$s"; then active="$active $s"
	else
		case $s in
		inspircd) say "bench: inspircd not installed (BENCH_INSTALL=1 as root installs it); skipped" ;;
		ngircd) say "bench: ngircd not found (BENCH_INSTALL=1 as root fetches it into bench/.cache); skipped" ;;
		*) say "bench: unknown server $s; skipped" ;;
		esac
	fi
done

if [ -n "${BENCH_TABLE_FROM:-}" ]; then	# only print the table of a raw results file
	cp "$BENCH_TABLE_FROM" "$results" || exit 1
	runs=$(awk '{ n[$1 " " $2]++ } END { for (k in n) if (n[k] > m) m = n[k]; print m + 0 }' "$results")
	active=
fi
[ -n "$active" ] && say "bench: servers:$active; scenarios: $scenarios; $runs run(s) each"
for r in $( [ -n "$active" ] && seq 1 "$runs"); do
	for sc in $scenarios; do
		for s in $active; do
			run_one "$s" "$sc" "$r"
		done
	done
done

# -- plots: gnuplot SVGs of the sweeps and of the servers side by side --
plotdir=${BENCH_PLOTS:-$here/plots}
plots() {
	command -v gnuplot >/dev/null 2>&1 || {
		if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
			say "bench: installing gnuplot-nox for the plots"
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			    gnuplot-nox >/dev/null 2>&1 ||
			    { apt-get update -qq >/dev/null 2>&1 &&
			    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			    gnuplot-nox >/dev/null 2>&1; }
		fi
		command -v gnuplot >/dev/null 2>&1 ||
		    { say "bench: no gnuplot; no plots"; return 0; }
	}
	mkdir -p "$plotdir"
	local sc title ylab s any
	for sc in sweepfanout sweepidle sweepconnect sweepstart; do
		grep -q "^$sc " "$tmp/sweeps.dat" 2>/dev/null || continue
		case $sc in
		sweepfanout) title="fanout: CPU per delivery vs channel size"
			ylab="CPU ns per delivery" ;;
		sweepidle) title="idle: RSS per client vs clients"
			ylab="bytes per client" ;;
		sweepconnect) title="connect: CPU per registration vs clients connected"
			ylab="CPU us per registration" ;;
		sweepstart) title="start to first 001 vs database (accounts_history rows)"
			ylab="ms (wall)" ;;
		esac
		any=
		for s in ergo inspircd ngircd; do
			# the first key's rows only (connect: CPU, start: wall)
			awk -v sc="$sc" -v s="$s" '$1 == sc && $2 == s && !seen[$3]++ && $4 != "-" { print $3, $4 }' \
			    "$tmp/sweeps.dat" >"$tmp/plot_${sc}_$s.dat"
			[ -s "$tmp/plot_${sc}_$s.dat" ] && any="$any $s"
		done
		[ -n "$any" ] || continue
		{
			echo "set terminal svg size 640,400 dynamic background rgb 'white'"
			echo "set output '$plotdir/$sc.svg'"
			echo "set title '$title'"
			echo "set ylabel '$ylab'"
			echo "set yrange [0:*]"
			echo "set grid"
			echo "set key top left"
			printf 'plot '
			local first=1
			for s in $any; do
				[ $first = 1 ] || printf ', '
				first=0
				printf "'%s' using 0:2:xtic(1) with linespoints lw 2 title '%s'" \
				    "$tmp/plot_${sc}_$s.dat" "$s"
			done
			echo
		} >"$tmp/$sc.gp"
		gnuplot "$tmp/$sc.gp" 2>>"$tmp/load.err" && say "bench: wrote $plotdir/$sc.svg"
	done
	# the servers side by side: server CPU of the main scenarios
	: >"$tmp/cmp.dat"
	for k in "fanout cpu_s_per_M fanout" "channels cpu_s_per_M channels" \
	    "paced cpu_s_per_M paced" "connect50 cpu_us_per_reg connect_us_per_reg/100"; do
		set -- $k
		local e i n div=1
		[ "$1" = connect50 ] && div=100
		e=$(median ergo "$1" "$2"); i=$(median inspircd "$1" "$2"); n=$(median ngircd "$1" "$2")
		[ "$e" = - ] && continue
		awk -v l="$3" -v e="$e" -v i="$i" -v n="$n" -v d="$div" 'BEGIN {
			printf "%s %s %s %s\n", l, e / d, (i == "-" ? "NaN" : i / d), (n == "-" ? "NaN" : n / d) }' >>"$tmp/cmp.dat"
	done
	if [ -s "$tmp/cmp.dat" ]; then
		{
			echo "set terminal svg size 640,400 dynamic background rgb 'white'"
			echo "set output '$plotdir/servers.svg'"
			echo "set title 'server CPU, s per 1M deliveries (connect: us per registration / 100)'"
			echo "set style data histograms"
			echo "set style fill solid 0.8 border -1"
			echo "set yrange [0:*]"
			echo "set grid ytics"
			echo "plot '$tmp/cmp.dat' using 2:xtic(1) title 'ergo', '' using 3 title 'inspircd', '' using 4 title 'ngircd'"
		} >"$tmp/servers.gp"
		gnuplot "$tmp/servers.gp" 2>>"$tmp/load.err" && say "bench: wrote $plotdir/servers.svg"
	fi
}

# -- the table --
# median SERVER SCENARIO KEY: median over runs ("-" if none)
median() {
	awk -v s="$1" -v sc="$2" -v k="$3" '
	$1 == s && $2 == sc { for (i = 3; i <= NF; i++) {
		split($i, kv, "="); if (kv[1] == k && kv[2] != "") v[n++] = kv[2] + 0 } }
	END { if (n == 0) { print "-"; exit }
		for (i = 0; i < n; i++) for (j = i + 1; j < n; j++)
			if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
		m = n % 2 ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
		print m }' "$results"
}
# allok SERVER SCENARIO: "yes" if every run had ok=1
allok() {
	awk -v s="$1" -v sc="$2" '
	$1 == s && $2 == sc { n++; if ($0 !~ / ok=1/) bad++ }
	END { if (n == 0) print "-"; else if (bad) print "NO (" bad "/" n ")"; else print "yes" }' "$results"
}
fmt() {	# value, printf format
	[ "$1" = - ] && { echo -; return; }
	printf "$2" "$1"
}
ratio() {
	if [ "$1" = - ] || [ "$2" = - ]; then echo -; return; fi
	awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "-"; else printf "%.2f", a / b }'
}

row() {	# label scenario key format [noratio]
	local label=$1 sc=$2 key=$3 f=$4 e i n r1 r2
	case " $scenarios " in *" $sc "*) ;; *) return ;; esac
	e=$(median ergo "$sc" "$key"); i=$(median inspircd "$sc" "$key")
	n=$(median ngircd "$sc" "$key")
	r1=$(ratio "$e" "$i"); r2=$(ratio "$e" "$n")
	[ "${5:-}" = noratio ] && r1= r2=
	printf '| %-40s | %10s | %10s | %10s | %7s | %8s |\n' "$label" \
	    "$(fmt "$e" "$f")" "$(fmt "$i" "$f")" "$(fmt "$n" "$f")" "$r1" "$r2"
}
okrow() {
	local label=$1 sc=$2
	case " $scenarios " in *" $sc "*) ;; *) return ;; esac
	printf '| %-40s | %10s | %10s | %10s | %7s | %8s |\n' "$label" \
	    "$(allok ergo "$sc")" "$(allok inspircd "$sc")" \
	    "$(allok ngircd "$sc")" "" ""
}

i1=${IDLE%%,*}; il=${IDLE##*,}; im=$(echo "$IDLE" | cut -d, -f2)
echo
echo "ergo benchmark: medians of $runs run(s)$( [ "$quick" = 1 ] && echo ', QUICK counts')"
echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), Linux $(uname -r)"
echo
case " $scenarios " in
*" startup "* | *" connect50 "* | *" connect500 "* | *" idle "* | *" fanout "* | \
*" paced "* | *" channels "* | *" tls "* | *" tlsconnect "* | *" tlsfanout "*)
printf '| %-40s | %10s | %10s | %10s | %7s | %8s |\n' scenario ergo inspircd ngircd \
    e/insp e/ngircd
printf '|%s|%s|%s|%s|%s|%s|\n' ------------------------------------------ \
    ------------ ------------ ------------ --------- ---------- ;;
esac
row "start to listening, ms" startup startup_ms %.1f
for f in 50 500; do
	row "connect $N_CONN, $f in flight: regs/s" connect$f regs_per_s %.0f
	row "  connect-to-001 p50, ms" connect$f p50_ms %.2f
	row "  connect-to-001 p99, ms" connect$f p99_ms %.2f
	row "  server CPU per registration, us" connect$f cpu_us_per_reg %.1f
	row "  got 001 (of $N_CONN)" connect$f registered %.0f noratio
done
for n in $(echo "$IDLE" | tr , ' '); do
	row "idle $n: RSS per client, bytes" idle bytes_per_client_$n %.0f
done
okrow "  idle: all registered" idle
row "fanout 200x4x$FAN_M: deliveries/s" fanout deliv_per_s %.0f
row "  latency p50, ms" fanout p50_ms %.2f
row "  latency p99, ms" fanout p99_ms %.2f
row "  server CPU s per 1M deliveries" fanout cpu_s_per_M %.3f
okrow "  all delivered, in order" fanout
row "paced 4x50/s ${PACED_D}s: latency p50, ms" paced p50_ms %.2f
row "  latency p99, ms" paced p99_ms %.2f
row "  server CPU s per 1M deliveries" paced cpu_s_per_M %.3f
okrow "  all delivered, in order" paced
row "channels $CH_C/100x10, 4x$CH_M: deliv/s" channels deliv_per_s %.0f
row "  latency p50, ms" channels p50_ms %.2f
row "  latency p99, ms" channels p99_ms %.2f
row "  server CPU s per 1M deliveries" channels cpu_s_per_M %.3f
okrow "  all delivered, in order" channels
row "tls $N_TLS (bench/tls.py): handshakes/s" tls handshakes_per_s %.0f
row "  RSS per idle TLS client, bytes" tls bytes_per_tls_client %.0f
row "  server CPU per handshake+reg, us" tls cpu_us_per_handshake %.0f
row "tls-connect: full handshake CPU, us" tlsconnect full_us %.0f
row "  openssl s_server, same cert, us" tlsconnect ossl_full_us %.0f
row "  ergo / openssl (full)" tlsconnect full_ratio %.2f noratio
row "  full, client offers only P-256, us" tlsconnect p256_us %.0f
row "  resumed handshake CPU, us" tlsconnect resumed_us %.0f
row "  openssl resumed, us" tlsconnect ossl_resumed_us %.0f
row "  TCP connect+close alone, us" tlsconnect tcp_us %.0f
okrow "  every resumption resumed" tlsconnect
row "tls-fanout 200x4x$FAN_M: plain, s per 1M" tlsfanout plain_cpu_s_per_M %.3f
row "  TLS (load -t), s per 1M deliveries" tlsfanout tls_cpu_s_per_M %.3f
row "  TLS / plain, median of rounds" tlsfanout ratio %.2f noratio
row "  TLS deliveries/s" tlsfanout tls_deliv_per_s %.0f
okrow "  all delivered, in order (both)" tlsfanout
# sweep_table SCENARIO KEYPREFIX "LABEL" "SIZES" FORMAT [SIZELABEL]:
# medians per size and server, and each one's ratio to its smallest size
sweep_table() {
	local sc=$1 k=$2 label=$3 sizes=$4 f=$5 sl=${6:-size} n s v b line
	case " $scenarios " in *" $sc "*) ;; *) return ;; esac
	echo
	echo "$label (ratio: to the first row, same server, same run)"
	echo
	line="| $(printf '%-16s' "$sl") |"
	for s in ergo inspircd ngircd; do
		[ "$(median "$s" "$sc" "$k${sizes%% *}")" = - ] && continue
		line="$line $(printf '%10s' "$s") |  ratio |"
	done
	echo "$line"
	echo "$line" | sed 's/[^|]/-/g'
	for n in $sizes; do
		line="| $(printf '%-16s' "$n") |"
		for s in ergo inspircd ngircd; do
			b=$(median "$s" "$sc" "$k${sizes%% *}")
			[ "$b" = - ] && continue
			v=$(median "$s" "$sc" "$k$n")
			line="$line $(printf '%10s' "$(fmt "$v" "$f")") | $(printf '%6s' "$(ratio "$v" "$b")") |"
			printf '%s %s %s %s %s\n' "$sc" "$s" "$n" "$v" \
			    "$(ratio "$v" "$b")" >>"$tmp/sweeps.dat"
		done
		echo "$line"
	done
}
: >"$tmp/sweeps.dat"
sweep_table sweepfanout cpu_ns_per_deliv_ "fanout: server CPU per delivery, ns, against channel size" "$SW_FAN" %.1f members
sweep_table sweepidle bytes_per_client_ "idle: RSS per client, bytes, against clients connected" "$(echo "$SW_IDLE" | tr , ' ')" %.0f clients
sweep_table sweepconnect cpu_us_per_reg_ "connect $N_CONN at 50 in flight: server CPU per registration, us, against clients already connected" "$SW_CONN" %.1f connected
sweep_table sweepconnect p99_ms_ "  connect-to-001 p99, ms" "$SW_CONN" %.2f connected
sweep_table sweepstart ready_ms_ "start, fork to first 001, ms (wall), against the database" "$(for x in $SW_START; do printf '%sa_%sh ' "${x%%:*}" "${x##*:}"; done)" %.1f accounts_history
sweep_table sweepstart cpu_ms_ "  server CPU to first 001, ms" "$(for x in $SW_START; do printf '%sa_%sh ' "${x%%:*}" "${x##*:}"; done)" %.1f accounts_history
case " $scenarios " in *" history "*)
	echo; echo "history (bench/history.py, ergo):"; cat "$tmp/history.txt" 2>/dev/null | grep -v '^RESULT' ;;
esac
plots
echo
echo "CPU = the server's time on CPU (schedstat of all its threads; utime+stime"
echo "rounded to ticks is in the raw results). Ratios: ergo's figure / theirs."
pinned=$(awk '/ pinned=1/ { if (!seen[$2]++) printf " %s", $2 }' "$results")
[ -n "$pinned" ] && echo "Pinned (server on one CPU, load generator on another):$pinned."
if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "raw results: $results"; fi
