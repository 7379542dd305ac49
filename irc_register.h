/*
 * irc_register.h: what irc_register.c exports: draft/account-registration
 * (REGISTER, VERIFY) and its capability value.
 */
#ifndef IRC_REGISTER_H
#define IRC_REGISTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "irc_state.h"

struct conf;
struct store_account;

cmd_fn	 h_register, h_verify;		/* draft/account-registration */
/* Whether conf offers the cap, and its value (NULL: none) made in buf;
 * irc_cap.c's cap_offer, so CAP LS and cap-notify at rehash agree. */
bool	 irc_register_cap(const struct conf *, char *buf, size_t sz,
	    const char **value);


#endif
