/*
 * irc_link_msg.c: messages across links: PRIVMSG, NOTICE and TAGMSG
 * routed by UID, one copy per link (never one per user), both ways,
 * with their IRCv3 tags where the peer takes tags on lines (Solanum's
 * STAG): msgid and time, so every recipient on every server sees the
 * same ones, and the client-only tags (+...). The account tag is each
 * server's own from the sender's account, which EUID and ENCAP SU
 * carry. A peer without STAG gets the bare line and no TAGMSG.
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

/* ---- messages ---- */

/* The tag section ("@msgid=..;time=..;+a=b ") of ev for a peer. */
static void
tags_text(const struct irc_ev *ev, char *buf, size_t sz)
{
	size_t n;

	n = (size_t)snprintf(buf, sz, "@time=%s", ev->time);
	if (ev->msgid[0] != '\0' && n < sz)
		n += (size_t)snprintf(buf + n, sz - n, ";msgid=%s", ev->msgid);
	if (ev->ctags != NULL && ev->ctags[0] != '\0' && n < sz)
		n += (size_t)snprintf(buf + n, sz - n, ";%s", ev->ctags);
	if (n + 2 > sz) {	/* too long for a tag section: none */
		buf[0] = '\0';
		return;
	}
	buf[n++] = ' ';
	buf[n] = '\0';
}

/* One message line to l, with tags if it takes them; a TAGMSG only
 * then. */
static void
msg_send(struct link *l, const char *tags, bool tagmsg, const char *line)
{
	if (!(l->caps & LKCAP_STAG)) {
		if (!tagmsg)
			lk_send(l, "%s", line);
	} else
		lk_send_tagged(l, tags, line);
}

/* The prefix of a STATUSMSG as l reads it: Ergo's ~&@%+ for our own
 * kind; TS6's @ and + for others (~ & as @, % as @ where the peer has
 * no halfops: never wider than asked). '\0': none. */
static char
status_for(const struct link *l, char status, unsigned char need)
{
	char sym[8];

	if (status == '\0' && need != 0 && !(l->caps & LKCAP_ERGO)) {
		/* +U's widening, which only our kind applies itself */
		(void)irc_memb_symbols(need & (unsigned char)-need, false,
		    sym, sizeof(sym));
		status = sym[0];
	}
	if (status == '\0' || (l->caps & LKCAP_ERGO))
		return status;
	if (status == '~' || status == '&' ||
	    (status == '%' && !(l->caps & LKCAP_HOPS)))
		return '@';
	return status;
}

/*
 * A message from uid to ch, to each link with a member behind it (of a
 * rank in need, if set) but l, once: "PRIVMSG [status]#chan :text".
 */
static void
chan_route(struct link *l, struct chan *ch, char status, unsigned char need,
    const char *uid, const char *cmd, const char *text, const char *tags)
{
	struct link *seen[64];
	struct member *mb;
	char line[IRC_LINE_MAX + 1], st[2] = "";
	bool tagmsg = strcmp(cmd, "TAGMSG") == 0;
	size_t n = 0, i;

	for (mb = ch->members; mb != NULL; mb = mb->cnext) {
		struct link *v = lk_user_server(mb->c)->via;

		if (v == NULL || v == l || (need != 0 && !(mb->modes & need)))
			continue;
		for (i = 0; i < n && seen[i] != v; i++)
			;
		if (i < n)
			continue;
		if (n < sizeof(seen) / sizeof(seen[0]))
			seen[n++] = v;
		st[0] = status_for(v, status, need);
		if (tagmsg)
			snprintf(line, sizeof(line), ":%s TAGMSG %s%s", uid,
			    st, ch->name);
		else
			snprintf(line, sizeof(line), ":%s %s %s%s :%s", uid,
			    cmd, st, ch->name, text);
		msg_send(v, tags, tagmsg, line);
	}
}

/* A msgid as we make them (and as peers of ours pass them on). */
static bool
msgid_valid(const char *s, size_t n)
{
	return n > 0 && n <= IRC_MSGID_LEN && strspn(s, "abcdefghijklmnop"
	    "qrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") >= n;
}

/* An IRCv3 server-time: 2026-01-02T03:04:05.678Z */
static bool
time_valid(const char *s, size_t n)
{
	return n == 24 && strspn(s, "0123456789-T:.Z") >= n &&
	    s[4] == '-' && s[10] == 'T' && s[23] == 'Z';
}

/* What a peer's tags say of a message: its msgid and time (kept when
 * well formed) and its client-only tags, into ev. */
static void
tags_take(struct irc_ev *ev, const char *tags, char *ctags, size_t csz)
{
	const char *p, *eq, *end;
	size_t kl, vl;

	ctags[0] = '\0';
	if (tags == NULL)
		return;
	for (p = tags; *p != '\0'; p = *end == ';' ? end + 1 : end) {
		end = p + strcspn(p, ";");
		if ((eq = memchr(p, '=', (size_t)(end - p))) == NULL)
			continue;	/* no value: not one of ours */
		kl = (size_t)(eq - p);
		vl = (size_t)(end - eq - 1);
		if (kl == 5 && strncmp(p, "msgid", 5) == 0 &&
		    msgid_valid(eq + 1, vl))
			snprintf(ev->msgid, sizeof(ev->msgid), "%.*s", (int)vl,
			    eq + 1);
		else if (kl == 4 && strncmp(p, "time", 4) == 0 &&
		    time_valid(eq + 1, vl))
			snprintf(ev->time, sizeof(ev->time), "%.*s", (int)vl,
			    eq + 1);
	}
	if (irc_tags_client(tags, ctags, csz) > 0)
		ev->ctags = ctags;
}

/* status as a string ("" for none) */
static const char *
st_of(char *st, char status)
{
	st[0] = status;
	st[1] = '\0';
	return st;
}

static void
message_in(struct link *l, struct client *u, struct msg *m, const char *cmd)
{
	const char *target = m->param[0], *text = m->nparam > 1 ?
	    m->param[1] : "";
	bool tagmsg = strcmp(cmd, "TAGMSG") == 0;
	char ctags[IRC_CLIENT_TAGS_MAX + 1], tags[IRC_TAGS_MAX];
	char line[IRC_LINE_MAX + 1], st[2], status;
	unsigned char need = 0;
	struct irc_ev ev;
	struct chan *ch;
	struct client *to;

	if (u == NULL)
		return;		/* server notices: not shown yet */
	if ((status = irc_memb_symbol(target[0]) != 0 ? target[0] : '\0') !=
	    '\0' && (target[1] == '#' || target[1] == '&')) {
		need = MEMB_ATLEAST(irc_memb_symbol(status));
		target++;	/* STATUSMSG: @#chan, +#chan... */
	} else
		status = '\0';
	if (target[0] == '#' || target[0] == '&') {
		if ((ch = irc_chan_find(target)) == NULL)
			return;
		/* +U: a plain member's message reaches halfops and up, as
		 * in irc_user_may_send_chan */
		if ((ch->modes & CMODE_OPMOD) &&
		    irc_member_rank(irc_member_find(ch, u)) == 0 &&
		    (need == 0 || (need & MEMB_VOICE)))
			need = MEMB_ATLEAST(MEMB_HALFOP);
		if (tagmsg)
			irc_ev_init(&ev, u, true, ":%s TAGMSG %s%s",
			    irc_prefix(u), st_of(st, status), ch->name);
		else
			irc_ev_init(&ev, u, true, ":%s %s %s%s :%s",
			    irc_prefix(u), cmd, st_of(st, status), ch->name,
			    text);
		tags_take(&ev, (l->caps & LKCAP_STAG) ? m->tags : NULL, ctags,
		    sizeof(ctags));
		if (tagmsg)
			ev.need = CAP_MESSAGE_TAGS;
		if (need != 0)	/* not a message history keeps */
			irc_ev_chan_status(&ev, ch, u, need);
		else {
			irc_ev_chan(&ev, ch, u);
			irc_ev_message(&ev, u, ch, NULL, cmd, text);
		}
		tags_text(&ev, tags, sizeof(tags));
		chan_route(l, ch, status, need, u->lk->uid, cmd, text, tags);
		irc_ev_done(&ev);
		return;
	}
	if ((to = lk_user_uid(target)) == NULL &&
	    (to = irc_client_find(target)) == NULL)
		return;
	if (lk_is_remote(to)) {	/* passing through, tags as they came */
		if (to->lk->server->via == l)
			return;
		if (tagmsg)
			snprintf(line, sizeof(line), ":%s TAGMSG %s",
			    u->lk->uid, to->lk->uid);
		else
			snprintf(line, sizeof(line), ":%s %s %s :%s",
			    u->lk->uid, cmd, to->lk->uid, text);
		if (m->tags != NULL && (l->caps & LKCAP_STAG))
			snprintf(tags, sizeof(tags), "@%s ", m->tags);
		else
			tags[0] = '\0';
		msg_send(to->lk->server->via, tags, tagmsg, line);
		return;
	}
	if (tagmsg)
		irc_ev_init(&ev, u, true, ":%s TAGMSG %s", irc_prefix(u),
		    to->nick);
	else
		irc_ev_init(&ev, u, true, ":%s %s %s :%s", irc_prefix(u), cmd,
		    to->nick, text);
	tags_take(&ev, (l->caps & LKCAP_STAG) ? m->tags : NULL, ctags,
	    sizeof(ctags));
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

/* A local user's message (irc_hooks.message): to the links it concerns,
 * with the msgid and time its local recipients got. */
static void
on_message(struct client *from, struct chan *ch, struct client *to,
    const char *cmd, const char *text, const struct irc_ev *ev)
{
	bool tagmsg = strcmp(cmd, "TAGMSG") == 0;
	char tags[IRC_TAGS_MAX], line[IRC_LINE_MAX + 1];

	if (from == NULL || lk_is_remote(from) || lk_links == NULL ||
	    lk_uid_of(from) == NULL || (ch == NULL &&
	    (to == NULL || !lk_is_remote(to))))
		return;
	if (ev != NULL)
		tags_text(ev, tags, sizeof(tags));
	else
		tags[0] = '\0';
	if (ch != NULL) {
		chan_route(NULL, ch, '\0', 0, from->lk->uid, cmd, text, tags);
		return;
	}
	if (tagmsg)
		snprintf(line, sizeof(line), ":%s TAGMSG %s", from->lk->uid,
		    to->lk->uid);
	else
		snprintf(line, sizeof(line), ":%s %s %s :%s", from->lk->uid,
		    cmd, to->lk->uid, text);
	msg_send(to->lk->server->via, tags, tagmsg, line);
}

/* A local user's STATUSMSG (irc_hooks.status_message): to the links
 * with members of its ranks, as TS6 sends it (PRIVMSG @#chan). */
static void
on_status_message(struct client *from, struct chan *ch, char status,
    unsigned char need, const char *cmd, const char *text,
    const struct irc_ev *ev)
{
	char tags[IRC_TAGS_MAX];

	if (from == NULL || lk_is_remote(from) || lk_links == NULL ||
	    lk_uid_of(from) == NULL)
		return;
	tags_text(ev, tags, sizeof(tags));
	chan_route(NULL, ch, status, need, from->lk->uid, cmd,
	    text != NULL ? text : "", tags);
}

void
lk_msg_init(void)
{
	IRC_HOOK_ADD(message, on_message);
	IRC_HOOK_ADD(status_message, on_status_message);
}
