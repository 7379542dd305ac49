/*
 * net_tls_int.h: what net_tls.c and net_tls_cred.c share and nothing
 * else includes: a credential's layout (its engines read the chain, the
 * key and the session cache) and the helpers both use.
 */
#ifndef NET_TLS_INT_H
#define NET_TLS_INT_H

#include <stddef.h>

#include <bearssl.h>

struct sess_cache;

#define CHAIN_MAX	16

struct tls_cred {
	unsigned		 refs;
	br_x509_certificate	 chain[CHAIN_MAX];
	size_t			 nchain;
	br_skey_decoder_context	 sk;		/* holds the key's bytes */
	int			 key_type;	/* BR_KEYTYPE_RSA or _EC */
	unsigned		 issuer_type;	/* key type that signed the leaf */
	char			 fp[65];
	struct sess_cache	*cache;		/* NULL: no resumption */
};

/* net_tls.c's */
void	 explicit_wipe(void *, size_t);
void	 hex(char *out, const unsigned char *, size_t);
void	 cache_free(struct sess_cache *);	/* NULL is fine */

#endif
