/*
 * irc_rename.h: what irc_rename.c exports: IRCv3 draft/channel-rename.
 */
#ifndef IRC_RENAME_H
#define IRC_RENAME_H

#include "irc_state.h"

cmd_fn	 h_rename;

#endif
