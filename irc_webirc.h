/*
 * irc_webirc.h: what irc_webirc.c exports: the WEBIRC command.
 */
#ifndef IRC_WEBIRC_H
#define IRC_WEBIRC_H

#include "irc_state.h"

cmd_fn	h_webirc;

#endif
