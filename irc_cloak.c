/*
 * irc_cloak.c: IP cloaking, as in Ergo: users see an HMAC-SHA256 of a
 * client's address (keyed by a secret from the config, or made on first
 * launch and kept in the database) instead of the address, so nobody is
 * located by it. Opers and the user still see the real one (WHOIS 378).
 */
#include <stdio.h>
#include <string.h>

#include <bearssl.h>

#include "irc_cloak.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "store.h"

#define CLOAK_SECRET_KEY	"cloak-secret"
#define CLOAK_CHARS		16	/* 80 bits of the HMAC, base32 */

static char	 secret[257];		/* the key in use; "" until set */
/* HMAC's inner and outer pads of secret, made at the first cloak after
 * the key is chosen: half of the hashing of each new connection. */
static br_hmac_key_context kc;
static bool	 keyed;

/*
 * The last cloaks made, by address: many clients share one (a NAT, a
 * bouncer host, a reconnect wave after a restart), and each cloak costs
 * two SHA-256 compressions. Direct-mapped; emptied when the key changes.
 */
#define CLOAK_CACHE	256
static struct cloak_cached {
	char	 ip[48];		/* INET6_ADDRSTRLEN fits */
	char	 out[CLOAK_CHARS + 1];
} cache[CLOAK_CACHE];

/*
 * Picks the key: the config's, else the database's, else a new random
 * one saved there. At start and at every rehash. 0, or -1 (logged):
 * then cloaking is off rather than keyed by something guessable.
 */
int
irc_cloak_init(void)
{
	unsigned char raw[32];
	char hex[65];
	size_t i;
	int rc;

	secret[0] = '\0';
	keyed = false;
	if (!conf->cloak.enabled)
		return 0;
	if (conf->cloak.secret != NULL) {
		snprintf(secret, sizeof(secret), "%s", conf->cloak.secret);
		return 0;
	}
	if ((rc = store_meta_get(CLOAK_SECRET_KEY, secret, sizeof(secret))) ==
	    1 && secret[0] != '\0')
		return 0;
	if (rc == -1 || ergo_random(raw, sizeof(raw)) == -1) {
		log_warnx("server", "no cloak secret: IP cloaking is off until "
		    "a rehash finds one");
		secret[0] = '\0';
		return -1;
	}
	for (i = 0; i < sizeof(raw); i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	if (store_meta_set(CLOAK_SECRET_KEY, hex) == -1) {
		log_warnx("server", "cloak secret not saved: IP cloaking is "
		    "off until a rehash can save one");
		return -1;
	}
	snprintf(secret, sizeof(secret), "%s", hex);
	log_info("server", "made a new IP cloaking secret (kept in the "
	    "database)");
	return 0;
}

bool
irc_cloak_on(void)
{
	return conf->cloak.enabled && secret[0] != '\0';
}

/* The cloak of ip into buf (sz >= CLOAK_CHARS + netname + 2). */
void
irc_cloak(const char *ip, char *buf, size_t sz)
{
	static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
	br_hmac_context hc;
	unsigned char mac[32];
	char *out;
	unsigned bits = 0, acc = 0;
	size_t i, n = 0, iplen = strlen(ip);
	uint32_t h = 2166136261u;	/* FNV-1a */
	struct cloak_cached *e;

	if (!keyed) {
		br_hmac_key_init(&kc, &br_sha256_vtable, secret,
		    strlen(secret));
		memset(cache, 0, sizeof(cache));
		keyed = true;
	}
	for (i = 0; i < iplen; i++)
		h = (h ^ (unsigned char)ip[i]) * 16777619u;
	e = &cache[((h * 2654435769u) >> 16) % CLOAK_CACHE];
	out = e->out;
	if (iplen < sizeof(e->ip) && strcmp(e->ip, ip) == 0)
		goto done;
	e->ip[0] = '\0';
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, ip, iplen);
	br_hmac_out(&hc, mac);
	for (i = 0; i < sizeof(mac) && n < CLOAK_CHARS; i++) {
		acc = (acc << 8) | mac[i];
		bits += 8;
		while (bits >= 5 && n < CLOAK_CHARS) {
			out[n++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	out[n] = '\0';
	if (iplen < sizeof(e->ip))
		memcpy(e->ip, ip, iplen + 1);
done:
	snprintf(buf, sz, "%s.%s", out, conf->cloak.netname);
}
