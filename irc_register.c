/*
 * irc_register.c: IRCv3 draft/account-registration: REGISTER, VERIFY,
 * the cap and its value. Creating the account (checks, per-IP throttle,
 * store call) is irc_account.c's, shared with NickServ REGISTER.
 *
 * No mail is ever sent, so no registration needs verifying: REGISTER
 * either succeeds at once (the client is then logged in, as after SASL)
 * or fails, and VERIFY has no code that could be right.
 */
#include <stdio.h>
#include <string.h>

#include "irc_register.h"
#include "ergo.h"
#include "conf.h"
#include "store.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_account.h"


/*
 * REGISTER before CAP END. Not with a server password: an account must
 * not be creatable by a client that never gives it (the spec's advice).
 */
static bool
before_connect(const struct conf *k)
{
	return k->accounts.reg_before_connect && k->password == NULL;
}

/* Whether k offers the cap; its value into buf ("" for none). */
static bool
cap_value(const struct conf *k, char *buf, size_t sz)
{
	bool bc = before_connect(k), cn = !k->accounts.nr_enabled;

	buf[0] = '\0';
	if (!k->accounts.registration)
		return false;
	/* with nick reservation, an account is the nick it reserves */
	snprintf(buf, sz, "%s%s%s", bc ? "before-connect" : "",
	    bc && cn ? "," : "", cn ? "custom-account-name" : "");
	return true;
}

bool
irc_register_cap(const struct conf *k, char *buf, size_t sz,
    const char **value)
{
	/* no accounts here when another server runs the services */
	bool on = cap_value(k, buf, sz) && k->services.enabled;

	*value = buf[0] != '\0' ? buf : NULL;
	return on;
}

/* A client's word fit to echo as a FAIL's context parameter. */
static const char *
param_safe(const char *s)
{
	if (s[0] == '\0' || s[0] == ':' || strlen(s) > NICKLEN_MAX ||
	    strpbrk(s, " \r\n") != NULL)
		return "*";
	return s;
}

/* Loose on purpose (the spec warns against refusing real addresses):
 * something@something, no spaces or control bytes. */
static bool
email_ok(const char *s)
{
	const char *at = strrchr(s, '@');
	const unsigned char *p;

	if (at == NULL || at == s || at[1] == '\0' ||
	    strlen(s) > STORE_EMAIL_MAX)
		return false;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= 0x20 || *p == 0x7f)
			return false;
	return true;
}

/* Before the connection completes, only if before-connect is offered. */
static bool
reg_allowed_now(struct client *c, const char *cmd)
{
	if ((c->flags & CF_REG) || before_connect(conf))
		return true;
	irc_fail(c, "FAIL", cmd, "COMPLETE_CONNECTION_REQUIRED", ":You must "
	    "complete the connection before using %s", cmd);
	return false;
}

/* REGISTER <account|*> <email|*> <password> */
void
h_register(struct client *c, struct msg *m)
{
	const char *want = m->param[0], *email = m->param[1];
	const char *pw = m->param[2], *name, *why;
	struct store_account a;
	struct client *o;
	char fn[NICKLEN_MAX + 1], fw[NICKLEN_MAX + 1];
	bool weak;

	if (!conf->accounts.registration || !conf->services.enabled) {
		irc_fail(c, "FAIL", "REGISTER", "TEMPORARILY_UNAVAILABLE",
		    "%s :Account registration is disabled", param_safe(want));
		return;
	}
	if (!reg_allowed_now(c, "REGISTER"))
		return;
	if (!(c->flags & CF_NICK)) {
		irc_fail(c, "FAIL", "REGISTER", "NEED_NICK", "* :You must "
		    "choose a nickname (NICK) before registering");
		return;
	}
	if (c->account != NULL) {
		irc_fail(c, "FAIL", "REGISTER", "ALREADY_AUTHENTICATED",
		    "%s :You're already logged into an account", c->account);
		return;
	}
	name = strcmp(want, "*") == 0 ? c->nick : want;
	if (!irc_account_name_ok(name)) {
		irc_fail(c, "FAIL", "REGISTER", "BAD_ACCOUNT_NAME", "%s :Account "
		    "names are nicknames (a letter or one of []\\`_^{|} first, "
		    "then also digits and -, at most %u long), but not "
		    "NickServ, ChanServ or GuestNNNNN", param_safe(name),
		    conf->limits.nicklen);
		return;
	}
	if (conf->accounts.nr_enabled) {
		/* the account reserves its name: only one's own nick, so
		 * that nobody registers a nick from under its user */
		irc_fold(fn, c->nick, sizeof(fn));
		irc_fold(fw, name, sizeof(fw));
		if (strcmp(fn, fw) != 0) {
			irc_fail(c, "FAIL", "REGISTER",
			    "ACCOUNT_NAME_MUST_BE_NICK", "%s :You may only "
			    "register your current nickname", name);
			return;
		}
		name = c->nick;
	}
	/* a name another connection holds as its nick (registered or
	 * not) is taken: no registering it from under its user */
	if ((o = irc_client_find(name)) != NULL && o != c) {
		irc_fail(c, "FAIL", "REGISTER", "ACCOUNT_EXISTS", "%s :Account "
		    "already exists", name);
		return;
	}
	if (strcmp(email, "*") == 0)
		email = "";
	else if (!email_ok(email)) {
		irc_fail(c, "FAIL", "REGISTER", "INVALID_EMAIL", "%s :That is "
		    "not an e-mail address", name);
		return;
	}
	if ((why = irc_account_password_bad(name, pw, &weak)) != NULL) {
		irc_fail(c, "FAIL", "REGISTER", weak ? "WEAK_PASSWORD" :
		    "UNACCEPTABLE_PASSWORD", "%s :%s", name, why);
		return;
	}
	/* a K-lined client must not create accounts before it is refused */
	if (!(c->flags & CF_REG) && (c->flags & CF_USER) &&
	    irc_hooks.banned != NULL && irc_hooks.banned(c))
		return;
	switch (irc_account_register(c, name, email, pw, &a)) {
	case REG_OK:
		irc_send(c, ":%s REGISTER SUCCESS %s :Account successfully "
		    "registered", conf->server_name, a.name);
		irc_account_login(c, &a);
		break;
	case REG_EXISTS:
		irc_fail(c, "FAIL", "REGISTER", "ACCOUNT_EXISTS", "%s :Account "
		    "already exists", name);
		break;
	case REG_THROTTLED:
		irc_fail(c, "FAIL", "REGISTER", "TEMPORARILY_UNAVAILABLE",
		    "%s :Too many accounts were registered from your address; "
		    "try again later", name);
		break;
	case REG_DEFCON:
		irc_fail(c, "FAIL", "REGISTER", "TEMPORARILY_UNAVAILABLE",
		    "%s :Account registration is temporarily disabled", name);
		break;
	default:
		irc_fail(c, "FAIL", "REGISTER", "TEMPORARILY_UNAVAILABLE",
		    "%s :The account database failed (%s); nothing was saved",
		    name, store_error());
		break;
	}
}

/* VERIFY <account> <code>: no registration here ever waits for one. */
void
h_verify(struct client *c, struct msg *m)
{
	const char *acct = param_safe(m->param[0]);

	if (!conf->accounts.registration || !conf->services.enabled) {
		irc_fail(c, "FAIL", "VERIFY", "TEMPORARILY_UNAVAILABLE",
		    "%s :Account registration is disabled", acct);
		return;
	}
	if (!reg_allowed_now(c, "VERIFY"))
		return;
	if (c->account != NULL) {
		irc_fail(c, "FAIL", "VERIFY", "ALREADY_AUTHENTICATED",
		    "%s :You're already logged into an account", c->account);
		return;
	}
	irc_fail(c, "FAIL", "VERIFY", "INVALID_CODE", "%s :Invalid "
	    "verification code: accounts here need none, REGISTER completes "
	    "them", acct);
}
