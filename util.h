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

#endif
