/*
 * irc_cap.h: what irc_cap.c exports to irc.c, the roof it is part of:
 * the CAP command and cap-notify after a rehash. No family includes it.
 */
#ifndef IRC_CAP_H
#define IRC_CAP_H

#include "irc_state.h"

struct conf;

cmd_fn	h_cap;
void	 irc_cap_notify_rehash(const struct conf *old);

#endif
