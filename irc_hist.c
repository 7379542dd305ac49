/*
 * irc_hist.c: message history in memory: a bounded ring per channel and
 * per client (its direct messages), CHATHISTORY (draft/chathistory, with
 * draft/event-playback: JOIN PART KICK QUIT NICK TOPIC MODE and the
 * TAGMSGs of history.tagmsg-storage too) and the playback on JOIN
 * (history.autoreplay-on-join). It hears of what was sent through hooks
 * (irc_state.h) and replies through irc_out.c: no sockets, no SQL.
 *
 * A channel's ring dies with the channel, a client's with the client,
 * so a new channel of the same name, or a new user of the same nick,
 * never reads what was said before it existed. Only members read a
 * channel's history and only the two parties a direct message: secret
 * and private channels leak nothing, not even their names (TARGETS).
 *
 * history.persistent: the rings that have an owner who outlives a
 * restart, a registered channel (ChanServ) and an account, are also
 * written to the datastore, batched: rows are queued here and written
 * in one transaction a second (or every HIST_FLUSH_ROWS), at rehash and
 * at shutdown, and read back at start. A registered channel's ring is
 * parked while the channel is empty and adopted again when it is
 * recreated (by then with its saved modes and key); the direct messages
 * of a logged-in client go to its account's ring, which every session
 * of the account reads. Unregistered channels and clients without an
 * account stay in memory only, as above.
 *
 * Memory is bounded in bytes as well as in messages: each ring by
 * history.channel-max-bytes or client-max-bytes, all rings together by
 * total-max-bytes, the oldest message going first (all entries are on
 * one list in the order they were kept). The client-only tags of an
 * entry are shared with the entries made just before from the same
 * tags (the lines of one multiline batch, the two copies of a DM), so a
 * batch's tags are held once, not once per line.
 */
#include <errno.h>
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

/* Rings grow by doubling from this, up to the configured length. */
#define HIST_RING_MIN		16
#define HIST_TIME_LEN		31	/* 2019-01-04T14:33:26.123Z */
#define HIST_BATCH_LEN		16
#define HIST_FLUSH_MS		1000	/* most a queued row waits */
#define HIST_FLUSH_ROWS		512	/* or a batch this large */
#define HIST_EXPIRE_MS		60000	/* expired rows deleted this often */
#define HIST_EXPIRE_BATCH	2000	/* at most this many rows a pass */

struct hist;
struct hmsg;
static size_t	 missed_peer(struct hist *, int64_t, int64_t, size_t, bool,
		    const char *, struct hmsg ***);
struct znc_play;
static bool	 znc_join(struct client *, struct chan *);
static void	 znc_session_free(struct session *);
static void	 hist_play(struct chan *, struct client *, const char *,
		    unsigned, void (*)(void *, const struct hist_info *,
		    const char *), void *);
static size_t	 hist_forget_account(const char *);
static size_t	 hist_export_account(const char *,
		    void (*)(void *, const struct store_hrow *), void *);


/* Client-only tags, shared by the entries that carry the same ones. */
struct htags {
	unsigned	 refs;
	size_t		 size;		/* of this allocation */
	char		 s[];
};

struct hist;

/*
 * One message or event; its strings follow the struct in the same
 * allocation. An event (JOIN, TOPIC...) keeps its whole line in text.
 */
struct hmsg {
	uint64_t	 seq;		/* total order, ties of ms included */
	int64_t		 ms;		/* wall clock, ms since the epoch */
	char		 msgid[IRC_MSGID_LEN + 1];
	char		 time[HIST_TIME_LEN + 1];
	unsigned char	 kind;		/* HK_* */
	bool		 bot;		/* the sender was +B (bot tag) */
	const char	*source;	/* nick!user@host when it was sent */
	const char	*target;	/* #chan, or the recipient's nick */
	const char	*peer;		/* DMs: the other party's nick */
	const char	*text;
	const char	*ctags;		/* escaped client-only tags, or NULL */
	const char	*account;	/* the sender's then (account-tag) */
	struct htags	*tags;		/* holds ctags, or NULL */
	struct hist	*ring;		/* the ring that keeps it, or NULL */
	struct hmsg	*gprev, *gnext;	/* all kept entries, oldest first */
	size_t		 size;		/* of this allocation */
	size_t		 charge;	/* to its ring: size, + tags it made */
	char		 data[];
};

/* Oldest at head; slots [head, head + n) modulo cap. */
struct hist {
	struct hmsg	**slot;
	size_t		  cap, head, n;
	size_t		  bytes;	/* the charges of its entries */
};

/* Every kept entry, in the order kept, and what they hold in all. */
static struct hmsg	*g_head, *g_tail;
static size_t		 g_bytes, g_count;
static struct htags	*tags_last;	/* made last: the next line's? */

static uint64_t		 seq;
static uint64_t		 msgid_salt, msgid_count;
static unsigned long	 batch_seq;

/* A ring that outlives its channel or client: "c<id>", "a<id>". */
struct pring {
	struct hent	 h;
	char		 key[24];
	char		 name[CHANLEN_MAX + 1];	/* channels: folded name */
	struct hist	*hist;
	bool		 loaded;	/* read from the datastore once */
};
static struct htab	 prings;
static bool		 prings_init;

/* Rows waiting for the next batch; each holds a copy of its entry. */
struct qrow {
	struct qrow	*next;
	int64_t		 channel, account;
	uint64_t	 floor;
	struct hmsg	*m;
};
static struct qrow	*q_head, **q_tail = &q_head;
static size_t		 q_len;
static uint64_t		 q_last_ms, expire_last_ms;
static bool		 q_failing;	/* logged; quiet until a batch works */
static unsigned long	 q_lost;	/* rows dropped while failing */

/* Our own msgid when the caller brought none: unique across restarts. */
static void
msgid_make(char *buf, size_t sz)
{
	if (msgid_salt == 0 && (ergo_random(&msgid_salt,
	    sizeof(msgid_salt)) == -1 || msgid_salt == 0))
		msgid_salt = (uint64_t)irc_time_now_ms() | 1;
	msgid_count++;
	snprintf(buf, sz, "%08x%016llx", (unsigned)(msgid_salt >> 32),
	    (unsigned long long)((msgid_salt << 20) ^ msgid_count));
}

/* ---- rings ---- */

/*
 * Tags s for a new entry: those of the entry made just before if they
 * are the same (the next line of a batch, a DM's second copy), else a
 * new copy, *made set. NULL if out of memory.
 */
static struct htags *
tags_get(const char *s, bool *made)
{
	struct htags *t;
	size_t n;

	*made = false;
	if (tags_last != NULL && strcmp(tags_last->s, s) == 0) {
		tags_last->refs++;
		return tags_last;
	}
	n = strlen(s) + 1;
	if ((t = malloc(sizeof(*t) + n)) == NULL)
		return NULL;
	t->refs = 1;
	t->size = sizeof(*t) + n;
	memcpy(t->s, s, n);
	g_bytes += t->size;
	tags_last = t;
	*made = true;
	return t;
}

static void
tags_put(struct htags *t)
{
	if (t == NULL || --t->refs > 0)
		return;
	g_bytes -= t->size;
	if (tags_last == t)
		tags_last = NULL;
	free(t);
}

static void
hmsg_free(struct hmsg *m)
{
	if (m == NULL)
		return;
	tags_put(m->tags);
	free(m);
}

static struct hmsg *
slot_at(const struct hist *h, size_t i)
{
	return h->slot[(h->head + i) % h->cap];
}

/* m joins ring h (already in its slots): counted, last on the list. */
static void
entry_link(struct hist *h, struct hmsg *m)
{
	m->ring = h;
	h->bytes += m->charge;
	m->gnext = NULL;
	if ((m->gprev = g_tail) != NULL)
		g_tail->gnext = m;
	else
		g_head = m;
	g_tail = m;
	g_bytes += m->size;
	g_count++;
}

/* m leaves its ring (out of its slots already) and is freed. */
static void
entry_drop(struct hmsg *m)
{
	if (m->ring != NULL)
		m->ring->bytes -= m->charge;
	if (m->gprev != NULL)
		m->gprev->gnext = m->gnext;
	else
		g_head = m->gnext;
	if (m->gnext != NULL)
		m->gnext->gprev = m->gprev;
	else
		g_tail = m->gprev;
	g_bytes -= m->size;
	g_count--;
	hmsg_free(m);
}

static void
hist_drop_oldest(struct hist *h)
{
	entry_drop(h->slot[h->head]);
	h->slot[h->head] = NULL;
	h->head = (h->head + 1) % h->cap;
	h->n--;
}

/* Drops the entry at position i of h, closing the gap. */
static void
hist_drop_at(struct hist *h, size_t i)
{
	entry_drop(slot_at(h, i));
	for (; i + 1 < h->n; i++)
		h->slot[(h->head + i) % h->cap] = slot_at(h, i + 1);
	h->slot[(h->head + h->n - 1) % h->cap] = NULL;
	h->n--;
}

/*
 * history.total-max-bytes: the oldest entries anywhere go until all
 * history is within it, but never keep, the one just kept. The oldest
 * kept is its ring's oldest (rings only ever lose from the middle), so
 * this is O(1) an entry.
 */
static void
hist_budget(const struct hmsg *keep)
{
	struct hmsg *m;
	struct hist *h;
	size_t i;

	while (g_bytes > conf->history.total_bytes && (m = g_head) != NULL &&
	    m != keep) {
		h = m->ring;
		if (h->n > 0 && slot_at(h, 0) == m) {
			hist_drop_oldest(h);
			continue;
		}
		for (i = 1; i < h->n && slot_at(h, i) != m; i++)
			;
		if (i >= h->n)
			break;		/* cannot happen: not in its ring */
		hist_drop_at(h, i);
	}
}

/* Sizes in bytes and counts: what history holds now (STATS z). */
void
irc_hist_bytes(size_t *count, size_t *bytes)
{
	*count = g_count;
	*bytes = g_bytes;
}

/* Drops what is past expire-time or over max entries. */
static void
hist_trim(struct hist *h, size_t max)
{
	int64_t cutoff;

	while (h->n > max)
		hist_drop_oldest(h);
	if (conf->history.expire == 0)
		return;
	cutoff = irc_time_now_ms() - (int64_t)conf->history.expire * 1000;
	while (h->n > 0 && slot_at(h, 0)->ms < cutoff)
		hist_drop_oldest(h);
}

static void
hist_free(struct hist *h)
{
	if (h == NULL)
		return;
	while (h->n > 0)
		hist_drop_oldest(h);
	free(h->slot);
	free(h);
}

/*
 * Appends m to *hp (made on first use); takes m, frees it on failure.
 * Returns whether m was kept.
 */
static bool
hist_push(struct hist **hp, struct hmsg *m, size_t max, size_t maxbytes)
{
	struct hist *h = *hp;

	if (max == 0) {
		hmsg_free(m);
		return false;
	}
	if (h == NULL) {
		if ((h = calloc(1, sizeof(*h))) == NULL)
			goto fail;
		*hp = h;
	}
	hist_trim(h, max - 1);
	if (h->n == h->cap) {
		size_t ncap = h->cap < HIST_RING_MIN ? HIST_RING_MIN :
		    h->cap * 2, i;
		struct hmsg **ns;

		if (ncap > max)
			ncap = max;
		if (ncap <= h->cap) {
			/* max shrank below what is held: make room */
			hist_drop_oldest(h);
		} else {
			if ((ns = calloc(ncap, sizeof(*ns))) == NULL)
				goto fail;
			for (i = 0; i < h->n; i++)
				ns[i] = slot_at(h, i);
			free(h->slot);
			h->slot = ns;
			h->cap = ncap;
			h->head = 0;
		}
	}
	h->slot[(h->head + h->n) % h->cap] = m;
	h->n++;
	entry_link(h, m);
	/* its ring within its bytes, then all history within the total */
	while (h->bytes > maxbytes && h->n > 1)
		hist_drop_oldest(h);
	hist_budget(m);
	return true;
fail:
	log_warnx("irc", "out of memory: history entry dropped");
	hmsg_free(m);
	return false;
}

/*
 * A copy of tmpl with the strings; acct: the sender's account tag. The
 * tags are share's (a queued copy of a kept entry), or ctags's.
 */
static struct hmsg *
hmsg_build(const struct hmsg *tmpl, const char *acct, const char *source,
    const char *target, const char *peer, const char *text, const char *ctags,
    struct htags *share)
{
	size_t ls = strlen(source) + 1, lt = strlen(target) + 1,
	    lp = peer != NULL ? strlen(peer) + 1 : 0, lx = strlen(text) + 1,
	    la = acct != NULL ? strlen(acct) + 1 : 0, sz;
	struct htags *t = NULL;
	struct hmsg *m;
	bool made = false;
	char *p;

	if (share != NULL) {
		t = share;
		t->refs++;
	} else if (ctags != NULL && (t = tags_get(ctags, &made)) == NULL)
		return NULL;
	sz = sizeof(*m) + ls + lt + lp + lx + la;
	if ((m = malloc(sz)) == NULL) {
		tags_put(t);
		return NULL;
	}
	*m = *tmpl;
	m->tags = t;
	m->ctags = t != NULL ? t->s : NULL;
	m->ring = NULL;
	m->gprev = m->gnext = NULL;
	m->size = sz;
	m->charge = sz + (made ? t->size : 0);
	p = m->data;
	m->source = memcpy(p, source, ls);
	p += ls;
	m->target = memcpy(p, target, lt);
	p += lt;
	m->peer = NULL;
	if (peer != NULL) {
		m->peer = memcpy(p, peer, lp);
		p += lp;
	}
	m->text = memcpy(p, text, lx);
	p += lx;
	m->account = acct != NULL ? memcpy(p, acct, la) : NULL;
	return m;
}

/* A copy of tmpl with the strings; from (may be NULL) sent it. */
static struct hmsg *
hmsg_new(const struct hmsg *tmpl, const struct client *from,
    const char *source, const char *target, const char *peer,
    const char *text, const char *ctags)
{
	struct hmsg *m;

	m = hmsg_build(tmpl, from != NULL ? from->account : NULL, source,
	    target, peer, text, ctags, NULL);
	if (m != NULL)
		m->bot = from != NULL && (from->umodes & UMODE_BOT);
	return m;
}

/* ---- persistent rings and the write queue ---- */

static void	ring_load(struct pring *, int64_t channel, int64_t account);

static bool
persisting(void)
{
	return conf->history.enabled && conf->history.persistent;
}

/* The parked ring of key, made if make; NULL if none (or no memory). */
static struct pring *
pring_get(const char *key, bool make)
{
	struct pring *p;

	if (!prings_init) {
		htab_init(&prings);
		prings_init = true;
	}
	if ((p = (struct pring *)(void *)htab_get(&prings, key)) != NULL ||
	    !make)
		return p;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	snprintf(p->key, sizeof(p->key), "%s", key);
	p->h.key = p->key;
	if (htab_put(&prings, &p->h) == -1) {
		free(p);
		return NULL;
	}
	return p;
}

static void
pring_key(char *buf, size_t sz, char kind, int64_t id)
{
	snprintf(buf, sz, "%c%lld", kind, (long long)id);
}

/* Frees the parked ring of key, if any. */
static void
pring_drop(const char *key)
{
	struct pring *p;

	if ((p = pring_get(key, false)) == NULL)
		return;
	htab_del(&prings, &p->h);
	hist_free(p->hist);
	free(p);
}

/*
 * ch's ring: a registered channel recreated after it emptied (or after
 * a restart) takes back its parked one first.
 */
static struct hist **
chan_hist(struct chan *ch)
{
	struct pring *p;
	char key[24];

	if (ch->hist == NULL && ch->reg_id != 0 && persisting()) {
		pring_key(key, sizeof(key), 'c', ch->reg_id);
		if ((p = pring_get(key, true)) != NULL) {
			if (!p->loaded) {
				irc_fold(p->name, ch->name, sizeof(p->name));
				ring_load(p, ch->reg_id, 0);
			}
			/* the entry stays, with its loaded mark */
			ch->hist = p->hist;
			p->hist = NULL;
		}
	}
	return &ch->hist;
}

/*
 * c's direct messages: its account's ring when persistent, else its own
 * (NickServ SET DM-HISTORY ephemeral keeps them in its own too).
 */
static struct hist **
dm_hist(struct client *c)
{
	struct hist **own = &c->ext->hist;	/* (dm_push makes c's) */
	struct pring *p;
	char key[24];

	if (c->account_id == 0 || !persisting() ||
	    irc_account_dm_history(c->ext->account_dmh) != DMH_ON)
		return own;
	pring_key(key, sizeof(key), 'a', c->account_id);
	if ((p = pring_get(key, true)) == NULL)
		return own;
	if (!p->loaded)
		ring_load(p, 0, c->account_id);
	return &p->hist;
}

/* Queues a copy of m for the datastore; h is the ring that kept it. */
static void
queue_row(const struct hmsg *m, const struct hist *h, int64_t channel,
    int64_t account)
{
	struct qrow *r;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->m = hmsg_build(m, m->account, m->source, m->target, m->peer,
	    m->text, m->ctags, m->tags)) == NULL) {
		free(r);
		log_warnx("irc", "out of memory: history entry not saved");
		return;
	}
	r->channel = channel;
	r->account = account;
	r->floor = slot_at(h, 0)->seq;
	*q_tail = r;
	q_tail = &r->next;
	q_len++;
}

/* Pushes m to ch's ring, and queues it if ch is registered. */
static void
chan_push(struct chan *ch, struct hmsg *m)
{
	struct hist **hp;

	if (ch->history == CHAN_HIST_OFF) {	/* ChanServ SET history */
		hmsg_free(m);			/* the ring owns what it keeps */
		return;
	}
	hp = chan_hist(ch);
	if (hist_push(hp, m, conf->history.channel_length,
	    conf->history.channel_bytes) &&
	    ch->reg_id != 0 && persisting() &&
	    ch->history != CHAN_HIST_EPHEMERAL)
		queue_row(m, *hp, ch->reg_id, 0);
}

/*
 * Pushes m to c's direct-message ring, queued if that is an account's;
 * NickServ SET DM-HISTORY off: kept nowhere.
 */
static void
dm_push(struct client *c, struct hmsg *m)
{
	struct hist **hp;

	if ((c->account_id != 0 &&
	    irc_account_dm_history(c->ext->account_dmh) == DMH_OFF) ||
	    irc_cx(c) == NULL) {	/* (out of memory: logged) */
		hmsg_free(m);		/* the ring owns what it keeps */
		return;
	}
	hp = dm_hist(c);

	if (hist_push(hp, m, conf->history.client_length,
	    conf->history.client_bytes) &&
	    hp != &c->ext->hist && persisting())
		queue_row(m, *hp, 0, c->account_id);
}

static void
queue_free(void)
{
	struct qrow *r;

	while ((r = q_head) != NULL) {
		q_head = r->next;
		hmsg_free(r->m);
		free(r);
	}
	q_tail = &q_head;
	q_len = 0;
}

/*
 * Writes the queue in one transaction. A failure drops the batch (the
 * queue never grows while the disk is full) and is logged once, with a
 * count of what was lost when writes work again.
 */
void
irc_hist_flush(void)
{
	struct store_hrow *rows;
	struct qrow *r;
	size_t i = 0;

	q_last_ms = ergo_now_ms;
	if (q_len == 0)
		return;
	if ((rows = calloc(q_len, sizeof(*rows))) == NULL) {
		log_warnx("irc", "out of memory: %zu history entries not saved",
		    q_len);
		queue_free();
		return;
	}
	for (r = q_head; r != NULL; r = r->next, i++) {
		const struct hmsg *m = r->m;

		rows[i].channel = r->channel;
		rows[i].account = r->account;
		rows[i].seq = m->seq;
		rows[i].floor = r->floor;
		rows[i].ms = m->ms;
		rows[i].kind = m->kind;
		rows[i].bot = m->bot;
		rows[i].msgid = m->msgid;
		rows[i].time = m->time;
		rows[i].source = m->source;
		rows[i].target = m->target;
		rows[i].peer = m->peer;
		rows[i].text = m->text;
		rows[i].ctags = m->ctags;
		rows[i].acct_tag = m->account;
	}
	if (store_hist_write(rows, q_len) == -1) {
		if (!q_failing)
			log_warnx("store", "history: %zu messages not saved: %s "
			    "(not logged again until saving works)", q_len,
			    store_error());
		q_failing = true;
		q_lost += q_len;
	} else if (q_failing) {
		log_info("store", "history: saving works again; %lu messages "
		    "were not saved", q_lost);
		q_failing = false;
		q_lost = 0;
	}
	free(rows);
	queue_free();
}

/*
 * Once a pass: the queue after HIST_FLUSH_MS; expired rows each minute,
 * HIST_EXPIRE_BATCH at a time, the next batch in the next pass while
 * there are more (a day of backlog is many short deletes, not one long
 * one that holds up the loop).
 */
void
irc_hist_tick(void)
{
	int n;

	if (q_len > 0 && (q_len >= HIST_FLUSH_ROWS ||
	    ergo_now_ms - q_last_ms >= HIST_FLUSH_MS))
		irc_hist_flush();
	else if (q_len == 0)
		q_last_ms = ergo_now_ms;
	if (conf->history.expire == 0 || !persisting() ||
	    ergo_now_ms - expire_last_ms < HIST_EXPIRE_MS)
		return;
	expire_last_ms = ergo_now_ms;
	n = store_hist_expire(irc_time_now_ms() -
	    (int64_t)conf->history.expire * 1000, HIST_EXPIRE_BATCH);
	if (n == -1 && !q_failing)
		log_warnx("store", "history: expired messages not deleted: %s",
		    store_error());
	else if (n == HIST_EXPIRE_BATCH)
		expire_last_ms = ergo_now_ms - HIST_EXPIRE_MS;	/* more */
}

int
irc_hist_next_ms(void)
{
	uint64_t due = q_last_ms + HIST_FLUSH_MS;

	if (q_len == 0)
		return -1;
	return due <= ergo_now_ms ? 0 : (int)(due - ergo_now_ms);
}

static void
load_row(void *arg, const struct store_hrow *r)
{
	struct pring *p = arg;
	struct hmsg tmpl, *m;

	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.seq = r->seq;
	tmpl.ms = r->ms;
	tmpl.kind = r->kind >= HK_PRIVMSG && r->kind <= HK_EVENT ?
	    (unsigned char)r->kind : HK_PRIVMSG;
	tmpl.bot = r->bot;
	snprintf(tmpl.msgid, sizeof(tmpl.msgid), "%s", r->msgid);
	snprintf(tmpl.time, sizeof(tmpl.time), "%s", r->time);
	if (r->seq > seq)
		seq = r->seq;
	if ((m = hmsg_build(&tmpl, r->acct_tag, r->source, r->target,
	    r->peer, r->text, r->ctags, NULL)) == NULL) {
		log_warnx("irc", "out of memory: history entry not loaded");
		return;
	}
	(void)hist_push(&p->hist, m, r->channel != 0 ?
	    conf->history.channel_length : conf->history.client_length,
	    r->channel != 0 ? conf->history.channel_bytes :
	    conf->history.client_bytes);
}

/*
 * A persistent ring is read from the datastore the first time it is
 * needed (its channel made, its account's DMs read or written), not at
 * start: start time does not grow with the history stored, and each
 * load is one index range of at most the ring's length.
 */
static void
ring_load(struct pring *p, int64_t channel, int64_t account)
{
	int64_t since = 0;

	p->loaded = true;
	if (conf->history.expire != 0)
		since = irc_time_now_ms() - (int64_t)conf->history.expire * 1000;
	(void)store_hist_load_ring(channel, account, since, channel != 0 ?
	    conf->history.channel_length : conf->history.client_length,
	    load_row, p);
}

/* At start: the persistent rings back from the datastore. */
/* stats_z hook: what history holds now, by its own count. */
static void
hist_stats_z(struct client *c)
{
	size_t n, bytes;

	irc_hist_bytes(&n, &bytes);
	irc_numeric(c, RPL_STATSDEBUG, "z :History: %zu messages, %zu bytes "
	    "held (total-max-bytes %zu)", n, bytes, conf->history.total_bytes);
}

/* dropping hook: rows still queued go first, so the delete takes them
 * (the id may be the next channel's or account's). */
static void
hist_dropping(int64_t channel, int64_t account)
{
	(void)channel;
	(void)account;
	irc_hist_flush();
}

void
irc_hist_init(void)
{
	IRC_HOOK_ADD(chan_event, irc_hist_event);
	IRC_HOOK_ADD(peers_event, irc_hist_peers_event);
	IRC_HOOK_ADD(message, irc_hist_add);
	IRC_HOOK_ADD(quit, irc_hist_client_free);
	IRC_HOOK_ADD(chan_free, irc_hist_chan_free);
	IRC_HOOK_ADD(joined, irc_hist_join);
	IRC_HOOK_ADD(session_free, znc_session_free);
	IRC_HOOK_ADD(dropping, hist_dropping);
	IRC_HOOK_ADD(dropped, irc_hist_forget);
	IRC_HOOK_ADD(stats_z, hist_stats_z);
	irc_hooks.hist_redact = irc_hist_redact;
	irc_hooks.hist_play = hist_play;
	irc_hooks.hist_forget_account = hist_forget_account;
	irc_hooks.hist_export_account = hist_export_account;
}

/* At start: rings are loaded when first needed; seq goes on from the
 * largest stored, so new entries sort after every saved one. */
void
irc_hist_load(void)
{
	int64_t max;

	if (!persisting())
		return;
	if ((max = store_hist_max_seq()) > 0 && (uint64_t)max > seq)
		seq = (uint64_t)max;
}

/* Whether folded still names the registered channel id. */
static bool
chan_still(const char *folded, int64_t id)
{
	struct store_chan sc;
	int rc = store_chan_get(folded, &sc);

	return rc == -1 || (rc == 1 && sc.id == id);	/* -1: keep, logged */
}

/*
 * An account's drop took the channels it founded with it (ON DELETE
 * CASCADE): their rings are forgotten and live channels no longer
 * saved, so a later channel given a reused id never adopts them. Rare
 * (NickServ DROP), so one pass over registered channels is fine.
 */
static void
forget_orphans(void)
{
	struct hent *e, *next;
	struct chan *ch;
	size_t i;
	char fz[CHANLEN_MAX + 1];

	for (i = 0; prings_init && i < prings.nb; i++)
		for (e = prings.b[i]; e != NULL; e = next) {
			struct pring *p = (struct pring *)(void *)e;

			next = e->next;
			if (p->key[0] == 'c' && !chan_still(p->name,
			    strtoll(p->key + 1, NULL, 10)))
				pring_drop(p->key);
		}
	for (i = 0; i < irc.chans.nb; i++)
		for (e = irc.chans.b[i]; e != NULL; e = e->next) {
			ch = (struct chan *)(void *)e;
			irc_fold(fz, ch->name, sizeof(fz));
			if (ch->reg_id != 0 && !chan_still(fz, ch->reg_id))
				ch->reg_id = 0;
		}
}

/* ChanServ DROP of channel id, NickServ DROP of account id: forget. */
void
irc_hist_forget(int64_t channel, int64_t account)
{
	char key[24];

	if (prings_init) {
		pring_key(key, sizeof(key), channel != 0 ? 'c' : 'a',
		    channel != 0 ? channel : account);
		pring_drop(key);
	}
	if (account != 0)
		forget_orphans();
}

/*
 * Whether a TAGMSG with client-only tags ctags ("+a=1;+b") is kept:
 * one of them is named in history.tagmsg-storage (as Ergo's whitelist:
 * reactions are, typing notifications would push real messages out).
 */
static bool
tagmsg_kept(const char *ctags)
{
	const char *p, *w, *list = conf->history.tagmsg_tags;
	size_t n, kn, wn;

	for (p = ctags; p != NULL && *p != '\0'; p += n + (p[n] != '\0')) {
		n = strcspn(p, ";");
		kn = strcspn(p, "=;");
		for (w = list; w != NULL && *w != '\0'; w += strspn(w, " ")) {
			wn = strcspn(w, " ");
			if (wn == kn && strncmp(w, p, kn) == 0)
				return true;
			w += wn;
		}
	}
	return false;
}

/* The msgid and time of ev into tmpl, made here where ev has none. */
static void
stamp(struct hmsg *tmpl, const struct irc_ev *ev)
{
	tmpl->seq = ++seq;
	if (ev != NULL && ev->time[0] != '\0' &&
	    irc_time_parse(ev->time, &tmpl->ms))
		snprintf(tmpl->time, sizeof(tmpl->time), "%s", ev->time);
	else {
		tmpl->ms = irc_time_now_ms();
		irc_time_format(tmpl->time, sizeof(tmpl->time), tmpl->ms);
	}
	if (ev != NULL && ev->msgid[0] != '\0')
		snprintf(tmpl->msgid, sizeof(tmpl->msgid), "%s", ev->msgid);
	else
		msgid_make(tmpl->msgid, sizeof(tmpl->msgid));
}

/*
 * Records a PRIVMSG, NOTICE or TAGMSG that was delivered: from c to
 * channel ch, or (ch NULL) to the client to. ev, if not NULL, is the
 * relayed event: its msgid, time and client-only tags are kept (and the
 * sender's account and bot mode), so history shows what the recipients
 * saw. Without one, a msgid and time are made here.
 */
void
irc_hist_add(struct client *c, struct chan *ch, struct client *to,
    const char *cmd, const char *text, const struct irc_ev *ev)
{
	struct hmsg tmpl, *m;
	const char *ctags = NULL;
	char src[NICKLEN_MAX + 256];

	if (!conf->history.enabled || (ch == NULL && to == NULL))
		return;
	if (ch != NULL ? conf->history.channel_length == 0 :
	    conf->history.client_length == 0)
		return;
	memset(&tmpl, 0, sizeof(tmpl));
	tmpl.kind = strcmp(cmd, "NOTICE") == 0 ? HK_NOTICE :
	    strcmp(cmd, "TAGMSG") == 0 ? HK_TAGMSG : HK_PRIVMSG;
	if (tmpl.kind == HK_TAGMSG && (ev == NULL || !tagmsg_kept(ev->ctags)))
		return;
	stamp(&tmpl, ev);
	if (ev != NULL)
		ctags = ev->ctags;
	snprintf(src, sizeof(src), "%s", irc_prefix(c));
	if (ch != NULL) {
		if ((m = hmsg_new(&tmpl, c, src, ch->name, NULL, text,
		    ctags)) != NULL)
			chan_push(ch, m);
		return;
	}
	/* a DM: one copy in each party's ring, one if c wrote to itself */
	if ((m = hmsg_new(&tmpl, c, src, to->nick, to->nick, text,
	    ctags)) != NULL)
		dm_push(c, m);
	if (to != c && (m = hmsg_new(&tmpl, c, src, to->nick, c->nick, text,
	    ctags)) != NULL)
		dm_push(to, m);
}

/*
 * draft/event-playback: an event line ev (JOIN, PART, KICK, TOPIC,
 * MODE...) that went to the members of ch is kept in ch's history, for
 * clients that asked for events.
 */
void
irc_hist_event(struct chan *ch, const struct irc_ev *ev)
{
	struct hmsg tmpl, *m;
	char line[IRC_RELAY_MAX + 1];
	size_t n = ev->blen;

	if (!conf->history.enabled || conf->history.channel_length == 0 ||
	    n < 2 || n > IRC_RELAY_MAX)
		return;
	memcpy(line, ev->body, n - 2);		/* without CRLF */
	line[n - 2] = '\0';
	memset(&tmpl, 0, sizeof(tmpl));
	stamp(&tmpl, ev);
	tmpl.kind = HK_EVENT;
	if ((m = hmsg_new(&tmpl, ev->from, "", ch->name, NULL, line,
	    NULL)) != NULL)
		chan_push(ch, m);
}

/* An event of c (QUIT, NICK) that went to its channels: one entry each
 * (none in a +u channel where c is a plain member). */
void
irc_hist_peers_event(struct client *c, const struct irc_ev *ev)
{
	struct member *mb;

	for (mb = c->chans; mb != NULL; mb = mb->unext)
		/* +u keeps a plain member's QUIT and NICK out, as its JOIN */
		if (!(mb->ch->modes & CMODE_AUDITORIUM) || mb->modes != 0)
			irc_hist_event(mb->ch, ev);
}

/* A registered channel's ring is parked for when it comes back. */
void
irc_hist_chan_free(struct chan *ch)
{
	struct pring *p;
	char key[24];

	if (ch->hist != NULL && ch->reg_id != 0 && persisting()) {
		pring_key(key, sizeof(key), 'c', ch->reg_id);
		if ((p = pring_get(key, true)) != NULL && p->hist == NULL) {
			irc_fold(p->name, ch->name, sizeof(p->name));
			p->hist = ch->hist;
			ch->hist = NULL;
			return;
		}
	}
	hist_free(ch->hist);
	ch->hist = NULL;
}

void
irc_hist_client_free(struct client *c)
{
	if (c->ext == IRC_CX_NONE)
		return;
	hist_free(c->ext->hist);
	c->ext->hist = NULL;
}

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
has(const struct client *c, uint32_t cap)
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
		struct hmsg *m = slot_at(h, i - 1);

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
chan_cutoff_ms(const struct chan *ch, const struct client *c)
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
		cutoff = chan_cutoff_ms(ch, c);
		h = *chan_hist(ch);
		if (h != NULL)
			hist_trim(h, conf->history.channel_length);
	} else {
		if (strcmp(target, "*") == 0)
			all = true;
		else if (!irc_nick_valid(target))
			return false;
		h = *dm_hist(c);
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
		struct hmsg *m = slot_at(h, i);

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
	dm = *dm_hist(c);
	max = c->nchans + (dm != NULL ? dm->n : 0);
	if (max > 0 && (t = calloc(max, sizeof(*t))) == NULL) {
		fail(c, "MESSAGE_ERROR", sub, "*",
		    "Messages could not be retrieved");
		return;
	}
	/* channels c is in: their latest message */
	for (mb = c->chans; mb != NULL; mb = mb->unext) {
		struct hist *h = *chan_hist(mb->ch);
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
			struct hmsg *hm = slot_at(dm, i - 1);
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
	struct hist *h = *chan_hist(ch);
	struct hmsg **v;
	int64_t cutoff;
	/* NickServ SET AUTOREPLAY-LINES, else the config's */
	int arl = c->ext->account_arl;
	size_t n = 0, i, want = c->account != NULL && arl >= 0 ?
	    (size_t)arl : conf->history.autoreplay;

	/* a PLAY just before this JOIN says what it wants (Textual) */
	if (has(c, CAP_ZNC_PLAYBACK) && conf->history.enabled &&
	    znc_join(c, ch))
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
	cutoff = chan_cutoff_ms(ch, c);
	for (i = h->n; i > 0 && n < want; i--) {
		struct hmsg *m = slot_at(h, i - 1);

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
	return missed_peer(h, since_ms, until_ms, max, events, NULL, vp);
}

/* The same, of the direct messages with peer only (NULL: all). */
static size_t
missed_peer(struct hist *h, int64_t since_ms, int64_t until_ms, size_t max,
    bool events, const char *peer, struct hmsg ***vp)
{
	struct hmsg **v;
	size_t n = 0, i, first, last;

	*vp = NULL;
	if (h == NULL || h->n == 0 || max == 0)
		return 0;
	/* [since, until]; until 0: up to now */
	for (last = h->n; last > 0 && until_ms > 0 &&
	    slot_at(h, last - 1)->ms > until_ms; last--)
		;
	for (first = last; first > 0 && n < max; first--) {
		struct hmsg *m = slot_at(h, first - 1);

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
		struct hmsg *m = slot_at(h, i);

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
		if (*chan_hist(mb->ch) != NULL)
			hist_trim(*chan_hist(mb->ch),
			    conf->history.channel_length);
		cutoff = chan_cutoff_ms(mb->ch, c);
		if ((n = missed_of(*chan_hist(mb->ch), since_ms > cutoff ?
		    since_ms : cutoff, 0, lines, events, &v)) > 0)
			replay(c, mb->ch->name, v, 0, n, true);
		free(v);
	}
	if (*dm_hist(c) != NULL)
		hist_trim(*dm_hist(c), conf->history.client_length);
	if ((n = missed_of(*dm_hist(c), since_ms, 0, lines, false, &v)) > 0)
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
znc_session_free(struct session *s)
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
znc_join(struct client *c, struct chan *ch)
{
	struct znc_play *z = irc_sess(c) != NULL ? irc_sess(c)->x->znc : NULL;
	struct hmsg **v;
	int64_t cutoff;
	size_t n;

	if (z == NULL || ergo_now_ms - (uint64_t)z->set_ms > ZNC_WINDOW_MS ||
	    !znc_named(z->targets, ch->name))
		return false;
	cutoff = chan_cutoff_ms(ch, c);
	if ((n = missed_of(*chan_hist(ch), z->after > cutoff ? z->after :
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
		if (missed_match(slot_at(h, i - 1), false, peer))
			return slot_at(h, i - 1)->ms;
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
	struct hist *h = *dm_hist(c);
	const char *seen[64];
	size_t i, k, nseen = 0;
	int64_t ms;

	for (mb = c->chans; mb != NULL; mb = mb->unext)
		if ((ms = newest_ms(*chan_hist(mb->ch), NULL)) > 0)
			znc_list_line(c, mb->ch->name, ms);
	for (i = h != NULL ? h->n : 0; i > 0 && nseen < 64; i--) {
		struct hmsg *m = slot_at(h, i - 1);

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
		znc_session_free(ss);
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
		cutoff = chan_cutoff_ms(mb->ch, c);
		if ((n = missed_of(*chan_hist(mb->ch), after > cutoff ? after :
		    cutoff, before, conf->history.channel_length, false,
		    &v)) > 0)
			replay(c, mb->ch->name, v, 0, n, true);
		free(v);
	}
	if (all) {
		if ((n = missed_of(*dm_hist(c), after, before,
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
		if ((n = missed_peer(*dm_hist(c), after, before,
		    conf->history.client_length, false, t, &v)) > 0)
			replay(c, t, v, 0, n, true);
		free(v);
	}
}

/* ---- draft/message-redaction ---- */

/*
 * The PRIVMSG, NOTICE or TAGMSG msgid in ch's history, or (ch NULL) in
 * c's direct messages with peer (NULL: with anyone): into *out, its sender and when it was
 * sent. Then, if remove, every entry with that msgid (a multiline
 * message has one per line) is dropped, so CHATHISTORY leaves it out.
 * false if it is not (or no longer) kept.
 */
bool
irc_hist_redact(struct chan *ch, struct client *c, const char *peer,
    const char *msgid, bool remove, struct hist_info *out)
{
	struct hist *h = ch != NULL ? *chan_hist(ch) : *dm_hist(c);
	struct hmsg *m;
	size_t i, k;
	bool found = false;

	if (h == NULL)
		return false;
	for (i = 0; i < h->n && !found; i++) {
		m = slot_at(h, i);
		if (m->kind == HK_EVENT || strcmp(m->msgid, msgid) != 0 ||
		    (ch == NULL && peer != NULL && (m->peer == NULL ||
		    irc_casecmp(m->peer, peer) != 0)))
			continue;
		found = true;
		snprintf(out->source, sizeof(out->source), "%s", m->source);
		snprintf(out->account, sizeof(out->account), "%s",
		    m->account != NULL ? m->account : "");
		out->ms = m->ms;
	}
	if (!found || !remove)
		return found;
	/* keep the others in order, closing the gaps */
	for (i = k = 0; i < h->n; i++) {
		m = slot_at(h, i);
		if (m->kind != HK_EVENT && strcmp(m->msgid, msgid) == 0) {
			entry_drop(m);
			continue;
		}
		h->slot[(h->head + k++) % h->cap] = m;
	}
	for (i = k; i < h->n; i++)
		h->slot[(h->head + i) % h->cap] = NULL;
	h->n = k;
	/* a saved ring: the queue first, so no queued copy comes back */
	if (persisting() && (ch != NULL ? ch->reg_id != 0 :
	    h != c->ext->hist)) {
		irc_hist_flush();
		(void)store_hist_redact(ch != NULL ? ch->reg_id : 0,
		    ch != NULL ? 0 : c->account_id, msgid);
	}
	return true;
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
	struct hist *h = ch != NULL ? *chan_hist(ch) : *dm_hist(c);
	struct hist_info hi;
	struct hmsg *m;
	int64_t cutoff = ch != NULL ? chan_cutoff_ms(ch, c) : 0;
	size_t i, n = 0;

	if (h == NULL)
		return;
	for (i = h->n; i > 0 && n < limit; i--) {
		if (slot_at(h, i - 1)->ms < cutoff)
			break;
		if (play_match(slot_at(h, i - 1), ch, peer))
			n++;
	}
	for (; i < h->n; i++) {
		m = slot_at(h, i);
		if (!play_match(m, ch, peer))
			continue;
		snprintf(hi.source, sizeof(hi.source), "%s", m->source);
		snprintf(hi.account, sizeof(hi.account), "%s",
		    m->account != NULL ? m->account : "");
		hi.ms = m->ms;
		fn(arg, &hi, m->text);
	}
}

/* Drops the entries of ring h the account sent; how many went. */
static size_t
ring_forget(struct hist *h, const char *account)
{
	struct hmsg *m;
	size_t i, k, n = 0;

	for (i = k = 0; i < h->n; i++) {
		m = slot_at(h, i);
		if (m->account != NULL && irc_casecmp(m->account, account) == 0) {
			entry_drop(m);
			n++;
			continue;
		}
		h->slot[(h->head + k++) % h->cap] = m;
	}
	for (i = k; i < h->n; i++)
		h->slot[(h->head + i) % h->cap] = NULL;
	h->n = k;
	return n;
}

/*
 * HistServ FORGET (irc_hooks.hist_forget_account): every message the
 * account sent, in every ring (found through the list of all entries:
 * a ring is compacted once, then the walk starts again) and saved.
 */
static size_t
hist_forget_account(const char *account)
{
	struct hmsg *m;
	size_t n = 0;

	for (m = g_head; m != NULL; ) {
		if (m->account == NULL || m->ring == NULL ||
		    irc_casecmp(m->account, account) != 0) {
			m = m->gnext;
			continue;
		}
		n += ring_forget(m->ring, account);
		m = g_head;
	}
	if (persisting()) {
		irc_hist_flush();	/* no queued copy comes back */
		(void)store_hist_forget(account);
	}
	return n;
}

/*
 * HistServ EXPORT (irc_hooks.hist_export_account): every message the
 * account sent, kept in memory (all entries are on one list), then the
 * saved ones (the queue written first, so none is missed); repeats are
 * the caller's to drop, by msgid. How many were given.
 */
static size_t
hist_export_account(const char *account,
    void (*fn)(void *, const struct store_hrow *), void *arg)
{
	struct store_hrow r;
	struct hmsg *m;
	size_t n = 0;
	int rc;

	for (m = g_head; m != NULL; m = m->gnext) {
		if (m->account == NULL || m->ring == NULL ||
		    irc_casecmp(m->account, account) != 0)
			continue;
		memset(&r, 0, sizeof(r));
		r.ms = m->ms;
		r.kind = m->kind;
		r.bot = m->bot;
		r.msgid = m->msgid;
		r.time = m->time;
		r.source = m->source;
		r.target = m->target;
		r.peer = m->peer;
		r.text = m->text;
		r.ctags = m->ctags;
		r.acct_tag = m->account;
		fn(arg, &r);
		n++;
	}
	if (persisting()) {
		irc_hist_flush();
		if ((rc = store_hist_export(account, fn, arg)) > 0)
			n += (size_t)rc;
	}
	return n;
}
