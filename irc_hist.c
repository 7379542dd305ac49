/*
 * irc_hist.c: message history in memory: a bounded ring per channel and
 * per client (its direct messages), their persistence, redaction and
 * HistServ's side of them; what is read back to clients (CHATHISTORY,
 * the playback on JOIN, ZNC's *playback) is irc_chathistory.c's, over
 * irc_hist_int.h. It hears of what was sent through hooks (irc_state.h)
 * and replies through irc_out.c: no sockets, no SQL.
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
#include "irc_hist_int.h"

/* Rings grow by doubling from this, up to the configured length. */
#define HIST_RING_MIN		16
#define HIST_FLUSH_MS		1000	/* most a queued row waits */
#define HIST_FLUSH_ROWS		512	/* or a batch this large */
#define HIST_HOLD_ROWS		2048	/* ...while a checkpoint runs */
#define HIST_EXPIRE_MS		60000	/* expired rows deleted this often */
#define HIST_EXPIRE_BATCH	2000	/* at most this many rows a pass */
#define HMSG_SPARE		32	/* freed entries kept for the next */
#define HMSG_SLACK(sz)		((sz) / 4 + 32)	/* most a reuse wastes */

static size_t	 hist_forget_account(const char *);
static size_t	 hist_export_account(const char *,
		    void (*)(void *, const struct store_hrow *), void *);

/* Every kept entry, in the order kept, and what they hold in all. */
static struct hmsg	*g_head, *g_tail;
static size_t		 g_bytes, g_count;
static struct htags	*tags_last;	/* made last: the next line's? */

static uint64_t		 seq;
static uint64_t		 msgid_salt, msgid_count;

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

/*
 * Rows waiting for the next batch, each pointing into its entry, which
 * it holds a reference to (q_msgs): entries do not change once kept,
 * and one that leaves its ring lives on until its row is written.
 * The two arrays stay between batches.
 */
static struct store_hrow *q_rows;
static struct hmsg	**q_msgs;
static size_t		 q_len, q_cap;

/*
 * Blocks of entries freed lately, reused by the next ones: a full ring
 * drops its oldest entry for every one it keeps, so in the steady state
 * an entry costs no malloc or free.
 */
static struct hmsg	*spare[HMSG_SPARE];
static size_t		 nspare, spare_next;
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
	if (m == NULL || --m->refs > 0)
		return;
	tags_put(m->tags);
	if (nspare < HMSG_SPARE) {
		spare[nspare++] = m;
		return;
	}
	/* full: it takes the place of an older spare, in turn */
	spare_next = (spare_next + 1) % HMSG_SPARE;
	free(spare[spare_next]);
	spare[spare_next] = m;
}

/* A block of at least sz bytes, a spare if one fits; *cap its size. */
static struct hmsg *
hmsg_alloc(size_t sz, size_t *cap)
{
	struct hmsg *m;
	size_t i;

	for (i = nspare; i-- > 0; ) {
		m = spare[i];
		if (m->size >= sz && m->size <= sz + HMSG_SLACK(sz)) {
			spare[i] = spare[--nspare];
			*cap = m->size;
			return m;
		}
	}
	*cap = sz;
	return malloc(sz);
}

struct hmsg *
hist_slot_at(const struct hist *h, size_t i)
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
	entry_drop(hist_slot_at(h, i));
	for (; i + 1 < h->n; i++)
		h->slot[(h->head + i) % h->cap] = hist_slot_at(h, i + 1);
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
		if (h->n > 0 && hist_slot_at(h, 0) == m) {
			hist_drop_oldest(h);
			continue;
		}
		for (i = 1; i < h->n && hist_slot_at(h, i) != m; i++)
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
void
hist_trim(struct hist *h, size_t max)
{
	int64_t cutoff;

	while (h->n > max)
		hist_drop_oldest(h);
	if (conf->history.expire == 0)
		return;
	cutoff = irc_time_now_ms() - (int64_t)conf->history.expire * 1000;
	while (h->n > 0 && hist_slot_at(h, 0)->ms < cutoff)
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
				ns[i] = hist_slot_at(h, i);
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

/* A copy of tmpl with the strings; acct: the sender's account tag. */
static struct hmsg *
hmsg_build(const struct hmsg *tmpl, const char *acct, const char *source,
    const char *target, const char *peer, const char *text, const char *ctags)
{
	size_t ls = strlen(source) + 1, lt = strlen(target) + 1,
	    lp = peer != NULL ? strlen(peer) + 1 : 0, lx = strlen(text) + 1,
	    la = acct != NULL ? strlen(acct) + 1 : 0, sz, cap;
	struct htags *t = NULL;
	struct hmsg *m;
	bool made = false;
	char *p;

	if (ctags != NULL && (t = tags_get(ctags, &made)) == NULL)
		return NULL;
	sz = sizeof(*m) + ls + lt + lp + lx + la;
	if ((m = hmsg_alloc(sz, &cap)) == NULL) {
		tags_put(t);
		return NULL;
	}
	*m = *tmpl;
	m->refs = 1;
	m->tags = t;
	m->ctags = t != NULL ? t->s : NULL;
	m->ring = NULL;
	m->gprev = m->gnext = NULL;
	m->size = cap;
	m->charge = cap + (made ? t->size : 0);
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
	    target, peer, text, ctags);
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
struct hist **
hist_chan(struct chan *ch)
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
struct hist **
hist_dm(struct client *c)
{
	struct hist **own = &c->ext->hist;	/* (dm_push makes c's) */
	struct pring *p;
	char key[24];

	if (c->account_id == 0 || !persisting() ||
	    irc_account_dm_history(c->ext->acset.dm_history) != DMH_ON)
		return own;
	pring_key(key, sizeof(key), 'a', c->account_id);
	if ((p = pring_get(key, true)) == NULL)
		return own;
	if (!p->loaded)
		ring_load(p, 0, c->account_id);
	return &p->hist;
}

/* Queues m for the datastore; h is the ring that kept it. */
static void
queue_row(struct hmsg *m, const struct hist *h, int64_t channel,
    int64_t account)
{
	struct store_hrow *r;

	if (q_len == q_cap) {
		size_t ncap = q_cap == 0 ? HIST_FLUSH_ROWS : q_cap * 2;
		struct store_hrow *nr;
		struct hmsg **nm;

		if ((nr = realloc(q_rows, ncap * sizeof(*nr))) == NULL) {
			log_warnx("irc", "out of memory: history entry not "
			    "saved");
			return;
		}
		q_rows = nr;
		if ((nm = realloc(q_msgs, ncap * sizeof(*nm))) == NULL) {
			log_warnx("irc", "out of memory: history entry not "
			    "saved");
			return;
		}
		q_msgs = nm;
		q_cap = ncap;
	}
	m->refs++;
	q_msgs[q_len] = m;
	r = &q_rows[q_len++];
	r->channel = channel;
	r->account = account;
	r->seq = m->seq;
	r->floor = hist_slot_at(h, 0)->seq;
	r->ms = m->ms;
	r->kind = m->kind;
	r->bot = m->bot;
	r->msgid = m->msgid;
	r->time = m->time;
	r->source = m->source;
	r->target = m->target;
	r->peer = m->peer;
	r->text = m->text;
	r->ctags = m->ctags;
	r->acct_tag = m->account;
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
	hp = hist_chan(ch);
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
	    irc_account_dm_history(c->ext->acset.dm_history) == DMH_OFF) ||
	    irc_cx(c) == NULL) {	/* (out of memory: logged) */
		hmsg_free(m);		/* the ring owns what it keeps */
		return;
	}
	hp = hist_dm(c);

	if (hist_push(hp, m, conf->history.client_length,
	    conf->history.client_bytes) &&
	    hp != &c->ext->hist && persisting())
		queue_row(m, *hp, 0, c->account_id);
}

static void
queue_free(void)
{
	size_t i;

	for (i = 0; i < q_len; i++)
		hmsg_free(q_msgs[i]);
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
	q_last_ms = ergo_now_ms;
	if (q_len == 0)
		return;
	if (store_hist_write(q_rows, q_len) == -1) {
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
	queue_free();
}

/*
 * Once a pass: the queue after HIST_FLUSH_MS, or at HIST_FLUSH_ROWS
 * (HIST_HOLD_ROWS while a checkpoint runs: the checkpoint process
 * restarts the WAL after it, a write during it prevents that; more
 * would be a batch that holds up the loop as long as a sync); expired
 * rows each minute, from the HIST_EXPIRE_BATCH oldest, the next batch
 * in the next pass while one deletes any (a day of backlog is many
 * short deletes, not one long one that holds up the loop).
 */
void
irc_hist_tick(void)
{
	int n;

	if (q_len > 0 && ((q_len >= HIST_FLUSH_ROWS && (!store_ckpt_busy() ||
	    q_len >= HIST_HOLD_ROWS)) || ergo_now_ms - q_last_ms >= HIST_FLUSH_MS))
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
	else if (n > 0)
		expire_last_ms = ergo_now_ms - HIST_EXPIRE_MS;	/* more? */
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
	    r->peer, r->text, r->ctags)) == NULL) {
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
	IRC_HOOK_ADD(dropping, hist_dropping);
	IRC_HOOK_ADD(dropped, irc_hist_forget);
	IRC_HOOK_ADD(stats_z, hist_stats_z);
	irc_hooks.hist_redact = irc_hist_redact;
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

/* s into buf of sz, cut to fit: snprintf's "%s" for every message was
 * a tenth of what history costs a message */
static void
copy_cut(char *buf, size_t sz, const char *s)
{
	size_t n = strnlen(s, sz - 1);

	memcpy(buf, s, n);
	buf[n] = '\0';
}

/* The msgid and time of ev into tmpl, made here where ev has none. */
static void
stamp(struct hmsg *tmpl, const struct irc_ev *ev)
{
	tmpl->seq = ++seq;
	if (ev != NULL && ev->time[0] != '\0' &&
	    irc_time_parse(ev->time, &tmpl->ms))
		copy_cut(tmpl->time, sizeof(tmpl->time), ev->time);
	else {
		tmpl->ms = irc_time_now_ms();
		irc_time_format(tmpl->time, sizeof(tmpl->time), tmpl->ms);
	}
	if (ev != NULL && ev->msgid[0] != '\0')
		copy_cut(tmpl->msgid, sizeof(tmpl->msgid), ev->msgid);
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
	copy_cut(src, sizeof(src), irc_prefix(c));
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
	struct hist *h = ch != NULL ? *hist_chan(ch) : *hist_dm(c);
	struct hmsg *m;
	size_t i, k;
	bool found = false;

	if (h == NULL)
		return false;
	for (i = 0; i < h->n && !found; i++) {
		m = hist_slot_at(h, i);
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
		m = hist_slot_at(h, i);
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

/* Drops the entries of ring h the account sent; how many went. */
static size_t
ring_forget(struct hist *h, const char *account)
{
	struct hmsg *m;
	size_t i, k, n = 0;

	for (i = k = 0; i < h->n; i++) {
		m = hist_slot_at(h, i);
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
