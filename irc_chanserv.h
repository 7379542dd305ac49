/*
 * irc_chanserv.h: what irc_chanserv.c exports: ChanServ: channel registration, its founder's and AMODE ranks, the saved
 * topic and modes restored.
 */
#ifndef IRC_CHANSERV_H
#define IRC_CHANSERV_H

#include "irc_state.h"

cmd_fn	 h_chanserv;		/* CHANSERV */
void	 irc_chanserv_init(void);	/* registers it with the services */

#endif
