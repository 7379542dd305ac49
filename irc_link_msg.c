/*
 * irc_link_msg.c: messages across links: PRIVMSG, NOTICE and TAGMSG
 * routed by UID, one copy per link (never one per user), both ways.
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
	if (lk_is_remote(to)) {	/* passing through */
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
	message_in(l, u, m, "PRIVMSG");
}

void
lk_notice(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	(void)from;
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
	if (from == NULL || lk_is_remote(from) || lk_links == NULL ||
	    lk_uid_of(from) == NULL)
		return;
	if (ch != NULL) {
		if (tagmsg)
			chan_route(NULL, ch, ":%s TAGMSG %s", from->lk->uid,
			    ch->name);
		else
			chan_route(NULL, ch, ":%s %s %s :%s", from->lk->uid,
			    cmd, ch->name, text);
	} else if (to != NULL && lk_is_remote(to)) {
		if (tagmsg)
			lk_send(to->lk->server->via, ":%s TAGMSG %s",
			    from->lk->uid, to->lk->uid);
		else
			lk_send(to->lk->server->via, ":%s %s %s :%s",
			    from->lk->uid, cmd, to->lk->uid, text);
	}
}

void
lk_msg_init(void)
{
	IRC_HOOK_ADD(message, on_message);
}
