/*
 * irc_scram.h: the server's side of SCRAM-SHA-256 (RFC 5802, 7677) and
 * the stand-in credentials of accounts that do not exist, with no client
 * in them: AUTHENTICATE (irc_sasl.c) runs it for our clients and the
 * link family (irc_link_svc.c) for other servers' clients, whose
 * exchange comes over ENCAP SASL. Account rows come from the caller.
 */
#ifndef IRC_SCRAM_H
#define IRC_SCRAM_H

#include <stdbool.h>
#include <stddef.h>

#include "store.h"
#include "irc_sasl_parse.h"

/* One exchange; zeroed to begin, irc_scram_clear at its end. */
struct irc_scram {
	struct store_account acct;	/* the caller's, after irc_scram_first */
	char		 folded[NICKLEN_MAX + 1];	/* the account asked for */
	char		*gs2;		/* "n,," as sent */
	char		*first_bare;	/* client-first-message-bare */
	char		*server_first;
	char		 cnonce[SCRAM_NONCE_MAX + 1];
};

/* client-first (NUL-terminated): parsed, its account folded into
 * s->folded (an authzid must name the same one). -1: malformed. */
int	 irc_scram_first(struct irc_scram *, const char *msg);
/* With s->acct set (the account, or irc_scram_fake's): the server-first
 * message into out; its length, or -1. */
int	 irc_scram_challenge(struct irc_scram *, char *out, size_t outsz);
/* client-final: 1 with the proof right ("v=..." into out, *outlen),
 * 0 a wrong proof, -1 malformed. */
int	 irc_scram_final(struct irc_scram *, const char *msg, char *out,
	    size_t outsz, size_t *outlen);
void	 irc_scram_clear(struct irc_scram *);
/* An account name folded as nicks are; false if it cannot be one. */
bool	 irc_scram_fold(char *dst, size_t dstsz, const char *name);
/*
 * Credentials standing in for the account folded that does not exist:
 * the same PBKDF2 cost, a salt that stays the same for the name across
 * restarts, keys no password matches.
 */
void	 irc_scram_fake(const char *folded, struct store_account *);

#endif
