/*
 * irc_metadata.h: what irc_metadata.c exports: IRCv3 draft/metadata-2.
 */
#ifndef IRC_METADATA_H
#define IRC_METADATA_H

#include <stdbool.h>
#include <stddef.h>

#include "conf.h"
#include "irc_state.h"

#define MD_KEY_MAX	64	/* longest key name */
#define MD_KV_MAX	350	/* key + value: a reply fits one line (Ergo) */

cmd_fn	 h_metadata;
/* The cap's value ("before-connect,max-subs=...") into buf; false if
 * k has metadata off (the cap is not offered). */
bool	 irc_metadata_cap(const struct conf *k, char *buf, size_t sz,
	    const char **v);
/* c finished registration: its own keys, to its sessions with the cap. */
void	 irc_metadata_registered(struct client *);
/* A session goes: its subscriptions. */
void	 irc_metadata_session_free(struct session *);
void	 irc_metadata_init(void);	/* its hooks */

#endif
