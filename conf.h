/*
 * conf.h: what conf.c (the config file and its defaults) and
 * conf_passwd.c (password hashes) export, and the running config.
 */
#ifndef CONF_H
#define CONF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ergo.h"

enum { CASEMAP_ASCII, CASEMAP_RFC1459, CASEMAP_PRECIS };
enum { NICKRES_OPTIONAL, NICKRES_STRICT };
/* accounts.multiclient always-on and auto-away (Ergo's values) */
enum { PERSIST_DISABLED, PERSIST_OPT_IN, PERSIST_OPT_OUT, PERSIST_MANDATORY };

struct listen_conf {
	struct listen_conf	*next;
	char			*text;		/* as written, e.g. "[::1]:6667" */
	unsigned		 line;		/* of the config; 0: an override */
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	bool			 tls;
	char			*cert, *key;	/* tls only */
	int			 tls_min;	/* BR_TLS10 .. BR_TLS12 */
	unsigned		 reload_s;	/* 0: reload only at rehash */
	unsigned		 sess_cache;	/* resumable sessions kept */
	unsigned		 sess_life;	/* seconds one stays resumable */
	bool			 proxy;		/* a PROXY header comes first */
	bool			 websocket;	/* WebSocket (RFC 6455) framing */
	bool			 server;	/* for server links (TS6) */
};

/* link NAME { ... }: a TS6 peer (irc_link.c) */
struct link_conf {
	struct link_conf	*next;
	char			*name;		/* the peer's server name */
	char			*host;		/* numeric address, or NULL */
	unsigned		 port;
	bool			 tls;
	char			*certfp;	/* 64 lowercase hex, or NULL */
	char			*send_password;	/* sent in our PASS */
	char			*recv_password;	/* a conf_passwd_hash() */
	bool			 autoconnect;
	bool			 hub;		/* may introduce other servers */
	size_t			 sendq;
};

/*
 * Ergo's oper capabilities: what an oper class allows. Each privileged
 * command names the one it needs (irc_oper_can in irc_oper.c).
 */
#define OPCAP_KILL	0x0001
#define OPCAP_BAN	0x0002
#define OPCAP_NOFAKELAG	0x0004
#define OPCAP_ROLEPLAY	0x0008
#define OPCAP_RELAYMSG	0x0010
#define OPCAP_VHOSTS	0x0020
#define OPCAP_SAJOIN	0x0040
#define OPCAP_SAMODE	0x0080
#define OPCAP_SNOMASKS	0x0100
#define OPCAP_REHASH	0x0200
#define OPCAP_ACCREG	0x0400
#define OPCAP_CHANREG	0x0800
#define OPCAP_HISTORY	0x1000
#define OPCAP_DEFCON	0x2000
#define OPCAP_MASSMESSAGE 0x4000
#define OPCAP_DIE	0x8000
#define OPCAP_ALL	0xffff

/* "vhosts" -> OPCAP_VHOSTS; 0 if no such capability. */
unsigned	 conf_opcap(const char *name, size_t len);
/* The capability names, in bit order, NULL-terminated. */
extern const char *const conf_opcap_names[];

/* oper-class NAME { title, extends, capabilities } */
struct operclass_conf {
	struct operclass_conf	*next;
	char			*name;
	char			*title;		/* WHOIS: "is a TITLE", or NULL */
	char			*extends;	/* another class, or NULL */
	char			*capabilities;	/* "kill ban ...", as written */
	unsigned		 caps;		/* OPCAP_*, extends included */
};

/* webirc NAME { ... } in server: a WEBIRC gateway (irc_webirc.c) */
struct webirc_conf {
	struct webirc_conf	*next;
	char			*name;
	char			*password;	/* a conf_passwd_hash(), or NULL */
	char			*certfp;	/* 64 lowercase hex, or NULL */
	char			*hosts;		/* an address list (util_nets) */
};

struct oper_conf {
	struct oper_conf	*next;
	char			*name;
	char			*class;
	char			*password;	/* a conf_passwd_hash() string */
	char			*certfp;	/* 64 lowercase hex, or NULL */
	char			*hosts;		/* "user@host ..." masks, or NULL */
	bool			 nofakelag;	/* OPER lifts fakelag */
	char			*whois_line;	/* 313's text, or NULL */
	char			*vhost;		/* host set at OPER, or NULL */
	bool			 hidden;	/* 313 and WHO's * to opers only */
	char			*modes;		/* "+is cjk": set at OPER */
	unsigned		 caps;		/* OPCAP_*: its class's; every
						 * one if no oper-class exists */
	const struct operclass_conf *cls;	/* its class, or NULL */
};

struct conf {
	char		*path;		/* file it came from, or NULL */
	char		*network_name;
	char		*server_name;
	char		*server_info;	/* 004/WHOIS description */
	struct listen_conf *listens;
	char		*proxy_allowed_from;	/* address list, or NULL */
	char		*ws_origins;	/* allowed-origins patterns, or NULL */
	struct webirc_conf *webircs;
	unsigned	 unix_mode;	/* of Unix socket listeners */
	char		*motd;		/* path, or NULL */
	char		*user, *group;	/* to drop root to, or NULL */
	char		*chroot;	/* directory to chroot(2) into, or NULL */
	char		*output_path;	/* HistServ EXPORT's files; NULL: cwd */
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
	unsigned	 tls_idle;	/* seconds: server.timeouts.tls-buffers */
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
	bool		 chan_reg_enabled;	/* ChanServ REGISTER */
	unsigned	 chan_rename_redirect;	/* seconds; 0 none */
	unsigned	 chan_rename_max;	/* old names redirected at once */
	bool		 suppress_lusers;	/* LUSERS for opers only */
	int		 lookup_hostnames;	/* always 0: no resolver */
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
		unsigned expire;	/* seconds; 0: kept until pushed out */
		int	 query_cutoff;	/* CHAN_CUTOFF_*: channels' default */
		unsigned grace;		/* seconds before registration-time */
		unsigned autoreplay;	/* lines replayed on JOIN; 0: none */
		unsigned maxmessages;	/* CHATHISTORY= limit per command */
		char	*tagmsg_tags;	/* "+draft/react +react": TAGMSGs kept */
		size_t	 channel_bytes;	/* bytes per channel's ring */
		size_t	 client_bytes;	/* bytes per client's ring */
		size_t	 total_bytes;	/* bytes of all history */
	} history;
	struct {
		bool	 enabled;		/* draft/metadata-2 */
		unsigned max_subs;		/* keys one session subscribes to */
		unsigned max_keys;		/* keys one user or channel holds */
		unsigned max_value_bytes;	/* longest value */
		bool	 throttle;		/* client-throttle: SETs per window */
		unsigned throttle_secs, throttle_max;
	} metadata;
	struct {
		bool	 enabled;	/* NickServ, ChanServ, SASL here */
		unsigned sasl_max;	/* SASL exchanges run for other servers */
		char	*server;	/* the network's services server, or
					   NULL: any server's are taken */
	} services;
	struct oper_conf *opers;
	struct operclass_conf *operclasses;
	char		*sid;		/* TS6 server id, or NULL: no linking */
	unsigned	 ts_max_delta;	/* seconds of clock skew allowed */
	unsigned	 link_ping;	/* seconds idle before a link is PINGed */
	unsigned	 link_retry;	/* autoconnect: first retry, seconds */
	struct link_conf *links;
	struct log_conf	*logs;		/* never NULL after conf_load */
	char		*datastore_path;
	bool		 datastore_autoupgrade;	/* run migrates an old schema */
	bool		 datastore_ckpt;	/* checkpoint-process (start only) */
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
		bool	 mc_enabled;		/* multiclient */
		bool	 mc_default;		/* ... for accounts that said nothing */
		int	 always_on;		/* PERSIST_*: always-on users */
		int	 auto_away;		/* PERSIST_*: away with no session */
		unsigned always_on_expiration;	/* seconds; 0 = never */
		unsigned max_sessions;		/* per account's user */
		unsigned max_always_on;		/* per server */
		bool	 vh_enabled;		/* HostServ: vhosts */
		unsigned vh_max_length;
		char	*vh_chars;		/* the bytes a vhost may hold */
		int	 default_umodes;	/* UMODE_INVISIBLE or 0 */
		bool	 login_throttle;	/* failed logins limited */
		unsigned login_throttle_secs;	/* its window */
		unsigned login_throttle_max;	/* failures per window */
		/* mail through a sendmail program (irc_mail.c) */
		unsigned verify_timeout;	/* seconds a registration waits */
		bool	 ev_enabled;		/* email-verification */
		char	*ev_sender, *ev_sendmail, *ev_subject;
		unsigned ev_timeout;		/* seconds a sendmail may run */
		unsigned ev_max_running;	/* sendmails at once */
		bool	 pr_enabled;		/* password-reset */
		unsigned pr_cooldown, pr_timeout;	/* seconds */
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

/* The running config: read-only for everyone; ergo.c swaps it on rehash. */
extern struct conf *conf;

/* conf_passwd.c: "$pbkdf2-sha256$ITER$SALT_B64$HASH_B64" strings */
#define CONF_PASSWD_ITER_DEFAULT 32768	/* see conf_passwd_hash */
char	*conf_passwd_hash(const char *pw, unsigned iterations);	/* malloc'd */
bool	 conf_passwd_verify(const char *hash, const char *pw);
bool	 conf_passwd_check(const char *hash);	/* well-formed? */
void	 conf_passwd_pbkdf2(const void *pw, size_t pwlen, const void *salt,
	    size_t saltlen, unsigned iter, void *out, size_t outlen);
/* The same over any of BearSSL's hashes (a br_hash_class; SHA-512 for
 * imported hashes, pwhash.c). */
struct br_hash_class_;
void	 conf_passwd_pbkdf2_hash(const struct br_hash_class_ *h,
	    const void *pw, size_t pwlen, const void *salt, size_t saltlen,
	    unsigned iter, void *out, size_t outlen);
/* The SHA-256 primitives SCRAM needs, over BearSSL. */
void	 conf_passwd_hmac(const void *key, size_t keylen, const void *msg,
	    size_t len, unsigned char out[32]);
void	 conf_passwd_sha256(const void *msg, size_t len, unsigned char out[32]);
bool	 conf_passwd_equal(const unsigned char *a, const unsigned char *b,
	    size_t n);				/* in constant time */
void	 conf_passwd_wipe(void *p, size_t n);	/* not optimised away */

#endif
