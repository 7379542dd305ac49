/*
 * store.c: the only file that speaks SQL. Owns the SQLite handle, the
 * schema and its forward migrations; keeps no protocol state.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ergo.h"

#define STORE_BUSY_MS	5000	/* another process (ergo initdb, sqlite3) */

/*
 * Forward migrations: migrations[i] takes the schema from user_version i
 * to i + 1. Append, never edit a released entry.
 */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
	"INSERT INTO meta (key, value) VALUES ('created-at',"
	"    strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));",
};
#define STORE_VERSION	((int)(sizeof(migrations) / sizeof(migrations[0])))

static sqlite3		*db;
static char		*db_path;	/* for messages */

static int	 store_exec(const char *);
static int	 store_version_get(int *);
static int	 store_migrate(int);

/*
 * Opens (creating with mode 0600 if missing) the database at path and
 * brings its schema up to date. Returns 0, or -1 after logging
 * "path: reason".
 */
int
store_open(const char *path)
{
	sqlite3_stmt	*st = NULL;
	const char	*mode;
	int		 fd, version;

	if (db != NULL)
		store_close();
	if ((db_path = strdup(path)) == NULL) {
		log_warn("store", "%s", path);
		return -1;
	}

	/*
	 * Create the file ourselves: sqlite would use 0644 & ~umask, and
	 * the database will hold password verifiers.
	 */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY,
	    0600);
	if (fd == -1 && errno != EEXIST) {
		log_warn("store", "%s", path);
		goto fail;
	}
	if (fd != -1) {
		if (fchmod(fd, 0600) == -1)	/* umask may have said 0400 */
			log_warn("store", "%s: chmod", path);
		close(fd);
		log_info("store", "%s: created", path);
	}

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		log_warnx("store", "%s: %s", path, db != NULL ?
		    sqlite3_errmsg(db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(db, 1);
	if (sqlite3_busy_timeout(db, STORE_BUSY_MS) != SQLITE_OK)
		goto fail_msg;

	/* journal_mode answers with the mode it ended up in */
	if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		goto fail_msg;
	mode = (const char *)sqlite3_column_text(st, 0);
	if (mode == NULL || strcmp(mode, "wal") != 0)
		log_warnx("store", "%s: journal mode is %s, not wal", path,
		    mode != NULL ? mode : "unknown");
	sqlite3_finalize(st);
	st = NULL;

	if (store_exec("PRAGMA foreign_keys=ON") == -1 ||
	    store_version_get(&version) == -1)
		goto fail;
	if (version > STORE_VERSION) {
		log_warnx("store", "%s: schema version %d is newer than this "
		    "ergo supports (%d); use a newer ergo or restore a backup",
		    path, version, STORE_VERSION);
		goto fail;
	}
	if (version < STORE_VERSION && store_migrate(version) == -1)
		goto fail;
	return 0;

fail_msg:
	log_warnx("store", "%s: %s", path, sqlite3_errmsg(db));
fail:
	sqlite3_finalize(st);
	sqlite3_close(db);
	db = NULL;
	free(db_path);
	db_path = NULL;
	return -1;
}

void
store_close(void)
{
	if (db == NULL)
		return;
	if (sqlite3_close(db) != SQLITE_OK)
		log_warnx("store", "%s: close: %s", db_path,
		    sqlite3_errmsg(db));
	db = NULL;
	free(db_path);
	db_path = NULL;
}

/* Runs SQL without results; logs and returns -1 on error. */
static int
store_exec(const char *sql)
{
	char	*err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_warnx("store", "%s: %s", db_path,
		    err != NULL ? err : sqlite3_errmsg(db));
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

static int
store_version_get(int *version)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK) {
		log_warnx("store", "%s: %s", db_path, sqlite3_errmsg(db));
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int(st, 0);
	else
		log_warnx("store", "%s: %s", db_path, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/*
 * Each step runs in its own IMMEDIATE transaction together with the
 * user_version bump, so a crash leaves the schema at a version boundary.
 */
static int
store_migrate(int from)
{
	char	 sql[64];
	int	 v;

	for (v = from; v < STORE_VERSION; v++) {
		if (store_exec("BEGIN IMMEDIATE") == -1)
			return -1;
		/* user_version cannot be bound; v is ours, not input */
		snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", v + 1);
		if (store_exec(migrations[v]) == -1 || store_exec(sql) == -1 ||
		    store_exec("COMMIT") == -1) {
			store_exec("ROLLBACK");
			log_warnx("store", "%s: migration to schema version %d "
			    "failed", db_path, v + 1);
			return -1;
		}
		if (from > 0)
			log_info("store", "%s: schema upgraded to version %d",
			    db_path, v + 1);
	}
	return 0;
}
