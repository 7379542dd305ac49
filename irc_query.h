/*
 * irc_query.h: what irc_query.c exports: the query and oper commands
 * (WHO WHOIS WHOWAS LUSERS MOTD ... OPER KILL REHASH DIE) and WHOWAS.
 */
#ifndef IRC_QUERY_H
#define IRC_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "irc_state.h"

cmd_fn	h_admin, h_away, h_info, h_ison, h_kill, h_lusers, h_motd, h_oper,
	h_time, h_userhost, h_version, h_wallops, h_who, h_whois, h_whowas,
	h_rehash, h_die, h_deoper;
void	 irc_motd_load(void);	/* (re)reads conf->motd; keeps old on error */
void	 irc_send_lusers(struct client *);
void	 irc_send_motd(struct client *);

#endif
