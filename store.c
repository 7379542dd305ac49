/*
 * store.c: the only file that speaks SQL, with store_account.c,
 * store_chan.c, store_hist.c and store_ckpt.c (store_int.h). Owns the
 * SQLite handle, the schema and its forward migrations, the statements
 * and their binders, and the account lookups (by name, by certfp, by
 * reserved nick through the nick-owner filter its update hook keeps);
 * every parameter bound, never spliced in; keeps no protocol state.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ergo.h"
#include "store.h"
#include "log.h"
#include "conf.h"
#include "store_int.h"

#define STORE_BUSY_MS	5000	/* another process (ergo initdb, sqlite3) */
#define BACKUP_TRIES	100	/* x 50 ms while a writer holds the lock */

/*
 * Forward migrations: migrations[i] takes the schema from user_version i
 * to i + 1. Append, never edit a released entry.
 */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);"
	"INSERT INTO meta (key, value) VALUES ('created-at',"
	"    strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));",
	/* 1 -> 2: accounts with SCRAM-SHA-256 credentials, their TLS
	 * certificate fingerprints and the nicks they reserve */
	"CREATE TABLE accounts ("
	"    id INTEGER PRIMARY KEY,"
	"    name TEXT NOT NULL UNIQUE,"		/* casefolded */
	"    display TEXT NOT NULL,"
	"    salt BLOB NOT NULL,"
	"    iterations INTEGER NOT NULL,"
	"    stored_key BLOB NOT NULL,"
	"    server_key BLOB NOT NULL,"
	"    email TEXT,"
	"    registered INTEGER NOT NULL,"		/* unix time */
	"    enforce INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE account_certfps ("
	"    certfp TEXT PRIMARY KEY,"
	"    account INTEGER NOT NULL REFERENCES accounts(id)"
	"        ON DELETE CASCADE);"
	"CREATE INDEX account_certfps_account ON account_certfps(account);"
	"CREATE TABLE nick_reservations ("
	"    nick TEXT PRIMARY KEY,"			/* casefolded */
	"    account INTEGER NOT NULL REFERENCES accounts(id)"
	"        ON DELETE CASCADE,"
	"    reserved INTEGER NOT NULL);"
	"CREATE INDEX nick_reservations_account ON nick_reservations(account);",
	/* 2 -> 3: channels registered with ChanServ, and their AMODEs */
	"CREATE TABLE channels ("
	"    id INTEGER PRIMARY KEY,"
	"    name TEXT NOT NULL UNIQUE,"		/* casefolded */
	"    display TEXT NOT NULL,"
	"    founder INTEGER NOT NULL REFERENCES accounts(id)"
	"        ON DELETE CASCADE,"
	"    registered INTEGER NOT NULL);"
	"CREATE INDEX channels_founder ON channels(founder);"
	"CREATE TABLE channel_amodes ("
	"    channel INTEGER NOT NULL REFERENCES channels(id)"
	"        ON DELETE CASCADE,"
	"    account INTEGER NOT NULL REFERENCES accounts(id)"
	"        ON DELETE CASCADE,"
	"    mode TEXT NOT NULL,"			/* 'o' or 'v' */
	"    PRIMARY KEY (channel, account));"
	"CREATE INDEX channel_amodes_account ON channel_amodes(account);",
	/* 3 -> 4: a registered channel's state kept across restarts, and
	 * K-lines and D-lines */
	"ALTER TABLE channels ADD COLUMN modes TEXT NOT NULL DEFAULT '';"
	"ALTER TABLE channels ADD COLUMN chan_key TEXT;"
	"ALTER TABLE channels ADD COLUMN chan_limit INTEGER NOT NULL "
	"    DEFAULT 0;"
	"ALTER TABLE channels ADD COLUMN topic TEXT;"
	"ALTER TABLE channels ADD COLUMN topic_by TEXT;"
	"ALTER TABLE channels ADD COLUMN topic_time INTEGER NOT NULL "
	"    DEFAULT 0;"
	"CREATE TABLE bans ("
	"    kind TEXT NOT NULL,"			/* 'k' or 'd' */
	"    mask TEXT NOT NULL,"			/* normalised */
	"    reason TEXT NOT NULL,"
	"    setter TEXT NOT NULL,"
	"    set_at INTEGER NOT NULL,"		/* unix time */
	"    expires INTEGER NOT NULL,"		/* unix time; 0 never */
	"    PRIMARY KEY (kind, mask));",
	/* 4 -> 5: persistent history (history.persistent): the messages of
	 * registered channels and the direct messages of accounts, each row
	 * owned by one of them, so dropping it drops its history */
	"CREATE TABLE history ("
	"    id INTEGER PRIMARY KEY,"
	"    channel INTEGER REFERENCES channels(id) ON DELETE CASCADE,"
	"    account INTEGER REFERENCES accounts(id) ON DELETE CASCADE,"
	"    seq INTEGER NOT NULL,"			/* order in the ring */
	"    ms INTEGER NOT NULL,"			/* unix time, ms */
	"    kind INTEGER NOT NULL,"
	"    bot INTEGER NOT NULL DEFAULT 0,"
	"    msgid TEXT NOT NULL,"
	"    time TEXT NOT NULL,"			/* as sent, server-time */
	"    source TEXT NOT NULL,"
	"    target TEXT NOT NULL,"
	"    peer TEXT,"
	"    text TEXT NOT NULL,"
	"    ctags TEXT,"
	"    acct_tag TEXT);"
	"CREATE INDEX history_channel ON history(channel, seq);"
	"CREATE INDEX history_account ON history(account, seq);"
	"CREATE INDEX history_ms ON history(ms);",
	/* 5 -> 6: draft/read-marker, per account and target */
	"CREATE TABLE read_markers ("
	"    account INTEGER NOT NULL REFERENCES accounts(id)"
	"        ON DELETE CASCADE,"
	"    target TEXT NOT NULL,"			/* casefolded */
	"    ms INTEGER NOT NULL,"			/* unix time, ms */
	"    set_at INTEGER NOT NULL,"		/* when, ms: the trim */
	"    PRIMARY KEY (account, target));",
	/* 6 -> 7: account and channel ids are never handed out again
	 * (AUTOINCREMENT), so rows keyed by a dropped one elsewhere cannot
	 * pass to whoever registers next; SQLite cannot ALTER that, so each
	 * table is made anew, copied, and renamed over the old one (with
	 * foreign keys off: see store_migrate), its index made again */
	"CREATE TABLE accounts_v7 ("
	"    id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"    name TEXT NOT NULL UNIQUE,"		/* casefolded */
	"    display TEXT NOT NULL,"
	"    salt BLOB NOT NULL,"
	"    iterations INTEGER NOT NULL,"
	"    stored_key BLOB NOT NULL,"
	"    server_key BLOB NOT NULL,"
	"    email TEXT,"
	"    registered INTEGER NOT NULL,"		/* unix time */
	"    enforce INTEGER NOT NULL DEFAULT 0);"
	"INSERT INTO accounts_v7 (id, name, display, salt, iterations,"
	"    stored_key, server_key, email, registered, enforce)"
	"    SELECT id, name, display, salt, iterations, stored_key,"
	"    server_key, email, registered, enforce FROM accounts;"
	"DROP TABLE accounts;"
	"ALTER TABLE accounts_v7 RENAME TO accounts;"
	"CREATE TABLE channels_v7 ("
	"    id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"    name TEXT NOT NULL UNIQUE,"		/* casefolded */
	"    display TEXT NOT NULL,"
	"    founder INTEGER NOT NULL REFERENCES accounts(id)"
	"        ON DELETE CASCADE,"
	"    registered INTEGER NOT NULL,"
	"    modes TEXT NOT NULL DEFAULT '',"
	"    chan_key TEXT,"
	"    chan_limit INTEGER NOT NULL DEFAULT 0,"
	"    topic TEXT,"
	"    topic_by TEXT,"
	"    topic_time INTEGER NOT NULL DEFAULT 0);"
	"INSERT INTO channels_v7 (id, name, display, founder, registered,"
	"    modes, chan_key, chan_limit, topic, topic_by, topic_time)"
	"    SELECT id, name, display, founder, registered, modes, chan_key,"
	"    chan_limit, topic, topic_by, topic_time FROM channels;"
	"DROP TABLE channels;"
	"ALTER TABLE channels_v7 RENAME TO channels;"
	"CREATE INDEX channels_founder ON channels(founder);",
	/* 7 -> 8: an account imported from Ergo, Anope or Atheme keeps its
	 * old password hash (pwhash.h's form) until its first login with
	 * the password makes SCRAM credentials; NULL once it has them */
	"ALTER TABLE accounts ADD COLUMN legacy_hash TEXT;",
	/* 8 -> 9: NickServ SET MULTICLIENT (MC_*); NULL or 0 follows the
	 * config */
	"ALTER TABLE accounts ADD COLUMN multiclient INTEGER;",
	/* 9 -> 10: draft/metadata-2 keys of an account (METADATA * SET),
	 * dropped with it */
	"CREATE TABLE account_metadata ("
	"    account INTEGER NOT NULL REFERENCES accounts(id)"
	"        ON DELETE CASCADE,"
	"    key TEXT NOT NULL,"			/* lower case */
	"    value TEXT NOT NULL,"
	"    PRIMARY KEY (account, key));",
	/* 10 -> 11: NickServ SET ALWAYS-ON and AUTO-AWAY (SET_* of
	 * store.h; NULL or 0 follows the config), and the always-on users:
	 * what a restart brings back with no connection (channels as
	 * "o,#a ov,#b ,#c": the letters of the member's ranks, a comma,
	 * the name) */
	"ALTER TABLE accounts ADD COLUMN always_on INTEGER;"
	"ALTER TABLE accounts ADD COLUMN auto_away INTEGER;"
	"CREATE TABLE always_on ("
	"    account INTEGER PRIMARY KEY REFERENCES accounts(id)"
	"        ON DELETE CASCADE,"
	"    nick TEXT NOT NULL,"
	"    username TEXT NOT NULL,"
	"    host TEXT NOT NULL,"
	"    realname TEXT NOT NULL,"
	"    umodes INTEGER NOT NULL,"
	"    away TEXT,"
	"    channels TEXT NOT NULL,"
	"    last_seen INTEGER NOT NULL);",
	/* 11 -> 12: NickServ SET AUTOREPLAY-MISSED (SET_*), AUTOREPLAY-LINES
	 * (NULL: the config's) and REPLAY-JOINS (RJ_*) */
	"ALTER TABLE accounts ADD COLUMN autoreplay_missed INTEGER;"
	"ALTER TABLE accounts ADD COLUMN autoreplay_lines INTEGER;"
	"ALTER TABLE accounts ADD COLUMN replay_joins INTEGER;",
	/* 12 -> 13: ChanServ SET history and query-cutoff (CHAN_HIST_*,
	 * ChanServ's cutoffs; NULL or 0 follows the config), PURGE, and
	 * HostServ's vhost of an account (NULL none) and whether it is on */
	"ALTER TABLE channels ADD COLUMN history INTEGER;"
	"ALTER TABLE channels ADD COLUMN query_cutoff INTEGER;"
	"CREATE TABLE channel_purges ("
	"    name TEXT PRIMARY KEY,"			/* casefolded */
	"    display TEXT NOT NULL,"
	"    oper TEXT NOT NULL,"
	"    reason TEXT NOT NULL,"
	"    purged_at INTEGER NOT NULL);"
	"ALTER TABLE accounts ADD COLUMN vhost TEXT;"
	"ALTER TABLE accounts ADD COLUMN vhost_on INTEGER;",
	/* 13 -> 14: NickServ SET DM-HISTORY (DMH_*; NULL or 0 follows the
	 * config), and the names of accounts an oper UNREGISTERed, which
	 * stay reserved (Ergo's); ERASE forgets them. A suspension is a
	 * ban of kind 'a' whose mask is the casefolded account name, and
	 * a D-line that only requires SASL one of kind 's'. */
	"ALTER TABLE accounts ADD COLUMN dm_history INTEGER;"
	"CREATE TABLE unregistered_accounts ("
	"    name TEXT PRIMARY KEY,"			/* casefolded */
	"    display TEXT NOT NULL,"
	"    unregistered INTEGER NOT NULL);",		/* unix time */
	/* 14 -> 15: a registered channel's +f target (NULL none) and its
	 * +b +e +I lists (list 'b' 'e' 'I'), in the order they were set */
	"ALTER TABLE channels ADD COLUMN forward TEXT;"
	"CREATE TABLE channel_masks ("
	"    channel INTEGER NOT NULL REFERENCES channels(id)"
	"        ON DELETE CASCADE,"
	"    list TEXT NOT NULL,"
	"    pos INTEGER NOT NULL,"
	"    mask TEXT NOT NULL,"
	"    setter TEXT NOT NULL,"
	"    set_at INTEGER NOT NULL,"
	"    PRIMARY KEY (channel, list, pos));",
	/* 15 -> 16: draft/metadata-2 keys of a registered channel
	 * (METADATA #chan SET), dropped with its registration */
	"CREATE TABLE channel_metadata ("
	"    channel INTEGER NOT NULL REFERENCES channels(id)"
	"        ON DELETE CASCADE,"
	"    key TEXT NOT NULL,"			/* lower case */
	"    value TEXT NOT NULL,"
	"    PRIMARY KEY (channel, key));",
	/* 16 -> 17: codes sent by mail (irc_mail.c): kind 'v', a
	 * registration waiting for VERIFY (not an account yet, so no login
	 * sees it; its credentials wait here), kind 'r', a password reset
	 * of account; the code as the hex SHA-256 of what was mailed */
	"CREATE TABLE account_codes ("
	"    kind TEXT NOT NULL,"			/* 'v' or 'r' */
	"    name TEXT NOT NULL,"			/* casefolded */
	"    display TEXT NOT NULL,"
	"    account INTEGER REFERENCES accounts(id) ON DELETE CASCADE,"
	"    email TEXT NOT NULL,"
	"    code TEXT NOT NULL,"
	"    created INTEGER NOT NULL,"		/* unix time */
	"    expires INTEGER NOT NULL,"
	"    salt BLOB,"
	"    iterations INTEGER,"
	"    stored_key BLOB,"
	"    server_key BLOB,"
	"    PRIMARY KEY (kind, name));",
	/* 17 -> 18: cheaper history writes (issue 22): a channel's row is
	 * no longer in the account index nor an account's in the channel
	 * index (partial indexes, still used by "channel = ?" and
	 * "account = ?"), and no index by time: expiry reads the oldest
	 * rows by id, which are written in time order */
	"DROP INDEX history_channel;"
	"DROP INDEX history_account;"
	"DROP INDEX history_ms;"
	"CREATE INDEX history_channel ON history(channel, seq) "
	"    WHERE channel IS NOT NULL;"
	"CREATE INDEX history_account ON history(account, seq) "
	"    WHERE account IS NOT NULL;",
};
#define STORE_VERSION	((int)(sizeof(migrations) / sizeof(migrations[0])))

/* The statements' ids (Q_*) are store_int.h's. */

#define ACCOUNT_COLS	"a.id, a.display, a.salt, a.iterations, " \
			"a.stored_key, a.server_key, a.email, a.registered, " \
			"a.enforce, a.legacy_hash, a.multiclient, " \
			"a.always_on, a.auto_away, a.autoreplay_missed, " \
			"a.autoreplay_lines, a.replay_joins, a.vhost, a.vhost_on, " \
			"a.dm_history, ifnull((SELECT b.expires FROM bans b " \
			"WHERE b.kind = 'a' AND b.mask = a.name), -1)"

static const char *const queries[Q_COUNT] = {
	[Q_BEGIN] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_ACCOUNT_GET] = "SELECT " ACCOUNT_COLS " FROM accounts a "
	    "WHERE a.name = ?1",
	[Q_ACCOUNT_BY_CERTFP] = "SELECT " ACCOUNT_COLS " FROM accounts a "
	    "JOIN account_certfps c ON c.account = a.id WHERE c.certfp = ?1",
	[Q_NICK_OWNER] = "SELECT " ACCOUNT_COLS " FROM accounts a "
	    "JOIN nick_reservations n ON n.account = a.id WHERE n.nick = ?1",
	[Q_ACCOUNT_INSERT] = "INSERT INTO accounts (name, display, salt, "
	    "iterations, stored_key, server_key, email, registered, enforce, "
	    "legacy_hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
	[Q_NICK_INSERT] = "INSERT INTO nick_reservations (nick, account, "
	    "reserved) VALUES (?1, ?2, ?3)",
	[Q_ACCOUNT_DELETE] = "DELETE FROM accounts WHERE id = ?1",
	/* new credentials replace an imported hash for good */
	[Q_ACCOUNT_PASSWD] = "UPDATE accounts SET salt = ?2, iterations = ?3, "
	    "stored_key = ?4, server_key = ?5, legacy_hash = NULL "
	    "WHERE id = ?1",
	[Q_ACCOUNT_ENFORCE] = "UPDATE accounts SET enforce = ?2 WHERE id = ?1",
	[Q_ACCOUNT_MC] = "UPDATE accounts SET multiclient = ?2 WHERE id = ?1",
	[Q_ACCOUNT_AO] = "UPDATE accounts SET always_on = ?2 WHERE id = ?1",
	[Q_ACCOUNT_AA] = "UPDATE accounts SET auto_away = ?2 WHERE id = ?1",
	[Q_ACCOUNT_ARM] = "UPDATE accounts SET autoreplay_missed = ?2 "
	    "WHERE id = ?1",
	/* -1 (default) is kept as NULL */
	[Q_ACCOUNT_ARL] = "UPDATE accounts SET autoreplay_lines = "
	    "nullif(?2, -1) WHERE id = ?1",
	[Q_ACCOUNT_RJ] = "UPDATE accounts SET replay_joins = ?2 WHERE id = ?1",
	[Q_AO_PUT] = "INSERT INTO always_on (account, nick, username, host, "
	    "realname, umodes, away, channels, last_seen) VALUES (?1, ?2, ?3, "
	    "?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (account) DO UPDATE SET "
	    "nick = excluded.nick, username = excluded.username, "
	    "host = excluded.host, realname = excluded.realname, "
	    "umodes = excluded.umodes, away = excluded.away, "
	    "channels = excluded.channels, last_seen = excluded.last_seen",
	[Q_AO_DELETE] = "DELETE FROM always_on WHERE account = ?1",
	[Q_AO_LIST] = "SELECT o.account, a.display, a.multiclient, "
	    "a.always_on, a.auto_away, o.nick, o.username, o.host, "
	    "o.realname, o.umodes, o.away, o.channels, o.last_seen, "
	    "a.autoreplay_missed, ifnull(a.autoreplay_lines, -1), "
	    "a.replay_joins, a.dm_history, ifnull((SELECT b.expires FROM "
	    "bans b WHERE b.kind = 'a' AND b.mask = a.name), -1) "
	    "FROM always_on o JOIN accounts a ON a.id = o.account "
	    "ORDER BY o.account",
	[Q_ACCOUNT_VHOST] = "UPDATE accounts SET vhost = ?2, vhost_on = ?3 "
	    "WHERE id = ?1",
	[Q_CERTFP_INSERT] = "INSERT INTO account_certfps (certfp, account) "
	    "VALUES (?1, ?2)",
	[Q_CERTFP_DELETE] = "DELETE FROM account_certfps "
	    "WHERE certfp = ?1 AND account = ?2",
	[Q_CERTFP_LIST] = "SELECT certfp FROM account_certfps "
	    "WHERE account = ?1 ORDER BY certfp",
	[Q_CHAN_GET] = "SELECT c.id, c.display, c.founder, a.display, "
	    "c.registered, c.modes, c.chan_key, c.chan_limit, c.topic, "
	    "c.topic_by, c.topic_time, c.history, c.query_cutoff, c.forward "
	    "FROM channels c "
	    "JOIN accounts a ON a.id = c.founder WHERE c.name = ?1",
	[Q_CHAN_INSERT] = "INSERT INTO channels (name, display, founder, "
	    "registered) VALUES (?1, ?2, ?3, ?4)",
	[Q_CHAN_DELETE] = "DELETE FROM channels WHERE id = ?1",
	[Q_CHAN_FOUNDER] = "UPDATE channels SET founder = ?2 WHERE id = ?1",
	[Q_CHAN_RENAME] = "UPDATE channels SET name = ?2, display = ?3 "
	    "WHERE id = ?1",
	[Q_CHAN_COUNT] = "SELECT count(*) FROM channels WHERE founder = ?1",
	[Q_AMODE_SET] = "INSERT INTO channel_amodes (channel, account, mode) "
	    "VALUES (?1, ?2, ?3) ON CONFLICT (channel, account) "
	    "DO UPDATE SET mode = excluded.mode",
	[Q_AMODE_DELETE] = "DELETE FROM channel_amodes "
	    "WHERE channel = ?1 AND account = ?2",
	[Q_AMODE_GET] = "SELECT mode FROM channel_amodes "
	    "WHERE channel = ?1 AND account = ?2",
	[Q_AMODE_LIST] = "SELECT a.display, m.mode FROM channel_amodes m "
	    "JOIN accounts a ON a.id = m.account WHERE m.channel = ?1 "
	    "ORDER BY a.name",
	[Q_AMODE_CLEAR] = "DELETE FROM channel_amodes WHERE channel = ?1",
	[Q_CHAN_LIST] = "SELECT display FROM channels ORDER BY name",
	[Q_CHAN_SETTINGS] = "UPDATE channels SET history = ?2, "
	    "query_cutoff = ?3 WHERE id = ?1",
	[Q_PURGE_ADD] = "INSERT OR REPLACE INTO channel_purges (name, "
	    "display, oper, reason, purged_at) VALUES (?1, ?2, ?3, ?4, ?5)",
	[Q_PURGE_DEL] = "DELETE FROM channel_purges WHERE name = ?1",
	[Q_PURGE_GET] = "SELECT display, oper, reason, purged_at "
	    "FROM channel_purges WHERE name = ?1",
	[Q_PURGE_LIST] = "SELECT display FROM channel_purges ORDER BY name",
	[Q_HIST_FORGET] = "DELETE FROM history WHERE acct_tag = ?1 "
	    "COLLATE NOCASE",
	[Q_CHAN_STATE] = "UPDATE channels SET modes = ?2, chan_key = ?3, "
	    "chan_limit = ?4, topic = ?5, topic_by = ?6, topic_time = ?7, "
	    "forward = ?8 WHERE id = ?1",
	[Q_CHAN_MASKS] = "SELECT list, mask, setter, set_at FROM channel_masks "
	    "WHERE channel = ?1 ORDER BY list, pos",
	[Q_CHAN_MASKS_CLEAR] = "DELETE FROM channel_masks WHERE channel = ?1",
	[Q_CHAN_MASK_ADD] = "INSERT INTO channel_masks (channel, list, pos, "
	    "mask, setter, set_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[Q_BAN_SET] = "INSERT INTO bans (kind, mask, reason, setter, set_at, "
	    "expires) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
	    "ON CONFLICT (kind, mask) DO UPDATE SET reason = excluded.reason, "
	    "setter = excluded.setter, set_at = excluded.set_at, "
	    "expires = excluded.expires",
	[Q_BAN_DELETE] = "DELETE FROM bans WHERE kind = ?1 AND mask = ?2",
	[Q_BAN_LIST] = "SELECT kind, mask, reason, setter, set_at, expires "
	    "FROM bans WHERE expires = 0 OR expires >= ?1 ORDER BY kind, set_at",
	[Q_BAN_EXPIRE] = "DELETE FROM bans WHERE expires != 0 AND "
	    "expires < ?1",
	[Q_META_GET] = "SELECT value FROM meta WHERE key = ?1",
	[Q_META_SET] = "INSERT OR REPLACE INTO meta (key, value) "
	    "VALUES (?1, ?2)",
	[Q_HIST_INSERT] = "INSERT INTO history (channel, account, seq, ms, "
	    "kind, bot, msgid, time, source, target, peer, text, ctags, "
	    "acct_tag) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, "
	    "?12, ?13, ?14)",
	[Q_HIST_PRUNE_CHAN] = "DELETE FROM history WHERE channel = ?1 AND "
	    "seq < ?2",
	[Q_HIST_PRUNE_ACCT] = "DELETE FROM history WHERE account = ?1 AND "
	    "seq < ?2",
	/* one ring's newest rows, by its index, oldest first */
	[Q_HIST_LOAD_CHAN] = "SELECT * FROM (SELECT channel, account, seq, "
	    "ms, kind, bot, msgid, time, source, target, peer, text, ctags, "
	    "acct_tag, id FROM history WHERE channel = ?1 AND ms >= ?2 "
	    "ORDER BY seq DESC LIMIT ?3) ORDER BY seq, id",
	[Q_HIST_LOAD_ACCT] = "SELECT * FROM (SELECT channel, account, seq, "
	    "ms, kind, bot, msgid, time, source, target, peer, text, ctags, "
	    "acct_tag, id FROM history WHERE account = ?1 AND ms >= ?2 "
	    "ORDER BY seq DESC LIMIT ?3) ORDER BY seq, id",
	/* rows are written in seq order: the last ones hold the largest */
	[Q_HIST_MAXSEQ] = "SELECT max(seq) FROM (SELECT seq FROM history "
	    "ORDER BY id DESC LIMIT 1000)",
	/* in bounded batches: a month of rows is not one DELETE; the
	 * expired among the ?2 oldest by id (rows are written in time
	 * order, so a later row is seldom older) */
	[Q_HIST_EXPIRE] = "DELETE FROM history WHERE id IN (SELECT id FROM "
	    "(SELECT id, ms FROM history ORDER BY id LIMIT ?2) WHERE ms < ?1)",
	/* whether a batch's row still has its owner (sorted once each) */
	[Q_HIST_OWNER] = "SELECT (SELECT count(*) FROM channels WHERE id = ?1) "
	    "+ (SELECT count(*) FROM accounts WHERE id = ?2)",
	[Q_HIST_REDACT] = "DELETE FROM history WHERE msgid = ?3 AND "
	    "(channel = ?1 OR account = ?2)",
	[Q_MARKER_GET] = "SELECT ms FROM read_markers WHERE account = ?1 AND "
	    "target = ?2",
	/* only ever forward (draft/read-marker) */
	[Q_MARKER_SET] = "INSERT INTO read_markers (account, target, ms, "
	    "set_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (account, target) "
	    "DO UPDATE SET ms = excluded.ms, set_at = excluded.set_at "
	    "WHERE excluded.ms > read_markers.ms",
	/* all but the ?2 set last (not the client's own timestamps, which
	 * may be old): an account names any targets it likes */
	[Q_MARKER_TRIM] = "DELETE FROM read_markers WHERE account = ?1 AND "
	    "target IN (SELECT target FROM read_markers WHERE account = ?1 "
	    "ORDER BY set_at DESC, rowid DESC LIMIT -1 OFFSET ?2)",
	/* RENAME: a marker of the new name is older than the channel now
	 * named so (the name was free), so the old name's replaces it */
	[Q_MARKER_RENAME] = "UPDATE OR REPLACE read_markers SET target = ?2 "
	    "WHERE target = ?1",
	[Q_MD_LIST] = "SELECT key, value FROM account_metadata WHERE "
	    "account = ?1 ORDER BY key",
	[Q_MD_SET] = "INSERT INTO account_metadata (account, key, value) "
	    "VALUES (?1, ?2, ?3) ON CONFLICT (account, key) DO UPDATE SET "
	    "value = excluded.value",
	[Q_MD_DEL] = "DELETE FROM account_metadata WHERE account = ?1 AND "
	    "key = ?2",
	[Q_MD_CLEAR] = "DELETE FROM account_metadata WHERE account = ?1",
	[Q_ACCOUNT_DMH] = "UPDATE accounts SET dm_history = ?2 WHERE id = ?1",
	/* only the casing may change: the folded name is the same */
	[Q_ACCOUNT_RENAME] = "UPDATE accounts SET display = ?2 WHERE id = ?1",
	[Q_ACCOUNT_LIST] = "SELECT display FROM accounts ORDER BY name",
	[Q_BAN_GET] = "SELECT kind, mask, reason, setter, set_at, expires "
	    "FROM bans WHERE kind = ?1 AND mask = ?2 AND "
	    "(expires = 0 OR expires >= ?3)",
	/* an account's suspension goes with it */
	[Q_SUSPENSION_DEL] = "DELETE FROM bans WHERE kind = 'a' AND "
	    "mask = (SELECT name FROM accounts WHERE id = ?1)",
	[Q_UNREG_ADD] = "INSERT OR REPLACE INTO unregistered_accounts (name, "
	    "display, unregistered) VALUES (?1, ?2, ?3)",
	[Q_UNREG_DEL] = "DELETE FROM unregistered_accounts WHERE name = ?1",
	[Q_UNREG_GET] = "SELECT display FROM unregistered_accounts "
	    "WHERE name = ?1",
	[Q_CODE_PURGE] = "DELETE FROM account_codes WHERE kind = ?1 AND "
	    "name = ?2 AND expires <= ?3",
	[Q_CODE_INSERT] = "INSERT INTO account_codes (kind, name, display, "
	    "account, email, code, created, expires, salt, iterations, "
	    "stored_key, server_key) VALUES (?1, ?2, ?3, nullif(?4, 0), ?5, "
	    "?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[Q_CODE_GET] = "SELECT display, ifnull(account, 0), email, code, "
	    "created, salt, iterations, stored_key, server_key "
	    "FROM account_codes WHERE kind = ?1 AND name = ?2 AND "
	    "expires > ?3",
	[Q_CODE_DEL] = "DELETE FROM account_codes WHERE kind = ?1 AND "
	    "name = ?2",
	[Q_CODE_EXPIRE] = "DELETE FROM account_codes WHERE expires <= ?1",
	/* HistServ EXPORT: one scan, as FORGET's (acct_tag has no index) */
	[Q_HIST_EXPORT] = "SELECT channel, account, seq, ms, kind, bot, "
	    "msgid, time, source, target, peer, text, ctags, acct_tag "
	    "FROM history WHERE acct_tag = ?1 COLLATE NOCASE "
	    "ORDER BY ms, id",
	[Q_CHMD_LIST] = "SELECT key, value FROM channel_metadata WHERE "
	    "channel = ?1 ORDER BY key",
	[Q_CHMD_SET] = "INSERT INTO channel_metadata (channel, key, value) "
	    "VALUES (?1, ?2, ?3) ON CONFLICT (channel, key) DO UPDATE SET "
	    "value = excluded.value",
	[Q_CHMD_DEL] = "DELETE FROM channel_metadata WHERE channel = ?1 AND "
	    "key = ?2",
	[Q_CHMD_CLEAR] = "DELETE FROM channel_metadata WHERE channel = ?1",
};

sqlite3			*store_db;
static char		*db_path;	/* for messages */
static sqlite3_stmt	*stmts[Q_COUNT];
char			 store_errbuf[256];	/* store_error() */

enum { OPEN_RUN, OPEN_INIT, OPEN_UPGRADE };

static void	 owned_hook(void *, int, const char *, const char *,
		    sqlite3_int64);
/* the nick-owner filter (store_nick_owner): rebuild, trusted, or off */
static enum { OWNED_STALE, OWNED_OK, OWNED_OFF } owned_state;
static int	 store_version_get(int *);
static int	 store_migrate(int);
static int	 store_prepare(void);
static int	 store_copy(sqlite3 *, const char *);

/*
 * Remembers (and logs once) why a runtime query failed; for a failure
 * of the filesystem, with e (errno just after the step), the reason
 * SQLite's message does not give (a read-only file, a full disk).
 */
void
store_fail_errno(const char *what, int e)
{
	int rc = sqlite3_errcode(store_db) & 0xff;

	if (e != 0 && (rc == SQLITE_IOERR || rc == SQLITE_FULL ||
	    rc == SQLITE_READONLY || rc == SQLITE_CANTOPEN))
		snprintf(store_errbuf, sizeof(store_errbuf), "%s: %s", sqlite3_errmsg(store_db),
		    strerror(e));
	else
		snprintf(store_errbuf, sizeof(store_errbuf), "%s", sqlite3_errmsg(store_db));
	log_warnx("store", "%s: %s: %s", db_path, what, store_errbuf);
}

void
store_fail(const char *what)
{
	store_fail_errno(what, 0);
}

const char *
store_error(void)
{
	return store_errbuf[0] != '\0' ? store_errbuf : "database error";
}

static int	 lock_fd = -1;	/* PATH.lock, held while the server runs */

/*
 * One server per database: an fcntl(2) write lock on PATH.lock (created
 * 0600), held until exit, with the holder's PID written in it. Not a lock
 * on the database itself: SQLite keeps its own fcntl locks there, and
 * closing any other descriptor of that file would drop them. Only `run`
 * takes it; backupdb and upgradedb work on a live database through
 * SQLite's own locking, as before. Returns 0, or -1 (logged).
 */
static int
store_lock(const char *path)
{
	char lp[4096 + 8], pid[32];
	struct flock fl;
	int fd, n;

	snprintf(lp, sizeof(lp), "%s.lock", path);
	if ((fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY,
	    0600)) == -1) {
		log_error("store", "%s: %s", lp, strerror(errno));
		return -1;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &fl) == -1) {
		if (errno == EACCES || errno == EAGAIN) {
			if (fcntl(fd, F_GETLK, &fl) == -1 ||
			    fl.l_type == F_UNLCK)
				fl.l_pid = 0;
			log_error("store", "%s is in use by pid %ld (it holds "
			    "%s): one server per database", path,
			    (long)fl.l_pid, lp);
		} else
			log_error("store", "%s: lock: %s", lp,
			    strerror(errno));
		close(fd);
		return -1;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || write(fd, pid, (size_t)n) != n)
		log_warn("store", "%s", lp);	/* the lock holds anyway */
	lock_fd = fd;
	return 0;
}

/*
 * Opens (creating with mode 0600 if missing, unless upgrading) the
 * database at path and handles its schema as mode says. Returns 0, or -1
 * after logging "path: reason".
 */
static int
store_open_mode(const char *path, int mode)
{
	sqlite3_stmt	*st = NULL;
	const char	*jm;
	char		 bak[4096 + 64];
	int		 fd, version;

	if (store_db != NULL)
		store_close();
	if ((db_path = strdup(path)) == NULL) {
		log_error("store", "%s: %s", path, strerror(errno));
		return -1;
	}

	/*
	 * Create the file ourselves: sqlite would use 0644 & ~umask, and
	 * the database will hold password verifiers.
	 */
	if (mode == OPEN_UPGRADE)
		fd = -1, errno = EEXIST;
	else
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOCTTY, 0600);
	if (fd == -1 && errno != EEXIST) {
		log_error("store", "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (fd == -1 && mode == OPEN_INIT) {
		log_error("store", "%s: already exists; initdb creates a new "
		    "database only (upgradedb migrates one)", path);
		goto fail;
	}
	if (fd != -1) {
		if (fchmod(fd, 0600) == -1)	/* umask may have said 0400 */
			log_warn("store", "%s: chmod", path);
		close(fd);
		log_info("store", "%s: created", path);
	}

	/*
	 * One thread, so no mutexes: a library built serialized (Debian's)
	 * otherwise takes one around every call, 10% of a history batch.
	 * Refused quietly once SQLite is initialised (a second open).
	 */
	(void)sqlite3_config(SQLITE_CONFIG_SINGLETHREAD);
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	if (sqlite3_open_v2(path, &store_db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		log_error("store", "%s: %s", path, store_db != NULL ?
		    sqlite3_errmsg(store_db) : "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(store_db, 1);
	sqlite3_update_hook(store_db, owned_hook, NULL);
	owned_state = OWNED_STALE;
	if (sqlite3_busy_timeout(store_db, STORE_BUSY_MS) != SQLITE_OK)
		goto fail_msg;

	/* journal_mode answers with the mode it ended up in */
	if (sqlite3_prepare_v2(store_db, "PRAGMA journal_mode=WAL", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		goto fail_msg;
	jm = (const char *)sqlite3_column_text(st, 0);
	if (jm == NULL || strcmp(jm, "wal") != 0)
		log_warnx("store", "%s: journal mode is %s, not wal", path,
		    jm != NULL ? jm : "unknown");
	sqlite3_finalize(st);
	st = NULL;
	if (store_ckpt_attach(store_db) == -1)
		goto fail;

	/*
	 * synchronous=FULL: a COMMIT is on disk before we answer, so a
	 * confirmed account survives power loss, not only kill -9.
	 */
	if (store_exec("PRAGMA foreign_keys=ON") == -1 ||
	    store_exec("PRAGMA synchronous=FULL") == -1 ||
	    store_version_get(&version) == -1)
		goto fail;
	/* sqlite falls back to read-only quietly; we would fail at COMMIT */
	if (sqlite3_db_readonly(store_db, "main") == 1) {
		log_error("store", "%s: the database is read-only", path);
		goto fail;
	}
	/* after the checks that say more, before anything is written */
	if (mode == OPEN_RUN && lock_fd == -1 && store_lock(path) == -1)
		goto fail;
	if (version > STORE_VERSION) {
		log_error("store", "%s: schema version %d is newer than this "
		    "ergo supports (%d); use a newer ergo or restore a backup",
		    path, version, STORE_VERSION);
		goto fail;
	}
	if (version > 0 && version < STORE_VERSION) {
		if (mode == OPEN_RUN && (conf == NULL ||
		    !conf->datastore_autoupgrade)) {
			log_error("store", "%s: schema version %d is older than "
			    "this ergo's (%d); run `ergo upgradedb` (it keeps a "
			    "backup) or set datastore { autoupgrade yes }",
			    path, version, STORE_VERSION);
			goto fail;
		}
		/* a consistent copy before the first irreversible step */
		snprintf(bak, sizeof(bak), "%s.v%d-%lld.bak", path, version,
		    (long long)time(NULL));
		if (store_copy(store_db, bak) == -1)
			goto fail;
		log_info("store", "%s: backup of schema version %d in %s",
		    path, version, bak);
	}
	if (version < STORE_VERSION && store_migrate(version) == -1)
		goto fail;
	if (mode == OPEN_UPGRADE && version == STORE_VERSION)
		log_info("store", "%s: schema version %d is current", path,
		    version);
	if (store_prepare() == -1)
		goto fail;
	return 0;

fail_msg:
	log_error("store", "%s: %s", path, sqlite3_errmsg(store_db));
fail:
	sqlite3_finalize(st);
	store_close();
	free(db_path);
	db_path = NULL;
	return -1;
}

int
store_open(const char *path)
{
	return store_open_mode(path, OPEN_RUN);
}

/*
 * For `ergo importdb`, which commits once per row: synchronous=NORMAL
 * (in WAL mode still safe from corruption, only the last commits may
 * be lost to a power cut, and an import can be run again) instead of a
 * sync per commit. The last of it is synced at store_close.
 */
int
store_bulk(bool on)
{
	return store_exec(on ? "PRAGMA synchronous=NORMAL" :
	    "PRAGMA synchronous=FULL");
}

int
store_init(const char *path)
{
	return store_open_mode(path, OPEN_INIT);
}

int
store_upgrade(const char *path)
{
	struct stat sb;

	if (stat(path, &sb) == -1) {
		log_warn("store", "%s", path);
		return -1;
	}
	return store_open_mode(path, OPEN_UPGRADE);
}

void
store_close(void)
{
	size_t	 i;

	store_ckpt_stop();
	for (i = 0; i < Q_COUNT; i++) {
		sqlite3_finalize(stmts[i]);
		stmts[i] = NULL;
	}
	if (lock_fd != -1) {	/* the file stays: unlinking it would race */
		close(lock_fd);
		lock_fd = -1;
	}
	if (store_db == NULL)
		return;
	if (sqlite3_close(store_db) != SQLITE_OK)
		log_warnx("store", "%s: close: %s", db_path,
		    sqlite3_errmsg(store_db));
	store_db = NULL;
	free(db_path);
	db_path = NULL;
}

/* Runs SQL without results; logs and returns -1 on error. */
int
store_exec(const char *sql)
{
	char	*err = NULL;

	if (sqlite3_exec(store_db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_warnx("store", "%s: %s", db_path,
		    err != NULL ? err : sqlite3_errmsg(store_db));
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

	if (sqlite3_prepare_v2(store_db, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK) {
		log_warnx("store", "%s: %s", db_path, sqlite3_errmsg(store_db));
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int(st, 0);
	else
		log_warnx("store", "%s: %s", db_path, sqlite3_errmsg(store_db));
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/*
 * 0 if every foreign key of the database points at a row (PRAGMA
 * foreign_key_check answers nothing), else -1, logged with the first.
 */
static int
store_fk_check(void)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(store_db, "PRAGMA foreign_key_check", -1, &st,
	    NULL) != SQLITE_OK) {
		log_warnx("store", "%s: %s", db_path, sqlite3_errmsg(store_db));
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		log_warnx("store", "%s: table %s row %lld: a foreign key points "
		    "at no row of %s", db_path, sqlite3_column_text(st, 0),
		    (long long)sqlite3_column_int64(st, 1),
		    sqlite3_column_text(st, 2));
	else if (rc != SQLITE_DONE)
		log_warnx("store", "%s: %s", db_path, sqlite3_errmsg(store_db));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/*
 * Each step runs in its own IMMEDIATE transaction together with the
 * user_version bump, so a crash leaves the schema at a version boundary.
 * Foreign keys are off meanwhile (the pragma is a no-op inside a
 * transaction): a step that remakes a table drops the old one, which
 * with them on would cascade to every row that refers to it. Each step
 * is checked to leave none dangling before it commits.
 */
static int
store_migrate(int from)
{
	char	 sql[64];
	int	 v, rc = 0;

	if (store_exec("PRAGMA foreign_keys=OFF") == -1)
		return -1;
	for (v = from; v < STORE_VERSION; v++) {
		if (store_exec("BEGIN IMMEDIATE") == -1) {
			rc = -1;
			break;
		}
		/* user_version cannot be bound; v is ours, not input */
		snprintf(sql, sizeof(sql), "PRAGMA user_version=%d", v + 1);
		if (store_exec(migrations[v]) == -1 || store_fk_check() == -1 ||
		    store_exec(sql) == -1 || store_exec("COMMIT") == -1) {
			store_exec("ROLLBACK");
			log_warnx("store", "%s: migration to schema version %d "
			    "failed", db_path, v + 1);
			rc = -1;
			break;
		}
		if (from > 0)
			log_info("store", "%s: schema upgraded to version %d",
			    db_path, v + 1);
	}
	if (store_exec("PRAGMA foreign_keys=ON") == -1)
		rc = -1;
	return rc;
}

static int
store_prepare(void)
{
	size_t	 i;

	for (i = 0; i < Q_COUNT; i++)
		if (sqlite3_prepare_v3(store_db, queries[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &stmts[i], NULL) != SQLITE_OK) {
			log_warnx("store", "%s: %s", db_path,
			    sqlite3_errmsg(store_db));
			return -1;
		}
	return 0;
}

/*
 * Copies the database behind src to dest (created 0600, must not exist)
 * with the backup API, which gives a consistent snapshot even while the
 * server writes. Returns 0, or -1 after logging.
 */
static int
store_copy(sqlite3 *src, const char *dest)
{
	sqlite3		*dst = NULL;
	sqlite3_backup	*b;
	int		 fd, rc, tries = 0;

	fd = open(dest, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY,
	    0600);
	if (fd == -1) {
		log_warn("store", "%s", dest);
		return -1;
	}
	(void)fchmod(fd, 0600);
	close(fd);
	if (sqlite3_open_v2(dest, &dst, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		log_warnx("store", "%s: %s", dest, dst != NULL ?
		    sqlite3_errmsg(dst) : "out of memory");
		goto fail;
	}
	if ((b = sqlite3_backup_init(dst, "main", src, "main")) == NULL) {
		log_warnx("store", "%s: %s", dest, sqlite3_errmsg(dst));
		goto fail;
	}
	do {
		rc = sqlite3_backup_step(b, -1);
		if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
			sqlite3_sleep(50);
	} while ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) &&
	    ++tries < BACKUP_TRIES);
	if (sqlite3_backup_finish(b) != SQLITE_OK || rc != SQLITE_DONE) {
		log_warnx("store", "%s: backup: %s", dest, rc == SQLITE_DONE ?
		    sqlite3_errmsg(dst) : sqlite3_errstr(rc));
		goto fail;
	}
	if (sqlite3_close(dst) != SQLITE_OK) {
		log_warnx("store", "%s: %s", dest, sqlite3_errmsg(dst));
		dst = NULL;
		goto fail_unlink;
	}
	return 0;
fail:
	sqlite3_close(dst);
fail_unlink:
	unlink(dest);
	return -1;
}

/*
 * `ergo backupdb`: opens the database at path as it is (no migration, no
 * creation) and copies it to dest.
 */
int
store_backup(const char *path, const char *dest)
{
	sqlite3	*src = NULL;
	int	 rc = -1;

	if (sqlite3_open_v2(path, &src, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		log_warnx("store", "%s: %s", path, src != NULL ?
		    sqlite3_errmsg(src) : "out of memory");
		goto done;
	}
	sqlite3_busy_timeout(src, STORE_BUSY_MS);
	if (store_copy(src, dest) == 0) {
		log_info("store", "%s: copied to %s", path, dest);
		rc = 0;
	}
done:
	sqlite3_close(src);
	return rc;
}

/* ---- queries: one function each, every parameter bound ---- */

/* A prepared statement, reset with its bindings cleared. */
sqlite3_stmt *
q(int id)
{
	sqlite3_stmt	*st = stmts[id];

	if (st == NULL) {
		snprintf(store_errbuf, sizeof(store_errbuf), "database not open");
		return NULL;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return st;
}

/* Q_ARGS and its binders are store_int.h's. */

/* Binds a[0..n) to st's parameters 1..n; 0, or -1 after store_fail. */
int
q_bind(sqlite3_stmt *st, const char *what, const struct qarg *a, int n)
{
	int	 i, rc;

	for (i = 0; i < n; i++) {
		const struct qarg *x = &a[i];
		bool null = x->type == QA_NULL ||
		    (x->type == QA_ID && x->i == 0) ||
		    (x->type == QA_OPT_TEXT && x->p == NULL) ||
		    (x->type == QA_TEXT_EMPTY && (x->p == NULL ||
		    ((const char *)x->p)[0] == '\0'));

		if (null)
			rc = sqlite3_bind_null(st, i + 1);
		else if (x->type == QA_INT || x->type == QA_ID)
			rc = sqlite3_bind_int64(st, i + 1, x->i);
		else if (x->type == QA_BLOB)
			rc = sqlite3_bind_blob(st, i + 1, x->p, x->n,
			    SQLITE_STATIC);
		else
			rc = sqlite3_bind_text(st, i + 1, x->p, x->n,
			    SQLITE_STATIC);
		if (rc != SQLITE_OK) {
			store_fail(what);
			return -1;
		}
	}
	return 0;
}

/* Steps a statement that returns no rows; 0, or -1 after store_fail. */
int
q_done(sqlite3_stmt *st, const char *what)
{
	int	 rc, e;

	errno = 0;
	rc = sqlite3_step(st);
	e = errno;
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		store_fail_errno(what, e);
		return -1;
	}
	return 0;
}

/* One statement that returns no rows: q, q_bind, q_done. */
int
q_exec(int id, const char *what, const struct qarg *a, int n)
{
	sqlite3_stmt	*st;

	if ((st = q(id)) == NULL || q_bind(st, what, a, n) == -1)
		return -1;
	return q_done(st, what);
}

/*
 * Steps an INSERT that a UNIQUE or foreign key may refuse: 0 done, 1
 * refused (nothing logged: the caller says what it means), -1 after
 * store_fail.
 */
int
q_unique(sqlite3_stmt *st, const char *what)
{
	int	 rc, e;

	errno = 0;
	rc = sqlite3_step(st);
	e = errno;
	sqlite3_reset(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return 1;
	if (rc != SQLITE_DONE) {
		store_fail_errno(what, e);
		return -1;
	}
	return 0;
}

int
tx_begin(void)
{
	sqlite3_stmt	*st;

	if ((st = q(Q_BEGIN)) == NULL)
		return -1;
	return q_done(st, "begin");
}

/* COMMIT; on failure the transaction is rolled back. */
int
tx_commit(void)
{
	sqlite3_stmt	*st;

	if ((st = q(Q_COMMIT)) != NULL && q_done(st, "commit") == 0)
		return 0;
	if (!sqlite3_get_autocommit(store_db) && (st = q(Q_ROLLBACK)) != NULL)
		(void)q_done(st, "rollback");
	return -1;
}

void
tx_rollback(void)
{
	sqlite3_stmt	*st;

	if (!sqlite3_get_autocommit(store_db) && (st = q(Q_ROLLBACK)) != NULL)
		(void)q_done(st, "rollback");
}

void
blob_copy(sqlite3_stmt *st, int col, unsigned char *dst, size_t dstsz,
    size_t *len)
{
	const void	*p = sqlite3_column_blob(st, col);
	size_t		 n = (size_t)sqlite3_column_bytes(st, col);

	if (p == NULL || n > dstsz)
		n = 0;
	if (n > 0)
		memcpy(dst, p, n);
	if (len != NULL)
		*len = n;
}

/* Text column i of st, or "" for NULL. */
const char *
col_str(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t != NULL ? (const char *)t : "";
}

/* Steps an ACCOUNT_COLS query: 1 and *a filled, 0 none, -1 error. */
static int
account_row(sqlite3_stmt *st, struct store_account *a, const char *what)
{
	const unsigned char *t;
	size_t	 n;
	int	 rc = sqlite3_step(st);

	if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		store_fail(what);
		sqlite3_reset(st);
		return -1;
	}
	memset(a, 0, sizeof(*a));
	a->id = sqlite3_column_int64(st, 0);
	if ((t = sqlite3_column_text(st, 1)) != NULL)
		snprintf(a->name, sizeof(a->name), "%s", (const char *)t);
	blob_copy(st, 2, a->salt, sizeof(a->salt), &a->saltlen);
	a->iterations = (unsigned)sqlite3_column_int(st, 3);
	blob_copy(st, 4, a->stored_key, sizeof(a->stored_key), &n);
	if (n != STORE_KEYLEN)
		a->iterations = 0;	/* a damaged row never verifies */
	blob_copy(st, 5, a->server_key, sizeof(a->server_key), &n);
	if (n != STORE_KEYLEN)
		a->iterations = 0;
	if ((t = sqlite3_column_text(st, 6)) != NULL)
		snprintf(a->email, sizeof(a->email), "%s", (const char *)t);
	a->registered = (time_t)sqlite3_column_int64(st, 7);
	a->enforce = sqlite3_column_int(st, 8);
	if ((t = sqlite3_column_text(st, 9)) != NULL)
		snprintf(a->legacy, sizeof(a->legacy), "%s", (const char *)t);
	a->set.multiclient = sqlite3_column_int(st, 10);
	a->set.always_on = sqlite3_column_int(st, 11);
	a->set.auto_away = sqlite3_column_int(st, 12);
	a->set.autoreplay_missed = sqlite3_column_int(st, 13);
	a->set.autoreplay_lines = sqlite3_column_type(st, 14) == SQLITE_NULL ? -1 :
	    sqlite3_column_int(st, 14);
	a->set.replay_joins = sqlite3_column_int(st, 15);
	if ((t = sqlite3_column_text(st, 16)) != NULL)
		snprintf(a->vhost, sizeof(a->vhost), "%s", (const char *)t);
	a->vhost_on = sqlite3_column_int(st, 17) != 0;
	a->set.dm_history = sqlite3_column_int(st, 18);
	a->suspend_expires = (time_t)sqlite3_column_int64(st, 19);
	sqlite3_reset(st);
	return 1;
}

static int
account_lookup(int id, const char *key, struct store_account *a,
    const char *what)
{
	sqlite3_stmt	*st;

	if ((st = q(id)) == NULL ||
	    q_bind(st, what, Q_ARGS(QT(key))) == -1)
		return -1;
	return account_row(st, a, what);
}

/* The account whose casefolded name is folded. */
int
store_account_get(const char *folded, struct store_account *a)
{
	return account_lookup(Q_ACCOUNT_GET, folded, a, "account lookup");
}

/* The account a TLS client certificate fingerprint belongs to. */
int
store_account_by_certfp(const char *certfp, struct store_account *a)
{
	return account_lookup(Q_ACCOUNT_BY_CERTFP, certfp, a,
	    "certfp lookup");
}

/*
 * Which nicks some account reserves, as a Bloom filter: every
 * registration asks store_nick_owner, and most nicks are nobody's, so a
 * clear bit answers "none" without SQL (it was 9% of a registration's
 * instructions in bench/profile.sh). A set bit may be a false alarm; the
 * query decides. Any insert into nick_reservations through this
 * connection (the update hook sees them all, whatever the code path)
 * marks the filter stale and the next lookup rebuilds it from the table.
 */
static uint64_t	 owned_bits[1024];	/* 65536 bits, 8 KiB */

static uint64_t
owned_hash(const char *folded)
{
	uint64_t h = 1469598103934665603ULL;	/* FNV-1a */

	for (; *folded != '\0'; folded++)
		h = (h ^ (unsigned char)*folded) * 1099511628211ULL;
	return h;
}

static void
owned_add(const char *folded)
{
	uint64_t h = owned_hash(folded);
	int i;

	for (i = 0; i < 3; i++, h >>= 16)
		owned_bits[(h & 0xffff) >> 6] |= 1ULL << (h & 63);
}

static bool
owned_maybe(const char *folded)
{
	uint64_t h = owned_hash(folded);
	int i;

	for (i = 0; i < 3; i++, h >>= 16)
		if (!(owned_bits[(h & 0xffff) >> 6] & (1ULL << (h & 63))))
			return false;
	return true;
}

/* Rebuilds the filter; on any error it stays off (every lookup asks). */
static void
owned_build(void)
{
	sqlite3_stmt	*st;
	const unsigned char *t;
	int		 rc;

	owned_state = OWNED_OFF;
	memset(owned_bits, 0, sizeof(owned_bits));
	if (sqlite3_prepare_v2(store_db, "SELECT nick FROM nick_reservations", -1,
	    &st, NULL) != SQLITE_OK) {
		store_fail("nick filter");
		return;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((t = sqlite3_column_text(st, 0)) != NULL)
			owned_add((const char *)t);
	if (rc == SQLITE_DONE)
		owned_state = OWNED_OK;
	else
		store_fail("nick filter");
	sqlite3_finalize(st);
}

static void
owned_hook(void *arg, int op, const char *dbname, const char *table,
    sqlite3_int64 rowid)
{
	(void)arg;
	(void)dbname;
	(void)rowid;
	if (op != SQLITE_DELETE && strcmp(table, "nick_reservations") == 0)
		owned_state = OWNED_STALE;
}

/* The account that reserves the casefolded nick. */
int
store_nick_owner(const char *folded, struct store_account *a)
{
	if (owned_state == OWNED_STALE)
		owned_build();
	if (owned_state == OWNED_OK && !owned_maybe(folded))
		return 0;
	return account_lookup(Q_NICK_OWNER, folded, a, "nick lookup");
}
