/*
 * store_chan.c: registered channels (ChanServ), K-lines and D-lines, and the meta table of small server-wide values. Part of the store (store_int.h): SQL only, every parameter
 * bound, no protocol state.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "ergo.h"
#include "store.h"
#include "log.h"
#include "store_int.h"

/* ---- registered channels ---- */

int
store_chan_get(const char *folded, struct store_chan *ch)
{
	sqlite3_stmt	*st;
	const unsigned char *t;
	int		 rc;

	if ((st = q(Q_CHAN_GET)) == NULL ||
	    q_bind(st, "channel lookup", Q_ARGS(QT(folded))) == -1)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(ch, 0, sizeof(*ch));
		ch->id = sqlite3_column_int64(st, 0);
		if ((t = sqlite3_column_text(st, 1)) != NULL)
			snprintf(ch->name, sizeof(ch->name), "%s",
			    (const char *)t);
		ch->founder = sqlite3_column_int64(st, 2);
		if ((t = sqlite3_column_text(st, 3)) != NULL)
			snprintf(ch->founder_name, sizeof(ch->founder_name),
			    "%s", (const char *)t);
		ch->registered = (time_t)sqlite3_column_int64(st, 4);
		if ((t = sqlite3_column_text(st, 5)) != NULL)
			snprintf(ch->modes, sizeof(ch->modes), "%s",
			    (const char *)t);
		if ((t = sqlite3_column_text(st, 6)) != NULL)
			snprintf(ch->key, sizeof(ch->key), "%s",
			    (const char *)t);
		ch->limit = (unsigned)sqlite3_column_int64(st, 7);
		if ((t = sqlite3_column_text(st, 8)) != NULL)
			snprintf(ch->topic, sizeof(ch->topic), "%s",
			    (const char *)t);
		if ((t = sqlite3_column_text(st, 9)) != NULL)
			snprintf(ch->topic_by, sizeof(ch->topic_by), "%s",
			    (const char *)t);
		ch->topic_time = (time_t)sqlite3_column_int64(st, 10);
		ch->history = sqlite3_column_int(st, 11);
		ch->query_cutoff = sqlite3_column_int(st, 12);
		if ((t = sqlite3_column_text(st, 13)) != NULL)
			snprintf(ch->forward, sizeof(ch->forward), "%s",
			    (const char *)t);
	} else if (rc != SQLITE_DONE)
		store_fail("channel lookup");
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
store_chan_create(const char *folded, struct store_chan *ch)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = q(Q_CHAN_INSERT)) == NULL ||
	    q_bind(st, "channel register", Q_ARGS(QT(folded), QT(ch->name),
	    QI(ch->founder), QI((sqlite3_int64)ch->registered))) == -1)
		return -1;
	if ((rc = q_unique(st, "channel register")) != 0)
		return rc;
	ch->id = sqlite3_last_insert_rowid(store_db);
	return 0;
}

/* One id-keyed UPDATE/DELETE with an optional second integer. */
static int
id_update(int id, int64_t a, int64_t b, bool two, const char *what)
{
	const struct qarg args[] = { QI(a), QI(b) };

	return q_exec(id, what, args, two ? 2 : 1);
}

/* The same with three integers (id, then two values). */
static int
id_update3(int id, int64_t a, int64_t b, int64_t c, const char *what)
{
	return q_exec(id, what, Q_ARGS(QI(a), QI(b), QI(c)));
}

int
store_chan_delete(int64_t id)
{
	return id_update(Q_CHAN_DELETE, id, 0, false, "channel drop");
}

/* How many channels account founded, or -1. */
int
store_chan_count(int64_t account)
{
	sqlite3_stmt	*st;
	int		 rc, n = -1;

	if ((st = q(Q_CHAN_COUNT)) == NULL ||
	    q_bind(st, "channel count", Q_ARGS(QI(account))) == -1)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	else
		store_fail("channel count");
	sqlite3_reset(st);
	return n;
}

int
store_chan_founder(int64_t id, int64_t account)
{
	return id_update(Q_CHAN_FOUNDER, id, account, true,
	    "channel transfer");
}

/* RENAME: registered channel id is now folded (shown as display). */
int
store_chan_rename(int64_t id, const char *folded, const char *display)
{
	return q_exec(Q_CHAN_RENAME, "channel rename", Q_ARGS(QI(id),
	    QT(folded), QT(display)));
}

int
store_amode_set(int64_t chan, int64_t account, int mode)
{
	sqlite3_stmt	*st;
	char		 m[2] = { (char)mode, '\0' };

	if (mode == 0)
		return id_update(Q_AMODE_DELETE, chan, account, true,
		    "amode");
	if ((st = q(Q_AMODE_SET)) == NULL ||
	    q_bind(st, "amode", Q_ARGS(QI(chan), QI(account), QTL(m, 1))) == -1)
		return -1;
	return q_done(st, "amode");
}

int
store_amode_get(int64_t chan, int64_t account)
{
	sqlite3_stmt	*st;
	const unsigned char *t;
	int		 rc, mode = 0;

	if ((st = q(Q_AMODE_GET)) == NULL ||
	    q_bind(st, "amode lookup", Q_ARGS(QI(chan), QI(account))) == -1)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && (t = sqlite3_column_text(st, 0)) != NULL)
		mode = t[0];
	else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		store_fail("amode lookup");
		mode = -1;
	}
	sqlite3_reset(st);
	return mode;
}

int
store_amode_list(int64_t chan, void (*fn)(void *, const char *, int),
    void *arg)
{
	sqlite3_stmt	*st;
	const unsigned char *name, *mode;
	int		 rc, n = 0;

	if ((st = q(Q_AMODE_LIST)) == NULL ||
	    q_bind(st, "amode list", Q_ARGS(QI(chan))) == -1)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((name = sqlite3_column_text(st, 0)) != NULL &&
		    (mode = sqlite3_column_text(st, 1)) != NULL) {
			fn(arg, (const char *)name, mode[0]);
			n++;
		}
	if (rc != SQLITE_DONE) {
		store_fail("amode list");
		n = -1;
	}
	sqlite3_reset(st);
	return n;
}

int
store_amode_clear(int64_t chan)
{
	return id_update(Q_AMODE_CLEAR, chan, 0, false, "amode clear");
}

int
store_chan_settings(int64_t id, int history, int cutoff)
{
	return id_update3(Q_CHAN_SETTINGS, id, history, cutoff,
	    "channel settings");
}

/* fn(arg, first column) for each row of a one-text-column query. */
static int
names_list(int id, void (*fn)(void *, const char *), void *arg,
    const char *what)
{
	sqlite3_stmt	*st;
	const unsigned char *t;
	int		 rc, n = 0;

	if ((st = q(id)) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((t = sqlite3_column_text(st, 0)) != NULL) {
			fn(arg, (const char *)t);
			n++;
		}
	if (rc != SQLITE_DONE) {
		store_fail(what);
		n = -1;
	}
	sqlite3_reset(st);
	return n;
}

int
store_chan_list(void (*fn)(void *, const char *), void *arg)
{
	return names_list(Q_CHAN_LIST, fn, arg, "channel list");
}

int
store_purge_list(void (*fn)(void *, const char *), void *arg)
{
	return names_list(Q_PURGE_LIST, fn, arg, "purge list");
}

int
store_purge_add(const char *folded, const struct store_purge *p)
{
	return q_exec(Q_PURGE_ADD, "purge", Q_ARGS(QT(folded), QT(p->name),
	    QT(p->oper), QT(p->reason), QI((sqlite3_int64)p->when)));
}

/* 1 removed, 0 there was none, -1 error */
int
store_purge_del(const char *folded)
{
	sqlite3_stmt	*st;

	if ((st = q(Q_PURGE_DEL)) == NULL ||
	    q_bind(st, "unpurge", Q_ARGS(QT(folded))) == -1)
		return -1;
	if (q_done(st, "unpurge") == -1)
		return -1;
	return sqlite3_changes(store_db) > 0;
}

int
store_purge_get(const char *folded, struct store_purge *p)
{
	sqlite3_stmt	*st;
	const unsigned char *t;
	int		 rc, found = 0;

	if ((st = q(Q_PURGE_GET)) == NULL ||
	    q_bind(st, "purge lookup", Q_ARGS(QT(folded))) == -1)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(p, 0, sizeof(*p));
		if ((t = sqlite3_column_text(st, 0)) != NULL)
			snprintf(p->name, sizeof(p->name), "%s",
			    (const char *)t);
		if ((t = sqlite3_column_text(st, 1)) != NULL)
			snprintf(p->oper, sizeof(p->oper), "%s",
			    (const char *)t);
		if ((t = sqlite3_column_text(st, 2)) != NULL)
			snprintf(p->reason, sizeof(p->reason), "%s",
			    (const char *)t);
		p->when = (time_t)sqlite3_column_int64(st, 3);
		found = 1;
	} else if (rc != SQLITE_DONE) {
		store_fail("purge lookup");
		found = -1;
	}
	sqlite3_reset(st);
	return found;
}

/* HistServ FORGET: every saved message the account sent. */
int
store_hist_forget(const char *account)
{
	sqlite3_stmt	*st;

	if ((st = q(Q_HIST_FORGET)) == NULL ||
	    q_bind(st, "history forget", Q_ARGS(QT(account))) == -1)
		return -1;
	return q_done(st, "history forget");
}

/* An account's vhost (NULL or "" for none) and whether it is on. */
int
store_account_vhost(int64_t id, const char *vhost, bool on)
{
	return q_exec(Q_ACCOUNT_VHOST, "vhost", Q_ARGS(QI(id), QTE(vhost),
	    QI(on)));
}

/* Saves ch's modes, key, limit and topic (ch->id names the row). */
int
store_chan_state(const struct store_chan *ch)
{
	return q_exec(Q_CHAN_STATE, "channel state", Q_ARGS(QI(ch->id),
	    QT(ch->modes), QTE(ch->key), QI((sqlite3_int64)ch->limit),
	    QTE(ch->topic), QTE(ch->topic_by),
	    QI((sqlite3_int64)ch->topic_time), QTE(ch->forward)));
}

/*
 * Calls fn for each +b +e +I entry kept for channel chan, list by list
 * ('I', 'b', 'e'), each in the order it was set. 0 or -1.
 */
int
store_chan_masks(int64_t chan, void (*fn)(void *, char list,
    const char *mask, const char *setter, time_t when), void *arg)
{
	sqlite3_stmt	*st;
	const unsigned char *l, *m, *w;
	int		 rc;

	if ((st = q(Q_CHAN_MASKS)) == NULL ||
	    q_bind(st, "channel lists", Q_ARGS(QI(chan))) == -1)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		l = sqlite3_column_text(st, 0);
		m = sqlite3_column_text(st, 1);
		w = sqlite3_column_text(st, 2);
		if (l != NULL && m != NULL && w != NULL)
			fn(arg, (char)l[0], (const char *)m, (const char *)w,
			    (time_t)sqlite3_column_int64(st, 3));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_fail("channel lists");
		return -1;
	}
	return 0;
}

/*
 * Replaces the +b +e +I entries kept for channel chan with the n of v
 * (each list's in the order given), in one transaction. 0 or -1.
 */
int
store_chan_masks_save(int64_t chan, const struct store_mask *v, size_t n)
{
	char		 l[2] = { '\0', '\0' };
	size_t		 i;

	if (tx_begin() == -1)
		return -1;
	if (id_update(Q_CHAN_MASKS_CLEAR, chan, 0, false, "channel lists") ==
	    -1)
		goto fail;
	for (i = 0; i < n; i++) {
		l[0] = v[i].list;
		if (q_exec(Q_CHAN_MASK_ADD, "channel lists", Q_ARGS(QI(chan),
		    QTL(l, 1), QI((sqlite3_int64)i), QT(v[i].mask),
		    QT(v[i].setter), QI((sqlite3_int64)v[i].when))) == -1)
			goto fail;
	}
	return tx_commit();
fail:
	tx_rollback();
	return -1;
}

/* ---- K-lines and D-lines ---- */

/* Adds b, or replaces the ban of the same kind and mask. 0 or -1. */
int
store_ban_set(const struct store_ban *b)
{
	sqlite3_stmt	*st;
	char		 k[2] = { b->kind, '\0' };

	if ((st = q(Q_BAN_SET)) == NULL ||
	    q_bind(st, "ban add", Q_ARGS(QTL(k, 1), QT(b->mask), QT(b->reason),
	    QT(b->setter), QI((sqlite3_int64)b->set_at),
	    QI((sqlite3_int64)b->expires))) == -1)
		return -1;
	return q_done(st, "ban add");
}

/* 0 removed, 1 there was none, -1 error. */
int
store_ban_del(int kind, const char *mask)
{
	sqlite3_stmt	*st;
	char		 k[2] = { (char)kind, '\0' };

	if ((st = q(Q_BAN_DELETE)) == NULL ||
	    q_bind(st, "ban remove", Q_ARGS(QTL(k, 1), QT(mask))) == -1)
		return -1;
	if (q_done(st, "ban remove") == -1)
		return -1;
	return sqlite3_changes(store_db) > 0 ? 0 : 1;
}

/*
 * A ban lasts through the second it expires in: ergo_now is whole
 * seconds read when the loop's pass began, so the second a ban was set
 * in may be nearly over (under load a "2s" D-line set at x.99 went at
 * x+1.00); with "expires >= now" a ban of N seconds lasts at least N,
 * and every caller passing ergo_now agrees on when it ends.
 */
/* fn(arg, ban) for each ban not expired at now; count, or -1. */
int
store_ban_list(time_t now, void (*fn)(void *, const struct store_ban *),
    void *arg)
{
	sqlite3_stmt	*st;
	struct store_ban b;
	const unsigned char *t;
	int		 rc, n = 0;

	if ((st = q(Q_BAN_LIST)) == NULL ||
	    q_bind(st, "ban list", Q_ARGS(QI((sqlite3_int64)now))) == -1)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&b, 0, sizeof(b));
		if ((t = sqlite3_column_text(st, 0)) == NULL ||
		    strchr("kdsa", t[0]) == NULL || t[0] == '\0')
			continue;
		b.kind = (char)t[0];
		if ((t = sqlite3_column_text(st, 1)) == NULL)
			continue;
		snprintf(b.mask, sizeof(b.mask), "%s", (const char *)t);
		if ((t = sqlite3_column_text(st, 2)) != NULL)
			snprintf(b.reason, sizeof(b.reason), "%s",
			    (const char *)t);
		if ((t = sqlite3_column_text(st, 3)) != NULL)
			snprintf(b.setter, sizeof(b.setter), "%s",
			    (const char *)t);
		b.set_at = (time_t)sqlite3_column_int64(st, 4);
		b.expires = (time_t)sqlite3_column_int64(st, 5);
		fn(arg, &b);
		n++;
	}
	if (rc != SQLITE_DONE) {
		store_fail("ban list");
		n = -1;
	}
	sqlite3_reset(st);
	return n;
}

/* The ban of kind and mask not expired at now into *b: 1, 0, -1. */
int
store_ban_get(int kind, const char *mask, time_t now, struct store_ban *b)
{
	sqlite3_stmt	*st;
	const unsigned char *t;
	char		 k[2] = { (char)kind, '\0' };
	int		 rc;

	if ((st = q(Q_BAN_GET)) == NULL ||
	    q_bind(st, "ban lookup", Q_ARGS(QTL(k, 1), QT(mask),
	    QI((sqlite3_int64)now))) == -1)
		return -1;
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return 0;
		store_fail("ban lookup");
		return -1;
	}
	memset(b, 0, sizeof(*b));
	b->kind = (char)kind;
	snprintf(b->mask, sizeof(b->mask), "%s", col_str(st, 1));
	snprintf(b->reason, sizeof(b->reason), "%s", col_str(st, 2));
	snprintf(b->setter, sizeof(b->setter), "%s", col_str(st, 3));
	b->set_at = (time_t)sqlite3_column_int64(st, 4);
	b->expires = (time_t)sqlite3_column_int64(st, 5);
	if ((t = sqlite3_column_text(st, 0)) == NULL || t[0] != kind)
		rc = 0;
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : 0;
}

/* Deletes the bans expired at now; 0 or -1. */
int
store_ban_expire(time_t now)
{
	return id_update(Q_BAN_EXPIRE, (int64_t)now, 0, false, "ban expiry");
}

/* ---- meta: small server-wide values (the cloak secret) ---- */

/* The value of key in meta into buf: 1, 0 if there is none, -1 (logged). */
int
store_meta_get(const char *key, char *buf, size_t sz)
{
	sqlite3_stmt *st;
	const unsigned char *t;
	int rc, found = 0;

	if ((st = q(Q_META_GET)) == NULL ||
	    q_bind(st, "meta", Q_ARGS(QT(key))) == -1)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((t = sqlite3_column_text(st, 0)) != NULL) {
			snprintf(buf, sz, "%s", (const char *)t);
			found = 1;
		}
	} else if (rc != SQLITE_DONE) {
		store_fail("meta");
		found = -1;
	}
	sqlite3_reset(st);
	return found;
}

/* Sets key in meta to value, committed; 0 or -1 (logged). */
int
store_meta_set(const char *key, const char *value)
{
	sqlite3_stmt *st;

	if ((st = q(Q_META_SET)) == NULL ||
	    q_bind(st, "meta", Q_ARGS(QT(key), QT(value))) == -1)
		return -1;
	return q_done(st, "meta");
}
