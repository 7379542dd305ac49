/*
 * store.h: what store.c exports: the only file that speaks SQL.
 */
#ifndef STORE_H
#define STORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ergo.h"

#define STORE_KEYLEN		32	/* SHA-256: StoredKey, ServerKey */
#define STORE_SALTMAX		64
#define STORE_EMAIL_MAX		254
#define STORE_CERTFP_LEN	64	/* lowercase hex SHA-256 */
#define STORE_LEGACY_MAX	400	/* pwhash.h's PWHASH_LEGACY_MAX */
#define STORE_VHOST_MAX	64	/* HostServ: the most a vhost may be */

/* NickServ SET ENFORCE: how a reserved nick is protected */
enum { ENFORCE_DEFAULT, ENFORCE_NONE, ENFORCE_TIMEOUT, ENFORCE_STRICT };
/* NickServ SET MULTICLIENT: several sessions of the account's user */
enum { MC_DEFAULT, MC_ON, MC_OFF };
/* NickServ SET ALWAYS-ON and AUTO-AWAY: the config's, on, off */
enum { SET_DEFAULT, SET_ON, SET_OFF };
/* NickServ SET REPLAY-JOINS (Ergo's values; commands-only is 0) */
enum { RJ_COMMANDS_ONLY, RJ_ALWAYS, RJ_NEVER };
/* NickServ SET DM-HISTORY (Ergo's values) */
enum { DMH_DEFAULT, DMH_OFF, DMH_EPHEMERAL, DMH_ON };

/* An account's NickServ SET choices, which its users carry along
 * (irc_account.c copies them into client_ext at login). */
struct store_settings {
	int		 multiclient;			/* MC_* */
	int		 always_on, auto_away;		/* SET_* */
	int		 autoreplay_missed;		/* SET_* */
	int		 autoreplay_lines;		/* -1: the config's */
	int		 replay_joins;			/* RJ_* */
	int		 dm_history;			/* DMH_* */
};

/* One account row; SCRAM-SHA-256 credentials, never the password. */
struct store_account {
	int64_t		 id;
	char		 name[NICKLEN_MAX + 1];	/* as registered */
	unsigned char	 salt[STORE_SALTMAX];
	size_t		 saltlen;
	unsigned	 iterations;
	unsigned char	 stored_key[STORE_KEYLEN];
	unsigned char	 server_key[STORE_KEYLEN];
	char		 email[STORE_EMAIL_MAX + 1];	/* "" if none */
	time_t		 registered;
	int		 enforce;			/* ENFORCE_* */
	struct store_settings set;
	/* an imported hash (pwhash.h) until the first login replaces it
	 * with SCRAM credentials; "" if none */
	char		 legacy[STORE_LEGACY_MAX + 1];
	char		 vhost[STORE_VHOST_MAX + 1];	/* HostServ; "" none */
	bool		 vhost_on;
	/* its suspension (a ban of kind 'a'): -1 none, 0 indefinite,
	 * else when it ends (it may have ended already) */
	time_t		 suspend_expires;
};

/*
 * store_open: for `ergo run`: creates a new database at the current
 * schema; an older schema is upgraded only with datastore.autoupgrade
 * (else it says to run upgradedb), a newer one is refused. store_init
 * (`ergo initdb`) creates a database that must not exist yet;
 * store_upgrade (`ergo upgradedb`) backs up, then migrates. All return
 * 0, or -1 after logging "path: reason".
 */
int	 store_open(const char *path);
int	 store_init(const char *path);
int	 store_upgrade(const char *path);
void	 store_close(void);
/* `ergo importdb`: no sync per commit while on (0 or -1, logged) */
int	 store_bulk(bool on);
/* `ergo backupdb`: consistent copy of the live db at path to dest. */
int	 store_backup(const char *path, const char *dest);
const char *store_error(void);	/* why the last call failed, for clients */
int	 store_meta_get(const char *key, char *buf, size_t sz); /* 1, 0, -1 */
int	 store_meta_set(const char *key, const char *value);	/* 0, -1 */

/* Lookups return 1 (found, *a filled), 0 (none) or -1 (error, logged). */
int	 store_account_get(const char *folded, struct store_account *a);
int	 store_account_by_certfp(const char *certfp, struct store_account *a);
int	 store_nick_owner(const char *folded, struct store_account *a);
/*
 * Creates the account and reserves its name as a nick in one
 * transaction: 0 once committed, 1 if the name is taken, -1 on error.
 */
int	 store_account_create(const char *folded, struct store_account *a);
int	 store_account_delete(int64_t id);		/* 0 or -1 */
/* Reserves one more nick for account id: 0, 1 if taken, -1 on error. */
int	 store_nick_reserve(int64_t id, const char *folded, time_t when);
/* New SCRAM credentials for a; drops an imported hash. 0 or -1 */
int	 store_account_passwd(const struct store_account *a);
int	 store_account_enforce(int64_t id, int enforce);	/* 0 or -1 */
int	 store_account_multiclient(int64_t id, int mc);		/* 0 or -1 */
int	 store_account_always_on(int64_t id, int v);		/* 0 or -1 */
int	 store_account_auto_away(int64_t id, int v);		/* 0 or -1 */
int	 store_account_autoreplay_missed(int64_t id, int v);	/* 0 or -1 */
int	 store_account_autoreplay_lines(int64_t id, int v);	/* 0 or -1 */
int	 store_account_replay_joins(int64_t id, int v);		/* 0 or -1 */
int	 store_account_dm_history(int64_t id, int v);		/* 0 or -1 */
/* NickServ RENAME: another casing of the same name; 0 or -1 */
int	 store_account_rename(int64_t id, const char *display);
/* fn(arg, display name) per account, by name; count or -1 */
int	 store_account_list(void (*fn)(void *, const char *), void *arg);
/* UNREGISTER keeps a name reserved, ERASE forgets it (0, 1 none, -1);
 * get: 1 it was unregistered, 0, -1 */
int	 store_unregistered_add(const char *folded, const char *display,
	    time_t when);
int	 store_unregistered_del(const char *folded);
int	 store_unregistered_get(const char *folded);

/*
 * An always-on user (irc_alwayson.c): what a restart brings back with
 * no connection. channels: "o,#a ov,#b ,#c" (each member's rank letters,
 * the channel). In a listing the strings live until fn returns.
 */
struct store_alwayson {
	int64_t		 account;
	char		 account_name[NICKLEN_MAX + 1];	/* listing only */
	struct store_settings set;			/* listing only */
	time_t		 suspend_expires;	/* listing only; as an account's */
	const char	*nick, *user, *host, *realname, *away;	/* away: NULL */
	const char	*channels;
	unsigned	 umodes;
	time_t		 last_seen;
};
int	 store_alwayson_put(const struct store_alwayson *);	/* 0 or -1 */
int	 store_alwayson_delete(int64_t account);		/* 0 or -1 */
int	 store_alwayson_list(void (*fn)(void *, const struct store_alwayson *),
	    void *arg);						/* 0 or -1 */
/* 0 added, 1 already on some account, -1 error */
int	 store_certfp_add(int64_t id, const char *certfp);
int	 store_certfp_del(int64_t id, const char *certfp); /* 0, 1 none, -1 */
/* Calls fn for each of the account's certfps; count, or -1. */
int	 store_certfp_list(int64_t id, void (*fn)(void *, const char *),
	    void *arg);

/* A registered channel (ChanServ). */
struct store_chan {
	int64_t		 id;
	char		 name[CHANLEN_MAX + 1];		/* as registered */
	int64_t		 founder;			/* account id */
	char		 founder_name[NICKLEN_MAX + 1];
	time_t		 registered;
	/* the state kept across restarts; "" / 0 when unset */
	char		 modes[32];			/* letters, e.g. "nt" */
	char		 key[IRC_LINE_MAX];
	unsigned	 limit;
	char		 topic[IRC_LINE_MAX + 1];
	char		 topic_by[IRC_LINE_MAX];	/* nick!user@host */
	time_t		 topic_time;
	int		 history, query_cutoff;	/* ChanServ SET; 0 default */
	char		 forward[CHANLEN_MAX + 1];	/* +f target, or "" */
};
int	 store_chan_get(const char *folded, struct store_chan *ch); /* 1 0 -1 */
/* A registered channel's +b +e +I entries (list 'b', 'e' or 'I'). */
struct store_mask {
	char		 list;
	const char	*mask, *setter;
	time_t		 when;
};
int	 store_chan_masks(int64_t chan, void (*fn)(void *, char list,
	    const char *mask, const char *setter, time_t when), void *arg);
int	 store_chan_masks_save(int64_t chan, const struct store_mask *v,
	    size_t n);				/* replaces them; 0 or -1 */
int	 store_chan_create(const char *folded, struct store_chan *ch); /* 0 1 -1 */
int	 store_chan_delete(int64_t id);				/* 0 or -1 */
int	 store_chan_count(int64_t account);		/* founded; n or -1 */
int	 store_chan_founder(int64_t id, int64_t account);	/* 0 or -1 */
int	 store_chan_rename(int64_t id, const char *folded,
	    const char *display);				/* 0 or -1 */
int	 store_chan_state(const struct store_chan *ch);		/* 0 or -1 */
/* AMODE: 'o', 'v', or 0 to remove; get gives the mode, 0 none, -1 */
int	 store_amode_set(int64_t chan, int64_t account, int mode);
int	 store_amode_get(int64_t chan, int64_t account);
/* fn(arg, account name, mode) per entry; count, or -1 */
int	 store_amode_list(int64_t chan, void (*fn)(void *, const char *, int),
	    void *arg);
int	 store_amode_clear(int64_t chan);			/* 0 or -1 */
int	 store_chan_settings(int64_t id, int history, int cutoff);
/* fn(arg, channel name) per registered channel, by name; n or -1 */
int	 store_chan_list(void (*fn)(void *, const char *), void *arg);
/* ChanServ PURGE: a channel no one may use */
struct store_purge {
	char		 name[CHANLEN_MAX + 1];
	char		 oper[NICKLEN_MAX + 1];
	char		 reason[IRC_LINE_MAX];
	time_t		 when;
};
int	 store_purge_add(const char *folded, const struct store_purge *);
int	 store_purge_del(const char *folded);	/* 1 removed, 0 none, -1 */
int	 store_purge_get(const char *folded, struct store_purge *); /* 1 0 -1 */
int	 store_purge_list(void (*fn)(void *, const char *), void *arg);
/* HostServ: an account's vhost ("" or NULL: none) and whether it is on */
int	 store_account_vhost(int64_t id, const char *vhost, bool on);
/* HistServ FORGET: the saved messages account sent; 0 or -1 */
int	 store_hist_forget(const char *account);

/*
 * A K-line (kind 'k', mask user@host), a D-line ('d', IP or CIDR), a
 * network that must log in with SASL ('s', UBAN REQUIRE-SASL), or a
 * suspended account ('a', its casefolded name).
 */
#define STORE_BAN_MASK_MAX	128
#define STORE_BAN_REASON_MAX	390
struct store_ban {
	char		 kind;
	char		 mask[STORE_BAN_MASK_MAX + 1];
	char		 reason[STORE_BAN_REASON_MAX + 1];
	char		 setter[IRC_LINE_MAX];		/* oper's nick!user@host */
	time_t		 set_at;
	time_t		 expires;			/* 0: permanent */
};
int	 store_ban_set(const struct store_ban *);	/* add/replace: 0, -1 */
int	 store_ban_del(int kind, const char *mask);	/* 0, 1 none, -1 */
/* the ban of kind and mask not expired at now: 1 (*b), 0, -1 */
int	 store_ban_get(int kind, const char *mask, time_t now,
	    struct store_ban *b);
/* fn(arg, ban) per ban not expired at now; count, or -1 */
int	 store_ban_list(time_t now,
	    void (*fn)(void *, const struct store_ban *), void *arg);
int	 store_ban_expire(time_t now);			/* 0 or -1 */

/*
 * One persistent history row: a message of a registered channel
 * (channel: its id) or a direct message kept for an account (account:
 * its id); the other id is 0. floor: on write, the seq of the oldest
 * entry still in its ring (older rows of the same owner are deleted).
 */
struct store_hrow {
	int64_t		 channel, account;
	uint64_t	 seq, floor;
	int64_t		 ms;
	int		 kind;
	bool		 bot;
	const char	*msgid, *time, *source, *target, *peer, *text,
			*ctags, *acct_tag;	/* peer, ctags, acct_tag: or NULL */
};
/* One transaction for n rows: 0, or -1 (store_error(); not logged). */
int	 store_hist_write(const struct store_hrow *rows, size_t n);
/* The checkpoint process is at work: a batch that can wait should (so
 * the WAL restarts after it; store_ckpt.c) */
bool	 store_ckpt_busy(void);
/* the newest limit rows of one ring (channel's, else account's) */
int	 store_hist_load_ring(int64_t channel, int64_t account,
	    int64_t since_ms, unsigned limit,
	    void (*fn)(void *, const struct store_hrow *), void *arg);
int64_t	 store_hist_max_seq(void);		/* 0 if none; -1 (logged) */
/* the rows older than before_ms among the limit oldest written: how
 * many (more than 0: call again), or -1 (not logged) */
int	 store_hist_expire(int64_t before_ms, unsigned limit);
/* HistServ EXPORT: fn per saved row the account sent, oldest first;
 * count, or -1 (logged) */
int	 store_hist_export(const char *account,
	    void (*fn)(void *, const struct store_hrow *), void *arg);
/* REDACT: msgid's rows saved by channel's or account's ring (other 0);
 * 0, or -1 (logged) */
int	 store_hist_redact(int64_t channel, int64_t account, const char *msgid);

/* draft/read-marker of an account for a casefolded target, in ms */
#define STORE_MARKERS_MAX	1000	/* an account's; the least lately set go */
int	 store_marker_get(int64_t account, const char *target, int64_t *ms);
/* ...set to ms (forward only) at wall-clock now_ms, which orders the
 * trim to STORE_MARKERS_MAX per account */
int	 store_marker_set(int64_t account, const char *target, int64_t ms,
	    int64_t now_ms);
/* RENAME: every account's marker of folded from becomes to's */
int	 store_marker_rename(const char *from, const char *to);	/* 0 -1 */

/*
 * Codes sent by mail (irc_mail.c): kind 'v', a registration waiting for
 * VERIFY (a's name, email and credentials), 'r', a password reset of
 * account a->id. code: what to compare (a hash). put: 0, 1 if a live
 * one is there, -1; get: 1, 0 none or expired, -1; del, expire: 0, -1.
 */
#define STORE_CODE_MAX		64
int	 store_code_put(int kind, const char *folded,
	    const struct store_account *a, const char *code, time_t now,
	    time_t expires);
int	 store_code_get(int kind, const char *folded, time_t now,
	    struct store_account *a, char *code, size_t codesz,
	    time_t *created);
int	 store_code_del(int kind, const char *folded);
int	 store_code_expire(time_t now);

/* draft/metadata-2 keys of an account (lower-case keys) */
int	 store_md_list(int64_t account,
	    void (*fn)(void *, const char *key, const char *value), void *arg);
int	 store_md_set(int64_t account, const char *key, const char *value);
int	 store_md_clear(int64_t account);			/* 0 or -1 */
/* ...and of a registered channel (its row's id), gone with the row */
int	 store_chan_md_list(int64_t channel,
	    void (*fn)(void *, const char *key, const char *value), void *arg);
int	 store_chan_md_set(int64_t channel, const char *key,
	    const char *value);
int	 store_chan_md_clear(int64_t channel);			/* 0 or -1 */

#endif
