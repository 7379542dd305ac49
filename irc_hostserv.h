/*
 * irc_hostserv.h: what irc_hostserv.c exports: HostServ: vhosts.
 */
#ifndef IRC_HOSTSERV_H
#define IRC_HOSTSERV_H

#include "irc_state.h"

cmd_fn	 h_hostserv;		/* HOSTSERV */
void	 irc_hostserv_init(void);	/* registers it with the services */

#endif
