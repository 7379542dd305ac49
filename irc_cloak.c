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

/* The random key made for this run when the database could not keep or
 * give one; reused by every rehash that still cannot, so cloaks stay the
 * same until the next restart. */
static char	 runkey[65];

/*
 * Picks the key: the config's, else the database's, else a new random
 * one saved there. At start and at every rehash. When the database can
 * neither give nor keep one, cloaking stays on with a random key held
 * only for this run (an error is logged: cloaks change at the next
 * restart); never off, which would show everyone's address. -1 only
 * when no random key can be made and none is in use (logged).
 */
int
irc_cloak_init(void)
{
	unsigned char raw[32];
	char hex[65], got[sizeof(secret)];
	size_t i;
	int rc;

	keyed = false;
	if (!conf->cloak.enabled) {
		secret[0] = '\0';
		return 0;
	}
	if (conf->cloak.secret != NULL) {
		snprintf(secret, sizeof(secret), "%s", conf->cloak.secret);
		return 0;
	}
	if ((rc = store_meta_get(CLOAK_SECRET_KEY, got, sizeof(got))) == 1 &&
	    got[0] != '\0') {
		snprintf(secret, sizeof(secret), "%s", got);
		return 0;
	}
	if (runkey[0] == '\0') {
		if (ergo_random(raw, sizeof(raw)) == -1) {
			log_error("server", "no random cloak secret could be "
			    "made%s", secret[0] != '\0' ? ": keeping the one in "
			    "use" : ": clients are refused until a rehash "
			    "makes one");
			return secret[0] != '\0' ? 0 : -1;
		}
		for (i = 0; i < sizeof(raw); i++)
			snprintf(hex + 2 * i, 3, "%02x", raw[i]);
		snprintf(runkey, sizeof(runkey), "%s", hex);
	}
	/* A secret that could not be read may still be there: never
	 * overwrite it, or every saved cloak would change. */
	if (rc == -1) {
		log_error("server", "cloak secret not read from the database: "
		    "IP cloaking uses a random secret for this run (cloaks "
		    "change at the next restart)");
	} else if (store_meta_set(CLOAK_SECRET_KEY, runkey) == -1) {
		log_error("server", "cloak secret not saved in the database: "
		    "IP cloaking uses a random secret for this run (cloaks "
		    "change at the next restart)");
	} else {
		log_info("server", "made a new IP cloaking secret (kept in the "
		    "database)");
	}
	snprintf(secret, sizeof(secret), "%s", runkey);
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
