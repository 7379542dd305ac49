/*
 * irc_serv.c: the services: NickServ (PRIVMSG NickServ, NICKSERV, NS)
 * with Ergo's syntax and wording, so scripts written for Ergo keep
 * working, nick reservation, and the plumbing every service shares
 * (irc_serv_int.h; ChanServ is irc_chanserv.c). Rows come from store.c;
 * a reply that says "saved" follows a COMMIT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "irc_help.h"
#include "irc_serv.h"
#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "net.h"
#include "store.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_account.h"
#include "irc_alwayson.h"
#include "irc_mail.h"
#include "irc_user.h"
#include "irc_oper.h"
#include "irc_serv_int.h"
#include "irc_num.h"


static void ns_help(struct client *, int, char **);


/* A NOTICE from service svc to c. */
void
serv_vreply(struct client *c, const char *svc, const char *fmt, va_list ap)
{
	char text[IRC_LINE_MAX];

	vsnprintf(text, sizeof(text), fmt, ap);
	irc_send(c, ":%s!%s@localhost NOTICE %s :%s", svc, svc,
	    c->nick[0] ? c->nick : "*", text);
}


/* HELP [subcommand]: the texts are irc_help.c's. */
void
serv_help(struct client *c, const struct service *sv, int argc, char **argv)
{
	if (!irc_help_service(c, sv->nick, argc > 0 ? argv[0] : NULL))
		serv_reply(c, sv, "Unknown command. To see the available "
		    "commands, run: /%s HELP", sv->alias);
}

/* One command line to a service: words separated by spaces. */
void
serv_command(struct client *c, const struct service *sv, const char *text)
{
	char buf[IRC_LINE_MAX], *argv[SERV_ARGS_MAX + 1], *save = NULL, *w;
	int argc = 0;
	size_t i;

	/* services run on another server: NS, CS... are messages to it */
	if (!conf->services.enabled) {
		if (irc_hooks.service_remote == NULL ||
		    !irc_hooks.service_remote(c, sv->nick, text))
			irc_numeric(c, ERR_NOSUCHNICK, "%s :No such nick/channel",
			    sv->nick);
		return;
	}
	snprintf(buf, sizeof(buf), "%s", text);
	for (w = strtok_r(buf, " ", &save); w != NULL &&
	    argc <= SERV_ARGS_MAX; w = strtok_r(NULL, " ", &save))
		argv[argc++] = w;
	if (argc == 0) {
		serv_help(c, sv, 0, NULL);
		return;
	}
	for (i = 0; i < sv->ncmds; i++)
		if (strcasecmp(argv[0], sv->cmds[i].name) == 0) {
			sv->cmds[i].fn(c, argc - 1, argv + 1);
			return;
		}
	for (i = 0; i < sv->nxcmds; i++)
		if (strcasecmp(argv[0], sv->xcmds[i].name) == 0) {
			sv->xcmds[i].fn(c, argc - 1, argv + 1);
			return;
		}
	serv_reply(c, sv, "Unknown command. To see the available commands, "
	    "run: /%s HELP", sv->alias);
}

void
serv_reply(struct client *c, const struct service *sv, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	serv_vreply(c, sv->nick, fmt, ap);
	va_end(ap);
}

void
ns_reply(struct client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	serv_vreply(c, "NickServ", fmt, ap);
	va_end(ap);
}

void
ns_store_failed(struct client *c, const char *what)
{
	ns_reply(c, "%s: the account database failed (%s); nothing was "
	    "saved", what, store_error());
}

int
ns_account_named(struct client *c, const char *name, struct store_account *a,
    const char *none)
{
	char fz[NICKLEN_MAX + 1];
	int rc;

	if (!irc_nick_valid(name)) {
		ns_reply(c, "%s", none);
		return 0;
	}
	irc_fold(fz, name, sizeof(fz));
	if ((rc = store_account_get(fz, a)) == -1)
		ns_store_failed(c, "Lookup");
	else if (rc == 0)
		ns_reply(c, "%s", none);
	return rc;
}

static bool
ns_logged_in(struct client *c)
{
	if (c->account != NULL)
		return true;
	ns_reply(c, "You're not logged into an account");
	return false;
}

/* The current account's row, fresh from the database. */
static bool
ns_my_account(struct client *c, struct store_account *a)
{
	char fz[NICKLEN_MAX + 1];
	int rc;

	if (!ns_logged_in(c))
		return false;
	irc_fold(fz, c->account, sizeof(fz));
	if ((rc = store_account_get(fz, a)) == 1)
		return true;
	if (rc == 0) {
		ns_reply(c, "Your account no longer exists");
		irc_account_logout(c);
	} else
		ns_store_failed(c, "Lookup");
	return false;
}

/* The rules of every new password (irc_register.c), for account name. */
static bool
ns_password_valid(struct client *c, const char *name, const char *pw)
{
	const char *why;
	bool weak;

	if ((why = irc_account_password_bad(name, pw, &weak)) != NULL) {
		ns_reply(c, "Invalid password: %s", why);
		return false;
	}
	return true;
}

/* REGISTER <password> [email]: the current nick becomes an account. */
static void
ns_register(struct client *c, int argc, char **argv)
{
	struct store_account a;

	if (!conf->accounts.registration) {
		ns_reply(c, "Account registration is disabled");
		return;
	}
	if (c->account != NULL) {
		ns_reply(c, "You're already logged into an account");
		return;
	}
	if (argc < 1) {
		ns_reply(c, "Syntax: REGISTER <password> [email]");
		return;
	}
	if (!irc_account_name_ok(c->nick)) {
		ns_reply(c, "%s cannot be registered: choose another nick",
		    c->nick);
		return;
	}
	if (!ns_password_valid(c, c->nick, argv[0]))
		return;
	if (argc > 1 && (strchr(argv[1], '@') == NULL ||
	    strlen(argv[1]) > STORE_EMAIL_MAX)) {
		ns_reply(c, "Invalid e-mail address");
		return;
	}
	if (irc_mail_verifying()) {	/* the account waits for VERIFY */
		irc_mail_register(c, false, c->nick, argc > 1 ? argv[1] : "",
		    argv[0]);
		return;
	}
	switch (irc_account_register(c, c->nick, argc > 1 ? argv[1] : "",
	    argv[0], &a)) {
	case REG_OK:
		ns_reply(c, "Account created");
		irc_account_login(c, &a);
		ns_reply(c, "You're now logged in as %s", a.name);
		break;
	case REG_EXISTS:
		ns_reply(c, "Account already exists");
		break;
	case REG_THROTTLED:
		ns_reply(c, "Too many accounts were registered from your "
		    "address; try again later");
		break;
	case REG_DEFCON:
		ns_reply(c, "Account registration is temporarily disabled");
		break;
	default:
		ns_store_failed(c, "Registration");
		break;
	}
}

/* IDENTIFY [account] <password>; with neither, the TLS certificate. */
static void
ns_identify(struct client *c, int argc, char **argv)
{
	struct store_account a;
	const char *name = c->nick, *pw = NULL, *fp;
	char fz[NICKLEN_MAX + 1];
	int rc;

	if (c->account != NULL) {
		ns_reply(c, "You're already logged into an account");
		return;
	}
	if (!conf->accounts.auth_enabled) {
		ns_reply(c, "Account login is disabled");
		return;
	}
	if (argc >= 2) {
		name = argv[0];
		pw = argv[1];
	} else if (argc == 1)
		pw = argv[0];
	if (!irc_nick_valid(name)) {
		ns_reply(c, "Could not login with your TLS certificate or "
		    "supplied username/password");
		return;
	}
	irc_fold(fz, name, sizeof(fz));
	if (irc_auth_throttled(c, pw != NULL ? fz : NULL)) {
		ns_reply(c, "Too many failed login attempts; try again later");
		return;
	}
	if (pw == NULL) {
		fp = irc_client_certfp(c);
		rc = fp != NULL ? store_account_by_certfp(fp, &a) : 0;
	} else {
		rc = store_account_get(fz, &a);
		if (rc == 0) {
			/* the same PBKDF2 time as a real account's check */
			memset(&a, 0, sizeof(a));
			a.saltlen = ACCOUNT_SALTLEN;
			a.iterations = conf->accounts.iterations;
			(void)irc_account_password_ok(&a, pw);
		}
		if (rc == 1 && !irc_account_password_ok(&a, pw))
			rc = 0;
	}
	if (rc == -1) {
		ns_store_failed(c, "Login");
		return;
	}
	if (rc == 0) {
		irc_auth_failed(c, pw != NULL ? fz : NULL);
		ns_reply(c, "Could not login with your TLS certificate or "
		    "supplied username/password");
		return;
	}
	if (irc_account_suspended(&a)) {
		log_info("accounts", "%s: login to suspended account %s "
		    "refused", c->host, a.name);
		ns_reply(c, "Authentication failed: Account has been "
		    "suspended");
		return;
	}
	if (pw != NULL)
		irc_account_rehash(c, &a, pw);
	irc_account_login(c, &a);
	ns_reply(c, "You're now logged in as %s", a.name);
}

/* DROP <password>: deletes the account one is logged in to. */
static void
ns_drop(struct client *c, int argc, char **argv)
{
	struct store_account a;
	struct client *s;
	char fz[NICKLEN_MAX + 1];

	if (!ns_my_account(c, &a))
		return;
	irc_fold(fz, a.name, sizeof(fz));
	if (argc < 1) {
		ns_reply(c, "Syntax: DROP <password>");
		return;
	}
	if (irc_auth_throttled(c, fz)) {
		ns_reply(c, "Too many failed login attempts; try again later");
		return;
	}
	if (!irc_account_password_ok(&a, argv[0])) {
		irc_auth_failed(c, fz);
		ns_reply(c, "Password incorrect");
		return;
	}
	/* queued rows first, so the delete takes them with it: the id may
	 * be the next account's, which must not inherit them */
	IRC_HOOK_RUN(dropping, 0, a.id);
	if (store_account_delete(a.id) == -1) {
		ns_store_failed(c, "Unregistration");
		return;
	}
	IRC_HOOK_RUN(dropped, 0, a.id);	/* its rows went with it */
	log_info("accounts", "%s dropped account %s", irc_prefix(c), a.name);
	ns_reply(c, "Successfully unregistered account %s", a.name);
	/* every session: a later account may be given the same id */
	while ((s = irc_account_sessions(a.id)) != NULL)
		irc_account_logout(s);
}

/* PASSWD <current> <new> [new again]; PASSWD <account> <new> (oper) */
static void
ns_passwd(struct client *c, int argc, char **argv)
{
	struct store_account a;
	char fz[NICKLEN_MAX + 1];

	/* Ergo's: two words from an oper with accreg name an account (and
	 * from anyone not logged in, who may not) */
	if (argc == 2 && (irc_oper_can(c, "accreg") || c->account == NULL)) {
		if (irc_oper_can(c, "accreg"))
			ns_sapasswd(c, argv[0], argv[1]);
		else
			ns_reply(c, "Insufficient privileges");
		return;
	}
	if (!ns_my_account(c, &a))
		return;
	if (argc < 2) {
		ns_reply(c, "Syntax: PASSWD <current password> <new password> "
		    "[new password again]");
		return;
	}
	if (argc > 2 && strcmp(argv[1], argv[2]) != 0) {
		ns_reply(c, "Passwords do not match");
		return;
	}
	irc_fold(fz, a.name, sizeof(fz));
	if (irc_auth_throttled(c, fz)) {
		ns_reply(c, "Too many failed login attempts; try again later");
		return;
	}
	if (!irc_account_password_ok(&a, argv[0])) {
		irc_auth_failed(c, fz);
		ns_reply(c, "Password incorrect");
		return;
	}
	if (!ns_password_valid(c, a.name, argv[1]))
		return;
	irc_account_creds(&a, argv[1]);
	if (store_account_passwd(&a) == -1) {
		ns_store_failed(c, "Password change");
		return;
	}
	ns_reply(c, "Password changed");
}

/*
 * The code a destructive command must be given back, as Ergo's
 * utils.ConfirmationCode: the same for the same name and time, so a
 * second command can carry it, and hard to type by accident.
 */
uint32_t
serv_confirm_code(const char *name, time_t t)
{
	char fz[CHANLEN_MAX + 1];
	uint32_t h = 2166136261U;
	const char *p;
	int i;

	irc_fold(fz, name, sizeof(fz));
	for (p = fz; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 16777619U;
	for (i = 0; i < 8; i++)
		h = (h ^ (unsigned char)((uint64_t)t >> (i * 8))) * 16777619U;
	return h;
}

const char *
enforce_name(int e)
{
	switch (e) {
	case ENFORCE_NONE:	return "none";
	case ENFORCE_TIMEOUT:	return "timeout";
	case ENFORCE_STRICT:	return "strict";
	default:		return "default";
	}
}

/*
 * CLIENTS LIST: the sessions (connections) of one's user, as Ergo words
 * it; CLIENTS LOGOUT <n|all>: ends one of them, or all (the last one
 * ends the user).
 */
static void
ns_clients(struct client *c, int argc, char **argv)
{
	struct session *s, *next;
	char when[64];
	struct tm tm;
	unsigned n = 0, want = 0;
	bool all;

	if (!ns_logged_in(c))
		return;
	if (argc == 0 || strcasecmp(argv[0], "LIST") == 0) {
		ns_reply(c, "Nickname %s has %u attached clients(s)", c->nick,
		    irc_user_sessions(c));
		for (s = c->sess; s != NULL; s = s->next) {
			ns_reply(c, "Client %u:%s", ++n,
			    s == irc_sess(c) ? " (this one)" : "");
			ns_reply(c, "IP address:  %s", s->conn != NULL ?
			    net_conn_ip(s->conn) : "-");
			gmtime_r(&s->signon, &tm);
			strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
			ns_reply(c, "Created at:  %s", when);
		}
		return;
	}
	all = argc > 1 && strcasecmp(argv[1], "all") == 0;
	if (strcasecmp(argv[0], "LOGOUT") != 0 || argc < 2 ||
	    (!all && (want = (unsigned)strtoul(argv[1], NULL, 10)) == 0)) {
		ns_reply(c, "Syntax: CLIENTS <LIST | LOGOUT <number | all>>");
		return;
	}
	for (s = c->sess; s != NULL; s = next) {
		next = s->next;
		if (all || ++n == want) {
			ns_reply(c, "Logged out client %u", all ? ++n : n);
			irc_session_kill(s, "Logged out by NickServ",
			    "Logged out by NickServ");
		}
	}
	if (!all && n < want)
		ns_reply(c, "No such client");
}

static void
info_certfp(void *arg, const char *fp)
{
	ns_reply(arg, "Certificate fingerprint: %s", fp);
}

/* INFO [account] */
static void
ns_info(struct client *c, int argc, char **argv)
{
	struct store_account a;
	const char *name = argc > 0 ? argv[0] : c->account;
	char when[64];
	struct tm tm;

	if (name == NULL) {
		ns_reply(c, "Syntax: INFO [account]");
		return;
	}
	if (ns_account_named(c, name, &a, "No such account") != 1)
		return;
	gmtime_r(&a.registered, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	ns_reply(c, "Account: %s", a.name);
	ns_reply(c, "Registered at: %s", when);
	/* private details: the owner and opers with accreg only */
	if (c->account_id == a.id || irc_oper_can(c, "accreg")) {
		if (a.email[0] != '\0')
			ns_reply(c, "Email address: %s", a.email);
		ns_reply(c, "Enforcement: %s", enforce_name(a.enforce));
		if (store_certfp_list(a.id, info_certfp, c) == -1)
			ns_store_failed(c, "Lookup");
	}
	ns_info_suspension(c, &a);
}

/*
 * PASSWD <account> <new> from an oper with accreg (Ergo's oper form):
 * the account's new password; its sessions stay logged in.
 */
void
ns_sapasswd(struct client *c, const char *name, const char *pw)
{
	struct store_account a;
	const char *why;
	bool weak;

	if (ns_account_named(c, name, &a, "Account does not exist") != 1)
		return;
	if ((why = irc_account_password_bad(a.name, pw, &weak)) != NULL) {
		ns_reply(c, "Invalid password: %s", why);
		return;
	}
	irc_account_creds(&a, pw);
	a.legacy[0] = '\0';
	if (store_account_passwd(&a) == -1) {
		ns_store_failed(c, "Password change");
		return;
	}
	log_info("opers", "Operator %s ran NS PASSWD for account %s",
	    irc_oper_name_or(c, c->nick), a.name);
	irc_sno('o', "Operator %s ran NS PASSWD for account %s",
	    irc_oper_name_or(c, c->nick), a.name);
	ns_reply(c, "Password changed");
}

/* INFO's line for a suspended account (everyone sees it, as Ergo). */
void
ns_info_suspension(struct client *c, const struct store_account *a)
{
	struct store_ban b;
	char fz[NICKLEN_MAX + 1], text[IRC_LINE_MAX];

	if (!irc_account_suspended(a))
		return;
	irc_fold(fz, a->name, sizeof(fz));
	if (store_ban_get('a', fz, ergo_now, &b) != 1)
		return;
	irc_account_suspension_text(text, sizeof(text), a->name, &b);
	ns_reply(c, "%s", text);
}

/* GHOST <nick>: disconnects a session using one's own reserved nick. */
static void
ns_ghost(struct client *c, int argc, char **argv)
{
	struct store_account a;
	struct client *t;
	char fz[NICKLEN_MAX + 1], reason[NICKLEN_MAX + 32];
	int rc;

	if (!ns_logged_in(c))
		return;
	if (argc < 1) {
		ns_reply(c, "Syntax: GHOST <nickname>");
		return;
	}
	if ((t = irc_client_find(argv[0])) == NULL || !(t->flags & CF_REG)) {
		ns_reply(c, "No such nick");
		return;
	}
	if (t == c) {
		ns_reply(c, "You can't GHOST yourself (try /QUIT instead)");
		return;
	}
	irc_fold(fz, t->nick, sizeof(fz));
	if ((rc = store_nick_owner(fz, &a)) == -1) {
		ns_store_failed(c, "Lookup");
		return;
	}
	if (t->account_id != c->account_id &&
	    (rc == 0 || a.id != c->account_id)) {
		ns_reply(c, "You don't own that nick");
		return;
	}
	snprintf(reason, sizeof(reason), "GHOSTed by %s", c->nick);
	ns_reply(c, "Ghosted %s", t->nick);
	irc_user_kill(t, reason, reason);
}

/* 64 hex digits, colons dropped, lowercased; false if not a SHA-256. */
static bool
certfp_norm(char *dst, const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (*s == ':')
			continue;
		if (n == STORE_CERTFP_LEN || !((*s >= '0' && *s <= '9') ||
		    (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')))
			return false;
		dst[n++] = (char)(*s >= 'A' && *s <= 'F' ? *s + 32 : *s);
	}
	dst[n] = '\0';
	return n == STORE_CERTFP_LEN;
}

static void
certfp_line(void *arg, const char *fp)
{
	ns_reply(arg, "%s", fp);
}

/* CERT ADD [fp] | CERT DEL <fp> | CERT LIST */
static void
ns_cert(struct client *c, int argc, char **argv)
{
	struct store_account a;
	char fp[STORE_CERTFP_LEN + 1];
	const char *src;
	int rc;

	if (!ns_my_account(c, &a))
		return;
	if (argc < 1) {
		ns_reply(c, "Syntax: CERT <LIST | ADD [fingerprint] | "
		    "DEL <fingerprint>>");
		return;
	}
	if (strcasecmp(argv[0], "LIST") == 0) {
		ns_reply(c, "Certificate fingerprints for %s:", a.name);
		if ((rc = store_certfp_list(a.id, certfp_line, c)) == -1)
			ns_store_failed(c, "Lookup");
		else if (rc == 0)
			ns_reply(c, "There are no certificate fingerprints for "
			    "this account");
		return;
	}
	if (strcasecmp(argv[0], "ADD") != 0 && strcasecmp(argv[0], "DEL") != 0) {
		ns_reply(c, "Invalid parameters");
		return;
	}
	src = argc > 1 ? argv[1] : (strcasecmp(argv[0], "ADD") == 0 ?
	    irc_client_certfp(c) : NULL);
	if (src == NULL || !certfp_norm(fp, src)) {
		ns_reply(c, "Invalid certificate fingerprint");
		return;
	}
	if (strcasecmp(argv[0], "ADD") == 0) {
		if ((rc = store_certfp_add(a.id, fp)) == -1)
			ns_store_failed(c, "Certificate change");
		else if (rc == 1)
			ns_reply(c, "That certificate fingerprint is already "
			    "associated with an account");
		else
			ns_reply(c, "Certificate fingerprint successfully "
			    "added");
		return;
	}
	if ((rc = store_certfp_del(a.id, fp)) == -1)
		ns_store_failed(c, "Certificate change");
	else if (rc == 1)
		ns_reply(c, "That certificate fingerprint was not associated "
		    "with your account");
	else
		ns_reply(c, "Certificate fingerprint successfully removed");
}

/* SET ENFORCE <none|timeout|strict|default> */
/*
 * SET MULTICLIENT on|off|default: whether more clients may attach to
 * the account's user (default: accounts.multiclient.allowed-by-default).
 * Sessions already attached stay.
 */
static void
ns_set_multiclient(struct client *c, const struct store_account *a,
    const char *v)
{
	static const char *const names[] = { "default", "on", "off" };
	struct client *u;
	int mc;

	for (mc = MC_DEFAULT; mc <= MC_OFF; mc++)
		if (strcasecmp(v, names[mc]) == 0)
			break;
	if (mc > MC_OFF) {
		ns_reply(c, "Invalid parameters");
		return;
	}
	if (store_account_multiclient(a->id, mc) == -1) {
		ns_store_failed(c, "Setting change");
		return;
	}
	for (u = irc_account_sessions(a->id); u != NULL; u = u->ext->acnext)
		u->ext->acset.multiclient = mc;
	ns_reply(c, "Your setting for multiclient is now %s", names[mc]);
}

/*
 * SET ALWAYS-ON / AUTO-AWAY on|off|default: kept per account, applied
 * to its users after the command (irc_alwayson.c writes or forgets the
 * always-on user before this reply leaves). Refused when the config
 * leaves the account no choice (disabled, mandatory) or, for always-on,
 * when max-always-on is reached.
 */
static void
ns_set_persist(struct client *c, const struct store_account *a,
    const char *key, const char *v)
{
	static const char *const names[] = { "default", "on", "off" };
	bool ao = strcasecmp(key, "ALWAYS-ON") == 0;
	int policy = ao ? conf->accounts.always_on : conf->accounts.auto_away;
	struct client *u;
	int set;

	for (set = SET_DEFAULT; set <= SET_OFF; set++)
		if (strcasecmp(v, names[set]) == 0)
			break;
	if (set > SET_OFF) {
		ns_reply(c, "Invalid parameters");
		return;
	}
	if (policy == PERSIST_DISABLED || policy == PERSIST_MANDATORY ||
	    (ao && !conf->accounts.mc_enabled)) {
		ns_reply(c, "The server administrator has %s this setting",
		    policy == PERSIST_MANDATORY ? "made mandatory" :
		    "disabled");
		return;
	}
	if (ao && irc_account_always_on(set) && !irc_alwayson_room(c)) {
		ns_reply(c, "This server has as many always-on users as it "
		    "allows (max-always-on %u)", conf->accounts.max_always_on);
		return;
	}
	if ((ao ? store_account_always_on(a->id, set) :
	    store_account_auto_away(a->id, set)) == -1) {
		ns_store_failed(c, "Setting change");
		return;
	}
	for (u = irc_account_sessions(a->id); u != NULL; u = u->ext->acnext) {
		if (ao)
			u->ext->acset.always_on = set;
		else
			u->ext->acset.auto_away = set;
		irc_user_changed(u);
	}
	ns_reply(c, "Your setting for %s is now %s", ao ? "always-on" :
	    "auto-away", names[set]);
}

/*
 * SET AUTOREPLAY-MISSED on|off, AUTOREPLAY-LINES <n|default>, REPLAY-JOINS
 * commands-only|always|never: what a client attaching to an always-on
 * user is sent of what it missed (irc_hist_missed), and how many lines
 * of a channel a JOIN replays (history.autoreplay-on-join otherwise).
 */
static void
ns_set_replay(struct client *c, const struct store_account *a,
    const char *key, const char *v)
{
	static const char *const onoff[] = { "off", "on", "off" };
	static const char *const rj[] = { "commands-only", "always", "never" };
	char shown[24];
	struct client *u;
	char *end;
	long n = -1;
	int which = strcasecmp(key, "AUTOREPLAY-MISSED") == 0 ? 0 :
	    strcasecmp(key, "AUTOREPLAY-LINES") == 0 ? 1 : 2, val, rc;

	if (which == 0 && (strcasecmp(v, "on") == 0 ||
	    strcasecmp(v, "off") == 0))
		val = strcasecmp(v, "on") == 0 ? SET_ON : SET_OFF;
	else if (which == 1 && strcasecmp(v, "default") == 0)
		val = -1;
	else if (which == 1 && (n = strtol(v, &end, 10)) >= 0 &&
	    *end == '\0' && end != v &&
	    n <= (long)conf->history.maxmessages)
		val = (int)n;
	else if (which == 2) {
		for (val = RJ_COMMANDS_ONLY; val <= RJ_NEVER; val++)
			if (strcasecmp(v, rj[val]) == 0)
				break;
		if (val > RJ_NEVER) {
			ns_reply(c, "Invalid parameters");
			return;
		}
	} else {
		ns_reply(c, "Invalid parameters");
		return;
	}
	rc = which == 0 ? store_account_autoreplay_missed(a->id, val) :
	    which == 1 ? store_account_autoreplay_lines(a->id, val) :
	    store_account_replay_joins(a->id, val);
	if (rc == -1) {
		ns_store_failed(c, "Setting change");
		return;
	}
	for (u = irc_account_sessions(a->id); u != NULL; u = u->ext->acnext)
		*(which == 0 ? &u->ext->acset.autoreplay_missed :
		    which == 1 ? &u->ext->acset.autoreplay_lines :
		    &u->ext->acset.replay_joins) = val;
	if (which == 1 && val >= 0)
		snprintf(shown, sizeof(shown), "%d", val);
	else
		snprintf(shown, sizeof(shown), "%s", which == 0 ? onoff[val] :
		    which == 1 ? "default" : rj[val]);
	ns_reply(c, "Your setting for %s is now %s", which == 0 ?
	    "autoreplay-missed" : which == 1 ? "autoreplay-lines" :
	    "replay-joins", shown);
}

/*
 * SET DM-HISTORY off|ephemeral|on|default (Ergo's): where the account's
 * direct messages are kept: nowhere, in memory only, or also in the
 * database (history.persistent); default: the latter if the server
 * persists history, else memory (irc_hist.c reads its ext->acset).
 */
static void
ns_set_dmh(struct client *c, const struct store_account *a, const char *v)
{
	struct client *u;
	int d;

	for (d = DMH_DEFAULT; d <= DMH_ON; d++)
		if (strcasecmp(v, ns_dmh_name(d)) == 0)
			break;
	if (d > DMH_ON) {
		ns_reply(c, "Invalid parameters");
		return;
	}
	if (store_account_dm_history(a->id, d) == -1) {
		ns_store_failed(c, "Setting change");
		return;
	}
	for (u = irc_account_sessions(a->id); u != NULL; u = u->ext->acnext)
		u->ext->acset.dm_history = d;
	ns_reply(c, "Your setting for dm-history is now %s", ns_dmh_name(d));
}

const char *
ns_dmh_name(int d)
{
	static const char *const names[] = { "default", "off", "ephemeral",
	    "on" };

	return d >= DMH_DEFAULT && d <= DMH_ON ? names[d] : "default";
}

static void
ns_set(struct client *c, int argc, char **argv)
{
	struct store_account a;

	if (!ns_my_account(c, &a))
		return;
	if (argc >= 1 && (strcasecmp(argv[0], "PASSWORD") == 0 ||
	    strcasecmp(argv[0], "PASS") == 0)) {
		ns_reply(c, "To change a password, use the PASSWD command. For "
		    "details, /msg NickServ HELP PASSWD");
		return;
	}
	ns_set_account(c, &a, argc, argv);
}

/* SET and SASET: setting argv[0] of account a to argv[1]. */
void
ns_set_account(struct client *c, const struct store_account *a, int argc,
    char **argv)
{
	int e;

	if (argc >= 2 && strcasecmp(argv[0], "MULTICLIENT") == 0) {
		ns_set_multiclient(c, a, argv[1]);
		return;
	}
	if (argc >= 2 && (strcasecmp(argv[0], "ALWAYS-ON") == 0 ||
	    strcasecmp(argv[0], "AUTO-AWAY") == 0)) {
		ns_set_persist(c, a, argv[0], argv[1]);
		return;
	}
	if (argc >= 2 && (strcasecmp(argv[0], "AUTOREPLAY-MISSED") == 0 ||
	    strcasecmp(argv[0], "AUTOREPLAY-LINES") == 0 ||
	    strcasecmp(argv[0], "REPLAY-JOINS") == 0)) {
		ns_set_replay(c, a, argv[0], argv[1]);
		return;
	}
	if (argc >= 2 && strcasecmp(argv[0], "DM-HISTORY") == 0) {
		ns_set_dmh(c, a, argv[1]);
		return;
	}
	if (argc < 2 || strcasecmp(argv[0], "ENFORCE") != 0) {
		ns_reply(c, "Syntax: SET ENFORCE <none|timeout|strict|default> "
		    "| SET MULTICLIENT <on|off|default> "
		    "| SET ALWAYS-ON <on|off|default> "
		    "| SET AUTO-AWAY <on|off|default> "
		    "| SET AUTOREPLAY-MISSED <on|off> "
		    "| SET AUTOREPLAY-LINES <n|default> "
		    "| SET REPLAY-JOINS <commands-only|always|never> "
		    "| SET DM-HISTORY <off|ephemeral|on|default>");
		return;
	}
	for (e = ENFORCE_DEFAULT; e <= ENFORCE_STRICT; e++)
		if (strcasecmp(argv[1], enforce_name(e)) == 0)
			break;
	if (e > ENFORCE_STRICT) {
		ns_reply(c, "Invalid parameters");
		return;
	}
	if (store_account_enforce(a->id, e) == -1) {
		ns_store_failed(c, "Setting change");
		return;
	}
	ns_reply(c, "Enforcement method set to %s", enforce_name(e));
}

static const struct ns_cmd ns_cmds[] = {
	{ "CERT", ns_cert },
	{ "CLIENTS", ns_clients },
	{ "DROP", ns_drop },
	{ "GHOST", ns_ghost },
	{ "HELP", ns_help },
	{ "IDENTIFY", ns_identify },
	{ "INFO", ns_info },
	{ "PASSWD", ns_passwd },
	{ "REGISTER", ns_register },
	{ "RESETPASS", irc_mail_ns_resetpass },
	{ "SENDPASS", irc_mail_ns_sendpass },
	{ "SET", ns_set },
	{ "VERIFY", irc_mail_ns_verify },
};
#define NS_NCMDS	(sizeof(ns_cmds) / sizeof(ns_cmds[0]))

static struct service nickserv = {
	"NickServ", "NS", ns_cmds, NS_NCMDS, NULL, 0
};

/* The services PRIVMSG reaches: NickServ and those that registered. */
#define SERV_MAX	8
static struct service	*services[SERV_MAX];
static size_t		 nservices;

void
serv_register(struct service *sv)
{
	if (nservices < SERV_MAX)
		services[nservices++] = sv;
}

void
serv_extend(const char *nick, const struct ns_cmd *cmds, size_t n)
{
	size_t i;

	for (i = 0; i < nservices; i++)
		if (strcmp(services[i]->nick, nick) == 0) {
			services[i]->xcmds = cmds;
			services[i]->nxcmds = n;
		}
}

static void
ns_help(struct client *c, int argc, char **argv)
{
	serv_help(c, &nickserv, argc, argv);
}

static void
ns_command(struct client *c, const char *text)
{
	serv_command(c, &nickserv, text);
}

bool
irc_serv_message(struct client *c, const char *target, const char *text,
    bool notice)
{
	size_t i;

	if (!conf->services.enabled)
		return false;	/* another server's: a message like any */
	for (i = 0; i < nservices; i++)
		if (strcasecmp(target, services[i]->nick) == 0) {
			if (!notice)	/* a NOTICE never draws a reply */
				serv_command(c, services[i], text);
			return true;
		}
	return false;
}

/* The parameters of m joined by spaces, as a PRIVMSG's text. */
void
serv_words(const struct msg *m, char *text, size_t sz)
{
	size_t off = 0;
	int i, n;

	text[0] = '\0';
	for (i = 0; i < m->nparam; i++) {
		n = snprintf(text + off, sz - off, "%s%s",
		    i ? " " : "", m->param[i]);
		if (n < 0 || (size_t)n >= sz - off)
			break;
		off += (size_t)n;
	}
}

/* NICKSERV / NS: the words after the command, as if sent by PRIVMSG. */
void
h_nickserv(struct client *c, struct msg *m)
{
	char text[IRC_LINE_MAX];

	serv_words(m, text, sizeof(text));
	ns_command(c, text);
}

/* ---- nick reservation ---- */

/*
 * Clients using a nick reserved by an account they are not logged in to,
 * waiting for their rename. Only such clients are here, so the tick's
 * walk is short; it is not sorted because strict entries are due at once
 * and timeout ones after the grace period.
 */
static struct client	*nr_head;

void
irc_serv_forget(struct client *c)
{
	struct client_ext *x = c->ext;

	if (!x->nr_listed)
		return;
	if (x->nrprev != NULL)
		x->nrprev->ext->nrnext = x->nrnext;
	else
		nr_head = x->nrnext;
	if (x->nrnext != NULL)
		x->nrnext->ext->nrprev = x->nrprev;
	x->nrnext = x->nrprev = NULL;
	x->nr_listed = x->nr_told = false;
	x->nr_due_ms = 0;
}

/* How the owner of nick wants it protected from c: ENFORCE_*. */
static int
nick_enforcement_of(struct client *c, const char *nick)
{
	struct store_account a;
	char fz[NICKLEN_MAX + 1];

	/* nobody may speak as a service */
	if (irc_nick_reserved(nick))
		return ENFORCE_STRICT;
	if (!conf->accounts.nr_enabled)
		return ENFORCE_NONE;
	irc_fold(fz, nick, sizeof(fz));
	/* a database error is logged; nobody is renamed because of it */
	if (store_nick_owner(fz, &a) != 1 || a.id == c->account_id)
		return ENFORCE_NONE;
	if (conf->accounts.nr_method == NICKRES_STRICT)
		return ENFORCE_STRICT;
	return a.enforce == ENFORCE_DEFAULT ? ENFORCE_NONE : a.enforce;
}

static int
nick_enforcement(struct client *c)
{
	return nick_enforcement_of(c, c->nick);
}

/*
 * Strict enforcement refuses the nick instead of renaming its taker
 * afterwards, as Ergo does: before registration completes (once SASL
 * has said who c is) 433 and FAIL NICK NICKNAME_RESERVED, after it the
 * FAIL alone. True if refused (told).
 */
bool
irc_serv_nick_refused(struct client *c, const char *nick)
{
	if (nick_enforcement_of(c, nick) != ENFORCE_STRICT)
		return false;
	if (!(c->flags & CF_REG))
		irc_numeric(c, ERR_NICKNAMEINUSE, "%s :Nickname is reserved "
		    "by a different account", nick);
	irc_fail(c, "FAIL", "NICK", "NICKNAME_RESERVED", "%s :Nickname is "
	    "reserved by a different account", nick);
	return true;
}

/* nick_changed hook: the new nick may be a reserved one. */
static void
serv_nick_changed(struct client *c, const char *oldprefix)
{
	(void)oldprefix;
	irc_serv_nick_check(c);
}

/* Whether c is a user of another server (TS6 links). */
static bool
serv_remote(const struct client *c)
{
	const char *info;

	return irc_hooks.user_server != NULL &&
	    irc_hooks.user_server(c, &info) != NULL;
}

void
irc_serv_nick_check(struct client *c)
{
	struct client_ext *x;
	int e;

	irc_serv_forget(c);
	if (!(c->flags & CF_REG) || (c->flags & CF_CLOSING))
		return;
	/* another server's users: only the services server enforces, and a
	 * service's own nick (the services server's NickServ) is its own */
	if (serv_remote(c) && (!conf->services.enabled ||
	    irc_nick_reserved(c->nick)))
		return;
	if ((e = nick_enforcement(c)) == ENFORCE_NONE)
		return;
	if ((x = irc_cx(c)) == NULL)
		return;		/* logged: not enforced */
	/* the warning waits for the tick: registration may not be done */
	x->nr_due_ms = ergo_now_ms + (e == ENFORCE_STRICT ? 0 :
	    conf->accounts.nr_grace * 1000ULL);
	x->nr_told = false;
	x->nrprev = NULL;
	x->nrnext = nr_head;
	if (nr_head != NULL)
		nr_head->ext->nrprev = c;
	nr_head = c;
	x->nr_listed = true;
}

/* Renames c to a free GuestNNNNN, as if it had sent NICK. */
static void
nick_rename_guest(struct client *c)
{
	unsigned char r[4];
	char nick[16];
	int i;

	for (i = 0; i < 20; i++) {
		if (ergo_random(r, sizeof(r)) == -1)
			return;
		snprintf(nick, sizeof(nick), "Guest%05lu",
		    ((unsigned long)r[0] << 16 | (unsigned long)r[1] << 8 |
		    r[2]) % 100000);
		if (irc_client_find(nick) == NULL && irc_nick_valid(nick))
			break;
	}
	if (i == 20)
		return;
	if (irc_hooks.rename_remote != NULL && irc_hooks.rename_remote(c,
	    nick)) {
		log_info("accounts", "%s: reserved nick, its server is asked "
		    "to rename it to %s", irc_prefix(c), nick);
		return;
	}
	log_info("accounts", "%s: reserved nick, renamed to %s",
	    irc_prefix(c), nick);
	if (irc_user_rename(c, nick) == -1)
		irc_user_kill(c, "Out of memory", "Out of memory");
}

void
irc_serv_tick(void)
{
	struct client *c, *next;

	for (c = nr_head; c != NULL; c = next) {
		next = c->ext->nrnext;
		if (!c->ext->nr_told && !(c->flags & CF_CLOSING)) {
			c->ext->nr_told = true;
			if (c->ext->nr_due_ms <= ergo_now_ms)
				ns_reply(c, "This nickname is reserved by another "
				    "account; you are being renamed");
			else
				ns_reply(c, "This nickname is reserved by another "
				    "account; log in to it or change your nick "
				    "within %u seconds, or you will be renamed",
				    conf->accounts.nr_grace);
		}
		if (c->ext->nr_due_ms > ergo_now_ms)
			continue;
		irc_serv_forget(c);
		/* logged in meanwhile, or gone: nothing to do */
		if ((c->flags & CF_CLOSING) ||
		    nick_enforcement(c) == ENFORCE_NONE)
			continue;
		nick_rename_guest(c);
		next = nr_head;	/* the rename may have changed the list */
	}
}

/* The hooks of NickServ and ChanServ (irc_state.h). */
/* chan_renamed: a registered channel's row takes the new name. */
static void
serv_chan_renamed(struct chan *ch, const char *old)
{
	char folded[CHANLEN_MAX + 1];

	if (ch->reg_id == 0)
		return;
	irc_fold(folded, ch->name, sizeof(folded));
	if (store_chan_rename(ch->reg_id, folded, ch->name) == -1)
		log_warnx("channels", "%s renamed to %s: the registration "
		    "keeps the old name: %s", old, ch->name, store_error());
}

void
irc_serv_init(void)
{
	IRC_HOOK_ADD(chan_renamed, serv_chan_renamed);
	irc_hooks.service_message = irc_serv_message;
	IRC_HOOK_ADD(nick_changed, serv_nick_changed);
	IRC_HOOK_ADD(client_free, irc_serv_forget);
	IRC_HOOK_ADD(remote_user, irc_serv_nick_check);
	serv_register(&nickserv);
}
