/*
 * conf_passwd.c: password hashes for oper blocks and server.password
 * ("$pbkdf2-sha256$ITER$SALT$HASH") and PBKDF2-HMAC-SHA256 over BearSSL.
 * Knows nothing of the config file.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bearssl.h>

#include "conf.h"
#include "util.h"

#define PASSWD_PREFIX	"$pbkdf2-sha256$"
#define PASSWD_SALTLEN	16
#define PASSWD_SALTMAX	64		/* accepted when verifying */
#define PASSWD_HASHLEN	32		/* one SHA-256 block */
/* A hash in a config file cannot make every OPER take minutes. */
#define PASSWD_ITER_MAX	10000000U

/* Wipes memory in a way the compiler may not drop as a dead store. */
void
conf_passwd_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n-- > 0)
		*v++ = 0;
}

/* HMAC-SHA256 of msg under key into out. */
void
conf_passwd_hmac(const void *key, size_t keylen, const void *msg, size_t len,
    unsigned char out[32])
{
	br_hmac_key_context kc;
	br_hmac_context hc;

	br_hmac_key_init(&kc, &br_sha256_vtable, key, keylen);
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, msg, len);
	br_hmac_out(&hc, out);
}

void
conf_passwd_sha256(const void *msg, size_t len, unsigned char out[32])
{
	br_sha256_context sc;

	br_sha256_init(&sc);
	br_sha256_update(&sc, msg, len);
	br_sha256_out(&sc, out);
}

/* Same time wherever a and b differ. */
bool
conf_passwd_equal(const unsigned char *a, const unsigned char *b, size_t n)
{
	unsigned diff = 0;
	size_t i;

	for (i = 0; i < n; i++)
		diff |= (unsigned)(a[i] ^ b[i]);
	return diff == 0;
}

/*
 * PBKDF2 (RFC 8018) over HMAC with any of BearSSL's hashes (h): outlen
 * bytes derived from pw and salt with iter iterations (0 is taken as 1).
 * The HMAC key context is computed once, so each iteration costs two
 * compressions. pwhash.c checks imported SHA-512 hashes with it.
 */
void
conf_passwd_pbkdf2_hash(const br_hash_class *h, const void *pw,
    size_t pwlen, const void *salt, size_t saltlen, unsigned iter,
    void *out, size_t outlen)
{
	br_hmac_key_context kc;
	br_hmac_context hc;
	unsigned char u[64], t[64], cnt[4], *o = out;
	size_t hl = (h->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK;
	uint32_t block;
	unsigned i;
	size_t j, n;

	br_hmac_key_init(&kc, h, pw, pwlen);
	for (block = 1; outlen > 0; block++) {
		cnt[0] = (unsigned char)(block >> 24);
		cnt[1] = (unsigned char)(block >> 16);
		cnt[2] = (unsigned char)(block >> 8);
		cnt[3] = (unsigned char)block;
		br_hmac_init(&hc, &kc, 0);
		br_hmac_update(&hc, salt, saltlen);
		br_hmac_update(&hc, cnt, sizeof(cnt));
		br_hmac_out(&hc, u);
		memcpy(t, u, hl);
		for (i = 1; i < iter; i++) {
			br_hmac_init(&hc, &kc, 0);
			br_hmac_update(&hc, u, hl);
			br_hmac_out(&hc, u);
			for (j = 0; j < hl; j++)
				t[j] ^= u[j];
		}
		n = outlen < hl ? outlen : hl;
		memcpy(o, t, n);
		o += n;
		outlen -= n;
	}
	conf_passwd_wipe(u, sizeof(u));
	conf_passwd_wipe(t, sizeof(t));
	conf_passwd_wipe(&kc, sizeof(kc));
	conf_passwd_wipe(&hc, sizeof(hc));
}

/* The same with HMAC-SHA256: our hashes and SCRAM credentials. */
void
conf_passwd_pbkdf2(const void *pw, size_t pwlen, const void *salt,
    size_t saltlen, unsigned iter, void *out, size_t outlen)
{
	conf_passwd_pbkdf2_hash(&br_sha256_vtable, pw, pwlen, salt, saltlen,
	    iter, out, outlen);
}

struct passwd_parsed {
	unsigned	 iter;
	unsigned char	 salt[PASSWD_SALTMAX];
	size_t		 saltlen;
	unsigned char	 hash[PASSWD_HASHLEN];
};

/* Splits a hash string into its parts; -1 if it is not well-formed. */
static int
passwd_parse(const char *s, struct passwd_parsed *pp)
{
	const char *p, *end;
	unsigned long iter = 0;

	if (s == NULL || strncmp(s, PASSWD_PREFIX, strlen(PASSWD_PREFIX)) != 0)
		return -1;
	p = s + strlen(PASSWD_PREFIX);
	/* iterations: decimal, no sign, no leading zero */
	if (*p < '1' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		iter = iter * 10 + (unsigned long)(*p - '0');
		if (iter > PASSWD_ITER_MAX)
			return -1;
	}
	if (*p++ != '$')
		return -1;
	if ((end = strchr(p, '$')) == NULL || end == p)
		return -1;
	if (memchr(p, '=', (size_t)(end - p)) != NULL)
		return -1;
	pp->saltlen = util_b64_decode(pp->salt, sizeof(pp->salt), p,
	    (size_t)(end - p));
	if (pp->saltlen == (size_t)-1 || pp->saltlen == 0)
		return -1;
	p = end + 1;
	if (strchr(p, '$') != NULL || strchr(p, '=') != NULL ||
	    util_b64_decode(pp->hash, sizeof(pp->hash), p, strlen(p)) !=
	    PASSWD_HASHLEN)
		return -1;
	pp->iter = (unsigned)iter;
	return 0;
}

/* Whether hash has the form conf_passwd_hash() produces. */
bool
conf_passwd_check(const char *hash)
{
	struct passwd_parsed pp;

	return passwd_parse(hash, &pp) == 0;
}

/*
 * "$pbkdf2-sha256$ITER$SALT$HASH" for pw, with a fresh 16-byte salt and
 * base64 without padding. iterations 0 means CONF_PASSWD_ITER_DEFAULT
 * (32768, eight times SCRAM's minimum of 4096: about 15 ms of one core
 * per OPER or connection password, see the README; older hashes keep
 * the count they name). Returns a malloc'd string, or NULL with errno
 * set.
 */
char *
conf_passwd_hash(const char *pw, unsigned iterations)
{
	unsigned char salt[PASSWD_SALTLEN], hash[PASSWD_HASHLEN];
	char salt64[32], hash64[48], *out;
	size_t sz;
	int n;

	if (iterations == 0)
		iterations = CONF_PASSWD_ITER_DEFAULT;
	if (pw == NULL || iterations > PASSWD_ITER_MAX) {
		errno = EINVAL;
		return NULL;
	}
	if (ergo_random(salt, sizeof(salt)) == -1)
		return NULL;
	conf_passwd_pbkdf2(pw, strlen(pw), salt, sizeof(salt), iterations,
	    hash, sizeof(hash));
	if (util_b64_encode(salt64, sizeof(salt64), salt, sizeof(salt),
	    false) == (size_t)-1 ||
	    util_b64_encode(hash64, sizeof(hash64), hash, sizeof(hash),
	    false) == (size_t)-1) {
		errno = EOVERFLOW;
		return NULL;
	}
	conf_passwd_wipe(hash, sizeof(hash));
	sz = strlen(PASSWD_PREFIX) + 10 + 1 + strlen(salt64) + 1 +
	    strlen(hash64) + 1;
	if ((out = malloc(sz)) == NULL)
		return NULL;
	n = snprintf(out, sz, "%s%u$%s$%s", PASSWD_PREFIX, iterations,
	    salt64, hash64);
	if (n < 0 || (size_t)n >= sz) {
		free(out);
		errno = EOVERFLOW;
		return NULL;
	}
	return out;
}

/*
 * Whether pw matches hash. A malformed or NULL hash never matches; the
 * final comparison takes the same time wherever the bytes differ.
 */
bool
conf_passwd_verify(const char *hash, const char *pw)
{
	struct passwd_parsed pp;
	unsigned char got[PASSWD_HASHLEN];
	unsigned diff = 0;
	size_t i;

	if (pw == NULL || passwd_parse(hash, &pp) == -1)
		return false;
	conf_passwd_pbkdf2(pw, strlen(pw), pp.salt, pp.saltlen, pp.iter, got,
	    sizeof(got));
	for (i = 0; i < sizeof(got); i++)
		diff |= (unsigned)(got[i] ^ pp.hash[i]);
	conf_passwd_wipe(got, sizeof(got));
	return diff == 0;
}
