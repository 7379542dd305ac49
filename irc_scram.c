/*
 * irc_scram.c: the server's side of SCRAM-SHA-256 (RFC 5802, 7677) as
 * both AUTHENTICATE (irc_sasl.c) and SASL over a link (irc_link_svc.c)
 * run it, and the stand-in credentials of unknown accounts. No client
 * here: finding the account, the throttle and the replies are the
 * callers'. The syntax of the messages is irc_sasl_parse.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc_scram.h"
#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "store.h"
#include "irc_util.h"
#include "irc_account.h"

#define SCRAM_NONCE_RAW	18	/* random bytes in our half of the nonce */
#define FAKE_SECRET_KEY	"scram-fake-secret"

/*
 * The key of the fake salts, kept in the database's meta table so they
 * stay the same across restarts as real salts do (else a restart shows
 * which names are accounts). Made on first use. If the database cannot
 * give or keep one, a random key for this run, logged: the salts then
 * change at the next restart, which only tells what a restart told before.
 */
static const unsigned char *
fake_secret(void)
{
	static unsigned char secret[32];
	static bool have;
	char hex[2 * sizeof(secret) + 1];
	size_t i;
	int v;
	int rc;

	if (have)
		return secret;
	rc = store_meta_get(FAKE_SECRET_KEY, hex, sizeof(hex));
	if (rc == 1 && strlen(hex) == 2 * sizeof(secret)) {
		for (i = 0; i < sizeof(secret); i++) {
			if ((v = util_hexbyte(hex + 2 * i)) < 0)
				break;
			secret[i] = (unsigned char)v;
		}
		if (i == sizeof(secret)) {
			have = true;
			return secret;
		}
	}
	if (ergo_random(secret, sizeof(secret)) == -1)
		fatal("random");	/* never a guessable key */
	for (i = 0; i < sizeof(secret); i++)
		snprintf(hex + 2 * i, 3, "%02x", secret[i]);
	if (rc == -1 || store_meta_set(FAKE_SECRET_KEY, hex) == -1)
		log_warnx("accounts", "the key of unknown accounts' SCRAM "
		    "salts is not in the database: it changes at a restart");
	have = true;
	return secret;
}

/*
 * So a login for a missing account costs the same PBKDF2 and SCRAM shows
 * a salt that stays the same for the name: neither the time nor the
 * reply tells which accounts exist. No password matches its random keys.
 */
void
irc_scram_fake(const char *folded, struct store_account *a)
{
	const unsigned char *secret = fake_secret();
	unsigned char h[32];

	memset(a, 0, sizeof(*a));
	conf_passwd_hmac(secret, 32, folded, strlen(folded), h);
	memcpy(a->salt, h, ACCOUNT_SALTLEN);
	a->saltlen = ACCOUNT_SALTLEN;
	a->iterations = conf->accounts.iterations;
	if (ergo_random(a->stored_key, sizeof(a->stored_key)) == -1)
		memset(a->stored_key, 0xa5, sizeof(a->stored_key));
	memcpy(a->server_key, a->stored_key, sizeof(a->server_key));
}

bool
irc_scram_fold(char *dst, size_t dstsz, const char *name)
{
	if (!irc_nick_valid(name))
		return false;
	irc_fold(dst, name, dstsz);
	return true;
}

int
irc_scram_first(struct irc_scram *s, const char *msg)
{
	struct scram_first f;
	char fz[NICKLEN_MAX + 1];

	if (s->gs2 != NULL || irc_scram_first_parse(msg, &f) == -1)
		return -1;
	if (!irc_scram_fold(s->folded, sizeof(s->folded), f.user) ||
	    (f.authzid[0] != '\0' && (!irc_scram_fold(fz, sizeof(fz),
	    f.authzid) || strcmp(fz, s->folded) != 0)))
		return -1;
	if ((s->gs2 = malloc(f.gs2len + 1)) == NULL)
		return -1;
	memcpy(s->gs2, msg, f.gs2len);
	s->gs2[f.gs2len] = '\0';
	if ((s->first_bare = xstrdup(f.bare)) == NULL)
		return -1;
	memcpy(s->cnonce, f.nonce, f.noncelen);
	s->cnonce[f.noncelen] = '\0';
	return 0;
}

int
irc_scram_challenge(struct irc_scram *s, char *out, size_t outsz)
{
	unsigned char raw[SCRAM_NONCE_RAW];
	char snonce[SCRAM_NONCE_RAW * 2], salt64[STORE_SALTMAX * 2];
	int n;

	if (s->first_bare == NULL || s->server_first != NULL ||
	    ergo_random(raw, sizeof(raw)) == -1 ||
	    util_b64_encode(snonce, sizeof(snonce), raw, sizeof(raw), true) ==
	    (size_t)-1 ||
	    util_b64_encode(salt64, sizeof(salt64), s->acct.salt,
	    s->acct.saltlen, true) == (size_t)-1)
		return -1;
	n = snprintf(out, outsz, "r=%s%s,s=%s,i=%u", s->cnonce, snonce,
	    salt64, s->acct.iterations);
	if (n < 0 || (size_t)n >= outsz ||
	    (s->server_first = xstrdup(out)) == NULL)
		return -1;
	return n;
}

int
irc_scram_final(struct irc_scram *s, const char *msg, char *out,
    size_t outsz, size_t *outlen)
{
	char *am, v[64];
	unsigned char proof[SCRAM_PROOF_LEN], sig[32], key[32], stored[32];
	const char *snonce;
	size_t amlen, i, wp;
	int n;

	if (s->server_first == NULL)
		return -1;
	snonce = s->server_first + 2;	/* "r=" */
	if (irc_scram_final_parse(msg, s->gs2, snonce, strcspn(snonce, ","),
	    proof, &wp) == -1)
		return -1;
	/* AuthMessage = client-first-bare "," server-first "," final-no-proof */
	amlen = strlen(s->first_bare) + 1 + strlen(s->server_first) + 1 + wp;
	if ((am = malloc(amlen + 1)) == NULL)
		return -1;
	snprintf(am, amlen + 1, "%s,%s,%.*s", s->first_bare, s->server_first,
	    (int)wp, msg);
	conf_passwd_hmac(s->acct.stored_key, 32, am, amlen, sig);
	for (i = 0; i < 32; i++)
		key[i] = proof[i] ^ sig[i];
	conf_passwd_sha256(key, sizeof(key), stored);
	if (!conf_passwd_equal(stored, s->acct.stored_key, 32)) {
		free(am);
		return 0;
	}
	conf_passwd_hmac(s->acct.server_key, 32, am, amlen, sig);
	free(am);
	if (util_b64_encode(v, sizeof(v), sig, sizeof(sig), true) ==
	    (size_t)-1)
		return -1;
	n = snprintf(out, outsz, "v=%s", v);
	if (n < 0 || (size_t)n >= outsz)
		return -1;
	*outlen = (size_t)n;
	return 1;
}

void
irc_scram_clear(struct irc_scram *s)
{
	free(s->gs2);
	free(s->first_bare);
	free(s->server_first);
	conf_passwd_wipe(s, sizeof(*s));
}
