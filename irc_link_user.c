/*
 * irc_link_user.c: what links carry about users and channels: UIDs, the
 * burst (EUID/UID, SJOIN, BMASK, TB, AWAY), remote users (users with no
 * session here, on the server they came from), the live traffic about
 * them both ways, nick collisions by TS, and netsplits. Local users'
 * actions reach the links through irc_hooks; a remote user's reach the
 * local users through irc_user and irc_out. The server tree and the
 * links are irc_link.c's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc_link_int.h"
#include "irc_link.h"
#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_user.h"
#include "irc_out.h"


static struct htab	 uids;
/* where users of a server that split are until they are freed */
static struct server	 split_srv = { .sid = "", .name = "*.split" };
static uint32_t		 uid_seq;

/* ---- UIDs ---- */

/* lk_user and the client it belongs to, allocated together. */
struct lk_rec {
	struct lk_user	 u;		/* first: its hent is the record's */
	struct client	*c;
};

struct client *
lk_user_uid(const char *uid)
{
	struct hent *e = htab_get(&uids, uid);

	return e != NULL ? ((struct lk_rec *)(void *)e)->c : NULL;
}

struct server *
lk_user_server(const struct client *c)
{
	return c->lk != NULL ? c->lk->server : &lk_me;
}

bool
lk_is_remote(const struct client *c)
{
	return c->lk != NULL && c->lk->server != &lk_me;
}

static struct lk_user *
lk_new(struct client *c, const char *uid, struct server *s, time_t ts)
{
	struct lk_rec *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	snprintf(r->u.uid, sizeof(r->u.uid), "%s", uid);
	r->u.h.key = r->u.uid;
	r->u.server = s;
	r->u.ts = ts;
	r->c = c;
	if (htab_put(&uids, &r->u.h) == -1) {
		free(r);
		return NULL;
	}
	c->lk = &r->u;
	return &r->u;
}

/* Our UID for local user c: SID + 6 of [A-Z0-9], made once. */
const char *
lk_uid_of(struct client *c)
{
	static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	char uid[LK_UIDLEN + 1];
	uint32_t n;
	int i;

	if (c->lk != NULL)
		return c->lk->uid;
	if (lk_me.sid[0] == '\0')
		return NULL;
	do {
		n = uid_seq++;
		memcpy(uid, lk_me.sid, LK_SIDLEN);
		for (i = LK_UIDLEN - 1; i >= LK_SIDLEN; i--) {
			uid[i] = digits[n % 36];
			n /= 36;
		}
		uid[LK_UIDLEN] = '\0';
	} while (htab_get(&uids, uid) != NULL);
	if (lk_new(c, uid, &lk_me, c->signon) == NULL)
		return NULL;
	return c->lk->uid;
}

const char *
lk_client_uid(struct client *c)
{
	return lk_uid_of(c);
}

void
lk_user_told(struct client *c)
{
	if (c->lk != NULL)
		c->lk->gone = true;
}

/* ---- introducing users ---- */

static void
umodes_text(const struct client *c, char *buf, size_t sz)
{
	snprintf(buf, sz, "+%s%s%s%s", (c->umodes & UMODE_INVISIBLE) ? "i" :
	    "", (c->umodes & UMODE_OPER) ? "o" : "",
	    (c->umodes & UMODE_WALLOPS) ? "w" : "",
	    (c->umodes & UMODE_BOT) ? "B" : "");
}

/* c's EUID (or UID for a peer without EUID) to l, or to all but l. */
static void
introduce(struct link *l, bool all, struct client *c)
{
	struct server *s = lk_user_server(c);
	const char *ip = s == &lk_me ? irc_client_ip(c) : c->lk->ip;
	char um[16];
	struct link *o;

	if (lk_uid_of(c) == NULL)
		return;
	if (ip == NULL || ip[0] == '\0' || ip[0] == ':')
		ip = "0";
	umodes_text(c, um, sizeof(um));
	for (o = all ? lk_links : l; o != NULL; o = all ? o->next : NULL) {
		if (o->state != LS_UP || o->dead || (all && o == l) ||
		    o == s->via)
			continue;
		if (o->caps & LKCAP_EUID)
			lk_send(o, ":%s EUID %s %u %lld %s %s %s %s %s %s %s :%s",
			    s->sid, c->nick, s->hops + 1,
			    (long long)c->lk->ts, um, c->user, c->host, ip,
			    c->lk->uid, s == &lk_me ? ip : "*",
			    c->account != NULL ? c->account : "*",
			    c->realname != NULL ? c->realname : "");
		else if (o->caps & LKCAP_HYBRID)	/* realhost, account */
			lk_send(o, ":%s UID %s %u %lld %s %s %s %s %s %s %s :%s",
			    s->sid, c->nick, s->hops + 1,
			    (long long)c->lk->ts, um, c->user, c->host, ip, ip,
			    c->lk->uid, c->account != NULL ? c->account : "*",
			    c->realname != NULL ? c->realname : "");
		else
			lk_send(o, ":%s UID %s %u %lld %s %s %s %s %s :%s",
			    s->sid, c->nick, s->hops + 1,
			    (long long)c->lk->ts, um, c->user, c->host, ip,
			    c->lk->uid, c->realname != NULL ? c->realname : "");
		if (c->ext->away != NULL)
			lk_send(o, ":%s AWAY :%s", c->lk->uid, c->ext->away);
	}
}

/* A local user registered: the network hears of it. */
static void
on_registered(struct client *c)
{
	if (lk_me.sid[0] == '\0' || lk_uid_of(c) == NULL)
		return;
	introduce(NULL, true, c);
}

/* ---- the burst ---- */

/* The users (the first part of the burst; the channels follow). */
static void
burst_users(struct link *l)
{
	struct hent *e;
	size_t i;

	for (i = 0; i < irc.nicks.nb; i++)
		for (e = irc.nicks.b[i]; e != NULL; e = e->next) {
			struct client *c = (struct client *)(void *)e;

			if ((c->flags & CF_REG) && !(c->flags & CF_CLOSING) &&
			    lk_user_server(c)->via != l)
				introduce(l, false, c);
		}
}

/* ---- remote users ---- */

/* The nick is taken: the TS rule (older wins; equal: both go). true:
 * the newcomer may have it (the holder was killed). */
static bool
collide(struct link *l, struct client *old, const char *uid, time_t ts)
{
	char why[128];
	bool keep_new = old->lk != NULL && ts < old->lk->ts;
	bool both = old->lk == NULL || ts == old->lk->ts;

	snprintf(why, sizeof(why), "Nick collision (%s)", lk_me.name);
	log_info("link", "nick collision on %s (ours TS %lld, %s TS %lld): "
	    "%s", old->nick, old->lk != NULL ? (long long)old->lk->ts : 0LL,
	    uid, (long long)ts, both ? "both killed" : keep_new ?
	    "ours killed" : "theirs killed");
	if (!keep_new || both)	/* the newcomer goes: its server is told */
		lk_send(l, ":%s KILL %s :%s (%s)", lk_me.sid, uid, lk_me.name,
		    why);
	if (keep_new || both) {
		if (old->lk != NULL) {
			old->lk->gone = true;
			lk_send_all(NULL, ":%s KILL %s :%s (%s)", lk_me.sid,
			    old->lk->uid, lk_me.name, why);
		}
		irc_user_kill(old, why, why);
		irc_nick_unset(old);	/* free for the newcomer now */
	}
	return keep_new && !both;
}

static void
add_user(struct link *l, struct server *from, struct msg *m, bool euid)
{
	const char *nick = m->param[0], *uid = m->param[7];
	time_t ts = (time_t)strtoll(m->param[2], NULL, 10);
	const char *um = m->param[3], *account = NULL, *ip = m->param[6];
	struct client *c, *old;

	if (from == NULL)
		return;
	/* ircd-hybrid's UID: nick hops ts umodes user host ip uid account
	 * :gecos, or with RHOST nick hops ts umodes user host realhost ip
	 * uid account :gecos */
	if (!euid && m->nparam == 11) {
		ip = m->param[7];
		uid = m->param[8];
		if (strcmp(m->param[9], "*") != 0)
			account = m->param[9];
	} else if (!euid && m->nparam == 10 && strcmp(m->param[8], "*") != 0)
		account = m->param[8];
	if (strlen(uid) != LK_UIDLEN || strncmp(uid, from->sid, LK_SIDLEN) ||
	    lk_user_uid(uid) != NULL || strlen(nick) > NICKLEN_MAX ||
	    nick[0] == '\0' || strpbrk(nick, "!@*?,. ") != NULL) {
		log_info("link", "%s: bad or duplicate UID %s (%s): ignored",
		    l->name, uid, nick);
		return;
	}
	if (lk_hooks.user_ok != NULL && !lk_hooks.user_ok(l, nick, um))
		return;
	if ((old = irc_client_find(nick)) != NULL &&
	    !collide(l, old, uid, ts))
		return;
	if (euid && strcmp(m->param[9], "*") != 0)
		account = m->param[9];
	if ((c = irc_client_new()) == NULL)
		goto nomem;
	if (irc_user_set_names(c, NULL, m->param[4], m->param[5],
	    m->param[m->nparam - 1]) == -1 ||
	    (account != NULL && (c->account = xstrdup(account)) == NULL) ||
	    irc_nick_set(c, nick) == -1 ||
	    lk_new(c, uid, from, ts) == NULL) {
		irc_nick_unset(c);
		irc_user_free_names(c);
		free(c->account);
		irc_client_del(c);
		goto nomem;
	}
	snprintf(c->lk->ip, sizeof(c->lk->ip), "%s", ip);
	c->flags = CF_NICK | CF_USER | CF_REG;
	c->signon = ts;
	c->last_msg = ergo_now;
	if (strchr(um, 'i') != NULL) {
		c->umodes |= UMODE_INVISIBLE;
		irc.ninvisible++;
	}
	if (strchr(um, 'o') != NULL) {
		c->umodes |= UMODE_OPER;
		irc.nopers++;
	}
	if (strchr(um, 'w') != NULL)
		c->umodes |= UMODE_WALLOPS;
	if (strchr(um, 'B') != NULL)
		c->umodes |= UMODE_BOT;
	c->lk->service = strchr(um, 'S') != NULL;
	if (account != NULL)
		c->umodes |= UMODE_REGISTERED;
	irc.nusers++;
	if (irc.nusers > irc.max_users)
		irc.max_users = irc.nusers;
	from->nusers++;
	introduce(l, true, c);
	if (lk_hooks.user_added != NULL)	/* its account, if ours run */
		lk_hooks.user_added(c);
	IRC_HOOK_RUN(remote_user, c);	/* MONITOR */
	return;
nomem:
	log_warnx("link", "out of memory adding %s from %s", nick, l->name);
	lk_drop(l, "Out of memory");
}

static void
lk_uid(struct link *l, struct server *from, struct client *u, struct msg *m)
{
	(void)u;
	add_user(l, from, m, false);
}

static void
lk_euid(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	(void)u;
	add_user(l, from, m, true);
}

/* Every user on s (gone) quits, told to local peers only. */
static void
users_split(struct server *s)
{
	struct hent *e;
	size_t i;

	for (i = 0; i < uids.nb; i++)
		for (e = uids.b[i]; e != NULL; e = e->next) {
			struct lk_rec *r = (struct lk_rec *)(void *)e;

			if (r->u.server != s)
				continue;
			r->u.server = &split_srv;	/* s goes now */
			if (!r->u.gone) {
				r->u.gone = true;
				irc_user_kill(r->c, "*.net *.split", NULL);
			}
		}
}

/* :uid QUIT :reason */
static void
lk_quit(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	const char *why = m->nparam > 0 ? m->param[0] : "";

	(void)from;
	if (u == NULL || u->lk->gone)
		return;
	u->lk->gone = true;
	lk_send_all(l, ":%s QUIT :%s", u->lk->uid, why);
	irc_user_kill(u, why, NULL);
}

/* :src KILL uid :path (reason) */
static void
lk_kill(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	struct client *v = lk_user_uid(m->param[0]);
	const char *src = u != NULL ? u->nick : from != NULL ? from->name : "?";
	const char *why = m->nparam > 1 ? m->param[1] : "";
	char text[IRC_LINE_MAX];

	if (v == NULL || v->lk->gone)
		return;
	v->lk->gone = true;
	lk_send_all(l, ":%s KILL %s :%s", u != NULL ? u->lk->uid : from->sid,
	    v->lk->uid, why);
	snprintf(text, sizeof(text), "Killed (%s (%s))", src, why);
	if (!lk_is_remote(v))
		irc_send(v, ":%s KILL %s :%s", src, v->nick, why);
	irc_user_kill(v, text, text);
}

/* :uid NICK newnick :ts */
static void
lk_nick(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	struct client *old;
	time_t ts = m->nparam > 1 ? (time_t)strtoll(m->param[1], NULL, 10) :
	    ergo_now;

	(void)from;
	if (u == NULL || strlen(m->param[0]) > NICKLEN_MAX ||
	    strpbrk(m->param[0], "!@*?,. ") != NULL)
		return;
	if ((old = irc_client_find(m->param[0])) != NULL && old != u &&
	    !collide(l, old, u->lk->uid, ts)) {
		/* ours is older: theirs was killed, not renamed */
		u->lk->gone = true;
		irc_user_kill(u, "Nick collision", NULL);
		return;
	}
	u->lk->ts = ts;
	lk_send_all(l, ":%s NICK %s :%lld", u->lk->uid, m->param[0],
	    (long long)ts);
	if (irc_user_rename(u, m->param[0]) == -1) {
		u->lk->gone = true;
		irc_user_kill(u, "Out of memory", NULL);
	}
}

/* :uid AWAY [:text] */
static void
lk_away(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	char *p = NULL;

	(void)from;
	if (u == NULL || irc_cx(u) == NULL)
		return;
	if (m->nparam > 0 && m->param[0][0] != '\0' &&
	    (p = xstrdup(m->param[0])) == NULL)
		return;
	free(u->ext->away);
	u->ext->away = p;
	irc_cx_trim(u);		/* back, and nothing else in it */
	if (p != NULL) {
		lk_send_all(l, ":%s AWAY :%s", u->lk->uid, p);
		irc_peers_cap_send(u, false, CAP_AWAY_NOTIFY, ":%s AWAY :%s",
		    irc_prefix(u), p);
	} else {
		lk_send_all(l, ":%s AWAY", u->lk->uid);
		irc_peers_cap_send(u, false, CAP_AWAY_NOTIFY, ":%s AWAY",
		    irc_prefix(u));
	}
}

/* A user by UID (or nick, from older peers). */
struct client *
lk_user_ref(const char *s)
{
	struct client *c = lk_user_uid(s);

	return c != NULL ? c : irc_client_find(s);
}

/* :uid MODE uid :+modes (user modes) */
static void
lk_mode(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	const char *p;
	char sign = '+';

	(void)from;
	if (u == NULL || lk_user_uid(m->param[0]) != u)
		return;
	for (p = m->param[1]; *p != '\0'; p++) {
		unsigned bit = 0;

		if (*p == '+' || *p == '-') {
			sign = *p;
			continue;
		}
		bit = *p == 'i' ? UMODE_INVISIBLE : *p == 'o' ? UMODE_OPER :
		    *p == 'w' ? UMODE_WALLOPS : *p == 'B' ? UMODE_BOT : 0;
		if (bit == 0 || (sign == '+') == !!(u->umodes & bit))
			continue;
		if (bit == UMODE_INVISIBLE)
			sign == '+' ? irc.ninvisible++ : irc.ninvisible--;
		if (bit == UMODE_OPER)
			sign == '+' ? irc.nopers++ : irc.nopers--;
		u->umodes ^= bit;
	}
	lk_send_all(l, ":%s MODE %s :%s", u->lk->uid, u->lk->uid, m->param[1]);
}

/* :src ENCAP target subcommand params: passed on; SU and CHGHOST used. */
static void
lk_encap(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	char fwd[IRC_LINE_MAX];
	struct client *t;
	struct server *s;
	size_t n;
	int i;

	n = (size_t)snprintf(fwd, sizeof(fwd), ":%s ENCAP", u != NULL ?
	    u->lk->uid : from->sid);
	for (i = 0; i < m->nparam && n < sizeof(fwd); i++)
		n += (size_t)snprintf(fwd + n, sizeof(fwd) - n, " %s%s",
		    i == m->nparam - 1 ? ":" : "", m->param[i]);
	/* for one other server (SASL's secrets): only towards it */
	if (strpbrk(m->param[0], "*?") == NULL &&
	    (s = lk_server_name(m->param[0])) != NULL && s != &lk_me) {
		if (s->via != NULL && s->via != l)
			lk_send(s->via, "%s", fwd);
		return;
	}
	if (lk_hooks.encap_relay != NULL &&
	    lk_hooks.encap_relay(l, from, u, m))	/* K/D-lines: passed on there */
		return;
	lk_send_all(l, "%s", fwd);
	if (!irc_match(m->param[0], lk_me.name) ||
	    (lk_hooks.encap_here != NULL &&
	    lk_hooks.encap_here(l, from, u, m)))	/* SU, SVSLOGIN, SASL */
		return;
	if (strcmp(m->param[1], "CHGHOST") == 0 && m->nparam >= 4 &&
	    (t = lk_user_ref(m->param[2])) != NULL && lk_is_remote(t))
		irc_user_chghost(t, NULL, m->param[3]);
}

/* :uid WHOIS target :nick: a remote WHOIS of one of ours. */
static void
lk_whois(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	struct client *t = lk_user_ref(m->param[m->nparam - 1]);

	(void)from;
	if (u == NULL)
		return;
	if (t == NULL || lk_is_remote(t) || lk_uid_of(t) == NULL) {
		lk_send(l, ":%s 401 %s %s :No such nick/channel", lk_me.sid,
		    u->lk->uid, m->param[m->nparam - 1]);
		lk_send(l, ":%s 318 %s %s :End of /WHOIS list.", lk_me.sid,
		    u->lk->uid, m->param[m->nparam - 1]);
		return;
	}
	lk_send(l, ":%s 311 %s %s %s %s * :%s", lk_me.sid, u->lk->uid,
	    t->nick, t->user, t->host, t->realname != NULL ? t->realname : "");
	lk_send(l, ":%s 312 %s %s %s :%s", lk_me.sid, u->lk->uid, t->nick,
	    lk_me.name, lk_me.info);
	if (t->ext->away != NULL)
		lk_send(l, ":%s 301 %s %s :%s", lk_me.sid, u->lk->uid, t->nick,
		    t->ext->away);
	if (t->account != NULL)
		lk_send(l, ":%s 330 %s %s %s :is logged in as", lk_me.sid,
		    u->lk->uid, t->nick, t->account);
	lk_send(l, ":%s 317 %s %s %lld %lld :seconds idle, signon time",
	    lk_me.sid, u->lk->uid, t->nick,
	    (long long)(ergo_now - t->last_msg), (long long)t->signon);
	lk_send(l, ":%s 318 %s %s :End of /WHOIS list.", lk_me.sid,
	    u->lk->uid, t->nick);
}

/* ---- local users' changes, to the links (irc_hooks) ---- */

/* Inside a link's line its handler tells the other links itself. */
bool
lk_told(const struct client *c)
{
	return lk_cur != NULL || lk_links == NULL || c == NULL ||
	    lk_is_remote(c);
}

static void
on_quit(struct client *c)
{
	if (c->lk == NULL || c->lk->gone || lk_links == NULL)
		return;
	c->lk->gone = true;
	if (lk_is_remote(c))	/* an oper here killed it */
		lk_send_all(NULL, ":%s KILL %s :%s", lk_me.sid, c->lk->uid,
		    c->ext->quitmsg != NULL ? c->ext->quitmsg : "Killed");
	else
		lk_send_all(NULL, ":%s QUIT :%s", c->lk->uid,
		    c->ext->quitmsg != NULL ? c->ext->quitmsg :
		    "Client exited");
}

static void
on_client_free(struct client *c)
{
	struct lk_rec *r;

	if (c->lk == NULL)
		return;
	r = (struct lk_rec *)(void *)c->lk;
	if (lk_is_remote(c) && c->lk->server->nusers > 0)
		c->lk->server->nusers--;	/* split_srv's stays 0 */
	htab_del(&uids, &r->u.h);
	c->lk = NULL;
	free(r);
}

static void
on_nick_changed(struct client *c, const char *oldprefix)
{
	(void)oldprefix;
	if (c->lk == NULL || !(c->flags & CF_REG))
		return;
	if (!lk_is_remote(c))
		c->lk->ts = ergo_now;
	if (lk_told(c))
		return;
	lk_send_all(NULL, ":%s NICK %s :%lld", c->lk->uid, c->nick,
	    (long long)c->lk->ts);
}

/* AWAY of a local user, seen as its away-notify. */
static void
on_peers_sent(struct irc_ev *ev, struct client *c)
{
	const char *p;

	if (lk_told(c) || c->lk == NULL)
		return;
	if ((p = strchr(ev->body, ' ')) == NULL || strncmp(p, " AWAY", 5))
		return;
	if (c->ext->away != NULL)
		lk_send_all(NULL, ":%s AWAY :%s", c->lk->uid, c->ext->away);
	else
		lk_send_all(NULL, ":%s AWAY", c->lk->uid);
}

static const char *
on_user_server(const struct client *c, const char **info)
{
	if (!lk_is_remote(c))
		return NULL;
	*info = c->lk->server->info;
	return c->lk->server->name;
}

static const struct lk_cmd user_cmds[] = {
	{ "AWAY",	lk_away,	0, LK_UP },
	{ "ENCAP",	lk_encap,	2, LK_UP },
	{ "EUID",	lk_euid,	11, LK_UP },
	{ "KILL",	lk_kill,	1, LK_UP },
	{ "MODE",	lk_mode,	2, LK_UP },
	{ "NICK",	lk_nick,	1, LK_UP },
	{ "QUIT",	lk_quit,	0, LK_UP },
	{ "UID",	lk_uid,		9, LK_UP },
	{ "WHOIS",	lk_whois,	2, LK_UP },
};

void
irc_link_user_init(void)
{
	irc_hooks.user_server = on_user_server;
	htab_init(&uids);
	IRC_HOOK_ADD(registered, on_registered);
	IRC_HOOK_ADD(quit, on_quit);
	IRC_HOOK_ADD(client_free, on_client_free);
	IRC_HOOK_ADD(nick_changed, on_nick_changed);
	IRC_HOOK_ADD(peers_sent, on_peers_sent);
	lk_hooks.user_uid = lk_user_uid;
	lk_hooks.split = users_split;
	lk_burst_add(burst_users);
	lk_cmds_add(user_cmds, sizeof(user_cmds) / sizeof(user_cmds[0]));
}
