/*
 * irc_hostserv.c: HostServ (PRIVMSG HostServ, HOSTSERV, HS) with Ergo's
 * syntax and wording: an account's vhost, set by opers and shown in
 * place of its users' host while its owner has it on (accounts.vhosts).
 * Part of the services (irc_serv_int.h); rows come from store.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "store.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_user.h"
#include "irc_account.h"
#include "irc_cloak.h"
#include "irc_oper.h"
#include "irc_serv_int.h"
#include "irc_hostserv.h"

static void hs_reply(struct client *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
hs_reply(struct client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	serv_vreply(c, "HostServ", fmt, ap);
	va_end(ap);
}

/* An oper whose class has Ergo's vhosts capability. */
static bool
hs_oper(struct client *c)
{
	if (irc_oper_can(c, "vhosts"))
		return true;
	hs_reply(c, "Command restricted");
	return false;
}

/* The host c had before any vhost: its cloak, or its address. */
static void
hs_real_host(const struct client *c, char *buf, size_t sz)
{
	const char *ip = irc_client_ip(c);

	if (ip == NULL)
		snprintf(buf, sz, "%s", c->host != NULL ? c->host : "*");
	else if (irc_cloak_on())
		irc_cloak(ip, buf, sz);
	else	/* "::1" would read as a trailing parameter in a prefix */
		snprintf(buf, sz, "%s%s", ip[0] == ':' ? "0" : "", ip);
}

/* c shows vhost, or its own host for NULL (CHGHOST to its peers). */
static void
hs_show(struct client *c, const char *vhost)
{
	char real[IRC_HOST_CLOAK];

	if (vhost == NULL) {
		hs_real_host(c, real, sizeof(real));
		vhost = real;
	}
	if (c->host == NULL || strcmp(c->host, vhost) != 0)
		irc_user_chghost(c, NULL, vhost);
}

/* Each user logged in to account a shows its vhost if on, else not. */
static void
hs_apply(const struct store_account *a)
{
	struct client *u;

	for (u = irc_account_sessions(a->id); u != NULL; u = u->ext->acnext)
		hs_show(u, conf->accounts.vh_enabled && a->vhost_on &&
		    a->vhost[0] != '\0' ? a->vhost : NULL);
}

/* logged_in and logged_out hooks: a login shows the account's vhost, a
 * logout drops it. */
static void
hs_logged_in(struct client *c)
{
	struct store_account a;
	char fz[NICKLEN_MAX + 1];

	if (c->account == NULL) {
		hs_show(c, NULL);
		return;
	}
	if (!conf->accounts.vh_enabled)
		return;
	irc_fold(fz, c->account, sizeof(fz));
	if (store_account_get(fz, &a) == 1 && a.vhost_on &&
	    a.vhost[0] != '\0')
		hs_show(c, a.vhost);
}

/* The account named (or c's own for NULL), or a reply saying why not. */
static bool
hs_account(struct client *c, const char *name, struct store_account *a)
{
	char fz[NICKLEN_MAX + 1];
	int rc;

	if (name == NULL && c->account == NULL) {
		hs_reply(c, "You're not logged into an account");
		return false;
	}
	if (name == NULL)
		name = c->account;
	if (!irc_nick_valid(name)) {
		hs_reply(c, "No such account");
		return false;
	}
	irc_fold(fz, name, sizeof(fz));
	if ((rc = store_account_get(fz, a)) == 1)
		return true;
	if (rc == -1)
		hs_reply(c, "An error occurred");
	else
		hs_reply(c, "No such account");
	return false;
}

static bool
hs_enabled(struct client *c)
{
	if (conf->accounts.vh_enabled)
		return true;
	hs_reply(c, "This command has been disabled by the server "
	    "administrators");
	return false;
}

/* ON / OFF: one's approved vhost shown or not. */
static void
hs_onoff(struct client *c, bool on)
{
	struct store_account a;

	if (!hs_enabled(c) || !hs_account(c, NULL, &a))
		return;
	if (a.vhost[0] == '\0') {
		hs_reply(c, "You do not have an approved vhost");
		return;
	}
	if (store_account_vhost(a.id, a.vhost, on) == -1) {
		hs_reply(c, "An error occurred");
		return;
	}
	a.vhost_on = on;
	hs_apply(&a);
	hs_reply(c, on ? "Successfully enabled your vhost" :
	    "Successfully disabled your vhost");
}

static void
hs_on(struct client *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	hs_onoff(c, true);
}

static void
hs_off(struct client *c, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	hs_onoff(c, false);
}

/* STATUS [account]: one's own, or (opers) anyone's. */
static void
hs_status(struct client *c, int argc, char **argv)
{
	struct store_account a;

	if (!hs_enabled(c) || (argc > 0 && !hs_oper(c)) ||
	    !hs_account(c, argc > 0 ? argv[0] : NULL, &a))
		return;
	if (a.vhost[0] == '\0') {
		hs_reply(c, "Account %s has no vhost", a.name);
		return;
	}
	hs_reply(c, "Account %s has vhost: %s", a.name, a.vhost);
	if (!a.vhost_on)
		hs_reply(c, "This vhost is currently disabled, but can be "
		    "enabled with /HS ON");
}

/* Ergo's validateVhost: accounts.vhosts max-length, and its characters
 * (valid-chars, what Ergo's default valid-regexp allows). */
static bool
hs_vhost_valid(const char *v)
{
	return strlen(v) <= conf->accounts.vh_max_length &&
	    strlen(v) <= STORE_VHOST_MAX &&
	    irc_chars_ok(conf->accounts.vh_chars, v);
}

/* An account's vhost approved and on, or (NULL) deleted (opers). */
static void
hs_change(struct client *c, const char *name, const char *v)
{
	struct store_account a;

	if (!hs_enabled(c) || !hs_oper(c))
		return;
	if (v != NULL && !hs_vhost_valid(v)) {
		hs_reply(c, "Invalid vhost");
		return;
	}
	if (!hs_account(c, name, &a))
		return;
	if (store_account_vhost(a.id, v, v != NULL) == -1) {
		hs_reply(c, "An error occurred");
		return;
	}
	snprintf(a.vhost, sizeof(a.vhost), "%s", v != NULL ? v : "");
	a.vhost_on = v != NULL;
	hs_apply(&a);
	if (v != NULL) {
		log_info("opers", "Operator %s set vhost %s on account %s",
		    c->nick, v, a.name);
		hs_reply(c, "Successfully set vhost");
	} else {
		log_info("opers", "Operator %s cleared vhost on account %s",
		    c->nick, a.name);
		hs_reply(c, "Successfully cleared vhost");
	}
}

/* SET <user> <vhost> */
static void
hs_set(struct client *c, int argc, char **argv)
{
	if (argc < 2) {
		hs_reply(c, "Syntax: SET <user> <vhost>");
		return;
	}
	if (argc > 2 && hs_enabled(c) && hs_oper(c)) {
		hs_reply(c, "Invalid vhost");	/* it holds a space */
		return;
	}
	hs_change(c, argv[0], argv[1]);
}

/* DEL <user> */
static void
hs_del(struct client *c, int argc, char **argv)
{
	if (argc < 1) {
		hs_reply(c, "Syntax: DEL <user>");
		return;
	}
	hs_change(c, argv[0], NULL);
}

static void hs_help(struct client *, int, char **);

static const struct ns_cmd hs_cmds[] = {
	{ "DEL", hs_del },
	{ "HELP", hs_help },
	{ "OFF", hs_off },
	{ "ON", hs_on },
	{ "SET", hs_set },
	{ "STATUS", hs_status },
};

static struct service hostserv = {
	"HostServ", "HS", hs_cmds, sizeof(hs_cmds) / sizeof(hs_cmds[0]), NULL, 0
};

static void
hs_help(struct client *c, int argc, char **argv)
{
	serv_help(c, &hostserv, argc, argv);
}


/* HOSTSERV / HS */
void
h_hostserv(struct client *c, struct msg *m)
{
	char text[IRC_LINE_MAX];

	serv_words(m, text, sizeof(text));
	serv_command(c, &hostserv, text);
}

void
irc_hostserv_init(void)
{
	IRC_HOOK_ADD(logged_in, hs_logged_in);
	IRC_HOOK_ADD(logged_out, hs_logged_in);
	serv_register(&hostserv);
}
