/*
 * store_hist.c: persistent history (irc_hist.c batches the writes), read markers, accounts' metadata and the codes sent by mail. Part of the store (store_int.h): SQL only, every parameter
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

/* ---- persistent history (irc_hist.c batches the writes) ---- */

/* Like store_fail, but silent: irc_hist.c logs a failing batch once. */
static void
hist_fail(void)
{
	snprintf(store_errbuf, sizeof(store_errbuf), "%s", sqlite3_errmsg(store_db));
}

static int	hist_write_tx(const struct store_hrow *, size_t);

/* One row. */
static int
hist_row_write(const struct store_hrow *r)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = q(Q_HIST_INSERT)) == NULL ||
	    q_bind(st, "history", Q_ARGS(QIZ(r->channel), QIZ(r->account),
	    QI((sqlite3_int64)r->seq), QI(r->ms), QI(r->kind), QI(r->bot),
	    QT(r->msgid), QT(r->time), QT(r->source), QT(r->target),
	    QTN(r->peer), QT(r->text), QTN(r->ctags), QTN(r->acct_tag))) == -1)
		return -1;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return 0;	/* a damaged row is left out */
	if (rc != SQLITE_DONE) {
		hist_fail();
		return -1;
	}
	return 0;
}

/* The rows of r's owner older than its ring's oldest (r->floor). */
static int
hist_prune(const struct store_hrow *r)
{
	sqlite3_stmt	*st;

	if ((st = q(r->channel != 0 ? Q_HIST_PRUNE_CHAN : Q_HIST_PRUNE_ACCT)) ==
	    NULL || q_bind(st, "history", Q_ARGS(QI(r->channel != 0 ?
	    r->channel : r->account), QI((sqlite3_int64)r->floor))) == -1)
		return -1;
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_reset(st);
		hist_fail();
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

/* Whether r's channel or account is still registered: 1, 0, or -1. */
static int
hist_owner(const struct store_hrow *r)
{
	sqlite3_stmt	*st;
	int		 found = -1;

	if ((st = q(Q_HIST_OWNER)) == NULL || q_bind(st, "history",
	    Q_ARGS(QIZ(r->channel), QIZ(r->account))) == -1)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		found = sqlite3_column_int(st, 0) > 0;
	else
		hist_fail();
	sqlite3_reset(st);
	return found;
}

/* Orders rows by owner, then position: the last of each owner last. */
static const struct store_hrow *sort_rows;

static bool
same_owner(const struct store_hrow *x, const struct store_hrow *y)
{
	return x->channel == y->channel && x->account == y->account;
}

static int
owner_cmp(const void *a, const void *b)
{
	const struct store_hrow *x = &sort_rows[*(const size_t *)a];
	const struct store_hrow *y = &sort_rows[*(const size_t *)b];

	if (x->channel != y->channel)
		return x->channel < y->channel ? -1 : 1;
	if (x->account != y->account)
		return x->account < y->account ? -1 : 1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

/*
 * Writes n history rows in one transaction (each also prunes its
 * owner's rows older than r->floor). 0 once committed; -1 with nothing
 * written and the reason in store_error(), not logged: the caller logs
 * a failing run of batches once.
 */
int
store_hist_write(const struct store_hrow *rows, size_t n)
{
	int		 rc;

	if (n == 0)
		return 0;
	/*
	 * History is not worth an fsync in the loop at every batch: in WAL
	 * mode a NORMAL commit is atomic and only not yet durable; the next
	 * FULL commit (any account or channel change) or checkpoint makes
	 * it so. A power cut can lose the last batches, never corrupt.
	 *
	 * Foreign keys are off for the batch (the pragma is a no-op inside
	 * a transaction, so it is set around it): their checks, a parent
	 * lookup for every row written and every row pruned, were a sixth
	 * of a batch; hist_write_tx looks each owner up once instead.
	 */
	rc = store_exec("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF")
	    == -1 ? -1 : hist_write_tx(rows, n);
	if (store_exec("PRAGMA foreign_keys=ON; PRAGMA synchronous=FULL") == -1)
		rc = -1;
	return rc;
}

static int
hist_write_tx(const struct store_hrow *rows, size_t n)
{
	sqlite3_stmt	*st;
	size_t		 i, j, k, *order;
	unsigned char	*gone;
	int		 rc;

	if ((order = malloc(n * (sizeof(*order) + 1))) == NULL) {
		snprintf(store_errbuf, sizeof(store_errbuf), "out of memory");
		return -1;
	}
	gone = (unsigned char *)(order + n);
	for (i = 0; i < n; i++) {
		order[i] = i;
		gone[i] = 0;
	}
	sort_rows = rows;
	qsort(order, n, sizeof(*order), owner_cmp);
	if ((st = q(Q_BEGIN)) == NULL)
		goto fail;
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_reset(st);
		hist_fail();
		goto fail;
	}
	sqlite3_reset(st);
	/* an owner dropped since its rows were queued: they are left out */
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && same_owner(&rows[order[j]],
		    &rows[order[i]]); j++)
			;
		if ((rc = hist_owner(&rows[order[i]])) == -1)
			goto fail;
		for (k = i; rc == 0 && k < j; k++)
			gone[order[k]] = 1;
	}
	/* in the order queued: seq rises with id (store_hist_max_seq) */
	for (i = 0; i < n; i++)
		if (!gone[i] && hist_row_write(&rows[i]) == -1)
			goto fail;
	/*
	 * One prune per owner with its last row's floor (floors only rise
	 * along a ring): the same rows go as with one per row, for a
	 * statement per channel or account instead of one per message.
	 */
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && same_owner(&rows[order[j]],
		    &rows[order[i]]); j++)
			;
		if (!gone[order[i]] && hist_prune(&rows[order[j - 1]]) == -1)
			goto fail;
	}
	if ((st = q(Q_COMMIT)) == NULL)
		goto fail;
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_reset(st);
		hist_fail();
		goto fail;
	}
	sqlite3_reset(st);
	free(order);
	return 0;
fail:
	if (!sqlite3_get_autocommit(store_db) && (st = q(Q_ROLLBACK)) != NULL) {
		(void)sqlite3_step(st);
		sqlite3_reset(st);
	}
	free(order);
	return -1;
}

static const char *
col_text(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

/* fn(arg, row) for each row st yields; count or -1. */
static int
hist_rows(sqlite3_stmt *st, void (*fn)(void *, const struct store_hrow *),
    void *arg)
{
	struct store_hrow r;
	int		 rc, n = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&r, 0, sizeof(r));
		r.channel = sqlite3_column_int64(st, 0);
		r.account = sqlite3_column_int64(st, 1);
		r.seq = (uint64_t)sqlite3_column_int64(st, 2);
		r.ms = sqlite3_column_int64(st, 3);
		r.kind = sqlite3_column_int(st, 4);
		r.bot = sqlite3_column_int(st, 5) != 0;
		r.msgid = col_text(st, 6);
		r.time = col_text(st, 7);
		r.source = col_text(st, 8);
		r.target = col_text(st, 9);
		r.peer = col_text(st, 10);
		r.text = col_text(st, 11);
		r.ctags = col_text(st, 12);
		r.acct_tag = col_text(st, 13);
		if (r.msgid == NULL || r.time == NULL || r.source == NULL ||
		    r.target == NULL || r.text == NULL ||
		    (r.channel == 0) == (r.account == 0))
			continue;	/* a damaged row is left out */
		fn(arg, &r);
		n++;
	}
	if (rc != SQLITE_DONE) {
		store_fail("history load");
		n = -1;
	}
	sqlite3_reset(st);
	return n;
}

/*
 * The newest limit rows of one ring (channel's, or account's when
 * channel is 0) from since_ms on, oldest first: one index range.
 */
int
store_hist_load_ring(int64_t channel, int64_t account, int64_t since_ms,
    unsigned limit, void (*fn)(void *, const struct store_hrow *), void *arg)
{
	sqlite3_stmt	*st;

	if ((st = q(channel != 0 ? Q_HIST_LOAD_CHAN : Q_HIST_LOAD_ACCT)) ==
	    NULL)
		return -1;
	if (q_bind(st, "history load",
	    Q_ARGS(QI(channel != 0 ? channel : account), QI(since_ms),
	    QI((sqlite3_int64)limit))) == -1)
		return -1;
	return hist_rows(st, fn, arg);
}

/* The largest seq stored (0 when none), or -1 (logged). */
int64_t
store_hist_max_seq(void)
{
	sqlite3_stmt	*st;
	int64_t		 v = -1;
	int		 rc;

	if ((st = q(Q_HIST_MAXSEQ)) == NULL)
		return -1;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);	/* NULL: 0 */
	else
		store_fail("history");
	sqlite3_reset(st);
	return v;
}

/*
 * Deletes the rows older than before_ms among the limit oldest written:
 * the number deleted (more than 0: call again), or -1 (not logged).
 */
int
store_hist_expire(int64_t before_ms, unsigned limit)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = q(Q_HIST_EXPIRE)) == NULL ||
	    q_bind(st, "history expiry", Q_ARGS(QI(before_ms),
	    QI((sqlite3_int64)limit))) == -1)
		return -1;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		hist_fail();
		return -1;
	}
	return sqlite3_changes(store_db);
}

/*
 * Deletes the rows of msgid (REDACT: every line of a multiline message)
 * that channel's or account's ring saved (the other id 0); 0, or -1
 * (logged).
 */
int
store_hist_redact(int64_t channel, int64_t account, const char *msgid)
{
	sqlite3_stmt	*st;

	if ((st = q(Q_HIST_REDACT)) == NULL ||
	    q_bind(st, "history redact", Q_ARGS(QIZ(channel), QIZ(account),
	    QT(msgid))) == -1)
		return -1;
	return q_done(st, "history redact");
}

/* ---- read markers (draft/read-marker, irc_markread.c) ---- */

/* The read marker of account for folded target: 1 and *ms, 0 none, -1. */
int
store_marker_get(int64_t account, const char *target, int64_t *ms)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = q(Q_MARKER_GET)) == NULL ||
	    q_bind(st, "read marker", Q_ARGS(QI(account), QT(target))) == -1)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ms = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		store_fail("read marker");
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Moves the marker forward to ms (never back), committed; 0 or -1. An
 * account keeps STORE_MARKERS_MAX markers, those set last: a flood of
 * MARKREADs to made-up targets cannot grow the database.
 */
int
store_marker_set(int64_t account, const char *target, int64_t ms,
    int64_t now_ms)
{
	sqlite3_stmt	*st, *tr;

	if ((st = q(Q_MARKER_SET)) == NULL || (tr = q(Q_MARKER_TRIM)) == NULL ||
	    q_bind(st, "read marker", Q_ARGS(QI(account), QT(target), QI(ms),
	    QI(now_ms))) == -1 ||
	    q_bind(tr, "read marker", Q_ARGS(QI(account),
	    QI(STORE_MARKERS_MAX))) == -1)
		return -1;
	if (tx_begin() == -1)
		return -1;
	if (q_done(st, "read marker") == -1 || q_done(tr, "read marker") == -1) {
		tx_rollback();
		return -1;
	}
	return tx_commit();
}

/* Every account's marker of target from goes to target to; 0 or -1. */
int
store_marker_rename(const char *from, const char *to)
{
	return q_exec(Q_MARKER_RENAME, "read marker rename", Q_ARGS(QT(from),
	    QT(to)));
}

/* ---- draft/metadata-2 of accounts ---- */

/*
 * draft/metadata-2 keys of an account or (chan) a registered channel:
 * fn on each, by key; the count or -1.
 */
static int
md_list(bool chan, int64_t id,
    void (*fn)(void *, const char *, const char *), void *arg)
{
	sqlite3_stmt	*st;
	const unsigned char *k, *v;
	int		 rc, n = 0;

	if ((st = q(chan ? Q_CHMD_LIST : Q_MD_LIST)) == NULL)
		return -1;
	if (q_bind(st, "metadata list", Q_ARGS(QI(id))) == -1)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((k = sqlite3_column_text(st, 0)) != NULL &&
		    (v = sqlite3_column_text(st, 1)) != NULL) {
			fn(arg, (const char *)k, (const char *)v);
			n++;
		}
	if (rc != SQLITE_DONE) {
		store_fail("metadata list");
		n = -1;
	}
	sqlite3_reset(st);
	return n;
}

/* Sets key to value (NULL: deletes it), committed; 0 or -1. */
static int
md_set(bool chan, int64_t id, const char *key, const char *value)
{
	const struct qarg args[] = { QI(id), QT(key), QT(value) };

	/* a delete binds the first two */
	return q_exec(value != NULL ? (chan ? Q_CHMD_SET : Q_MD_SET) :
	    (chan ? Q_CHMD_DEL : Q_MD_DEL), "metadata set", args,
	    value != NULL ? 3 : 2);
}

/* Deletes every key; 0 or -1. */
static int
md_clear(bool chan, int64_t id)
{
	return q_exec(chan ? Q_CHMD_CLEAR : Q_MD_CLEAR, "metadata clear",
	    Q_ARGS(QI(id)));
}

int
store_md_list(int64_t account,
    void (*fn)(void *, const char *, const char *), void *arg)
{
	return md_list(false, account, fn, arg);
}

int
store_md_set(int64_t account, const char *key, const char *value)
{
	return md_set(false, account, key, value);
}

int
store_md_clear(int64_t account)
{
	return md_clear(false, account);
}

int
store_chan_md_list(int64_t channel,
    void (*fn)(void *, const char *, const char *), void *arg)
{
	return md_list(true, channel, fn, arg);
}

int
store_chan_md_set(int64_t channel, const char *key, const char *value)
{
	return md_set(true, channel, key, value);
}

int
store_chan_md_clear(int64_t channel)
{
	return md_clear(true, channel);
}

/* ---- codes sent by mail (irc_mail.c) ---- */

/* A code's key, its kind and name, is its statement's ?1 and ?2. */
#define CODE_KEY(k, folded)	QTL((k), 1), QT(folded)

/*
 * A code of kind ('v': a registration waiting for VERIFY, with a's
 * credentials; 'r': a reset of account a->id) for the casefolded name:
 * 0 once committed, 1 if a live one is there already, -1 on error.
 * An expired one of the same name is replaced.
 */
int
store_code_put(int kind, const char *folded, const struct store_account *a,
    const char *code, time_t now, time_t expires)
{
	sqlite3_stmt	*st;
	bool		 cred = kind == 'v';
	char		 k = (char)kind;
	/* a reset leaves the credentials (?9..?12) NULL */
	const struct qarg args[] = { CODE_KEY(&k, folded), QT(a->name),
	    QI(cred ? 0 : a->id), QT(a->email), QT(code),
	    QI((sqlite3_int64)now), QI((sqlite3_int64)expires),
	    QB(a->salt, (int)a->saltlen), QI((sqlite3_int64)a->iterations),
	    QB(a->stored_key, STORE_KEYLEN), QB(a->server_key, STORE_KEYLEN) };

	if (q_exec(Q_CODE_PURGE, "code", Q_ARGS(CODE_KEY(&k, folded),
	    QI((sqlite3_int64)now))) == -1 ||
	    (st = q(Q_CODE_INSERT)) == NULL ||
	    q_bind(st, "code", args, cred ? 12 : 8) == -1)
		return -1;
	return q_unique(st, "code");
}

/*
 * The live code of kind for folded into code (hex, 65 bytes) and a
 * (display name, email, account id for 'r', credentials for 'v'),
 * *created when it was made: 1, 0 none (or expired), -1 on error.
 */
int
store_code_get(int kind, const char *folded, time_t now,
    struct store_account *a, char *code, size_t codesz, time_t *created)
{
	sqlite3_stmt	*st;
	const unsigned char *t;
	size_t		 n;
	int		 rc, found = 0;
	char		 k = (char)kind;

	if ((st = q(Q_CODE_GET)) == NULL || q_bind(st, "code lookup",
	    Q_ARGS(CODE_KEY(&k, folded), QI((sqlite3_int64)now))) == -1)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		memset(a, 0, sizeof(*a));
		a->set.autoreplay_lines = -1;
		if ((t = sqlite3_column_text(st, 0)) != NULL)
			snprintf(a->name, sizeof(a->name), "%s",
			    (const char *)t);
		a->id = sqlite3_column_int64(st, 1);
		if ((t = sqlite3_column_text(st, 2)) != NULL)
			snprintf(a->email, sizeof(a->email), "%s",
			    (const char *)t);
		code[0] = '\0';
		if ((t = sqlite3_column_text(st, 3)) != NULL)
			snprintf(code, codesz, "%s", (const char *)t);
		*created = (time_t)sqlite3_column_int64(st, 4);
		blob_copy(st, 5, a->salt, sizeof(a->salt), &a->saltlen);
		a->iterations = (unsigned)sqlite3_column_int(st, 6);
		blob_copy(st, 7, a->stored_key, sizeof(a->stored_key), &n);
		if (n != STORE_KEYLEN)
			a->iterations = 0;	/* never verifies */
		blob_copy(st, 8, a->server_key, sizeof(a->server_key), &n);
		if (n != STORE_KEYLEN)
			a->iterations = 0;
		found = 1;
	} else if (rc != SQLITE_DONE) {
		store_fail("code lookup");
		found = -1;
	}
	sqlite3_reset(st);
	return found;
}

/* 0 or -1 */
int
store_code_del(int kind, const char *folded)
{
	char	 k = (char)kind;

	return q_exec(Q_CODE_DEL, "code delete", Q_ARGS(CODE_KEY(&k,
	    folded)));
}

/* Every code expired at now: 0 or -1. */
int
store_code_expire(time_t now)
{
	return q_exec(Q_CODE_EXPIRE, "code expiry",
	    Q_ARGS(QI((sqlite3_int64)now)));
}

/* HistServ EXPORT: fn per saved row account sent,
 * oldest first; count, or -1 (logged) */
int
store_hist_export(const char *account,
    void (*fn)(void *, const struct store_hrow *), void *arg)
{
	sqlite3_stmt	*st;

	if ((st = q(Q_HIST_EXPORT)) == NULL ||
	    q_bind(st, "history export", Q_ARGS(QT(account))) == -1)
		return -1;
	return hist_rows(st, fn, arg);
}
