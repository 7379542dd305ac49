/*
 * irc_sasl_parse.h: the SASL message parsers of irc_sasl_parse.c. Pure
 * functions of their arguments: no client, no store, no config, so a
 * fuzz target (tests/fuzz/fuzz_sasl.c) can drive them directly.
 */
#ifndef IRC_SASL_PARSE_H
#define IRC_SASL_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "ergo.h"

#define SCRAM_NONCE_MAX	256	/* longest client nonce accepted */
#define SCRAM_PROOF_LEN	32	/* SHA-256 */

/* PLAIN (RFC 4616): pointers into the message, each a C string. */
struct sasl_plain {
	const char	*authzid;	/* "" if none */
	const char	*authcid;	/* may be "": the caller rejects it */
	const char	*passwd;	/* never "" */
};

/* SCRAM client-first-message (RFC 5802 section 7). */
struct scram_first {
	size_t		 gs2len;	/* "n,," or "y,a=NAME," at msg */
	const char	*bare;		/* client-first-message-bare: msg + gs2len */
	const char	*nonce;		/* the client's nonce, in bare */
	size_t		 noncelen;	/* 1..SCRAM_NONCE_MAX, printable, no ',' */
	char		 authzid[NICKLEN_MAX + 1];	/* unescaped; "" if none */
	char		 user[NICKLEN_MAX + 1];		/* unescaped, never "" */
};

bool	 irc_saslname_decode(char *dst, size_t dstsz, const char *s,
	    size_t len);
int	 irc_sasl_plain_parse(const char *msg, size_t len,
	    struct sasl_plain *p);
int	 irc_scram_first_parse(const char *msg, struct scram_first *f);
int	 irc_scram_final_parse(const char *msg, const char *gs2,
	    const char *nonce, size_t noncelen,
	    unsigned char proof[SCRAM_PROOF_LEN], size_t *without_proof);

#endif
