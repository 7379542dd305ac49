/*
 * irc_markread.h: what irc_markread.c exports: draft/read-marker.
 */
#ifndef IRC_MARKREAD_H
#define IRC_MARKREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "irc_state.h"

#define IRC_MARKS_MAX		128	/* markers a client without account keeps */
cmd_fn	 h_markread;
void	 irc_markread_join(struct client *, struct chan *);	/* after JOIN */
void	 irc_markread_client_free(struct client *);
void	 irc_markread_init(void);	/* its hooks */

#endif
