/*
 * util.h: what util.c exports: the program's clock, random bytes and
 * base64; small helpers that serve every part and belong to none.
 */
#ifndef UTIL_H
#define UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

extern time_t	 ergo_now;	/* wall clock, updated every pass */
extern uint64_t	 ergo_now_ms;	/* monotonic milliseconds */
void	 ergo_clock(void);	/* refresh ergo_now and ergo_now_ms */

int	 ergo_random(void *buf, size_t len);	/* 0, or -1 with errno */

/* base64; (size_t)-1: dst too small, or (decode) malformed input */
size_t	 util_b64_encode(char *dst, size_t dstsz, const void *src,
	    size_t len, bool pad);
size_t	 util_b64_decode(void *dst, size_t dstsz, const char *src,
	    size_t len);

char	*xstrdup(const char *);		/* NULL on ENOMEM */

/*
 * Decimal numbers without scanf or strtod (they would pull musl's float
 * scanner into the static binary): "12", "12.5", ".25" as thousandths
 * ("12.5" -> 12500; digits past the third are dropped). -1 unless the
 * whole string is such a number below 10^15.
 */
int64_t	 util_milli(const char *s);
/* n decimal digits at s as a number, or -1 if any is not a digit */
int	 util_digits(const char *s, int n);
/* two hex digits at s as a byte, or -1 */
int	 util_hexbyte(const char *s);

/*
 * Address lists (proxy-allowed-from, webirc hosts): words of "192.0.2.7",
 * "192.0.2.0/24", "2001:db8::/32" or "localhost" (127.0.0.0/8 and ::1).
 * util_nets_parse fills up to max entries and returns how many, or -1
 * with *bad pointing at the first word that is none of those.
 */
#define UTIL_NETS_MAX	64	/* entries of one list */
struct util_net {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned	 bits;
	unsigned char	 addr[16];
};
int	 util_nets_parse(const char *list, struct util_net *out, size_t max,
	    const char **bad);
/* ip: text as net_conn_ip gives it; a v4-mapped v6 address is IPv4 */
bool	 util_nets_contain(const struct util_net *, size_t n, const char *ip);

#endif
