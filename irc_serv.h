/*
 * irc_serv.h: what irc_serv.c exports: NickServ, nick reservation, and
 * the services' core (the other services register with it).
 */
#ifndef IRC_SERV_H
#define IRC_SERV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "irc_state.h"

cmd_fn	h_nickserv;
/* PRIVMSG/NOTICE to a service: handled (true), or not a service. */
bool	 irc_serv_message(struct client *, const char *target,
	    const char *text, bool notice);
/* c has a new nick (or just registered): schedule enforcement. */
void	 irc_serv_nick_check(struct client *);
void	 irc_serv_forget(struct client *);	/* off the pending list */
void	 irc_serv_tick(void);			/* renames that are due */
void	 irc_serv_init(void);	/* its hooks; before the other services' */

/* Strict nick enforcement: nick refused to c (433/FAIL sent)? */
bool	 irc_serv_nick_refused(struct client *c, const char *nick);

#endif
