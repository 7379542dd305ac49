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
#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_user.h"
#include "irc_out.h"

struct lk_user {
	struct hent	 h;		/* by UID */
	char		 uid[LK_UIDLEN + 1];
	struct server	*server;	/* &lk_me: ours */
	time_t		 ts;		/* nick TS */
	char		 ip[64];	/* a remote user's, as told */
	bool		 gone;		/* its end came from a link: told */
};

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

static bool
is_remote(const struct client *c)
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
static const char *
uid_of(struct client *c)
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
	return uid_of(c);
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

	if (uid_of(c) == NULL)
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
		else
			lk_send(o, ":%s UID %s %u %lld %s %s %s %s %s :%s",
			    s->sid, c->nick, s->hops + 1,
			    (long long)c->lk->ts, um, c->user, c->host, ip,
			    c->lk->uid, c->realname != NULL ? c->realname : "");
		if (c->away != NULL)
			lk_send(o, ":%s AWAY :%s", c->lk->uid, c->away);
	}
}

/* A local user registered: the network hears of it. */
static void
on_registered(struct client *c)
{
	if (lk_me.sid[0] == '\0' || uid_of(c) == NULL)
		return;
	introduce(NULL, true, c);
}

/* ---- the burst ---- */

/* "+ntk key" (with args) of ch, into buf. */
static void
chan_modes_text(const struct chan *ch, char *buf, size_t sz)
{
	static const struct { unsigned bit; char ch; } m[] = {
		{ CMODE_INVITE, 'i' }, { CMODE_MODERATED, 'm' },
		{ CMODE_NOEXT, 'n' }, { CMODE_PRIVATE, 'p' },
		{ CMODE_SECRET, 's' }, { CMODE_TOPIC, 't' },
	};
	char letters[16] = "+", args[IRC_LINE_MAX] = "";
	size_t i, n = 1;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (ch->modes & m[i].bit)
			letters[n++] = m[i].ch;
	if (ch->key != NULL) {
		letters[n++] = 'k';
		snprintf(args + strlen(args), sizeof(args) - strlen(args),
		    " %s", ch->key);
	}
	if (ch->limit > 0) {
		letters[n++] = 'l';
		snprintf(args + strlen(args), sizeof(args) - strlen(args),
		    " %u", ch->limit);
	}
	letters[n] = '\0';
	snprintf(buf, sz, "%s%s", letters, args);
}

/* One channel's SJOIN lines (members not behind l), masks and topic. */
static void
burst_chan(struct link *l, struct chan *ch)
{
	static const struct { char letter; size_t off; } lists[] = {
		{ 'b', offsetof(struct chan, bans) },
		{ 'e', offsetof(struct chan, excepts) },
		{ 'I', offsetof(struct chan, invex) },
	};
	char modes[IRC_LINE_MAX], head[IRC_LINE_MAX], buf[IRC_LINE_MAX];
	struct member *mb;
	struct mask *mk;
	size_t n = 0, hl, i;

	chan_modes_text(ch, modes, sizeof(modes));
	hl = (size_t)snprintf(head, sizeof(head), ":%s SJOIN %lld %s %s :",
	    lk_me.sid, (long long)ch->created, ch->name, modes);
	buf[0] = '\0';
	for (mb = ch->members; mb != NULL; mb = mb->cnext) {
		const char *uid;
		char one[16];
		int w;

		if (lk_user_server(mb->c)->via == l ||
		    (uid = uid_of(mb->c)) == NULL)
			continue;
		w = snprintf(one, sizeof(one), "%s%s%s", (mb->modes & MEMB_OP) ?
		    "@" : "", (mb->modes & MEMB_VOICE) ? "+" : "", uid);
		if (hl + n + (size_t)w + 1 > IRC_LINE_MAX - 20) {
			lk_send(l, "%s%s", head, buf);
			n = 0;
			buf[0] = '\0';
		}
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
		    n > 0 ? " " : "", one);
	}
	if (n == 0)
		return;		/* nobody it does not know already */
	lk_send(l, "%s%s", head, buf);
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		mk = *(struct mask **)(void *)((char *)ch + lists[i].off);
		if (lists[i].letter == 'e' && !(l->caps & LKCAP_EX))
			continue;
		if (lists[i].letter == 'I' && !(l->caps & LKCAP_IE))
			continue;
		for (; mk != NULL; mk = mk->next)
			lk_send(l, ":%s BMASK %lld %s %c :%s", lk_me.sid,
			    (long long)ch->created, ch->name,
			    lists[i].letter, mk->mask);
	}
	if (ch->topic != NULL && (l->caps & LKCAP_TB))
		lk_send(l, ":%s TB %s %lld %s :%s", lk_me.sid, ch->name,
		    (long long)ch->topic_time, ch->topic_by != NULL ?
		    ch->topic_by : lk_me.name, ch->topic);
}

void
lk_burst(struct link *l)
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
	for (i = 0; i < irc.chans.nb; i++)
		for (e = irc.chans.b[i]; e != NULL; e = e->next)
			burst_chan(l, (struct chan *)(void *)e);
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
	const char *um = m->param[3], *account = NULL;
	struct client *c, *old;

	if (from == NULL)
		return;
	if (strlen(uid) != LK_UIDLEN || strncmp(uid, from->sid, LK_SIDLEN) ||
	    lk_user_uid(uid) != NULL || strlen(nick) > NICKLEN_MAX ||
	    nick[0] == '\0' || strpbrk(nick, "!@*?,. ") != NULL) {
		log_info("link", "%s: bad or duplicate UID %s (%s): ignored",
		    l->name, uid, nick);
		return;
	}
	if ((old = irc_client_find(nick)) != NULL &&
	    !collide(l, old, uid, ts))
		return;
	if (euid && strcmp(m->param[9], "*") != 0)
		account = m->param[9];
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto nomem;
	if ((c->user = xstrdup(m->param[4])) == NULL ||
	    (c->host = xstrdup(m->param[5])) == NULL ||
	    (c->realname = xstrdup(m->param[m->nparam - 1])) == NULL ||
	    (account != NULL && (c->account = xstrdup(account)) == NULL) ||
	    irc_nick_set(c, nick) == -1 ||
	    lk_new(c, uid, from, ts) == NULL) {
		irc_nick_unset(c);
		free(c->user);
		free(c->host);
		free(c->realname);
		free(c->account);
		free(c);
		goto nomem;
	}
	snprintf(c->lk->ip, sizeof(c->lk->ip), "%s", m->param[6]);
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
	if (account != NULL)
		c->umodes |= UMODE_REGISTERED;
	irc.nusers++;
	if (irc.nusers > irc.max_users)
		irc.max_users = irc.nusers;
	from->nusers++;
	introduce(l, true, c);
	lk_svc_user_added(c);	/* its account, if the services are ours */
	return;
nomem:
	log_warnx("link", "out of memory adding %s from %s", nick, l->name);
	lk_drop(l, "Out of memory");
}

void
lk_uid(struct link *l, struct server *from, struct client *u, struct msg *m)
{
	(void)u;
	add_user(l, from, m, false);
}

void
lk_euid(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	(void)u;
	add_user(l, from, m, true);
}

void
lk_users_split(struct server *s)
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
void
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
void
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
	if (!is_remote(v))
		irc_send(v, ":%s KILL %s :%s", src, v->nick, why);
	irc_user_kill(v, text, text);
}

/* :uid NICK newnick :ts */
void
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
void
lk_away(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	char *p = NULL;

	(void)from;
	if (u == NULL)
		return;
	if (m->nparam > 0 && m->param[0][0] != '\0' &&
	    (p = xstrdup(m->param[0])) == NULL)
		return;
	free(u->away);
	u->away = p;
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

/* ---- messages ---- */

/* ch's line to each link with a member behind it, but l, once. */
static void
chan_route(struct link *l, struct chan *ch, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
chan_route(struct link *l, struct chan *ch, const char *fmt, ...)
{
	char buf[IRC_LINE_MAX + 1];
	struct link *seen[64];
	struct member *mb;
	size_t n = 0, i;
	va_list ap;

	va_start(ap, fmt);
	(void)irc_vformat(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	buf[strcspn(buf, "\r\n")] = '\0';
	for (mb = ch->members; mb != NULL; mb = mb->cnext) {
		struct link *v = lk_user_server(mb->c)->via;

		if (v == NULL || v == l)
			continue;
		for (i = 0; i < n && seen[i] != v; i++)
			;
		if (i < n)
			continue;
		if (n < sizeof(seen) / sizeof(seen[0]))
			seen[n++] = v;
		lk_send(v, "%s", buf);
	}
}

static void
message_in(struct link *l, struct client *u, struct msg *m, const char *cmd)
{
	const char *target = m->param[0], *text = m->nparam > 1 ?
	    m->param[1] : "";
	bool tagmsg = strcmp(cmd, "TAGMSG") == 0;
	struct irc_ev ev;
	struct chan *ch;
	struct client *to;

	if (u == NULL)
		return;		/* server notices: not shown yet */
	if (target[0] == '#' || target[0] == '&') {
		if ((ch = irc_chan_find(target)) == NULL)
			return;
		if (tagmsg)
			irc_ev_init(&ev, u, true, ":%s TAGMSG %s",
			    irc_prefix(u), ch->name);
		else
			irc_ev_init(&ev, u, true, ":%s %s %s :%s",
			    irc_prefix(u), cmd, ch->name, text);
		if (tagmsg)
			ev.need = CAP_MESSAGE_TAGS;
		irc_ev_chan(&ev, ch, u);
		irc_ev_message(&ev, u, ch, NULL, cmd, text);
		irc_ev_done(&ev);
		if (tagmsg)
			chan_route(l, ch, ":%s TAGMSG %s", u->lk->uid, ch->name);
		else
			chan_route(l, ch, ":%s %s %s :%s", u->lk->uid, cmd,
			    ch->name, text);
		return;
	}
	if ((to = lk_user_uid(target)) == NULL &&
	    (to = irc_client_find(target)) == NULL)
		return;
	if (is_remote(to)) {	/* passing through */
		if (to->lk->server->via != l) {
			if (tagmsg)
				lk_send(to->lk->server->via, ":%s TAGMSG %s",
				    u->lk->uid, to->lk->uid);
			else
				lk_send(to->lk->server->via, ":%s %s %s :%s",
				    u->lk->uid, cmd, to->lk->uid, text);
		}
		return;
	}
	if (tagmsg)
		irc_ev_init(&ev, u, true, ":%s TAGMSG %s", irc_prefix(u),
		    to->nick);
	else
		irc_ev_init(&ev, u, true, ":%s %s %s :%s", irc_prefix(u), cmd,
		    to->nick, text);
	if (tagmsg)
		ev.need = CAP_MESSAGE_TAGS;
	irc_ev_send(&ev, to);
	irc_ev_message(&ev, u, NULL, to, cmd, text);
	irc_ev_done(&ev);
}

void
lk_privmsg(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	(void)from;
	if (!lk_svc_message(l, u, m, false))
		message_in(l, u, m, "PRIVMSG");
}

void
lk_notice(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	(void)from;
	if (!lk_svc_message(l, u, m, true))
		message_in(l, u, m, "NOTICE");
}

void
lk_tagmsg(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	(void)from;
	message_in(l, u, m, "TAGMSG");
}

/* A local user's message (irc_hooks.message): to the links it concerns. */
static void
on_message(struct client *from, struct chan *ch, struct client *to,
    const char *cmd, const char *text, const struct irc_ev *ev)
{
	bool tagmsg = strcmp(cmd, "TAGMSG") == 0;

	(void)ev;
	if (from == NULL || is_remote(from) || lk_links == NULL ||
	    uid_of(from) == NULL)
		return;
	if (ch != NULL) {
		if (tagmsg)
			chan_route(NULL, ch, ":%s TAGMSG %s", from->lk->uid,
			    ch->name);
		else
			chan_route(NULL, ch, ":%s %s %s :%s", from->lk->uid,
			    cmd, ch->name, text);
	} else if (to != NULL && is_remote(to)) {
		if (tagmsg)
			lk_send(to->lk->server->via, ":%s TAGMSG %s",
			    from->lk->uid, to->lk->uid);
		else
			lk_send(to->lk->server->via, ":%s %s %s :%s",
			    from->lk->uid, cmd, to->lk->uid, text);
	}
}

/* ---- channels ---- */

static struct mask **
mask_list(struct chan *ch, char letter, unsigned **n)
{
	switch (letter) {
	case 'b':
		*n = &ch->nbans;
		return &ch->bans;
	case 'e':
		*n = &ch->nexcepts;
		return &ch->excepts;
	case 'I':
		*n = &ch->ninvex;
		return &ch->invex;
	}
	return NULL;
}

/* true if the list changed */
static bool
mask_set(struct chan *ch, char letter, bool add, const char *mask,
    const char *setter)
{
	struct mask **pp, *mk;
	unsigned *n;

	if ((pp = mask_list(ch, letter, &n)) == NULL || mask[0] == '\0' ||
	    strlen(mask) > IRC_LINE_MAX / 2 || strchr(mask, ' ') != NULL)
		return false;
	for (; *pp != NULL; pp = &(*pp)->next)
		if (irc_casecmp((*pp)->mask, mask) == 0)
			break;
	if (!add) {
		if ((mk = *pp) == NULL)
			return false;
		*pp = mk->next;
		mk->next = NULL;
		irc_masks_free(mk);
		(*n)--;
		return true;
	}
	if (*pp != NULL || *n >= conf->chan_max_list ||
	    (mk = calloc(1, sizeof(*mk))) == NULL)
		return false;
	if ((mk->mask = xstrdup(mask)) == NULL ||
	    (mk->setter = xstrdup(setter)) == NULL) {
		irc_masks_free(mk);
		return false;
	}
	mk->when = ergo_now;
	*pp = mk;
	(*n)++;
	return true;
}

/* The changes of one mode command, shown to local members as MODE lines
 * of at most CHAN_MODES_MAX parameters. */
struct mout {
	struct chan	*ch;
	struct client	*from;		/* NULL: a server */
	char		 src[IRC_LINE_MAX];
	char		 modes[64], args[IRC_LINE_MAX];
	size_t		 nm, na;
	unsigned	 nparams;
	char		 sign;
};

static void
mout_init(struct mout *o, struct chan *ch, struct client *from,
    const char *srvname)
{
	memset(o, 0, sizeof(*o));
	o->ch = ch;
	o->from = from;
	snprintf(o->src, sizeof(o->src), "%s", from != NULL ?
	    irc_prefix(from) : srvname);
}

static void
mout_flush(struct mout *o)
{
	if (o->nm == 0)
		return;
	o->modes[o->nm] = '\0';
	o->args[o->na] = '\0';
	irc_chan_event(o->ch, o->from, NULL, ":%s MODE %s %s%s", o->src,
	    o->ch->name, o->modes, o->args);
	o->nm = o->na = 0;
	o->nparams = 0;
	o->sign = '\0';
}

static void
mout_add(struct mout *o, char sign, char letter, const char *arg)
{
	if (o->nm + 3 >= sizeof(o->modes) || (arg != NULL &&
	    (o->nparams == CHAN_MODES_MAX ||
	    o->na + strlen(arg) + 2 >= sizeof(o->args) - 64)))
		mout_flush(o);
	if (o->sign != sign)
		o->modes[o->nm++] = o->sign = sign;
	o->modes[o->nm++] = letter;
	if (arg != NULL) {
		o->na += (size_t)snprintf(o->args + o->na,
		    sizeof(o->args) - o->na, " %s", arg);
		o->nparams++;
	}
}

/* A user by UID (or nick, from older peers). */
static struct client *
user_ref(const char *s)
{
	struct client *c = lk_user_uid(s);

	return c != NULL ? c : irc_client_find(s);
}

/*
 * Applies modes (args from args[0..nargs)) to ch and shows them to the
 * local members; only additions if add_only (an SJOIN).
 */
static void
modes_apply(struct chan *ch, struct mout *o, const char *modes,
    char **args, int nargs, bool add_only)
{
	static const struct { char letter; unsigned bit; } simple[] = {
		{ 'i', CMODE_INVITE }, { 'm', CMODE_MODERATED },
		{ 'n', CMODE_NOEXT }, { 'p', CMODE_PRIVATE },
		{ 's', CMODE_SECRET }, { 't', CMODE_TOPIC },
	};
	const char *p, *arg;
	struct member *mb;
	struct client *t;
	char sign = '+', num[16];
	int ai = 0;
	size_t i;

	for (p = modes; *p != '\0'; p++) {
		if (*p == '+' || *p == '-') {
			sign = *p;
			continue;
		}
		if (add_only && sign == '-')
			continue;
		for (i = 0; i < sizeof(simple) / sizeof(simple[0]); i++)
			if (simple[i].letter == *p)
				break;
		if (i < sizeof(simple) / sizeof(simple[0])) {
			if (sign == '+' && !(ch->modes & simple[i].bit)) {
				ch->modes |= simple[i].bit;
				mout_add(o, '+', *p, NULL);
			} else if (sign == '-' && (ch->modes & simple[i].bit)) {
				ch->modes &= ~simple[i].bit;
				mout_add(o, '-', *p, NULL);
			}
			continue;
		}
		switch (*p) {
		case 'k':
			arg = ai < nargs ? args[ai++] : NULL;
			if (sign == '+' && arg != NULL && arg[0] != '\0' &&
			    strlen(arg) <= CHAN_KEYLEN && !strchr(arg, ' ')) {
				char *k = xstrdup(arg);

				if (k == NULL)
					break;
				free(ch->key);
				ch->key = k;
				mout_add(o, '+', 'k', arg);
			} else if (sign == '-' && ch->key != NULL) {
				free(ch->key);
				ch->key = NULL;
				mout_add(o, '-', 'k', "*");
			}
			break;
		case 'l':
			if (sign == '+') {
				arg = ai < nargs ? args[ai++] : NULL;
				if (arg == NULL || atoi(arg) <= 0)
					break;
				ch->limit = (unsigned)atoi(arg);
				snprintf(num, sizeof(num), "%u", ch->limit);
				mout_add(o, '+', 'l', num);
			} else if (ch->limit > 0) {
				ch->limit = 0;
				mout_add(o, '-', 'l', NULL);
			}
			break;
		case 'b':
		case 'e':
		case 'I':
			if ((arg = ai < nargs ? args[ai++] : NULL) == NULL)
				break;
			if (mask_set(ch, *p, sign == '+', arg, o->src))
				mout_add(o, sign, *p, arg);
			break;
		case 'o':
		case 'v':
			if ((arg = ai < nargs ? args[ai++] : NULL) == NULL ||
			    (t = user_ref(arg)) == NULL ||
			    (mb = irc_member_find(ch, t)) == NULL)
				break;
			if (sign == '+' && !(mb->modes & (*p == 'o' ? MEMB_OP :
			    MEMB_VOICE))) {
				mb->modes |= *p == 'o' ? MEMB_OP : MEMB_VOICE;
				mout_add(o, '+', *p, t->nick);
			} else if (sign == '-' && (mb->modes & (*p == 'o' ?
			    MEMB_OP : MEMB_VOICE))) {
				mb->modes &= ~(*p == 'o' ? MEMB_OP : MEMB_VOICE);
				mout_add(o, '-', *p, t->nick);
			}
			break;
		default:
			break;	/* a mode we do not have: ignored */
		}
	}
}

/*
 * Their channel is older: ours loses its modes, lists and statuses
 * (shown to local members as the server's MODE), and takes their TS.
 */
static void
chan_lose(struct chan *ch, time_t ts, const char *srvname)
{
	static const char lists[] = "beI";
	struct member *mb;
	struct mask *mk;
	struct mout o;
	unsigned *n;
	size_t i;

	mout_init(&o, ch, NULL, srvname);
	modes_apply(ch, &o, "-imnpstkl", NULL, 0, false);
	for (i = 0; lists[i] != '\0'; i++) {
		struct mask **pp = mask_list(ch, lists[i], &n);

		for (mk = *pp; mk != NULL; mk = mk->next)
			mout_add(&o, '-', lists[i], mk->mask);
		irc_masks_free(*pp);
		*pp = NULL;
		*n = 0;
	}
	for (mb = ch->members; mb != NULL; mb = mb->cnext) {
		if (mb->modes & MEMB_OP)
			mout_add(&o, '-', 'o', mb->c->nick);
		if (mb->modes & MEMB_VOICE)
			mout_add(&o, '-', 'v', mb->c->nick);
		mb->modes = 0;
	}
	mout_flush(&o);
	log_info("link", "%s: TS %lld lost to %lld: our modes went",
	    ch->name, (long long)ch->created, (long long)ts);
	ch->created = ts;
}

/* The channel, made if need be with TS ts; NULL: a bad name or ENOMEM. */
static struct chan *
chan_get(const char *name, time_t ts)
{
	struct chan *ch;

	if ((ch = irc_chan_find(name)) != NULL)
		return ch;
	if ((name[0] != '#' && name[0] != '&') ||
	    strlen(name) > CHANLEN_MAX || strpbrk(name, " ,\a") != NULL ||
	    (ch = irc_chan_create(name)) == NULL)
		return NULL;
	ch->created = ts;
	return ch;
}

/* :sid SJOIN ts #chan +modes [args] :[@+]uid ... */
void
lk_sjoin(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	time_t ts = (time_t)strtoll(m->param[0], NULL, 10);
	char *list = m->param[m->nparam - 1], *tok, *save = NULL;
	char fwd[IRC_LINE_MAX], mtext[IRC_LINE_MAX];
	struct chan *ch;
	struct client *t;
	struct mout o;
	bool theirs, fresh;
	size_t n = 0;

	(void)u;
	if (from == NULL || ts <= 0)
		return;
	fresh = irc_chan_find(m->param[1]) == NULL;
	if ((ch = chan_get(m->param[1], ts)) == NULL)
		return;
	if (!fresh && ts < ch->created)
		chan_lose(ch, ts, from->name);
	theirs = ts <= ch->created;
	mout_init(&o, ch, NULL, from->name);
	if (theirs)
		modes_apply(ch, &o, m->param[2], m->param + 3,
		    m->nparam - 4, true);
	fwd[0] = '\0';
	for (tok = strtok_r(list, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		unsigned char st = 0;
		const char *id = tok;

		for (; *id == '@' || *id == '+'; id++)
			st |= *id == '@' ? MEMB_OP : MEMB_VOICE;
		if ((t = lk_user_uid(id)) == NULL || t->lk->server->via != l ||
		    irc_member_find(ch, t) != NULL)
			continue;
		if (!theirs)
			st = 0;
		if (irc_member_add(ch, t, st) == NULL)
			continue;
		irc_user_join_send(t, ch);
		if (st & MEMB_OP)
			mout_add(&o, '+', 'o', t->nick);
		if (st & MEMB_VOICE)
			mout_add(&o, '+', 'v', t->nick);
		if (n + strlen(tok) + 2 < sizeof(fwd) - 128)
			n += (size_t)snprintf(fwd + n, sizeof(fwd) - n, "%s%s%s%s",
			    n > 0 ? " " : "", (st & MEMB_OP) ? "@" : "",
			    (st & MEMB_VOICE) ? "+" : "", id);
	}
	mout_flush(&o);
	if (ch->nmembers == 0) {
		irc_chan_destroy(ch);
		return;
	}
	chan_modes_text(ch, mtext, sizeof(mtext));
	lk_send_all(l, ":%s SJOIN %lld %s %s :%s", from->sid,
	    (long long)ch->created, ch->name, mtext, fwd);
}

/* :uid JOIN ts #chan + (or JOIN 0) */
void
lk_join(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	time_t ts = (time_t)strtoll(m->param[0], NULL, 10);
	struct chan *ch;

	(void)from;
	if (u == NULL)
		return;
	if (strcmp(m->param[0], "0") == 0) {
		while (u->chans != NULL) {
			irc_chan_event(u->chans->ch, u, NULL, ":%s PART %s",
			    irc_prefix(u), u->chans->ch->name);
			irc_member_del(u->chans);
		}
		lk_send_all(l, ":%s JOIN 0", u->lk->uid);
		return;
	}
	if (ts <= 0 || (ch = chan_get(m->param[1], ts)) == NULL ||
	    irc_member_find(ch, u) != NULL)
		return;
	if (ts < ch->created)
		chan_lose(ch, ts, u->lk->server->name);
	if (irc_member_add(ch, u, 0) == NULL) {
		if (ch->nmembers == 0)
			irc_chan_destroy(ch);
		return;
	}
	irc_user_join_send(u, ch);
	lk_send_all(l, ":%s JOIN %lld %s +", u->lk->uid,
	    (long long)ch->created, ch->name);
}

/* :uid PART #chan[,#chan] [:reason] */
void
lk_part(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	const char *why = m->nparam > 1 ? m->param[1] : NULL;
	char *save = NULL, *name;
	struct member *mb;
	struct chan *ch;

	(void)from;
	if (u == NULL)
		return;
	for (name = strtok_r(m->param[0], ",", &save); name != NULL;
	    name = strtok_r(NULL, ",", &save)) {
		if ((ch = irc_chan_find(name)) == NULL ||
		    (mb = irc_member_find(ch, u)) == NULL)
			continue;
		if (why != NULL) {
			irc_chan_event(ch, u, NULL, ":%s PART %s :%s",
			    irc_prefix(u), ch->name, why);
			lk_send_all(l, ":%s PART %s :%s", u->lk->uid, ch->name,
			    why);
		} else {
			irc_chan_event(ch, u, NULL, ":%s PART %s",
			    irc_prefix(u), ch->name);
			lk_send_all(l, ":%s PART %s", u->lk->uid, ch->name);
		}
		irc_member_del(mb);
	}
}

/* :src KICK #chan uid [:reason] */
void
lk_kick(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	const char *why = m->nparam > 2 ? m->param[2] : "";
	struct member *mb;
	struct client *t;
	struct chan *ch;

	if ((ch = irc_chan_find(m->param[0])) == NULL ||
	    (t = user_ref(m->param[1])) == NULL ||
	    (mb = irc_member_find(ch, t)) == NULL)
		return;
	irc_chan_event(ch, u, NULL, ":%s KICK %s %s :%s", u != NULL ?
	    irc_prefix(u) : from->name, ch->name, t->nick, why);
	lk_send_all(l, ":%s KICK %s %s :%s", u != NULL ? u->lk->uid :
	    from->sid, ch->name, uid_of(t) != NULL ? t->lk->uid : t->nick,
	    why);
	irc_member_del(mb);
}

static int
topic_set(struct chan *ch, const char *topic, const char *by, time_t when)
{
	char *t = NULL, *b;

	if (topic[0] != '\0' && (t = xstrdup(topic)) == NULL)
		return -1;
	if ((b = xstrdup(by)) == NULL) {
		free(t);
		return -1;
	}
	free(ch->topic);
	free(ch->topic_by);
	ch->topic = t;
	ch->topic_by = b;
	ch->topic_time = when;
	return 0;
}

/* :uid TOPIC #chan :topic */
void
lk_topic(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	const char *topic = m->nparam > 1 ? m->param[1] : "";
	struct chan *ch;

	(void)from;
	if (u == NULL || (ch = irc_chan_find(m->param[0])) == NULL ||
	    topic_set(ch, topic, irc_prefix(u), ergo_now) == -1)
		return;
	irc_chan_event(ch, u, NULL, ":%s TOPIC %s :%s", irc_prefix(u),
	    ch->name, topic);
	lk_send_all(l, ":%s TOPIC %s :%s", u->lk->uid, ch->name, topic);
}

/* :sid TB #chan topicts [setter] :topic: a burst's topic, if older. */
void
lk_tb(struct link *l, struct server *from, struct client *u, struct msg *m)
{
	time_t ts = (time_t)strtoll(m->param[1], NULL, 10);
	const char *by, *topic = m->param[m->nparam - 1];
	struct chan *ch;

	(void)u;
	if (from == NULL)
		return;
	by = m->nparam > 3 ? m->param[2] : from->name;
	if ((ch = irc_chan_find(m->param[0])) == NULL ||
	    topic[0] == '\0' ||
	    (ch->topic != NULL && ch->topic_time <= ts) ||
	    topic_set(ch, topic, by, ts) == -1)
		return;
	irc_chan_event(ch, NULL, NULL, ":%s TOPIC %s :%s", from->name,
	    ch->name, topic);
	lk_send_all(l, ":%s TB %s %lld %s :%s", from->sid, ch->name,
	    (long long)ts, by, topic);
}

/* :src TMODE ts #chan modes [args] */
void
lk_tmode(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	time_t ts = (time_t)strtoll(m->param[0], NULL, 10);
	char fwd[IRC_LINE_MAX];
	struct chan *ch;
	struct mout o;
	size_t n;
	int i;

	if ((ch = irc_chan_find(m->param[1])) == NULL || ts > ch->created)
		return;
	mout_init(&o, ch, u, from != NULL ? from->name : "");
	modes_apply(ch, &o, m->param[2], m->param + 3, m->nparam - 3, false);
	mout_flush(&o);
	n = (size_t)snprintf(fwd, sizeof(fwd), ":%s TMODE %lld %s",
	    u != NULL ? u->lk->uid : from->sid, (long long)ts, ch->name);
	for (i = 2; i < m->nparam && n < sizeof(fwd); i++)
		n += (size_t)snprintf(fwd + n, sizeof(fwd) - n, " %s",
		    m->param[i]);
	lk_send_all(l, "%s", fwd);
}

/* :sid BMASK ts #chan type :masks */
void
lk_bmask(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	time_t ts = (time_t)strtoll(m->param[0], NULL, 10);
	char *save = NULL, *mk, copy[IRC_LINE_MAX];
	struct chan *ch;
	struct mout o;

	(void)u;
	if (from == NULL || (ch = irc_chan_find(m->param[1])) == NULL ||
	    ts > ch->created || strlen(m->param[2]) != 1 ||
	    strchr("beI", m->param[2][0]) == NULL)
		return;
	snprintf(copy, sizeof(copy), "%s", m->param[3]);
	mout_init(&o, ch, NULL, from->name);
	for (mk = strtok_r(copy, " ", &save); mk != NULL;
	    mk = strtok_r(NULL, " ", &save))
		if (mask_set(ch, m->param[2][0], true, mk, from->name))
			mout_add(&o, '+', m->param[2][0], mk);
	mout_flush(&o);
	lk_send_all(l, ":%s BMASK %lld %s %s :%s", from->sid,
	    (long long)ch->created, ch->name, m->param[2], m->param[3]);
}

/* :uid MODE uid :+modes (user modes) */
void
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
void
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
	lk_send_all(l, "%s", fwd);
	if (!irc_match(m->param[0], lk_me.name) ||
	    lk_svc_encap(l, from, u, m))	/* SU, SVSLOGIN, SASL */
		return;
	if (strcmp(m->param[1], "CHGHOST") == 0 && m->nparam >= 4 &&
	    (t = user_ref(m->param[2])) != NULL && is_remote(t))
		irc_user_chghost(t, NULL, m->param[3]);
}

/* :uid WHOIS target :nick: a remote WHOIS of one of ours. */
void
lk_whois(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	struct client *t = user_ref(m->param[m->nparam - 1]);

	(void)from;
	if (u == NULL)
		return;
	if (t == NULL || is_remote(t) || uid_of(t) == NULL) {
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
	if (t->away != NULL)
		lk_send(l, ":%s 301 %s %s :%s", lk_me.sid, u->lk->uid, t->nick,
		    t->away);
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
static bool
told_by_handler(const struct client *c)
{
	return lk_cur != NULL || lk_links == NULL || c == NULL ||
	    is_remote(c);
}

static void
on_quit(struct client *c)
{
	if (c->lk == NULL || c->lk->gone || lk_links == NULL)
		return;
	c->lk->gone = true;
	if (is_remote(c))	/* an oper here killed it */
		lk_send_all(NULL, ":%s KILL %s :%s", lk_me.sid, c->lk->uid,
		    c->quitmsg != NULL ? c->quitmsg : "Killed");
	else
		lk_send_all(NULL, ":%s QUIT :%s", c->lk->uid,
		    c->quitmsg != NULL ? c->quitmsg : "Client exited");
}

static void
on_client_free(struct client *c)
{
	struct lk_rec *r;

	if (c->lk == NULL)
		return;
	r = (struct lk_rec *)(void *)c->lk;
	if (is_remote(c) && c->lk->server->nusers > 0)
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
	if (!is_remote(c))
		c->lk->ts = ergo_now;
	if (told_by_handler(c))
		return;
	lk_send_all(NULL, ":%s NICK %s :%lld", c->lk->uid, c->nick,
	    (long long)c->lk->ts);
}

static void
on_joined(struct client *c, struct chan *ch)
{
	struct member *mb = irc_member_find(ch, c);
	char modes[IRC_LINE_MAX];

	if (told_by_handler(c) || mb == NULL || uid_of(c) == NULL)
		return;
	if (ch->nmembers == 1) {	/* made by this JOIN */
		chan_modes_text(ch, modes, sizeof(modes));
		lk_send_all(NULL, ":%s SJOIN %lld %s %s :%s%s", lk_me.sid,
		    (long long)ch->created, ch->name, modes,
		    (mb->modes & MEMB_OP) ? "@" : "", c->lk->uid);
	} else
		lk_send_all(NULL, ":%s JOIN %lld %s +", c->lk->uid,
		    (long long)ch->created, ch->name);
}

/* PART KICK TOPIC MODE by a local user (or this server), as TS6. */
static void
on_chan_event(struct chan *ch, const struct irc_ev *ev)
{
	char line[IRC_LINE_MAX + 1], out[IRC_LINE_MAX], *crlf;
	const char *src;
	struct client *t;
	struct msg m;
	size_t n;

	if (lk_cur != NULL || lk_links == NULL ||
	    (ev->from != NULL && (is_remote(ev->from) ||
	    uid_of(ev->from) == NULL)))
		return;
	snprintf(line, sizeof(line), "%.*s", (int)ev->blen, ev->body);
	if ((crlf = strpbrk(line, "\r\n")) != NULL)
		*crlf = '\0';
	if (irc_parse(line, &m) == -1 || m.nparam < 1)
		return;
	src = ev->from != NULL ? ev->from->lk->uid : lk_me.sid;
	if (strcmp(m.cmd, "PART") == 0) {
		if (m.nparam > 1)
			lk_send_all(NULL, ":%s PART %s :%s", src, ch->name,
			    m.param[1]);
		else
			lk_send_all(NULL, ":%s PART %s", src, ch->name);
	} else if (strcmp(m.cmd, "KICK") == 0 && m.nparam >= 2) {
		if ((t = irc_client_find(m.param[1])) == NULL ||
		    uid_of(t) == NULL)
			return;
		lk_send_all(NULL, ":%s KICK %s %s :%s", src, ch->name,
		    t->lk->uid, m.nparam > 2 ? m.param[2] : "");
	} else if (strcmp(m.cmd, "TOPIC") == 0) {
		if (ev->from == NULL)
			lk_send_all(NULL, ":%s TB %s %lld %s :%s", lk_me.sid,
			    ch->name, (long long)ch->topic_time, lk_me.name,
			    m.nparam > 1 ? m.param[1] : "");
		else
			lk_send_all(NULL, ":%s TOPIC %s :%s", src, ch->name,
			    m.nparam > 1 ? m.param[1] : "");
	} else if (strcmp(m.cmd, "MODE") == 0 && m.nparam >= 2) {
		const char *p;
		int ai = 2;
		char sign = '+';

		n = (size_t)snprintf(out, sizeof(out), ":%s TMODE %lld %s %s",
		    src, (long long)ch->created, ch->name, m.param[1]);
		for (p = m.param[1]; *p != '\0' && n < sizeof(out); p++) {
			const char *arg;

			if (*p == '+' || *p == '-') {
				sign = *p;
				continue;
			}
			if (strchr("ovbeIk", *p) == NULL &&
			    !(*p == 'l' && sign == '+'))
				continue;
			if (ai >= m.nparam)
				break;
			arg = m.param[ai++];
			if ((*p == 'o' || *p == 'v') &&
			    (t = irc_client_find(arg)) != NULL &&
			    uid_of(t) != NULL)
				arg = t->lk->uid;
			n += (size_t)snprintf(out + n, sizeof(out) - n, " %s",
			    arg);
		}
		if (n < sizeof(out))
			lk_send_all(NULL, "%s", out);
	}
}

/* AWAY of a local user, seen as its away-notify. */
static void
on_peers_sent(struct irc_ev *ev, struct client *c)
{
	const char *p;

	if (told_by_handler(c) || c->lk == NULL)
		return;
	if ((p = strchr(ev->body, ' ')) == NULL || strncmp(p, " AWAY", 5))
		return;
	if (c->away != NULL)
		lk_send_all(NULL, ":%s AWAY :%s", c->lk->uid, c->away);
	else
		lk_send_all(NULL, ":%s AWAY", c->lk->uid);
}

static const char *
on_user_server(const struct client *c, const char **info)
{
	if (!is_remote(c))
		return NULL;
	*info = c->lk->server->info;
	return c->lk->server->name;
}

void
lk_user_init(void)
{
	irc_hooks.user_server = on_user_server;
	htab_init(&uids);
	IRC_HOOK_ADD(registered, on_registered);
	IRC_HOOK_ADD(quit, on_quit);
	IRC_HOOK_ADD(client_free, on_client_free);
	IRC_HOOK_ADD(nick_changed, on_nick_changed);
	IRC_HOOK_ADD(joined, on_joined);
	IRC_HOOK_ADD(chan_event, on_chan_event);
	IRC_HOOK_ADD(message, on_message);
	IRC_HOOK_ADD(peers_sent, on_peers_sent);
}
