/*
 * irc_chathistory.c: history read back to clients: CHATHISTORY
 * (draft/chathistory, with draft/event-playback: JOIN PART KICK QUIT
 * NICK TOPIC MODE and the TAGMSGs of history.tagmsg-storage too), the
 * playback on JOIN (history.autoreplay-on-join), what an always-on
 * user missed, and ZNC's *playback. Reads irc_hist.c's rings
 * (irc_hist_int.h); replies through irc_out.c: no sockets, no SQL.
 *
 * Only members read a channel's history and only the two parties a
 * direct message: secret and private channels leak nothing, not even
 * their names (TARGETS).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "irc_hist.h"
#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "net.h"
#include "store.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_num.h"
#include "irc_account.h"
#include "irc_hist_int.h"

#define HIST_BATCH_LEN		16

static unsigned long	 batch_seq;

struct znc_play;
static size_t	 hist_missed_peer(struct hist *, int64_t, int64_t, size_t,
		    bool, const char *, struct hmsg ***);
static bool	 hist_znc_join(struct client *, struct chan *);

/* ---- replay ---- */

static size_t
line_format(char *buf, size_t sz, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = irc_vformat_relay(buf, sz, fmt, ap);	/* as it was relayed */
	va_end(ap);
	return n;
}

static bool
has(const struct client *c, uint64_t cap)
{
	return (irc_sess(c)->caps & cap) != 0;
}

/* Starts a batch if c takes them; ref is "" otherwise. */
static void
batch_start(struct client *c, char *ref, size_t sz, const char *type,
    const char *target)
{
	ref[0] = '\0';
	if (!has(c, CAP_BATCH))
		return;
	snprintf(ref, sz, "h%lx", ++batch_seq);
	irc_send(c, ":%s BATCH +%s %s%s%s", conf->server_name, ref, type,
	    target != NULL ? " " : "", target != NULL ? target : "");
}

static void
batch_end(struct client *c, const char *ref)
{
	if (ref[0] != '\0')
		irc_send(c, ":%s BATCH -%s", conf->server_name, ref);
}

/* Appends ";tag" (or "@tag" first) to line[0..*n) if all of it fits. */
static void
tag_add(char *line, size_t sz, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (*n + 2 >= sz)
		return;
	va_start(ap, fmt);
	r = vsnprintf(line + *n + 1, sz - *n - 1, fmt, ap);
	va_end(ap);
	if (r <= 0 || (size_t)r >= sz - *n - 1)
		return;		/* did not fit: the tag is left out */
	line[*n] = *n == 0 ? '@' : ';';
	*n += 1 + (size_t)r;
}

/*
 * An event line as kept, but for a channel renamed since (RENAME): its
 * channel, the word after the command (JOIN PART KICK TOPIC MODE), shows
 * the name the channel has now, as its messages do.
 */
static size_t
event_format(char *body, size_t sz, const struct hmsg *m, const char *chname)
{
	const char *p, *q;
	size_t tl = strlen(m->target);

	if (chname != NULL && strcmp(chname, m->target) != 0 &&
	    (p = strchr(m->text, ' ')) != NULL &&
	    (q = strchr(p + 1, ' ')) != NULL &&
	    strncmp(q + 1, m->target, tl) == 0 &&
	    (q[1 + tl] == ' ' || q[1 + tl] == '\0'))
		return line_format(body, sz, "%.*s%s%s",
		    (int)(q + 1 - m->text), m->text, chname, q + 1 + tl);
	return line_format(body, sz, "%s", m->text);
}

/*
 * One history line to c, with the tags c negotiated: batch, time, msgid
 * and client-only tags. The body is cut to 512 bytes like any line; the
 * tags are outside that budget (IRCv3 message-tags).
 */
static void
replay_one(struct client *c, const struct hmsg *m, const char *ref,
    const char *chname)
{
	char line[IRC_OUT_MAX], body[IRC_RELAY_MAX + 1];
	size_t n = 0, bl;

	if (m->kind == HK_EVENT)
		bl = event_format(body, sizeof(body), m, chname);
	else if (m->kind == HK_TAGMSG)
		bl = line_format(body, sizeof(body), ":%s TAGMSG %s",
		    m->source, chname != NULL ? chname : m->target);
	else
		bl = line_format(body, sizeof(body), ":%s %s %s :%s",
		    m->source, m->kind == HK_NOTICE ? "NOTICE" : "PRIVMSG",
		    chname != NULL ? chname : m->target, m->text);
#define TAG(...)	tag_add(line, sizeof(line), &n, __VA_ARGS__)
	if (ref[0] != '\0')
		TAG("batch=%s", ref);
	if (has(c, CAP_SERVER_TIME))
		TAG("time=%s", m->time);
	if (has(c, CAP_MESSAGE_TAGS))
		TAG("msgid=%s", m->msgid);
	if (has(c, CAP_ACCOUNT_TAG) && m->account != NULL) {
		char acct[2 * NICKLEN_MAX + 1];

		irc_tag_escape(acct, sizeof(acct), m->account,
		    strlen(m->account));
		TAG("account=%s", acct);
	}
	if (has(c, CAP_MESSAGE_TAGS)) {
		if (m->bot)
			TAG("bot");
		if (m->ctags != NULL && m->ctags[0] != '\0' &&
		    strlen(m->ctags) < IRC_CLIENT_TAGS_MAX)
			TAG("%s", m->ctags);
	}
#undef TAG
	if (n > 0)
		line[n++] = ' ';
	if (n + bl > sizeof(line))
		n = 0;		/* cannot happen: the tags are bounded */
	memcpy(line + n, body, bl);
	irc_send_tagged(c, line, n + bl);
}

/* Bytes a replayed line may take, to keep a reply under the sendq. */
static size_t
replay_cost(const struct hmsg *m)
{
	return 96 + strlen(m->source) + strlen(m->target) + strlen(m->text) +
	    (m->ctags != NULL ? strlen(m->ctags) : 0);
}

/* What c's queue may still take for one reply: half of max-sendq. */
static size_t
reply_budget(const struct client *c)
{
	size_t q = irc_sess(c)->conn != NULL ? net_conn_sendq(irc_sess(c)->conn) : 0;

	return q < conf->max_sendq / 2 ? conf->max_sendq / 2 - q : 0;
}

/*
 * Sends v[lo..hi) in a chathistory batch. If the whole would fill more
 * than half of c's sendq, the end away from the reference is kept: the
 * newest for backward queries, the oldest for forward ones, so paging
 * on from the result still finds what was left out.
 */
static void
replay(struct client *c, const char *target, struct hmsg **v, size_t lo,
    size_t hi, bool backward)
{
	char ref[HIST_BATCH_LEN];
	size_t budget = reply_budget(c), cost = 0, i;
	const struct chan *ch;
	const char *chname = NULL;

	/* a channel's messages under its name now (RENAME) */
	if ((target[0] == '#' || target[0] == '&') &&
	    (ch = irc_chan_find(target)) != NULL)
		chname = ch->name;

	if (backward) {
		for (i = hi; i > lo && cost + replay_cost(v[i - 1]) <= budget;
		    i--)
			cost += replay_cost(v[i - 1]);
		lo = i;
	} else {
		for (i = lo; i < hi && cost + replay_cost(v[i]) <= budget; i++)
			cost += replay_cost(v[i]);
		hi = i;
	}
	batch_start(c, ref, sizeof(ref), "chathistory", target);
	for (i = lo; i < hi; i++)
		replay_one(c, v[i], ref, chname);
	batch_end(c, ref);
}

/* ---- CHATHISTORY ---- */

/* A message reference: msgid=..., timestamp=... or (LATEST only) '*'. */
struct ref {
	enum { REF_NONE, REF_MSGID, REF_TIME } type;
	const char	*msgid;
	int64_t		 ms;
};

static bool
ref_parse(const char *s, struct ref *r, bool star_ok)
{
	memset(r, 0, sizeof(*r));
	if (strcmp(s, "*") == 0) {
		r->type = REF_NONE;
		return star_ok;
	}
	if (strncmp(s, "msgid=", 6) == 0 && s[6] != '\0') {
		r->type = REF_MSGID;
		r->msgid = s + 6;
		return true;
	}
	if (strncmp(s, "timestamp=", 10) == 0 && irc_time_parse(s + 10, &r->ms)) {
		r->type = REF_TIME;
		return true;
	}
	return false;
}

/*
 * Where a reference falls in v[0..n) (oldest first), as a position
 * 0..2n: an odd 2i+1 is the message v[i] itself, an even 2i the gap just
 * before v[i]. -1: a msgid not in v (nothing can be said about it).
 */
static long
ref_pos(const struct ref *r, struct hmsg **v, size_t n)
{
	size_t i;

	if (r->type == REF_MSGID) {
		for (i = n; i > 0; i--)
			if (strcmp(v[i - 1]->msgid, r->msgid) == 0)
				return 2 * (long)(i - 1) + 1;
		return -1;
	}
	/* the first message at or after the time */
	for (i = 0; i < n && v[i]->ms < r->ms; i++)
		;
	return 2 * (long)i;
}

/* First index strictly after position p, and end of those strictly before. */
static size_t
pos_after(long p)
{
	return (size_t)((p + 1) / 2);
}

static size_t
pos_before(long p)
{
	return (size_t)(p / 2);
}

/*
 * Messages exactly at a timestamp are neither before nor after it: the
 * even position 2i is the first at-or-after, so skip equal ones when
 * looking after it.
 */
static size_t
after_index(const struct ref *r, long p, struct hmsg **v, size_t n)
{
	size_t i = pos_after(p);

	if (r->type == REF_TIME)
		while (i < n && v[i]->ms <= r->ms)
			i++;
	return i;
}

static unsigned
history_max(void)
{
	return conf->history.maxmessages;
}

static void
fail(struct client *c, const char *code, const char *sub, const char *ctx,
    const char *text)
{
	irc_send(c, ":%s FAIL CHATHISTORY %s %s%s%s :%s", conf->server_name,
	    code, sub, ctx != NULL ? " " : "", ctx != NULL ? ctx : "", text);
}

/*
 * Whether c takes m: PRIVMSG and NOTICE always; events and TAGMSG only
 * with draft/event-playback (IRCv3 chathistory: "MUST NOT" otherwise).
 */
static bool
wanted(const struct client *c, const struct hmsg *m)
{
	switch (m->kind) {
	case HK_EVENT:
		return has(c, CAP_EVENT_PLAYBACK);
	case HK_TAGMSG:
		return has(c, CAP_EVENT_PLAYBACK) && has(c, CAP_MESSAGE_TAGS);
	default:
		return true;
	}
}

/* The newest PRIVMSG or NOTICE of h (TARGETS), or NULL. */
static struct hmsg *
last_message(const struct hist *h)
{
	size_t i;

	for (i = h->n; i > 0; i--) {
		struct hmsg *m = hist_slot_at(h, i - 1);

		if (m->kind == HK_PRIVMSG || m->kind == HK_NOTICE)
			return m;
	}
	return NULL;
}

/*
 * Ergo's query-cutoff for c reading ch's history: the wall-clock ms
 * before which c may read nothing of it, or 0. ch's ChanServ SET
 * query-cutoff, else history.query-cutoff. registration-time: when c's
 * account was registered (c's connection, not logged in), less
 * history.grace-period; join-time: c's JOIN, but nothing for the
 * founder and ops (q a o), as Ergo's joinTimeCutoff.
 */
static int64_t
hist_chan_cutoff_ms(const struct chan *ch, const struct client *c)
{
	struct store_account a;
	char folded[NICKLEN_MAX + 1];
	const struct member *me;
	int how = ch->query_cutoff != CHAN_CUTOFF_DEFAULT ? ch->query_cutoff :
	    conf->history.query_cutoff;
	int64_t t;

	switch (how) {
	case CHAN_CUTOFF_REGTIME:
		t = (int64_t)c->signon;
		if (c->account != NULL) {
			irc_fold(folded, c->account, sizeof(folded));
			if (store_account_get(folded, &a) == 1)
				t = (int64_t)a.registered;
		}
		t -= (int64_t)conf->history.grace;
		return t > 0 ? t * 1000 : 0;
	case CHAN_CUTOFF_JOINTIME:
		if ((me = irc_member_find(ch, c)) == NULL ||
		    irc_chan_is_at_least(ch, c, MEMB_OP))
			return 0;
		return me->joined_ms;
	default:
		return 0;
	}
}

/*
 * The messages of target that c may read, oldest first, in a malloc'd
 * array (*vp, *np); NULL target: none. false: not c's to read.
 */
static bool
gather(struct client *c, const char *target, struct hmsg ***vp, size_t *np,
    bool *oom)
{
	struct hist *h = NULL;
	struct hmsg **v = NULL;
	int64_t cutoff = 0;
	bool all = false;
	size_t i, n = 0;

	*vp = NULL;
	*np = 0;
	*oom = false;
	if (target[0] == '#' || target[0] == '&') {
		struct chan *ch = irc_chan_find(target);

		if (ch == NULL || irc_member_find(ch, c) == NULL)
			return false;
		cutoff = hist_chan_cutoff_ms(ch, c);
		h = *hist_chan(ch);
		if (h != NULL)
			hist_trim(h, conf->history.channel_length);
	} else {
		if (strcmp(target, "*") == 0)
			all = true;
		else if (!irc_nick_valid(target))
			return false;
		h = *hist_dm(c);
		if (h != NULL)
			hist_trim(h, conf->history.client_length);
	}
	if (h == NULL || h->n == 0 || !conf->history.enabled)
		return true;
	if ((v = calloc(h->n, sizeof(*v))) == NULL) {
		*oom = true;
		return true;
	}
	for (i = 0; i < h->n; i++) {
		struct hmsg *m = hist_slot_at(h, i);

		if (m->peer != NULL && !all && irc_casecmp(m->peer, target) != 0)
			continue;
		if (m->ms < cutoff)
			continue;
		if (wanted(c, m))
			v[n++] = m;
	}
	*vp = v;
	*np = n;
	return true;
}

static bool
limit_parse(const char *s, size_t *limit)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0)
		return false;
	if (v == 0 || (history_max() > 0 && v > history_max()))
		v = history_max() > 0 ? history_max() : 1000;
	*limit = v;
	return true;
}

static void
targets(struct client *c, const char *sub, struct msg *m)
{
	struct tgt {
		const char	*name;
		int64_t		 ms;
		const char	*time;
	} *t = NULL;
	struct ref r1, r2;
	struct member *mb;
	struct hist *dm;
	size_t limit, nt = 0, max, i, j, lo, hi;
	int64_t a, b;
	char ref[HIST_BATCH_LEN];
	bool backward;

	if (!ref_parse(m->param[1], &r1, false) || r1.type != REF_TIME ||
	    !ref_parse(m->param[2], &r2, false) || r2.type != REF_TIME ||
	    !limit_parse(m->param[3], &limit)) {
		fail(c, "INVALID_PARAMS", sub, NULL, "Invalid parameters");
		return;
	}
	backward = r1.ms > r2.ms;
	a = backward ? r2.ms : r1.ms;
	b = backward ? r1.ms : r2.ms;
	dm = *hist_dm(c);
	max = c->nchans + (dm != NULL ? dm->n : 0);
	if (max > 0 && (t = calloc(max, sizeof(*t))) == NULL) {
		fail(c, "MESSAGE_ERROR", sub, "*",
		    "Messages could not be retrieved");
		return;
	}
	/* channels c is in: their latest message */
	for (mb = c->chans; mb != NULL; mb = mb->unext) {
		struct hist *h = *hist_chan(mb->ch);
		struct hmsg *last;

		if (h == NULL)
			continue;
		hist_trim(h, conf->history.channel_length);
		if ((last = last_message(h)) == NULL)
			continue;
		if (last->ms > a && last->ms < b) {
			t[nt].name = mb->ch->name;
			t[nt].ms = last->ms;
			t[nt++].time = last->time;
		}
	}
	/* c's correspondents: the newest message with each */
	if (dm != NULL) {
		hist_trim(dm, conf->history.client_length);
		for (i = dm->n; i > 0; i--) {
			struct hmsg *hm = hist_slot_at(dm, i - 1);
			size_t k;

			if (hm->ms <= a || hm->ms >= b || hm->kind == HK_TAGMSG)
				continue;
			for (k = 0; k < nt; k++)
				if (t[k].name[0] != '#' && t[k].name[0] != '&' &&
				    irc_casecmp(t[k].name, hm->peer) == 0)
					break;
			if (k < nt)
				continue;
			t[nt].name = hm->peer;
			t[nt].ms = hm->ms;
			t[nt++].time = hm->time;
		}
	}
	/* oldest first (insertion sort: a few hundred at most) */
	for (i = 1; i < nt; i++) {
		struct tgt x = t[i];

		for (j = i; j > 0 && t[j - 1].ms > x.ms; j--)
			t[j] = t[j - 1];
		t[j] = x;
	}
	lo = 0;
	hi = nt;
	if (hi - lo > limit) {
		if (backward)
			lo = hi - limit;
		else
			hi = lo + limit;
	}
	batch_start(c, ref, sizeof(ref), "draft/chathistory-targets", NULL);
	for (i = lo; i < hi; i++) {
		if (ref[0] != '\0')
			irc_send(c, "@batch=%s :%s CHATHISTORY TARGETS %s %s", ref,
			    conf->server_name, t[i].name, t[i].time);
		else
			irc_send(c, ":%s CHATHISTORY TARGETS %s %s",
			    conf->server_name, t[i].name, t[i].time);
	}
	batch_end(c, ref);
	free(t);
}

/*
 * CHATHISTORY LATEST <target> <*|ref> <limit>
 *             BEFORE|AFTER|AROUND <target> <ref> <limit>
 *             BETWEEN <target> <ref> <ref> <limit>
 *             TARGETS <timestamp> <timestamp> <limit>
 */
void
h_chathistory(struct client *c, struct msg *m)
{
	static const char *const subs[] = {
		"LATEST", "BEFORE", "AFTER", "AROUND", "BETWEEN", "TARGETS"
	};
	enum { LATEST, BEFORE, AFTER, AROUND, BETWEEN, TARGETS } op;
	const char *sub, *target;
	struct hmsg **v;
	struct ref r1, r2;
	size_t n, limit, lo = 0, hi = 0, i;
	long p1, p2 = 0;
	bool oom, backward = true;
	char subu[16];

	if (m->nparam < 1) {
		fail(c, "NEED_MORE_PARAMS", "*", NULL, "Missing parameters");
		return;
	}
	for (i = 0; i < sizeof(subu) - 1 && m->param[0][i] != '\0'; i++)
		subu[i] = m->param[0][i] >= 'a' && m->param[0][i] <= 'z' ?
		    (char)(m->param[0][i] - 32) : m->param[0][i];
	subu[i] = '\0';
	if (m->param[0][i] != '\0')
		i = sizeof(subs) / sizeof(subs[0]);	/* too long to be one */
	else
		for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
			if (strcmp(subu, subs[i]) == 0)
				break;
	if (i == sizeof(subs) / sizeof(subs[0])) {
		fail(c, "UNKNOWN_COMMAND", m->param[0][0] != '\0' &&
		    m->param[0][0] != ':' && strchr(m->param[0], ' ') == NULL ?
		    m->param[0] : "*", NULL, "Unknown command");
		return;
	}
	op = i;
	sub = subs[op];
	if (m->nparam < (op == BETWEEN ? 5 : 4)) {
		fail(c, "NEED_MORE_PARAMS", sub, NULL, "Missing parameters");
		return;
	}
	if (op == TARGETS) {
		targets(c, sub, m);
		return;
	}
	target = m->param[1];
	if (!ref_parse(m->param[2], &r1, op == LATEST) ||
	    (op == BETWEEN && !ref_parse(m->param[3], &r2, false)) ||
	    !limit_parse(m->param[op == BETWEEN ? 4 : 3], &limit)) {
		fail(c, "INVALID_PARAMS", sub, NULL, "Invalid parameters");
		return;
	}
	if (!gather(c, target, &v, &n, &oom)) {
		fail(c, "INVALID_TARGET", sub, target,
		    "Messages could not be retrieved");
		return;
	}
	if (oom) {
		fail(c, "MESSAGE_ERROR", sub, target,
		    "Messages could not be retrieved");
		return;
	}
	p1 = r1.type == REF_NONE ? 0 : ref_pos(&r1, v, n);
	if (op == BETWEEN)
		p2 = ref_pos(&r2, v, n);
	if (p1 == -1 || p2 == -1)
		goto send;	/* an unknown msgid: nothing around it */
	switch (op) {
	case LATEST:
		lo = r1.type == REF_NONE ? 0 : after_index(&r1, p1, v, n);
		hi = n;
		if (hi - lo > limit)
			lo = hi - limit;
		break;
	case BEFORE:
		hi = pos_before(p1);
		lo = hi > limit ? hi - limit : 0;
		break;
	case AFTER:
		lo = after_index(&r1, p1, v, n);
		hi = n - lo > limit ? lo + limit : n;
		backward = false;
		break;
	case AROUND:
		/* limit/2 before the reference, the rest from it on */
		hi = pos_before(p1);
		lo = hi > limit / 2 ? hi - limit / 2 : 0;
		hi = n - lo > limit ? lo + limit : n;
		if (hi - lo < limit)
			lo = hi > limit ? hi - limit : 0;
		backward = false;
		break;
	case BETWEEN:
		if (p1 < p2) {
			lo = after_index(&r1, p1, v, n);
			hi = pos_before(p2);
			if (hi > lo && hi - lo > limit)
				hi = lo + limit;
			backward = false;
		} else {
			lo = after_index(&r2, p2, v, n);
			hi = pos_before(p1);
			if (hi > lo && hi - lo > limit)
				lo = hi - limit;
		}
		if (hi < lo)
			hi = lo;
		break;
	case TARGETS:
		break;
	}
send:
	replay(c, target, v, lo, hi, backward);
	free(v);
}

/*
 * history.autoreplay-on-join: the latest lines of ch to c, who just
 * joined it, unless c fetches history itself (draft/chathistory).
 */
void
irc_hist_join(struct client *c, struct chan *ch)
{
	struct hist *h = *hist_chan(ch);
	struct hmsg **v;
	int64_t cutoff;
	/* NickServ SET AUTOREPLAY-LINES, else the config's */
	int arl = c->ext->acset.autoreplay_lines;
	size_t n = 0, i, want = c->account != NULL && arl >= 0 ?
	    (size_t)arl : conf->history.autoreplay;

	/* a PLAY just before this JOIN says what it wants (Textual) */
	if (has(c, CAP_ZNC_PLAYBACK) && conf->history.enabled &&
	    hist_znc_join(c, ch))
		return;
	if (want == 0 || h == NULL || has(c, CAP_CHATHISTORY) ||
	    has(c, CAP_ZNC_PLAYBACK) ||	/* it will PLAY what it wants */
	    !conf->history.enabled)
		return;
	hist_trim(h, conf->history.channel_length);
	if (h->n == 0 || (v = calloc(want < h->n ? want : h->n,
	    sizeof(*v))) == NULL)
		return;
	/* the newest messages (no events), collected newest first */
	cutoff = hist_chan_cutoff_ms(ch, c);
	for (i = h->n; i > 0 && n < want; i--) {
		struct hmsg *m = hist_slot_at(h, i - 1);

		if (m->ms < cutoff)
			break;
		if (m->kind == HK_PRIVMSG || m->kind == HK_NOTICE)
			v[n++] = m;
	}
	for (i = 0; i < n / 2; i++) {
		struct hmsg *t = v[i];

		v[i] = v[n - 1 - i];
		v[n - 1 - i] = t;
	}
	if (n > 0)
		replay(c, ch->name, v, 0, n, true);
	free(v);
}

/*
 * The entries of h newer than since_ms that a missed-message replay
 * sends (messages; events too if events), at most max of the newest,
 * oldest first, into a malloc'd *vp. The count (0: none or ENOMEM).
 */
static bool
missed_match(const struct hmsg *m, bool events, const char *peer)
{
	if (peer != NULL && (m->peer == NULL || irc_casecmp(m->peer, peer) != 0))
		return false;
	return m->kind == HK_PRIVMSG || m->kind == HK_NOTICE ||
	    (events && m->kind == HK_EVENT);
}

static size_t
missed_of(struct hist *h, int64_t since_ms, int64_t until_ms, size_t max,
    bool events, struct hmsg ***vp)
{
	return hist_missed_peer(h, since_ms, until_ms, max, events, NULL, vp);
}

/* The same, of the direct messages with peer only (NULL: all). */
static size_t
hist_missed_peer(struct hist *h, int64_t since_ms, int64_t until_ms, size_t max,
    bool events, const char *peer, struct hmsg ***vp)
{
	struct hmsg **v;
	size_t n = 0, i, first, last;

	*vp = NULL;
	if (h == NULL || h->n == 0 || max == 0)
		return 0;
	/* [since, until]; until 0: up to now */
	for (last = h->n; last > 0 && until_ms > 0 &&
	    hist_slot_at(h, last - 1)->ms > until_ms; last--)
		;
	for (first = last; first > 0 && n < max; first--) {
		struct hmsg *m = hist_slot_at(h, first - 1);

		/* the millisecond the last session left counts as missed:
		 * a line twice beats a line lost */
		if (m->ms < since_ms)
			break;
		if (missed_match(m, events, peer))
			n++;
	}
	if (n == 0 || (v = calloc(n, sizeof(*v))) == NULL)
		return 0;
	for (n = 0, i = first; i < last; i++) {
		struct hmsg *m = hist_slot_at(h, i);

		if (missed_match(m, events, peer))
			v[n++] = m;
	}
	*vp = v;
	return n;
}

/*
 * Missed messages (NickServ SET AUTOREPLAY-MISSED): what c's channels
 * and direct messages got after since_ms (when its last session left),
 * to the session that just attached: one chathistory batch per channel
 * and one (target: c's nick) for direct messages, each at most lines of
 * the newest, with their original time and msgid tags for a session
 * that has the caps. A session with draft/chathistory fetches them
 * itself and gets none.
 */
void
irc_hist_missed(struct client *c, int64_t since_ms, size_t lines,
    bool events)
{
	struct member *mb;
	struct hmsg **v;
	int64_t cutoff;
	size_t n;

	if (!conf->history.enabled || has(c, CAP_CHATHISTORY) ||
	    has(c, CAP_ZNC_PLAYBACK))	/* they ask for it themselves */
		return;
	for (mb = c->chans; mb != NULL; mb = mb->unext) {
		if (*hist_chan(mb->ch) != NULL)
			hist_trim(*hist_chan(mb->ch),
			    conf->history.channel_length);
		cutoff = hist_chan_cutoff_ms(mb->ch, c);
		if ((n = missed_of(*hist_chan(mb->ch), since_ms > cutoff ?
		    since_ms : cutoff, 0, lines, events, &v)) > 0)
			replay(c, mb->ch->name, v, 0, n, true);
		free(v);
	}
	if (*hist_dm(c) != NULL)
		hist_trim(*hist_dm(c), conf->history.client_length);
	if ((n = missed_of(*hist_dm(c), since_ms, 0, lines, false, &v)) > 0)
		replay(c, c->nick, v, 0, n, true);
	free(v);
}

/*
 * A PLAY's window, kept for the JOINs that follow it for ZNC_WINDOW_MS
 * (Ergo's: Textual sends PLAY, then its JOINs): per session, freed with
 * it. targets: the names asked for, NULL for *.
 */
#define ZNC_WINDOW_MS	30000
struct znc_play {
	int64_t		 after, before, set_ms;
	char		*targets;
};

static void
hist_znc_session_free(struct session *s)
{
	if (s->x->znc == NULL)
		return;
	free(s->x->znc->targets);
	free(s->x->znc);
	s->x->znc = NULL;
}

/* Whether name is in the comma list (NULL: everything). */
static bool
znc_named(const char *list, const char *name)
{
	char buf[IRC_LINE_MAX], *save = NULL, *x;

	if (list == NULL)
		return true;
	snprintf(buf, sizeof(buf), "%s", list);
	for (x = strtok_r(buf, ",", &save); x != NULL;
	    x = strtok_r(NULL, ",", &save))
		if (irc_casecmp(x, name) == 0)
			return true;
	return false;
}

/* ch's messages of the window of c's PLAY, replayed on its JOIN. */
static bool
hist_znc_join(struct client *c, struct chan *ch)
{
	struct znc_play *z = irc_sess(c) != NULL ? irc_sess(c)->x->znc : NULL;
	struct hmsg **v;
	int64_t cutoff;
	size_t n;

	if (z == NULL || ergo_now_ms - (uint64_t)z->set_ms > ZNC_WINDOW_MS ||
	    !znc_named(z->targets, ch->name))
		return false;
	cutoff = hist_chan_cutoff_ms(ch, c);
	if ((n = missed_of(*hist_chan(ch), z->after > cutoff ? z->after :
	    cutoff, z->before, conf->history.channel_length, false, &v)) > 0)
		replay(c, ch->name, v, 0, n, true);
	free(v);
	return true;
}

/* ZNC's time: seconds since the epoch, a fraction for milliseconds. */
static int64_t
znc_time_ms(const char *s)
{
	int64_t ms = util_milli(s);

	return ms > INT64_C(10000000000000000) ? -1 : ms;
}

/* The newest message of h (with peer, if not NULL): its ms, or 0. */
static int64_t
newest_ms(struct hist *h, const char *peer)
{
	size_t i;

	for (i = h != NULL ? h->n : 0; i > 0; i--)
		if (missed_match(hist_slot_at(h, i - 1), false, peer))
			return hist_slot_at(h, i - 1)->ms;
	return 0;
}

static void
znc_list_line(struct client *c, const char *target, int64_t ms)
{
	irc_send(c, ":*playback!znc@znc.in PRIVMSG %s :%s 0 %lld.%03d",
	    c->nick, target, (long long)(ms / 1000), (int)(ms % 1000));
}

/*
 * LIST (Ergo's emulation of ZNC's): each channel the user is in and each
 * peer of its direct messages that history holds, with the time of the
 * newest message: "<target> 0 <seconds.ms>", newest DM peers first.
 */
static void
znc_list(struct client *c)
{
	struct member *mb;
	struct hist *h = *hist_dm(c);
	const char *seen[64];
	size_t i, k, nseen = 0;
	int64_t ms;

	for (mb = c->chans; mb != NULL; mb = mb->unext)
		if ((ms = newest_ms(*hist_chan(mb->ch), NULL)) > 0)
			znc_list_line(c, mb->ch->name, ms);
	for (i = h != NULL ? h->n : 0; i > 0 && nseen < 64; i--) {
		struct hmsg *m = hist_slot_at(h, i - 1);

		if (m->peer == NULL || !missed_match(m, false, NULL))
			continue;
		for (k = 0; k < nseen; k++)
			if (irc_casecmp(seen[k], m->peer) == 0)
				break;
		if (k < nseen)
			continue;
		seen[nseen++] = m->peer;
		znc_list_line(c, m->peer, m->ms);
	}
}

/*
 * znc.in/playback, as Ergo emulates it: PRIVMSG *playback :PLAY
 * <targets> [after] [before] replays the messages of each target newer
 * than after (all of them without it: the newest that history keeps)
 * and not newer than before, in a chathistory batch each. targets: a
 * comma list of channels the user is in and nicks (its direct messages
 * with them), or * for every channel and every direct message. The
 * window also holds for the channels the session JOINs in the next 30
 * seconds (clients such as Textual send PLAY first). LIST: see above.
 * Anything else to *playback is ignored.
 */
void
irc_hist_playback(struct client *c, const char *text)
{
	char buf[IRC_LINE_MAX], list[IRC_LINE_MAX], *w[4], *save = NULL, *t;
	struct session *ss = irc_sess(c);
	struct session_ext *sx;
	struct member *mb;
	struct hmsg **v;
	int64_t after = 0, before = 0, cutoff;
	size_t n, nw = 0;
	bool all;

	snprintf(buf, sizeof(buf), "%s", text);
	for (t = strtok_r(buf, " ", &save); t != NULL && nw < 4;
	    t = strtok_r(NULL, " ", &save))
		w[nw++] = t;
	if (nw < 1 || !conf->history.enabled)
		return;
	if (strcasecmp(w[0], "LIST") == 0) {
		znc_list(c);
		return;
	}
	if (nw < 2 || strcasecmp(w[0], "PLAY") != 0)
		return;
	if ((nw > 2 && (after = znc_time_ms(w[2])) < 0) ||
	    (nw > 3 && (before = znc_time_ms(w[3])) < 0))
		return;
	if (after > 0)
		after++;	/* newer than the time given, not at it */
	all = strcmp(w[1], "*") == 0;
	if (ss != NULL && (sx = irc_sx(ss)) != NULL) {
		hist_znc_session_free(ss);
		if ((sx->znc = calloc(1, sizeof(*sx->znc))) != NULL &&
		    !all && (sx->znc->targets = xstrdup(w[1])) == NULL) {
			free(sx->znc);
			sx->znc = NULL;
		}
		if (sx->znc != NULL) {
			sx->znc->after = after;
			sx->znc->before = before;
			sx->znc->set_ms = (int64_t)ergo_now_ms;
		}
	}
	for (mb = c->chans; mb != NULL; mb = mb->unext) {
		if (!all && !znc_named(w[1], mb->ch->name))
			continue;
		cutoff = hist_chan_cutoff_ms(mb->ch, c);
		if ((n = missed_of(*hist_chan(mb->ch), after > cutoff ? after :
		    cutoff, before, conf->history.channel_length, false,
		    &v)) > 0)
			replay(c, mb->ch->name, v, 0, n, true);
		free(v);
	}
	if (all) {
		if ((n = missed_of(*hist_dm(c), after, before,
		    conf->history.client_length, false, &v)) > 0)
			replay(c, c->nick, v, 0, n, true);
		free(v);
		return;
	}
	/* nicks: the direct messages with each */
	snprintf(list, sizeof(list), "%s", w[1]);
	for (t = strtok_r(list, ",", &save); t != NULL;
	    t = strtok_r(NULL, ",", &save)) {
		if (t[0] == '#' || t[0] == '&' || !irc_nick_valid(t))
			continue;
		if ((n = hist_missed_peer(*hist_dm(c), after, before,
		    conf->history.client_length, false, t, &v)) > 0)
			replay(c, t, v, 0, n, true);
		free(v);
	}
}

/* HistServ PLAY (irc_hooks.hist_play): see irc_state.h. */
static bool
play_match(const struct hmsg *m, const struct chan *ch, const char *peer)
{
	return (m->kind == HK_PRIVMSG || m->kind == HK_NOTICE) &&
	    (ch != NULL || peer == NULL || (m->peer != NULL &&
	    irc_casecmp(m->peer, peer) == 0));
}

static void
hist_play(struct chan *ch, struct client *c, const char *peer,
    unsigned limit, void (*fn)(void *, const struct hist_info *,
    const char *), void *arg)
{
	struct hist *h = ch != NULL ? *hist_chan(ch) : *hist_dm(c);
	struct hist_info hi;
	struct hmsg *m;
	int64_t cutoff = ch != NULL ? hist_chan_cutoff_ms(ch, c) : 0;
	size_t i, n = 0;

	if (h == NULL)
		return;
	for (i = h->n; i > 0 && n < limit; i--) {
		if (hist_slot_at(h, i - 1)->ms < cutoff)
			break;
		if (play_match(hist_slot_at(h, i - 1), ch, peer))
			n++;
	}
	for (; i < h->n; i++) {
		m = hist_slot_at(h, i);
		if (!play_match(m, ch, peer))
			continue;
		snprintf(hi.source, sizeof(hi.source), "%s", m->source);
		snprintf(hi.account, sizeof(hi.account), "%s",
		    m->account != NULL ? m->account : "");
		hi.ms = m->ms;
		fn(arg, &hi, m->text);
	}
}

void
irc_chathistory_init(void)
{
	IRC_HOOK_ADD(joined, irc_hist_join);
	IRC_HOOK_ADD(session_free, hist_znc_session_free);
	irc_hooks.hist_play = hist_play;
}
