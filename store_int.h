/*
 * store_int.h: what the store's files (store.c, store_account.c,
 * store_chan.c, store_hist.c, store_ckpt.c) share: the SQLite handle,
 * the prepared statements and their binders, the error they report.
 * Nothing else includes it.
 */
#ifndef STORE_INT_H
#define STORE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <sqlite3.h>

/* Statements prepared once after the schema is current. */
enum {
	Q_BEGIN, Q_COMMIT, Q_ROLLBACK,
	Q_ACCOUNT_GET, Q_ACCOUNT_BY_CERTFP, Q_NICK_OWNER,
	Q_ACCOUNT_INSERT, Q_NICK_INSERT, Q_ACCOUNT_DELETE, Q_ACCOUNT_PASSWD,
	Q_ACCOUNT_ENFORCE, Q_ACCOUNT_MC, Q_ACCOUNT_AO, Q_ACCOUNT_AA,
	Q_ACCOUNT_ARM, Q_ACCOUNT_ARL, Q_ACCOUNT_RJ,
	Q_AO_PUT, Q_AO_DELETE, Q_AO_LIST, Q_CERTFP_INSERT, Q_CERTFP_DELETE, Q_CERTFP_LIST,
	Q_CHAN_GET, Q_CHAN_INSERT, Q_CHAN_DELETE, Q_CHAN_FOUNDER, Q_CHAN_RENAME, Q_CHAN_COUNT,
	Q_AMODE_SET, Q_AMODE_DELETE, Q_AMODE_GET, Q_AMODE_LIST, Q_AMODE_CLEAR,
	Q_CHAN_LIST, Q_CHAN_SETTINGS, Q_PURGE_ADD, Q_PURGE_DEL, Q_PURGE_GET,
	Q_PURGE_LIST, Q_ACCOUNT_VHOST, Q_HIST_FORGET,
	Q_CHAN_STATE, Q_CHAN_MASKS, Q_CHAN_MASKS_CLEAR, Q_CHAN_MASK_ADD,
	Q_BAN_SET, Q_BAN_DELETE, Q_BAN_LIST, Q_BAN_EXPIRE,
	Q_META_GET, Q_META_SET,
	Q_HIST_INSERT, Q_HIST_PRUNE_CHAN, Q_HIST_PRUNE_ACCT,
	Q_HIST_LOAD_CHAN, Q_HIST_LOAD_ACCT, Q_HIST_MAXSEQ,
	Q_HIST_EXPIRE, Q_HIST_OWNER, Q_HIST_REDACT, Q_MARKER_GET, Q_MARKER_SET,
	    Q_MARKER_TRIM,
	Q_MARKER_RENAME,
	Q_MD_LIST, Q_MD_SET, Q_MD_DEL, Q_MD_CLEAR,
	Q_ACCOUNT_DMH, Q_ACCOUNT_RENAME, Q_ACCOUNT_LIST, Q_BAN_GET,
	Q_SUSPENSION_DEL, Q_UNREG_ADD, Q_UNREG_DEL, Q_UNREG_GET,
	Q_CODE_PURGE, Q_CODE_INSERT, Q_CODE_GET, Q_CODE_DEL, Q_CODE_EXPIRE,
	Q_HIST_EXPORT,
	Q_CHMD_LIST, Q_CHMD_SET, Q_CHMD_DEL, Q_CHMD_CLEAR,
	Q_COUNT
};

extern sqlite3	*store_db;
extern char	 store_errbuf[256];	/* store_error() */

/* A prepared statement, reset with its bindings cleared; NULL: not open */
sqlite3_stmt	*q(int id);

/*
 * A statement's parameters, bound in order from 1 by q_bind:
 * Q_ARGS(QI(id), QT(name)). Text and blobs are bound SQLITE_STATIC:
 * every statement is stepped before its function returns.
 */
enum qtype { QA_INT, QA_ID, QA_TEXT, QA_OPT_TEXT, QA_TEXT_EMPTY, QA_BLOB,
    QA_NULL };
struct qarg {
	enum qtype	 type;
	sqlite3_int64	 i;
	const void	*p;
	int		 n;		/* text or blob length; -1: to NUL */
};
#define QI(x)		{ QA_INT, (x), NULL, 0 }
#define QIZ(x)		{ QA_ID, (x), NULL, 0 }	/* 0: NULL */
#define QT(s)		{ QA_TEXT, 0, (s), -1 }
#define QTL(s, l)	{ QA_TEXT, 0, (s), (l) }
#define QTN(s)		{ QA_OPT_TEXT, 0, (s), -1 }	/* NULL: NULL */
#define QTE(s)		{ QA_TEXT_EMPTY, 0, (s), -1 }	/* NULL, "": NULL */
#define QB(b, l)	{ QA_BLOB, 0, (b), (l) }
#define QN		{ QA_NULL, 0, NULL, 0 }
#define Q_ARGS(...)	(const struct qarg[]){ __VA_ARGS__ }, \
	(int)(sizeof((const struct qarg[]){ __VA_ARGS__ }) / \
	sizeof(struct qarg))

/* Binds a[0..n) to st's parameters 1..n; 0, or -1 after store_fail. */
int	 q_bind(sqlite3_stmt *, const char *what, const struct qarg *, int n);
/* Steps a statement that returns no rows; 0, or -1 after store_fail. */
int	 q_done(sqlite3_stmt *, const char *what);
/* One statement that returns no rows: q, q_bind, q_done. */
int	 q_exec(int id, const char *what, const struct qarg *, int n);
/* An INSERT a UNIQUE or foreign key may refuse: 0, 1 refused, -1. */
int	 q_unique(sqlite3_stmt *, const char *what);
int	 tx_begin(void);
int	 tx_commit(void);		/* rolled back on failure */
void	 tx_rollback(void);
/* A failed query: its reason kept for store_error() and logged once. */
void	 store_fail(const char *what);
void	 store_fail_errno(const char *what, int e);
int	 store_exec(const char *sql);
/* store_ckpt.c: the server's connection checkpoints through the child
 * (0, or -1 logged); at store_close, the child finishes and is reaped */
int	 store_ckpt_attach(sqlite3 *);
void	 store_ckpt_stop(void);
/* Blob column col into dst (at most dstsz; *len its length, 0 if larger) */
void	 blob_copy(sqlite3_stmt *, int col, unsigned char *dst, size_t dstsz,
	    size_t *len);
/* Text column i of st, or "" for NULL. */
const char *col_str(sqlite3_stmt *, int i);

#endif
