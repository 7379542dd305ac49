/*
 * irc_histserv.h: what irc_histserv.c exports: HistServ: FORGET, DELETE, EXPORT, PLAY.
 */
#ifndef IRC_HISTSERV_H
#define IRC_HISTSERV_H

#include "irc_state.h"

cmd_fn	 h_histserv;		/* HISTSERV */
void	 irc_histserv_init(void);	/* registers it with the services */

#endif
