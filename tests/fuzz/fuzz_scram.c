/*
 * fuzz_scram.c: the SASL state machine of irc_sasl.c (AUTHENTICATE:
 * mechanism choice, 400-byte chunks, abort, PLAIN, SCRAM-SHA-256's
 * client-first, client-final and the empty reply to v=) on a fake
 * client, against a real store holding one account, "fuzzer" with the
 * password "pencil". The input is one operation a line:
 *
 *	M<text>		AUTHENTICATE <text>, as sent
 *	B<bytes>	a whole client message, base64 in 400-byte chunks
 *	F<user>		client-first "n,,n=<user>,r=<nonce>", as B
 *	P[t]		the right client-final for the exchange so far, as a
 *			client knowing "pencil" makes it (t: one proof bit
 *			flipped)
 *	R		the client is registered (001 sent) from now on
 *	X		the client goes; a new one comes
 *
 * Whatever the order, nothing crashes, leaks or loops, and a client is
 * logged in only as "fuzzer" and only after it showed the password: a
 * correct proof, or "pencil" in a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "../../store.h"
#include "../../irc_account.h"
#include "../../irc_sasl.h"

#define ACCT	"fuzzer"
#define PASS	"pencil"
#define CNONCE	"fyko+d2lbbFgONRv9qkxdawL"

static char	 dir[] = "/tmp/ergo-fuzz-scram.XXXXXX", dbpath[64];
static unsigned char client_key[32], stored_key[32];

/* the client's side of the exchange */
static struct client *c;
static char	 first[SASL_MSG_MAX + 1];	/* last client message sent */
static bool	 showed_password;

static void
cleanup(void)
{
	char p[80];

	store_close();
	unlink(dbpath);
	snprintf(p, sizeof(p), "%s-wal", dbpath);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", dbpath);
	unlink(p);
	rmdir(dir);
}

/* The store with the account, and the keys a client derives from PASS. */
static void
setup(void)
{
	struct store_account a;
	unsigned char salted[32];

	fuzz_init();
	irc_sasl_init();	/* the client_free hooks client_free runs */
	irc_account_init();
	conf->accounts.iterations = 4096;	/* the fewest: fast runs */
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(dbpath, sizeof(dbpath), "%s/ircd.db", dir);
	if (store_open(dbpath) == -1)
		abort();
	atexit(cleanup);
	memset(&a, 0, sizeof(a));
	snprintf(a.name, sizeof(a.name), "%s", ACCT);
	a.registered = 1;
	irc_account_creds(&a, PASS);
	if (store_account_create(ACCT, &a) != 0)
		abort();
	conf_passwd_pbkdf2(PASS, strlen(PASS), a.salt, a.saltlen,
	    a.iterations, salted, sizeof(salted));
	conf_passwd_hmac(salted, sizeof(salted), "Client Key", 10, client_key);
	conf_passwd_sha256(client_key, sizeof(client_key), stored_key);
}

/* Whether s[0..len) holds w (memmem is not POSIX). */
static bool
contains(const char *s, size_t len, const char *w)
{
	size_t wl = strlen(w), i;

	for (i = 0; i + wl <= len; i++)
		if (memcmp(s + i, w, wl) == 0)
			return true;
	return false;
}

static void
client_new(void)
{
	if ((c = irc_client_new()) == NULL ||
	    (c->sess = irc_session_new()) == NULL ||
	    irc_user_set_names(c, NULL, NULL, "127.0.0.1", NULL) == -1)
		abort();
	c->sess->user = c;
	c->sess->caps = CAP_SASL;
	first[0] = '\0';
	showed_password = false;
}

static void
client_free(void)
{
	IRC_HOOK_RUN(session_free, c->sess);	/* its SASL exchange */
	IRC_HOOK_RUN(client_free, c);
	irc_user_free_names(c);
	if (c->sess->x != IRC_SX_NONE)
		free(c->sess->x);
	irc_session_del(c->sess);
	if (c->ext != IRC_CX_NONE)
		irc_cx_del(c->ext);
	irc_client_del(c);
	c = NULL;
}

static void
authenticate(const char *arg)
{
	char buf[SASL_CHUNK + 1], cmd[] = "AUTHENTICATE";
	struct msg m;

	snprintf(buf, sizeof(buf), "%s", arg);
	memset(&m, 0, sizeof(m));
	m.cmd = cmd;
	m.param[0] = buf;
	m.nparam = 1;
	h_authenticate(c, &m);
}

/* A client message: base64 in chunks, "+" after a full last one. */
static void
message(const char *msg, size_t len)
{
	char b64[SASL_MSG_MAX * 2], chunk[SASL_CHUNK + 1];
	size_t n, off;

	if (len > SASL_MSG_MAX)
		len = SASL_MSG_MAX;
	memcpy(first, msg, len);
	first[len] = '\0';
	if (contains(msg, len, PASS))
		showed_password = true;
	if (len == 0 || (n = util_b64_encode(b64, sizeof(b64), msg, len,
	    true)) == (size_t)-1) {
		authenticate("+");
		return;
	}
	for (off = 0; off < n && c != NULL; off += SASL_CHUNK) {
		snprintf(chunk, sizeof(chunk), "%.*s", (int)(n - off <
		    SASL_CHUNK ? n - off : SASL_CHUNK), b64 + off);
		authenticate(chunk);
	}
	if (n % SASL_CHUNK == 0)
		authenticate("+");
}

/* client-final with the proof for PASS, from the last client-first. */
static void
final(bool tamper)
{
	const char *sf = irc_sasl_scram_server_first(c), *p, *bare;
	char gs2[SASL_MSG_MAX + 1], gs64[SASL_MSG_MAX * 2], fb[SASL_MSG_MAX];
	char am[3 * SASL_MSG_MAX], out[SASL_MSG_MAX], p64[64];
	unsigned char sig[32], proof[32];
	size_t i, gl, nl;
	int r;

	if (sf == NULL || strncmp(sf, "r=", 2) != 0 ||
	    (p = strchr(first, ',')) == NULL ||
	    (p = strchr(p + 1, ',')) == NULL)
		return;
	bare = p + 1;
	gl = (size_t)(bare - first);
	memcpy(gs2, first, gl);
	gs2[gl] = '\0';
	nl = strcspn(sf + 2, ",");
	if (util_b64_encode(gs64, sizeof(gs64), gs2, gl, true) ==
	    (size_t)-1)
		return;
	r = snprintf(fb, sizeof(fb), "c=%s,r=%.*s", gs64, (int)nl, sf + 2);
	if (r < 0 || (size_t)r >= sizeof(fb))
		return;
	r = snprintf(am, sizeof(am), "%s,%s,%s", bare, sf, fb);
	if (r < 0 || (size_t)r >= sizeof(am))
		return;
	conf_passwd_hmac(stored_key, sizeof(stored_key), am, strlen(am), sig);
	for (i = 0; i < sizeof(proof); i++)
		proof[i] = client_key[i] ^ sig[i];
	if (tamper)
		proof[0] ^= 1;
	if (util_b64_encode(p64, sizeof(p64), proof, sizeof(proof), true) ==
	    (size_t)-1)
		abort();
	r = snprintf(out, sizeof(out), "%s,p=%s", fb, p64);
	if (r < 0 || (size_t)r >= sizeof(out))
		return;
	message(out, (size_t)r);
	if (!tamper)
		showed_password = true;
}

static void
check(void)
{
	if (c->account == NULL)
		return;
	if (strcmp(c->account, ACCT) != 0 || !showed_password) {
		fprintf(stderr, "fuzz_scram: logged in as %s without the "
		    "password\n", c->account);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char *p = (const char *)data, *end = p + len, *nl;
	char arg[SASL_MSG_MAX + 1], msg[SASL_MSG_MAX + 1];
	size_t n;

	if (dbpath[0] == '\0')
		setup();
	/* a minute on: the failed-login throttle forgets the last input */
	ergo_now_ms += 120000;
	ergo_now += 120;
	client_new();
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = (size_t)((nl != NULL ? nl : end) - p);
		if (n > 0) {
			size_t an = n - 1 < SASL_MSG_MAX ? n - 1 : SASL_MSG_MAX;

			memcpy(arg, p + 1, an);
			arg[an] = '\0';
			switch (p[0]) {
			case 'M':
				authenticate(arg);
				break;
			case 'B':
				message(arg, an);
				break;
			case 'F':
				an = (size_t)snprintf(msg, sizeof(msg),
				    "n,,n=%.200s,r=" CNONCE, arg);
				message(msg, an);
				break;
			case 'P':
				final(an > 0 && arg[0] == 't');
				break;
			case 'R':
				c->flags |= CF_REG | CF_NICK | CF_USER;
				if (irc_user_set_names(c, "fz", NULL, NULL,
				    NULL) == -1)
					abort();
				break;
			case 'X':
				client_free();
				client_new();
				break;
			}
			check();
		}
		p += n + 1;
	}
	client_free();
	return 0;
}
