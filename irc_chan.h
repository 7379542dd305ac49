/*
 * irc_chan.h: what irc_chan.c exports: the channel commands (JOIN PART
 * KICK TOPIC NAMES LIST INVITE MODE), ACCEPT (user mode +R), and the
 * operators' SAJOIN and SAMODE (irc_chan.c, irc_chan_mode.c).
 */
#ifndef IRC_CHAN_H
#define IRC_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "irc_state.h"

void	 irc_chan_init(void);	/* its hook (chan_greet) */
cmd_fn	h_accept, h_invite, h_join, h_kick, h_list, h_mode, h_names, h_part, h_topic;
cmd_fn	h_sajoin, h_samode;	/* capabilities sajoin, samode */


#endif
