/*
 * irc_multiline.c: draft/multiline (ircv3.net/specs/extensions/multiline):
 * a client's BATCH +ref draft/multiline <target>, its PRIVMSG or NOTICE
 * lines, and at BATCH -ref the delivery: a batch to recipients with the
 * cap, the lines one by one (no blank ones) to the others, each line in
 * history (the message hook). Replies go through irc_out.c: no sockets,
 * no SQL.
 *
 * The fallback keeps the sender's line composition, as the spec asks
 * ("SHOULD maintain the line composition"): a draft/multiline-concat
 * line stays a line of its own, since the client split it to fit 512.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc_multiline.h"
#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_user.h"
#include "irc_cloak.h"
#include "irc_num.h"

struct ml_line {
	size_t	 off, len;	/* in text */
	bool	 concat;	/* draft/multiline-concat */
};

struct ml {
	char		 ref[IRC_ML_REF_MAX + 1];
	char		 target[CHANLEN_MAX + NICKLEN_MAX + 2];
	char		 cmd[8];	/* PRIVMSG or NOTICE, from line 1 */
	char		 label[IRC_LABEL_MAX * 2 + 8];	/* "" or label=... */
	char		*ctags;		/* client-only tags of BATCH + */
	char		*text;		/* lines' texts, max-bytes */
	size_t		 tlen, bytes;	/* bytes: '\n' joiners included */
	size_t		 tsz;
	struct ml_line	*lines;
	unsigned	 nlines, maxlines;
	unsigned	 exempt;	/* lines left that skip fakelag */
	size_t		 flbytes;	/* not yet charged to fakelag */
	bool		 failed;	/* FAIL sent: wait for BATCH - */
};

/* Bytes of a batch that fakelag counts as one command: one IRC line. */
#define ML_FAKELAG_BYTES	IRC_LINE_MAX

static unsigned long ml_seq;
/* What open batches hold, for STATS z: they are the largest thing a
 * client can make the server keep (max-bytes each) until BATCH -. */
static size_t ml_nopen, ml_held;

/* The start of the batch's first line, enough to tell a CTCP (+C, +T). */
static const char *
ml_first_text(const struct ml *ml)
{
	static char buf[16];
	size_t n = ml->nlines > 0 ? ml->lines[0].len : 0;

	if (n > sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	if (n > 0)
		memcpy(buf, ml->text + ml->lines[0].off, n);
	buf[n] = '\0';
	return buf;
}

/* The heap bytes ml holds: itself, its text and line table, its tags. */
static size_t
ml_size(const struct ml *ml)
{
	return sizeof(*ml) + (ml->text != NULL ? ml->tsz : 0) +
	    (ml->lines != NULL ? ml->maxlines * sizeof(*ml->lines) : 0) +
	    (ml->ctags != NULL ? strlen(ml->ctags) + 1 : 0);
}

/* stats_z hook: batches open now and the heap bytes they hold. */
static void
ml_stats_z(struct client *c)
{
	irc_numeric(c, RPL_STATSDEBUG, "z :multiline batches open %zu "
	    "holding %zu bytes", ml_nopen, ml_held);
}

/*
 * What one line of a batch can cost a recipient beyond its text: tags
 * (@batch=ref;draft/multiline-concat, or for the fallback time, msgid
 * and account), the sender's nick!user@host, the command and target.
 */
static size_t
ml_line_cost(const struct conf *k)
{
	return 128 + 2 * (size_t)k->limits.nicklen + k->limits.identlen +
	    IRC_HOST_CLOAK + k->limits.channellen + 16;
}

/*
 * A batch is delivered in one pass, so all of it sits in each
 * recipient's output buffer at once: the largest one the cap allows
 * must fit in max-sendq, or a sender could have every member of a
 * channel dropped ("SendQ exceeded") with one batch. The BATCH + line
 * and the first fallback line may carry the client's tags.
 */
void
irc_ml_limits(const struct conf *k, unsigned *bytes, unsigned *lines)
{
	size_t cost = ml_line_cost(k), fixed = 2 * (IRC_CLIENT_TAGS_MAX +
	    cost), b = k->limits.ml_bytes, n = k->limits.ml_lines;

	if (fixed + b + cost > k->max_sendq)
		b = k->max_sendq > fixed + cost + 512 ?
		    k->max_sendq - fixed - cost : 512;
	if (fixed + b + n * cost > k->max_sendq)
		n = k->max_sendq > fixed + b + cost ?
		    (k->max_sendq - fixed - b) / cost : 1;
	*bytes = (unsigned)b;
	*lines = (unsigned)n;
}

/* session_free hook: s's open batch, if any, goes. */
static void
ml_session_free(struct session *s)
{
	struct ml *ml = s->x->ml;

	if (ml == NULL)
		return;
	ml_held -= ml_size(ml);
	ml_nopen--;
	free(ml->ctags);
	free(ml->text);
	free(ml->lines);
	free(ml);
	s->x->ml = NULL;
}

void
irc_ml_free(struct client *c)
{
	if (irc_sess(c) != NULL)
		ml_session_free(irc_sess(c));
}

/*
 * Whether line, a line of c's open batch, skips fakelag. The spec lets a
 * client send a batch at once, but not for free: its bytes (the lines,
 * and the client tags of BATCH +, which history keeps) are counted, and
 * each ML_FAKELAG_BYTES of them is one command to fakelag. The lines of
 * a batch that failed are dropped unread, so not counted. The line held
 * back by fakelag is not asked again when released (irc.c): it was
 * charged.
 */
bool
irc_ml_fakelag_exempt(struct client *c, const char *line)
{
	char tags[IRC_TAGS_MAX + 1], ref[IRC_ML_REF_MAX * 2 + 1];
	const char *sp;
	size_t n;

	if (irc_sess(c)->x->ml == NULL || irc_sess(c)->x->ml->exempt == 0 || line[0] != '@' ||
	    (sp = strchr(line, ' ')) == NULL ||
	    (n = (size_t)(sp - line) - 1) >= sizeof(tags))
		return false;
	memcpy(tags, line + 1, n);
	tags[n] = '\0';
	if (!irc_tag_get(tags, "batch", ref, sizeof(ref)) ||
	    strcmp(ref, irc_sess(c)->x->ml->ref) != 0)
		return false;
	irc_sess(c)->x->ml->exempt--;
	if (irc_sess(c)->x->ml->failed)
		return true;
	irc_sess(c)->x->ml->flbytes += strlen(line);
	if (irc_sess(c)->x->ml->flbytes < ML_FAKELAG_BYTES)
		return true;
	irc_sess(c)->x->ml->flbytes -= ML_FAKELAG_BYTES;
	return false;
}

static void
ml_fail(struct client *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* FAIL BATCH <code> ...: the open batch, if any, is dropped silently
 * from here to its BATCH -. */
static void
ml_fail(struct client *c, const char *code, const char *fmt, ...)
{
	char buf[IRC_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	irc_fail(c, "FAIL", "BATCH", code, "%s", buf);
	if (irc_sess(c)->x->ml != NULL) {
		irc_sess(c)->x->ml->failed = true;
		ml_held -= ml_size(irc_sess(c)->x->ml);
		free(irc_sess(c)->x->ml->text);
		irc_sess(c)->x->ml->text = NULL;
		free(irc_sess(c)->x->ml->lines);
		irc_sess(c)->x->ml->lines = NULL;
		ml_held += ml_size(irc_sess(c)->x->ml);
	}
}

/* A client's batch reference: printable, no tag syntax in it. */
static bool
ref_valid(const char *r)
{
	size_t n = strlen(r);

	if (n == 0 || n > IRC_ML_REF_MAX)
		return false;
	for (; *r != '\0'; r++)
		if (*r <= ' ' || *r > '~' || *r == ';' || *r == '\\' ||
		    *r == '=')
			return false;
	return true;
}

static void
ml_open(struct client *c, struct msg *m, const char *ref)
{
	struct ml *ml = NULL;
	struct session_ext *sx;
	char ctags[IRC_TAGS_MAX + 1];
	unsigned maxbytes, maxlines;

	if (!(irc_sess(c)->caps & CAP_MULTILINE) || !(irc_sess(c)->caps & CAP_BATCH)) {
		irc_fail(c, "FAIL", "BATCH", "MULTILINE_INVALID",
		    ":draft/multiline and batch are not both enabled");
		return;
	}
	if (irc_sess(c)->x->ml != NULL) {
		irc_ml_free(c);
		irc_fail(c, "FAIL", "BATCH", "MULTILINE_INVALID",
		    ":A multiline batch was already open; both dropped");
		return;
	}
	if (!ref_valid(ref) || m->nparam < 3 ||
	    strcmp(m->param[1], "draft/multiline") != 0 ||
	    m->param[2][0] == '\0' ||
	    strlen(m->param[2]) >= sizeof(ml->target)) {
		irc_fail(c, "FAIL", "BATCH", "MULTILINE_INVALID",
		    ":Only BATCH +<ref> draft/multiline <target> is accepted");
		return;
	}
	irc_ml_limits(conf, &maxbytes, &maxlines);
	if ((sx = irc_sx(irc_sess(c))) == NULL ||
	    (ml = calloc(1, sizeof(*ml))) == NULL ||
	    (ml->text = malloc(maxbytes)) == NULL ||
	    (ml->lines = calloc(maxlines, sizeof(*ml->lines))) == NULL)
		goto nomem;
	ml->tsz = maxbytes;
	ml->maxlines = maxlines;
	ml->exempt = ml->maxlines + 1;
	snprintf(ml->ref, sizeof(ml->ref), "%s", ref);
	snprintf(ml->target, sizeof(ml->target), "%s", m->param[2]);
	/* the label belongs to the echo's BATCH +, not to an ACK now */
	(void)irc_label_take(c, ml->label, sizeof(ml->label));
	if (m->tags != NULL && (irc_sess(c)->caps & CAP_MESSAGE_TAGS) &&
	    irc_tags_client(m->tags, ctags, sizeof(ctags)) > 0 &&
	    (ml->ctags = xstrdup(ctags)) == NULL)
		goto nomem;
	/* the tags are paid for by the lines (irc_ml_fakelag_exempt) */
	ml->flbytes = ml->ctags != NULL ? strlen(ml->ctags) : 0;
	sx->ml = ml;
	ml_held += ml_size(ml);
	ml_nopen++;
	return;
nomem:
	if (ml != NULL) {
		free(ml->text);
		free(ml->lines);
		free(ml);
	}
	log_warnx("irc", "out of memory: multiline batch refused");
	irc_fail(c, "FAIL", "BATCH", "MULTILINE_INVALID", ":Out of memory");
}

/* Takes one line of the open batch (or fails the batch). */
static void
ml_add(struct client *c, struct msg *m)
{
	struct ml *ml = irc_sess(c)->x->ml;
	const char *text;
	char v[8];
	bool concat;
	size_t len, add;

	if (ml->failed)
		return;
	if ((strcmp(m->cmd, "PRIVMSG") != 0 && strcmp(m->cmd, "NOTICE") != 0) ||
	    (ml->nlines > 0 && strcmp(m->cmd, ml->cmd) != 0) ||
	    m->nparam < 2) {
		ml_fail(c, "MULTILINE_INVALID", ":A multiline batch holds "
		    "PRIVMSG or NOTICE lines, all the same command");
		return;
	}
	if (irc_casecmp(m->param[0], ml->target) != 0) {
		ml_fail(c, "MULTILINE_INVALID_TARGET", "%s %s :Invalid "
		    "multiline target", ml->target, m->param[0]);
		return;
	}
	text = m->param[1];
	len = strlen(text);
	concat = irc_tag_get(m->tags, "draft/multiline-concat", v, sizeof(v));
	if (concat && len == 0) {
		ml_fail(c, "MULTILINE_INVALID", ":A blank line cannot be "
		    "concatenated");
		return;
	}
	if (ml->nlines + 1 > ml->maxlines) {
		ml_fail(c, "MULTILINE_MAX_LINES", "%u :Multiline batch "
		    "max-lines exceeded", ml->maxlines);
		return;
	}
	add = len + (ml->nlines > 0 && !concat);
	if (ml->bytes + add > ml->tsz) {
		ml_fail(c, "MULTILINE_MAX_BYTES", "%zu :Multiline batch "
		    "max-bytes exceeded", ml->tsz);
		return;
	}
	if (ml->nlines == 0)
		snprintf(ml->cmd, sizeof(ml->cmd), "%s", m->cmd);
	memcpy(ml->text + ml->tlen, text, len);
	ml->lines[ml->nlines].off = ml->tlen;
	ml->lines[ml->nlines].len = len;
	ml->lines[ml->nlines++].concat = concat;
	ml->tlen += len;
	ml->bytes += add;
}

bool
irc_ml_line(struct client *c, struct msg *m)
{
	char ref[IRC_ML_REF_MAX * 2 + 1], drop[IRC_LABEL_MAX * 2 + 8];
	bool msg;

	if (m->tags == NULL || !irc_tag_get(m->tags, "batch", ref,
	    sizeof(ref)))
		return false;
	msg = strcmp(m->cmd, "PRIVMSG") == 0 || strcmp(m->cmd, "NOTICE") == 0;
	if (!msg && (irc_sess(c)->x->ml == NULL || strcmp(ref, irc_sess(c)->x->ml->ref) != 0))
		return false;	/* a tag on some other command: ignored */
	/* lines of a batch have no reply of their own */
	(void)irc_label_take(c, drop, sizeof(drop));
	if (irc_sess(c)->x->ml == NULL || strcmp(ref, irc_sess(c)->x->ml->ref) != 0) {
		irc_fail(c, "FAIL", "BATCH", "MULTILINE_INVALID", ":No "
		    "multiline batch %s is open", ref);
		return true;
	}
	ml_add(c, m);
	return true;
}

void
irc_ml_reject(struct client *c, struct msg *m)
{
	char ref[IRC_ML_REF_MAX * 2 + 1];

	if (irc_sess(c)->x->ml == NULL || irc_sess(c)->x->ml->failed || m->tags == NULL ||
	    !irc_tag_get(m->tags, "batch", ref, sizeof(ref)) ||
	    strcmp(ref, irc_sess(c)->x->ml->ref) != 0)
		return;
	ml_fail(c, "MULTILINE_INVALID", ":Invalid multiline batch: a line "
	    "was refused");
}

/* Sessions with the caps get the batch, the others its lines. */
static bool
ml_capable(const struct session *s)
{
	return (s->caps & (CAP_MULTILINE | CAP_BATCH)) ==
	    (CAP_MULTILINE | CAP_BATCH);
}

/*
 * The sessions a delivery reaches, into a malloc'd array (NULL: out of
 * memory): every session of each recipient; of the sender c, its other
 * sessions if others (they see what the user says, as with PRIVMSG),
 * and the one whose command runs, last, if self (echo-message).
 */
static struct session **
ml_sessions(struct client *c, struct client **rcpt, size_t n, bool others,
    bool self, size_t *ns)
{
	struct session **v, *s;
	size_t k, cnt = 1;

	for (k = 0; k < n; k++)
		cnt += irc_user_sessions(rcpt[k]);
	cnt += irc_user_sessions(c);
	if ((v = calloc(cnt, sizeof(*v))) == NULL)
		return NULL;
	*ns = 0;
	for (k = 0; k < n; k++)
		for (s = rcpt[k]->sess; s != NULL; s = s->next)
			v[(*ns)++] = s;
	if (others)
		for (s = c->sess; s != NULL; s = s->next)
			if (s != c->cur)
				v[(*ns)++] = s;
	if (self && c->cur != NULL)
		v[(*ns)++] = c->cur;
	return v;
}

/* The echo's BATCH + to the labeled sender: the label goes on it. */
static void
send_open_labeled(struct irc_ev *ev, struct client *c, const char *label)
{
	char line[IRC_OUT_MAX], buf[IRC_OUT_MAX + IRC_LABEL_MAX * 2 + 16];
	size_t n = irc_ev_format(ev, c, line, sizeof(line)), ll;

	ll = strlen(label);
	if (n == 0 || n + ll + 3 > sizeof(buf))
		return;
	buf[0] = '@';
	memcpy(buf + 1, label, ll);
	if (line[0] == '@') {
		buf[1 + ll] = ';';
		memcpy(buf + 2 + ll, line + 1, n - 1);
		n += ll + 1;
	} else {
		buf[1 + ll] = ' ';
		memcpy(buf + 2 + ll, line, n);
		n += ll + 2;
	}
	irc_send_tagged(c, buf, n);
}

/* One delivery's msgid and time, shared by its copies (see ml_close). */
struct ml_stamp {
	char	msgid[IRC_MSGID_LEN + 1];	/* "": make them */
	char	time[32];
};

/*
 * Delivers the batch to the sessions of rcpt[0..n), and of the sender
 * its other sessions if others and its own, last and labeled if it
 * asked, if echo (ml_sessions): pass 0 opens the batch for the capable,
 * then one pass per line, then the close. One event at a time, so a
 * long batch costs no big stack. The batch gets st's msgid and time, or
 * new ones, left in st. False: out of memory, nothing sent.
 */
static bool
ml_deliver(struct client *c, struct ml *ml, struct client **rcpt,
    size_t n, bool others, struct chan *ch, struct client *to, bool hist,
    bool echo, struct ml_stamp *st)
{
	char oref[24], echolabel[sizeof(ml->label)];
	char line[IRC_OUT_MAX], prefix[NICKLEN_MAX + 256];
	struct session **ss;
	struct irc_ev ev, fe;
	bool first = true, labeled = false;
	size_t i, k, len, ns = 0;

	if ((ss = ml_sessions(c, rcpt, n, others, echo, &ns)) == NULL)
		return false;
	snprintf(prefix, sizeof(prefix), "%s", irc_prefix(c));
	snprintf(oref, sizeof(oref), "ml%lx", ++ml_seq);
	irc_ev_init(&ev, c, true, ":%s BATCH +%s draft/multiline %s", prefix,
	    oref, ml->target);
	ev.ctags = ml->ctags;
	if (st->msgid[0] != '\0') {
		memcpy(ev.msgid, st->msgid, sizeof(ev.msgid));
		memcpy(ev.time, st->time, sizeof(ev.time));
	} else {
		memcpy(st->msgid, ev.msgid, sizeof(st->msgid));
		memcpy(st->time, ev.time, sizeof(st->time));
	}
	if (echo && ns > 0 && ss[ns - 1] == c->cur)
		labeled = irc_label_take(c, echolabel, sizeof(echolabel));
	for (k = 0; k < ns; k++) {
		if (!ml_capable(ss[k]))
			continue;
		if (labeled && k == ns - 1)
			send_open_labeled(&ev, c, echolabel);
		else
			irc_ev_send_session(&ev, ss[k]);
	}
	for (i = 0; i < ml->nlines; i++) {
		const struct ml_line *l = &ml->lines[i];
		const char *text = ml->text + l->off;

		len = (size_t)snprintf(line, sizeof(line), "@batch=%s%s :%s %s "
		    "%s :%.*s\r\n", oref, l->concat ? ";draft/multiline-concat" :
		    "", prefix, ml->cmd, ml->target, (int)l->len, text);
		if (len >= sizeof(line))
			continue;	/* cannot happen: 512 + tags */
		irc_ev_init(&fe, c, false, ":%s %s %s :%.*s", prefix, ml->cmd,
		    ml->target, (int)l->len, text);
		/* the batch's tags go on the first line sent to the rest */
		if (first && l->len > 0) {
			memcpy(fe.msgid, ev.msgid, sizeof(fe.msgid));
			fe.ctags = ml->ctags;
		}
		memcpy(fe.time, ev.time, sizeof(fe.time));
		for (k = 0; k < ns; k++) {
			if (ml_capable(ss[k]))
				irc_send_session_tagged(ss[k], line, len);
			else if (l->len > 0)	/* never a blank line */
				irc_ev_send_session(&fe, ss[k]);
		}
		if (l->len > 0) {
			first = false;
			/* each line in history, all with the batch's msgid,
			 * as clients without the cap saw them */
			memcpy(fe.msgid, ev.msgid, sizeof(fe.msgid));
			fe.ctags = ml->ctags;
			if (hist) {
				char t[IRC_LINE_MAX + 1];

				memcpy(t, text, l->len);
				t[l->len] = '\0';
				irc_ev_message(&fe, c, ch, to, ml->cmd, t);
			}
		}
		irc_ev_done(&fe);
	}
	len = (size_t)snprintf(line, sizeof(line), ":%s BATCH -%s\r\n",
	    conf->server_name, oref);
	for (k = 0; k < ns; k++)
		if (ml_capable(ss[k]))
			irc_send_session_tagged(ss[k], line, len);
	irc_ev_done(&ev);
	free(ss);
	return true;
}

/* Services (NickServ...) take the lines one by one; false: no service. */
static bool
ml_service(struct client *c, struct ml *ml, bool notice)
{
	char t[IRC_LINE_MAX + 1];
	unsigned i;
	bool any = false;

	for (i = 0; i < ml->nlines; i++) {
		if (ml->lines[i].len == 0)
			continue;
		memcpy(t, ml->text + ml->lines[i].off, ml->lines[i].len);
		t[ml->lines[i].len] = '\0';
		if (irc_hooks.service_message == NULL ||
		    !irc_hooks.service_message(c, ml->target, t, notice))
			return any;
		any = true;
	}
	return any;
}

/* BATCH -ref: the whole message goes to its target, as PRIVMSG would. */
static void
ml_close(struct client *c)
{
	struct ml *ml = irc_sess(c)->x->ml;
	bool notice = strcmp(ml->cmd, "NOTICE") == 0;
	const char *name = ml->target;
	unsigned char need = 0;
	struct client **rcpt = NULL, *to = NULL;
	struct chan *ch = NULL;
	struct member *mb;
	struct ml_stamp st;
	char label[sizeof(ml->label)];
	bool echo = (irc_sess(c)->caps & CAP_ECHO_MESSAGE) != 0, labeled;
	size_t n = 0;
	unsigned i;

	irc_label_resume(c, ml->label);
	for (i = 0; i < ml->nlines; i++)
		if (ml->lines[i].len > 0)
			break;
	if (i == ml->nlines) {
		irc_fail(c, "FAIL", "BATCH", "MULTILINE_INVALID",
		    ":Invalid multiline batch: no text");
		return;
	}
	if (irc_memb_symbol(*name) != 0) {	/* STATUSMSG */
		need = MEMB_ATLEAST(irc_memb_symbol(*name));
		name++;
	}
	if (*name == '#' || *name == '&') {
		if ((ch = irc_chan_find(name)) == NULL) {
			if (!notice)
				irc_numeric(c, ERR_NOSUCHCHANNEL,
				    "%s :No such channel", name);
			return;
		}
		if (!irc_user_may_send_chan(c, ch, ml_first_text(ml), notice,
		    &need))
			return;
		if ((rcpt = calloc(ch->nmembers + 1, sizeof(*rcpt))) == NULL)
			goto nomem;
		for (mb = ch->members; mb != NULL; mb = mb->cnext)
			if (mb->c != c && (!need || (mb->modes & need)))
				rcpt[n++] = mb->c;
	} else {
		if (need == 0 && ml_service(c, ml, notice))
			return;
		if (need != 0 || (to = irc_client_find(name)) == NULL ||
		    !(to->flags & CF_REG)) {
			if (!notice)
				irc_numeric(c, ERR_NOSUCHNICK,
				    "%s :No such nick/channel", name);
			return;
		}
		if (!irc_user_may_send_user(c, to, ml_first_text(ml), notice))
			return;
		if ((rcpt = calloc(2, sizeof(*rcpt))) == NULL)
			goto nomem;
		rcpt[n++] = to;
	}
	c->last_msg = ergo_now;
	memset(&st, 0, sizeof(st));
	if (to == c) {
		/*
		 * To oneself, as Ergo does: the delivered copy to every
		 * session (no reply, so unlabeled), then with echo-message
		 * the echo, each its own batch with its own reference, one
		 * msgid; history once.
		 */
		labeled = irc_label_take(c, label, sizeof(label));
		if (!ml_deliver(c, ml, rcpt, n, false, NULL, to, true, false,
		    &st))
			goto nomem;
		if (labeled)
			irc_label_resume(c, label);
		if (echo && !ml_deliver(c, ml, NULL, 0, false, NULL, NULL,
		    false, true, &st))
			goto nomem;
	} else if (!ml_deliver(c, ml, rcpt, n, true, ch, ch != NULL ? NULL :
	    to, need == 0, echo, &st))
		goto nomem;
	free(rcpt);
	if (to != NULL && !notice && to->ext->away != NULL)
		irc_numeric(c, RPL_AWAY, "%s :%s", to->nick, to->ext->away);
	return;
nomem:
	free(rcpt);
	log_warnx("irc", "out of memory: multiline batch dropped");
	irc_fail(c, "FAIL", "BATCH", "MULTILINE_INVALID", ":Out of memory");
}

/* BATCH +ref draft/multiline <target> | BATCH -ref */
void
h_batch(struct client *c, struct msg *m)
{
	const char *p = m->param[0];

	if (*p == '+') {
		ml_open(c, m, p + 1);
		return;
	}
	if (*p != '-' || irc_sess(c)->x->ml == NULL ||
	    strcmp(p + 1, irc_sess(c)->x->ml->ref) != 0) {
		irc_fail(c, "FAIL", "BATCH", "MULTILINE_INVALID",
		    ":No such multiline batch is open");
		return;
	}
	if (!irc_sess(c)->x->ml->failed)
		ml_close(c);
	irc_ml_free(c);
}

/* The hook of draft/multiline (irc_state.h). */
void
irc_ml_init(void)
{
	IRC_HOOK_ADD(session_free, ml_session_free);
	IRC_HOOK_ADD(stats_z, ml_stats_z);
}
