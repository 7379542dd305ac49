/*
 * irc_bans.h: what irc_bans.c exports: K-lines, D-lines, UBAN, DEFCON,
 * SANICK and STATS.
 */
#ifndef IRC_BANS_H
#define IRC_BANS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "irc_state.h"

struct conn;

#define IRC_BANS_MAX		10000	/* K-lines and D-lines together */
cmd_fn	 h_kline, h_unkline, h_dline, h_undline, h_stats, h_uban, h_defcon,
	 h_sanick;
bool	 irc_bans_conn_refused(struct conn *);	/* D-lined: ERROR, closed */
bool	 irc_bans_check(struct client *);	/* registration: 465, gone */
void	 irc_bans_tick(void);			/* drops expired ones */
void	 irc_bans_init(void);		/* its hook */

#endif
