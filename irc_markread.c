/*
 * irc_markread.c: draft/read-marker: MARKREAD get and set, the marker
 * after a JOIN, and keeping every session of an account in step. An
 * account's markers are in the datastore (store.c), so they outlive a
 * restart; a client without an account keeps up to IRC_MARKS_MAX of its
 * own for its connection. No SQL and no sockets here.
 *
 * A marker only ever moves forward, and is never shown to anyone but
 * its owner's own sessions (the spec's security considerations).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc_markread.h"
#include "ergo.h"
#include "conf.h"
#include "store.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_account.h"

/* Clients may run a little ahead of our clock: this much is accepted. */
#define MARK_SKEW_MS	60000

/* One marker of a client without an account; newest set first. */
struct mark {
	struct mark	*next;
	int64_t		 ms;
	char		 target[];	/* casefolded */
};

static void
mr_fail(struct client *c, const char *code, const char *ctx,
    const char *text)
{
	irc_fail(c, "FAIL", "MARKREAD", code, "%s%s:%s", ctx != NULL ? ctx : "",
	    ctx != NULL ? " " : "", text);
}

/* "timestamp=..." of ms, or "*" when there is no marker (ms < 0). */
static void
mark_text(char *buf, size_t sz, int64_t ms)
{
	char t[40];

	if (ms < 0) {
		snprintf(buf, sz, "*");
		return;
	}
	irc_time_format(t, sizeof(t), ms);
	snprintf(buf, sz, "timestamp=%s", t);
}

static void
mark_send(struct client *c, const char *target, int64_t ms)
{
	char v[64];

	mark_text(v, sizeof(v), ms);
	irc_send(c, ":%s MARKREAD %s %s", conf->server_name, target, v);
}

/* (c with no rare part: IRC_CX_NONE's empty list; mark_set makes c's) */
static struct mark **
conn_find(struct client *c, const char *folded)
{
	struct mark **mp;

	for (mp = &c->ext->marks; *mp != NULL; mp = &(*mp)->next)
		if (strcmp((*mp)->target, folded) == 0)
			break;
	return mp;
}

/* c's marker for folded: its ms, -1 if none, -2 if it could not be read. */
static int64_t
mark_get(struct client *c, const char *folded)
{
	struct mark *m;
	int64_t ms;
	int rc;

	if (c->account_id != 0) {
		if ((rc = store_marker_get(c->account_id, folded, &ms)) == -1)
			return -2;
		return rc == 1 ? ms : -1;
	}
	m = *conn_find(c, folded);
	return m != NULL ? m->ms : -1;
}

/* Moves c's marker for folded to ms if that is later; 0, or -1. */
static int
mark_set(struct client *c, const char *folded, int64_t ms)
{
	struct client_ext *x;
	struct mark **mp, *m;
	size_t len = strlen(folded) + 1;

	if (c->account_id != 0)
		return store_marker_set(c->account_id, folded, ms,
		    irc_time_now_ms());
	if ((x = irc_cx(c)) == NULL)
		return -1;
	mp = conn_find(c, folded);
	if ((m = *mp) != NULL) {
		if (ms > m->ms)
			m->ms = ms;
		*mp = m->next;		/* to the front: the last one set */
	} else {
		if (x->nmarks >= IRC_MARKS_MAX) {
			/* forget the one set longest ago */
			for (mp = &x->marks; (*mp)->next != NULL;
			    mp = &(*mp)->next)
				;
			free(*mp);
			*mp = NULL;
			x->nmarks--;
		}
		if ((m = malloc(sizeof(*m) + len)) == NULL)
			return -1;
		memcpy(m->target, folded, len);
		m->ms = ms;
		x->nmarks++;
	}
	m->next = x->marks;
	x->marks = m;
	return 0;
}

/* The name to show for target: a channel's own spelling if it exists. */
static const char *
shown(const char *target)
{
	struct chan *ch;

	if ((target[0] == '#' || target[0] == '&') &&
	    (ch = irc_chan_find(target)) != NULL)
		return ch->name;
	return target;
}

/*
 * MARKREAD <target> [timestamp=YYYY-MM-DDThh:mm:ss.sssZ]
 * Get (one parameter) or set; the reply is the stored marker, and a
 * marker that moved is sent to the account's other sessions with the
 * cap.
 */
void
h_markread(struct client *c, struct msg *m)
{
	const char *target, *name;
	char folded[CHANLEN_MAX + 1];
	struct client *u;
	struct session *s;
	char v[64];
	int64_t ms, old;

	if (m->nparam < 1 || m->param[0][0] == '\0') {
		mr_fail(c, "NEED_MORE_PARAMS", NULL, "Missing parameters");
		return;
	}
	target = m->param[0];
	if (!irc_chan_valid(target) && !irc_nick_valid(target)) {
		mr_fail(c, "INVALID_PARAMS", target, "Invalid target");
		return;
	}
	irc_fold(folded, target, sizeof(folded));
	name = shown(target);
	if (m->nparam < 2) {
		if ((ms = mark_get(c, folded)) == -2)
			mr_fail(c, "INTERNAL_ERROR", name,
			    "The read timestamp could not be read");
		else
			mark_send(c, name, ms);
		return;
	}
	if (strncmp(m->param[1], "timestamp=", 10) != 0 ||
	    !irc_time_parse(m->param[1] + 10, &ms) || ms < 0) {
		mr_fail(c, "INVALID_PARAMS", m->param[1], "Invalid timestamp");
		return;
	}
	if (ms > irc_time_now_ms() + MARK_SKEW_MS) {
		mr_fail(c, "INVALID_PARAMS", m->param[1],
		    "Timestamp is in the future");
		return;
	}
	if ((old = mark_get(c, folded)) == -2) {
		mr_fail(c, "INTERNAL_ERROR", name,
		    "The read timestamp could not be set");
		return;
	}
	if (ms <= old) {
		/* not forward: the stored one stands, and is the answer */
		mark_send(c, name, old);
		return;
	}
	if (mark_set(c, folded, ms) == -1) {
		mr_fail(c, "INTERNAL_ERROR", name,
		    "The read timestamp could not be set");
		return;
	}
	mark_send(c, name, ms);
	/* every other session of the account, its own user's too */
	mark_text(v, sizeof(v), ms);
	for (u = irc_account_sessions(c->account_id); u != NULL;
	    u = u->ext->acnext)
		for (s = u->sess; s != NULL; s = s->next)
			if (s != irc_sess(c) && (s->caps & CAP_READ_MARKER) &&
			    (u->flags & CF_REG))
				irc_send_session(s, ":%s MARKREAD %s %s",
				    conf->server_name, name, v);
}

/* After c's JOIN of ch, before 366: its marker for ch. */
void
irc_markread_join(struct client *c, struct chan *ch)
{
	char folded[CHANLEN_MAX + 1];
	int64_t ms;

	if (!(irc_sess(c)->caps & CAP_READ_MARKER))
		return;
	irc_fold(folded, ch->name, sizeof(folded));
	if ((ms = mark_get(c, folded)) == -2)
		ms = -1;	/* logged by store.c; nothing better to say */
	mark_send(c, ch->name, ms);
}

/*
 * RENAME: the markers of the old name are the channel's, so they take
 * its new name, the accounts' in the datastore and the connections' of
 * clients without one (a marker of the new name is of an older channel
 * that had it: the old name's replaces it).
 */
static void
mr_chan_renamed(struct chan *ch, const char *old)
{
	char from[CHANLEN_MAX + 1], to[CHANLEN_MAX + 1];
	struct mark **mp, *m, *n;
	struct client *c;
	struct hent *e;
	size_t i, len;

	irc_fold(from, old, sizeof(from));
	irc_fold(to, ch->name, sizeof(to));
	if (strcmp(from, to) == 0)
		return;		/* only the case changed */
	(void)store_marker_rename(from, to);	/* logged */
	len = strlen(to) + 1;
	for (i = 0; i < irc.nicks.nb; i++)
		for (e = irc.nicks.b[i]; e != NULL; e = e->next) {
			c = (struct client *)(void *)e;
			if (*(mp = conn_find(c, from)) == NULL ||
			    (n = malloc(sizeof(*n) + len)) == NULL)
				continue;	/* none, or it stays as it is */
			m = *mp;
			n->ms = m->ms;
			n->next = m->next;
			memcpy(n->target, to, len);
			*mp = n;
			free(m);
			/* one of the new name before the rename: gone */
			for (mp = &c->ext->marks; *mp != NULL;
			    mp = &(*mp)->next)
				if (*mp != n && strcmp((*mp)->target, to) == 0) {
					m = *mp;
					*mp = m->next;
					free(m);
					c->ext->nmarks--;
					break;
				}
		}
}

void
irc_markread_client_free(struct client *c)
{
	struct mark *m;

	if (c->ext == IRC_CX_NONE)
		return;
	while ((m = c->ext->marks) != NULL) {
		c->ext->marks = m->next;
		free(m);
	}
	c->ext->nmarks = 0;
}

/* The hooks of draft/read-marker (irc_state.h). */
void
irc_markread_init(void)
{
	IRC_HOOK_ADD(join_names, irc_markread_join);
	IRC_HOOK_ADD(client_free, irc_markread_client_free);
	IRC_HOOK_ADD(chan_renamed, mr_chan_renamed);
}
