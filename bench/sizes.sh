#!/bin/sh
# bench/sizes.sh [BINARY]: the sizes of what every connected client
# holds (struct client, its session, net's connection, a poll slot),
# from the binary's debug information (make builds with -g), and what
# each takes: in a pool (pool.c: client and its rare part, session,
# conn) its size rounded up to 8; from malloc, glibc's chunk (the
# request plus 8, rounded up to 16, at least 32). Needs gdb; on
# demand, like the rest of bench/.
bin=${1:-$(dirname "$0")/../ergo}
command -v gdb >/dev/null 2>&1 || { echo "sizes.sh: no gdb" >&2; exit 1; }
for t in "client:every user" "client_ext:a user's rare part, if used" \
    "session:one per connection of a user" \
    "session_ext:a session's rare part, if used" "conn:net's, one per connection" \
    "pollfd:poll array slot" "pent:net's entry beside it" \
    "member:per channel joined"; do
	name=${t%%:*}
	n=$(gdb -batch -ex "print sizeof(struct $name)" "$bin" 2>/dev/null |
	    sed -n 's/^\$[0-9]* = //p')
	case $n in
	'') printf '%-18s %5s\n' "struct $name" - ;;
	*)	c=$(( (n + 8 + 15) / 16 * 16 )); [ "$c" -lt 32 ] && c=32
		w='malloc chunk'
		case $name in
		pollfd|pent) c='(array)' ;;
		client|client_ext|session|conn) w='pool slot   '; c=$(( (n + 7) / 8 * 8 )) ;;
		esac
		printf '%-18s %5s bytes, %s %7s  (%s)\n' \
		    "struct $name" "$n" "$w" "$c" "${t#*:}" ;;
	esac
done
