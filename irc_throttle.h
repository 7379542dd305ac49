/*
 * irc_throttle.h: what irc_throttle.c exports: fixed-window counters by key.
 */
#ifndef IRC_THROTTLE_H
#define IRC_THROTTLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ergo.h"

/* Fixed-window counters by key, one table each (irc_throttle.c). */
enum { THROTTLE_AUTH, THROTTLE_REG, THROTTLE_CONN, THROTTLE_NTABS };
bool	 irc_throttle_full(int tab, const char *key, unsigned max,
	    uint64_t window_ms);
unsigned irc_throttle_count(int tab, const char *key, uint64_t window_ms);

#endif
