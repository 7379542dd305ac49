/*
 * ergo.h: the public face of every part (ergo, net, irc, conf, log, store)
 * and the compile-time limits. A struct's fields are private to its part
 * unless it is defined here on purpose (struct conf is shared read-only).
 */
#ifndef ERGO_H
#define ERGO_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

#define ERGO_VERSION		"ergo-c-0.1.0"

/* Hard ceilings: config values are validated against these. */
#define IRC_LINE_MAX		512	/* RFC 1459 line, CRLF included */
#define IRC_TAGS_MAX		8191	/* IRCv3 tag section incl. '@' and ' ' */
#define IRC_PARAMS_MAX		15
#define NICKLEN_MAX		64
#define CHANLEN_MAX		200
#define READ_CHUNK		16384	/* the shared scratch read buffer */
#define RECVQ_MAX		(IRC_TAGS_MAX + IRC_LINE_MAX + 1) /* pending partial line */

/* ---- log.c ---- */
enum { LL_DEBUG, LL_INFO, LL_WARN, LL_ERROR };
enum { LOGM_STDERR, LOGM_FILE, LOGM_SYSLOG };

#define LOG_SINKS_MAX	8	/* logging blocks in one config */

/* One logging block; conf.c builds the list, log.c opens it. */
struct log_conf {
	struct log_conf	*next;
	int		 method;	/* LOGM_* */
	char		*path;		/* LOGM_FILE */
	int		 level;		/* least severe LL_* written */
	uint32_t	 types;		/* log_category() bits */
};

void	 log_init(int level);			/* stderr until configured */
/*
 * Opens every target of the list first; only if all opened are they
 * swapped in (a file already open under the same path is kept, not
 * reopened). Returns 0, or -1 with the old targets still in force and
 * the reason logged there.
 */
int	 log_configure(const struct log_conf *list);
const char *log_configure_error(void);	/* why it last returned -1 */
int	 log_reopen(void);			/* 0, or -1: kept old file(s) */
bool	 log_wants(int level, const char *cat);	/* would a line be kept? */
/* The bit of a category name for `types`, or 0 if unknown. */
uint32_t log_category(const char *name, size_t len);
#define LOG_TYPES_ALL	0xffffffffU
uint32_t log_types_default(void);		/* * -userinput -useroutput */
void	 log_debug(const char *cat, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 log_info(const char *cat, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 log_warn(const char *cat, const char *fmt, ...)	/* + strerror */
	    __attribute__((format(printf, 2, 3)));
void	 log_warnx(const char *cat, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 log_error(const char *cat, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 fatal(const char *fmt, ...)			/* + strerror, exit 1 */
	    __attribute__((format(printf, 1, 2), noreturn));
void	 fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
int	 log_level_parse(const char *s);		/* -1 if unknown */

/* ---- conf.c ---- */
enum { CASEMAP_ASCII, CASEMAP_RFC1459 };
enum { NICKRES_OPTIONAL, NICKRES_STRICT };

struct listen_conf {
	struct listen_conf	*next;
	char			*text;		/* as written, e.g. "[::1]:6667" */
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	bool			 tls;
	char			*cert, *key;	/* tls only */
	int			 tls_min;	/* BR_TLS10 .. BR_TLS12 */
	unsigned		 reload_s;	/* 0: reload only at rehash */
};

struct oper_conf {
	struct oper_conf	*next;
	char			*name;
	char			*class;
	char			*password;	/* a conf_passwd_hash() string */
	char			*certfp;	/* 64 lowercase hex, or NULL */
	bool			 nofakelag;	/* OPER lifts fakelag */
};

struct conf {
	char		*path;		/* file it came from, or NULL */
	char		*network_name;
	char		*server_name;
	char		*server_info;	/* 004/WHOIS description */
	struct listen_conf *listens;
	char		*motd;		/* path, or NULL */
	char		*user, *group;	/* to drop root to, or NULL */
	char		*chroot;	/* directory to chroot(2) into, or NULL */
	struct {
		bool	 enabled;
		char	*netname;	/* the cloak's last label */
		char	*secret;	/* or NULL: one kept in the database */
	} cloak;
	char		*password;	/* server password hash, or NULL */
	int		 casemapping;
	size_t		 max_sendq;
	unsigned	 max_clients;
	unsigned	 max_per_ip;
	bool		 conn_throttle;		/* connections per IP per window */
	unsigned	 conn_throttle_secs, conn_throttle_max;
	unsigned	 cidr_v4, cidr_v6;	/* per-address limits' prefix */
	unsigned	 reg_timeout;	/* seconds: server.timeouts.registration */
	unsigned	 idle_timeout;	/* seconds idle before we PING */
	unsigned	 ping_timeout;	/* seconds after PING before we drop */
	struct {
		bool	 enabled;
		unsigned window_ms;
		unsigned burst_limit;
		unsigned messages_per_window;
		unsigned cooldown_ms;
		size_t	 max_recvq;	/* queued input beyond this: Excess Flood */
	} fakelag;
	struct {
		bool	 enabled, preload;
		unsigned port, duration;	/* duration in seconds */
	} sts;
	char		*default_modes;	/* e.g. "+nt" */
	unsigned	 chan_max_per_user;
	unsigned	 chan_max_list;	/* +b/+e/+I entries per list */
	unsigned	 chan_max_reg;	/* registered channels per account */
	struct {
		unsigned nicklen, identlen, channellen, topiclen,
			 awaylen, kicklen, realnamelen, whowas, targmax;
		unsigned monitor;	/* MONITOR entries per client */
		unsigned ml_bytes, ml_lines;	/* draft/multiline */
		unsigned redact_window;	/* seconds a sender may REDACT */
	} limits;
	struct {
		bool	 enabled;
		bool	 persistent;	/* also in the datastore (store.c) */
		unsigned channel_length;	/* messages per channel */
		unsigned client_length;	/* direct messages per client */
		size_t	 channel_bytes;	/* bytes per channel's ring */
		size_t	 client_bytes;	/* bytes per client's ring */
		size_t	 total_bytes;	/* bytes of all history */
		unsigned expire;	/* seconds; 0: kept until pushed out */
		unsigned autoreplay;	/* lines replayed on JOIN; 0: none */
		unsigned maxmessages;	/* CHATHISTORY= limit per command */
		char	*tagmsg_tags;	/* "+draft/react +react": TAGMSGs kept */
	} history;
	struct oper_conf *opers;
	struct log_conf	*logs;		/* never NULL after conf_load */
	char		*datastore_path;
	bool		 datastore_autoupgrade;	/* run migrates an old schema */
	struct {
		bool	 registration;		/* REGISTER, NickServ REGISTER */
		bool	 reg_before_connect;	/* REGISTER before CAP END */
		unsigned reg_min_password;	/* bytes; 0: no minimum */
		bool	 reg_throttle;		/* per-IP registration limit */
		unsigned reg_throttle_secs;	/* its window */
		unsigned reg_throttle_max;	/* registrations per window */
		bool	 auth_enabled;		/* SASL and IDENTIFY allowed */
		unsigned iterations;		/* PBKDF2 for new passwords */
		bool	 nr_enabled;		/* nick-reservation */
		int	 nr_method;		/* NICKRES_* */
		unsigned nr_grace;		/* seconds before a rename */
	} accounts;
	char		*admin_loc1, *admin_loc2, *admin_email;
};

/*
 * conf_load parses path (NULL: built-in defaults) and applies
 * ERGO__SECTION__KEY environment overrides. On error it returns NULL and
 * *errs holds every "FILE:LINE:COL: message" line, newline-separated
 * (malloc'd, caller frees).
 */
struct conf	*conf_load(const char *path, char **errs);
void		 conf_free(struct conf *);
const char	*conf_default_text(void);

/* conf_passwd.c: "$pbkdf2-sha256$ITER$SALT_B64$HASH_B64" strings */
char	*conf_passwd_hash(const char *pw, unsigned iterations);	/* malloc'd */
bool	 conf_passwd_verify(const char *hash, const char *pw);
int	 ergo_random(void *buf, size_t len);	/* 0, or -1 with errno */
void	 conf_passwd_pbkdf2(const void *pw, size_t pwlen, const void *salt,
	    size_t saltlen, unsigned iter, void *out, size_t outlen);
/* base64; (size_t)-1: dst too small, or (decode) malformed input */
size_t	 conf_b64_encode(char *dst, size_t dstsz, const void *src,
	    size_t len, bool pad);
size_t	 conf_b64_decode(void *dst, size_t dstsz, const char *src,
	    size_t len);

/* ---- net.c ---- */
struct conn;

/*
 * Loads the certificate and key of every TLS listener of c for the next
 * net_listen_apply; 0, or -1 with *errs (malloc'd lines) and nothing kept.
 */
int	 net_listen_prepare(const struct conf *c, char **errs);
void	 net_listen_unprepare(void);	/* drop what prepare loaded */
/* Opens listeners new in c, closes those gone; first call opens all. */
int	 net_listen_apply(const struct conf *c);
void	 net_init(void);
void	 net_shutdown(const char *line);	/* send line to all, flush, close */
int	 net_add_fd(int fd, void (*cb)(int fd, void *arg), void *arg);
void	 net_poll(int timeout_ms);	/* one poll() and its dispatch */
/*
 * End of a loop pass: tell irc about connections that died, write once to
 * every connection with pending output, then close the dead ones.
 */
void	 net_flush(void);
void	 net_tick(void);		/* once a second: resume accepting */
bool	 net_has_pending_input(void);	/* lines left to process next pass */
void	 net_raise_nofile(void);

/* For irc.c: */
void	 net_conn_send(struct conn *, const char *buf, size_t len);
void	 net_conn_close(struct conn *, const char *error);	/* ERROR :error */
void	 net_conn_resume(struct conn *);	/* irc may take lines again */
const char *net_conn_ip(const struct conn *);
/*
 * net_addr.c: the key every per-address limit counts under: the address
 * masked to cidr-len-ipv4/-ipv6 bits ("192.0.2.7", "2001:db8:1:2::/64");
 * a v4-mapped IPv6 address is IPv4. Text that is no address is copied.
 */
#define NET_ADDRKEY_LEN	52	/* INET6_ADDRSTRLEN + "/128" */
void	 net_addr_key(const struct sockaddr *, unsigned v4len, unsigned v6len,
	    char *buf, size_t sz);
void	 net_ip_key(const char *ip, char *buf, size_t sz);	/* by conf */
bool	 net_conn_tls(const struct conn *);
const char *net_conn_certfp(const struct conn *); /* client cert, or NULL */
size_t	 net_conn_sendq(const struct conn *);
unsigned net_nconns(void);

/* ---- irc.c (called by net.c and ergo.c) ---- */
/* A new connection: returns irc's handle, or NULL to refuse. */
void	*irc_conn_open(struct conn *);
/*
 * One line (no CR/LF, NUL-terminated, may be modified). Returns
 * IRC_MORE to get the next line now, IRC_STOP (line taken) or IRC_DEFER
 * (line not taken: offer it again) to hold input until irc calls
 * net_conn_resume(), e.g. for fakelag.
 */
enum { IRC_DEFER = -1, IRC_STOP = 0, IRC_MORE = 1 };
int	 irc_conn_line(void *client, char *line, size_t len);
void	 irc_conn_toolong(void *client);		/* over 512 / 8191 */
void	 irc_conn_closed(void *client, const char *reason);
void	 irc_init(void);
void	 irc_tick(void);		/* timers; called at least once a second */
int	 irc_next_timer_ms(void);	/* -1: nothing sooner than the sweep */
void	 irc_rehashed(const struct conf *old);	/* conf swapped */
void	 irc_shutdown(void);

/* ---- net_mkcert.c ---- */
/*
 * `ergo mkcerts`: a new self-signed P-256 certificate for host and its
 * key (mode 0600), neither written if either file exists. Prints the
 * paths and the SHA-256 certfp, errors to stderr. Returns 0, or -1.
 */
int	 net_mkcert_write(const char *certpath, const char *keypath,
	    const char *host);

/* ---- store.c (the only file that speaks SQL) ---- */
#define STORE_KEYLEN		32	/* SHA-256: StoredKey, ServerKey */
#define STORE_SALTMAX		64
#define STORE_EMAIL_MAX		254
#define STORE_CERTFP_LEN	64	/* lowercase hex SHA-256 */

/* NickServ SET ENFORCE: how a reserved nick is protected */
enum { ENFORCE_DEFAULT, ENFORCE_NONE, ENFORCE_TIMEOUT, ENFORCE_STRICT };

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
int	 store_account_passwd(const struct store_account *a);	/* 0 or -1 */
int	 store_account_enforce(int64_t id, int enforce);	/* 0 or -1 */
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
};
int	 store_chan_get(const char *folded, struct store_chan *ch); /* 1 0 -1 */
int	 store_chan_create(const char *folded, struct store_chan *ch); /* 0 1 -1 */
int	 store_chan_delete(int64_t id);				/* 0 or -1 */
int	 store_chan_count(int64_t account);		/* founded; n or -1 */
int	 store_chan_founder(int64_t id, int64_t account);	/* 0 or -1 */
int	 store_chan_state(const struct store_chan *ch);		/* 0 or -1 */
/* AMODE: 'o', 'v', or 0 to remove; get gives the mode, 0 none, -1 */
int	 store_amode_set(int64_t chan, int64_t account, int mode);
int	 store_amode_get(int64_t chan, int64_t account);
/* fn(arg, account name, mode) per entry; count, or -1 */
int	 store_amode_list(int64_t chan, void (*fn)(void *, const char *, int),
	    void *arg);

/* A K-line (kind 'k', mask user@host) or D-line ('d', IP or CIDR). */
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
/* fn(arg, row) per row from since_ms on, oldest first; count, or -1 */
int	 store_hist_load(int64_t since_ms,
	    void (*fn)(void *, const struct store_hrow *), void *arg);
int	 store_hist_expire(int64_t before_ms);	/* 0, or -1 (not logged) */
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

/* ---- ergo_priv.c ---- */
int	 ergo_priv_drop(struct conf *);	/* 0, or -1 (logged) */
/* c's paths as seen inside the chroot; -1 with *err: one lies outside */
int	 ergo_priv_paths(struct conf *c, const struct conf *old, char **err);

/* ---- ergo.c ---- */
extern struct conf *conf;	/* the running config; swapped on rehash */
extern time_t	 ergo_now;	/* wall clock, updated every pass */
extern uint64_t	 ergo_now_ms;	/* monotonic milliseconds */
void	 ergo_clock(void);	/* refresh ergo_now and ergo_now_ms */
/* REHASH: returns 0, or -1 with *errs set (malloc'd). */
int	 ergo_rehash(char **errs);

#endif
