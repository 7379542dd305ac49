/*
 * unit_store.c: store_open creates the database (mode 0600, WAL, schema
 * version SCHEMA with meta.created-at), reopens it, and refuses newer schemas
 * and non-databases; history batches. Prints "ok NAME" or "FAIL NAME: why" per case.
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
#include "log.h"
#include "conf.h"
#include "util.h"
#include "store.h"

#include "unit.h"

#define SCHEMA	"18"	/* store.c's STORE_VERSION */

struct conf	*conf;		/* store.c reads datastore.autoupgrade */
static char	 dir[] = "/tmp/unit_store.XXXXXX";
static char	 logpath[300];

static const char *
path(const char *name)
{
	static char	 p[4][256];
	static int	 i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

/* First column of the first row of sql, as text, into out. */
static int
query(const char *db, const char *sql, char *out, size_t outsz)
{
	sqlite3		*h;
	sqlite3_stmt	*st;
	int		 rc = -1;

	out[0] = '\0';
	if (sqlite3_open_v2(db, &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
		goto done;
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK)
		goto done;
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		if (sqlite3_column_text(st, 0) != NULL)
			snprintf(out, outsz, "%s",
			    (const char *)sqlite3_column_text(st, 0));
		rc = 0;
		break;
	case SQLITE_DONE:
		rc = 0;
		break;
	}
	sqlite3_finalize(st);
done:
	sqlite3_close(h);
	return rc;
}

static bool
log_has(const char *needle)
{
	static char	 buf[8192];
	ssize_t		 n;
	int		 fd;

	if ((fd = open(logpath, O_RDONLY)) == -1)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return strstr(buf, needle) != NULL;
}

static const char *
test_create(void)
{
	const char	*db = path("new.db");
	char		 v[64];
	struct stat	 st;
	mode_t		 old;

	old = umask(022);
	if (store_open(db) != 0) {
		umask(old);
		return "store_open failed";
	}
	umask(old);
	if (stat(db, &st) == -1 || (st.st_mode & 0777) != 0600)
		return "database mode is not 0600";
	store_close();
	if (query(db, "PRAGMA user_version", v, sizeof(v)) != 0 ||
	    strcmp(v, SCHEMA) != 0)
		return "user_version is not " SCHEMA;
	if (query(db, "PRAGMA journal_mode", v, sizeof(v)) != 0 ||
	    strcmp(v, "wal") != 0)
		return "journal_mode is not wal";
	if (query(db, "SELECT value FROM meta WHERE key = 'created-at'", v,
	    sizeof(v)) != 0 || strlen(v) < 20 || v[4] != '-' || v[10] != 'T')
		return "meta created-at missing";
	return NULL;
}

static const char *
test_reopen(void)
{
	const char	*db = path("new.db");
	char		 before[64], after[64];

	query(db, "SELECT value FROM meta WHERE key = 'created-at'", before,
	    sizeof(before));
	if (store_open(db) != 0)
		return "second store_open failed";
	store_close();
	query(db, "SELECT value FROM meta WHERE key = 'created-at'", after,
	    sizeof(after));
	if (strcmp(before, after) != 0 || before[0] == '\0')
		return "created-at changed on reopen";
	if (query(db, "SELECT count(*) FROM meta", after, sizeof(after)) != 0 ||
	    strcmp(after, "1") != 0)
		return "migration ran twice";
	return NULL;
}

static const char *
test_newer_refused(void)
{
	const char	*db = path("new.db");
	char		 v[64];

	if (query(db, "PRAGMA user_version=99", v, sizeof(v)) != 0)
		return "setup";
	if (store_open(db) != -1) {
		store_close();
		return "a newer schema was accepted";
	}
	if (!log_has("schema version 99 is newer"))
		return "no clear message";
	return NULL;
}

static const char *
test_not_a_database(void)
{
	static const char junk[] = "this is not a database, just text "
	    "long enough to fill a header\n";
	const char	*db = path("junk.db");
	int		 fd;

	if ((fd = open(db, O_WRONLY | O_CREAT, 0600)) == -1)
		return "setup";
	if (write(fd, junk, sizeof(junk) - 1) != (ssize_t)sizeof(junk) - 1) {
		close(fd);
		return "setup write";
	}
	close(fd);
	if (store_open(db) != -1) {
		store_close();
		return "a text file was accepted";
	}
	if (!log_has("junk.db: file is not a database"))
		return "no path: message";
	return NULL;
}

static const char *
test_missing_dir(void)
{
	if (store_open(path("nodir/x.db")) != -1) {
		store_close();
		return "store_open in a missing directory succeeded";
	}
	if (!log_has("nodir/x.db: No such file or directory"))
		return "no path: message";
	return NULL;
}

static void
count_fp(void *arg, const char *fp)
{
	(void)fp;
	(*(int *)arg)++;
}

/* The account queries: create, lookups, duplicates, certfps, cascade. */
static const char *
test_accounts(void)
{
	const char	*db = path("acct.db");
	struct store_account a, b;
	char		 fp1[65], fp2[65];
	int		 n = 0;

	memset(fp1, 'a', 64);
	fp1[64] = '\0';
	memset(fp2, 'b', 64);
	fp2[64] = '\0';
	if (store_open(db) != 0)
		return "store_open failed";
	memset(&a, 0, sizeof(a));
	snprintf(a.name, sizeof(a.name), "Alice");
	snprintf(a.email, sizeof(a.email), "a@example.org");
	a.saltlen = 16;
	memset(a.salt, 1, 16);
	a.iterations = 4096;
	memset(a.stored_key, 2, 32);
	memset(a.server_key, 3, 32);
	a.registered = 1700000000;
	if (store_account_create("alice", &a) != 0 || a.id <= 0)
		return "create failed";
	b = a;
	if (store_account_create("alice", &b) != 1)
		return "duplicate name not reported";
	memset(&b, 0, sizeof(b));
	if (store_account_get("alice", &b) != 1 || b.id != a.id ||
	    strcmp(b.name, "Alice") != 0 || b.saltlen != 16 ||
	    b.iterations != 4096 || memcmp(b.stored_key, a.stored_key, 32) ||
	    memcmp(b.server_key, a.server_key, 32) ||
	    strcmp(b.email, "a@example.org") != 0 || b.registered != 1700000000)
		return "row read back differs";
	if (store_account_get("bob", &b) != 0)
		return "missing account found";
	if (store_nick_owner("alice", &b) != 1 || b.id != a.id)
		return "the account name is not a reserved nick";
	if (store_certfp_add(a.id, fp1) != 0 || store_certfp_add(a.id, fp1) != 1)
		return "certfp add/duplicate";
	if (store_certfp_add(a.id, fp2) != 0 ||
	    store_certfp_list(a.id, count_fp, &n) != 2 || n != 2)
		return "certfp list";
	if (store_account_by_certfp(fp2, &b) != 1 || b.id != a.id)
		return "certfp lookup";
	if (store_certfp_del(a.id, fp2) != 0 || store_certfp_del(a.id, fp2) != 1)
		return "certfp delete";
	if (store_account_enforce(a.id, ENFORCE_STRICT) != 0 ||
	    store_account_get("alice", &b) != 1 || b.enforce != ENFORCE_STRICT)
		return "enforce";
	memset(a.stored_key, 9, 32);
	a.iterations = 5000;
	if (store_account_passwd(&a) != 0 ||
	    store_account_get("alice", &b) != 1 || b.iterations != 5000 ||
	    b.stored_key[0] != 9)
		return "passwd";
	if (store_account_delete(a.id) != 0 ||
	    store_account_get("alice", &b) != 0 ||
	    store_nick_owner("alice", &b) != 0 ||
	    store_account_by_certfp(fp1, &b) != 0)
		return "delete did not cascade";
	store_close();
	if (store_account_get("alice", &b) != -1)
		return "query on a closed store did not fail";
	return NULL;
}

/* Version 1: run refuses, upgrade migrates (data kept) after a backup. */
static const char *
test_v1_upgrade(void)
{
	const char	*db = path("v1.db");
	char		 v[64], cmd[1];

	sqlite3		*h;

	(void)cmd;
	if (sqlite3_open(db, &h) != SQLITE_OK ||
	    sqlite3_exec(h, "CREATE TABLE meta (key TEXT PRIMARY KEY, value "
	    "TEXT); INSERT INTO meta VALUES ('created-at', 'x'); "
	    "PRAGMA user_version=1;", NULL, NULL, NULL) != SQLITE_OK) {
		sqlite3_close(h);
		return "setup";
	}
	sqlite3_close(h);
	if (store_open(db) != -1) {
		store_close();
		return "run mode accepted schema 1";
	}
	if (!log_has("run `ergo upgradedb`"))
		return "no upgradedb advice";
	if (store_upgrade(db) != 0)
		return "upgrade failed";
	store_close();
	if (query(db, "PRAGMA user_version", v, sizeof(v)) != 0 ||
	    strcmp(v, SCHEMA) != 0)
		return "not at version " SCHEMA;
	if (query(db, "SELECT value FROM meta", v, sizeof(v)) != 0 ||
	    strcmp(v, "x") != 0)
		return "meta lost";
	if (!log_has("v1.db: backup of schema version 1 in "))
		return "no backup";
	return NULL;
}

/* Opens db with account Fo (into a) and its channel #Chan (into c). */
static const char *
open_chan(const char *db, struct store_account *a, struct store_chan *c)
{
	if (store_open(db) != 0)
		return "store_open failed";
	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "Fo");
	a->saltlen = 16;
	a->iterations = 4096;
	if (store_account_create("fo", a) != 0)
		return "account create failed";
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "#Chan");
	c->founder = a->id;
	c->registered = 1700000000;
	if (store_chan_create("#chan", c) != 0)
		return "channel create failed";
	return NULL;
}

/* A registered channel's modes, key, limit and topic, read back. */
static const char *
test_chan_state(void)
{
	const char	*db = path("chan.db"), *err;
	struct store_account a;
	struct store_chan c, r;

	if ((err = open_chan(db, &a, &c)) != NULL)
		return err;
	if (store_chan_get("#chan", &r) != 1 || r.modes[0] != '\0' ||
	    r.key[0] != '\0' || r.limit != 0 || r.topic[0] != '\0' ||
	    r.topic_time != 0)
		return "a new channel has state";
	snprintf(c.modes, sizeof(c.modes), "imnt");
	snprintf(c.key, sizeof(c.key), "k3y");
	c.limit = 42;
	snprintf(c.topic, sizeof(c.topic), "the topic");
	snprintf(c.topic_by, sizeof(c.topic_by), "fo!~fo@host");
	c.topic_time = 1700000123;
	if (store_chan_state(&c) != 0)
		return "state save failed";
	store_close();
	if (store_open(db) != 0)
		return "reopen failed";
	if (store_chan_get("#chan", &r) != 1 || strcmp(r.modes, "imnt") ||
	    strcmp(r.key, "k3y") || r.limit != 42 ||
	    strcmp(r.topic, "the topic") || strcmp(r.topic_by, "fo!~fo@host") ||
	    r.topic_time != 1700000123 || strcmp(r.founder_name, "Fo"))
		return "state read back differs";
	c.key[0] = '\0';
	c.topic[0] = '\0';
	if (store_chan_state(&c) != 0 || store_chan_get("#chan", &r) != 1 ||
	    r.key[0] != '\0' || r.topic[0] != '\0')
		return "cleared key or topic came back";
	store_close();
	return NULL;
}

static int	 nlisted;
static char	 listed[4][STORE_BAN_MASK_MAX + STORE_BAN_REASON_MAX + 8];

static void
ban_seen(void *arg, const struct store_ban *b)
{
	(void)arg;
	if (nlisted < 4)
		snprintf(listed[nlisted], sizeof(listed[0]), "%c %s %s",
		    b->kind, b->mask, b->reason);
	nlisted++;
}

/* K/D-lines: set, replace, list without the expired, expire, delete. */
static const char *
test_bans(void)
{
	const char	*db = path("bans.db");
	struct store_ban b;

	if (store_open(db) != 0)
		return "store_open failed";
	memset(&b, 0, sizeof(b));
	b.kind = 'k';
	snprintf(b.mask, sizeof(b.mask), "*@bad.host");
	snprintf(b.reason, sizeof(b.reason), "first");
	snprintf(b.setter, sizeof(b.setter), "op!~op@h");
	b.set_at = 1000;
	if (store_ban_set(&b) != 0)
		return "kline add failed";
	snprintf(b.reason, sizeof(b.reason), "second");
	if (store_ban_set(&b) != 0)
		return "kline replace failed";
	b.kind = 'd';
	snprintf(b.mask, sizeof(b.mask), "10.0.0.0/8");
	snprintf(b.reason, sizeof(b.reason), "temp");
	b.expires = 2000;
	if (store_ban_set(&b) != 0)
		return "dline add failed";
	store_close();
	if (store_open(db) != 0)
		return "reopen failed";
	nlisted = 0;
	if (store_ban_list(1500, ban_seen, NULL) != 2 || nlisted != 2 ||
	    strcmp(listed[0], "d 10.0.0.0/8 temp") ||
	    strcmp(listed[1], "k *@bad.host second"))
		return "list before expiry differs";
	/* a ban lasts through the second it expires in */
	nlisted = 0;
	if (store_ban_list(2000, ban_seen, NULL) != 2 || nlisted != 2)
		return "ban gone in its last second";
	if (store_ban_get('d', "10.0.0.0/8", 2000, &b) != 1 ||
	    store_ban_get('d', "10.0.0.0/8", 2001, &b) != 0)
		return "get at the expiry second differs";
	nlisted = 0;
	if (store_ban_list(2001, ban_seen, NULL) != 1 ||
	    strcmp(listed[0], "k *@bad.host second"))
		return "expired ban listed";
	if (store_ban_expire(2000) != 0 ||
	    store_ban_del('d', "10.0.0.0/8") != 0)
		return "ban expired in its last second";
	snprintf(b.reason, sizeof(b.reason), "temp");
	b.kind = 'd';
	b.expires = 2000;
	snprintf(b.mask, sizeof(b.mask), "10.0.0.0/8");
	if (store_ban_set(&b) != 0 || store_ban_expire(2001) != 0)
		return "expire failed";
	if (store_ban_del('d', "10.0.0.0/8") != 1)
		return "expired ban still stored";
	if (store_ban_del('k', "*@bad.host") != 0 ||
	    store_ban_del('k', "*@bad.host") != 1)
		return "delete wrong";
	nlisted = 0;
	if (store_ban_list(0, ban_seen, NULL) != 0)
		return "bans left";
	store_close();
	return NULL;
}

static struct store_hrow
hrow(int64_t channel, int64_t account, uint64_t seq, uint64_t floor,
    int64_t ms, const char *text)
{
	struct store_hrow r;

	memset(&r, 0, sizeof(r));
	r.channel = channel;
	r.account = account;
	r.seq = seq;
	r.floor = floor;
	r.ms = ms;
	r.kind = 1;
	r.msgid = text;
	r.time = "2026-12-07T00:00:00.000Z";
	r.source = "fo!~fo@host";
	r.target = channel != 0 ? "#chan" : "fo";
	r.text = text;
	return r;
}

/*
 * History batches: a row of an owner dropped since it was queued is
 * left out and the rest written; each owner pruned below its floor;
 * foreign keys on again after the batch (a drop cascades); expiry takes
 * the expired among the oldest rows.
 */
static const char *
test_hist_write(void)
{
	const char	*db = path("hist.db"), *err;
	struct store_account a;
	struct store_chan c;
	struct store_hrow rows[6];
	char		 v[64];

	if ((err = open_chan(db, &a, &c)) != NULL)
		return err;
	rows[0] = hrow(c.id, 0, 1, 1, 1000, "c1");
	rows[1] = hrow(c.id + 100, 0, 2, 2, 1000, "gone1");
	rows[2] = hrow(0, a.id, 3, 3, 1000, "a1");
	rows[3] = hrow(c.id, 0, 4, 1, 5000, "c2");
	rows[4] = hrow(c.id + 100, 0, 5, 2, 5000, "gone2");
	rows[5] = hrow(0, a.id, 6, 6, 5000, "a2");	/* a1 pruned */
	if (store_hist_write(rows, 6) != 0)
		return "batch failed";
	store_close();
	if (query(db, "SELECT group_concat(text, ' ') FROM (SELECT text "
	    "FROM history ORDER BY id)", v, sizeof(v)) != 0 ||
	    strcmp(v, "c1 c2 a2") != 0)
		return "rows written differ";
	if (store_open(db) != 0)
		return "reopen failed";
	rows[0] = hrow(c.id, 0, 7, 1, 9000, "c3");
	if (store_hist_write(rows, 1) != 0)
		return "second batch failed";
	/* expired: before 5000 among the 2 oldest, then none */
	if (store_hist_expire(5000, 2) != 1 || store_hist_expire(5000, 2) != 0)
		return "expiry count differs";
	if (store_chan_delete(c.id) != 0)
		return "channel drop failed";
	store_close();
	if (query(db, "SELECT group_concat(text, ' ') FROM (SELECT text "
	    "FROM history ORDER BY id)", v, sizeof(v)) != 0 ||
	    strcmp(v, "a2") != 0)
		return "expiry or drop left rows";
	return NULL;
}

int
main(void)
{
	char	 cmd[400];
	struct log_conf lc = { NULL, LOGM_FILE, logpath, LL_DEBUG,
			       LOG_TYPES_ALL };

	if (mkdtemp(dir) == NULL) {
		printf("FAIL setup: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	log_init(LL_INFO);
	if (log_configure(&lc) != 0) {
		printf("FAIL setup: log_configure\n");
		return 1;
	}
	result("create", test_create());
	result("reopen", test_reopen());
	result("newer_refused", test_newer_refused());
	result("not_a_database", test_not_a_database());
	result("missing_dir", test_missing_dir());
	result("accounts", test_accounts());
	result("v1_upgrade", test_v1_upgrade());
	result("chan_state", test_chan_state());
	result("bans", test_bans());
	result("hist_write", test_hist_write());
	log_init(LL_INFO);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", dir);
	return nfail != 0;
}
