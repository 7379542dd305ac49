/*
 * irc_account.c: accounts as the protocol sees them, shared by SASL,
 * REGISTER and NickServ: SCRAM-SHA-256 credentials, creating an account,
 * the failed-login throttle's keys, logging a client in and out (900,
 * 901, +r, account-notify) and the index of the clients logged in to
 * each account. Rows come from store.c; no SQL here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "irc_account.h"
#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "net.h"
#include "store.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_throttle.h"
#include "irc_num.h"
#include "irc_user.h"
#include "pwhash.h"

/* The clients logged in to one account, linked by acnext/acprev. */
struct acct_sessions {
	struct hent	 h;
	char		 key[24];	/* the account id */
	struct client	*head;
};
static struct htab	 sessions;
static bool		 sessions_init;

static struct acct_sessions *
sessions_get(int64_t id, bool make)
{
	struct acct_sessions *as;
	char key[24];

	if (!sessions_init) {
		htab_init(&sessions);
		sessions_init = true;
	}
	snprintf(key, sizeof(key), "%lld", (long long)id);
	as = (struct acct_sessions *)(void *)htab_get(&sessions, key);
	if (as != NULL || !make)
		return as;
	if ((as = calloc(1, sizeof(*as))) == NULL)
		return NULL;
	memcpy(as->key, key, sizeof(key));
	as->h.key = as->key;
	if (htab_put(&sessions, &as->h) == -1) {
		free(as);
		return NULL;
	}
	return as;
}

/* The first session logged in to account id (then ->acnext), or NULL. */
struct client *
irc_account_sessions(int64_t id)
{
	struct acct_sessions *as;

	if (id == 0 || !sessions_init || (as = sessions_get(id, false)) == NULL)
		return NULL;
	return as->head;
}

static void
sessions_unlink(struct client *c)
{
	struct client_ext *x = c->ext;
	struct acct_sessions *as;

	if (!x->ac_listed)
		return;
	x->ac_listed = false;
	if (x->acnext != NULL)
		x->acnext->ext->acprev = x->acprev;
	if (x->acprev != NULL)
		x->acprev->ext->acnext = x->acnext;
	else if ((as = sessions_get(c->account_id, false)) != NULL &&
	    (as->head = x->acnext) == NULL) {
		htab_del(&sessions, &as->h);
		free(as);
	}
	x->acnext = x->acprev = NULL;
}

/* Out of memory, c is left out of the index (logged): no MARKREAD sync. */
static void
sessions_link(struct client *c)
{
	struct client_ext *x;
	struct acct_sessions *as;

	if ((x = irc_cx(c)) == NULL ||
	    (as = sessions_get(c->account_id, true)) == NULL) {
		log_warnx("accounts", "out of memory: %s not in the session "
		    "index", c->nick);
		return;
	}
	x->acprev = NULL;
	if ((x->acnext = as->head) != NULL)
		as->head->ext->acprev = c;
	as->head = c;
	x->ac_listed = true;
}

/* ---- SCRAM credentials ---- */

/* StoredKey and ServerKey from pw, a->salt and a->iterations. */
void
irc_account_scram_keys(const struct store_account *a, const char *pw,
    unsigned char stored[32], unsigned char server[32])
{
	unsigned char salted[32], ck[32];

	conf_passwd_pbkdf2(pw, strlen(pw), a->salt, a->saltlen,
	    a->iterations, salted, sizeof(salted));
	conf_passwd_hmac(salted, sizeof(salted), "Client Key", 10, ck);
	conf_passwd_sha256(ck, sizeof(ck), stored);
	conf_passwd_hmac(salted, sizeof(salted), "Server Key", 10, server);
	conf_passwd_wipe(salted, sizeof(salted));
	conf_passwd_wipe(ck, sizeof(ck));
}

/*
 * Fresh salt, conf's iterations and the SCRAM keys of pw into a. The
 * password itself is never kept.
 */
void
irc_account_creds(struct store_account *a, const char *pw)
{
	if (ergo_random(a->salt, ACCOUNT_SALTLEN) == -1)
		fatal("random");	/* never predictable salts */
	a->saltlen = ACCOUNT_SALTLEN;
	a->iterations = conf->accounts.iterations;
	irc_account_scram_keys(a, pw, a->stored_key, a->server_key);
}

bool
irc_account_password_ok(const struct store_account *a, const char *pw)
{
	unsigned char stored[32], server[32];
	bool ok;

	/* imported from Ergo, Anope or Atheme: its old hash, until the
	 * first login (irc_account_rehash) replaces it */
	if (a->legacy[0] != '\0')
		return pwhash_legacy_ok(a->legacy, pw);
	if (a->iterations == 0 || a->saltlen == 0)
		return false;
	irc_account_scram_keys(a, pw, stored, server);
	ok = conf_passwd_equal(stored, a->stored_key, sizeof(stored));
	conf_passwd_wipe(stored, sizeof(stored));
	conf_passwd_wipe(server, sizeof(server));
	return ok;
}

/*
 * c logged in with pw to a, whose credentials were made with fewer
 * PBKDF2 iterations than accounts.password-iterations now asks, or
 * which has only an imported hash: make them anew at the configured
 * count (a fresh salt too) and save them, which drops that hash.
 * SCRAM never shows the server the password, so only PLAIN and IDENTIFY
 * get here. A failed save is logged; the login stands.
 */
void
irc_account_rehash(const struct client *c, struct store_account *a,
    const char *pw)
{
	struct store_account n;
	unsigned old = a->iterations;

	if (old >= conf->accounts.iterations && a->legacy[0] == '\0')
		return;
	n = *a;
	irc_account_creds(&n, pw);
	n.legacy[0] = '\0';
	if (store_account_passwd(&n) == -1) {
		log_warnx("accounts", "%s: credentials of %s not re-hashed: %s",
		    c->host, a->name, store_error());
		conf_passwd_wipe(&n, sizeof(n));
		return;
	}
	if (a->legacy[0] != '\0')
		log_info("accounts", "%s: imported password hash of %s replaced "
		    "by SCRAM-SHA-256 credentials", c->host, a->name);
	else
		log_info("accounts", "%s: credentials of %s re-hashed from %u "
		    "to %u PBKDF2 iterations", c->host, a->name, old,
		    n.iterations);
	*a = n;
	conf_passwd_wipe(&n, sizeof(n));
}

/* ---- the failed-login throttle (counted in irc_throttle.c) ---- */

/*
 * Keyed by the real address (grouped by cidr-len), not c->host: that may
 * be a cloak or a vhost, and a CHGHOST must not wipe the count.
 */
static void
auth_ip_key(const struct client *c, char *key, size_t sz)
{
	char k[NET_ADDRKEY_LEN];

	net_ip_key(irc_client_ip(c) != NULL ? irc_client_ip(c) : c->host, k,
	    sizeof(k));
	snprintf(key, sz, "ip:%s", k);
}

/*
 * Whether the address, or the name's own count ("acct:NAME" for logins,
 * "oper:NAME" for OPER, counted whether or not the name exists), is over
 * its failures; and one failure more for both.
 */
/* Logins: accounts { login-throttling }; OPER: AUTH_FAIL_* always. */
static void
auth_limits(const char *kind, unsigned *max, uint64_t *win)
{
	if (strcmp(kind, "acct") == 0) {
		*max = conf->accounts.login_throttle_max;
		*win = (uint64_t)conf->accounts.login_throttle_secs * 1000;
	} else {
		*max = AUTH_FAIL_MAX;
		*win = AUTH_FAIL_WINDOW_MS;
	}
}

static bool
auth_full(const struct client *c, const char *kind, const char *name)
{
	char key[80];
	unsigned max;
	uint64_t win;

	if (strcmp(kind, "acct") == 0 && !conf->accounts.login_throttle)
		return false;
	auth_limits(kind, &max, &win);
	auth_ip_key(c, key, sizeof(key));
	if (irc_throttle_full(THROTTLE_AUTH, key, max, win))
		return true;
	if (name == NULL || *name == '\0')
		return false;
	snprintf(key, sizeof(key), "%s:%.64s", kind, name);
	return irc_throttle_full(THROTTLE_AUTH, key, max, win);
}

static void
auth_count(const struct client *c, const char *kind, const char *name)
{
	char key[80];
	unsigned max;
	uint64_t win;

	if (strcmp(kind, "acct") == 0 && !conf->accounts.login_throttle)
		return;
	auth_limits(kind, &max, &win);
	auth_ip_key(c, key, sizeof(key));
	irc_throttle_count(THROTTLE_AUTH, key, win);
	if (name == NULL || *name == '\0')
		return;
	snprintf(key, sizeof(key), "%s:%.64s", kind, name);
	irc_throttle_count(THROTTLE_AUTH, key, win);
}

bool
irc_auth_throttled(const struct client *c, const char *folded)
{
	return auth_full(c, "acct", folded);
}

void
irc_auth_failed(const struct client *c, const char *folded)
{
	auth_count(c, "acct", folded);
	log_info("accounts", "%s: failed login%s%s", c->host,
	    folded != NULL ? " for " : "", folded != NULL ? folded : "");
}

/*
 * OPER failures count as failed logins of the address (so SASL, NickServ
 * and OPER guesses share its five a minute) and of "oper:NAME", known
 * name or not: a throttle that only counted real names would tell which
 * exist. The caller logs them.
 */
bool
irc_oper_throttled(const struct client *c, const char *name)
{
	return auth_full(c, "oper", name);
}

void
irc_oper_failed(const struct client *c, const char *name)
{
	auth_count(c, "oper", name);
}

/* ---- login state ---- */

/* Logs c in with 900 and account-notify; +r is for the caller to send. */
void
irc_account_login_quiet(struct client *c, const struct store_account *a)
{
	struct client_ext *x;
	char *name;

	if ((x = irc_cx(c)) == NULL || (name = xstrdup(a->name)) == NULL) {
		irc_user_kill(c, "Out of memory", "Out of memory");
		return;
	}
	sessions_unlink(c);
	free(c->account);
	c->account = name;
	c->account_id = a->id;
	x->acset = a->set;	/* NickServ SET changes each copy */
	sessions_link(c);
	irc_user_changed(c);	/* always-on, if its account says so */
	irc_numeric(c, RPL_LOGGEDIN, "%s %s :You are now logged in as %s",
	    irc_prefix(c), a->name, a->name);
	irc_user_account_notify(c);		/* IRCv3 account-notify */
	log_info("accounts", "%s logged in as %s", irc_prefix(c), a->name);
	IRC_HOOK_RUN(logged_in, c);
}

/* After the login's last reply (SASL's 903): user mode +r. */
void
irc_account_login_mode(struct client *c)
{
	if (c->account == NULL || (c->umodes & UMODE_REGISTERED))
		return;
	c->umodes |= UMODE_REGISTERED;
	if (c->flags & CF_REG)
		irc_send(c, ":%s MODE %s :+r", c->nick, c->nick);
}

void
irc_account_login(struct client *c, const struct store_account *a)
{
	irc_account_login_quiet(c, a);
	irc_account_login_mode(c);
}

void
irc_account_logout(struct client *c)
{
	if (c->account == NULL)
		return;
	sessions_unlink(c);
	free(c->account);
	c->account = NULL;
	c->account_id = 0;
	irc_user_changed(c);	/* no longer always-on */
	irc_numeric(c, RPL_LOGGEDOUT, "%s :You are now logged out",
	    irc_prefix(c));
	if (c->umodes & UMODE_REGISTERED) {
		c->umodes &= ~UMODE_REGISTERED;
		if (c->flags & CF_REG)
			irc_send(c, ":%s MODE %s :-r", c->nick, c->nick);
	}
	irc_user_account_notify(c);
	IRC_HOOK_RUN(logged_out, c);		/* HostServ: no vhost */
}

/*
 * A user brought back with no session (irc_alwayson.c): logged in to
 * account id as it was, with its settings, quietly (nobody to tell). 0,
 * or -1 on ENOMEM.
 */
int
irc_account_restore(struct client *c, int64_t id, const char *name,
    const struct store_settings *set)
{
	if (irc_cx(c) == NULL || (c->account = xstrdup(name)) == NULL)
		return -1;
	c->account_id = id;
	c->ext->acset = *set;
	sessions_link(c);
	return 0;
}

/* accounts.multiclient always-on and auto-away for an account's SET_*. */
static bool
persist(int policy, int setting)
{
	switch (policy) {
	case PERSIST_OPT_IN:
		return setting == SET_ON;
	case PERSIST_OPT_OUT:
		return setting != SET_OFF;
	case PERSIST_MANDATORY:
		return true;
	default:
		return false;
	}
}

bool
irc_account_always_on(int setting)
{
	return conf->accounts.mc_enabled &&
	    persist(conf->accounts.always_on, setting);
}

int
irc_account_dm_history(int setting)
{
	if (!conf->history.enabled)
		return DMH_OFF;
	if (setting == DMH_ON && !conf->history.persistent)
		return DMH_EPHEMERAL;
	if (setting != DMH_DEFAULT)
		return setting;
	return conf->history.persistent ? DMH_ON : DMH_EPHEMERAL;
}

bool
irc_account_auto_away(int setting)
{
	return persist(conf->accounts.auto_away, setting);
}

/*
 * Ends every user logged in to account id, always-on ones included,
 * with reason as their QUIT and ERROR (for a suspended or dropped
 * account: oper SUSPEND, SADROP). irc.c reaps them after the command.
 */
void
irc_account_end_users(int64_t id, const char *reason)
{
	struct client *u;

	for (u = irc_account_sessions(id); u != NULL; u = u->ext->acnext)
		if (!(u->flags & CF_CLOSING))
			irc_user_kill(u, reason, reason);
}

/* ---- suspension (NickServ SUSPEND, UBAN of an account) ---- */

bool
irc_account_suspended(const struct store_account *a)
{
	return a->suspend_expires == 0 || a->suspend_expires >= ergo_now;
}

/* Go's time.Duration text, as Ergo shows a suspension's: "1h0m0s". */
static void
go_duration(char *dst, size_t sz, long long s)
{
	if (s >= 3600)
		snprintf(dst, sz, "%lldh%lldm%llds", s / 3600, s / 60 % 60,
		    s % 60);
	else if (s >= 60)
		snprintf(dst, sz, "%lldm%llds", s / 60, s % 60);
	else
		snprintf(dst, sz, "%llds", s);
}

void
irc_account_suspension_text(char *dst, size_t sz, const char *name,
    const struct store_ban *b)
{
	char when[64], dur[48], reason[STORE_BAN_REASON_MAX + 16];
	struct tm tm;

	gmtime_r(&b->set_at, &tm);
	strftime(when, sizeof(when), "%a, %d %b %Y %H:%M:%S UTC", &tm);
	if (b->expires == 0)
		snprintf(dur, sizeof(dur), "indefinite");
	else
		go_duration(dur, sizeof(dur), (long long)(b->expires -
		    b->set_at));
	if (b->reason[0] != '\0')
		snprintf(reason, sizeof(reason), "Reason: %s", b->reason);
	else
		snprintf(reason, sizeof(reason), "No reason given.");
	snprintf(dst, sz, "Account %s suspended at %s. Duration: %s. %s", name,
	    when, dur, reason);
}

int
irc_account_suspend(const struct client *by, const struct store_account *a,
    long long secs, const char *reason)
{
	struct store_ban b;
	char text[IRC_LINE_MAX];

	memset(&b, 0, sizeof(b));
	b.kind = 'a';
	irc_fold(b.mask, a->name, sizeof(b.mask));
	snprintf(b.reason, sizeof(b.reason), "%s", reason);
	irc_utf8_trunc(b.reason, STORE_BAN_REASON_MAX);
	snprintf(b.setter, sizeof(b.setter), "%s",
	    irc_oper_name_or(by, by->nick));
	b.set_at = ergo_now;
	b.expires = secs > 0 ? ergo_now + (time_t)secs : 0;
	if (store_ban_set(&b) == -1)
		return -1;
	log_info("accounts", "%s suspended account %s%s%s", irc_prefix(by),
	    a->name, reason[0] != '\0' ? ": " : "", reason);
	irc_account_suspension_text(text, sizeof(text), a->name, &b);
	irc_account_end_users(a->id, text);
	return 0;
}

int
irc_account_unsuspend(const struct store_account *a)
{
	char fz[NICKLEN_MAX + 1];

	irc_fold(fz, a->name, sizeof(fz));
	return store_ban_del('a', fz);
}

/* client_free hook: c leaves the index; its account name goes. */
static void
account_client_free(struct client *c)
{
	sessions_unlink(c);
	free(c->account);
	c->account = NULL;
}

/* ---- new accounts ---- */

bool
irc_account_name_ok(const char *name)
{
	char fz[NICKLEN_MAX + 1];

	if (!irc_nick_valid(name) || irc_nick_reserved(name))
		return false;
	/* GuestNNNNN is what nick enforcement renames people to: as an
	 * account it would have them renamed again (Ergo forbids it too) */
	irc_fold(fz, name, sizeof(fz));
	return !(strncmp(fz, "guest", 5) == 0 && fz[5] != '\0' &&
	    strspn(fz + 5, "0123456789") == strlen(fz + 5));
}

const char *
irc_account_password_bad(const char *name, const char *pw, bool *weak)
{
	static char why[64];
	const unsigned char *p;

	*weak = false;
	if (pw[0] == '\0' || strcmp(pw, "*") == 0)
		return "A password is required";
	if (strlen(pw) > REG_PASS_MAX)
		return "Passwords may be at most 300 bytes long";
	/* a space could never be typed to NickServ IDENTIFY */
	for (p = (const unsigned char *)pw; *p != '\0'; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return "Passwords may not contain spaces or control "
			    "characters";
	*weak = true;
	if (irc_casecmp(pw, name) == 0)
		return "The password may not be the account name";
	if (strlen(pw) < conf->accounts.reg_min_password) {
		snprintf(why, sizeof(why), "Passwords must be at least %u "
		    "bytes long", conf->accounts.reg_min_password);
		return why;
	}
	*weak = false;
	return NULL;
}

int
irc_account_reg_admit(struct client *c, const char *fz)
{
	const struct conf *k = conf;
	uint64_t window = (uint64_t)k->accounts.reg_throttle_secs * 1000;
	char ak[NET_ADDRKEY_LEN], key[80];
	struct store_account o;
	int rc;

	if (irc.defcon <= 4 && !(c->umodes & UMODE_OPER))
		return REG_DEFCON;
	net_ip_key(irc_client_ip(c) != NULL ? irc_client_ip(c) : c->host, ak,
	    sizeof(ak));
	snprintf(key, sizeof(key), "ip:%s", ak);
	if (k->accounts.reg_throttle && irc_throttle_full(THROTTLE_REG, key,
	    k->accounts.reg_throttle_max, window))
		return REG_THROTTLED;
	if ((rc = store_nick_owner(fz, &o)) != 0)
		return rc == 1 ? REG_EXISTS : REG_FAILED;
	/* an UNREGISTERed name stays reserved until an oper ERASEs it */
	if ((rc = store_unregistered_get(fz)) != 0)
		return rc == 1 ? REG_EXISTS : REG_FAILED;
	/* counted before the PBKDF2 work that a flood would cost us; said
	 * once a window, when the limit is reached, not per refusal */
	if (k->accounts.reg_throttle) {
		irc_throttle_count(THROTTLE_REG, key, window);
		if (irc_throttle_full(THROTTLE_REG, key,
		    k->accounts.reg_throttle_max, window))
			log_warnx("accounts", "%s: registration throttled: %u "
			    "accounts in %us from this address", key + 3,
			    k->accounts.reg_throttle_max,
			    k->accounts.reg_throttle_secs);
	}
	return REG_OK;
}

int
irc_account_register(struct client *c, const char *name, const char *email,
    const char *pw, struct store_account *a)
{
	char fz[NICKLEN_MAX + 1];
	int rc;

	irc_fold(fz, name, sizeof(fz));
	if ((rc = irc_account_reg_admit(c, fz)) != REG_OK)
		return rc;
	memset(a, 0, sizeof(*a));
	a->set.autoreplay_lines = -1;	/* the config's, as the row says */
	snprintf(a->name, sizeof(a->name), "%s", name);
	snprintf(a->email, sizeof(a->email), "%s", email);
	a->registered = ergo_now;
	irc_account_creds(a, pw);
	if ((rc = store_account_create(fz, a)) != 0)
		return rc == 1 ? REG_EXISTS : REG_FAILED;
	/* committed: now it may be said */
	log_info("accounts", "%s registered account %s", irc_prefix(c),
	    a->name);
	return REG_OK;
}

/* The hook of accounts (irc_state.h). */
void
irc_account_init(void)
{
	IRC_HOOK_ADD(client_free, account_client_free);
}
