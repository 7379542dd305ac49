/*
 * irc_sasl.c: logging in: AUTHENTICATE (IRCv3 SASL 3.2: PLAIN,
 * SCRAM-SHA-256, EXTERNAL) for our clients. SCRAM itself and the fake
 * credentials of unknown accounts are irc_scram.c's.
 * Credentials, the failed-login throttle and the login state are
 * irc_account.c's; the syntax of the messages is irc_sasl_parse.c's. Rows
 * come from store.c; no SQL here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "irc_sasl.h"
#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "net.h"
#include "store.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_sasl_parse.h"
#include "irc_scram.h"
#include "irc_account.h"
#include "irc_num.h"

enum { MECH_PLAIN, MECH_SCRAM, MECH_EXTERNAL };
enum { SCRAM_FIRST, SCRAM_FINAL, SCRAM_DONE };

/* One AUTHENTICATE exchange; freed when it ends. */
struct sasl {
	int		 mech;
	int		 step;		/* SCRAM_* */
	char		*buf;		/* base64 received so far */
	size_t		 len;
	struct irc_scram scram;		/* SCRAM: its state */
	char		 folded[NICKLEN_MAX + 1];
};

/* ---- AUTHENTICATE ---- */

/* session_free hook: ss's exchange, if any, goes (wiped). */
static void
sasl_session_free(struct session *ss)
{
	struct sasl *s = ss->x->sasl;

	if (s == NULL)
		return;
	if (s->buf != NULL) {
		conf_passwd_wipe(s->buf, s->len);	/* may hold a PLAIN password */
		free(s->buf);
	}
	irc_scram_clear(&s->scram);
	conf_passwd_wipe(s, sizeof(*s));
	free(s);
	ss->x->sasl = NULL;
}

void
irc_sasl_free(struct client *c)
{
	if (irc_sess(c) != NULL)
		sasl_session_free(irc_sess(c));
}

/*
 * What the server sent as server-first in c's SCRAM exchange, or NULL:
 * for tests/fuzz/fuzz_scram.c, which plays a client that knows the
 * password and so needs the server's nonce (its output goes nowhere).
 */
const char *
irc_sasl_scram_server_first(const struct client *c)
{
	if (irc_sess(c)->x->sasl == NULL || irc_sess(c)->x->sasl->mech != MECH_SCRAM)
		return NULL;
	return irc_sess(c)->x->sasl->scram.server_first;
}


/* The exchange is over: registration may go on after the command. */
static void
sasl_end(struct client *c)
{
	irc_sasl_free(c);
}

/* 904 for a suspended account, after its credentials were right. */
static bool
sasl_suspended(struct client *c, const struct store_account *a)
{
	if (!irc_account_suspended(a))
		return false;
	log_info("accounts", "%s: login to suspended account %s refused",
	    c->host, a->name);
	irc_numeric(c, ERR_SASLFAIL, ":SASL authentication failed: Account "
	    "has been suspended");
	sasl_end(c);
	return true;
}

static void
sasl_fail(struct client *c, const char *folded)
{
	if (folded != NULL)
		irc_auth_failed(c, folded);
	irc_numeric(c, ERR_SASLFAIL, ":SASL authentication failed");
	sasl_end(c);
}

/* 900 then 903, and only then +r (the order of the SASL spec) */
static void
sasl_success(struct client *c, const struct store_account *a)
{
	irc_account_login_quiet(c, a);
	irc_numeric(c, RPL_SASLSUCCESS, ":SASL authentication successful");
	irc_account_login_mode(c);
	sasl_end(c);
}

/* AUTHENTICATE lines for a server message, 400 bytes of base64 each. */
static void
sasl_send(struct client *c, const char *msg, size_t len)
{
	char b64[SASL_MSG_MAX * 4 / 3 + 8];
	size_t n, off;

	if (len == 0 || (n = util_b64_encode(b64, sizeof(b64), msg, len,
	    true)) == (size_t)-1) {
		irc_send(c, "AUTHENTICATE +");
		return;
	}
	for (off = 0; off < n; off += SASL_CHUNK)
		irc_send(c, "AUTHENTICATE %.*s", (int)(n - off < SASL_CHUNK ?
		    n - off : SASL_CHUNK), b64 + off);
	if (n % SASL_CHUNK == 0)
		irc_send(c, "AUTHENTICATE +");	/* nothing more follows */
}

/* "authzid NUL authcid NUL password" */
static void
sasl_plain(struct client *c, const char *msg, size_t len)
{
	struct sasl_plain p;
	struct store_account a;
	char fz[NICKLEN_MAX + 1];
	int rc;

	/* msg is NUL-terminated by sasl_data, as the parser needs */
	if (irc_sasl_plain_parse(msg, len, &p) == -1) {
		sasl_fail(c, NULL);
		return;
	}
	if (!irc_scram_fold(irc_sess(c)->x->sasl->folded,
	    sizeof(irc_sess(c)->x->sasl->folded), p.authcid) ||
	    (*p.authzid != '\0' &&
	    (!irc_scram_fold(fz, sizeof(fz), p.authzid) ||
	    strcmp(fz, irc_sess(c)->x->sasl->folded) != 0))) {
		sasl_fail(c, NULL);
		return;
	}
	if (irc_auth_throttled(c, irc_sess(c)->x->sasl->folded)) {
		sasl_fail(c, NULL);
		return;
	}
	rc = store_account_get(irc_sess(c)->x->sasl->folded, &a);
	if (rc == -1) {
		irc_send(c, ":%s NOTICE %s :Login failed: %s", conf->server_name,
		    c->nick[0] ? c->nick : "*", store_error());
		sasl_fail(c, NULL);
		return;
	}
	if (rc == 0)
		irc_scram_fake(irc_sess(c)->x->sasl->folded, &a);
	if (rc == 0 || !irc_account_password_ok(&a, p.passwd)) {
		sasl_fail(c, irc_sess(c)->x->sasl->folded);
		return;
	}
	if (sasl_suspended(c, &a))
		return;
	irc_account_rehash(c, &a, p.passwd);
	sasl_success(c, &a);
}

/* The TLS certificate's fingerprint names the account. */
static void
sasl_external(struct client *c, const char *msg, size_t len)
{
	const char *fp = irc_client_certfp(c);
	struct store_account a;
	char fz[NICKLEN_MAX + 1];
	int rc;

	if (fp == NULL || irc_auth_throttled(c, NULL)) {
		sasl_fail(c, NULL);
		return;
	}
	if ((rc = store_account_by_certfp(fp, &a)) != 1) {
		sasl_fail(c, rc == 0 ? "" : NULL);
		return;
	}
	/* an authzid, if given, must be the certificate's account */
	if (len > 0) {
		irc_fold(irc_sess(c)->x->sasl->folded, a.name,
		    sizeof(irc_sess(c)->x->sasl->folded));
		if (!irc_scram_fold(fz, sizeof(fz), msg) ||
		    strcmp(fz, irc_sess(c)->x->sasl->folded) != 0) {
			sasl_fail(c, NULL);
			return;
		}
	}
	if (sasl_suspended(c, &a))
		return;
	sasl_success(c, &a);
}

/* client-first: its syntax is irc_scram_first_parse's */
static void
scram_first(struct client *c, char *msg)
{
	struct sasl *s = irc_sess(c)->x->sasl;
	struct irc_scram *x = &s->scram;
	char sf[512];
	int rc, n;

	if (irc_scram_first(x, msg) == -1)
		goto bad;
	memcpy(s->folded, x->folded, sizeof(s->folded));
	if (irc_auth_throttled(c, s->folded))
		goto bad;
	if ((rc = store_account_get(s->folded, &x->acct)) == -1 ||
	    (rc == 1 && x->acct.iterations == 0)) {
		sasl_fail(c, NULL);
		return;
	}
	if (rc == 0)	/* carry on: the client-final will fail */
		irc_scram_fake(s->folded, &x->acct);
	if ((n = irc_scram_challenge(x, sf, sizeof(sf))) == -1)
		goto bad;
	s->step = SCRAM_FINAL;
	sasl_send(c, sf, (size_t)n);
	return;
bad:
	sasl_fail(c, NULL);
}

/* client-final: its syntax is irc_scram_final_parse's; answer v= */
static void
scram_final(struct client *c, char *msg)
{
	struct sasl *s = irc_sess(c)->x->sasl;
	char reply[80];
	size_t n;

	switch (irc_scram_final(&s->scram, msg, reply, sizeof(reply), &n)) {
	case 0:
		sasl_fail(c, s->folded);
		return;
	case -1:
		sasl_fail(c, NULL);
		return;
	}
	/* the proof was right: only now may it be told */
	if (sasl_suspended(c, &s->scram.acct))
		return;
	s->step = SCRAM_DONE;
	sasl_send(c, reply, n);
}

/* A whole client message (decoded, NUL-terminated) for the mechanism. */
static void
sasl_message(struct client *c, char *msg, size_t len)
{
	struct sasl *s = irc_sess(c)->x->sasl;

	switch (s->mech) {
	case MECH_PLAIN:
		sasl_plain(c, msg, len);
		break;
	case MECH_EXTERNAL:
		sasl_external(c, msg, len);
		break;
	case MECH_SCRAM:
		if (s->step == SCRAM_FIRST)
			scram_first(c, msg);
		else if (s->step == SCRAM_FINAL)
			scram_final(c, msg);
		else {
			/* the client checked v= and sent its empty reply */
			struct store_account a = s->scram.acct;

			sasl_success(c, &a);
			conf_passwd_wipe(&a, sizeof(a));
		}
		break;
	}
}

/* One AUTHENTICATE payload line: collect, decode when complete. */
static void
sasl_data(struct client *c, const char *arg)
{
	struct sasl *s = irc_sess(c)->x->sasl;
	size_t n = strcmp(arg, "+") == 0 ? 0 : strlen(arg), dlen;
	char *nb, *msg;

	if (n > SASL_CHUNK) {	/* one line too long: 905 */
		irc_numeric(c, ERR_SASLTOOLONG, ":SASL message too long");
		sasl_end(c);
		return;
	}
	if (s->len + n > SASL_MSG_MAX * 4 / 3 + 4) {	/* the whole: 904 */
		sasl_fail(c, NULL);
		return;
	}
	if (n > 0) {
		if ((nb = realloc(s->buf, s->len + n + 1)) == NULL) {
			sasl_fail(c, NULL);
			return;
		}
		s->buf = nb;
		memcpy(s->buf + s->len, arg, n);
		s->len += n;
		s->buf[s->len] = '\0';
	}
	if (n == SASL_CHUNK)
		return;		/* a full chunk: more follows */
	if ((msg = malloc(SASL_MSG_MAX + 1)) == NULL) {
		sasl_fail(c, NULL);
		return;
	}
	dlen = s->len == 0 ? 0 : util_b64_decode(msg, SASL_MSG_MAX, s->buf,
	    s->len);
	if (s->buf != NULL) {
		conf_passwd_wipe(s->buf, s->len);
		free(s->buf);
		s->buf = NULL;
		s->len = 0;
	}
	if (dlen == (size_t)-1) {
		free(msg);
		sasl_fail(c, NULL);
		return;
	}
	msg[dlen] = '\0';
	sasl_message(c, msg, dlen);
	conf_passwd_wipe(msg, dlen);
	free(msg);
}

void
h_authenticate(struct client *c, struct msg *m)
{
	const char *arg = m->param[0];
	struct session_ext *sx;
	int mech;

	/* the services server is another one (services.enabled no) */
	if (irc_hooks.sasl_remote != NULL && irc_hooks.sasl_remote(c, arg))
		return;
	if (strcmp(arg, "*") == 0) {
		irc_numeric(c, ERR_SASLABORTED, ":SASL authentication aborted");
		sasl_end(c);
		return;
	}
	if (irc_sess(c)->x->sasl != NULL) {
		sasl_data(c, arg);
		return;
	}
	if (c->account != NULL) {
		irc_numeric(c, ERR_SASLALREADY,
		    ":You have already authenticated using SASL");
		return;
	}
	/* before registration without the cap a client cannot know that
	 * the exchange holds registration back: refused, it goes on */
	if (!conf->accounts.auth_enabled || (!(c->flags & CF_REG) &&
	    !(irc_sess(c)->caps & CAP_SASL))) {
		irc_numeric(c, ERR_SASLFAIL, ":SASL authentication failed");
		return;
	}
	if (strcasecmp(arg, "PLAIN") == 0)
		mech = MECH_PLAIN;
	else if (strcasecmp(arg, "SCRAM-SHA-256") == 0)
		mech = MECH_SCRAM;
	else if (strcasecmp(arg, "EXTERNAL") == 0)
		mech = MECH_EXTERNAL;
	else {
		irc_numeric(c, RPL_SASLMECHS, "%s :are available SASL "
		    "mechanisms", SASL_MECHS);
		irc_numeric(c, ERR_SASLFAIL, ":SASL authentication failed");
		return;
	}
	if ((sx = irc_sx(irc_sess(c))) == NULL ||
	    (sx->sasl = calloc(1, sizeof(*sx->sasl))) == NULL) {
		irc_numeric(c, ERR_SASLFAIL, ":SASL authentication failed");
		return;
	}
	irc_sess(c)->x->sasl->mech = mech;
	irc_send(c, "AUTHENTICATE +");
}

/*
 * Registration completes (NICK, USER, CAP END) with an exchange still
 * open: it is abandoned with 906 and the client registers without it.
 */
void
irc_sasl_abort(struct client *c)
{
	if (irc_hooks.sasl_remote != NULL)
		(void)irc_hooks.sasl_remote(c, NULL);
	if (irc_sess(c)->x->sasl == NULL)
		return;
	irc_numeric(c, ERR_SASLABORTED, ":SASL authentication aborted");
	sasl_end(c);
}

/* The hook of SASL (irc_state.h): an exchange in progress goes. */
void
irc_sasl_init(void)
{
	IRC_HOOK_ADD(session_free, sasl_session_free);
}
