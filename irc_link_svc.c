/*
 * irc_link_svc.c: accounts and services across a network of linked
 * servers. Exactly one server runs the services. On it (ours, with
 * services.enabled yes) NickServ and ChanServ are introduced to the
 * network as users of this server, other servers' users' messages to
 * them are answered here, and SASL for other servers' clients (TS6's
 * ENCAP SASL, charybdis's and Atheme's format) is checked against the
 * accounts here. On the others (enabled no) AUTHENTICATE goes to the
 * services server's SASL agent and NickServ, ChanServ... are its
 * users (Atheme's, or ours). Every server tells the network of its
 * users' logins (ENCAP * SU) and applies the others' (SU, SVSLOGIN).
 * Part of the link family (irc_link_int.h); calls irc_account, irc_user,
 * irc_out, irc_state and store, never another family.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "irc_link_int.h"
#include "irc_link.h"
#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "store.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_user.h"
#include "irc_out.h"
#include "irc_num.h"
#include "irc_account.h"
#include "irc_sasl_parse.h"
#include "irc_scram.h"

#define XS_CHUNK	400	/* AUTHENTICATE payload per line (SASL 3.1) */
#define XS_MSG_MAX	4096	/* one decoded SASL message */
#define XS_MAX_AGE_MS	120000	/* an exchange left longer is forgotten */

/*
 * Our services as users of this server. Their UIDs end in "9999..": the
 * last of the 36^6 that uid_of hands out in turn, so a local user would
 * need two billion connections before one could be given out again.
 */
static const struct svc {
	const char	*nick, *suffix, *info;
} svcs[] = {
	{ "NickServ", "9999NS", "Nickname services" },
	{ "ChanServ", "9999CS", "Channel services" },
};
#define NSVCS	(sizeof(svcs) / sizeof(svcs[0]))

#define SVC_MECHS	"PLAIN,SCRAM-SHA-256,EXTERNAL"	/* what we check for others */

static bool	 svc_shown;	/* introduced to the links that are up */
static char	 mechs[128];	/* the services server's (MECHLIST) */
static time_t	 svc_ts;
/* a login learned from a link is being applied: not told back */
static bool	 applying;

/* One SASL exchange: a client of ours waiting for the services server
 * (ss set), or another server's client whose exchange runs here. */
struct xsasl {
	struct xsasl	*next;
	char		 uid[LK_UIDLEN + 1];	/* the client */
	char		 agent[LK_UIDLEN + 1];	/* the services' SASL agent */
	char		 server[64];		/* the services server */
	uint64_t	 started_ms;
	struct session	*ss;			/* our client's session */
	int		 mech;			/* here: XM_*, once S was seen */
	int		 step;			/* here: SCRAM's XSCRAM_* */
	struct irc_scram scram;			/* here: SCRAM's state */
	char		*buf;			/* here: base64 so far */
	size_t		 len;
	char		 host[64], ip[64], certfp[96];
};
enum { XM_NONE, XM_PLAIN, XM_EXTERNAL, XM_SCRAM };
enum { XSCRAM_FIRST, XSCRAM_FINAL, XSCRAM_DONE };

static struct xsasl	*waiting;	/* our clients' */
static struct xsasl	*serving;	/* other servers' clients' */
static unsigned		 nserving;

/* The SID a UID starts with. */
static void
sid_of(char *sid, const char *uid)
{
	memcpy(sid, uid, LK_SIDLEN);
	sid[LK_SIDLEN] = '\0';
}

static void
svc_uid(size_t i, char *uid)
{
	snprintf(uid, LK_UIDLEN + 1, "%s%s", lk_me.sid, svcs[i].suffix);
}

/* ---- our services as users of the network ---- */

static void
svc_introduce(struct link *l)
{
	char uid[LK_UIDLEN + 1];
	size_t i;

	for (i = 0; i < NSVCS; i++) {
		svc_uid(i, uid);
		if (l->caps & LKCAP_EUID)
			lk_send(l, ":%s EUID %s 1 %lld +S %s localhost 0 %s * * "
			    ":%s", lk_me.sid, svcs[i].nick, (long long)svc_ts,
			    svcs[i].nick, uid, svcs[i].info);
		else if (l->caps & LKCAP_HYBRID)	/* its UID has 11 */
			lk_send(l, ":%s UID %s 1 %lld +S %s localhost localhost "
			    "0 %s * :%s", lk_me.sid, svcs[i].nick,
			    (long long)svc_ts, svcs[i].nick, uid, svcs[i].info);
		else
			lk_send(l, ":%s UID %s 1 %lld +S %s localhost 0 %s :%s",
			    lk_me.sid, svcs[i].nick, (long long)svc_ts,
			    svcs[i].nick, uid, svcs[i].info);
	}
}

static void
lk_svc_burst(struct link *l)
{
	if (!conf->services.enabled || lk_me.sid[0] == '\0')
		return;
	if (svc_ts == 0)
		svc_ts = irc.started != 0 ? irc.started : ergo_now;
	svc_shown = true;
	svc_introduce(l);
	lk_send(l, ":%s ENCAP * MECHLIST :%s", lk_me.sid, SVC_MECHS);
}

/* CAP's sasl= with the services elsewhere (irc_hooks.sasl_mechs). */
static const char *
on_sasl_mechs(void)
{
	return mechs[0] != '\0' ? mechs : NULL;
}

/* services.enabled changed by a rehash: the network is told. */
static void
lk_svc_rehashed(void)
{
	char uid[LK_UIDLEN + 1];
	struct link *l;
	size_t i;

	if (conf->services.enabled == svc_shown || lk_me.sid[0] == '\0')
		return;
	if (!conf->services.enabled) {
		for (i = 0; i < NSVCS; i++) {
			svc_uid(i, uid);
			lk_send_all(NULL, ":%s QUIT :Services disabled", uid);
		}
		svc_shown = false;
		return;
	}
	for (l = lk_links; l != NULL; l = l->next)
		if (l->state == LS_UP && !l->dead)
			lk_svc_burst(l);
	svc_shown = true;
}

const char *
lk_svc_chanserv(void)
{
	static char uid[LK_UIDLEN + 1];

	if (!svc_shown)
		return lk_me.sid;
	svc_uid(1, uid);
	return uid;
}

/* The service a message from a link is for, or -1. */
static int
svc_target(const char *target)
{
	char uid[LK_UIDLEN + 1];
	size_t i;

	for (i = 0; i < NSVCS; i++) {
		svc_uid(i, uid);
		if (strcmp(target, uid) == 0 ||
		    (strcasecmp(target, svcs[i].nick) == 0 &&
		    irc_client_find(target) == NULL))
			return (int)i;
	}
	return -1;
}

/* PRIVMSG/NOTICE from a link to one of our services: answered here
 * (the replies go back by on_remote_reply). true: it was one. */
bool
lk_svc_message(struct link *l, struct client *u, struct msg *m,
    bool notice)
{
	int i;

	(void)l;
	if (!conf->services.enabled || lk_me.sid[0] == '\0' ||
	    (i = svc_target(m->param[0])) < 0)
		return false;
	if (u != NULL && irc_hooks.service_message != NULL)
		(void)irc_hooks.service_message(u, svcs[i].nick,
		    m->nparam > 1 ? m->param[1] : "", notice);
	return true;
}

/*
 * A reply to a user with no session here (irc_out): if it is another
 * server's user and the reply a service's NOTICE or PRIVMSG, it goes to
 * that server from the service's UID. Numerics and the rest are the
 * user's own server's to make (a login's 900 comes from its SU).
 */
static void
on_remote_reply(struct client *c, const char *line, size_t len)
{
	char buf[IRC_LINE_MAX + 1], uid[LK_UIDLEN + 1], *bang;
	struct server *s;
	struct msg m;
	size_t i;

	if (c->lk == NULL || (s = lk_user_server(c)) == &lk_me ||
	    s->via == NULL || len > IRC_LINE_MAX)
		return;
	memcpy(buf, line, len);
	buf[len] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (irc_parse(buf, &m) == -1 || m.source == NULL || m.nparam < 2 ||
	    (strcmp(m.cmd, "NOTICE") != 0 && strcmp(m.cmd, "PRIVMSG") != 0))
		return;
	if ((bang = strchr(m.source, '!')) != NULL)
		*bang = '\0';
	for (i = 0; i < NSVCS; i++)
		if (strcasecmp(m.source, svcs[i].nick) == 0)
			break;
	if (i == NSVCS)
		return;
	svc_uid(i, uid);
	lk_send(s->via, ":%s %s %s :%s", uid, m.cmd, lk_client_uid(c),
	    m.param[m.nparam - 1]);
}

/* NICKSERV, CHANSERV... with services elsewhere: a PRIVMSG to it. */
static bool
on_service_remote(struct client *c, const char *svc, const char *text)
{
	struct client *t = irc_client_find(svc);
	const char *uid;

	if (t == NULL || t->lk == NULL || lk_user_server(t) == &lk_me ||
	    lk_user_server(t)->via == NULL || (uid = lk_client_uid(c)) == NULL)
		return false;
	lk_send(lk_user_server(t)->via, ":%s PRIVMSG %s :%s", uid,
	    lk_client_uid(t), text);
	return true;
}

/* ---- logins across the network ---- */

/* A login or logout here: every server hears of it (ENCAP * SU). */
static void
on_logged(struct client *c)
{
	const char *uid;

	if (applying || lk_links == NULL || !(c->flags & CF_REG) ||
	    (c->flags & CF_CLOSING) || (uid = lk_client_uid(c)) == NULL)
		return;
	if (c->account != NULL)
		lk_send_all(NULL, ":%s ENCAP * SU %s %s", lk_me.sid, uid,
		    c->account);
	else
		lk_send_all(NULL, ":%s ENCAP * SU %s", lk_me.sid, uid);
}

static bool
account_name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= NICKLEN_MAX && strcmp(s, "*") != 0 &&
	    strpbrk(s, " ,!@\r\n") == NULL;
}

/*
 * On the services server (ours): another server's user logged in to
 * acct gets the account's row as a local login would (its id, for
 * ChanServ founders and NickServ DROP; the 900 goes nowhere). false if
 * the services are not ours or acct is no account here.
 */
static bool
account_attach(struct client *c, const char *acct)
{
	struct store_account a;
	char fz[NICKLEN_MAX + 1];

	if (!conf->services.enabled || !irc_nick_valid(acct))
		return false;
	irc_fold(fz, acct, sizeof(fz));
	if (store_account_get(fz, &a) != 1)
		return false;
	irc_account_login_quiet(c, &a);
	c->umodes |= UMODE_REGISTERED;
	return true;
}

/*
 * A network has one services server. Another one introducing a service
 * under our services' nick while ours run would split the accounts in
 * two (each side's users would talk to their own NickServ, with their
 * own database): the link is refused, both ends saying why.
 */
static bool
lk_svc_user_ok(struct link *l, const char *nick, const char *um)
{
	char why[200];
	size_t i;

	if (!conf->services.enabled || strchr(um, 'S') == NULL)
		return true;
	for (i = 0; i < NSVCS; i++)
		if (strcasecmp(nick, svcs[i].nick) == 0)
			break;
	if (i == NSVCS)
		return true;
	log_warnx("link", "%s runs services too (it introduced %s): a "
	    "network has one services server; set services { enabled no } "
	    "on all but one", l->name, nick);
	snprintf(why, sizeof(why), "Services on both servers (%s and %s): "
	    "set services { enabled no } on one", l->name, lk_me.name);
	lk_drop(l, why);
	return false;
}

/* A user came from a link (EUID): its account, as the services see it. */
static void
lk_svc_user_added(struct client *c)
{
	char *acct;

	if (c->account == NULL || !conf->services.enabled ||
	    (acct = xstrdup(c->account)) == NULL)
		return;
	applying = true;
	(void)account_attach(c, acct);
	applying = false;
	free(acct);
}

/*
 * The services server says c is logged in to acct (NULL: out). Our own
 * user gets 900 (or 901), +r and account-notify as a local login would;
 * the account is known by its name only (no row here: account_id 0).
 */
static void
login_apply(struct client *c, const char *acct)
{
	char *name;

	if (acct != NULL && !account_name_ok(acct))
		return;
	applying = true;
	if (lk_user_server(c) != &lk_me && acct != NULL &&
	    account_attach(c, acct))
		;	/* an account of our services' */
	else if (lk_user_server(c) != &lk_me && acct == NULL &&
	    c->account_id != 0)
		irc_account_logout(c);
	else if (lk_user_server(c) != &lk_me) {
		/* another server's user: what its peers here see */
		name = acct != NULL ? xstrdup(acct) : NULL;
		if (acct == NULL || name != NULL) {
			free(c->account);
			c->account = name;
			if (name != NULL)
				c->umodes |= UMODE_REGISTERED;
			else
				c->umodes &= ~UMODE_REGISTERED;
			irc_user_account_notify(c);
		}
	} else if (acct == NULL)
		irc_account_logout(c);
	else if (c->account == NULL || strcmp(c->account, acct) != 0) {
		if (c->account != NULL)
			irc_account_logout(c);
		if ((name = xstrdup(acct)) != NULL) {
			c->account = name;
			c->account_id = 0;
			irc_numeric(c, RPL_LOGGEDIN, "%s %s :You are now logged "
			    "in as %s", irc_prefix(c), acct, acct);
			irc_user_account_notify(c);
			log_info("accounts", "%s logged in as %s (services on "
			    "%s)", irc_prefix(c), acct, lk_cur != NULL ?
			    lk_cur->name : "?");
			IRC_HOOK_RUN(logged_in, c);
			irc_account_login_mode(c);
		}
	}
	applying = false;
}

/*
 * The services server renames our user t: done as if t had sent NICK
 * (its peers and the network are told). A user holding the nick is
 * killed first, as charybdis does: the services own the nick (REGAIN
 * renames the holder and the owner at once, and the holder's new nick
 * may not have reached us yet).
 */
static void
rename_forced(struct client *t, const char *nick)
{
	static const char why[] = "Nickname regained by services";
	struct client *o;
	const char *uid, *ouid;

	if (lk_user_server(t) != &lk_me || !(t->flags & CF_REG) ||
	    (t->flags & CF_CLOSING) || (uid = lk_client_uid(t)) == NULL ||
	    strcmp(t->nick, nick) == 0)
		return;
	if (!irc_nick_valid(nick)) {
		log_info("link", "services' rename of %s to %s: invalid nick",
		    t->nick, nick);
		return;
	}
	if ((o = irc_client_find(nick)) != NULL && o != t) {
		if ((ouid = lk_client_uid(o)) == NULL)
			return;
		log_info("link", "%s killed: %s (for %s)", o->nick, why,
		    t->nick);
		/* the network hears of it before the NICK, or collides */
		if (lk_user_server(o) != &lk_me)
			lk_send_all(NULL, ":%s KILL %s :%s (%s)", lk_me.sid,
			    ouid, lk_me.name, why);
		else
			lk_send_all(NULL, ":%s QUIT :%s", ouid, why);
		lk_user_told(o);
		irc_user_kill(o, why, why);
		irc_nick_unset(o);		/* free for t now */
	}
	log_info("link", "%s renamed to %s by the services (%s)", t->nick,
	    nick, lk_cur != NULL ? lk_cur->name : "?");
	if (irc_user_rename(t, nick) == -1) {
		irc_user_kill(t, "Out of memory", "Out of memory");
		return;
	}
	/* inside a link's line the rename is not told by the link hooks */
	lk_send_all(NULL, ":%s NICK %s :%lld", uid, t->nick,
	    (long long)ergo_now);
}

/*
 * Our NickServ renames t, another server's user (nick enforcement):
 * its server is asked with RSFNC, as Atheme does, and renames it (the
 * NICK comes back to everyone). false: t is ours, renamed here.
 */
static bool
on_rename_remote(struct client *t, const char *nick)
{
	struct server *s;

	if (!lk_is_remote(t) || (s = lk_user_server(t))->via == NULL)
		return false;
	lk_send(s->via, ":%s ENCAP %s RSFNC %s %s %lld %lld", lk_me.sid,
	    s->name, t->lk->uid, nick, (long long)ergo_now,
	    (long long)t->lk->ts);
	return true;
}

/* ---- SASL: our clients, the services elsewhere ---- */

static struct xsasl *
x_find(struct xsasl *list, const char *uid, const struct session *ss)
{
	for (; list != NULL; list = list->next)
		if ((uid != NULL && strcmp(list->uid, uid) == 0) ||
		    (ss != NULL && list->ss == ss))
			return list;
	return NULL;
}

/* The base64 collected so far goes (wiped). */
static void
x_buf_clear(struct xsasl *x)
{
	if (x->buf != NULL) {
		conf_passwd_wipe(x->buf, x->len);
		free(x->buf);
		x->buf = NULL;
		x->len = 0;
	}
}

static void
x_free(struct xsasl **list, struct xsasl *x)
{
	struct xsasl **pp;

	for (pp = list; *pp != NULL; pp = &(*pp)->next)
		if (*pp == x) {
			*pp = x->next;
			break;
		}
	if (list == &serving)
		nserving--;
	x_buf_clear(x);
	irc_scram_clear(&x->scram);
	free(x);
}

/* One line of our client's exchange to the services server. */
static bool
x_up(struct xsasl *x, const char *mode, const char *data)
{
	struct server *s = lk_server_name(x->server);

	if (s == NULL || s == &lk_me || s->via == NULL)
		return false;
	lk_send(s->via, ":%s ENCAP %s SASL %s %s %s %s", lk_me.sid, s->name,
	    x->uid, x->agent, mode, data);
	return true;
}

/* The services server and its SASL agent: Atheme's SaslServ, or the
 * NickServ of a server of ours that runs the services. */
static struct server *
services_server(const char **agent)
{
	static const char *const nicks[] = { "SaslServ", "NickServ" };
	struct client *t;
	size_t i;

	for (i = 0; i < 2; i++)
		if ((t = irc_client_find(nicks[i])) != NULL &&
		    t->lk != NULL && lk_user_server(t) != &lk_me &&
		    lk_user_server(t)->via != NULL) {
			*agent = lk_client_uid(t);
			return lk_user_server(t);
		}
	return NULL;
}

/* With c->cur set to x's session, so replies reach it alone. */
static void
x_numeric(struct xsasl *x, int num, const char *text)
{
	struct client *c = x->ss->user;
	struct session *cur = c->cur;

	c->cur = x->ss;
	irc_numeric(c, num, "%s", text);
	c->cur = cur;
}

/* AUTHENTICATE with the services on another server (irc_hooks). */
static bool
on_sasl_remote(struct client *c, const char *arg)
{
	struct session *ss = irc_sess(c);
	struct xsasl *x;
	struct server *s;
	const char *agent, *ip, *fp, *uid;
	char mech[32];
	size_t i;

	if (conf->services.enabled || ss == NULL)
		return false;
	x = x_find(waiting, NULL, ss);
	if (arg == NULL || strcmp(arg, "*") == 0) {
		/* registration completes, or the client gives up */
		if (x != NULL) {
			(void)x_up(x, "D", "A");
			x_free(&waiting, x);
		}
		if (x != NULL || arg != NULL)
			irc_numeric(c, ERR_SASLABORTED,
			    ":SASL authentication aborted");
		return true;
	}
	if (x != NULL) {
		if (arg[0] == '\0' || strspn(arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789+/=") != strlen(arg)) {
			/* not base64: nothing the services could take */
			irc_numeric(c, ERR_SASLFAIL,
			    ":SASL authentication failed");
			(void)x_up(x, "D", "A");
			x_free(&waiting, x);
		} else if (strlen(arg) > XS_CHUNK) {
			irc_numeric(c, ERR_SASLTOOLONG,
			    ":SASL message too long");
			(void)x_up(x, "D", "A");
			x_free(&waiting, x);
		} else if (!x_up(x, "C", arg)) {
			irc_numeric(c, ERR_SASLFAIL,
			    ":SASL authentication failed");
			x_free(&waiting, x);
		}
		return true;
	}
	if (c->account != NULL) {
		irc_numeric(c, ERR_SASLALREADY,
		    ":You have already authenticated using SASL");
		return true;
	}
	if (!conf->accounts.auth_enabled || (!(c->flags & CF_REG) &&
	    !(ss->caps & CAP_SASL)) || strlen(arg) >= sizeof(mech) ||
	    strpbrk(arg, " :") != NULL ||
	    (s = services_server(&agent)) == NULL ||
	    (uid = lk_client_uid(c)) == NULL || (x = calloc(1, sizeof(*x))) == NULL) {
		irc_numeric(c, ERR_SASLFAIL, ":SASL authentication failed");
		return true;
	}
	for (i = 0; arg[i] != '\0'; i++)
		mech[i] = (char)(arg[i] >= 'a' && arg[i] <= 'z' ?
		    arg[i] - 32 : arg[i]);
	mech[i] = '\0';
	snprintf(x->uid, sizeof(x->uid), "%s", uid);
	snprintf(x->agent, sizeof(x->agent), "%s", agent);
	snprintf(x->server, sizeof(x->server), "%s", s->name);
	x->ss = ss;
	x->started_ms = ergo_now_ms;
	x->next = waiting;
	waiting = x;
	ip = irc_client_ip(c) != NULL ? irc_client_ip(c) : "0";
	lk_send(s->via, ":%s ENCAP %s SASL %s %s H %s %s", lk_me.sid, s->name,
	    x->uid, x->agent, c->host != NULL && c->host[0] != '\0' &&
	    c->host[0] != ':' ? c->host : "*", ip[0] != ':' ? ip : "0");
	if (strcmp(mech, "EXTERNAL") == 0 &&
	    (fp = irc_client_certfp(c)) != NULL)
		lk_send(s->via, ":%s ENCAP %s SASL %s %s S %s %s", lk_me.sid,
		    s->name, x->uid, x->agent, mech, fp);
	else
		(void)x_up(x, "S", mech);
	return true;
}

/* :agent ENCAP us SASL agent uid mode data: the services' answer. */
static void
sasl_answer(struct msg *m)
{
	struct xsasl *x = x_find(waiting, m->param[3], NULL);
	const char *data = m->param[5];
	struct client *c;
	struct session *cur;

	if (x == NULL)
		return;
	c = x->ss->user;
	switch (m->param[4][0]) {
	case 'C':
		cur = c->cur;
		c->cur = x->ss;
		irc_send(c, "AUTHENTICATE %s", data);
		c->cur = cur;
		return;
	case 'M':
		cur = c->cur;
		c->cur = x->ss;
		irc_numeric(c, RPL_SASLMECHS, "%s :are available SASL "
		    "mechanisms", data);
		c->cur = cur;
		return;
	case 'D':
		if (data[0] == 'S' && c->account != NULL) {
			x_numeric(x, RPL_SASLSUCCESS,
			    ":SASL authentication successful");
			irc_account_login_mode(c);
		} else if (data[0] == 'A')
			x_numeric(x, ERR_SASLABORTED,
			    ":SASL authentication aborted");
		else
			x_numeric(x, ERR_SASLFAIL,
			    ":SASL authentication failed");
		x_free(&waiting, x);
		return;
	}
}

/* session_free: its exchange goes (the services are told). */
static void
on_session_free(struct session *ss)
{
	struct xsasl *x = x_find(waiting, NULL, ss);

	if (x == NULL)
		return;
	(void)x_up(x, "D", "A");
	x_free(&waiting, x);
}

/* ---- SASL: other servers' clients, the services here ---- */

/* A line of x's exchange back to the client's server: len bytes of
 * data (-1: all of it, as printf takes a negative precision). */
static void
x_down_n(struct xsasl *x, const char *mode, const char *data, int len)
{
	char sid[LK_SIDLEN + 1];
	struct server *s;

	sid_of(sid, x->uid);
	if ((s = lk_server_sid(sid)) == NULL || s->via == NULL)
		return;
	lk_send(s->via, ":%s ENCAP %s SASL %s %s %s %.*s", lk_me.sid, s->name,
	    x->agent, x->uid, mode, len, data);
}

static void
x_down(struct xsasl *x, const char *mode, const char *data)
{
	x_down_n(x, mode, data, -1);
}

/* A whole server message of x's exchange, as C lines of 400 bytes of
 * base64 ("+" after an exact multiple), as Atheme sends them. */
static void
x_down_msg(struct xsasl *x, const char *msg, size_t len)
{
	char b64[XS_MSG_MAX * 4 / 3 + 8];
	size_t n, off;

	if (len == 0 || (n = util_b64_encode(b64, sizeof(b64), msg, len,
	    true)) == (size_t)-1)
		n = 0;
	for (off = 0; off < n; off += XS_CHUNK)
		x_down_n(x, "C", b64 + off, (int)(n - off < XS_CHUNK ?
		    n - off : XS_CHUNK));
	if (n % XS_CHUNK == 0)	/* nothing more follows */
		x_down(x, "C", "+");
}

static void
x_done(struct xsasl *x, const char *account)
{
	char sid[LK_SIDLEN + 1];
	struct server *s;

	sid_of(sid, x->uid);
	if (account != NULL && (s = lk_server_sid(sid)) != NULL &&
	    s->via != NULL) {
		lk_send(s->via, ":%s ENCAP %s SVSLOGIN %s * * * %s", lk_me.sid,
		    s->name, x->uid, account);
		log_info("accounts", "%s (%s, on %s) logged in as %s by SASL",
		    x->uid, x->ip, s->name, account);
	}
	x_down(x, "D", account != NULL ? "S" : "F");
	x_free(&serving, x);
}

/* The exchange of uid, made if need be (the oldest goes past the limit,
 * with those left over XS_MAX_AGE_MS). */
static struct xsasl *
x_serving(const char *uid, const char *agent)
{
	struct xsasl *x, *o, *next;

	if ((x = x_find(serving, uid, NULL)) != NULL)
		return x;
	for (o = serving; o != NULL; o = next) {
		next = o->next;
		if (ergo_now_ms - o->started_ms > XS_MAX_AGE_MS)
			x_free(&serving, o);
	}
	if (nserving >= conf->services.sasl_max) {
		for (o = serving; o->next != NULL; o = o->next)
			;	/* the oldest is last */
		log_warnx("accounts", "more than services.max-sasl-exchanges "
		    "(%u) SASL exchanges from other servers: %s's failed",
		    conf->services.sasl_max, o->uid);
		x_done(o, NULL);
	}
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return NULL;
	snprintf(x->uid, sizeof(x->uid), "%s", uid);
	if (strcmp(agent, "*") == 0 || strlen(agent) != LK_UIDLEN)
		svc_uid(0, x->agent);
	else
		snprintf(x->agent, sizeof(x->agent), "%s", agent);
	x->started_ms = ergo_now_ms;
	x->next = serving;
	serving = x;
	nserving++;
	return x;
}

/* A stand-in for the remote client, for the failed-login throttle
 * (counted by its address, as a local client's is). */
static void
x_client(struct xsasl *x, struct client *tc)
{
	memset(tc, 0, sizeof(*tc));
	tc->ext = IRC_CX_NONE;
	tc->nick = "";		/* never freed: no irc_user_set_names */
	tc->host = x->ip[0] != '\0' && strcmp(x->ip, "0") != 0 ? x->ip :
	    x->host;
}

/* a is suspended: the exchange fails (true). */
static bool
x_suspended(struct xsasl *x, const struct store_account *a)
{
	if (!irc_account_suspended(a))
		return false;
	log_info("accounts", "%s (%s): login to suspended account %s refused",
	    x->uid, x->ip, a->name);
	x_done(x, NULL);
	return true;
}

/* A right login to a, unless a is suspended (then a failure). */
static void
x_login(struct xsasl *x, const struct store_account *a)
{
	if (!x_suspended(x, a))
		x_done(x, a->name);
}

/* SCRAM-SHA-256, one client message: its step answered. */
static void
x_scram(struct xsasl *x, struct client *tc, const char *msg)
{
	struct irc_scram *sc = &x->scram;
	struct store_account a;
	char out[512];
	size_t n;
	int rc;

	switch (x->step) {
	case XSCRAM_FIRST:
		if (irc_scram_first(sc, msg) == -1 ||
		    irc_auth_throttled(tc, sc->folded) ||
		    (rc = store_account_get(sc->folded, &sc->acct)) == -1 ||
		    (rc == 1 && sc->acct.iterations == 0)) {
			x_done(x, NULL);
			return;
		}
		if (rc == 0)	/* carry on: the client-final will fail */
			irc_scram_fake(sc->folded, &sc->acct);
		if ((rc = irc_scram_challenge(sc, out, sizeof(out))) == -1) {
			x_done(x, NULL);
			return;
		}
		x->step = XSCRAM_FINAL;
		x_down_msg(x, out, (size_t)rc);
		return;
	case XSCRAM_FINAL:
		rc = irc_scram_final(sc, msg, out, sizeof(out), &n);
		if (rc == 0)
			irc_auth_failed(tc, sc->folded);
		if (rc != 1) {
			x_done(x, NULL);
			return;
		}
		if (x_suspended(x, &sc->acct))	/* only now may it be told */
			return;
		x->step = XSCRAM_DONE;
		x_down_msg(x, out, n);
		return;
	default:
		/* the client checked v= and sent its empty reply */
		a = sc->acct;
		x_done(x, a.name);
		conf_passwd_wipe(&a, sizeof(a));
		return;
	}
}

/* The whole client message of x's exchange: checked, answered. */
static void
x_check(struct xsasl *x, const char *msg, size_t len)
{
	char folded[NICKLEN_MAX + 1], fz[NICKLEN_MAX + 1];
	struct store_account a;
	struct sasl_plain p;
	struct client tc;
	char fp[96];
	size_t i, n = 0;
	int rc;

	x_client(x, &tc);
	if (x->mech == XM_SCRAM) {
		x_scram(x, &tc, msg);
		return;
	}
	if (x->mech == XM_EXTERNAL) {
		/* the fingerprint as its server saw it: hex, any case */
		for (i = 0; x->certfp[i] != '\0' && n < sizeof(fp) - 1; i++)
			if (x->certfp[i] != ':')
				fp[n++] = (char)(x->certfp[i] >= 'A' &&
				    x->certfp[i] <= 'F' ? x->certfp[i] + 32 :
				    x->certfp[i]);
		fp[n] = '\0';
		if (irc_auth_throttled(&tc, NULL) ||
		    store_account_by_certfp(fp, &a) != 1) {
			x_done(x, NULL);
			return;
		}
		irc_fold(folded, a.name, sizeof(folded));
		if (len > 0 && (!irc_scram_fold(fz, sizeof(fz), msg) ||
		    strcmp(fz, folded) != 0)) {
			x_done(x, NULL);
			return;
		}
		x_login(x, &a);
		return;
	}
	if (irc_sasl_plain_parse(msg, len, &p) == -1 ||
	    !irc_scram_fold(folded, sizeof(folded), p.authcid) ||
	    (*p.authzid != '\0' && (!irc_scram_fold(fz, sizeof(fz), p.authzid) ||
	    strcmp(fz, folded) != 0)) || irc_auth_throttled(&tc, folded)) {
		x_done(x, NULL);
		return;
	}
	if ((rc = store_account_get(folded, &a)) == 0)
		/* the same PBKDF2 time as a real account's check */
		irc_scram_fake(folded, &a);
	if (rc != 1 || !irc_account_password_ok(&a, p.passwd)) {
		if (rc != -1)
			irc_auth_failed(&tc, folded);
		x_done(x, NULL);
		return;
	}
	x_login(x, &a);
}

/* :server ENCAP us SASL uid agent mode data [ext]: a client's step. */
static void
sasl_serve(struct link *l, struct msg *m)
{
	const char *uid = m->param[2], *data = m->param[5];
	const char *ext = m->nparam > 6 ? m->param[6] : NULL;
	char sid[LK_SIDLEN + 1], *nb, *msg;
	struct xsasl *x;
	struct server *s;
	size_t n, dlen;

	if (strlen(uid) != LK_UIDLEN)
		return;
	sid_of(sid, uid);
	if ((s = lk_server_sid(sid)) == NULL || s == &lk_me || s->via != l)
		return;
	x = x_find(serving, uid, NULL);
	switch (m->param[4][0]) {
	case 'H':	/* host ip: for the throttle and the log */
		if ((x = x_serving(uid, m->param[3])) == NULL)
			return;
		snprintf(x->host, sizeof(x->host), "%s", data);
		snprintf(x->ip, sizeof(x->ip), "%s", ext != NULL ? ext : "");
		return;
	case 'S':
		if ((x = x_serving(uid, m->param[3])) == NULL)
			return;
		x_buf_clear(x);
		if (x->mech != XM_NONE) {	/* a second S: begins again */
			irc_scram_clear(&x->scram);
			x->step = XSCRAM_FIRST;
		}
		if (strcasecmp(data, "PLAIN") == 0)
			x->mech = XM_PLAIN;
		else if (strcasecmp(data, "SCRAM-SHA-256") == 0)
			x->mech = XM_SCRAM;
		else if (strcasecmp(data, "EXTERNAL") == 0 && ext != NULL &&
		    ext[0] != '\0') {
			x->mech = XM_EXTERNAL;
			snprintf(x->certfp, sizeof(x->certfp), "%s", ext);
		} else {
			x_down(x, "M", SVC_MECHS);
			x_done(x, NULL);
			return;
		}
		x_down(x, "C", "+");
		return;
	case 'C':
		if (x == NULL || x->mech == XM_NONE) {
			if (x != NULL)
				x_done(x, NULL);
			return;
		}
		n = strcmp(data, "+") == 0 ? 0 : strlen(data);
		if (n > XS_CHUNK || x->len + n > XS_MSG_MAX * 4 / 3 + 4) {
			x_done(x, NULL);
			return;
		}
		if (n > 0) {
			if ((nb = realloc(x->buf, x->len + n + 1)) == NULL) {
				x_done(x, NULL);
				return;
			}
			x->buf = nb;
			memcpy(x->buf + x->len, data, n);
			x->len += n;
			x->buf[x->len] = '\0';
		}
		if (n == XS_CHUNK)
			return;		/* more follows */
		if ((msg = malloc(XS_MSG_MAX + 1)) == NULL) {
			x_done(x, NULL);
			return;
		}
		dlen = x->len == 0 ? 0 : util_b64_decode(msg, XS_MSG_MAX,
		    x->buf, x->len);
		x_buf_clear(x);	/* SCRAM's next message starts anew */
		if (dlen == (size_t)-1) {
			free(msg);
			x_done(x, NULL);
			return;
		}
		msg[dlen] = '\0';
		x_check(x, msg, dlen);	/* x may be gone after it */
		conf_passwd_wipe(msg, dlen);
		free(msg);
		return;
	case 'D':
		if (x != NULL)
			x_free(&serving, x);
		return;
	}
}

/* ---- ENCAP ---- */

/*
 * Whether the services command cmd from src (a server, or a user's
 * server) may be taken: only from services.server when it is set (as
 * charybdis's service{}). A refusal is logged once per server and
 * command (the first few kinds).
 */
static bool
from_services(struct server *src, const char *cmd)
{
	static char seen[16][80];
	char key[80];
	size_t i;

	if (conf->services.server == NULL || (src != NULL &&
	    strcasecmp(src->name, conf->services.server) == 0))
		return true;
	snprintf(key, sizeof(key), "%s %s", src != NULL ? src->name : "?",
	    cmd);
	for (i = 0; i < 16 && seen[i][0] != '\0'; i++)
		if (strcmp(seen[i], key) == 0)
			return false;
	if (i < 16) {
		snprintf(seen[i], sizeof(seen[i]), "%s", key);
		log_warnx("link", "ENCAP %s from %s refused: not the services "
		    "server (services.server %s); ignored (logged once)", cmd,
		    src != NULL ? src->name : "?", conf->services.server);
	}
	return false;
}

/*
 * An ENCAP for this server (lk_encap has passed it on): SU, SVSLOGIN,
 * RSFNC, MECHLIST and SASL are ours, the services' commands only from
 * the services server. true: taken (or refused).
 */
static bool
lk_svc_encap(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	const char *cmd = m->param[1];
	struct server *src = u != NULL ? lk_user_server(u) : from;
	struct client *t;
	struct xsasl *x;

	if ((strcmp(cmd, "SU") == 0 || strcmp(cmd, "SVSLOGIN") == 0 ||
	    strcmp(cmd, "RSFNC") == 0 || strcmp(cmd, "MECHLIST") == 0 ||
	    (strcmp(cmd, "SASL") == 0 && m->nparam >= 4 &&
	    x_find(waiting, m->param[3], NULL) != NULL)) &&
	    !from_services(src, cmd))
		return true;	/* refused: ignored */
	if (strcmp(cmd, "SU") == 0) {
		/* :server ENCAP * SU uid [account] */
		if (m->nparam >= 3 && ((t = lk_user_uid(m->param[2])) != NULL ||
		    (t = irc_client_find(m->param[2])) != NULL) &&
		    (t->flags & CF_REG))
			login_apply(t, m->nparam >= 4 && m->param[3][0] != '\0' ?
			    m->param[3] : NULL);
		return true;
	}
	if (strcmp(cmd, "SVSLOGIN") == 0) {
		/* :server ENCAP us SVSLOGIN uid nick user host account */
		if (m->nparam >= 7 && (t = lk_user_uid(m->param[2])) != NULL &&
		    lk_user_server(t) == &lk_me)
			login_apply(t, strcmp(m->param[6], "*") != 0 ?
			    m->param[6] : NULL);
		return true;
	}
	if (strcmp(cmd, "MECHLIST") == 0) {
		/* :services ENCAP * MECHLIST :PLAIN,EXTERNAL (Atheme too) */
		if (m->nparam >= 3 && strlen(m->param[2]) < sizeof(mechs) &&
		    strspn(m->param[2], "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789-_,") == strlen(m->param[2]))
			snprintf(mechs, sizeof(mechs), "%s", m->param[2]);
		return true;
	}
	if (strcmp(cmd, "RSFNC") == 0) {
		/* :services ENCAP us RSFNC uid newnick newts oldts: the
		 * services rename our user (nick enforcement, REGAIN) */
		if (m->nparam >= 4 && (t = lk_user_uid(m->param[2])) != NULL)
			rename_forced(t, m->param[3]);
		return true;
	}
	if (strcmp(cmd, "SASL") == 0) {
		if (m->nparam < 6 || m->param[4][0] == '\0')
			return true;
		/* SASL client agent ... to the services, SASL agent client
		 * ... back from them */
		if ((x = x_find(waiting, m->param[3], NULL)) != NULL) {
			/* for a client of ours: from the server asked */
			if (src != NULL && strcasecmp(src->name, x->server) == 0)
				sasl_answer(m);
		}
		else if (conf->services.enabled)
			sasl_serve(l, m);	/* for the services here */
		return true;
	}
	return false;
}

void
irc_link_svc_init(void)
{
	lk_burst_add(lk_svc_burst);	/* our services, if we run them */
	lk_hooks.rehashed = lk_svc_rehashed;
	lk_hooks.user_added = lk_svc_user_added;
	lk_hooks.user_ok = lk_svc_user_ok;
	lk_hooks.encap_here = lk_svc_encap;
	irc_hooks.remote_reply = on_remote_reply;
	irc_hooks.sasl_remote = on_sasl_remote;
	irc_hooks.service_remote = on_service_remote;
	irc_hooks.sasl_mechs = on_sasl_mechs;
	irc_hooks.rename_remote = on_rename_remote;
	IRC_HOOK_ADD(logged_in, on_logged);
	IRC_HOOK_ADD(logged_out, on_logged);
	IRC_HOOK_ADD(session_free, on_session_free);
}
