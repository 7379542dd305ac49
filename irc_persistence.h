/*
 * irc_persistence.h: what irc_persistence.c exports: the PERSISTENCE
 * command (draft/persistence).
 */
#ifndef IRC_PERSISTENCE_H
#define IRC_PERSISTENCE_H

#include "irc_state.h"

cmd_fn	h_persistence;

#endif
