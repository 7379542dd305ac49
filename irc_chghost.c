/*
 * irc_chghost.c: the oper command CHGHOST <nick> <user> <host> (as in
 * InspIRCd and UnrealIRCd): checks the new user and host, then
 * irc_user_chghost() tells the peers (CHGHOST with the chghost cap, a QUIT
 * and JOIN otherwise). No sockets, no SQL.
 */
#include <string.h>

#include "irc_chghost.h"
#include "log.h"
#include "conf.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_cloak.h"
#include "irc_num.h"
#include "irc_user.h"

/* An ident: what USER keeps (user_clean in irc.c), '~' allowed. */
static bool
user_ok(const char *u)
{
	size_t n = strlen(u);

	if (n == 0 || n > conf->limits.identlen + 1)
		return false;
	for (; *u != '\0'; u++)
		if (!((*u >= 'a' && *u <= 'z') || (*u >= 'A' && *u <= 'Z') ||
		    (*u >= '0' && *u <= '9') || strchr("-._[]{}\\`^|~", *u)))
			return false;
	return true;
}

/* A hostname, an address or a cloak: letters, digits, - . : /, and
 * not starting with ':' (it would read as a trailing parameter). */
static bool
host_ok(const char *h)
{
	size_t n = strlen(h);

	if (n == 0 || n >= IRC_HOST_CLOAK || *h == ':' || *h == '-' ||
	    *h == '.')
		return false;
	for (; *h != '\0'; h++)
		if (!((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
		    (*h >= '0' && *h <= '9') || strchr("-.:/", *h)))
			return false;
	return true;
}

/* CHGHOST <nick> <user> <host>; the table has made sure c is an oper. */
void
h_chghost(struct client *c, struct msg *m)
{
	const char *user = m->param[1], *host = m->param[2];
	struct client *t;

	if (irc.defcon <= 3) {		/* Ergo: no vhost changes */
		irc_fail(c, "FAIL", "CHGHOST", "TEMPORARILY_UNAVAILABLE",
		    "%s :Host changes are disabled at DEFCON %u", m->param[0],
		    irc.defcon);
		return;
	}
	if ((t = irc_client_find(m->param[0])) == NULL ||
	    !(t->flags & CF_REG)) {
		irc_numeric(c, ERR_NOSUCHNICK, "%s :No such nick/channel",
		    m->param[0]);
		return;
	}
	if (!user_ok(user)) {
		irc_fail(c, "FAIL", "CHGHOST", "INVALID_USERNAME", "%s :A "
		    "username is 1 to %u letters, digits or -._[]{}\\`^|~",
		    user, conf->limits.identlen + 1);
		return;
	}
	if (!host_ok(host)) {
		irc_fail(c, "FAIL", "CHGHOST", "INVALID_HOSTNAME", "%s :A "
		    "hostname is 1 to %d letters, digits or -.:/", host,
		    IRC_HOST_CLOAK - 1);
		return;
	}
	if (strcmp(user, t->user) == 0 && strcmp(host, t->host) == 0) {
		irc_send(c, ":%s NOTICE %s :%s is already %s@%s",
		    conf->server_name, c->nick, t->nick, user, host);
		return;
	}
	/* irc_prefix's buffer is one: the target's spelled out */
	log_info("opers", "%s changed the host of %s!%s@%s to %s@%s",
	    irc_prefix(c), t->nick, t->user, t->host, user, host);
	irc_user_chghost(t, user, host);
	if (!(irc_user_caps(t) & CAP_CHGHOST))	/* it told t with the cap */
		irc_numeric(t, RPL_VISIBLEHOST, "%s@%s :is now your "
		    "displayed host", t->user, t->host);
	irc_send(c, ":%s NOTICE %s :Changed the host of %s to %s@%s",
	    conf->server_name, c->nick, t->nick, t->user, t->host);
}
