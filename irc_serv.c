/*
 * irc_serv.c: the services: NickServ (PRIVMSG NickServ, NICKSERV, NS)
 * with Ergo's syntax and wording, so scripts written for Ergo keep
 * working, nick reservation, and ChanServ (PRIVMSG ChanServ). Rows come
 * from store.c; a reply that says "saved" follows a COMMIT.
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
#include "irc_user.h"

#define SERV_ARGS_MAX	4	/* words after a service command */

/* A service's subcommand; its help text is irc_help.c's
 * "SERVICE NAME" entry. */
struct ns_cmd {
	const char	*name;
	void		(*fn)(struct client *, int, char **);
};

static void ns_help(struct client *, int, char **);

static void serv_vreply(struct client *, const char *, const char *,
    va_list) __attribute__((format(printf, 3, 0)));
struct service;
static void serv_reply(struct client *, const struct service *,
    const char *, ...) __attribute__((format(printf, 3, 4)));
static void ns_reply(struct client *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static void cs_reply(struct client *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* A NOTICE from service svc to c. */
static void
serv_vreply(struct client *c, const char *svc, const char *fmt, va_list ap)
{
	char text[IRC_LINE_MAX];

	vsnprintf(text, sizeof(text), fmt, ap);
	irc_send(c, ":%s!%s@localhost NOTICE %s :%s", svc, svc,
	    c->nick[0] ? c->nick : "*", text);
}

/* A service: its nick, the alias users are told of, its commands. */
struct service {
	const char		*nick;
	const char		*alias;
	const struct ns_cmd	*cmds;
	size_t			 ncmds;
};

/* HELP [subcommand]: the texts are irc_help.c's. */
static void
serv_help(struct client *c, const struct service *sv, int argc, char **argv)
{
	if (!irc_help_service(c, sv->nick, argc > 0 ? argv[0] : NULL))
		serv_reply(c, sv, "Unknown command. To see the available "
		    "commands, run: /%s HELP", sv->alias);
}

/* One command line to a service: words separated by spaces. */
static void
serv_command(struct client *c, const struct service *sv, const char *text)
{
	char buf[IRC_LINE_MAX], *argv[SERV_ARGS_MAX + 1], *save = NULL, *w;
	int argc = 0;
	size_t i;

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
	serv_reply(c, sv, "Unknown command. To see the available commands, "
	    "run: /%s HELP", sv->alias);
}

static void
serv_reply(struct client *c, const struct service *sv, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	serv_vreply(c, sv->nick, fmt, ap);
	va_end(ap);
}

static void
ns_reply(struct client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	serv_vreply(c, "NickServ", fmt, ap);
	va_end(ap);
}

static void
cs_reply(struct client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	serv_vreply(c, "ChanServ", fmt, ap);
	va_end(ap);
}

static void
ns_store_failed(struct client *c, const char *what)
{
	ns_reply(c, "%s: the account database failed (%s); nothing was "
	    "saved", what, store_error());
}

static void
cs_store_failed(struct client *c, const char *what)
{
	cs_reply(c, "%s: the database failed (%s); nothing was saved", what,
	    store_error());
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

/* PASSWD <current> <new> */
static void
ns_passwd(struct client *c, int argc, char **argv)
{
	struct store_account a;
	char fz[NICKLEN_MAX + 1];

	if (!ns_my_account(c, &a))
		return;
	if (argc < 2) {
		ns_reply(c, "Syntax: PASSWD <current password> <new password>");
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

static const char *
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

/* INFO [account] */
static void
ns_info(struct client *c, int argc, char **argv)
{
	struct store_account a;
	const char *name = argc > 0 ? argv[0] : c->account;
	char fz[NICKLEN_MAX + 1], when[64];
	struct tm tm;
	int rc;

	if (name == NULL) {
		ns_reply(c, "Syntax: INFO [account]");
		return;
	}
	if (!irc_nick_valid(name)) {
		ns_reply(c, "No such account");
		return;
	}
	irc_fold(fz, name, sizeof(fz));
	if ((rc = store_account_get(fz, &a)) == -1) {
		ns_store_failed(c, "Lookup");
		return;
	}
	if (rc == 0) {
		ns_reply(c, "No such account");
		return;
	}
	gmtime_r(&a.registered, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	ns_reply(c, "Account: %s", a.name);
	ns_reply(c, "Registered at: %s", when);
	/* private details: the owner and opers only */
	if (c->account_id == a.id || (c->umodes & UMODE_OPER)) {
		if (a.email[0] != '\0')
			ns_reply(c, "Email address: %s", a.email);
		ns_reply(c, "Enforcement: %s", enforce_name(a.enforce));
	}
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
	for (u = irc_account_sessions(a->id); u != NULL; u = u->acnext)
		u->account_mc = mc;
	ns_reply(c, "Your setting for multiclient is now %s", names[mc]);
}

static void
ns_set(struct client *c, int argc, char **argv)
{
	struct store_account a;
	int e;

	if (!ns_my_account(c, &a))
		return;
	if (argc >= 2 && strcasecmp(argv[0], "MULTICLIENT") == 0) {
		ns_set_multiclient(c, &a, argv[1]);
		return;
	}
	if (argc < 2 || strcasecmp(argv[0], "ENFORCE") != 0) {
		ns_reply(c, "Syntax: SET ENFORCE <none|timeout|strict|default> "
		    "| SET MULTICLIENT <on|off|default>");
		return;
	}
	for (e = ENFORCE_DEFAULT; e <= ENFORCE_STRICT; e++)
		if (strcasecmp(argv[1], enforce_name(e)) == 0)
			break;
	if (e > ENFORCE_STRICT) {
		ns_reply(c, "Invalid parameters");
		return;
	}
	if (store_account_enforce(a.id, e) == -1) {
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
	{ "SET", ns_set },
};
#define NS_NCMDS	(sizeof(ns_cmds) / sizeof(ns_cmds[0]))

static const struct service nickserv = {
	"NickServ", "NS", ns_cmds, NS_NCMDS
};

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

/* ---- ChanServ ---- */


/* The registered channel argv names, or a reply saying why not. */
static bool
cs_chan(struct client *c, const char *name, struct store_chan *rc_ch)
{
	char fz[CHANLEN_MAX + 1];
	int rc;

	if (!irc_chan_valid(name)) {
		cs_reply(c, "Invalid channel name");
		return false;
	}
	irc_fold(fz, name, sizeof(fz));
	if ((rc = store_chan_get(fz, rc_ch)) == -1) {
		cs_store_failed(c, "Lookup");
		return false;
	}
	if (rc == 0) {
		cs_reply(c, "Channel %s is not registered", name);
		return false;
	}
	return true;
}

static bool
cs_is_founder(struct client *c, const struct store_chan *ch)
{
	if (c->account != NULL && c->account_id == ch->founder)
		return true;
	cs_reply(c, "Only the channel founder can do that");
	return false;
}

/* Sets or clears a member's +o/+v as ChanServ, told to the channel. */
static void
cs_member_mode(struct chan *ch, struct client *t, int mode, bool on)
{
	struct member *m;
	unsigned char bit = irc_memb_letter((char)mode);

	if ((m = irc_member_find(ch, t)) == NULL ||
	    ((m->modes & bit) != 0) == on)
		return;
	if (on)
		m->modes |= bit;
	else
		m->modes &= (unsigned char)~bit;
	irc_chan_send(ch, NULL, ":ChanServ!ChanServ@localhost MODE %s %c%c %s",
	    ch->name, on ? '+' : '-', mode, t->nick);
}

/* REGISTER #chan: a chanop logged in to an account becomes founder. */
static void
cs_register(struct client *c, int argc, char **argv)
{
	struct store_chan sc;
	struct chan *ch;
	struct member *m;
	char fz[CHANLEN_MAX + 1];
	int rc;

	if (argc < 1) {
		cs_reply(c, "Syntax: REGISTER <#channel>");
		return;
	}
	if (c->account == NULL) {
		cs_reply(c, "You must be logged in to register a channel");
		return;
	}
	if ((ch = irc_chan_find(argv[0])) == NULL ||
	    (m = irc_member_find(ch, c)) == NULL ||
	    !irc_chan_is_at_least(ch, c, MEMB_OP)) {
		cs_reply(c, "You must be an operator in %s to register it",
		    argv[0]);
		return;
	}
	/* Ergo's checkChanLimit: opers (its chanreg capability) exempt */
	if (!(c->umodes & UMODE_OPER)) {
		if ((rc = store_chan_count(c->account_id)) == -1) {
			cs_store_failed(c, "Registration");
			return;
		}
		if ((unsigned)rc >= conf->chan_max_reg) {
			cs_reply(c, "You have already registered the maximum "
			    "number of channels; try dropping some with "
			    "/CS UNREGISTER");
			return;
		}
	}
	memset(&sc, 0, sizeof(sc));
	snprintf(sc.name, sizeof(sc.name), "%s", ch->name);
	sc.founder = c->account_id;
	sc.registered = ergo_now;
	irc_fold(fz, ch->name, sizeof(fz));
	if ((rc = store_chan_create(fz, &sc)) == -1) {
		cs_store_failed(c, "Registration");
		return;
	}
	if (rc == 1) {
		cs_reply(c, "Channel %s is already registered", ch->name);
		return;
	}
	ch->reg_id = sc.id;
	ch->founder = c->account_id;
	log_info("accounts", "%s registered channel %s", irc_prefix(c),
	    ch->name);
	cs_reply(c, "Channel %s successfully registered", ch->name);
	cs_member_mode(ch, c, 'q', true);	/* Ergo: founder privs */
	irc_serv_chan_changed(ch);	/* its topic and modes as they are */
}

static void
cs_info(struct client *c, int argc, char **argv)
{
	struct store_chan sc;
	char when[64];
	struct tm tm;

	if (argc < 1) {
		cs_reply(c, "Syntax: INFO <#channel>");
		return;
	}
	if (!cs_chan(c, argv[0], &sc))
		return;
	gmtime_r(&sc.registered, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	cs_reply(c, "Channel: %s", sc.name);
	cs_reply(c, "Founder: %s", sc.founder_name);
	cs_reply(c, "Registered at: %s", when);
}

static void
cs_drop(struct client *c, int argc, char **argv)
{
	struct store_chan sc;
	struct chan *ch;

	if (argc < 1) {
		cs_reply(c, "Syntax: DROP <#channel>");
		return;
	}
	if (!cs_chan(c, argv[0], &sc))
		return;
	if (!(c->umodes & UMODE_OPER) && !cs_is_founder(c, &sc))
		return;
	IRC_HOOK_RUN(dropping, sc.id, 0);	/* as NickServ DROP: ids reused */
	if (store_chan_delete(sc.id) == -1) {
		cs_store_failed(c, "Unregistration");
		return;
	}
	/* its saved history went with the row; the live ring stays */
	if ((ch = irc_chan_find(sc.name)) != NULL) {
		ch->reg_id = 0;
		ch->founder = 0;
	}
	IRC_HOOK_RUN(dropped, sc.id, 0);
	cs_reply(c, "Channel %s is now unregistered", sc.name);
}

/* OP/DEOP/VOICE/DEVOICE #chan [nick]: founder, or one's own AMODE. */
static void
cs_opcmd(struct client *c, int argc, char **argv, int mode, bool on)
{
	struct store_chan sc;
	struct chan *ch;
	struct client *t = c;
	int have;

	if (argc < 1) {
		cs_reply(c, "Syntax: %s <#channel> [nick]", on ?
		    (mode == 'o' ? "OP" : "VOICE") :
		    (mode == 'o' ? "DEOP" : "DEVOICE"));
		return;
	}
	if (!cs_chan(c, argv[0], &sc))
		return;
	if (c->account == NULL) {
		cs_reply(c, "You're not logged into an account");
		return;
	}
	if (c->account_id != sc.founder) {
		/* without founder rights, only one's own AMODE, on oneself */
		have = store_amode_get(sc.id, c->account_id);
		if (have == -1) {
			cs_store_failed(c, "Lookup");
			return;
		}
		if ((argc > 1 && irc_casecmp(argv[1], c->nick) != 0) ||
		    (on && have != mode && !(mode == 'v' && have == 'o'))) {
			cs_reply(c, "Insufficient privileges");
			return;
		}
	}
	if (argc > 1 && (t = irc_client_find(argv[1])) == NULL) {
		cs_reply(c, "No such nick");
		return;
	}
	if ((ch = irc_chan_find(sc.name)) == NULL ||
	    irc_member_find(ch, t) == NULL) {
		cs_reply(c, "%s is not in %s", t->nick, sc.name);
		return;
	}
	cs_member_mode(ch, t, mode, on);
}

static void
cs_op(struct client *c, int argc, char **argv)
{
	cs_opcmd(c, argc, argv, 'o', true);
}

static void
cs_deop(struct client *c, int argc, char **argv)
{
	cs_opcmd(c, argc, argv, 'o', false);
}

static void
cs_voice(struct client *c, int argc, char **argv)
{
	cs_opcmd(c, argc, argv, 'v', true);
}

static void
cs_devoice(struct client *c, int argc, char **argv)
{
	cs_opcmd(c, argc, argv, 'v', false);
}

static void
amode_line(void *arg, const char *name, int mode)
{
	cs_reply(arg, "+%c %s", mode, name);
}

/* AMODE #chan [+o|-o|+v|-v account]: persistent modes for accounts. */
static void
cs_amode(struct client *c, int argc, char **argv)
{
	struct store_chan sc;
	struct store_account a;
	struct chan *ch;
	struct member *m;
	char fz[NICKLEN_MAX + 1];
	const char *op;
	int rc, mode;

	if (argc < 1) {
		cs_reply(c, "Syntax: AMODE <#channel> [+o|-o|+v|-v <account>]");
		return;
	}
	if (!cs_chan(c, argv[0], &sc))
		return;
	if (argc < 3) {
		cs_reply(c, "Persistent modes in %s:", sc.name);
		if ((rc = store_amode_list(sc.id, amode_line, c)) == -1)
			cs_store_failed(c, "Lookup");
		else if (rc == 0)
			cs_reply(c, "(none)");
		return;
	}
	if (!cs_is_founder(c, &sc))
		return;
	op = argv[1];
	if ((op[0] != '+' && op[0] != '-') || (op[1] != 'o' && op[1] != 'v') ||
	    op[2] != '\0') {
		cs_reply(c, "Invalid parameters");
		return;
	}
	mode = op[1];
	if (!irc_nick_valid(argv[2])) {
		cs_reply(c, "No such account");
		return;
	}
	irc_fold(fz, argv[2], sizeof(fz));
	if ((rc = store_account_get(fz, &a)) != 1) {
		if (rc == -1)
			cs_store_failed(c, "Lookup");
		else
			cs_reply(c, "No such account");
		return;
	}
	if (store_amode_set(sc.id, a.id, op[0] == '+' ? mode : 0) == -1) {
		cs_store_failed(c, "Mode change");
		return;
	}
	cs_reply(c, "Successfully set persistent mode %s on %s in %s", op,
	    a.name, sc.name);
	/* members logged in to the account get it now */
	if (op[0] == '+' && (ch = irc_chan_find(sc.name)) != NULL)
		for (m = ch->members; m != NULL; m = m->cnext)
			if (m->c->account_id == a.id)
				cs_member_mode(ch, m->c, mode, true);
}

/* TRANSFER #chan <account> */
static void
cs_transfer(struct client *c, int argc, char **argv)
{
	struct store_chan sc;
	struct store_account a;
	struct chan *ch;
	char fz[NICKLEN_MAX + 1];
	int rc;

	if (argc < 2) {
		cs_reply(c, "Syntax: TRANSFER <#channel> <account>");
		return;
	}
	if (!cs_chan(c, argv[0], &sc) || !cs_is_founder(c, &sc))
		return;
	if (!irc_nick_valid(argv[1])) {
		cs_reply(c, "No such account");
		return;
	}
	irc_fold(fz, argv[1], sizeof(fz));
	if ((rc = store_account_get(fz, &a)) != 1) {
		if (rc == -1)
			cs_store_failed(c, "Lookup");
		else
			cs_reply(c, "No such account");
		return;
	}
	if (store_chan_founder(sc.id, a.id) == -1) {
		cs_store_failed(c, "Transfer");
		return;
	}
	if ((ch = irc_chan_find(sc.name)) != NULL)
		ch->founder = a.id;
	cs_reply(c, "Transferred channel %s to %s", sc.name, a.name);
}

/*
 * c has joined ch: the founder gets +o, an account's AMODE its mode.
 * For irc_chan.c's JOIN, after the JOIN and NAMES lines went out.
 */
void
irc_serv_joined(struct client *c, struct chan *ch)
{
	struct store_chan sc;
	char fz[CHANLEN_MAX + 1];
	int mode;

	if (c->account == NULL)
		return;
	irc_fold(fz, ch->name, sizeof(fz));
	if (store_chan_get(fz, &sc) != 1)
		return;
	if (sc.founder == c->account_id)
		mode = 'q';
	else if ((mode = store_amode_get(sc.id, c->account_id)) <= 0)
		return;
	cs_member_mode(ch, c, mode, true);
}

/* The simple channel modes kept for a registered channel. */
static const struct {
	char		 letter;
	unsigned	 bit;
} cs_modes[] = {
	{ 'C', CMODE_NOCTCP }, { 'M', CMODE_REGSPEAK }, { 'R', CMODE_REGONLY },
	{ 'U', CMODE_OPMOD }, { 'i', CMODE_INVITE }, { 'm', CMODE_MODERATED },
	{ 'n', CMODE_NOEXT }, { 'p', CMODE_PRIVATE }, { 's', CMODE_SECRET },
	{ 't', CMODE_TOPIC }, { 'u', CMODE_AUDITORIUM },
};
#define CS_NMODES	(sizeof(cs_modes) / sizeof(cs_modes[0]))

/* ch's modes, key, limit and topic into sc (its id and names kept). */
static void
cs_state_of(const struct chan *ch, struct store_chan *sc)
{
	size_t i, n = 0;

	for (i = 0; i < CS_NMODES; i++)
		if (ch->modes & cs_modes[i].bit)
			sc->modes[n++] = cs_modes[i].letter;
	sc->modes[n] = '\0';
	snprintf(sc->key, sizeof(sc->key), "%s", ch->key != NULL ?
	    ch->key : "");
	sc->limit = ch->limit;
	snprintf(sc->topic, sizeof(sc->topic), "%s", ch->topic != NULL ?
	    ch->topic : "");
	snprintf(sc->topic_by, sizeof(sc->topic_by), "%s",
	    ch->topic != NULL && ch->topic_by != NULL ? ch->topic_by : "");
	sc->topic_time = ch->topic != NULL ? ch->topic_time : 0;
}

/*
 * ch's topic or modes may have changed (TOPIC, MODE in irc_chan.c): a
 * registered channel's row follows, written only when it differs.
 */
void
irc_serv_chan_changed(struct chan *ch)
{
	struct store_chan sc, now;
	char fz[CHANLEN_MAX + 1];

	irc_fold(fz, ch->name, sizeof(fz));
	if (store_chan_get(fz, &sc) != 1)
		return;		/* not registered; an error is logged */
	now = sc;
	cs_state_of(ch, &now);
	if (strcmp(now.modes, sc.modes) == 0 && strcmp(now.key, sc.key) == 0 &&
	    now.limit == sc.limit && strcmp(now.topic, sc.topic) == 0 &&
	    strcmp(now.topic_by, sc.topic_by) == 0 &&
	    now.topic_time == sc.topic_time)
		return;
	(void)store_chan_state(&now);	/* a failure is logged */
}

/*
 * ch was just created by c's JOIN: a registered channel comes back with
 * its saved modes, key, limit and topic. Returns 0 if ch is not
 * registered, 1 if c is its founder, 2 if c is someone else (who gets no
 * ops for creating it and must pass its +k/+l/+i).
 */
int
irc_serv_chan_restore(struct chan *ch, struct client *c)
{
	struct store_chan sc;
	char fz[CHANLEN_MAX + 1], *k = NULL, *t = NULL, *by = NULL;
	const char *p;
	size_t i;

	irc_fold(fz, ch->name, sizeof(fz));
	if (store_chan_get(fz, &sc) != 1)
		return 0;
	ch->reg_id = sc.id;	/* its history is kept (irc_hist.c) */
	ch->founder = sc.founder;
	if ((sc.key[0] != '\0' && (k = xstrdup(sc.key)) == NULL) ||
	    (sc.topic[0] != '\0' && ((t = xstrdup(sc.topic)) == NULL ||
	    (by = xstrdup(sc.topic_by[0] != '\0' ? sc.topic_by :
	    "ChanServ")) == NULL))) {
		free(k);
		free(t);
		log_warnx("channels", "out of memory restoring %s", ch->name);
		goto done;
	}
	ch->modes = 0;
	for (p = sc.modes; *p != '\0'; p++)
		for (i = 0; i < CS_NMODES; i++)
			if (cs_modes[i].letter == *p)
				ch->modes |= cs_modes[i].bit;
	free(ch->key);
	ch->key = k;
	ch->limit = sc.limit;
	free(ch->topic);
	free(ch->topic_by);
	ch->topic = t;
	ch->topic_by = by;
	ch->topic_time = t != NULL ? sc.topic_time : 0;
done:
	return c->account != NULL && c->account_id == sc.founder ? 1 : 2;
}

static void cs_help(struct client *, int, char **);

static const struct ns_cmd cs_cmds[] = {
	{ "AMODE", cs_amode },
	{ "DEOP", cs_deop },
	{ "DEVOICE", cs_devoice },
	{ "DROP", cs_drop },
	{ "HELP", cs_help },
	{ "INFO", cs_info },
	{ "OP", cs_op },
	{ "REGISTER", cs_register },
	{ "TRANSFER", cs_transfer },
	{ "UNREGISTER", cs_drop },
	{ "VOICE", cs_voice },
};
#define CS_NCMDS	(sizeof(cs_cmds) / sizeof(cs_cmds[0]))

static const struct service chanserv = {
	"ChanServ", "CS", cs_cmds, CS_NCMDS
};

static void
cs_help(struct client *c, int argc, char **argv)
{
	serv_help(c, &chanserv, argc, argv);
}

static void
cs_command(struct client *c, const char *text)
{
	serv_command(c, &chanserv, text);
}

bool
irc_serv_message(struct client *c, const char *target, const char *text,
    bool notice)
{
	bool ns = strcasecmp(target, "NickServ") == 0;

	if (!ns && strcasecmp(target, "ChanServ") != 0)
		return false;
	if (notice)	/* a NOTICE never draws a reply */
		return true;
	if (ns)
		ns_command(c, text);
	else
		cs_command(c, text);
	return true;
}

/* The parameters of m joined by spaces, as a PRIVMSG's text. */
static void
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

/* CHANSERV / CS */
void
h_chanserv(struct client *c, struct msg *m)
{
	char text[IRC_LINE_MAX];

	serv_words(m, text, sizeof(text));
	cs_command(c, text);
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
	if (!c->nr_listed)
		return;
	if (c->nrprev != NULL)
		c->nrprev->nrnext = c->nrnext;
	else
		nr_head = c->nrnext;
	if (c->nrnext != NULL)
		c->nrnext->nrprev = c->nrprev;
	c->nrnext = c->nrprev = NULL;
	c->nr_listed = false;
}

/* How the owner of c's nick wants it protected from c: ENFORCE_*. */
static int
nick_enforcement(struct client *c)
{
	struct store_account a;
	char fz[NICKLEN_MAX + 1];

	/* nobody may speak as a service */
	if (irc_nick_reserved(c->nick))
		return ENFORCE_STRICT;
	if (!conf->accounts.nr_enabled)
		return ENFORCE_NONE;
	irc_fold(fz, c->nick, sizeof(fz));
	/* a database error is logged; nobody is renamed because of it */
	if (store_nick_owner(fz, &a) != 1 || a.id == c->account_id)
		return ENFORCE_NONE;
	if (conf->accounts.nr_method == NICKRES_STRICT)
		return ENFORCE_STRICT;
	return a.enforce == ENFORCE_DEFAULT ? ENFORCE_NONE : a.enforce;
}

/* nick_changed hook: the new nick may be a reserved one. */
static void
serv_nick_changed(struct client *c, const char *oldprefix)
{
	(void)oldprefix;
	irc_serv_nick_check(c);
}

void
irc_serv_nick_check(struct client *c)
{
	int e;

	irc_serv_forget(c);
	if (!(c->flags & CF_REG) || (c->flags & CF_CLOSING))
		return;
	if ((e = nick_enforcement(c)) == ENFORCE_NONE)
		return;
	/* the warning waits for the tick: registration may not be done */
	c->nr_due_ms = ergo_now_ms + (e == ENFORCE_STRICT ? 0 :
	    conf->accounts.nr_grace * 1000ULL);
	c->nr_told = false;
	c->nrprev = NULL;
	c->nrnext = nr_head;
	if (nr_head != NULL)
		nr_head->nrprev = c;
	nr_head = c;
	c->nr_listed = true;
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
		next = c->nrnext;
		if (!c->nr_told && !(c->flags & CF_CLOSING)) {
			c->nr_told = true;
			if (c->nr_due_ms <= ergo_now_ms)
				ns_reply(c, "This nickname is reserved by another "
				    "account; you are being renamed");
			else
				ns_reply(c, "This nickname is reserved by another "
				    "account; log in to it or change your nick "
				    "within %u seconds, or you will be renamed",
				    conf->accounts.nr_grace);
		}
		if (c->nr_due_ms > ergo_now_ms)
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
	irc_hooks.chan_restore = irc_serv_chan_restore;
	irc_hooks.service_message = irc_serv_message;
	IRC_HOOK_ADD(joined, irc_serv_joined);
	IRC_HOOK_ADD(chan_changed, irc_serv_chan_changed);
	IRC_HOOK_ADD(nick_changed, serv_nick_changed);
	IRC_HOOK_ADD(client_free, irc_serv_forget);
}
