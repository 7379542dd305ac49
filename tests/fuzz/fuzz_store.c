/*
 * fuzz_store.c: a corrupt or hostile database file loaded into the
 * store, which must refuse it cleanly or read what it can: never crash,
 * overrun a buffer or hand its callers a row they would trip on. The
 * first input byte says what the rest is:
 *
 *	even	the bytes of the file itself (a SQLite file, damaged or not)
 *	odd	rows written into a database of the current schema, with no
 *		constraint but SQLite's own (foreign keys off): per record
 *		an op byte, then for an insert one value per column:
 *		a type byte (NULL, integer, text, blob, a big text or blob)
 *		and its bytes. Ops: insert into one of the tables, delete
 *		all of one, set PRAGMA user_version (datastore autoupgrade
 *		is on, so an old version runs the migrations on the rows).
 *
 * Then store_open, and every load ergo does at start or at a login:
 * bans, history, meta keys, and accounts, certfps, nicks, channels and
 * their AMODEs by the names the file holds.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "fuzz.h"
#include "../../store.h"

#define NAMES_MAX	8	/* of each kind, looked up */
#define BIG_MAX		(64 * 1024)

static const char *const tables[] = {
	"meta", "accounts", "account_certfps", "nick_reservations",
	"channels", "channel_amodes", "bans", "history", "read_markers",
};
#define NTABLES	(sizeof(tables) / sizeof(tables[0]))

static char	 dir[64], dbpath[96];
static unsigned char *fresh;	/* a new database's bytes */
static size_t	 freshlen;
static int	 ncols[NTABLES];

/* Removes everything in dir: the db, -wal, -shm, upgrade backups. */
static void
clean(void)
{
	char p[400];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		unlink(p);
	}
	closedir(d);
}

static void
cleanup(void)
{
	store_close();
	clean();
	rmdir(dir);
	free(fresh);
}

static void
file_write(const void *p, size_t n)
{
	int fd;

	if ((fd = open(dbpath, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    (n > 0 && write(fd, p, n) != (ssize_t)n) || close(fd) == -1)
		abort();
}

static void
setup(void)
{
	struct stat st;
	sqlite3 *db;
	sqlite3_stmt *s;
	char sql[128];
	size_t i;
	int fd;

	fuzz_init();
	conf->datastore_autoupgrade = true;
	/* tmpfs where there is one: the store syncs every commit */
	snprintf(dir, sizeof(dir), "%s/ergo-fuzz-store.XXXXXX",
	    stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(dbpath, sizeof(dbpath), "%s/ircd.db", dir);
	atexit(cleanup);
	if (store_init(dbpath) == -1)
		abort();
	store_close();
	/* one file, no -wal beside it: what a copy of it carries */
	if (sqlite3_open(dbpath, &db) != SQLITE_OK ||
	    sqlite3_exec(db, "PRAGMA journal_mode=DELETE", NULL, NULL,
	    NULL) != SQLITE_OK)
		abort();
	for (i = 0; i < NTABLES; i++) {
		snprintf(sql, sizeof(sql), "SELECT * FROM %s", tables[i]);
		if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
			abort();
		ncols[i] = sqlite3_column_count(s);
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	if ((fd = open(dbpath, O_RDONLY)) == -1 || fstat(fd, &st) == -1 ||
	    (fresh = malloc((size_t)st.st_size)) == NULL ||
	    read(fd, fresh, (size_t)st.st_size) != st.st_size)
		abort();
	freshlen = (size_t)st.st_size;
	close(fd);
	clean();
}

/* The next n input bytes, or fewer at the end. */
static const uint8_t *
take(const uint8_t **p, const uint8_t *end, size_t *n)
{
	const uint8_t *q = *p;

	if (*n > (size_t)(end - q))
		*n = (size_t)(end - q);
	*p += *n;
	return q;
}

static void
bind_value(sqlite3_stmt *s, int col, const uint8_t **p, const uint8_t *end)
{
	const uint8_t *b;
	sqlite3_int64 v = 0;
	size_t n, i;
	char *big;
	int t;

	if (*p >= end) {
		sqlite3_bind_null(s, col);
		return;
	}
	t = *(*p)++ % 6;
	switch (t) {
	case 1:
		n = 8;
		b = take(p, end, &n);
		for (i = 0; i < n; i++)
			v = (sqlite3_int64)((sqlite3_uint64)v << 8 | b[i]);
		sqlite3_bind_int64(s, col, v);
		return;
	case 2:
	case 3:
		n = *p < end ? *(*p)++ : 0;
		b = take(p, end, &n);
		if (t == 2)
			sqlite3_bind_text(s, col, (const char *)b, (int)n,
			    SQLITE_TRANSIENT);
		else
			sqlite3_bind_blob(s, col, b, (int)n, SQLITE_TRANSIENT);
		return;
	case 4:
	case 5:
		/* up to 64 KiB of one byte: past every fixed buffer */
		n = 2;
		b = take(p, end, &n);
		n = n == 2 ? ((size_t)b[0] << 8 | b[1]) * 4 % BIG_MAX : 0;
		if ((big = malloc(n + 1)) == NULL)
			abort();
		memset(big, *p < end ? *(*p)++ : 'A', n);
		big[n] = '\0';
		if (t == 4)
			sqlite3_bind_text(s, col, big, (int)n, SQLITE_TRANSIENT);
		else
			sqlite3_bind_blob(s, col, big, (int)n, SQLITE_TRANSIENT);
		free(big);
		return;
	default:
		sqlite3_bind_null(s, col);
	}
}

/* The rows of the input into a fresh database file. */
static void
hostile_rows(const uint8_t *p, const uint8_t *end)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	char sql[256];
	size_t t, n;
	int op, i;

	file_write(fresh, freshlen);
	if (sqlite3_open(dbpath, &db) != SQLITE_OK)
		abort();
	sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
	while (p < end) {
		op = *p++;
		t = (size_t)(op >> 2) % NTABLES;
		switch (op & 3) {
		case 0:
		case 1:
			n = (size_t)snprintf(sql, sizeof(sql), "INSERT OR "
			    "REPLACE INTO %s VALUES (?", tables[t]);
			for (i = 1; i < ncols[t]; i++)
				n += (size_t)snprintf(sql + n, sizeof(sql) - n,
				    ",?");
			snprintf(sql + n, sizeof(sql) - n, ")");
			if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) !=
			    SQLITE_OK)
				abort();
			for (i = 1; i <= ncols[t]; i++)
				bind_value(s, i, &p, end);
			(void)sqlite3_step(s);	/* a constraint: skipped */
			sqlite3_finalize(s);
			break;
		case 2:
			snprintf(sql, sizeof(sql), "DELETE FROM %s", tables[t]);
			sqlite3_exec(db, sql, NULL, NULL, NULL);
			break;
		case 3:
			/* a version byte: mostly 0..8, now and then wild */
			i = p < end ? *p++ : 0;
			snprintf(sql, sizeof(sql), "PRAGMA user_version=%d",
			    i < 200 ? i % 9 : i * 1000003);
			sqlite3_exec(db, sql, NULL, NULL, NULL);
			break;
		}
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	sqlite3_close(db);
}

struct names {
	char	 v[NAMES_MAX][256];
	size_t	 n;
};

/* Up to NAMES_MAX texts of sql's first column, read before the store. */
static void
names_read(sqlite3 *db, const char *sql, struct names *out)
{
	sqlite3_stmt *s;
	const unsigned char *t;

	out->n = 0;
	if (db == NULL || sqlite3_prepare_v2(db, sql, -1, &s, NULL) !=
	    SQLITE_OK)
		return;
	while (out->n < NAMES_MAX && sqlite3_step(s) == SQLITE_ROW)
		if ((t = sqlite3_column_text(s, 0)) != NULL)
			snprintf(out->v[out->n++], sizeof(out->v[0]), "%s",
			    (const char *)t);
	sqlite3_finalize(s);
}

static void
str_check(const char *s, size_t max)
{
	if (s == NULL || strlen(s) > max)
		abort();
}

static void
on_ban(void *arg, const struct store_ban *b)
{
	(void)arg;
	str_check(b->mask, STORE_BAN_MASK_MAX);
	str_check(b->reason, STORE_BAN_REASON_MAX);
	str_check(b->setter, IRC_LINE_MAX - 1);
}

/* What irc_hist.c's load_row relies on. */
static void
on_hist(void *arg, const struct store_hrow *r)
{
	(void)arg;
	if (r->msgid == NULL || r->time == NULL || r->source == NULL ||
	    r->target == NULL || r->text == NULL ||
	    (r->channel == 0) == (r->account == 0))
		abort();
	(void)strlen(r->msgid);
	(void)strlen(r->time);
	(void)strlen(r->source);
	(void)strlen(r->target);
	(void)strlen(r->text);
	if (r->peer != NULL)
		(void)strlen(r->peer);
	if (r->ctags != NULL)
		(void)strlen(r->ctags);
	if (r->acct_tag != NULL)
		(void)strlen(r->acct_tag);
}

static void
on_str(void *arg, const char *s)
{
	(void)arg;
	str_check(s, 4096);
}

static void
on_amode(void *arg, const char *name, int mode)
{
	(void)arg;
	(void)mode;
	str_check(name, 4096);
}

static void
account_check(const struct store_account *a)
{
	if (a->saltlen > sizeof(a->salt) ||
	    strlen(a->name) >= sizeof(a->name) ||
	    strlen(a->email) >= sizeof(a->email))
		abort();
}

/* Everything ergo reads from an open store, by the names in it. */
static void
load_all(const struct names *acc, const struct names *fps,
    const struct names *nicks, const struct names *chans)
{
	struct store_account a;
	struct store_chan sc;
	char buf[300];
	int64_t ms;
	size_t i;

	(void)store_ban_list(ergo_now, on_ban, NULL);
	(void)store_meta_get("cloak-secret", buf, sizeof(buf));
	(void)store_meta_get("scram-fake-secret", buf, sizeof(buf));
	for (i = 0; i < acc->n; i++)
		if (store_account_get(acc->v[i], &a) == 1) {
			account_check(&a);
			(void)store_certfp_list(a.id, on_str, NULL);
			(void)store_chan_count(a.id);
			(void)store_marker_get(a.id, "#x", &ms);
			(void)store_hist_load_ring(0, a.id, 0, 1000, on_hist,
			    NULL);
		}
	for (i = 0; i < fps->n; i++)
		if (store_account_by_certfp(fps->v[i], &a) == 1)
			account_check(&a);
	for (i = 0; i < nicks->n; i++)
		if (store_nick_owner(nicks->v[i], &a) == 1)
			account_check(&a);
	for (i = 0; i < chans->n; i++)
		if (store_chan_get(chans->v[i], &sc) == 1) {
			if (strlen(sc.name) >= sizeof(sc.name) ||
			    strlen(sc.topic) >= sizeof(sc.topic) ||
			    strlen(sc.key) >= sizeof(sc.key) ||
			    strlen(sc.modes) >= sizeof(sc.modes))
				abort();
			(void)store_amode_list(sc.id, on_amode, NULL);
			(void)store_hist_load_ring(sc.id, 0, 0, 1000, on_hist,
			    NULL);
		}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct names acc, fps, nicks, chans;
	sqlite3 *db = NULL;

	if (fresh == NULL)
		setup();
	if (len == 0)
		return 0;
	if (data[0] & 1)
		hostile_rows(data + 1, data + len);
	else
		file_write(data + 1, len - 1);
	/* the names to look up, read as another program would */
	if (sqlite3_open_v2(dbpath, &db, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		sqlite3_close(db);
		db = NULL;
	}
	names_read(db, "SELECT name FROM accounts", &acc);
	names_read(db, "SELECT certfp FROM account_certfps", &fps);
	names_read(db, "SELECT nick FROM nick_reservations", &nicks);
	names_read(db, "SELECT name FROM channels", &chans);
	sqlite3_close(db);
	if (store_open(dbpath) == 0) {
		load_all(&acc, &fps, &nicks, &chans);
		store_close();
	}
	clean();
	return 0;
}
