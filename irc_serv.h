/*
 * irc_serv.h: what irc_serv.c exports: NickServ and ChanServ.
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
/* c joined ch: ChanServ's founder +o and AMODEs (for irc_chan.c) */
void	 irc_serv_joined(struct client *, struct chan *);
/* A registered channel's saved state (for irc_chan.c): restored when
 * c's JOIN creates it (0 not registered, 1 c is its founder, 2 someone
 * else), saved when TOPIC or MODE change it. */
int	 irc_serv_chan_restore(struct chan *, struct client *);
void	 irc_serv_chan_changed(struct chan *);
cmd_fn	 h_chanserv, h_histserv, h_hostserv;
void	 irc_serv_init(void);		/* its hooks */
void	 irc_hostserv_init(void);	/* HostServ's (irc_hostserv.c) */

/* Strict nick enforcement: nick refused to c (433/FAIL sent)? */
bool	 irc_serv_nick_refused(struct client *c, const char *nick);

#endif
