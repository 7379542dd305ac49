/*
 * unit.h: what every tests/unit_*.c shares: the failure count and the
 * one line per case that tests/run.py reads ("ok NAME" or
 * "FAIL NAME: why"). Included once, by the one .c file of a unit binary.
 *
 * Two ways to write a case:
 * - a function returning NULL or why it failed, REQUIRE() stopping it at
 *   the first failed condition, then result(name, test_x());
 * - statements checking with CHECK(cond, fmt, ...), which records the
 *   first failure and goes on, then report(name).
 */
#ifndef UNIT_H
#define UNIT_H

#include <stdarg.h>
#include <stdio.h>

static int	 nfail;
static char	 why[4096];	/* the current case's first failure, or "" */

/* Prints the case's line: ok if w is NULL, else FAIL with w; starts the
 * next case. */
static inline void
result(const char *name, const char *w)
{
	if (w == NULL)
		printf("ok %s\n", name);
	else {
		printf("FAIL %s: %s\n", name, w);
		nfail++;
	}
	fflush(stdout);
	why[0] = '\0';
}

/* Records the first failure of the current case; returns 0 to chain. */
static inline int
bad(const char *fmt, ...)
{
	va_list ap;

	if (why[0] != '\0')
		return 0;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	return 0;
}

/* Prints the case's line from what bad() recorded. */
static inline void
report(const char *name)
{
	result(name, why[0] == '\0' ? NULL : why);
}

/* In a case returning its failure: stop here unless cond holds. */
#define REQUIRE(cond) do {						\
	if (!(cond)) {							\
		snprintf(why, sizeof(why), "line %d: %s", __LINE__, #cond); \
		return why;						\
	}								\
} while (0)

/* In a case ended by report(): record a failure unless cond holds. */
#define CHECK(cond, ...)	do { if (!(cond)) bad(__VA_ARGS__); } while (0)

#endif
