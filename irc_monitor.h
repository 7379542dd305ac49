/*
 * irc_monitor.h: what irc_monitor.c exports: MONITOR and extended-monitor.
 */
#ifndef IRC_MONITOR_H
#define IRC_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "irc_state.h"

struct irc_ev;

cmd_fn	h_monitor;
void	 irc_monitor_init(void);		/* its hook */
/* c is online: after registration. Tells those monitoring its nick. */
void	 irc_monitor_online(struct client *);
/* A registered c changed nick; oldprefix is its nick!user@host before. */
void	 irc_monitor_nick(struct client *, const char *oldprefix);
/* c leaves: 731 to its watchers, and its own list is freed. */
void	 irc_monitor_quit(struct client *);
/* extended-monitor: ev (AWAY, ACCOUNT, CHGHOST, SETNAME of c) went to
 * c's peers; now to its watchers with the cap (irc_ev_peers calls it). */
void	 irc_monitor_ev(struct irc_ev *, struct client *c);

#endif
