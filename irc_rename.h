/*
 * irc_rename.h: what irc_rename.c exports: IRCv3 draft/channel-rename.
 */
#ifndef IRC_RENAME_H
#define IRC_RENAME_H

#include "irc_state.h"

cmd_fn	 h_rename;
void	 irc_rename_init(void);	/* its hook: JOINs of old names */

#endif
