/*
 * irc_out.c: every byte the protocol sends: line formatting, numerics,
 * standard replies, labeled-response (state on the labeled session),
 * events formatted once per capability variant, and fan-out to a
 * channel or a user's peers. History and MONITOR observe events through
 * irc_hooks; nothing here keeps protocol state of its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "irc_out.h"
#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "net.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_num.h"

static uint32_t		 mark_gen;	/* fan-out dedup generation */

/*
 * Formats one line into buf with CRLF. An overlong line is cut at lim - 2
 * bytes (510 for a line of our own), never inside a UTF-8 sequence.
 */
static size_t
vformat_max(char *buf, size_t sz, size_t lim, const char *fmt, va_list ap)
{
	int n;
	size_t len, max = (sz < lim ? sz : lim) - 2;

	n = vsnprintf(buf, sz, fmt, ap);
	len = n < 0 ? 0 : (size_t)n;
	if (len >= sz)
		len = sz - 1;	/* vsnprintf kept this much */
	len = irc_utf8_cut(buf, len, max);
	buf[len++] = '\r';
	buf[len++] = '\n';
	return len;
}

size_t
irc_vformat(char *buf, size_t sz, const char *fmt, va_list ap)
{
	return vformat_max(buf, sz, IRC_LINE_MAX, fmt, ap);
}

/*
 * An event (a relayed message, JOIN, TOPIC...): a client's whole line
 * with its source in front may pass 512 bytes and is sent whole.
 */
size_t
irc_vformat_relay(char *buf, size_t sz, const char *fmt, va_list ap)
{
	return vformat_max(buf, sz, IRC_RELAY_MAX, fmt, ap);
}

/*
 * Every line to a client ends here. A client with server-time gets a
 * time= tag on each (event lines bring their own, OUT_EVENT); during a
 * labeled command the replies to its sender are labeled: one line
 * carries the label, several go in a labeled-response batch, none get
 * an ACK (IRCv3 labeled-response).
 */
#define OUT_EVENT	0x01	/* tags already made for this recipient */
#define OUT_NOLABEL	0x02	/* not a reply (a message to oneself) */

/*
 * A labeled command's state, pointed to by its session's label while
 * the command runs: one command runs at a time, so one slot serves all.
 */
struct label {
	char		 tag[IRC_LABEL_MAX * 2 + 8];	/* "label=..." */
	int		 state;		/* LAB_* */
	char		 batch[16];
	size_t		 heldlen;
	char		 held[IRC_OUT_MAX + 64];
};
static struct label	 label_slot;
/*
 * The session whose s->label is &label_slot (there is one slot, so at
 * most one): fan-out asks "is s labeled?" as s == label_owner without
 * reading s->label, a cache line of its own in a large channel's walk.
 */
static const struct session	*label_owner;
enum { LAB_NONE, LAB_HELD, LAB_BATCH, LAB_PLAIN };

/*
 * A large channel's messages of this pass, held back and fanned out
 * together (run_flush): each member is then visited once for the lot,
 * not once a message, so its connection and queue are read once while
 * in the cache. Only one channel's at a time, only events that need
 * no cap and have no alternative line (PRIVMSG, NOTICE, KICK, TOPIC,
 * MODE...), only while client lines are being read (irc_out_hold),
 * never during a labeled command or with output logged; anything else
 * sent, and any change to a delivery array (joins, parts, sessions,
 * caps), sends them first, so
 * every connection still gets its lines in the order they were made.
 * The end of the read phase (irc_out_release, before net_flush) sends
 * what is left: no line waits longer than it did.
 */
#define RUN_MAX		64
static struct {
	struct chan	*ch;		/* NULL: nothing held */
	bool		 hold;		/* client lines being read */
	unsigned	 n;
	struct {
		struct net_line	*nl[8];		/* by IRC_TAGKEY */
		const struct client *except;
		const struct session *x1;	/* except's first session */
		bool		 xmany;		/* it has more */
	} l[RUN_MAX];
} run;
static void	run_flush(void);
#define RUN_FLUSH()	do { if (run.ch != NULL) run_flush(); } while (0)
static unsigned long	 batch_seq;

/* "2026-12-01T19:20:07.123Z": irc_time_now_ms, the same all pass. */
static const char *
now_time(void)
{
	static char buf[32];
	static int64_t at = -1;
	int64_t ms = irc_time_now_ms();

	if (ms != at) {
		irc_time_format(buf, sizeof(buf), ms);
		at = ms;
	}
	return buf;
}

/* "@add;old-tags rest" or "@add rest" into dst; 0 if it does not fit. */
static size_t
tag_prepend(char *dst, size_t dstsz, const char *add, const char *line,
    size_t len)
{
	size_t al = strlen(add);

	if (al + len + 3 > dstsz)
		return 0;
	dst[0] = '@';
	memcpy(dst + 1, add, al);
	if (line[0] == '@') {
		dst[1 + al] = ';';
		memcpy(dst + 2 + al, line + 1, len - 1);
		return al + len + 1;
	}
	dst[1 + al] = ' ';
	memcpy(dst + 2 + al, line, len);
	return al + len + 2;
}

/*
 * Whether "useroutput" debug lines are kept: asked of log.c once per
 * log configuration (start and rehash, which configure logging first),
 * not for each of the million lines a busy minute sends.
 */
static bool	 log_output;

static __attribute__((noinline)) void
out_log(const struct session *s, const char *line, size_t len)
{
	log_debug("useroutput", "%s %s -> %.*s", net_conn_ip(s->conn),
	    s->user->nick[0] ? s->user->nick : "*", (int)(len > 2 ? len - 2 : 0), line);
}

/* Appends a line to s's connection; the caller checked that it may. */
static inline void
out_put(struct session *s, const char *line, size_t len)
{
	RUN_FLUSH();
	if (log_output)
		out_log(s, line, len);
	net_conn_send(s->conn, line, len);
}

static void
out_raw(struct session *s, const char *line, size_t len)
{
	if (s->conn == NULL || (s->flags & SF_CLOSING))
		return;
	out_put(s, line, len);
}

/* out_raw with one more tag in front. */
static void
out_tag(struct session *s, const char *tag, const char *line, size_t len)
{
	char buf[IRC_OUT_MAX + IRC_LABEL_MAX * 2 + 64];
	size_t n = tag_prepend(buf, sizeof(buf), tag, line, len);

	if (n > 0)
		out_raw(s, buf, n);
}

/* A server line of our own (BATCH, ACK), with time= when wanted. */
static void
out_server(struct session *s, const char *tag, const char *fmt, ...)
{
	char buf[IRC_LINE_MAX + 1], tbuf[IRC_LINE_MAX + 64];
	char tags[sizeof(label_slot.tag) + 48];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = irc_vformat(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (s->caps & CAP_SERVER_TIME) {
		snprintf(tags, sizeof(tags), "%s%stime=%s", tag ? tag : "",
		    tag ? ";" : "", now_time());
		tag = tags;
	}
	if (tag == NULL)
		out_raw(s, buf, n);
	else if ((n = tag_prepend(tbuf, sizeof(tbuf), tag, buf, n)) > 0)
		out_raw(s, tbuf, n);
}

static void
label_line(struct session *s, const char *line, size_t len)
{
	struct label *lab = s->label;
	char bt[32];

	switch (lab->state) {
	case LAB_NONE:
		memcpy(lab->held, line, len);
		lab->heldlen = len;
		lab->state = LAB_HELD;
		return;
	case LAB_HELD:
		if (!(s->caps & CAP_BATCH)) {
			/* no batch: the first line alone carries the label */
			out_tag(s, lab->tag, lab->held, lab->heldlen);
			lab->state = LAB_PLAIN;
			out_raw(s, line, len);
			return;
		}
		snprintf(lab->batch, sizeof(lab->batch), "%lx", ++batch_seq);
		out_server(s, lab->tag, ":%s BATCH +%s labeled-response",
		    conf->server_name, lab->batch);
		snprintf(bt, sizeof(bt), "batch=%s", lab->batch);
		out_tag(s, bt, lab->held, lab->heldlen);
		lab->state = LAB_BATCH;
		/* FALLTHROUGH */
	case LAB_BATCH:
		if (strncmp(line, "@batch=", 7) == 0) {
			out_raw(s, line, len);	/* in a nested batch */
			return;
		}
		snprintf(bt, sizeof(bt), "batch=%s", lab->batch);
		out_tag(s, bt, line, len);
		return;
	default:
		out_raw(s, line, len);
	}
}

/* A labeled command starts: its replies to c are collected. */
/* The session a label belongs to: the one whose command runs. */
static struct session *
lsess(struct client *c)
{
	return irc_sess(c);
}

void
irc_label_begin(struct client *c, const char *tags)
{
	char v[IRC_LABEL_MAX * 2 + 1], esc[IRC_LABEL_MAX * 2 + 1];
	struct session *s = lsess(c);

	if (s == NULL || !(s->caps & CAP_LABELED) || tags == NULL ||
	    !irc_tag_get(tags, "label", v, sizeof(v)) || v[0] == '\0' ||
	    strlen(v) > IRC_LABEL_MAX || !irc_utf8_valid(v, strlen(v)))
		return;		/* none, or none a reply may carry */
	irc_tag_escape(esc, sizeof(esc), v, strlen(v));
	s->label = &label_slot;
	label_owner = s;
	snprintf(label_slot.tag, sizeof(label_slot.tag), "label=%s", esc);
	label_slot.state = LAB_NONE;
}

/* c's command ended: the ACK, the held line, or the batch's end. */
void
irc_label_end(struct client *c)
{
	struct session *s = lsess(c);
	struct label *lab = s != NULL ? s->label : NULL;

	if (lab == NULL)
		return;
	s->label = NULL;
	label_owner = NULL;
	switch (lab->state) {
	case LAB_NONE:
		out_server(s, lab->tag, ":%s ACK", conf->server_name);
		break;
	case LAB_HELD:
		out_tag(s, lab->tag, lab->held, lab->heldlen);
		break;
	case LAB_BATCH:
		out_server(s, NULL, ":%s BATCH -%s", conf->server_name,
		    lab->batch);
		break;
	}
}

bool
irc_label_take(struct client *c, char *tag, size_t sz)
{
	struct session *s = lsess(c);

	if (s == NULL || s->label == NULL || s->label->state != LAB_NONE)
		return false;
	snprintf(tag, sz, "%s", s->label->tag);
	s->label = NULL;
	label_owner = NULL;
	return true;
}

void
irc_label_resume(struct client *c, const char *tag)
{
	struct session *s = lsess(c);

	if (s == NULL || s->label != NULL || tag[0] == '\0')
		return;
	s->label = &label_slot;
	label_owner = s;
	snprintf(label_slot.tag, sizeof(label_slot.tag), "%s", tag);
	label_slot.state = LAB_NONE;
}

/*
 * The hot path of every line (a channel message runs it once per
 * member) keeps a small stack frame: the 8 KiB buffers of a line that
 * needs a tag or a new variant live in the slow paths, which are never
 * inlined into it (perf put a quarter of a fan-out's CPU on setting up
 * deliver's frame when the buffer was its own).
 */
#if defined(__GNUC__) || defined(__clang__)
#define SLOW_PATH	__attribute__((noinline))
#define HOT_INLINE	inline __attribute__((always_inline))
#else
#define SLOW_PATH
#define HOT_INLINE	inline
#endif

static HOT_INLINE void
deliver_final(struct session *s, const char *line, size_t len, unsigned fl)
{
	if (s->label != NULL && !(fl & OUT_NOLABEL))
		label_line(s, line, len);
	else
		out_put(s, line, len);	/* deliver checked s */
}

/* deliver, for a line that needs its time= tag made here. */
static SLOW_PATH void
deliver_timed(struct session *s, const char *line, size_t len, unsigned fl)
{
	char buf[IRC_OUT_MAX + 64], t[48];

	snprintf(t, sizeof(t), "time=%s", now_time());
	if ((len = tag_prepend(buf, sizeof(buf), t, line, len)) == 0)
		return;
	deliver_final(s, buf, len, fl);
}

static void
deliver(struct session *s, const char *line, size_t len, unsigned fl)
{
	if (s->conn == NULL || (s->flags & SF_CLOSING))
		return;
	if ((s->caps & CAP_SERVER_TIME) && !(fl & OUT_EVENT))
		deliver_timed(s, line, len, fl);
	else
		deliver_final(s, line, len, fl);
}

/*
 * Replies go to the session whose command runs (c->cur); a line for a
 * user outside its own command (a timer, another's command) to each of
 * its sessions. Events (irc_ev_*) always go to every session.
 */
static void
reply(struct client *c, const char *line, size_t len, unsigned fl)
{
	struct session *s;

	if (c->cur != NULL)
		deliver(c->cur, line, len, fl);
	else if (c->sess == NULL && irc_hooks.remote_reply != NULL)
		irc_hooks.remote_reply(c, line, len);	/* another server's */
	else
		for (s = c->sess; s != NULL; s = s->next)
			deliver(s, line, len, fl);
}

void
irc_send_raw(struct client *c, const char *line, size_t len)
{
	reply(c, line, len, 0);
}

/* A line that brings its own tags (history replay): no time= added. */
void
irc_send_tagged(struct client *c, const char *line, size_t len)
{
	reply(c, line, len, OUT_EVENT);
}

void
irc_send_session_tagged(struct session *s, const char *line, size_t len)
{
	deliver(s, line, len, OUT_EVENT);
}

/* A line to one session of a user, whichever command runs. */
void
irc_send_session(struct session *s, const char *fmt, ...)
{
	char buf[IRC_LINE_MAX + 1];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = irc_vformat(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	deliver(s, buf, n, 0);
}

void
irc_send(struct client *c, const char *fmt, ...)
{
	char buf[IRC_LINE_MAX + 1];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = irc_vformat(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	irc_send_raw(c, buf, n);
}

void
irc_fail(struct client *c, const char *kind, const char *cmd,
    const char *code, const char *fmt, ...)
{
	char buf[IRC_LINE_MAX + 1];
	va_list ap;
	int hl;
	size_t n;

	hl = snprintf(buf, sizeof(buf), ":%s %s %s %s ", conf->server_name,
	    kind, cmd, code);
	if (hl < 0 || (size_t)hl >= sizeof(buf) - 3)
		return;
	va_start(ap, fmt);
	n = irc_vformat(buf + hl, sizeof(buf) - (size_t)hl, fmt, ap);
	va_end(ap);
	n += (size_t)hl;
	if (n > IRC_LINE_MAX) {
		n = irc_utf8_cut(buf, n, IRC_LINE_MAX - 2);
		buf[n++] = '\r';
		buf[n++] = '\n';
	}
	irc_send_raw(c, buf, n);
}

/*
 * ":server NNN nick " into buf: its length, or -1 if it does not leave
 * room for a body. Copied, not printed: a registration sends twenty of
 * these, and snprintf was a fifth of its instructions in bench/.
 */
static int
numeric_head(char *buf, size_t sz, int num, const struct client *c)
{
	const char *nick = c->nick[0] ? c->nick : "*";
	size_t sl = strlen(conf->server_name), nl = strlen(nick), n = 0;

	if (num < 0 || num > 999 || sl + nl + 8 > sz - 3)
		return -1;
	buf[n++] = ':';
	memcpy(buf + n, conf->server_name, sl);
	n += sl;
	buf[n++] = ' ';
	buf[n++] = (char)('0' + num / 100);
	buf[n++] = (char)('0' + num / 10 % 10);
	buf[n++] = (char)('0' + num % 10);
	buf[n++] = ' ';
	memcpy(buf + n, nick, nl);
	n += nl;
	buf[n++] = ' ';
	return (int)n;
}

void
irc_numeric(struct client *c, int num, const char *fmt, ...)
{
	char buf[IRC_LINE_MAX + 1];
	va_list ap;
	size_t n;
	int hl;

	if ((hl = numeric_head(buf, sizeof(buf), num, c)) < 0)
		return;
	va_start(ap, fmt);
	n = irc_vformat(buf + hl, sizeof(buf) - (size_t)hl, fmt, ap);
	va_end(ap);
	n += (size_t)hl;
	if (n > IRC_LINE_MAX) {		/* header ate into the budget */
		n = irc_utf8_cut(buf, n, IRC_LINE_MAX - 2);
		buf[n++] = '\r';
		buf[n++] = '\n';
	}
	irc_send_raw(c, buf, n);
}

const char *
irc_member_prefix(const struct member *mb, const struct client *to)
{
	static char buf[8];

	irc_memb_symbols(mb->modes, (irc_user_caps(to) & CAP_MULTI_PREFIX) != 0,
	    buf, sizeof(buf));
	return buf;
}


/* ---- events: one body, tags once per capability variant ---- */

static char	 msgid_base[9];
static uint64_t	 msgid_seq;

static void
ev_vinit(struct irc_ev *ev, struct client *from, bool msgid,
    const char *fmt, va_list ap)
{
	ev->from = from;
	ev->need = ev->altcap = 0;
	ev->alen = 0;
	ev->ctags = NULL;
	ev->nv = 0;
	ev->msgid[0] = '\0';
	/* unique across restarts: a random base, then a counter */
	if (msgid)
		snprintf(ev->msgid, sizeof(ev->msgid), "%s%llx", msgid_base,
		    (unsigned long long)++msgid_seq);
	snprintf(ev->time, sizeof(ev->time), "%s", now_time());
	ev->blen = irc_vformat_relay(ev->body, sizeof(ev->body), fmt, ap);
}

void
irc_ev_init(struct irc_ev *ev, struct client *from, bool msgid,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ev_vinit(ev, from, msgid, fmt, ap);
	va_end(ap);
}

void
irc_ev_alt(struct irc_ev *ev, uint64_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ev->alen = irc_vformat_relay(ev->alt, sizeof(ev->alt), fmt, ap);
	va_end(ap);
	ev->altcap = cap;
}

/* The line for recipients whose relevant caps are key, into buf. */
static size_t
ev_format(const struct irc_ev *ev, uint64_t key, char *buf, size_t sz)
{
	const char *body = (key & ev->altcap) && ev->alen ? ev->alt : ev->body;
	size_t blen = (key & ev->altcap) && ev->alen ? ev->alen : ev->blen;
	char acct[2 * NICKLEN_MAX + 1];
	size_t n = 0;
	int w;

#define ADD(...) do { \
	w = snprintf(buf + n, sz - n, "%s", n ? ";" : "@"); \
	n += (size_t)w; \
	w = snprintf(buf + n, sz - n, __VA_ARGS__); \
	n += w < 0 ? 0 : (size_t)w; \
	if (n >= sz) n = sz - 1; \
} while (0)
	if (key & CAP_SERVER_TIME)
		ADD("time=%s", ev->time);
	if ((key & CAP_MESSAGE_TAGS) && ev->msgid[0] != '\0')
		ADD("msgid=%s", ev->msgid);
	if ((key & CAP_ACCOUNT_TAG) && ev->from != NULL &&
	    ev->from->account != NULL) {
		irc_tag_escape(acct, sizeof(acct), ev->from->account,
		    strlen(ev->from->account));
		ADD("account=%s", acct);
	}
	if ((key & CAP_MESSAGE_TAGS) && ev->from != NULL &&
	    (ev->from->umodes & UMODE_BOT))
		ADD("bot");
	if ((key & CAP_MESSAGE_TAGS) && ev->ctags != NULL &&
	    ev->ctags[0] != '\0')
		ADD("%s", ev->ctags);
#undef ADD
	if (n > 0)
		buf[n++] = ' ';
	if (n + blen > sz)
		return 0;
	memcpy(buf + n, body, blen);
	return n + blen;
}

/*
 * A variant to one session: by reference to the shared line when it goes
 * as it is (no label to wrap it in, no output logging), else as deliver.
 */
static HOT_INLINE void
ev_deliver(struct irc_ev *ev, unsigned i, struct session *s, unsigned fl)
{
	RUN_FLUSH();
	if (ev->v[i].nl != NULL && !log_output && (s->flags & SF_CLOSING) == 0 &&
	    (s != label_owner || s->label == NULL || (fl & OUT_NOLABEL)))
		net_conn_send_line(s->conn, ev->v[i].nl);
	else
		deliver(s, ev->v[i].line, ev->v[i].len, fl | OUT_EVENT);
}

/* ev_send for the first recipient of a variant: format and keep it. */
static SLOW_PATH void
ev_send_new(struct irc_ev *ev, struct session *s, uint64_t key, unsigned fl)
{
	char buf[IRC_OUT_MAX];
	struct net_line *nl;
	size_t n;

	if ((n = ev_format(ev, key, buf, sizeof(buf))) == 0)
		return;
	if (ev->nv < IRC_EV_VARIANTS && (nl = net_line_new(buf, n)) != NULL) {
		ev->v[ev->nv].nl = nl;
		ev->v[ev->nv].line = net_line_data(nl, &ev->v[ev->nv].len);
		ev->v[ev->nv++].key = key;
		ev_deliver(ev, ev->nv - 1, s, fl);
		return;
	}
	deliver(s, buf, n, fl | OUT_EVENT);
}

/* ev to one session, in the variant its capabilities need. */
static void
ev_send_session(struct irc_ev *ev, struct session *s, unsigned fl)
{
	uint64_t key = s->caps & (CAP_TAGGING | ev->altcap);
	unsigned i;

	if ((s->caps & ev->need) != ev->need || s->conn == NULL)
		return;
	for (i = 0; i < ev->nv; i++)
		if (ev->v[i].key == key) {
			ev_deliver(ev, i, s, fl);
			return;
		}
	ev_send_new(ev, s, key, fl);
}

/* ev_send for a user with several sessions (multiclient). */
static SLOW_PATH void
ev_send_all(struct irc_ev *ev, struct client *to, unsigned fl)
{
	struct session *s;

	for (s = to->sess; s != NULL; s = s->next)
		ev_send_session(ev, s, fl);
}

/*
 * An event reaches every session of the user, none if it has none. One
 * session, the usual case, costs no more than before users had sessions
 * (fan-out's hot path, bench/profile.sh fanout).
 */
static inline void
ev_send(struct irc_ev *ev, struct client *to, unsigned fl)
{
	if (to->sess == NULL)
		return;
	if (to->sess->next == NULL)
		ev_send_session(ev, to->sess, fl);
	else
		ev_send_all(ev, to, fl);
}
void
irc_ev_send(struct irc_ev *ev, struct client *to)
{
	ev_send(ev, to, 0);
}

void
irc_ev_send_session(struct irc_ev *ev, struct session *s)
{
	ev_send_session(ev, s, 0);
}

/*
 * A message c sent, to c's own sessions: every other one (multiclient:
 * they see what the user said), and the one that sent it if it has
 * echo-message.
 */
void
irc_ev_echo(struct irc_ev *ev, struct client *c)
{
	struct session *s;

	for (s = c->sess; s != NULL; s = s->next)
		if (s != c->cur || (s->caps & CAP_ECHO_MESSAGE))
			ev_send_session(ev, s, 0);
}

/* A copy delivered to its own sender (a message to oneself): no reply. */
void
irc_ev_send_unlabeled(struct irc_ev *ev, struct client *to)
{
	ev_send(ev, to, OUT_NOLABEL);
}

/*
 * A channel's members. A large channel fans out through its delivery
 * array (irc_chan_dv: each session's connection, the session and its
 * caps, dense and in order), so a delivery reads one entry, which the
 * walk streams, then the connection, its queue and the queue's free
 * slot, each asked for a few steps before it is needed: the connection
 * PF_STEP * 3 entries ahead, its queue * 2, the slot * 1, each level
 * read one step after it was asked for. Before the array, a delivery
 * also read the member, its user and its session, three more dependent
 * misses (about 7 cache lines a delivery): at 5,000 members those ~5 MB
 * are out of the cache, and fan-out per delivery cost ~1.5 times what
 * it did at 100. A session is read only when it is the labeled one
 * (label_owner), for the first recipient of a variant, or when output
 * is logged. Below IRC_DV_MIN members everything is in the cache
 * anyway and the members are walked as they are.
 */
#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p)	__builtin_prefetch(p)
#else
#define PREFETCH(p)	((void)(p))
#endif

#define PF_STEP			4

static inline void
dv_prefetch(const struct deliv *dv, unsigned i, unsigned n)
{
	unsigned k;

	if ((k = i + 4 * PF_STEP) < n)
		PREFETCH(&dv[k]);
	for (k = 3; k > 0; k--)		/* connection, queue, its tail */
		if (i + k * PF_STEP < n)
			net_conn_prefetch(dv[i + k * PF_STEP].conn, 3 - k);
}

/* ev to one session of a channel's array, as ev_send_session would. */
static HOT_INLINE void
dv_deliver(struct irc_ev *ev, const struct deliv *e)
{
	uint64_t key = e->caps & (CAP_TAGGING | ev->altcap);
	unsigned i;

	if ((e->caps & ev->need) != ev->need)
		return;
	for (i = 0; i < ev->nv; i++)
		if (ev->v[i].key == key) {
			if (ev->v[i].nl != NULL && !log_output &&
			    (e->s != label_owner || e->s->label == NULL))
				net_conn_send_line(e->conn, ev->v[i].nl);
			else
				deliver(e->s, ev->v[i].line, ev->v[i].len,
				    OUT_EVENT);
			return;
		}
	ev_send_new(ev, e->s, key, 0);
}

/* Whether s is a session of except, which has several (multiclient). */
static SLOW_PATH bool
dv_except(const struct session *s, const struct client *except)
{
	const struct session *x;

	for (x = except->sess; x != NULL; x = x->next)
		if (x == s)
			return true;
	return false;
}

/* What run holds back goes out: each member's lines of the run, in order. */
static SLOW_PATH void
run_flush(void)
{
	struct chan *ch = run.ch;
	const struct deliv *dv = ch->dv;
	unsigned i, j, k, n = ch->ndv;

	run.ch = NULL;
	for (i = 0; i < n; i++) {
		dv_prefetch(dv, i, n);
		k = IRC_TAGKEY(dv[i].caps);
		for (j = 0; j < run.n; j++)
			if (dv[i].s != run.l[j].x1 && (!run.l[j].xmany ||
			    !dv_except(dv[i].s, run.l[j].except)))
				net_conn_send_line(dv[i].conn, run.l[j].nl[k]);
	}
	for (j = 0; j < run.n; j++)
		for (k = 0; k < 8; k++)
			net_line_unref(run.l[j].nl[k]);
	run.n = 0;
}

/* ev's line in the variant for tagging key k, made if new; NULL: ENOMEM. */
static struct net_line *
ev_variant(struct irc_ev *ev, unsigned k)
{
	uint64_t key = (k & 1 ? CAP_MESSAGE_TAGS : 0) |
	    (k & 2 ? CAP_SERVER_TIME : 0) | (k & 4 ? CAP_ACCOUNT_TAG : 0);
	char buf[IRC_OUT_MAX];
	struct net_line *nl;
	unsigned i;
	size_t n;

	for (i = 0; i < ev->nv; i++)
		if (ev->v[i].key == key)
			return ev->v[i].nl;
	if (ev->nv == IRC_EV_VARIANTS ||
	    (n = ev_format(ev, key, buf, sizeof(buf))) == 0 ||
	    (nl = net_line_new(buf, n)) == NULL)
		return NULL;
	ev->v[ev->nv].nl = nl;
	ev->v[ev->nv].line = net_line_data(nl, &ev->v[ev->nv].len);
	ev->v[ev->nv++].key = key;
	return nl;
}

/* ev held back for ch's run (see run); false: send it now instead. */
static bool
run_add(struct irc_ev *ev, struct chan *ch, const struct client *except)
{
	struct net_line *nl[8] = { NULL };
	unsigned k;

	if (!run.hold || ev->need != 0 || ev->altcap != 0 || log_output ||
	    label_owner != NULL)
		return false;
	for (k = 0; k < 8; k++)
		if ((ch->dvkeys & (1u << k)) &&
		    (nl[k] = ev_variant(ev, k)) == NULL)
			return false;	/* ENOMEM: ev_done frees what was made */
	if (run.ch != ch || run.n == RUN_MAX)
		RUN_FLUSH();
	for (k = 0; k < 8; k++)
		run.l[run.n].nl[k] = nl[k] != NULL ? net_line_ref(nl[k]) : NULL;
	run.l[run.n].except = except;
	run.l[run.n].x1 = except != NULL ? except->sess : NULL;
	run.l[run.n].xmany = except != NULL && except->sess != NULL &&
	    except->sess->next != NULL;
	run.n++;
	run.ch = ch;
	return true;
}

void
irc_out_hold(void)
{
	run.hold = true;
}

void
irc_out_release(void)
{
	RUN_FLUSH();
	run.hold = false;
}

/* irc_state's dv_change hook: held lines go out before the change. */
static void
run_dv_change(const struct chan *ch)
{
	(void)ch;		/* any change: the order of a user's lines */
	RUN_FLUSH();
}

void
irc_ev_chan(struct irc_ev *ev, struct chan *ch, struct client *except)
{
	struct member *const *mv = ch->mv;
	const struct deliv *dv;
	const struct session *x1 = NULL;
	bool xmany = false;
	unsigned i, n = ch->nmembers;

	if (n < IRC_DV_MIN || (dv = irc_chan_dv(ch, &n)) == NULL) {
		for (i = 0; i < ch->nmembers; i++)
			if (mv[i]->c != except)
				ev_send(ev, mv[i]->c, 0);
		return;
	}
	if (run_add(ev, ch, except))
		return;
	RUN_FLUSH();
	/* the sender's sessions, by pointer: an entry's session is not read */
	if (except != NULL && (x1 = except->sess) != NULL)
		xmany = x1->next != NULL;
	for (i = 0; i < n; i++) {
		dv_prefetch(dv, i, n);
		if (dv[i].s == x1 || (xmany && dv_except(dv[i].s, except)))
			continue;
		dv_deliver(ev, &dv[i]);
	}
}

/* To the members but except holding one of the prefix modes in (STATUSMSG). */
void
irc_ev_chan_status(struct irc_ev *ev, struct chan *ch, struct client *except,
    unsigned char modes)
{
	struct member *m;

	for (m = ch->members; m != NULL; m = m->cnext)
		if (m->c != except && (m->modes & modes))
			ev_send(ev, m->c, 0);
}

/* irc_ev_chan, and history observes it (JOIN). */
void
irc_ev_chan_event(struct irc_ev *ev, struct chan *ch, struct client *except)
{
	irc_ev_chan(ev, ch, except);
	IRC_HOOK_RUN(chan_event, ch, ev);	/* history */
}

/* A delivered message (ch, or the user to): history observes it. */
void
irc_ev_message(const struct irc_ev *ev, struct client *from, struct chan *ch,
    struct client *to, const char *cmd, const char *text)
{
	IRC_HOOK_RUN(message, from, ch, to, cmd, text, ev);
}

/*
 * Whether member m of um's channel hears of um's user (QUIT, NICK, AWAY,
 * CHGHOST...): in a +u channel a plain member's events reach only the
 * voices and up (Ergo's auditoriumFriends), as its JOIN and PART do.
 */
static bool
peer_sees(const struct member *um, const struct member *m)
{
	return !(um->ch->modes & CMODE_AUDITORIUM) || um->modes != 0 ||
	    m->modes != 0;
}

void
irc_ev_peers(struct irc_ev *ev, struct client *c, bool self)
{
	struct member *um, *m;

	/* Each peer once, however many channels it shares with c. */
	if (++mark_gen == 0)
		mark_gen = 1;
	c->mark = mark_gen;
	if (self)
		ev_send(ev, c, 0);
	for (um = c->chans; um != NULL; um = um->unext)
		for (m = um->ch->members; m != NULL; m = m->cnext)
			if (m->c->mark != mark_gen && peer_sees(um, m)) {
				m->c->mark = mark_gen;
				ev_send(ev, m->c, 0);
			}
	IRC_HOOK_RUN(peers_sent, ev, c);	/* extended-monitor */
}

/* ev to each peer of c (not c) that lacks cap, once (chghost's QUIT). */
void
irc_ev_peers_lacking(struct irc_ev *ev, struct client *c, uint64_t cap)
{
	struct member *um, *m;
	struct session *s;

	if (++mark_gen == 0)
		mark_gen = 1;
	c->mark = mark_gen;
	for (um = c->chans; um != NULL; um = um->unext)
		for (m = um->ch->members; m != NULL; m = m->cnext)
			if (m->c->mark != mark_gen && peer_sees(um, m)) {
				m->c->mark = mark_gen;
				for (s = m->c->sess; s != NULL; s = s->next)
					if (!(s->caps & cap))
						ev_send_session(ev, s, 0);
			}
}

size_t
irc_ev_format(struct irc_ev *ev, const struct client *to, char *buf,
    size_t sz)
{
	return ev_format(ev, irc_user_caps(to) & (CAP_TAGGING | ev->altcap),
	    buf, sz);
}

void
irc_ev_done(struct irc_ev *ev)
{
	while (ev->nv > 0)
		net_line_unref(ev->v[--ev->nv].nl);
}

void
irc_chan_send(struct chan *ch, struct client *except, const char *fmt, ...)
{
	struct irc_ev ev;
	va_list ap;

	va_start(ap, fmt);
	ev_vinit(&ev, NULL, false, fmt, ap);
	va_end(ap);
	irc_ev_chan(&ev, ch, except);
	irc_ev_done(&ev);
}

void
irc_chan_event(struct chan *ch, struct client *from,
    struct client *except, const char *fmt, ...)
{
	struct irc_ev ev;
	va_list ap;

	va_start(ap, fmt);
	ev_vinit(&ev, from, false, fmt, ap);
	va_end(ap);
	irc_ev_chan_event(&ev, ch, except);
	irc_ev_done(&ev);
}

void
irc_peers_event(struct client *c, bool self, const char *fmt, ...)
{
	struct irc_ev ev;
	va_list ap;

	va_start(ap, fmt);
	ev_vinit(&ev, c, false, fmt, ap);
	va_end(ap);
	irc_ev_peers(&ev, c, self);
	IRC_HOOK_RUN(peers_event, c, &ev);	/* history */
	irc_ev_done(&ev);
}

void
irc_peers_cap_send(struct client *c, bool self, uint64_t cap,
    const char *fmt, ...)
{
	struct irc_ev ev;
	va_list ap;

	va_start(ap, fmt);
	ev_vinit(&ev, c, false, fmt, ap);
	va_end(ap);
	ev.need = cap;
	irc_ev_peers(&ev, c, self);
	irc_ev_done(&ev);
}


/* ---- ISUPPORT (005) ---- */

#define ISUPPORT_LINES	4
static char	 isupport[ISUPPORT_LINES][IRC_LINE_MAX];
static size_t	 nisupport;		/* 0: build at the next use */
static void	 isupport_build(void);

void
irc_send_isupport(struct client *c)
{
	size_t i;

	/* The tokens change only at a rehash: built once, not per client
	 * (they were half of a registration's instructions in bench/). */
	if (nisupport == 0)
		isupport_build();
	for (i = 0; i < nisupport; i++)
		irc_numeric(c, RPL_ISUPPORT, "%s :are supported by this server",
		    isupport[i]);
}

static void
isupport_build(void)
{
	char tok[32][96];
	size_t n = 0, i, j;
	const struct conf *k = conf;

#define TOK(...) snprintf(tok[n++], sizeof(tok[0]), __VA_ARGS__)
	TOK("ACCOUNTEXTBAN=a");
	TOK("AWAYLEN=%u", k->limits.awaylen);
	TOK("BOT=B");
	TOK("CASEMAPPING=%s", k->casemapping == CASEMAP_RFC1459 ? "rfc1459" :
	    "ascii");		/* precis too, as Ergo: ASCII folds so */
	TOK("CHANLIMIT=#&:%u", k->chan_max_per_user);
	TOK("CHANMODES=beI,k,fl,CMRUimnpstu");
	TOK("CHANNELLEN=%u", k->limits.channellen);
	TOK("CHANTYPES=#&");
	if (k->history.enabled)
		TOK("CHATHISTORY=%u", k->history.maxmessages);
	TOK("CLIENTTAGDENY=%s", IRC_CLIENTTAGDENY);
	TOK("ELIST=CMNTU");
	TOK("EXCEPTS");		/* bare, as Ergo writes them: e and I */
	TOK("EXTBAN=,am");
	TOK("FORWARD=f");
	TOK("INVEX");
	TOK("KICKLEN=%u", k->limits.kicklen);
	TOK("MAXLIST=beI:%u", k->chan_max_list);
	if (k->metadata.enabled)
		TOK("METADATA=%u", k->metadata.max_keys);
	TOK("MODES=6");
	TOK("MONITOR=%u", k->limits.monitor);
	if (k->history.enabled)
		TOK("MSGREFTYPES=msgid,timestamp");
	TOK("NETWORK=%s", k->network_name);
	TOK("NICKLEN=%u", k->limits.nicklen);
	TOK("PREFIX=(qaohv)~&@%%+");
	TOK("STATUSMSG=~&@%%+");
	TOK("TARGMAX=JOIN:,KICK:%u,NAMES:,NOTICE:%u,PART:,PRIVMSG:%u,"
	    "WHOIS:%u", k->limits.targmax, k->limits.targmax,
	    k->limits.targmax, k->limits.targmax);
	TOK("TOPICLEN=%u", k->limits.topiclen);
	TOK("USERLEN=%u", k->limits.identlen + 1);
	if (k->casemapping == CASEMAP_PRECIS)
		TOK("UTF8MAPPING=rfc8265");
	TOK("WHOX");
	TOK("UTF8ONLY");
#undef TOK
	for (i = 0; i < n && nisupport < ISUPPORT_LINES; i += 13) {
		char *line = isupport[nisupport++];
		size_t off = 0;

		line[0] = '\0';
		for (j = i; j < n && j < i + 13; j++)
			off += (size_t)snprintf(line + off, IRC_LINE_MAX - off,
			    "%s%s", off ? " " : "", tok[j]);
	}
}

void
irc_out_init(void)
{
	uint32_t rnd;

	/* msgids: 8 random hex digits per run, then a counter; not the
	 * start time: two starts in one second would reuse msgids that
	 * persistent history still holds */
	if (ergo_random(&rnd, sizeof(rnd)) == -1)
		rnd = (uint32_t)ergo_now;
	snprintf(msgid_base, sizeof(msgid_base), "%08lx",
	    (unsigned long)rnd & 0xffffffffUL);
	irc_out_rehashed();
	IRC_HOOK_ADD(dv_change, run_dv_change);
}

/* After log_configure: whether "useroutput" lines are wanted. */
void
irc_out_rehashed(void)
{
	log_output = log_wants(LL_DEBUG, "useroutput");
	nisupport = 0;		/* limits, network name, ... may have changed */
}
