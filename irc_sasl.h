/*
 * irc_sasl.h: what irc_sasl.c exports: AUTHENTICATE (SASL PLAIN,
 * SCRAM-SHA-256, EXTERNAL).
 */
#ifndef IRC_SASL_H
#define IRC_SASL_H

#include "irc_state.h"

#define SASL_MECHS		"PLAIN,SCRAM-SHA-256,EXTERNAL"
#define SASL_CHUNK		400	/* AUTHENTICATE payload per line */
#define SASL_MSG_MAX		4096	/* one decoded SASL message */

cmd_fn	 h_authenticate;
void	 irc_sasl_init(void);		/* its hook */
void	 irc_sasl_free(struct client *);	/* an exchange in progress */
/* Registration completes during an exchange: 906, and it ends. */
void	 irc_sasl_abort(struct client *);
/* The server-first message of c's SCRAM exchange, or NULL (fuzz_scram). */
const char *irc_sasl_scram_server_first(const struct client *c);

#endif
