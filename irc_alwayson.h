/*
 * irc_alwayson.h: what irc_alwayson.c exports: always-on users (kept
 * with no session, written to the database after each change, back at
 * start) and auto-away.
 */
#ifndef IRC_ALWAYSON_H
#define IRC_ALWAYSON_H

#include <stdbool.h>
#include <stdint.h>

#include "irc_state.h"

void	 irc_alwayson_init(void);		/* its hooks */
/* At start, before any client is served: the users of the database. */
void	 irc_alwayson_restore(void);
/* After each command and timer pass: irc.changed written (see .c). */
void	 irc_alwayson_sync(void);
void	 irc_alwayson_tick(void);		/* always-on-expiration */
/* A session attached to c / c's last session left (auto-away). */
void	 irc_alwayson_attached(struct client *);
void	 irc_alwayson_detached(struct client *);
/* The always-on user of account id, or NULL. */
struct client *irc_alwayson_user(int64_t account);
/* Whether c is or may become always-on under max-always-on. */
bool	 irc_alwayson_room(const struct client *);

#endif
