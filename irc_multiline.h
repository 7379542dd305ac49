/*
 * irc_multiline.h: what irc_multiline.c exports: draft/multiline batches.
 */
#ifndef IRC_MULTILINE_H
#define IRC_MULTILINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "irc_state.h"

struct conf;

cmd_fn	h_batch;
#define IRC_ML_REF_MAX	64	/* a client's batch reference */
/* A line in (or claiming to be in) c's open batch: taken, true. */
bool	 irc_ml_line(struct client *, struct msg *);
/* Whether raw line is one of c's open batch: those skip fakelag, up to
 * max-lines (the spec: clients send a batch all at once), but each 512
 * bytes of the batch (its lines and tags) counts as one command. */
bool	 irc_ml_fakelag_exempt(struct client *, const char *line);
/* m was refused (not UTF-8): if it was a line of c's batch, so is that. */
void	 irc_ml_reject(struct client *, struct msg *);
void	 irc_ml_free(struct client *);
/* k's max-bytes and max-lines, lowered where a whole batch would not
 * fit in a recipient's max-sendq: what the cap says and ml_open keeps. */
void	 irc_ml_limits(const struct conf *k, unsigned *bytes, unsigned *lines);
void	 irc_ml_init(void);		/* its hook */

#endif
