/*
 * pwhash.h: what pwhash.c exports: SHA3-512, bcrypt, and checking a
 * password against a hash imported from Ergo, Anope or Atheme.
 */
#ifndef PWHASH_H
#define PWHASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PWHASH_BCRYPT_LEN	60	/* "$2b$CC$" salt(22) hash(31) */
#define PWHASH_BCRYPT_COST_MIN	4
/* Each login runs in the one thread that serves everyone: cost 14 is
 * about a second; a hash that asks for more is refused at import. */
#define PWHASH_BCRYPT_COST_MAX	14
#define PWHASH_PBKDF2_ITER_MAX	1000000
#define PWHASH_LEGACY_MAX	400	/* a stored form, with its prefix */

/*
 * A stored legacy hash is its source's prefix and the hash as that
 * source wrote it, so a scheme supported later needs no new import.
 */
#define PWHASH_ERGO	"ergo-sha3-bcrypt:"	/* Ergo's PassphraseHash */
#define PWHASH_ANOPE	"anope:"		/* "bcrypt:$2a$...", "sha1:..." */
#define PWHASH_ATHEME	"atheme:"		/* "$2b$...", "$z$...", ... */

void	 pwhash_sha3_512(const void *msg, size_t len, unsigned char out[64]);
/* bcrypt of pw (at most 72 bytes count) into out as "$2b$..."; -1 if
 * cost is out of range or out of memory */
int	 pwhash_bcrypt(const void *pw, size_t pwlen, unsigned cost,
	    const unsigned char salt[16], char out[PWHASH_BCRYPT_LEN + 1]);
/* pw against a "$2a$", "$2b$" or "$2y$" hash, in constant time */
bool	 pwhash_bcrypt_ok(const char *hash, const void *pw, size_t pwlen);
/* pw against a stored legacy hash (PWHASH_* prefix) */
bool	 pwhash_legacy_ok(const char *stored, const char *pw);
/* Whether pwhash_legacy_ok can ever say yes to this stored hash. */
bool	 pwhash_legacy_supported(const char *stored);

#endif
