/*
 * irc_chghost.h: what irc_chghost.c exports: the CHGHOST command.
 */
#ifndef IRC_CHGHOST_H
#define IRC_CHGHOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "irc_state.h"

cmd_fn	h_chghost;

#endif
