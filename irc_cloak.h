/*
 * irc_cloak.h: what irc_cloak.c exports: IP cloaks (an HMAC of the address).
 */
#ifndef IRC_CLOAK_H
#define IRC_CLOAK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ergo.h"

#define IRC_HOST_CLOAK	64		/* room for a cloak and netname */
int	 irc_cloak_init(void);		/* at start and rehash; 0 or -1 */
bool	 irc_cloak_on(void);
void	 irc_cloak(const char *ip, char *buf, size_t sz);

#endif
