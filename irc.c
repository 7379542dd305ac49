/*
 * irc.c: the protocol core: message parsing, the command table and
 * dispatch, registration (PASS NICK USER CAP), PING/PONG, QUIT, PRIVMSG
 * and NOTICE, replies and fan-out, fakelag and client timeouts.
 * Never touches a socket or SQL: output goes through net_conn_send.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "irc.h"

struct ircstate irc;

/* Timeout lists, each FIFO by its own key (tstamp_ms). */
struct tlist {
	struct client	*head, *tail;
};
static struct tlist	 t_unreg;	/* by connect time */
static struct tlist	 t_active;	/* registered, by last line */
static struct tlist	 t_pinged;	/* registered, by PING time */
/* Fakelag holds their input; ordered by fl_next_ms, soonest first. */
static struct client	*throttled, *throttled_tail;
static struct client	*graveyard;	/* exited this pass */
static uint32_t		 mark_gen;
static char		 created[64];

/* ---- parsing ---- */

/*
 * RFC 1459 / IRCv3 message grammar: ['@' tags SP] [':' source SP]
 * command *(SP param) [SP ':' trailing]. Runs of spaces separate; the
 * 15th parameter takes the rest of the line.
 */
int
irc_parse(char *line, struct msg *m)
{
	char *p = line, *q;

	memset(m, 0, sizeof(*m));
	/* Leading spaces are skipped before the tags too: otherwise
	 * "  @x CMD" would make "@X" a command (found by fuzz_parse). */
	while (*p == ' ')
		p++;
	if (*p == '@') {
		m->tags = ++p;
		if ((p = strchr(p, ' ')) == NULL)
			return -1;
		*p++ = '\0';
	}
	while (*p == ' ')
		p++;
	if (*p == ':') {
		m->source = ++p;
		if ((p = strchr(p, ' ')) == NULL)
			return -1;
		*p++ = '\0';
		while (*p == ' ')
			p++;
	}
	if (*p == '\0')
		return -1;
	m->cmd = p;
	while (*p != '\0' && *p != ' ') {
		if (*p >= 'a' && *p <= 'z')
			*p -= 32;
		p++;
	}
	for (;;) {
		while (*p == ' ')
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (*p == ':' || m->nparam == IRC_PARAMS_MAX - 1) {
			m->param[m->nparam++] = *p == ':' ? p + 1 : p;
			break;
		}
		m->param[m->nparam++] = p;
		if ((q = strchr(p, ' ')) == NULL)
			break;
		p = q;
	}
	return 0;
}

/* ---- output ---- */

/*
 * Formats one line into buf with CRLF. An overlong line is cut at 510
 * bytes, never inside a UTF-8 sequence.
 */
size_t
irc_vformat(char *buf, size_t sz, const char *fmt, va_list ap)
{
	int n;
	size_t len, max = (sz < IRC_LINE_MAX ? sz : IRC_LINE_MAX) - 2;

	n = vsnprintf(buf, sz, fmt, ap);
	len = n < 0 ? 0 : (size_t)n;
	if (len >= sz)
		len = sz - 1;	/* vsnprintf kept this much */
	len = irc_utf8_cut(buf, len, max);
	buf[len++] = '\r';
	buf[len++] = '\n';
	return len;
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

static struct {
	struct client	*c;		/* sender of the labeled command */
	char		 tag[IRC_LABEL_MAX * 2 + 8];	/* "label=..." */
	int		 state;		/* LAB_* */
	char		 batch[16];
	size_t		 heldlen;
	char		 held[IRC_OUT_MAX + 64];
} lab;
enum { LAB_NONE, LAB_HELD, LAB_BATCH, LAB_PLAIN };
static unsigned long	 batch_seq;

/* "2026-12-01T19:20:07.123Z", the wall clock, refreshed once a pass. */
static const char *
now_time(void)
{
	static char buf[96];
	static uint64_t at;
	struct timespec ts;
	struct tm tm;

	if (buf[0] != '\0' && at == ergo_now_ms)
		return buf;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000L);
	at = ergo_now_ms;
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
out_log(struct client *c, const char *line, size_t len)
{
	log_debug("useroutput", "%s %s -> %.*s", net_conn_ip(c->conn),
	    c->nick[0] ? c->nick : "*", (int)(len > 2 ? len - 2 : 0), line);
}

static void
out_raw(struct client *c, const char *line, size_t len)
{
	if (c->conn == NULL || (c->flags & CF_CLOSING))
		return;
	if (log_output)
		out_log(c, line, len);
	net_conn_send(c->conn, line, len);
}

/* out_raw with one more tag in front. */
static void
out_tag(struct client *c, const char *tag, const char *line, size_t len)
{
	char buf[IRC_OUT_MAX + IRC_LABEL_MAX * 2 + 64];
	size_t n = tag_prepend(buf, sizeof(buf), tag, line, len);

	if (n > 0)
		out_raw(c, buf, n);
}

/* A server line of our own (BATCH, ACK), with time= when wanted. */
static void
out_server(struct client *c, const char *tag, const char *fmt, ...)
{
	char buf[IRC_LINE_MAX + 1], tbuf[IRC_LINE_MAX + 64];
	char tags[sizeof(lab.tag) + 48];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = irc_vformat(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (c->caps & CAP_SERVER_TIME) {
		snprintf(tags, sizeof(tags), "%s%stime=%s", tag ? tag : "",
		    tag ? ";" : "", now_time());
		tag = tags;
	}
	if (tag == NULL)
		out_raw(c, buf, n);
	else if ((n = tag_prepend(tbuf, sizeof(tbuf), tag, buf, n)) > 0)
		out_raw(c, tbuf, n);
}

static void
label_line(const char *line, size_t len)
{
	char bt[32];

	switch (lab.state) {
	case LAB_NONE:
		memcpy(lab.held, line, len);
		lab.heldlen = len;
		lab.state = LAB_HELD;
		return;
	case LAB_HELD:
		if (!(lab.c->caps & CAP_BATCH)) {
			/* no batch: the first line alone carries the label */
			out_tag(lab.c, lab.tag, lab.held, lab.heldlen);
			lab.state = LAB_PLAIN;
			out_raw(lab.c, line, len);
			return;
		}
		snprintf(lab.batch, sizeof(lab.batch), "%lx", ++batch_seq);
		out_server(lab.c, lab.tag, ":%s BATCH +%s labeled-response",
		    conf->server_name, lab.batch);
		snprintf(bt, sizeof(bt), "batch=%s", lab.batch);
		out_tag(lab.c, bt, lab.held, lab.heldlen);
		lab.state = LAB_BATCH;
		/* FALLTHROUGH */
	case LAB_BATCH:
		if (strncmp(line, "@batch=", 7) == 0) {
			out_raw(lab.c, line, len);	/* in a nested batch */
			return;
		}
		snprintf(bt, sizeof(bt), "batch=%s", lab.batch);
		out_tag(lab.c, bt, line, len);
		return;
	default:
		out_raw(lab.c, line, len);
	}
}

/* A labeled command starts: its replies to c are collected. */
static void
label_begin(struct client *c, const char *tags)
{
	char v[IRC_LABEL_MAX * 2 + 1], esc[IRC_LABEL_MAX * 2 + 1];

	if (!(c->caps & CAP_LABELED) || tags == NULL ||
	    !irc_tag_get(tags, "label", v, sizeof(v)) || v[0] == '\0' ||
	    strlen(v) > IRC_LABEL_MAX)
		return;
	irc_tag_escape(esc, sizeof(esc), v, strlen(v));
	snprintf(lab.tag, sizeof(lab.tag), "label=%s", esc);
	lab.c = c;
	lab.state = LAB_NONE;
}

static void
label_end(void)
{
	struct client *c = lab.c;

	if (c == NULL)
		return;
	lab.c = NULL;
	switch (lab.state) {
	case LAB_NONE:
		out_server(c, lab.tag, ":%s ACK", conf->server_name);
		break;
	case LAB_HELD:
		out_tag(c, lab.tag, lab.held, lab.heldlen);
		break;
	case LAB_BATCH:
		out_server(c, NULL, ":%s BATCH -%s", conf->server_name,
		    lab.batch);
		break;
	}
}

bool
irc_label_take(struct client *c, char *tag, size_t sz)
{
	if (lab.c != c || lab.state != LAB_NONE)
		return false;
	snprintf(tag, sz, "%s", lab.tag);
	lab.c = NULL;
	return true;
}

void
irc_label_resume(struct client *c, const char *tag)
{
	if (lab.c != NULL || tag[0] == '\0')
		return;
	snprintf(lab.tag, sizeof(lab.tag), "%s", tag);
	lab.c = c;
	lab.state = LAB_NONE;
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
#else
#define SLOW_PATH
#endif

static void
deliver_final(struct client *c, const char *line, size_t len, unsigned fl)
{
	if (c == lab.c && !(fl & OUT_NOLABEL))
		label_line(line, len);
	else
		out_raw(c, line, len);
}

/* deliver, for a line that needs its time= tag made here. */
static SLOW_PATH void
deliver_timed(struct client *c, const char *line, size_t len, unsigned fl)
{
	char buf[IRC_OUT_MAX + 64], t[48];

	snprintf(t, sizeof(t), "time=%s", now_time());
	if ((len = tag_prepend(buf, sizeof(buf), t, line, len)) == 0)
		return;
	deliver_final(c, buf, len, fl);
}

static void
deliver(struct client *c, const char *line, size_t len, unsigned fl)
{
	if (c->conn == NULL || (c->flags & CF_CLOSING))
		return;
	if ((c->caps & CAP_SERVER_TIME) && !(fl & OUT_EVENT))
		deliver_timed(c, line, len, fl);
	else
		deliver_final(c, line, len, fl);
}

void
irc_send_raw(struct client *c, const char *line, size_t len)
{
	deliver(c, line, len, 0);
}

/* A line that brings its own tags (history replay): no time= added. */
void
irc_send_tagged(struct client *c, const char *line, size_t len)
{
	deliver(c, line, len, OUT_EVENT);
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
irc_prefix(const struct client *c)
{
	static char buf[NICKLEN_MAX + 256];
	const char *part[3] = { c->nick[0] ? c->nick : "*",
	    c->user ? c->user : "*", c->host };
	size_t n = 0, l, i;

	/* copied, not printed: every message and welcome makes one */
	for (i = 0; i < 3; i++) {
		l = strlen(part[i]);
		if (l > sizeof(buf) - 1 - n - (i < 2))
			l = sizeof(buf) - 1 - n - (i < 2);
		memcpy(buf + n, part[i], l);
		n += l;
		if (i < 2)
			buf[n++] = i == 0 ? '!' : '@';
	}
	buf[n] = '\0';
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
	ev->blen = irc_vformat(ev->body, sizeof(ev->body), fmt, ap);
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
irc_ev_alt(struct irc_ev *ev, uint32_t cap, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ev->alen = irc_vformat(ev->alt, sizeof(ev->alt), fmt, ap);
	va_end(ap);
	ev->altcap = cap;
}

/* The line for recipients whose relevant caps are key, into buf. */
static size_t
ev_format(const struct irc_ev *ev, uint32_t key, char *buf, size_t sz)
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

/* ev_send for the first recipient of a variant: format and keep it. */
static SLOW_PATH void
ev_send_new(struct irc_ev *ev, struct client *to, uint32_t key, unsigned fl)
{
	char buf[IRC_OUT_MAX];
	size_t n;

	if ((n = ev_format(ev, key, buf, sizeof(buf))) == 0)
		return;
	if (ev->nv < IRC_EV_VARIANTS &&
	    (ev->v[ev->nv].line = malloc(n)) != NULL) {
		memcpy(ev->v[ev->nv].line, buf, n);
		ev->v[ev->nv].len = n;
		ev->v[ev->nv++].key = key;
	}
	deliver(to, buf, n, fl | OUT_EVENT);
}

static void
ev_send(struct irc_ev *ev, struct client *to, unsigned fl)
{
	uint32_t key = to->caps & (CAP_TAGGING | ev->altcap);
	unsigned i;

	if ((to->caps & ev->need) != ev->need || to->conn == NULL)
		return;
	for (i = 0; i < ev->nv; i++)
		if (ev->v[i].key == key) {
			deliver(to, ev->v[i].line, ev->v[i].len,
			    fl | OUT_EVENT);
			return;
		}
	ev_send_new(ev, to, key, fl);
}

void
irc_ev_send(struct irc_ev *ev, struct client *to)
{
	ev_send(ev, to, 0);
}

void
irc_ev_chan(struct irc_ev *ev, struct chan *ch, struct client *except)
{
	struct member *m;

	for (m = ch->members; m != NULL; m = m->cnext)
		if (m->c != except)
			ev_send(ev, m->c, 0);
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
			if (m->c->mark != mark_gen) {
				m->c->mark = mark_gen;
				ev_send(ev, m->c, 0);
			}
	irc_monitor_ev(ev, c);	/* extended-monitor */
}

size_t
irc_ev_format(struct irc_ev *ev, const struct client *to, char *buf,
    size_t sz)
{
	return ev_format(ev, to->caps & (CAP_TAGGING | ev->altcap), buf, sz);
}

void
irc_ev_done(struct irc_ev *ev)
{
	while (ev->nv > 0)
		free(ev->v[--ev->nv].line);
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
irc_chan_send_from(struct chan *ch, struct client *from,
    struct client *except, const char *fmt, ...)
{
	struct irc_ev ev;
	va_list ap;

	va_start(ap, fmt);
	ev_vinit(&ev, from, false, fmt, ap);
	va_end(ap);
	irc_ev_chan(&ev, ch, except);
	irc_hist_event(ch, &ev);	/* PART KICK TOPIC MODE */
	irc_ev_done(&ev);
}

void
irc_peers_send(struct client *c, bool self, const char *fmt, ...)
{
	struct irc_ev ev;
	va_list ap;

	va_start(ap, fmt);
	ev_vinit(&ev, c, false, fmt, ap);
	va_end(ap);
	irc_ev_peers(&ev, c, self);
	irc_hist_peers_event(c, &ev);	/* QUIT NICK */
	irc_ev_done(&ev);
}

void
irc_peers_cap_send(struct client *c, bool self, uint32_t cap,
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

void
irc_account_notify(struct client *c)
{
	if (c->flags & CF_REG)
		irc_peers_cap_send(c, true, CAP_ACCOUNT_NOTIFY,
		    ":%s ACCOUNT %s", irc_prefix(c),
		    c->account != NULL ? c->account : "*");
}

/*
 * chghost: peers with the cap see CHGHOST; the others see the user quit
 * and come back (JOIN, and the modes it had), as Ergo does.
 */
void
irc_chghost(struct client *c, const char *user, const char *host)
{
	char old[NICKLEN_MAX + 256], *nu = NULL, *nh = NULL;
	struct member *um, *m;
	struct irc_ev ev;

	if ((user != NULL && (nu = xstrdup(user)) == NULL) ||
	    (host != NULL && (nh = xstrdup(host)) == NULL)) {
		free(nu);
		return;
	}
	snprintf(old, sizeof(old), "%s", irc_prefix(c));
	if (nu != NULL) {
		free(c->user);
		c->user = nu;
	}
	if (nh != NULL) {
		free(c->host);
		c->host = nh;
	}
	if (!(c->flags & CF_REG))
		return;
	irc_ev_init(&ev, c, false, ":%s CHGHOST %s %s", old, c->user, c->host);
	ev.need = CAP_CHGHOST;
	irc_ev_peers(&ev, c, true);
	irc_ev_done(&ev);
	/* the rest: a QUIT, then a JOIN per shared channel */
	irc_ev_init(&ev, c, false, ":%s QUIT :Changing host", old);
	if (++mark_gen == 0)
		mark_gen = 1;
	c->mark = mark_gen;
	for (um = c->chans; um != NULL; um = um->unext)
		for (m = um->ch->members; m != NULL; m = m->cnext)
			if (m->c->mark != mark_gen) {
				m->c->mark = mark_gen;
				if (!(m->c->caps & CAP_CHGHOST))
					ev_send(&ev, m->c, 0);
			}
	irc_ev_done(&ev);
	for (um = c->chans; um != NULL; um = um->unext)
		irc_chan_rejoin(c, um->ch);
}

/* ---- timeout lists ---- */

static struct tlist *
tlist_of(const struct client *c)
{
	if (!(c->flags & CF_REG))
		return &t_unreg;
	return (c->flags & CF_PINGSENT) ? &t_pinged : &t_active;
}

static void
tlist_del(struct tlist *l, struct client *c)
{
	if (c->tprev != NULL)
		c->tprev->tnext = c->tnext;
	else
		l->head = c->tnext;
	if (c->tnext != NULL)
		c->tnext->tprev = c->tprev;
	else
		l->tail = c->tprev;
	c->tnext = c->tprev = NULL;
}

static void
tlist_add(struct tlist *l, struct client *c, uint64_t stamp)
{
	c->tstamp_ms = stamp;
	c->tnext = NULL;
	c->tprev = l->tail;
	if (l->tail != NULL)
		l->tail->tnext = c;
	else
		l->head = c;
	l->tail = c;
}

static void
throttle_del(struct client *c)
{
	if (!(c->flags & CF_THROTTLED))
		return;
	c->flags &= ~CF_THROTTLED;
	if (c->flprev != NULL)
		c->flprev->flnext = c->flnext;
	else
		throttled = c->flnext;
	if (c->flnext != NULL)
		c->flnext->flprev = c->flprev;
	else
		throttled_tail = c->flprev;
	c->flnext = c->flprev = NULL;
}

/*
 * Holds c's input until fl_next_ms. Every wait is at most one fakelag
 * interval from now, so a new entry belongs at or near the tail: the
 * walk back is short, and the timers only ever look at the head.
 */
static void
throttle_add(struct client *c, uint64_t next_ms)
{
	struct client *p;

	throttle_del(c);
	c->fl_next_ms = next_ms;
	for (p = throttled_tail; p != NULL && p->fl_next_ms > next_ms;
	    p = p->flprev)
		;
	c->flprev = p;
	c->flnext = p != NULL ? p->flnext : throttled;
	if (c->flnext != NULL)
		c->flnext->flprev = c;
	else
		throttled_tail = c;
	if (p != NULL)
		p->flnext = c;
	else
		throttled = c;
	c->flags |= CF_THROTTLED;
}

/* ---- clients ---- */

struct client *
irc_client_find(const char *nick)
{
	char key[NICKLEN_MAX + 1];
	struct hent *e;

	irc_fold(key, nick, sizeof(key));
	if ((e = htab_get(&irc.nicks, key)) == NULL)
		return NULL;
	return (struct client *)((char *)e - offsetof(struct client, h));
}

/*
 * connection-limits' throttle: true if conn is one connection too many
 * from its address this window (closed with an ERROR). Said in the log
 * once a window, when the limit is reached, not per refusal.
 */
static bool
conn_throttled(struct conn *conn)
{
	const char *ip = net_conn_ip(conn);
	uint64_t window = (uint64_t)conf->conn_throttle_secs * 1000;
	char key[NET_ADDRKEY_LEN + 3];

	/* the exact address, before grouping: ::1 is exempt, its /64 not */
	if (!conf->conn_throttle || strcmp(ip, "127.0.0.1") == 0 ||
	    strcmp(ip, "::1") == 0)
		return false;
	memcpy(key, "ip:", 3);
	net_ip_key(ip, key + 3, sizeof(key) - 3);
	if (irc_throttle_full(THROTTLE_CONN, key, conf->conn_throttle_max,
	    window)) {
		net_conn_close(conn, "Too many connection attempts from your "
		    "IP; wait a while and try again");
		return true;
	}
	if (irc_throttle_count(THROTTLE_CONN, key, window) >=
	    conf->conn_throttle_max)
		log_warnx("connect", "%s: connections throttled: %u in %us "
		    "from this address", key + 3, conf->conn_throttle_max,
		    conf->conn_throttle_secs);
	return false;
}

void *
irc_conn_open(struct conn *conn)
{
	struct client *c;
	const char *ip = net_conn_ip(conn);
	char host[IRC_HOST_CLOAK];	/* an address fits too (46 + 1) */

	if (irc_bans_conn_refused(conn) ||	/* D-lined: ERROR, closed */
	    conn_throttled(conn))
		return NULL;
	if (irc_cloak_on())
		irc_cloak(ip, host, sizeof(host));
	else if (conf->cloak.enabled)	/* no key (logged): never show ip */
		return NULL;
	else	/* "::1" would read as a trailing parameter in a prefix */
		snprintf(host, sizeof(host), "%s%s", ip[0] == ':' ? "0" : "",
		    ip);
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->host = xstrdup(host)) == NULL) {
		free(c);
		return NULL;
	}
	c->conn = conn;
	c->signon = ergo_now;
	c->last_msg = ergo_now;
	c->capver = 301;
	c->last_recv_ms = ergo_now_ms;
	if (net_conn_tls(conn))
		c->umodes |= UMODE_TLS;
	tlist_add(&t_unreg, c, ergo_now_ms);
	irc.nunknown++;
	return c;
}

static void
nick_unset(struct client *c)
{
	if (c->h.key == NULL)
		return;
	htab_del(&irc.nicks, &c->h);
	free(c->h.key);
	c->h.key = NULL;
}

/* Sets c's nick and its hash entry; 0, or -1 on ENOMEM. */
static int
nick_set(struct client *c, const char *nick)
{
	char key[NICKLEN_MAX + 1], *k;

	irc_fold(key, nick, sizeof(key));
	if ((k = xstrdup(key)) == NULL)
		return -1;
	nick_unset(c);
	c->h.key = k;
	if (htab_put(&irc.nicks, &c->h) == -1) {
		free(k);
		c->h.key = NULL;
		return -1;
	}
	snprintf(c->nick, sizeof(c->nick), "%s", nick);
	return 0;
}

/*
 * Ends a client: QUIT to everyone sharing a channel, a WHOWAS entry,
 * removal from every table. The struct itself is freed at the next tick
 * so handlers still holding the pointer this pass stay safe.
 */
void
irc_client_exit(struct client *c, const char *quitmsg, const char *error)
{
	if (c->flags & CF_CLOSING)
		return;
	if (c->flags & CF_REG) {
		log_info("connect", "%s quit: %s", irc_prefix(c), quitmsg);
		irc_peers_send(c, false, ":%s QUIT :%s", irc_prefix(c),
		    quitmsg);
		irc_whowas_add(c);
		irc_chan_part_all(c);
		irc_monitor_quit(c);
		irc_hist_client_free(c);
		irc.nusers--;
		if (c->umodes & UMODE_INVISIBLE)
			irc.ninvisible--;
		if (c->umodes & UMODE_OPER)
			irc.nopers--;
	} else
		irc.nunknown--;
	c->flags |= CF_CLOSING;
	tlist_del(tlist_of(c), c);
	throttle_del(c);
	nick_unset(c);
	if (c->conn != NULL) {
		char err[IRC_LINE_MAX];

		/* "ERROR :" + error + CRLF in 512 bytes, cut between characters */
		if (error != NULL) {
			snprintf(err, sizeof(err), "%s", error);
			irc_utf8_trunc(err, IRC_LINE_MAX - 9);
		}
		net_conn_close(c->conn, error != NULL ? err : NULL);
		c->conn = NULL;
	}
	c->gnext = graveyard;
	graveyard = c;
}

static void
client_free(struct client *c)
{
	free(c->user);
	free(c->host);
	free(c->realname);
	free(c->away);
	free(c->oper_class);
	irc_ml_free(c);
	irc_account_client_free(c);
	free(c);
}

void
irc_conn_closed(void *arg, const char *reason)
{
	struct client *c = arg;

	c->conn = NULL;		/* net is done with it */
	irc_client_exit(c, reason, NULL);
}

void
irc_conn_toolong(void *arg)
{
	irc_numeric(arg, ERR_INPUTTOOLONG, ":Input line was too long");
}

/* ---- fakelag (Ergo's algorithm) ---- */

/* 0 if the line may run now, else milliseconds to hold it. */
static uint64_t
fakelag_touch(struct client *c)
{
	int64_t elapsed;
	uint64_t interval;

	if (c->fl_granted) {
		c->fl_granted = false;
		return 0;
	}
	elapsed = (int64_t)ergo_now_ms - (int64_t)c->fl_last;
	c->fl_last = ergo_now_ms;
	if (!c->fl_throttled) {
		if (elapsed > (int64_t)conf->fakelag.cooldown_ms)
			c->fl_count = 0;
		if (++c->fl_count <= conf->fakelag.burst_limit)
			return 0;
		c->fl_count = 0;
		c->fl_throttled = true;
	}
	if (elapsed > (int64_t)conf->fakelag.cooldown_ms) {
		c->fl_throttled = false;
		c->fl_count = 1;
		return 0;
	}
	interval = conf->fakelag.messages_per_window ?
	    conf->fakelag.window_ms / conf->fakelag.messages_per_window :
	    conf->fakelag.window_ms;
	if ((int64_t)interval > elapsed) {
		uint64_t wait = interval - (uint64_t)(elapsed > 0 ? elapsed : 0);

		c->fl_last = ergo_now_ms + wait;
		return wait;
	}
	return 0;
}

/* ---- command table: sorted by name, searched with bsearch ---- */

struct cmd {
	const char	*name;
	cmd_fn		*fn;
	int		 min;	/* parameters, else 461 */
	int		 flags;
};

static const struct cmd cmds[] = {
	{ "ADMIN",	h_admin,	0, CMD_REG },
	{ "AUTHENTICATE", h_authenticate, 1, CMD_PREREG },
	{ "AWAY",	h_away,		0, CMD_PREREG },	/* pre-away */
	{ "BATCH",	h_batch,	1, CMD_REG },
	{ "CAP",	h_cap,		1, CMD_PREREG },
	{ "CHANSERV",	h_chanserv,	0, CMD_REG },
	{ "CHATHISTORY", h_chathistory,	0, CMD_REG },
	{ "CHGHOST",	h_chghost,	3, CMD_REG | CMD_OPER },
	{ "CS",		h_chanserv,	0, CMD_REG },
	{ "DIE",	h_die,		0, CMD_REG | CMD_OPER },
	{ "DLINE",	h_dline,	1, CMD_REG | CMD_OPER },
	{ "INFO",	h_info,		0, CMD_REG },
	{ "INVITE",	h_invite,	2, CMD_REG },
	{ "ISON",	h_ison,		1, CMD_REG },
	{ "JOIN",	h_join,		1, CMD_REG },
	{ "KICK",	h_kick,		2, CMD_REG },
	{ "KILL",	h_kill,		2, CMD_REG | CMD_OPER },
	{ "KLINE",	h_kline,	1, CMD_REG | CMD_OPER },
	{ "LIST",	h_list,		0, CMD_REG },
	{ "LUSERS",	h_lusers,	0, CMD_REG },
	{ "MARKREAD",	h_markread,	0, CMD_REG },
	{ "MODE",	h_mode,		1, CMD_REG },
	{ "MONITOR",	h_monitor,	1, CMD_REG },
	{ "MOTD",	h_motd,		0, CMD_REG },
	{ "NAMES",	h_names,	0, CMD_REG },
	{ "NICK",	h_nick,		0, CMD_PREREG },
	{ "NICKSERV",	h_nickserv,	0, CMD_REG },
	{ "NOTICE",	h_notice,	0, CMD_REG },
	{ "NS",		h_nickserv,	0, CMD_REG },
	{ "OPER",	h_oper,		1, CMD_REG },
	{ "PART",	h_part,		1, CMD_REG },
	{ "PASS",	h_pass,		1, CMD_PREREG },
	{ "PING",	h_ping,		0, CMD_PREREG | CMD_NOIDLE },
	{ "PONG",	h_pong,		0, CMD_PREREG | CMD_NOIDLE },
	{ "PRIVMSG",	h_privmsg,	0, CMD_REG },
	{ "QUIT",	h_quit,		0, CMD_PREREG },
	{ "REDACT",	h_redact,	2, CMD_REG },
	{ "REGISTER",	h_register,	3, CMD_PREREG },
	{ "REHASH",	h_rehash,	0, CMD_REG | CMD_OPER },
	{ "SETNAME",	h_setname,	1, CMD_REG },
	{ "STATS",	h_stats,	1, CMD_REG },
	{ "TAGMSG",	h_tagmsg,	0, CMD_REG },
	{ "TIME",	h_time,		0, CMD_REG },
	{ "TOPIC",	h_topic,	1, CMD_REG },
	{ "UNDLINE",	h_undline,	1, CMD_REG | CMD_OPER },
	{ "UNKLINE",	h_unkline,	1, CMD_REG | CMD_OPER },
	{ "USER",	h_user,		4, CMD_PREREG },
	{ "USERHOST",	h_userhost,	1, CMD_REG },
	{ "VERIFY",	h_verify,	2, CMD_PREREG },
	{ "VERSION",	h_version,	0, CMD_REG },
	{ "WALLOPS",	h_wallops,	1, CMD_REG | CMD_OPER },
	{ "WHO",	h_who,		0, CMD_REG },
	{ "WHOIS",	h_whois,	1, CMD_REG },
	{ "WHOWAS",	h_whowas,	1, CMD_REG },
};

static int
cmd_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct cmd *)elem)->name);
}

static void
dispatch(struct client *c, struct msg *m)
{
	const struct cmd *cmd;

	cmd = bsearch(m->cmd, cmds, sizeof(cmds) / sizeof(cmds[0]),
	    sizeof(cmds[0]), cmd_cmp);
	if (cmd == NULL) {
		if (m->cmd[0] >= '0' && m->cmd[0] <= '9')
			return;		/* numerics from clients: ignore */
		if (c->flags & CF_REG)
			irc_numeric(c, ERR_UNKNOWNCOMMAND,
			    "%s :Unknown command", m->cmd);
		else
			irc_numeric(c, ERR_NOTREGISTERED,
			    ":You have not registered");
		return;
	}
	if ((cmd->flags & CMD_REG) && !(c->flags & CF_REG)) {
		irc_numeric(c, ERR_NOTREGISTERED, ":You have not registered");
		return;
	}
	if (m->nparam < cmd->min) {
		irc_numeric(c, ERR_NEEDMOREPARAMS, "%s :Not enough parameters",
		    cmd->name);
		return;
	}
	if ((cmd->flags & CMD_OPER) && !(c->umodes & UMODE_OPER)) {
		irc_numeric(c, ERR_NOPRIVILEGES,
		    ":Permission Denied- You're not an IRC operator");
		return;
	}
	cmd->fn(c, m);
}

/* Bytes of client-only (+) tag data in the tag section [p, end). */
static size_t
client_tags_len(const char *p, const char *end)
{
	size_t n = 0, l;

	while (p < end) {
		const char *e = memchr(p, ';', (size_t)(end - p));

		l = (size_t)((e != NULL ? e : end) - p);
		if (l > 0 && *p == '+')
			n += l + (n > 0);
		p = e != NULL ? e + 1 : end;
	}
	return n;
}

int
irc_conn_line(void *arg, char *line, size_t len)
{
	struct client *c = arg;
	struct tlist *l;
	struct msg m;
	char *rest;
	uint64_t wait;
	bool utf8;

	if (c->flags & CF_CLOSING)
		return IRC_STOP;
	if ((c->flags & CF_REG) && conf->fakelag.enabled &&
	    !(c->flags & CF_FLOODOK) && !irc_ml_fakelag_exempt(c, line) &&
	    (wait = fakelag_touch(c)) > 0) {
		throttle_add(c, ergo_now_ms + wait);
		return IRC_DEFER;
	}
	/* Any line proves the client is alive. */
	c->last_recv_ms = ergo_now_ms;
	/* Opt-in, debug only; passwords and SASL payloads hidden. */
	if (log_wants(LL_DEBUG, "userinput")) {
		char red[RECVQ_MAX + 1];

		log_debug("userinput", "%s %s <- %s", net_conn_ip(c->conn),
		    c->nick[0] ? c->nick : "*",
		    irc_userinput_mask(line, red, sizeof(red)));
	}
	if (c->flags & CF_REG) {
		l = tlist_of(c);
		tlist_del(l, c);
		c->flags &= ~CF_PINGSENT;
		tlist_add(&t_active, c, ergo_now_ms);
	}
	if (strlen(line) != len) {
		/* NUL bytes never pass through to anyone */
		irc_send(c, ":%s FAIL * INVALID_LINE :Line contains a NUL "
		    "byte", conf->server_name);
		return IRC_MORE;
	}
	rest = line;
	if (*line == '@') {
		char *sp = strchr(line, ' ');

		if (sp == NULL)
			return IRC_MORE;	/* tags, no command: ignore */
		if ((size_t)(sp - line) + 1 > IRC_TAGS_MAX ||
		    client_tags_len(line + 1, sp) > IRC_CLIENT_TAGS_MAX) {
			irc_conn_toolong(c);
			return IRC_MORE;
		}
		rest = sp + 1;
	}
	if (strlen(rest) > IRC_LINE_MAX - 2) {
		irc_conn_toolong(c);
		return IRC_MORE;
	}
	utf8 = irc_utf8_valid(rest, strlen(rest));
	if (irc_parse(line, &m) == -1)
		return IRC_MORE;	/* empty or source-only: ignore */
	label_begin(c, m.tags);
	/* UTF8ONLY: refused, never relayed or repaired (as Ergo does).
	 * A NOTICE too: this is a malformed command, like 412, not an
	 * automatic reply to its text. */
	if (!utf8) {
		irc_fail(c, "FAIL", irc_utf8_valid(m.cmd, strlen(m.cmd)) ?
		    m.cmd : "*", "INVALID_UTF8", ":Message rejected, your "
		    "IRC software MUST use UTF-8 encoding on this network");
		irc_ml_reject(c, &m);	/* a batch without it: none */
	} else if (!irc_ml_line(c, &m))
		dispatch(c, &m);
	label_end();
	return (c->flags & CF_CLOSING) ? IRC_STOP : IRC_MORE;
}

/* ---- registration ---- */

static void
try_register(struct client *c)
{
	if ((c->flags & CF_REG) || !(c->flags & CF_NICK) ||
	    !(c->flags & CF_USER) || (c->flags & CF_CAPNEG) ||
	    c->sasl != NULL)	/* AUTHENTICATE in progress */
		return;
	if (conf->password != NULL && !(c->flags & CF_PASS)) {
		irc_numeric(c, ERR_PASSWDMISMATCH, ":Password incorrect");
		irc_client_exit(c, "Bad password", "Bad password");
		return;
	}
	if (irc_bans_check(c))	/* K-lined or D-lined: 465, gone */
		return;
	tlist_del(&t_unreg, c);
	c->flags |= CF_REG;
	tlist_add(&t_active, c, ergo_now_ms);
	irc.nunknown--;
	irc.nusers++;
	if (irc.nusers > irc.max_users)
		irc.max_users = irc.nusers;
	log_info("connect", "registered %s", irc_prefix(c));
	irc_serv_nick_check(c);		/* a reserved nick? */
	irc_send_welcome(c);
	irc_monitor_online(c);
}

void
irc_register_retry(struct client *c)
{
	try_register(c);
}

void
h_pass(struct client *c, struct msg *m)
{
	if (c->flags & CF_REG) {
		irc_numeric(c, ERR_ALREADYREGISTERED,
		    ":You may not reregister");
		return;
	}
	if (conf->password == NULL)
		return;
	if (conf_passwd_verify(conf->password, m->param[0]))
		c->flags |= CF_PASS;
	else {
		irc_numeric(c, ERR_PASSWDMISMATCH, ":Password incorrect");
		irc_client_exit(c, "Bad password", "Bad password");
	}
}

void
h_nick(struct client *c, struct msg *m)
{
	struct client *o;
	const char *nick;
	char oldprefix[NICKLEN_MAX + 256];

	if (m->nparam < 1 || m->param[0][0] == '\0') {
		irc_numeric(c, ERR_NONICKNAMEGIVEN, ":No nickname given");
		return;
	}
	nick = m->param[0];
	if (!irc_nick_valid(nick) || irc_nick_reserved(nick)) {
		irc_numeric(c, ERR_ERRONEUSNICKNAME, "%s :Erroneous nickname",
		    nick);
		return;
	}
	if (strcmp(nick, c->nick) == 0)
		return;
	if ((o = irc_client_find(nick)) != NULL && o != c) {
		irc_numeric(c, ERR_NICKNAMEINUSE,
		    "%s :Nickname is already in use", nick);
		return;
	}
	if (!(c->flags & CF_REG)) {
		if (nick_set(c, nick) == -1)
			irc_client_exit(c, "Out of memory", "Out of memory");
		else {
			c->flags |= CF_NICK;
			try_register(c);
		}
		return;
	}
	snprintf(oldprefix, sizeof(oldprefix), "%s", irc_prefix(c));
	irc_whowas_add(c);
	{
		char oldkey[NICKLEN_MAX + 1];

		irc_fold(oldkey, c->nick, sizeof(oldkey));
		if (nick_set(c, nick) == -1) {
			irc_client_exit(c, "Out of memory", "Out of memory");
			return;
		}
		irc_chan_nick_changed(c, oldkey);
		irc_serv_nick_check(c);	/* renames come from irc_tick */
	}
	log_info("connect", "%s is now known as %s", oldprefix, nick);
	irc_peers_send(c, true, ":%s NICK :%s", oldprefix, nick);
	irc_monitor_nick(c, oldprefix);
}

/* Keeps the characters a user@host part may hold. */
static char *
user_clean(const char *in)
{
	char buf[64];
	size_t i, n = 0, max = conf->limits.identlen;

	if (max > sizeof(buf) - 2)
		max = sizeof(buf) - 2;
	buf[n++] = '~';
	for (i = 0; in[i] != '\0' && n < max + 1; i++) {
		char ch = in[i];
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._[]{}\\`^|", ch))
			buf[n++] = ch;
	}
	if (n == 1)
		buf[n++] = 'u';
	buf[n] = '\0';
	return xstrdup(buf);
}

void
h_user(struct client *c, struct msg *m)
{
	if (c->flags & (CF_REG | CF_USER)) {
		irc_numeric(c, ERR_ALREADYREGISTERED,
		    ":You may not reregister");
		return;
	}
	irc_utf8_trunc(m->param[3], conf->limits.realnamelen);
	if ((c->user = user_clean(m->param[0])) == NULL ||
	    (c->realname = xstrdup(m->param[3])) == NULL) {
		irc_client_exit(c, "Out of memory", "Out of memory");
		return;
	}
	c->flags |= CF_USER;
	try_register(c);
}

/* ---- CAP (IRCv3 capability negotiation) ---- */

static const struct {
	const char	*name;
	uint32_t	 bit;
	const char	*value;		/* CAP LS 302 shows name=value */
} caps[] = {
	{ "account-notify",	CAP_ACCOUNT_NOTIFY,	NULL },
	{ "account-tag",	CAP_ACCOUNT_TAG,	NULL },
	{ "away-notify",	CAP_AWAY_NOTIFY,	NULL },
	{ "batch",		CAP_BATCH,		NULL },
	{ "cap-notify",		CAP_CAP_NOTIFY,		NULL },
	{ "chghost",		CAP_CHGHOST,		NULL },
	{ "draft/account-registration", CAP_ACCOUNT_REGISTRATION, NULL },
	{ "draft/chathistory",	CAP_CHATHISTORY,	NULL },
	{ "draft/event-playback", CAP_EVENT_PLAYBACK,	NULL },
	{ "draft/read-marker",	CAP_READ_MARKER,	NULL },
	{ "draft/message-redaction", CAP_REDACTION,	NULL },
	{ "draft/multiline",	CAP_MULTILINE,		NULL },	/* limits */
	{ "draft/pre-away",	CAP_PRE_AWAY,		NULL },
	{ "echo-message",	CAP_ECHO_MESSAGE,	NULL },
	{ "extended-join",	CAP_EXTENDED_JOIN,	NULL },
	{ "extended-monitor",	CAP_EXTENDED_MONITOR,	NULL },
	{ "invite-notify",	CAP_INVITE_NOTIFY,	NULL },
	{ "labeled-response",	CAP_LABELED,		NULL },
	{ "message-tags",	CAP_MESSAGE_TAGS,	NULL },
	{ "multi-prefix",	CAP_MULTI_PREFIX,	NULL },
	{ "no-implicit-names",	CAP_NO_IMPLICIT_NAMES,	NULL },
	{ "sasl",		CAP_SASL,		SASL_MECHS },
	{ "server-time",	CAP_SERVER_TIME,	NULL },
	{ "setname",		CAP_SETNAME,		NULL },
	{ "standard-replies",	CAP_STANDARD_REPLIES,	NULL },
	{ "userhost-in-names",	CAP_USERHOST_NAMES,	NULL },
};
#define NCAPS	(sizeof(caps) / sizeof(caps[0]))

/*
 * Bytes of cap list per CAP LS/LIST line before a 302 continuation:
 * well inside 512, and short enough that today's list (about 310 bytes
 * with values) already takes two lines, so the path is exercised.
 */
#define CAP_LINE_ROOM	256

/*
 * IRCv3 STS: the policy is a cap value, so 302 clients only; it is
 * advertised, never requested. False when k offers none.
 */
static bool
sts_value(const struct conf *k, bool tls, char *buf, size_t sz)
{
	if (!k->sts.enabled)
		return false;
	if (tls)
		snprintf(buf, sz, "duration=%u%s", k->sts.duration,
		    k->sts.preload ? ",preload" : "");
	else
		snprintf(buf, sz, "port=%u%s", k->sts.port,
		    k->sts.preload ? ",preload" : "");
	return true;
}

/*
 * Whether k offers caps[i] (sasl only while authentication is enabled,
 * draft/chathistory and draft/event-playback only while history is, as
 * Ergo does: a client that sees the cap will send CHATHISTORY), and its
 * value (*v, NULL if none; buf holds one made from k). A rehash may
 * start, stop or change an offer: cap_notify_rehash says so.
 */
static bool
cap_offer(const struct conf *k, size_t i, const char **v, char *buf,
    size_t sz)
{
	*v = caps[i].value;
	switch (caps[i].bit) {
	case CAP_SASL:
		return k->accounts.auth_enabled;
	case CAP_CHATHISTORY:
	case CAP_EVENT_PLAYBACK:
		return k->history.enabled;
	case CAP_ACCOUNT_REGISTRATION:
		return irc_register_cap(k, buf, sz, v);
	case CAP_MULTILINE: {
		unsigned mb, ml;

		irc_ml_limits(k, &mb, &ml);
		snprintf(buf, sz, "max-bytes=%u,max-lines=%u", mb, ml);
		*v = buf;
		return true;
	}
	}
	return true;
}

/* Appends one "name[=value]" to a CAP reply, flushing full lines. */
static void
cap_add(struct client *c, const char *sub, char *buf, size_t *n,
    const char *name, const char *v)
{
	size_t l = strlen(name) + (v != NULL ? strlen(v) + 1 : 0);

	if (*n > 0 && *n + l + 1 > CAP_LINE_ROOM && c->capver >= 302) {
		irc_send(c, ":%s CAP %s %s * :%s", conf->server_name,
		    c->nick[0] ? c->nick : "*", sub, buf);
		*n = 0;
	}
	if (*n + l + 2 > IRC_LINE_MAX)
		return;		/* a 301 client's single line is full */
	*n += (size_t)snprintf(buf + *n, IRC_LINE_MAX - *n, "%s%s%s%s",
	    *n ? " " : "", name, v ? "=" : "", v ? v : "");
}

static void
cap_ls(struct client *c, bool enabled_only, const char *sub)
{
	char buf[IRC_LINE_MAX], sts[96], vb[96];
	const char *v;
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < NCAPS; i++) {
		if (enabled_only ? !(c->caps & caps[i].bit) :
		    !cap_offer(conf, i, &v, vb, sizeof(vb)))
			continue;
		cap_add(c, sub, buf, &n, caps[i].name, c->capver >= 302 &&
		    !enabled_only ? v : NULL);
	}
	if (c->capver >= 302 && !enabled_only && sts_value(conf,
	    c->conn != NULL && net_conn_tls(c->conn), sts, sizeof(sts)))
		cap_add(c, sub, buf, &n, "sts", sts);
	irc_send(c, ":%s CAP %s %s :%s", conf->server_name,
	    c->nick[0] ? c->nick : "*", sub, buf);
}

static void
cap_req(struct client *c, char *list)
{
	char copy[IRC_LINE_MAX], *tok, *save = NULL, vb[96];
	uint32_t add = 0, del = 0;
	const char *v;
	size_t i;

	snprintf(copy, sizeof(copy), "%s", list);
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		bool neg = *tok == '-';

		if (neg)
			tok++;
		for (i = 0; i < NCAPS; i++)
			if (strcmp(tok, caps[i].name) == 0)
				break;
		/* One unknown cap NAKs the whole request (IRCv3). */
		if (i == NCAPS || (neg && caps[i].bit == CAP_CAP_NOTIFY &&
		    c->capver >= 302) ||
		    (!neg && !cap_offer(conf, i, &v, vb, sizeof(vb)))) {
			irc_send(c, ":%s CAP %s NAK :%s", conf->server_name,
			    c->nick[0] ? c->nick : "*", list);
			return;
		}
		if (neg)
			del |= caps[i].bit;
		else
			add |= caps[i].bit;
	}
	c->caps = (c->caps | add) & ~del;
	irc_send(c, ":%s CAP %s ACK :%s", conf->server_name,
	    c->nick[0] ? c->nick : "*", list);
}

/* Appends " word" (or "word") to a CAP NEW/DEL list, if it fits. */
static void
cap_list_add(char *buf, size_t sz, size_t *n, const char *name,
    const char *v)
{
	int w = snprintf(buf + *n, sz - *n, "%s%s%s%s", *n ? " " : "", name,
	    v != NULL ? "=" : "", v != NULL ? v : "");

	if (w > 0 && (size_t)w < sz - *n)
		*n += (size_t)w;
	else
		buf[*n] = '\0';
}

/*
 * cap-notify: a rehash that starts, stops or changes what is offered
 * (sasl with authentication-enabled, draft/chathistory and
 * draft/event-playback with history.enabled, draft/multiline's limits,
 * an STS policy) says CAP NEW (with values for 302 clients) or CAP DEL to every
 * client that asked to be told; 302 clients have cap-notify implied,
 * and only they see sts at all. A deleted cap is disabled for the
 * client (IRCv3 cap-notify).
 */
static void
cap_notify_rehash(const struct conf *old)
{
	char ov[96], nv[96], nb[IRC_LINE_MAX], db[IRC_LINE_MAX];
	const char *o, *v;
	struct hent *e;
	size_t i, j, nn, dn;

	for (i = 0; i < irc.nicks.nb; i++)
		for (e = irc.nicks.b[i]; e != NULL; e = e->next) {
			struct client *c = (struct client *)(void *)
			    ((char *)e - offsetof(struct client, h));
			bool tls = c->conn != NULL && net_conn_tls(c->conn);
			bool v302 = c->capver >= 302, had, has;

			if (!(c->caps & CAP_CAP_NOTIFY) ||
			    (c->flags & CF_CLOSING))
				continue;
			nn = dn = 0;
			nb[0] = db[0] = '\0';
			for (j = 0; j < NCAPS; j++) {
				had = cap_offer(old, j, &o, ov, sizeof(ov));
				has = cap_offer(conf, j, &v, nv, sizeof(nv));
				if (has && (!had || (v302 && v != NULL &&
				    (o == NULL || strcmp(o, v) != 0))))
					cap_list_add(nb, sizeof(nb), &nn,
					    caps[j].name, v302 ? v : NULL);
				else if (had && !has) {
					cap_list_add(db, sizeof(db), &dn,
					    caps[j].name, NULL);
					c->caps &= ~caps[j].bit;
				}
			}
			had = sts_value(old, tls, ov, sizeof(ov));
			has = sts_value(conf, tls, nv, sizeof(nv));
			if (v302 && has && (!had || strcmp(ov, nv) != 0))
				cap_list_add(nb, sizeof(nb), &nn, "sts", nv);
			else if (v302 && had && !has)
				cap_list_add(db, sizeof(db), &dn, "sts", NULL);
			if (dn > 0)
				irc_send(c, ":%s CAP %s DEL :%s",
				    conf->server_name, c->nick, db);
			if (nn > 0)
				irc_send(c, ":%s CAP %s NEW :%s",
				    conf->server_name, c->nick, nb);
		}
}

void
h_cap(struct client *c, struct msg *m)
{
	const char *sub = m->param[0];

	if (strcasecmp(sub, "LS") == 0) {
		if (!(c->flags & CF_REG))
			c->flags |= CF_CAPNEG;
		if (m->nparam > 1 && atoi(m->param[1]) >= 302) {
			c->capver = 302;
			c->caps |= CAP_CAP_NOTIFY;	/* implied by 302 */
		}
		cap_ls(c, false, "LS");
	} else if (strcasecmp(sub, "LIST") == 0)
		cap_ls(c, true, "LIST");
	else if (strcasecmp(sub, "REQ") == 0) {
		if (!(c->flags & CF_REG))
			c->flags |= CF_CAPNEG;
		cap_req(c, m->nparam > 1 ? m->param[1] : "");
	} else if (strcasecmp(sub, "END") == 0) {
		if (!(c->flags & CF_REG)) {
			c->flags &= ~CF_CAPNEG;
			try_register(c);
		}
	} else
		irc_numeric(c, ERR_INVALIDCAPCMD, "%s :Invalid CAP command",
		    sub);
}

/* ---- welcome ---- */

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
	TOK("AWAYLEN=%u", k->limits.awaylen);
	TOK("BOT=B");
	TOK("CASEMAPPING=%s", k->casemapping == CASEMAP_RFC1459 ? "rfc1459" :
	    "ascii");
	TOK("CHANLIMIT=#&:%u", k->chan_max_per_user);
	TOK("CHANMODES=beI,k,l,imnpst");
	TOK("CHANNELLEN=%u", k->limits.channellen);
	TOK("CHANTYPES=#&");
	if (k->history.enabled)
		TOK("CHATHISTORY=%u", k->history.maxmessages);
	TOK("CLIENTTAGDENY=%s", IRC_CLIENTTAGDENY);
	TOK("ELIST=MNU");
	TOK("EXCEPTS=e");
	TOK("INVEX=I");
	TOK("KICKLEN=%u", k->limits.kicklen);
	TOK("MAXLIST=beI:%u", k->chan_max_list);
	TOK("MODES=6");
	TOK("MONITOR=%u", k->limits.monitor);
	if (k->history.enabled)
		TOK("MSGREFTYPES=msgid,timestamp");
	TOK("NETWORK=%s", k->network_name);
	TOK("NICKLEN=%u", k->limits.nicklen);
	TOK("PREFIX=(ov)@+");
	TOK("STATUSMSG=@+");
	TOK("TARGMAX=JOIN:,KICK:%u,NAMES:1,NOTICE:%u,PART:,PRIVMSG:%u,"
	    "WHOIS:%u", k->limits.targmax, k->limits.targmax,
	    k->limits.targmax, k->limits.targmax);
	TOK("TOPICLEN=%u", k->limits.topiclen);
	TOK("USERLEN=%u", k->limits.identlen + 1);
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
irc_send_welcome(struct client *c)
{
	irc_numeric(c, RPL_WELCOME, ":Welcome to the %s IRC Network %s",
	    conf->network_name, irc_prefix(c));
	irc_numeric(c, RPL_YOURHOST, ":Your host is %s, running version %s",
	    conf->server_name, ERGO_VERSION);
	irc_numeric(c, RPL_CREATED, ":This server was created %s", created);
	irc_numeric(c, RPL_MYINFO, "%s %s BiorwZ beIiklmnopstv beIklov",
	    conf->server_name, ERGO_VERSION);
	irc_send_isupport(c);
	irc_send_lusers(c);
	irc_send_motd(c);
	if (c->umodes)
		irc_send(c, ":%s MODE %s :+%s%s%s", c->nick, c->nick,
		    (c->umodes & UMODE_INVISIBLE) ? "i" : "",
		    (c->umodes & UMODE_REGISTERED) ? "r" : "",
		    (c->umodes & UMODE_TLS) ? "Z" : "");
}

/* ---- PING PONG QUIT ---- */

void
h_ping(struct client *c, struct msg *m)
{
	if (m->nparam < 1 || m->param[0][0] == '\0') {
		irc_numeric(c, ERR_NOORIGIN, ":No origin specified");
		return;
	}
	irc_send(c, ":%s PONG %s :%s", conf->server_name, conf->server_name,
	    m->param[0]);
}

void
h_pong(struct client *c, struct msg *m)
{
	(void)c;
	(void)m;	/* irc_conn_line already counted it as activity */
}

void
h_quit(struct client *c, struct msg *m)
{
	char reason[IRC_LINE_MAX];

	snprintf(reason, sizeof(reason), "Quit: %s",
	    m->nparam > 0 ? m->param[0] : "");
	irc_utf8_trunc(reason, 6 + conf->limits.kicklen);
	irc_client_exit(c, reason, "Closing link (Quit)");
}

/* ---- PRIVMSG / NOTICE / TAGMSG ---- */

enum { MSG_PRIVMSG, MSG_NOTICE, MSG_TAGMSG };

/*
 * A NOTICE never draws an automatic reply (RFC 2812 3.3.2), so its
 * per-target errors (401 403 404) and RPL_AWAY are not sent; malformed
 * commands (411 412 407) still are. Each target's line is one event:
 * formatted once, tagged once per capability variant among its
 * recipients (msgid, time, account, bot, the sender's client-only tags);
 * a sender with echo-message gets it back, labeled if it asked.
 */
static void
message(struct client *c, struct msg *m, const char *cmd, int kind)
{
	char *targets, *t, *save = NULL;
	char ctags[IRC_TAGS_MAX + 1];
	const char *text = "";
	bool notice = kind == MSG_NOTICE;
	unsigned n = 1;

	if (m->nparam < 1 || m->param[0][0] == '\0') {
		irc_numeric(c, ERR_NORECIPIENT, ":No recipient given (%s)",
		    cmd);
		return;
	}
	if (kind != MSG_TAGMSG && (m->nparam < 2 || m->param[1][0] == '\0')) {
		irc_numeric(c, ERR_NOTEXTTOSEND, ":No text to send");
		return;
	}
	targets = m->param[0];
	if (kind != MSG_TAGMSG)
		text = m->param[1];
	for (t = targets; *t != '\0'; t++)
		if (*t == ',')
			n++;
	if (n > conf->limits.targmax) {
		irc_numeric(c, ERR_TOOMANYTARGETS, "%s :Too many targets. "
		    "The maximum is %u", targets, conf->limits.targmax);
		return;
	}
	/* client-only tags are taken from clients that speak message-tags */
	ctags[0] = '\0';
	if (m->tags != NULL && (c->caps & CAP_MESSAGE_TAGS))
		irc_tags_client(m->tags, ctags, sizeof(ctags));
	if (kind != MSG_TAGMSG)
		c->last_msg = ergo_now;
	for (t = strtok_r(targets, ",", &save); t != NULL;
	    t = strtok_r(NULL, ",", &save)) {
		unsigned char need = 0;
		const char *name = t;
		struct irc_ev ev;
		struct chan *ch;
		struct client *to;
		int num;

		/* STATUSMSG: @#chan reaches ops, +#chan voices and ops */
		if (*name == '@' || *name == '+') {
			need = *name == '@' ? MEMB_OP : MEMB_OP | MEMB_VOICE;
			name++;
		}
		if (*name == '#' || *name == '&') {
			struct member *mb;

			if ((ch = irc_chan_find(name)) == NULL) {
				if (!notice)
					irc_numeric(c, ERR_NOSUCHCHANNEL,
					    "%s :No such channel", name);
				continue;
			}
			if (!irc_chan_can_send(ch, c, &num)) {
				if (!notice)
					irc_numeric(c, num,
					    "%s :Cannot send to channel",
					    ch->name);
				continue;
			}
			if (kind == MSG_TAGMSG)
				irc_ev_init(&ev, c, true, ":%s TAGMSG %s",
				    irc_prefix(c), t);
			else
				irc_ev_init(&ev, c, true, ":%s %s %s :%s",
				    irc_prefix(c), cmd, t, text);
			ev.ctags = ctags;
			if (kind == MSG_TAGMSG)
				ev.need = CAP_MESSAGE_TAGS;
			for (mb = ch->members; mb != NULL; mb = mb->cnext)
				if (mb->c != c && (!need || (mb->modes & need)))
					irc_ev_send(&ev, mb->c);
			if (c->caps & CAP_ECHO_MESSAGE)
				irc_ev_send(&ev, c);
			if (need == 0)
				irc_hist_add(c, ch, NULL, cmd, text, &ev);
			irc_ev_done(&ev);
			continue;
		}
		if (need == 0 && kind != MSG_TAGMSG &&
		    irc_serv_message(c, name, text, notice))
			continue;	/* NickServ */
		if (need != 0 || (to = irc_client_find(name)) == NULL ||
		    !(to->flags & CF_REG)) {
			if (!notice)
				irc_numeric(c, ERR_NOSUCHNICK,
				    "%s :No such nick/channel", name);
			continue;
		}
		if (kind == MSG_TAGMSG)
			irc_ev_init(&ev, c, true, ":%s TAGMSG %s",
			    irc_prefix(c), to->nick);
		else
			irc_ev_init(&ev, c, true, ":%s %s %s :%s",
			    irc_prefix(c), cmd, to->nick, text);
		ev.ctags = ctags;
		if (kind == MSG_TAGMSG)
			ev.need = CAP_MESSAGE_TAGS;
		/* to oneself: the delivered copy is no reply, the echo is */
		ev_send(&ev, to, to == c ? OUT_NOLABEL : 0);
		if (c->caps & CAP_ECHO_MESSAGE)
			irc_ev_send(&ev, c);
		irc_hist_add(c, NULL, to, cmd, text, &ev);
		irc_ev_done(&ev);
		if (kind == MSG_PRIVMSG && to->away != NULL)
			irc_numeric(c, RPL_AWAY, "%s :%s", to->nick, to->away);
	}
}

void
h_privmsg(struct client *c, struct msg *m)
{
	message(c, m, "PRIVMSG", MSG_PRIVMSG);
}

void
h_notice(struct client *c, struct msg *m)
{
	message(c, m, "NOTICE", MSG_NOTICE);
}

void
h_tagmsg(struct client *c, struct msg *m)
{
	message(c, m, "TAGMSG", MSG_TAGMSG);
}

/* SETNAME :realname (IRCv3 setname) */
void
h_setname(struct client *c, struct msg *m)
{
	const char *text = m->param[0];
	char *p;

	if (text[0] == '\0' || strlen(text) > conf->limits.realnamelen) {
		irc_fail(c, "FAIL", "SETNAME", "INVALID_REALNAME",
		    ":Realname is not valid");
		return;
	}
	if ((p = xstrdup(text)) == NULL) {
		irc_fail(c, "FAIL", "SETNAME", "CANNOT_CHANGE_REALNAME",
		    ":Out of memory");
		return;
	}
	free(c->realname);
	c->realname = p;
	irc_peers_cap_send(c, true, CAP_SETNAME, ":%s SETNAME :%s",
	    irc_prefix(c), c->realname);
}

/* ---- timers ---- */

void
irc_tick(void)
{
	struct client *c;
	uint64_t now = ergo_now_ms;
	char reason[64];

	irc_serv_tick();	/* reserved nicks; before the graveyard goes */
	irc_hist_tick();	/* persistent history: batched writes */
	while ((c = graveyard) != NULL) {
		graveyard = c->gnext;
		client_free(c);
	}
	while ((c = throttled) != NULL && c->fl_next_ms <= now) {
		throttle_del(c);
		c->fl_granted = true;
		if (c->conn != NULL)
			net_conn_resume(c->conn);
	}
	while ((c = t_unreg.head) != NULL &&
	    c->tstamp_ms + conf->reg_timeout * 1000ULL <= now)
		irc_client_exit(c, "Registration timed out",
		    "Registration timed out");
	while ((c = t_active.head) != NULL &&
	    c->tstamp_ms + conf->idle_timeout * 1000ULL <= now) {
		tlist_del(&t_active, c);
		c->flags |= CF_PINGSENT;
		tlist_add(&t_pinged, c, now);
		irc_send(c, "PING :%s", conf->server_name);
	}
	while ((c = t_pinged.head) != NULL &&
	    c->tstamp_ms + conf->ping_timeout * 1000ULL <= now) {
		snprintf(reason, sizeof(reason), "Ping timeout: %u seconds",
		    conf->idle_timeout + conf->ping_timeout);
		irc_client_exit(c, reason, reason);
	}
}

int
irc_next_timer_ms(void)
{
	uint64_t best;
	int h = irc_hist_next_ms(), t;

	if (graveyard != NULL)
		return 0;
	if (throttled == NULL)
		return h;
	best = throttled->fl_next_ms;
	t = best <= ergo_now_ms ? 0 : (int)(best - ergo_now_ms);
	return h >= 0 && h < t ? h : t;
}

void
irc_init(void)
{
	struct tm tm;
	uint32_t rnd;

	htab_init(&irc.nicks);
	htab_init(&irc.chans);
	/* msgids: 8 random hex digits per run, then a counter; not the
	 * start time: two starts in one second would reuse msgids that
	 * persistent history still holds */
	if (ergo_random(&rnd, sizeof(rnd)) == -1)
		rnd = (uint32_t)ergo_now;
	snprintf(msgid_base, sizeof(msgid_base), "%08lx",
	    (unsigned long)rnd & 0xffffffffUL);
	irc.started = ergo_now;
	log_output = log_wants(LL_DEBUG, "useroutput");
	(void)irc_cloak_init();	/* logged; never off while enabled */
	gmtime_r(&ergo_now, &tm);
	strftime(created, sizeof(created), "%a %b %d %Y at %H:%M:%S UTC", &tm);
	irc_motd_load();
	irc_hist_load();	/* history.persistent */
}

void
irc_rehashed(const struct conf *old)
{
	log_output = log_wants(LL_DEBUG, "useroutput");
	(void)irc_cloak_init();	/* new clients only: nobody's host changes */
	nisupport = 0;		/* limits, network name, ... may have changed */
	irc_motd_load();
	irc_hist_flush();	/* before persistent may have been turned off */
	if (old != NULL)
		cap_notify_rehash(old);
}

void
irc_shutdown(void)
{
	irc_tick();	/* free the graveyard */
	irc_hist_flush();
	irc_whowas_free();
}
