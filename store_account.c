/*
 * store_account.c: one function per query that changes or lists
 * accounts, their reserved nicks, settings, certfps and UNREGISTERed
 * names, and the always-on users (store.c looks accounts up); every
 * parameter bound, never spliced in (store_int.h).
 */

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "ergo.h"
#include "store.h"
#include "store_int.h"

int
store_account_create(const char *folded, struct store_account *a)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (tx_begin() == -1)
		return -1;
	if ((st = q(Q_ACCOUNT_INSERT)) == NULL ||
	    q_bind(st, "account create", Q_ARGS(QT(folded), QT(a->name),
	    QB(a->salt, (int)a->saltlen), QI((int)a->iterations),
	    QB(a->stored_key, STORE_KEYLEN), QB(a->server_key, STORE_KEYLEN),
	    QTE(a->email), QI((sqlite3_int64)a->registered), QI(a->enforce),
	    QTE(a->legacy))) == -1)
		goto fail;
	if ((rc = q_unique(st, "account create")) == 1) {
		tx_rollback();
		return 1;
	}
	if (rc == -1)
		goto fail;
	a->id = sqlite3_last_insert_rowid(store_db);
	/* the account's own name is its first reserved nick */
	if ((st = q(Q_NICK_INSERT)) == NULL ||
	    q_bind(st, "nick reserve", Q_ARGS(QT(folded), QI(a->id),
	    QI((sqlite3_int64)a->registered))) == -1)
		goto fail;
	if ((rc = q_unique(st, "nick reserve")) == 1) {
		tx_rollback();
		return 1;
	}
	if (rc == -1)
		goto fail;
	return tx_commit();
fail:
	tx_rollback();
	return -1;
}

/* One more nick reserved by account id: 0, 1 if it is taken, -1. */
int
store_nick_reserve(int64_t id, const char *folded, time_t when)
{
	sqlite3_stmt	*st;

	if ((st = q(Q_NICK_INSERT)) == NULL ||
	    q_bind(st, "nick reserve", Q_ARGS(QT(folded), QI(id),
	    QI((sqlite3_int64)when))) == -1)
		return -1;
	return q_unique(st, "nick reserve");
}

/*
 * Deletes an account; its certfps and nicks go with it (ON DELETE), its
 * suspension in the same transaction.
 */
int
store_account_delete(int64_t id)
{
	if (tx_begin() == -1)
		return -1;
	if (q_exec(Q_SUSPENSION_DEL, "account delete", Q_ARGS(QI(id))) == -1 ||
	    q_exec(Q_ACCOUNT_DELETE, "account delete", Q_ARGS(QI(id))) == -1) {
		tx_rollback();
		return -1;
	}
	return tx_commit();
}

/* Replaces a's credentials with the ones in a. */
int
store_account_passwd(const struct store_account *a)
{
	sqlite3_stmt	*st;

	if ((st = q(Q_ACCOUNT_PASSWD)) == NULL ||
	    q_bind(st, "password change", Q_ARGS(QI(a->id),
	    QB(a->salt, (int)a->saltlen), QI((int)a->iterations),
	    QB(a->stored_key, STORE_KEYLEN),
	    QB(a->server_key, STORE_KEYLEN))) == -1)
		return -1;
	return q_done(st, "password change");
}

/* One integer setting of an account (q: its UPDATE); 0 or -1. */
static int
account_set(int qi, int64_t id, int v, const char *what)
{
	return q_exec(qi, what, Q_ARGS(QI(id), QI(v)));
}

int
store_account_multiclient(int64_t id, int mc)
{
	return account_set(Q_ACCOUNT_MC, id, mc, "set multiclient");
}

int
store_account_always_on(int64_t id, int v)
{
	return account_set(Q_ACCOUNT_AO, id, v, "set always-on");
}

int
store_account_auto_away(int64_t id, int v)
{
	return account_set(Q_ACCOUNT_AA, id, v, "set auto-away");
}

int
store_account_autoreplay_missed(int64_t id, int v)
{
	return account_set(Q_ACCOUNT_ARM, id, v, "set autoreplay-missed");
}

int
store_account_autoreplay_lines(int64_t id, int v)
{
	return account_set(Q_ACCOUNT_ARL, id, v, "set autoreplay-lines");
}

int
store_account_replay_joins(int64_t id, int v)
{
	return account_set(Q_ACCOUNT_RJ, id, v, "set replay-joins");
}

/*
 * Writes (or replaces) the always-on user of u->account: committed
 * when this returns 0 (autocommit), so a kill -9 after it keeps it.
 */
int
store_alwayson_put(const struct store_alwayson *u)
{
	return q_exec(Q_AO_PUT, "save always-on user", Q_ARGS(QI(u->account),
	    QT(u->nick), QT(u->user), QT(u->host), QT(u->realname),
	    QI((int)u->umodes), QTN(u->away), QT(u->channels),
	    QI((sqlite3_int64)u->last_seen)));
}

int
store_alwayson_delete(int64_t account)
{
	return q_exec(Q_AO_DELETE, "forget always-on user",
	    Q_ARGS(QI(account)));
}

/* Calls fn for each always-on user; 0, or -1 (logged). */
int
store_alwayson_list(void (*fn)(void *, const struct store_alwayson *),
    void *arg)
{
	struct store_alwayson u;
	sqlite3_stmt	*st;
	const char	*away;
	int		 rc;

	if ((st = q(Q_AO_LIST)) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&u, 0, sizeof(u));
		u.account = sqlite3_column_int64(st, 0);
		snprintf(u.account_name, sizeof(u.account_name), "%s",
		    col_str(st, 1));
		u.set.multiclient = sqlite3_column_int(st, 2);
		u.set.always_on = sqlite3_column_int(st, 3);
		u.set.auto_away = sqlite3_column_int(st, 4);
		u.nick = col_str(st, 5);
		u.user = col_str(st, 6);
		u.host = col_str(st, 7);
		u.realname = col_str(st, 8);
		u.umodes = (unsigned)sqlite3_column_int(st, 9);
		away = sqlite3_column_type(st, 10) == SQLITE_NULL ? NULL :
		    col_str(st, 10);
		u.away = away;
		u.channels = col_str(st, 11);
		u.last_seen = (time_t)sqlite3_column_int64(st, 12);
		u.set.autoreplay_missed = sqlite3_column_int(st, 13);
		u.set.autoreplay_lines = sqlite3_column_int(st, 14);
		u.set.replay_joins = sqlite3_column_int(st, 15);
		u.set.dm_history = sqlite3_column_int(st, 16);
		u.suspend_expires = (time_t)sqlite3_column_int64(st, 17);
		fn(arg, &u);
	}
	if (rc != SQLITE_DONE) {
		store_fail("load always-on users");
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return 0;
}

int
store_account_dm_history(int64_t id, int v)
{
	return account_set(Q_ACCOUNT_DMH, id, v, "set dm-history");
}

/* A new display name for account id (the same casefolded name). */
int
store_account_rename(int64_t id, const char *display)
{
	return q_exec(Q_ACCOUNT_RENAME, "account rename", Q_ARGS(QI(id),
	    QT(display)));
}

/* fn(arg, display name) per account, by name; count, or -1. */
int
store_account_list(void (*fn)(void *, const char *), void *arg)
{
	sqlite3_stmt	*st;
	int		 rc, n = 0;

	if ((st = q(Q_ACCOUNT_LIST)) == NULL)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		fn(arg, col_str(st, 0));
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_fail("account list");
		return -1;
	}
	return n;
}

/* UNREGISTER: the name stays reserved (add), ERASE forgets it (del). */
int
store_unregistered_add(const char *folded, const char *display, time_t when)
{
	return q_exec(Q_UNREG_ADD, "unregister", Q_ARGS(QT(folded),
	    QT(display), QI((sqlite3_int64)when)));
}

int
store_unregistered_del(const char *folded)
{
	sqlite3_stmt	*st;

	if ((st = q(Q_UNREG_DEL)) == NULL ||
	    q_bind(st, "erase", Q_ARGS(QT(folded))) == -1)
		return -1;
	if (q_done(st, "erase") == -1)
		return -1;
	return sqlite3_changes(store_db) > 0 ? 0 : 1;
}

/* 1 (the name was unregistered), 0, or -1. */
int
store_unregistered_get(const char *folded)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = q(Q_UNREG_GET)) == NULL ||
	    q_bind(st, "account lookup", Q_ARGS(QT(folded))) == -1)
		return -1;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	store_fail("account lookup");
	return -1;
}

int
store_account_enforce(int64_t id, int enforce)
{
	return account_set(Q_ACCOUNT_ENFORCE, id, enforce, "set enforce");
}

int
store_certfp_add(int64_t id, const char *certfp)
{
	sqlite3_stmt	*st;

	if ((st = q(Q_CERTFP_INSERT)) == NULL ||
	    q_bind(st, "certfp add", Q_ARGS(QT(certfp), QI(id))) == -1)
		return -1;
	return q_unique(st, "certfp add");
}

int
store_certfp_del(int64_t id, const char *certfp)
{
	sqlite3_stmt	*st;

	if ((st = q(Q_CERTFP_DELETE)) == NULL ||
	    q_bind(st, "certfp delete", Q_ARGS(QT(certfp), QI(id))) == -1)
		return -1;
	if (q_done(st, "certfp delete") == -1)
		return -1;
	return sqlite3_changes(store_db) > 0 ? 0 : 1;
}

int
store_certfp_list(int64_t id, void (*fn)(void *, const char *), void *arg)
{
	sqlite3_stmt	*st;
	const unsigned char *t;
	int		 rc, n = 0;

	if ((st = q(Q_CERTFP_LIST)) == NULL ||
	    q_bind(st, "certfp list", Q_ARGS(QI(id))) == -1)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((t = sqlite3_column_text(st, 0)) != NULL) {
			fn(arg, (const char *)t);
			n++;
		}
	if (rc != SQLITE_DONE) {
		store_fail("certfp list");
		n = -1;
	}
	sqlite3_reset(st);
	return n;
}
