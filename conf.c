/*
 * conf.c: the config file: a hand-written lexer and a table-driven parser,
 * the built-in defaults, validation, ERGO__SECTION__KEY environment
 * overrides and the annotated `ergo defaultconfig` text. Touches no sockets.
 *
 * One table per block lists its keys: name, type, where the value goes,
 * bounds, default and a one-line description. The same tables give the
 * defaults, the parser, the environment overrides, conf_free and the
 * default text, so a key cannot be documented without being parsed or
 * parsed without a default.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ergo.h"
#include "conf.h"
#include "log.h"
#include "util.h"

struct conf	*conf;

extern char **environ;

#define CONF_FILE_MAX	(1024 * 1024)	/* no real config is this big */
#define CONF_ERRS_MAX	100		/* errors reported per load */
#define KEYS_MAX	32		/* keys in one block */
#define ENV_PREFIX	"ERGO__"

enum ktype {
	K_BLOCK,	/* key { ... }: same struct, aux = struct block */
	K_SWITCH,	/* key { ... } as K_BLOCK, or key yes|no: sets the
			   block's first key (a bool), e.g. `registration no` */
	K_TLS,		/* tls { ... } inside listen: sets listen_conf.tls */
	K_LISTEN,	/* listen ADDR [{ tls { ... } }], repeatable */
	K_OPER,		/* oper NAME { ... }, repeatable */
	K_OPERCLASS,	/* oper-class NAME { ... }, repeatable */
	K_LINK,		/* link NAME { ... }, repeatable */
	K_WEBIRC,	/* webirc NAME { ... } in server, repeatable */
	K_LOG,		/* logging { ... }, repeatable, no label */
	K_TYPES,	/* log categories: * name -name, one or more words */
	K_STR,		/* text; min/max bound its length */
	K_WORD,		/* text without spaces */
	K_HOST,		/* a hostname with a dot */
	K_SID,		/* a TS6 server id: digit, then two of 0-9 A-Z */
	K_PATH,		/* a file the server reads: relative to the config */
	K_HASH,		/* a conf_passwd_hash() string */
	K_MODES,	/* channel modes like +nt */
	K_NETS,		/* addresses and CIDR blocks: "localhost 10.0.0.0/8" */
	K_FMODE,	/* a file mode in octal: 0770 */
	K_TAGS,		/* client-only tag names: "+draft/react +react" */
	K_UINT,		/* unsigned */
	K_SIZE,		/* size_t, bytes: 96k */
	K_SECS,		/* unsigned seconds: 30s, 1h30m */
	K_MSECS,	/* unsigned milliseconds: 500ms, 2s */
	K_BOOL,		/* bool: yes/no */
	K_ENUM		/* int from aux, a struct enumval list */
};

struct enumval {
	const char	*name;
	int		 val;
};

struct key {
	const char		*name;
	enum ktype		 type;
	size_t			 off;		/* in the block's struct */
	unsigned long long	 min, max;	/* value, or string length */
	const void		*aux;
	const char		*def;		/* as written in a file; or NULL */
	const char		*help;		/* one line, for defaultconfig */
	const char		*example;	/* commented-out lines, or NULL */
};

struct block {
	const char		*name;		/* for messages; NULL: top level */
	const struct key	*keys;		/* ends with a NULL name */
};

#define C(f)	offsetof(struct conf, f)
#define L(f)	offsetof(struct listen_conf, f)
#define O(f)	offsetof(struct oper_conf, f)
#define OC(f)	offsetof(struct operclass_conf, f)
#define G(f)	offsetof(struct log_conf, f)
#define LK(f)	offsetof(struct link_conf, f)
#define KB	1024ULL
#define MB	(1024ULL * 1024ULL)
#define HOUR_MS	3600000ULL
#define DAY	86400ULL

static const struct enumval casemap_vals[] = {
	{ "ascii", CASEMAP_ASCII }, { "rfc1459", CASEMAP_RFC1459 },
	{ "precis", CASEMAP_PRECIS },
	{ NULL, 0 }
};
/* Ergo's default-user-modes: +i or none (the modes a user may set) */
static const struct enumval umode_vals[] = {
	{ "+", 0 }, { "+i", 1 }, { NULL, 0 }
};
/* Ergo's lookup-hostnames: only no, there is no resolver */
static const struct enumval nolookup_vals[] = {
	{ "no", 0 }, { "false", 0 }, { NULL, 0 }
};
static const struct enumval method_vals[] = {
	{ "stderr", LOGM_STDERR }, { "file", LOGM_FILE },
	{ "syslog", LOGM_SYSLOG }, { NULL, 0 }
};
static const struct enumval level_vals[] = {
	{ "debug", LL_DEBUG }, { "info", LL_INFO }, { "warn", LL_WARN },
	{ "error", LL_ERROR }, { NULL, 0 }
};

static const struct key network_keys[] = {
	{ "name", K_WORD, C(network_name), 1, 64, NULL, "ErgoNet",
	  "The network's name, shown to clients (005 NETWORK=).", NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};

/* Ergo's history.restrictions.query-cutoff (irc_state.h CHAN_CUTOFF_*) */
static const struct enumval cutoff_vals[] = {
	{ "none", 1 }, { "registration-time", 2 }, { "join-time", 3 },
	{ NULL, 0 }
};

static const struct enumval tlsver_vals[] = {
	{ "1.2", 0x0303 }, { "1.1", 0x0302 }, { "1.0", 0x0301 }, { NULL, 0 }
};

static const struct key tls_keys[] = {
	{ "cert", K_PATH, L(cert), 1, 4096, NULL, NULL,
	  "The certificate chain, PEM, leaf first (e.g. fullchain.pem).",
	  NULL },
	{ "key", K_PATH, L(key), 1, 4096, NULL, NULL,
	  "Its private key, PEM: RSA or EC, PKCS#1, SEC1 or PKCS#8.", NULL },
	{ "min-version", K_ENUM, L(tls_min), 0, 0, tlsver_vals, "1.2",
	  "Oldest TLS version accepted: 1.2, 1.1 or 1.0 (BearSSL speaks\n"
	  "TLS 1.2 at most).", NULL },
	{ "reload-interval", K_SECS, L(reload_s), 0, 7 * DAY, NULL, "0s",
	  "How often to look for a renewed cert/key pair on disk (mtime,\n"
	  "size) and load it for new handshakes; 0 = only at rehash.",
	  NULL },
	{ "session-cache", K_UINT, L(sess_cache), 0, 1000000, NULL, "1024",
	  "TLS sessions kept for resumption (about 210 bytes each); a\n"
	  "returning client skips the key exchange; 0 = none.", NULL },
	{ "session-lifetime", K_SECS, L(sess_life), 0, 7 * DAY, NULL, "1h",
	  "How long a session stays resumable.", NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};
static const struct block tls_block = { "server.listen.tls", tls_keys };

static const struct key listen_keys[] = {
	{ "tls", K_TLS, L(tls), 0, 0, &tls_block, NULL,
	  "Speak TLS on this address.", NULL },
	{ "proxy", K_BOOL, L(proxy), 0, 0, NULL, NULL,
	  "Every connection starts with a PROXY protocol header (v1 or v2)\n"
	  "giving the client's real address.", NULL },
	{ "websocket", K_BOOL, L(websocket), 0, 0, NULL, NULL,
	  "Speak WebSocket (for browsers: gamja, Kiwi IRC), with or without\n"
	  "tls.", NULL },
	{ "server", K_BOOL, L(server), 0, 0, NULL, NULL,
	  "For other servers (TS6 links, see link blocks), not clients.",
	  NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};
static const struct block listen_block = { "server.listen", listen_keys };

static const struct key connlimit_keys[] = {
	{ "max-per-ip", K_UINT, C(max_per_ip), 0, 1000000, NULL, "16",
	  "Most connections from one IP address; 0 = no limit.", NULL },
	{ "throttle", K_BOOL, C(conn_throttle), 0, 0, NULL, "yes",
	  "Limit how often one IP address may connect (as Ergo's\n"
	  "ip-limits throttle); 127.0.0.1 and ::1 are exempt.", NULL },
	{ "window", K_SECS, C(conn_throttle_secs), 1, 7 * DAY, NULL, "10m",
	  "The window the throttle counts in.", NULL },
	{ "max-connections-per-window", K_UINT, C(conn_throttle_max), 1,
	  1000000, NULL, "32", "Connections from one IP address per window.",
	  NULL },
	{ "cidr-len-ipv4", K_UINT, C(cidr_v4), 0, 32, NULL, "32",
	  "Prefix length IPv4 addresses are grouped by for max-per-ip, the\n"
	  "throttle, registration throttling and failed logins (as Ergo's\n"
	  "ip-limits cidr-len-ipv4); 32 = each address alone.", NULL },
	{ "cidr-len-ipv6", K_UINT, C(cidr_v6), 0, 128, NULL, "64",
	  "The same for IPv6: one user usually holds a whole /64, so its\n"
	  "addresses count as one; 128 = each address alone.", NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};
static const struct block connlimit_block = {
	"server.connection-limits", connlimit_keys
};

static const struct key timeout_keys[] = {
	{ "registration", K_SECS, C(reg_timeout), 1, DAY, NULL, "60s",
	  "Time a new connection has to finish registering.", NULL },
	{ "idle", K_SECS, C(idle_timeout), 1, DAY, NULL, "90s",
	  "Silence from a client after which the server sends PING.", NULL },
	{ "ping", K_SECS, C(ping_timeout), 1, DAY, NULL, "60s",
	  "Time to answer that PING before being disconnected.", NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};
static const struct block timeout_block = { "server.timeouts", timeout_keys };

static const struct key fakelag_keys[] = {
	{ "enabled", K_BOOL, C(fakelag.enabled), 0, 0, NULL, "yes",
	  "Slow down clients that send commands too fast.", NULL },
	{ "window", K_MSECS, C(fakelag.window_ms), 1, HOUR_MS, NULL, "1s",
	  "The time window the message counts below refer to.", NULL },
	{ "burst-limit", K_UINT, C(fakelag.burst_limit), 1, 100000, NULL,
	  "5", "Commands a client may send at once before being slowed.",
	  NULL },
	{ "messages-per-window", K_UINT, C(fakelag.messages_per_window), 1,
	  100000, NULL, "2", "Commands per window once a client is slowed.",
	  NULL },
	{ "cooldown", K_MSECS, C(fakelag.cooldown_ms), 0, HOUR_MS, NULL, "2s",
	  "Quiet time after which a slowed client may burst again.", NULL },
	{ "max-recvq", K_SIZE, C(fakelag.max_recvq), KB, MB, NULL, "16k",
	  "Input held back beyond this drops the client (1k..1m).", NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};
static const struct block fakelag_block = { "server.fakelag", fakelag_keys };

static const struct key sts_keys[] = {
	{ "enabled", K_BOOL, C(sts.enabled), 0, 0, NULL, "no",
	  "Advertise an IRCv3 STS policy: clients that saw it on a TLS\n"
	  "connection use TLS only, for duration.", NULL },
	{ "port", K_UINT, C(sts.port), 1, 65535, NULL, "6697",
	  "The TLS port plain-text clients are sent to.", NULL },
	{ "duration", K_SECS, C(sts.duration), 0, 400 * DAY, NULL, "30d",
	  "How long clients keep the policy; 0 asks them to drop it.",
	  NULL },
	{ "preload", K_BOOL, C(sts.preload), 0, 0, NULL, "no",
	  "Agree to be listed in clients' preloaded STS lists.", NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};
static const struct block sts_block = { "server.sts", sts_keys };

static const struct key cloak_keys[] = {
	{ "enabled", K_BOOL, C(cloak.enabled), 0, 0, NULL, "yes",
	  "Show users an HMAC of their address instead of the address, so\n"
	  "they cannot be located by it; opers still see the real one.",
	  NULL },
	{ "netname", K_WORD, C(cloak.netname), 1, 32, NULL, "irc",
	  "The last label of a cloak, as in 3u7fq2x9kp4cw6ma.irc.", NULL },
	{ "secret", K_STR, C(cloak.secret), 16, 256, NULL, NULL,
	  "The HMAC key; by default one is made on first launch and kept in\n"
	  "the database. Changing it changes every cloak.", NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};
static const struct block cloak_block = { "server.ip-cloaking",
	cloak_keys };

#define W(f)	offsetof(struct webirc_conf, f)
static const struct key webirc_keys[] = {
	{ "password", K_HASH, W(password), 1, 256, NULL, NULL,
	  "A hash printed by ergo genpasswd, of the password the gateway\n"
	  "sends in WEBIRC.", NULL },
	{ "certfp", K_WORD, W(certfp), 1, 95, NULL, NULL,
	  "SHA-256 fingerprint of the gateway's TLS client certificate;\n"
	  "with a password too, both are needed.", NULL },
	{ "hosts", K_NETS, W(hosts), 1, 4096, NULL, NULL,
	  "The gateway's addresses and CIDR blocks (localhost too).", NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};
static const struct block webirc_block = { "server.webirc", webirc_keys };

static const struct key ws_keys[] = {
	{ "allowed-origins", K_STR, C(ws_origins), 1, 4096, NULL, NULL,
	  "Web pages (the browser's Origin header) whose scripts may connect,\n"
	  "separated by spaces, with * as a wildcard; unset: any page.",
	  "allowed-origins \"https://example.org https://*.example.org\"" },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};
static const struct block ws_block = { "server.websockets", ws_keys };

static const struct key server_keys[] = {
	{ "name", K_HOST, C(server_name), 1, 63, NULL, "ergo.test",
	  "This server's name: a hostname with at least one dot.", NULL },
	{ "info", K_STR, C(server_info), 0, 200, NULL, "ergo IRC server",
	  "A one-line description, shown in WHOIS and LINKS.", NULL },
	{ "listen", K_LISTEN, 0, 0, 0, NULL, "127.0.0.1:6667 [::1]:6667",
	  "Addresses to listen on (repeatable): host:port, [v6addr]:port,\n"
	  "or :port for every IPv4 and IPv6 address; numbers, not names.",
	  "A TLS listener needs a certificate chain and its key:\n"
	  "listen :6697 { tls { cert fullchain.pem  key privkey.pem } }\n"
	  "Behind HAProxy or nginx (a PROXY header first), on a Unix socket,\n"
	  "and for web clients (WebSocket):\n"
	  "listen 127.0.0.1:6668 { proxy yes }\n"
	  "listen :8097 { websocket yes  tls { cert fullchain.pem  key privkey.pem } }\n"
	  "listen /run/ergo/ergo.sock" },
	{ "unix-bind-mode", K_FMODE, C(unix_mode), 0, 0777, NULL, "0777",
	  "The file mode of Unix socket listeners (octal).", NULL },
	{ "webirc", K_WEBIRC, 0, 0, 0, &webirc_block, NULL,
	  "WEBIRC gateways (repeatable): a web client's gateway that passes\n"
	  "on each user's real address; none by default.",
	  "webirc kiwi {\n"
	  "\tpassword \"$pbkdf2-sha256$32768$...\"\n"
	  "\thosts \"localhost 192.0.2.10\"\n"
	  "}" },
	{ "websockets", K_BLOCK, 0, 0, 0, &ws_block, NULL,
	  "WebSocket listeners (listen ADDR { websocket yes }).", NULL },
	{ "proxy-allowed-from", K_NETS, C(proxy_allowed_from), 1, 4096, NULL,
	  NULL,
	  "Addresses (and CIDR blocks; localhost = 127.0.0.0/8 and ::1)\n"
	  "that may start a connection with a PROXY header on any listener;\n"
	  "when set, a proxy listener also takes one only from these.",
	  "proxy-allowed-from \"localhost 192.0.2.0/24\"" },
	{ "user", K_WORD, C(user), 1, 64, NULL, NULL,
	  "Started as root: the user to become once the listeners are\n"
	  "bound and the logs and keys are open; none by default.",
	  "user ergo" },
	{ "group", K_WORD, C(group), 1, 64, NULL, NULL,
	  "With user: its group instead of the user's own.", NULL },
	{ "chroot", K_STR, C(chroot), 1, 4096, NULL, NULL,
	  "Started as root: chroot(2) into this directory once the\n"
	  "listeners are bound and the logs and keys are open, before\n"
	  "dropping to user and opening the database. Paths under it\n"
	  "lose that prefix; rehash reads every file inside it.",
	  "chroot /var/lib/ergo" },
	{ "motd", K_PATH, C(motd), 1, 4096, NULL, NULL,
	  "The message of the day file; none by default.",
	  "motd ergo.motd" },
	{ "output-path", K_STR, C(output_path), 1, 4096, NULL, NULL,
	  "Where files the server writes on request go (HistServ EXPORT);\n"
	  "unset: the working directory.",
	  "output-path /var/lib/ergo/out" },
	{ "lookup-hostnames", K_ENUM, C(lookup_hostnames), 0, 0,
	  nolookup_vals, "no", "Ergo's key; only no: hosts are addresses or cloaks,\n"
	  "never resolved (a lookup would block the one thread).", NULL },
	{ "suppress-lusers", K_BOOL, C(suppress_lusers), 0, 0, NULL, "no",
	  "Show the user counts (LUSERS, and at connect) to operators\n"
	  "only, as Ergo's key of the same name.", NULL },
	{ "password", K_HASH, C(password), 1, 256, NULL, NULL,
	  "A password clients must send (PASS) to connect; none by default.",
	  "password \"<hash printed by ergo genpasswd>\"" },
	{ "sid", K_SID, C(sid), 3, 3, NULL, NULL,
	  "This server's TS6 id, unique in its network: a digit then two\n"
	  "digits or capitals. Needed to link to other servers.",
	  "sid 0AB" },
	{ "ts-max-delta", K_SECS, C(ts_max_delta), 1, DAY, NULL, "5m",
	  "A linking server whose clock is further off is refused.", NULL },
	{ "link-ping", K_SECS, C(link_ping), 5, DAY, NULL, "60s",
	  "Silence from a linked server after which it is PINGed; as long\n"
	  "again without an answer ends the link.", NULL },
	{ "link-retry", K_SECS, C(link_retry), 1, DAY, NULL, "10s",
	  "autoconnect: wait before the first retry, doubled after each\n"
	  "failure up to 32 times this.", NULL },
	{ "casemapping", K_ENUM, C(casemapping), 0, 0, casemap_vals, "ascii",
	  "How nicks and channel names compare: ascii, rfc1459, or precis\n"
	  "(UTF-8 nicknames, RFC 8265 as Ergo, lookalikes refused).", NULL },
	{ "max-sendq", K_SIZE, C(max_sendq), KB, 64 * MB, NULL, "96k",
	  "Unsent output to one client beyond this drops it (1k..64m).",
	  NULL },
	{ "max-clients", K_UINT, C(max_clients), 0, 10000000, NULL, "10000",
	  "Most clients connected at once; 0 = no limit.", NULL },
	{ "connection-limits", K_BLOCK, 0, 0, 0, &connlimit_block, NULL,
	  "Limits per client address.", NULL },
	{ "timeouts", K_BLOCK, 0, 0, 0, &timeout_block, NULL,
	  "Durations: 30s, 2m, 1h30m, 1d; a plain number is seconds.", NULL },
	{ "fakelag", K_BLOCK, 0, 0, 0, &fakelag_block, NULL,
	  "Flood control for registered clients.", NULL },
	{ "ip-cloaking", K_BLOCK, 0, 0, 0, &cloak_block, NULL,
	  "Privacy: users' addresses shown as cloaks (as in Ergo).", NULL },
	{ "sts", K_BLOCK, 0, 0, 0, &sts_block, NULL,
	  "Strict Transport Security (needs a TLS listener on port).",
	  NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct key admin_keys[] = {
	{ "location1", K_STR, C(admin_loc1), 0, 390, NULL, "ergo server",
	  "Where the server is (first line of ADMIN).", NULL },
	{ "location2", K_STR, C(admin_loc2), 0, 390, NULL, "",
	  "Who runs it (second line of ADMIN).", NULL },
	{ "email", K_STR, C(admin_email), 0, 390, NULL, "root@localhost",
	  "How to reach the administrator.", NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct key datastore_keys[] = {
	{ "path", K_STR, C(datastore_path), 1, 4096, NULL, "ircd.db",
	  "The SQLite database, relative to the working directory.", NULL },
	{ "autoupgrade", K_BOOL, C(datastore_autoupgrade), 0, 0, NULL, "no",
	  "Let ergo run migrate an older schema (after a backup copy);\n"
	  "no: it stops and says to run ergo upgradedb.", NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct enumval nickres_vals[] = {
	{ "optional", NICKRES_OPTIONAL }, { "strict", NICKRES_STRICT },
	{ NULL, 0 }
};

static const struct key nickres_keys[] = {
	{ "enabled", K_BOOL, C(accounts.nr_enabled), 0, 0, NULL, "yes",
	  "A registered nick is reserved for its account.", NULL },
	{ "method", K_ENUM, C(accounts.nr_method), 0, 0, nickres_vals,
	  "optional", "optional: each account chooses (NickServ SET\n"
	  "ENFORCE); strict: the nick is refused to everyone else.", NULL },
	{ "grace", K_SECS, C(accounts.nr_grace), 0, DAY, NULL, "30s",
	  "Time to log in before a reserved nick is taken away\n"
	  "(SET ENFORCE timeout).", NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};
static const struct block nickres_block = {
	"accounts.nick-reservation", nickres_keys
};

static const struct key regthrottle_keys[] = {
	{ "enabled", K_BOOL, C(accounts.reg_throttle), 0, 0, NULL, "yes",
	  "Limit the accounts registered from one IP address.", NULL },
	{ "duration", K_SECS, C(accounts.reg_throttle_secs), 1, 7 * DAY, NULL,
	  "10m", "The window the limit counts in.", NULL },
	{ "max-attempts", K_UINT, C(accounts.reg_throttle_max), 1, 100000,
	  NULL, "30", "Registrations from one IP address per window.",
	  NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};
static const struct block regthrottle_block = {
	"accounts.registration.throttling", regthrottle_keys
};

static const struct key pwreset_keys[] = {
	{ "enabled", K_BOOL, C(accounts.pr_enabled), 0, 0, NULL, "no",
	  "NickServ SENDPASS mails a reset code to the account's address;\n"
	  "RESETPASS with it sets a new password.", NULL },
	{ "cooldown", K_SECS, C(accounts.pr_cooldown), 0, 30 * DAY, NULL,
	  "1h", "Time before another reset mail for the same account.",
	  NULL },
	{ "timeout", K_SECS, C(accounts.pr_timeout), 60, 30 * DAY, NULL,
	  "1d", "How long a reset code works.", NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};
static const struct block pwreset_block = {
	"accounts.registration.email-verification.password-reset",
	pwreset_keys
};

static const struct key emailverif_keys[] = {
	{ "enabled", K_BOOL, C(accounts.ev_enabled), 0, 0, NULL, "no",
	  "A registration with an e-mail address waits until VERIFY gives\n"
	  "the code mailed to it (REGISTER must then give an address).",
	  NULL },
	{ "sender", K_WORD, C(accounts.ev_sender), 3, 254, NULL,
	  "admin@my.network", "The From: address of the mail.", NULL },
	{ "sendmail", K_PATH, C(accounts.ev_sendmail), 1, 4096, NULL,
	  "/usr/sbin/sendmail",
	  "The sendmail-compatible program the mail is piped to (run as\n"
	  "`sendmail -t`, the message on its standard input; OpenSMTPD,\n"
	  "msmtp, Postfix and busybox provide one). ergo's own key: Ergo\n"
	  "speaks SMTP itself.", NULL },
	{ "verify-message-subject", K_STR, C(accounts.ev_subject), 0, 200,
	  NULL, "", "Subject of a verification mail; empty: \"Verify your\n"
	  "account on SERVER\".", NULL },
	{ "timeout", K_SECS, C(accounts.ev_timeout), 1, HOUR_MS / 1000,
	  NULL, "60s", "A sendmail that has not finished by then is killed\n"
	  "and the mail reported as not sent.", NULL },
	{ "max-concurrency", K_UINT, C(accounts.ev_max_running), 1, 1000,
	  NULL, "8", "Sendmail programs running at once; past it, a\n"
	  "request is refused for now (ergo's own key).", NULL },
	{ "password-reset", K_BLOCK, 0, 0, 0, &pwreset_block, NULL,
	  "Password reset by mail (NickServ SENDPASS, RESETPASS).", NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};
static const struct block emailverif_block = {
	"accounts.registration.email-verification", emailverif_keys
};

static const struct key registration_keys[] = {
	{ "enabled", K_BOOL, C(accounts.registration), 0, 0, NULL, "yes",
	  "Users may register accounts (REGISTER, NickServ REGISTER).\n"
	  "`registration no` is short for `registration { enabled no }`.",
	  NULL },
	{ "allow-before-connect", K_BOOL, C(accounts.reg_before_connect), 0, 0,
	  NULL, "yes", "REGISTER works before the connection completes (CAP\n"
	  "draft/account-registration=before-connect); not with a\n"
	  "server password.", NULL },
	{ "min-password-length", K_UINT, C(accounts.reg_min_password), 0, 300,
	  NULL, "0", "Shorter new passwords are refused as weak; 0 = any.",
	  NULL },
	{ "throttling", K_BLOCK, 0, 0, 0, &regthrottle_block, NULL,
	  "Registrations per IP address (REGISTER and NickServ).", NULL },
	{ "verify-timeout", K_SECS, C(accounts.verify_timeout), 1,
	  365 * DAY, NULL, "32h", "A registration not verified by then is\n"
	  "forgotten, and its name free again.", NULL },
	{ "email-verification", K_BLOCK, 0, 0, 0, &emailverif_block, NULL,
	  "Verification of new accounts' e-mail addresses, and password\n"
	  "reset, by mail through a sendmail program.", NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};
static const struct block registration_block = {
	"accounts.registration", registration_keys
};

static const struct enumval persist_vals[] = {
	{ "disabled", PERSIST_DISABLED }, { "opt-in", PERSIST_OPT_IN },
	{ "opt-out", PERSIST_OPT_OUT }, { "mandatory", PERSIST_MANDATORY },
	{ NULL, 0 }
};

static const struct key multiclient_keys[] = {
	{ "enabled", K_BOOL, C(accounts.mc_enabled), 0, 0, NULL, "yes",
	  "A client that logs in (SASL) to an account whose user is\n"
	  "online under the nick it asks for attaches to that user:\n"
	  "one nick and one set of channels on many devices.", NULL },
	{ "allowed-by-default", K_BOOL, C(accounts.mc_default), 0, 0, NULL,
	  "yes", "Accounts may attach several clients unless they said no.",
	  NULL },
	{ "always-on", K_ENUM, C(accounts.always_on), 0, 0, persist_vals,
	  "opt-in",
	  "Whether an account's user stays online, in its channels, with\n"
	  "no client connected, across restarts (NickServ SET ALWAYS-ON):\n"
	  "disabled, opt-in (off unless the account says on), opt-out (on\n"
	  "unless it says off) or mandatory. Needs multiclient enabled.",
	  NULL },
	{ "auto-away", K_ENUM, C(accounts.auto_away), 0, 0, persist_vals,
	  "opt-out",
	  "Whether an always-on user with no client connected is away\n"
	  "(NickServ SET AUTO-AWAY): disabled, opt-in, opt-out, mandatory.",
	  NULL },
	{ "always-on-expiration", K_SECS, C(accounts.always_on_expiration),
	  0, 3650 * DAY, NULL, "0s",
	  "An always-on user with no client connected for this long is\n"
	  "ended (its peers see it quit); 0 = never.", NULL },
	{ "max-sessions", K_UINT, C(accounts.max_sessions), 1, 1000, NULL,
	  "16",
	  "Connections attached to one account's user at once; one more\n"
	  "is refused (ergo's own key: Ergo has no such limit).", NULL },
	{ "max-always-on", K_UINT, C(accounts.max_always_on), 1, 10000000,
	  NULL, "10000",
	  "Always-on users on this server at once; past it, a user turned\n"
	  "always-on stays an ordinary one (ergo's own key).", NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};
static const struct block multiclient_block = {
	"accounts.multiclient", multiclient_keys
};

static const struct key vhosts_keys[] = {
	{ "enabled", K_BOOL, C(accounts.vh_enabled), 0, 0, NULL, "yes",
	  "HostServ: opers give accounts a vhost (HS SET), shown in\n"
	  "place of the host while its owner has it on (HS ON/OFF).", NULL },
	{ "max-length", K_UINT, C(accounts.vh_max_length), 1, 64, NULL, "64",
	  "The longest vhost, in bytes.", NULL },
	{ "valid-chars", K_STR, C(accounts.vh_chars), 1, 200, NULL,
	  "0-9A-Za-z._/-",
	  "The characters a vhost may hold, with ranges: what Ergo's\n"
	  "default valid-regexp allows (no regex engine in ergo).",
	  NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};
static const struct block vhosts_block = {
	"accounts.vhosts", vhosts_keys
};
static const struct key loginthrottle_keys[] = {
	{ "enabled", K_BOOL, C(accounts.login_throttle), 0, 0, NULL, "yes",
	  "Limit failed logins (SASL, NickServ IDENTIFY) per IP address\n"
	  "and per account; OPER failures keep 5 a minute.", NULL },
	{ "duration", K_SECS, C(accounts.login_throttle_secs), 1, DAY, NULL,
	  "1m", "The window the limit counts in.", NULL },
	{ "max-attempts", K_UINT, C(accounts.login_throttle_max), 1, 1000,
	  NULL, "5", "Failed logins per window; then every attempt fails.",
	  NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};
static const struct block loginthrottle_block = {
	"accounts.login-throttling", loginthrottle_keys
};

static const struct key accounts_keys[] = {
	{ "registration", K_SWITCH, 0, 0, 0, &registration_block, NULL,
	  "Registering accounts.", NULL },
	{ "authentication-enabled", K_BOOL, C(accounts.auth_enabled), 0, 0,
	  NULL, "yes", "Users may log in (SASL, NickServ IDENTIFY).", NULL },
	{ "password-iterations", K_UINT, C(accounts.iterations), 4096,
	  1000000, NULL, "32768",
	  "PBKDF2 iterations of new SCRAM-SHA-256 credentials; a login\n"
	  "with the password (PLAIN, IDENTIFY) re-hashes one made with\n"
	  "fewer.", NULL },
	{ "nick-reservation", K_BLOCK, 0, 0, 0, &nickres_block, NULL,
	  "Nicks reserved for accounts.", NULL },
	{ "multiclient", K_BLOCK, 0, 0, 0, &multiclient_block, NULL,
	  "One account's user on several connections at once.", NULL },
	{ "vhosts", K_BLOCK, 0, 0, 0, &vhosts_block, NULL,
	  "Virtual hosts (HostServ).", NULL },
	{ "login-throttling", K_BLOCK, 0, 0, 0, &loginthrottle_block, NULL,
	  "Failed logins.", NULL },
	{ "default-user-modes", K_ENUM, C(accounts.default_umodes), 0, 0,
	  umode_vals, "+", "Modes every user gets at connect: + (none) or\n"
	  "+i (invisible), as Ergo's key.", NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct key logging_keys[] = {
	{ "method", K_ENUM, G(method), 0, 0, method_vals, "stderr",
	  "Where log lines go: stderr, file (needs path) or syslog\n"
	  "(the system logger's socket, facility daemon).", NULL },
	{ "path", K_STR, G(path), 1, 4096, NULL, NULL,
	  "The log file for method file, relative to the working\n"
	  "directory; opened append-only, created 0640. SIGHUP reopens\n"
	  "it (for logrotate).",
	  "path ergo.log" },
	{ "level", K_ENUM, G(level), 0, 0, level_vals, "info",
	  "Least severe lines logged: debug, info, warn or error.", NULL },
	{ "types", K_TYPES, G(types), 0, 0, NULL, "* -userinput -useroutput",
	  "Categories logged: * for all, -name to leave one out. Names:\n"
	  "server connect channels opers rehash store userinput\n"
	  "useroutput log irc accounts tls link (userinput/useroutput are\n"
	  "every line a client sends/receives, at level debug;\n"
	  "passwords and SASL payloads show as *****).", NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct key chanreg_keys[] = {
	{ "enabled", K_BOOL, C(chan_reg_enabled), 0, 0, NULL, "yes",
	  "Users may register channels (ChanServ REGISTER); channels\n"
	  "registered before stay registered.", NULL },
	{ "max-channels-per-account", K_UINT, C(chan_max_reg), 1, 100000,
	  NULL, "15", "Most channels one account may register with ChanServ\n"
	  "(opers are exempt).", NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};
static const struct block chanreg_block = {
	"channels.registration", chanreg_keys
};

static const struct key channel_keys[] = {
	{ "default-modes", K_MODES, C(default_modes), 1, 16, NULL, "+nt",
	  "Modes a new channel gets: '+' then letters from imnpst.", NULL },
	{ "max-per-user", K_UINT, C(chan_max_per_user), 1, 100000, NULL,
	  "100", "Most channels one client may be in.", NULL },
	{ "max-list-entries", K_UINT, C(chan_max_list), 1, 100000, NULL,
	  "100", "Most entries in a channel's ban, except or invite list.",
	  NULL },
	{ "registration", K_BLOCK, 0, 0, 0, &chanreg_block, NULL,
	  "Registering channels (ChanServ REGISTER).", NULL },
	{ "rename-redirect", K_SECS, C(chan_rename_redirect), 0, 30 * DAY,
	  NULL, "1h", "How long after RENAME a JOIN of the old name is sent\n"
	  "to the new one (FAIL JOIN CHANNEL_RENAMED to clients with\n"
	  "draft/channel-rename, 470 and the JOIN to the others); 0s = not.",
	  NULL },
	{ "max-rename-redirects", K_UINT, C(chan_rename_max), 0, 100000, NULL,
	  "1000", "Most old channel names redirected at once; past it the\n"
	  "oldest redirection goes.", NULL },
	/* Ergo's name of max-per-user; no default of its own, so
	 * defaultconfig leaves it out */
	{ "max-channels-per-client", K_UINT, C(chan_max_per_user), 1, 100000,
	  NULL, NULL, NULL, NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct key limit_keys[] = {
	{ "nicklen", K_UINT, C(limits.nicklen), 1, NICKLEN_MAX, NULL, "32",
	  "Longest nickname.", NULL },
	{ "identlen", K_UINT, C(limits.identlen), 1, 64, NULL, "20",
	  "Longest username (USER).", NULL },
	{ "channellen", K_UINT, C(limits.channellen), 2, CHANLEN_MAX, NULL,
	  "64", "Longest channel name, '#' included.", NULL },
	{ "topiclen", K_UINT, C(limits.topiclen), 1, IRC_LINE_MAX, NULL,
	  "390", "Longest topic.", NULL },
	{ "awaylen", K_UINT, C(limits.awaylen), 1, IRC_LINE_MAX, NULL, "390",
	  "Longest away message.", NULL },
	{ "kicklen", K_UINT, C(limits.kicklen), 1, IRC_LINE_MAX, NULL, "390",
	  "Longest kick reason.", NULL },
	{ "realnamelen", K_UINT, C(limits.realnamelen), 1, IRC_LINE_MAX,
	  NULL, "150", "Longest real name (USER).", NULL },
	{ "whowas-entries", K_UINT, C(limits.whowas), 0, 100000, NULL, "100",
	  "Nicks remembered for WHOWAS; 0 = none.", NULL },
	{ "targmax", K_UINT, C(limits.targmax), 1, 64, NULL, "4",
	  "Most targets of one PRIVMSG or NOTICE.", NULL },
	/* Ergo's key of channels' max-list-entries (not printed) */
	{ "chan-list-modes", K_UINT, C(chan_max_list), 1, 100000, NULL, NULL,
	  NULL, NULL },
	{ "monitor-entries", K_UINT, C(limits.monitor), 0, 100000, NULL,
	  "100", "Most nicks on one client's MONITOR list (005 MONITOR=).",
	  NULL },
	{ "multiline-max-bytes", K_UINT, C(limits.ml_bytes), 512, 65536,
	  NULL, "4096", "Most bytes of one draft/multiline message, line\n"
	  "feeds included (the cap's max-bytes).", NULL },
	{ "multiline-max-lines", K_UINT, C(limits.ml_lines), 1, 1000, NULL,
	  "100", "Most lines in one draft/multiline batch (max-lines).\n"
	  "Both are lowered where a whole batch would not fit in\n"
	  "max-sendq.", NULL },
	{ "redact-window", K_SECS, C(limits.redact_window), 0, 3650 * DAY,
	  NULL, "15m", "How long a sender may REDACT its own message\n"
	  "(draft/message-redaction); ops and opers may at any time.", NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};

static const struct key history_keys[] = {
	{ "enabled", K_BOOL, C(history.enabled), 0, 0, NULL, "yes",
	  "Keep recent messages for CHATHISTORY (draft/chathistory).", NULL },
	{ "channel-length", K_UINT, C(history.channel_length), 0, 1000000,
	  NULL, "2048", "Messages kept per channel; 0 = none.", NULL },
	{ "client-length", K_UINT, C(history.client_length), 0, 1000000,
	  NULL, "256", "Direct messages kept per client; 0 = none.", NULL },
	{ "channel-max-bytes", K_SIZE, C(history.channel_bytes), 4 * KB,
	  KB * MB, NULL, "2m", "Memory one channel's history may hold (the\n"
	  "oldest messages go first): client tags make a message up to\n"
	  "eight times as big as its text.", NULL },
	{ "client-max-bytes", K_SIZE, C(history.client_bytes), 4 * KB,
	  KB * MB, NULL, "512k", "Memory one client's (or account's) direct\n"
	  "messages may hold.", NULL },
	{ "total-max-bytes", K_SIZE, C(history.total_bytes), 64 * KB,
	  KB * MB, NULL, "64m", "Memory all history together may hold:\n"
	  "past it the oldest messages anywhere go first. Oper STATS z\n"
	  "shows what is held.", NULL },
	{ "expire-time", K_SECS, C(history.expire), 0, 3650 * DAY, NULL,
	  "7d", "Messages older than this are dropped; 0 = never.", NULL },
	{ "query-cutoff", K_ENUM, C(history.query_cutoff), 0, 0, cutoff_vals,
	  "none", "What of a channel's history its members may read (Ergo's\n"
	  "history.restrictions.query-cutoff; a registered channel's\n"
	  "ChanServ SET query-cutoff overrides it): none, everything;\n"
	  "registration-time, nothing from before the reader's account was\n"
	  "registered (or, not logged in, before it connected), less\n"
	  "grace-period; join-time, nothing from before the reader joined\n"
	  "(the founder and ops read everything).", NULL },
	{ "grace-period", K_SECS, C(history.grace), 0, 3650 * DAY, NULL,
	  "1h", "How much history from before its registration a reader\n"
	  "sees under query-cutoff registration-time.", NULL },
	{ "autoreplay-on-join", K_UINT, C(history.autoreplay), 0, 1000, NULL,
	  "0", "Messages replayed to a client joining a channel (not to\n"
	  "clients with draft/chathistory); 0 = none.", NULL },
	{ "chathistory-maxmessages", K_UINT, C(history.maxmessages), 1,
	  1000, NULL, "100", "Most messages one CHATHISTORY command returns\n"
	  "(005 CHATHISTORY=).", NULL },
	{ "tagmsg-storage", K_TAGS, C(history.tagmsg_tags), 0, 256, NULL,
	  "+draft/react +react +draft/persist",
	  "A TAGMSG is kept in history (for draft/event-playback and\n"
	  "REDACT) only if it carries one of these client-only tags, as\n"
	  "Ergo's tagmsg-storage whitelist; \"\" keeps none. +typing is\n"
	  "better left out: it would push real messages out.", NULL },
	{ "persistent", K_BOOL, C(history.persistent), 0, 0, NULL, "no",
	  "Also keep history in the datastore, read back when needed: the\n"
	  "messages of registered channels and the direct messages of\n"
	  "logged-in users (per account). Written in batches once a\n"
	  "second: a crash (kill -9) loses at most the last second.", NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};
static const struct block history_block = { "history", history_keys };

static const struct key mdthrottle_keys[] = {
	{ "enabled", K_BOOL, C(metadata.throttle), 0, 0, NULL, "yes",
	  "Limit how often one client changes metadata (each change is\n"
	  "sent to everyone sharing a channel with it).", NULL },
	{ "duration", K_SECS, C(metadata.throttle_secs), 1, 7 * DAY, NULL,
	  "2m", "The window the limit counts in.", NULL },
	{ "max-attempts", K_UINT, C(metadata.throttle_max), 1, 100000, NULL,
	  "10", "METADATA SET and CLEAR per client per window; past it:\n"
	  "FAIL METADATA RATE_LIMITED with the seconds to wait.", NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};
static const struct block mdthrottle_block = {
	"metadata.client-throttle", mdthrottle_keys
};

static const struct key metadata_keys[] = {
	{ "enabled", K_BOOL, C(metadata.enabled), 0, 0, NULL, "yes",
	  "IRCv3 draft/metadata-2: METADATA on users and channels (avatar,\n"
	  "display-name, ...); kept in the datastore for accounts.", NULL },
	{ "max-subs", K_UINT, C(metadata.max_subs), 1, 1000, NULL, "100",
	  "Most keys one connection may subscribe to (the cap's max-subs).",
	  NULL },
	{ "max-keys", K_UINT, C(metadata.max_keys), 1, 1000, NULL, "100",
	  "Most keys one user or channel may hold (max-keys, 005\n"
	  "METADATA=).", NULL },
	{ "max-value-bytes", K_UINT, C(metadata.max_value_bytes), 1, 300,
	  NULL, "300", "Longest value in bytes (max-value-bytes); a key and\n"
	  "its value together stay under 350 so a reply fits one line.",
	  NULL },
	{ "client-throttle", K_BLOCK, 0, 0, 0, &mdthrottle_block, NULL,
	  "Rate limit on metadata changes.", NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};
static const struct block metadata_block = { "metadata", metadata_keys };

static const struct key services_keys[] = {
	{ "enabled", K_BOOL, C(services.enabled), 0, 0, NULL, "yes",
	  "Whether this server runs the services (NickServ, ChanServ,\n"
	  "HostServ, HistServ) and answers SASL from its own accounts. On\n"
	  "a network of linked servers exactly one server does (ours, or\n"
	  "Atheme): the others say no, and forward SASL and messages to\n"
	  "NickServ and ChanServ to it (see doc/linking.md).", NULL },
	{ "max-sasl-exchanges", K_UINT, C(services.sasl_max), 1, 100000,
	  NULL, "256", "SASL exchanges run at once for users of other\n"
	  "servers; past it the oldest is failed.", NULL },
	{ "server", K_HOST, C(services.server), 1, 63, NULL, NULL,
	  "The name of the network's services server (this one's, if\n"
	  "enabled is yes; else ours that runs them, or Atheme's): only its\n"
	  "logins, renames and SASL answers (ENCAP SU, SVSLOGIN, RSFNC,\n"
	  "SASL, MECHLIST) are taken, any other server's are refused and\n"
	  "logged. Unset: taken from any server; set it on every server.",
	  "server services.example.org" },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};
static const struct block services_block = { "services", services_keys };

static const struct key oper_keys[] = {
	{ "class", K_WORD, O(class), 1, 64, NULL, NULL,
	  "The operator's class, e.g. server-admin.", NULL },
	{ "password", K_HASH, O(password), 1, 256, NULL, NULL,
	  "A hash printed by ergo genpasswd.", NULL },
	{ "certfp", K_WORD, O(certfp), 1, 95, NULL, NULL,
	  "SHA-256 fingerprint of a TLS client certificate (hex; colons\n"
	  "allowed) that may OPER as this name; with a password too, both\n"
	  "are needed.", NULL },
	{ "hosts", K_STR, O(hosts), 1, 1024, NULL, NULL,
	  "Where this operator may OPER from: masks separated by spaces,\n"
	  "user@host or host, with * and ?, matched against the real\n"
	  "address (never a cloak), e.g. \"*@192.0.2.* ~ops@10.0.0.5\".\n"
	  "Unset: from anywhere.", NULL },
	{ "nofakelag", K_BOOL, O(nofakelag), 0, 0, NULL, "yes",
	  "Whether OPER lifts fakelag for this operator (Ergo's nofakelag\n"
	  "capability): a trusted bot or tool may send at full speed.", NULL },
	{ "whois-line", K_STR, O(whois_line), 1, 300, NULL, NULL,
	  "WHOIS's 313 line for this operator, e.g. \"is the network admin\".",
	  NULL },
	{ "vhost", K_HOST, O(vhost), 1, 63, NULL, NULL,
	  "A host shown instead of the real one from OPER on.", NULL },
	{ "hidden", K_BOOL, O(hidden), 0, 0, NULL, "no",
	  "Whether only other operators see this one's operator status.",
	  NULL },
	{ "modes", K_STR, O(modes), 1, 64, NULL, NULL,
	  "User modes and snomasks set at OPER, e.g. \"+is cjknoqux\".", NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};
static const struct block oper_block = { "oper", oper_keys };

static const struct key operclass_keys[] = {
	{ "title", K_STR, OC(title), 1, 64, NULL, NULL,
	  "Shown in WHOIS as \"is a TITLE\" unless the oper has a whois-line.",
	  NULL },
	{ "extends", K_WORD, OC(extends), 1, 64, NULL, NULL,
	  "Another oper-class whose capabilities this one has too.", NULL },
	{ "capabilities", K_STR, OC(capabilities), 0, 1024, NULL, NULL,
	  "Ergo's capability names, separated by spaces: kill ban nofakelag\n"
	  "roleplay relaymsg vhosts sajoin samode snomasks rehash accreg\n"
	  "chanreg history defcon massmessage die.", NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};
static const struct block operclass_block = { "oper-class", operclass_keys };

const char *const conf_opcap_names[] = {
	"kill", "ban", "nofakelag", "roleplay", "relaymsg", "vhosts",
	"sajoin", "samode", "snomasks", "rehash", "accreg", "chanreg",
	"history", "defcon", "massmessage", "die", NULL
};

unsigned
conf_opcap(const char *name, size_t len)
{
	size_t i;

	for (i = 0; conf_opcap_names[i] != NULL; i++)
		if (strlen(conf_opcap_names[i]) == len &&
		    memcmp(conf_opcap_names[i], name, len) == 0)
			return 1U << i;
	return 0;
}
static const struct key link_keys[] = {
	{ "host", K_STR, LK(host), 1, 64, NULL, NULL,
	  "The peer's numeric address, to connect to it; unset: it\n"
	  "connects to us (a listen block with server yes).", NULL },
	{ "port", K_UINT, LK(port), 1, 65535, NULL, "6900",
	  "Its port for servers.", NULL },
	{ "tls", K_BOOL, LK(tls), 0, 0, NULL, "no",
	  "Over TLS: we connect with TLS, and it must come in on a\n"
	  "listener with server yes and tls.", NULL },
	{ "certfp", K_WORD, LK(certfp), 1, 95, NULL, NULL,
	  "SHA-256 fingerprint the peer's TLS certificate must have\n"
	  "(ergo mkcerts prints its certificate's); needs tls yes.",
	  NULL },
	{ "send-password", K_WORD, LK(send_password), 1, 256, NULL, NULL,
	  "The password we send (its receive password): one word.", NULL },
	{ "receive-password", K_HASH, LK(recv_password), 1, 256, NULL, NULL,
	  "A hash (ergo genpasswd) of the password it must send.", NULL },
	{ "autoconnect", K_BOOL, LK(autoconnect), 0, 0, NULL, "no",
	  "Connect at start and whenever the link is down (with host).",
	  NULL },
	{ "hub", K_BOOL, LK(hub), 0, 0, NULL, "no",
	  "It may introduce other servers behind it.", NULL },
	{ "max-sendq", K_SIZE, LK(sendq), 64 * KB, 1024 * MB, NULL, "16m",
	  "Unsent output to it beyond this ends the link.", NULL },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};
static const struct block link_block = { "link", link_keys };

static const struct block network_block = { "network", network_keys };
static const struct block server_block = { "server", server_keys };
static const struct block admin_block = { "admin", admin_keys };
static const struct block datastore_block = { "datastore", datastore_keys };
static const struct block accounts_block = { "accounts", accounts_keys };
static const struct block logging_block = { "logging", logging_keys };
static const struct block channel_block = { "channels", channel_keys };
static const struct block limit_block = { "limits", limit_keys };

static const struct key top_keys[] = {
	{ "network", K_BLOCK, 0, 0, 0, &network_block, NULL,
	  "The network this server belongs to.", NULL },
	{ "server", K_BLOCK, 0, 0, 0, &server_block, NULL,
	  "This server.", NULL },
	{ "admin", K_BLOCK, 0, 0, 0, &admin_block, NULL,
	  "What the ADMIN command tells.", NULL },
	{ "datastore", K_BLOCK, 0, 0, 0, &datastore_block, NULL,
	  "Accounts, registered channels and history.", NULL },
	{ "accounts", K_BLOCK, 0, 0, 0, &accounts_block, NULL,
	  "User accounts: NickServ and SASL.", NULL },
	{ "logging", K_LOG, 0, 0, 0, &logging_block, NULL,
	  "Log lines (repeatable: each block is one more target, up to 8).\n"
	  "With no logging block: stderr, level info. ERGO__LOGGING__KEY\n"
	  "overrides set the first block.",
	  "To log to a file instead, and every line clients send too:\n"
	  "logging { method file  path /var/log/ergo/ergo.log  level info }\n"
	  "logging { method file  path /var/log/ergo/io.log  level debug\n"
	  "\ttypes userinput useroutput }" },
	{ "channels", K_BLOCK, 0, 0, 0, &channel_block, NULL,
	  "Channels.", NULL },
	{ "limits", K_BLOCK, 0, 0, 0, &limit_block, NULL,
	  "Lengths and list sizes, enforced where data comes in.", NULL },
	{ "history", K_BLOCK, 0, 0, 0, &history_block, NULL,
	  "Message history in memory (CHATHISTORY).", NULL },
	{ "metadata", K_BLOCK, 0, 0, 0, &metadata_block, NULL,
	  "User and channel metadata (draft/metadata-2).", NULL },
	{ "services", K_BLOCK, 0, 0, 0, &services_block, NULL,
	  "Services and SASL on a network of linked servers.", NULL },
	{ "oper-class", K_OPERCLASS, 0, 0, 0, &operclass_block, NULL,
	  "Operator classes (repeatable; Ergo's oper-classes): what the opers\n"
	  "of each class may do. With none, every oper may do everything.",
	  "oper-class chat-moderator {\n"
	  "\ttitle \"Chat Moderator\"\n"
	  "\tcapabilities \"kill ban nofakelag relaymsg vhosts sajoin samode"
	  " snomasks\"\n"
	  "}\n"
	  "oper-class server-admin {\n"
	  "\ttitle \"Server Admin\"\n"
	  "\textends chat-moderator\n"
	  "\tcapabilities \"rehash accreg chanreg history defcon massmessage"
	  " die\"\n"
	  "}" },
	{ "oper", K_OPER, 0, 0, 0, &oper_block, NULL,
	  "IRC operators (repeatable; OPER NAME PASSWORD), none by default.\n"
	  "Make the hash with: ergo genpasswd",
	  "oper admin {\n"
	  "\tclass server-admin\n"
	  "\tpassword \"$pbkdf2-sha256$32768$...\"\n"
	  "\tcertfp 0123...cdef    # also required, if given\n"
	  "\thosts \"*@192.0.2.* ~ops@10.0.0.5\"    # real addresses\n"
	  "\tnofakelag yes\n"
	  "\twhois-line \"is the network administrator\"\n"
	  "\tvhost staff.example.org\n"
	  "\thidden no\n"
	  "\tmodes \"+is cjknoqux\"\n"
	  "}" },
	{ "link", K_LINK, 0, 0, 0, &link_block, NULL,
	  "Servers linked to this one with TS6 (repeatable; needs\n"
	  "server.sid), none by default. See doc/linking.md.",
	  "link hub.example.org {\n"
	  "\thost 192.0.2.1  port 6900\n"
	  "\tsend-password \"secret sent to it\"\n"
	  "\treceive-password \"<hash of the one it sends>\"\n"
	  "\tautoconnect yes  hub yes\n"
	  "}" },
	{ NULL, K_BLOCK, 0, 0, 0, NULL, NULL, NULL, NULL }
};
static const struct block top_block = { NULL, top_keys };

/* ---- the parser's state ---- */

enum { T_EOF, T_NL, T_LBRACE, T_RBRACE, T_WORD, T_STRING, T_ERR };

struct tok {
	int		 type;
	char		*s;		/* into the file buffer; no NUL */
	size_t		 n;
	unsigned	 line, col;
};

struct where {
	unsigned	 line, col;	/* in the file; 0: not from the file */
	const char	*env;		/* the variable of an override */
};

/* Where a listen or oper was defined, for "first at line N". */
struct objpos {
	struct objpos	*next;
	const void	*obj;
	unsigned	 line;
};

struct parser {
	const char	*file;		/* as given, for messages */
	char		*dir;		/* for relative K_PATH values, or NULL */
	char		*buf;		/* the whole file; strings unescaped in place */
	size_t		 len, off;
	unsigned	 line, col;	/* of buf[off] */
	struct tok	 la;		/* lookahead */
	bool		 have_la;
	struct conf	*c;
	bool		 listen_set;	/* a listen statement or override seen */
	unsigned	 nlogs;
	struct where	 method_at;	/* of the block being parsed */
	struct where	 env_log;	/* an override set the first logging */
	char		 env_log_name[128];
	struct objpos	*pos;
	char		*errs;
	size_t		 errlen, errsz;
	unsigned	 nerr;
	bool		 nomem;
	/*
	 * The first key inside a block that is the name of a top-level
	 * block (`datastore` inside `server`): where a missing '}' starts
	 * a cascade of "unknown key" errors, dropped if the block turns
	 * out unterminated. errlen and nerr then, and the key.
	 */
	bool		 cascade;
	size_t		 cascade_len;
	unsigned	 cascade_nerr, cascade_line, cascade_depth;
	unsigned	 depth;		/* of open blocks */
	char		 cascade_key[64];
};

static const struct where default_where = { 0, 0, "built-in default" };

/* ---- errors ---- */

static void
err_append(struct parser *p, const char *s)
{
	size_t n = strlen(s), sz;
	char *nb;

	if (p->errlen + n + 1 > p->errsz) {
		sz = p->errsz ? p->errsz : 256;
		while (sz < p->errlen + n + 1)
			sz *= 2;
		if ((nb = realloc(p->errs, sz)) == NULL) {
			p->nomem = true;
			return;
		}
		p->errs = nb;
		p->errsz = sz;
	}
	memcpy(p->errs + p->errlen, s, n + 1);
	p->errlen += n;
}

/* One "FILE:LINE:COL: message" (or "ERGO__X__Y: message") line. */
static void __attribute__((format(printf, 3, 4)))
conf_err(struct parser *p, const struct where *w, const char *fmt, ...)
{
	char msg[512], line[768];
	va_list ap;

	if (++p->nerr > CONF_ERRS_MAX)
		return;
	if (p->nerr == CONF_ERRS_MAX)
		snprintf(msg, sizeof(msg), "too many errors; stopping here");
	else {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	if (w != NULL && w->env != NULL)
		snprintf(line, sizeof(line), "%s: %s\n", w->env, msg);
	else if (w != NULL && w->line != 0)
		snprintf(line, sizeof(line), "%s:%u:%u: %s\n", p->file,
		    w->line, w->col, msg);
	else
		snprintf(line, sizeof(line), "%s: %s\n",
		    p->file ? p->file : "built-in defaults", msg);
	err_append(p, line);
}

static struct where
tok_where(const struct tok *t)
{
	struct where w = { t->line, t->col, NULL };

	return w;
}

/*
 * Operator text for a message: cut at 40 bytes, control characters
 * shown as '?', so an error line stays one short line.
 */
static const char *
show(char *buf, size_t sz, const char *s, size_t n)
{
	size_t i, o = 0, lim = sz > 44 ? 40 : sz - 4;

	for (i = 0; i < n && o < lim; i++) {
		unsigned char ch = (unsigned char)s[i];

		buf[o++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	if (i < n) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

static void
nomem(struct parser *p)
{
	p->nomem = true;
}

static char *
xstrndup(struct parser *p, const char *s, size_t n)
{
	char *d;

	if ((d = malloc(n + 1)) == NULL) {
		nomem(p);
		return NULL;
	}
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static void
pos_add(struct parser *p, const void *obj, unsigned line)
{
	struct objpos *op;

	if ((op = malloc(sizeof(*op))) == NULL) {
		nomem(p);
		return;
	}
	op->obj = obj;
	op->line = line;
	op->next = p->pos;
	p->pos = op;
}

static void
pos_del(struct parser *p, const void *obj)
{
	struct objpos **pp, *op;

	for (pp = &p->pos; (op = *pp) != NULL;)
		if (op->obj == obj) {
			*pp = op->next;
			free(op);
		} else
			pp = &op->next;
}

static unsigned
pos_line(const struct parser *p, const void *obj)
{
	const struct objpos *op;

	for (op = p->pos; op != NULL; op = op->next)
		if (op->obj == obj)
			return op->line;
	return 0;
}

/* ---- lexer ---- */

static void
lex_advance(struct parser *p)
{
	unsigned char ch = (unsigned char)p->buf[p->off++];

	if (ch == '\n') {
		p->line++;
		p->col = 1;
	} else if ((ch & 0xc0) != 0x80)	/* columns count characters */
		p->col++;
}

static bool
lex_space(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' ||
	    ch == '\v';
}

static bool
lex_delim(unsigned char ch)
{
	return lex_space(ch) || ch == '\n' || ch == '{' || ch == '}' ||
	    ch == '"' || ch < 0x20 || ch == 0x7f;
}

/* "quoted string": unescaped in place; it may not span lines. */
static void
lex_string(struct parser *p, struct tok *t)
{
	struct where bw;
	size_t w;
	unsigned char ch;
	bool bad = false;

	lex_advance(p);
	w = p->off;
	t->s = p->buf + w;
	for (;;) {
		if (p->off >= p->len || p->buf[p->off] == '\n') {
			bw = tok_where(t);
			conf_err(p, &bw, "unterminated string: the closing "
			    "'\"' must be on the same line");
			t->type = T_ERR;
			return;
		}
		ch = (unsigned char)p->buf[p->off];
		if (ch == '"') {
			lex_advance(p);
			break;
		}
		if (ch == '\\') {
			bw.line = p->line;
			bw.col = p->col;
			bw.env = NULL;
			lex_advance(p);
			if (p->off >= p->len || p->buf[p->off] == '\n')
				continue;	/* reported as unterminated */
			ch = (unsigned char)p->buf[p->off];
			if (ch != '"' && ch != '\\') {
				if (ch > 0x20 && ch < 0x7f)
					conf_err(p, &bw, "unknown escape \\%c in"
					    " a string: only \\\" and \\\\ are "
					    "allowed", ch);
				else
					conf_err(p, &bw, "unknown escape in a "
					    "string: only \\\" and \\\\ are "
					    "allowed");
				bad = true;
			}
		} else if (ch == '\0') {
			bw.line = p->line;
			bw.col = p->col;
			bw.env = NULL;
			conf_err(p, &bw, "NUL byte in a string");
			bad = true;
		}
		lex_advance(p);
		p->buf[w++] = (char)ch;
	}
	t->n = (size_t)(p->buf + w - t->s);
	t->type = bad ? T_ERR : T_STRING;
}

static void
lex(struct parser *p, struct tok *t)
{
	unsigned char ch;
	struct where w;

again:
	while (p->off < p->len && lex_space((unsigned char)p->buf[p->off]))
		lex_advance(p);
	t->line = p->line;
	t->col = p->col;
	t->s = p->buf + p->off;
	t->n = 0;
	if (p->off >= p->len) {
		t->type = T_EOF;
		return;
	}
	ch = (unsigned char)p->buf[p->off];
	switch (ch) {
	case '\n':
		lex_advance(p);
		t->type = T_NL;
		return;
	case '#':
		while (p->off < p->len && p->buf[p->off] != '\n')
			lex_advance(p);
		goto again;
	case '{':
	case '}':
		lex_advance(p);
		t->n = 1;
		t->type = ch == '{' ? T_LBRACE : T_RBRACE;
		return;
	case '"':
		lex_string(p, t);
		return;
	}
	if (ch < 0x20 || ch == 0x7f) {
		w = tok_where(t);
		conf_err(p, &w, "unexpected control character 0x%02x", ch);
		lex_advance(p);
		t->type = T_ERR;
		return;
	}
	while (p->off < p->len && !lex_delim((unsigned char)p->buf[p->off]))
		lex_advance(p);
	t->n = (size_t)(p->buf + p->off - t->s);
	t->type = T_WORD;
}

static struct tok *
peek(struct parser *p)
{
	if (!p->have_la) {
		lex(p, &p->la);
		p->have_la = true;
	}
	return &p->la;
}

static void
next(struct parser *p)
{
	p->have_la = false;
}

/*
 * Error recovery: drops the rest of a statement, including any block it
 * opened, up to the end of its line or the '}' closing the enclosing
 * block (which is left for the caller).
 */
static void
skip_statement(struct parser *p)
{
	struct tok *t;
	struct where open = { 0, 0, NULL };
	unsigned depth = 0;

	for (;;) {
		t = peek(p);
		switch (t->type) {
		case T_EOF:
			if (depth > 0)
				conf_err(p, &open, "unterminated block opened "
				    "here: missing '}'");
			return;
		case T_NL:
			if (depth == 0)
				return;
			break;
		case T_RBRACE:
			if (depth == 0)
				return;
			depth--;
			break;
		case T_LBRACE:
			if (depth++ == 0)
				open = tok_where(t);
			break;
		}
		next(p);
	}
}

/* ---- values ---- */

static bool
is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static char
lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

static bool
eq_nocase(const char *a, const char *b)
{
	for (; *a != '\0' && lower(*a) == lower(*b); a++, b++)
		;
	return *a == '\0' && *b == '\0';
}

/* Plain decimal: digits only, no sign, no overflow. */
static int
parse_uint(const char *s, unsigned long long *out)
{
	unsigned long long v = 0;

	if (*s == '\0')
		return -1;
	for (; is_digit(*s); s++) {
		if (v > (ULLONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (unsigned long long)(*s - '0');
	}
	if (*s != '\0')
		return -1;
	*out = v;
	return 0;
}

/* 512, 96k, 1m, 2g (1024-based). */
static int
parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v = 0, mul = 1;

	if (!is_digit(*s))
		return -1;
	for (; is_digit(*s); s++) {
		if (v > (ULLONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (unsigned long long)(*s - '0');
	}
	switch (lower(*s)) {
	case '\0':
		break;
	case 'k':
		mul = KB;
		break;
	case 'm':
		mul = MB;
		break;
	case 'g':
		mul = KB * MB;
		break;
	default:
		return -1;
	}
	if (*s != '\0' && s[1] != '\0')
		return -1;
	if (v > ULLONG_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

/* In milliseconds: 90 (seconds), 30s, 500ms, 1h30m, 2d, 1w. */
static int
parse_duration(const char *s, unsigned long long *out)
{
	unsigned long long total = 0, v, mul;

	if (parse_uint(s, &v) == 0) {
		if (v > ULLONG_MAX / 1000)
			return -1;
		*out = v * 1000;
		return 0;
	}
	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		if (!is_digit(*s))
			return -1;
		for (v = 0; is_digit(*s); s++) {
			if (v > (ULLONG_MAX - 9) / 10)
				return -1;
			v = v * 10 + (unsigned long long)(*s - '0');
		}
		if (s[0] == 'm' && s[1] == 's') {
			mul = 1;
			s++;
		} else if (*s == 's')
			mul = 1000;
		else if (*s == 'm')
			mul = 60 * 1000ULL;
		else if (*s == 'h')
			mul = HOUR_MS;
		else if (*s == 'd')
			mul = 24 * HOUR_MS;
		else if (*s == 'w')
			mul = 7 * 24 * HOUR_MS;
		else
			return -1;
		s++;
		if (v > ULLONG_MAX / mul || total > ULLONG_MAX - v * mul)
			return -1;
		total += v * mul;
	}
	*out = total;
	return 0;
}

/* Letters, digits, '-' and '.', with a dot; labels not empty or -edged. */
static bool
valid_hostname(const char *s)
{
	size_t i, n = strlen(s), lab = 0;
	bool dot = false;
	char ch;

	if (n == 0 || n > 63)
		return false;
	for (i = 0; i < n; i++) {
		ch = s[i];
		if (ch == '.') {
			if (lab == 0 || s[i - 1] == '-')
				return false;
			dot = true;
			lab = 0;
		} else if ((ch >= 'a' && ch <= 'z') ||
		    (ch >= 'A' && ch <= 'Z') || is_digit(ch) ||
		    (ch == '-' && lab > 0))
			lab++;
		else
			return false;
	}
	return dot && lab > 0 && s[n - 1] != '-';
}

/* "+draft/react +react": client-only tag names, spaces between. */
static bool
valid_tags(const char *s)
{
	bool inword = false;

	for (; *s != '\0'; s++) {
		if (*s == ' ') {
			if (inword && s[-1] == '+')
				return false;
			inword = false;
		} else if (!inword) {
			if (*s != '+')
				return false;
			inword = true;
		} else if (!((*s >= 'a' && *s <= 'z') ||
		    (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		    strchr("-./", *s) != NULL))
			return false;
	}
	return !inword || s[-1] != '+';
}

static bool
valid_modes(const char *s)
{
	if (*s++ != '+')
		return false;
	for (; *s != '\0'; s++)
		if (strchr("imnpst", *s) == NULL)
			return false;
	return true;
}

static void
fmt_size(char *buf, size_t sz, unsigned long long v)
{
	if (v >= MB && v % MB == 0)
		snprintf(buf, sz, "%llum", v / MB);
	else if (v >= KB && v % KB == 0)
		snprintf(buf, sz, "%lluk", v / KB);
	else
		snprintf(buf, sz, "%llu", v);
}

static void
fmt_ms(char *buf, size_t sz, unsigned long long v)
{
	if (v >= HOUR_MS && v % HOUR_MS == 0)
		snprintf(buf, sz, "%lluh", v / HOUR_MS);
	else if (v >= 1000 && v % 1000 == 0)
		snprintf(buf, sz, "%llus", v / 1000);
	else
		snprintf(buf, sz, "%llums", v);
}

/* a/b/c: dir "a/b", so values are read relative to the config file. */
static char *
path_resolve(struct parser *p, const char *v)
{
	size_t dl, vl;
	char *r;

	if (v[0] == '/' || p->dir == NULL)
		return xstrndup(p, v, strlen(v));
	dl = strlen(p->dir);
	vl = strlen(v);
	if ((r = malloc(dl + 1 + vl + 1)) == NULL) {
		nomem(p);
		return NULL;
	}
	memcpy(r, p->dir, dl);
	r[dl] = '/';
	memcpy(r + dl + 1, v, vl + 1);
	return r;
}

static int
set_string(struct parser *p, const struct key *k, void *base, char *v,
    size_t n, const struct where *w)
{
	char **dst = (char **)(void *)((char *)base + k->off), *r;
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
			conf_err(p, w, "control characters are not allowed "
			    "in %s", k->name);
			return -1;
		}
	if (n < k->min) {
		conf_err(p, w, "%s must not be empty", k->name);
		return -1;
	}
	if (n > k->max) {
		conf_err(p, w, "%s is longer than %llu characters", k->name,
		    k->max);
		return -1;
	}
	switch (k->type) {
	case K_WORD:
		if (strchr(v, ' ') != NULL) {
			conf_err(p, w, "%s must be one word, without spaces",
			    k->name);
			return -1;
		}
		break;
	case K_HOST:
		if (!valid_hostname(v)) {
			conf_err(p, w, "expected a hostname with a dot, like "
			    "irc.example.org (letters, digits, '-' and '.'; "
			    "at most 63 characters)");
			return -1;
		}
		break;
	case K_SID:
		if (n != 3 || !is_digit(v[0]) ||
		    strspn(v + 1, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 2) {
			conf_err(p, w, "expected a server id: a digit then two "
			    "digits or capital letters, like 0AB");
			return -1;
		}
		break;
	case K_HASH:
		if (!conf_passwd_check(v)) {
			conf_err(p, w, "expected a password hash from `ergo "
			    "genpasswd`, like \"$pbkdf2-sha256$32768$...\"");
			return -1;
		}
		break;
	case K_MODES:
		if (!valid_modes(v)) {
			conf_err(p, w, "expected channel modes like +nt: a '+'"
			    " then letters from imnpst");
			return -1;
		}
		break;
	case K_NETS: {
		struct util_net nets[UTIL_NETS_MAX];
		const char *bad;
		int cnt = util_nets_parse(v, nets, UTIL_NETS_MAX, &bad);

		if (cnt == -1 && bad != NULL)
			conf_err(p, w, "expected addresses or CIDR blocks like "
			    "\"localhost 192.0.2.0/24\" (at most %d), not "
			    "\"%.*s\"", UTIL_NETS_MAX, (int)strcspn(bad, " \t,"),
			    bad);
		if (cnt <= 0) {
			if (cnt == 0)
				conf_err(p, w, "%s needs at least one address",
				    k->name);
			return -1;
		}
		break;
	}
	case K_TAGS:
		if (!valid_tags(v)) {
			conf_err(p, w, "expected client-only tag names "
			    "separated by spaces, each a '+' then letters, "
			    "digits and -./ like \"+draft/react +react\"");
			return -1;
		}
		break;
	default:
		break;
	}
	if (k->type == K_PATH) {
		if ((r = path_resolve(p, v)) == NULL)
			return -1;
		free(v);
	} else
		r = v;
	free(*dst);
	*dst = r;
	return 0;
}

/*
 * "* -userinput", "server connect": space-separated words. Starts from
 * nothing, or from everything when the first word is an exclusion.
 */
static int
types_parse(struct parser *p, const char *s, uint32_t *out,
    const struct where *w)
{
	char shown[64];
	uint32_t v = 0, b;
	size_t n;
	bool first = true, neg;

	for (;;) {
		s += strspn(s, " \t");
		if (*s == '\0')
			break;
		n = strcspn(s, " \t");
		if ((neg = *s == '-')) {
			if (first)
				v = LOG_TYPES_ALL;
			s++;
			n--;
		}
		if (n == 1 && *s == '*' && !neg)
			b = LOG_TYPES_ALL;
		else if ((b = log_category(s, n)) == 0) {
			conf_err(p, w, "unknown log type \"%s\"; expected * or"
			    " some of: server connect channels opers rehash "
			    "store userinput useroutput log irc accounts tls "
			    "link, each may start with -", show(shown,
			    sizeof(shown), s, n));
			return -1;
		}
		v = neg ? v & ~b : v | b;
		first = false;
		s += n;
	}
	if (first) {
		conf_err(p, w, "types needs at least one name, like: types *");
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * Sets key k of the struct at base from the text s (n bytes; from the
 * file, an override or a table default). Returns 0, or -1 (reported).
 */
static int
set_value(struct parser *p, const struct key *k, void *base, const char *s,
    size_t n, const struct where *w)
{
	void *dst = (char *)base + k->off;
	const struct enumval *ev;
	unsigned long long v = 0;
	char lo[32], hi[32], list[128], *t;
	size_t len;
	int rc = -1;

	if ((t = xstrndup(p, s, n)) == NULL)
		return -1;
	switch (k->type) {
	case K_STR:
	case K_WORD:
	case K_HOST:
	case K_SID:
	case K_PATH:
	case K_HASH:
	case K_MODES:
	case K_TAGS:
	case K_NETS:
		if (set_string(p, k, base, t, n, w) == 0)
			return 0;
		break;
	case K_BOOL:
		if (eq_nocase(t, "yes") || eq_nocase(t, "true") ||
		    eq_nocase(t, "on"))
			*(bool *)dst = true;
		else if (eq_nocase(t, "no") || eq_nocase(t, "false") ||
		    eq_nocase(t, "off"))
			*(bool *)dst = false;
		else {
			conf_err(p, w, "expected yes or no");
			break;
		}
		rc = 0;
		break;
	case K_ENUM:
		for (ev = k->aux; ev->name != NULL; ev++)
			if (eq_nocase(t, ev->name))
				break;
		if (ev->name == NULL) {
			list[0] = '\0';
			for (ev = k->aux; ev->name != NULL; ev++) {
				len = strlen(list);
				snprintf(list + len, sizeof(list) - len, "%s%s",
				    len ? ", " : "", ev->name);
			}
			conf_err(p, w, "expected one of: %s", list);
			break;
		}
		*(int *)dst = ev->val;
		if (k->aux == method_vals)
			p->method_at = *w;
		rc = 0;
		break;
	case K_UINT:
	case K_SIZE:
	case K_SECS:
	case K_MSECS:
		if (k->type == K_UINT && parse_uint(t, &v) == -1) {
			conf_err(p, w, "expected a whole number");
			break;
		}
		if (k->type == K_SIZE && parse_size(t, &v) == -1) {
			conf_err(p, w, "expected a size like 96k");
			break;
		}
		if ((k->type == K_SECS || k->type == K_MSECS) &&
		    parse_duration(t, &v) == -1) {
			conf_err(p, w, "expected a duration like 30s, 2m or "
			    "1h30m");
			break;
		}
		if (k->type == K_SECS) {
			if (v % 1000 != 0) {
				conf_err(p, w, "%s takes whole seconds, like "
				    "60s", k->name);
				break;
			}
			v /= 1000;
		}
		if (v < k->min || v > k->max) {
			if (k->type == K_SIZE) {
				fmt_size(lo, sizeof(lo), k->min);
				fmt_size(hi, sizeof(hi), k->max);
			} else if (k->type == K_MSECS) {
				fmt_ms(lo, sizeof(lo), k->min);
				fmt_ms(hi, sizeof(hi), k->max);
			} else if (k->type == K_SECS) {
				fmt_ms(lo, sizeof(lo), k->min * 1000);
				fmt_ms(hi, sizeof(hi), k->max * 1000);
			} else {
				snprintf(lo, sizeof(lo), "%llu", k->min);
				snprintf(hi, sizeof(hi), "%llu", k->max);
			}
			conf_err(p, w, "%s must be between %s and %s",
			    k->name, lo, hi);
			break;
		}
		if (k->type == K_SIZE)
			*(size_t *)dst = (size_t)v;
		else
			*(unsigned *)dst = (unsigned)v;
		rc = 0;
		break;
	case K_FMODE:
		if (n == 0 || n > 4 || strspn(t, "01234567") != n ||
		    (v = strtoul(t, NULL, 8)) > k->max) {
			conf_err(p, w, "expected a file mode in octal, like "
			    "0770");
			break;
		}
		*(unsigned *)dst = (unsigned)v;
		rc = 0;
		break;
	case K_TYPES:
		rc = types_parse(p, t, (uint32_t *)dst, w);
		break;
	default:
		break;
	}
	free(t);
	return rc;
}

/* ---- listen addresses ---- */

static void
listen_free(struct listen_conf *l)
{
	if (l == NULL)
		return;
	free(l->text);
	free(l->cert);
	free(l->key);
	free(l);
}

static int
listen_resolve(const char *host, const char *port, int family,
    struct listen_conf *l)
{
	struct addrinfo hints, *res;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	if (res->ai_addrlen > sizeof(l->ss)) {
		freeaddrinfo(res);
		return -1;
	}
	memset(&l->ss, 0, sizeof(l->ss));
	memcpy(&l->ss, res->ai_addr, res->ai_addrlen);
	l->sslen = (socklen_t)res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* A Unix socket's path: out[0]. */
static int
listen_unix(struct parser *p, const char *path, const struct where *w,
    struct listen_conf *out[2])
{
	struct sockaddr_un *sun;

	if (strlen(path) >= sizeof(sun->sun_path)) {
		conf_err(p, w, "a Unix socket path is at most %zu bytes",
		    sizeof(sun->sun_path) - 1);
		return -1;
	}
	if ((out[0] = calloc(1, sizeof(*out[0]))) == NULL ||
	    (out[0]->text = xstrndup(p, path, strlen(path))) == NULL) {
		if (out[0] == NULL)
			nomem(p);
		free(out[0]);
		out[0] = NULL;
		return -1;
	}
	out[0]->line = w->env == NULL ? w->line : 0;
	sun = (struct sockaddr_un *)(void *)&out[0]->ss;
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, strlen(path) + 1);
	out[0]->sslen = (socklen_t)sizeof(*sun);
	return 1;
}

/*
 * host:port, [v6]:port or :port (two entries: 0.0.0.0 and [::], each
 * its own socket, since one dual-stack socket is not portable). Fills
 * out[0] (and out[1]); returns how many, or -1 (reported).
 */
static int
listen_parse(struct parser *p, const char *s, size_t n,
    const struct where *w, struct listen_conf *out[2])
{
	char v[128], shown[64], text[96], *host, *port, *q;
	int family = AF_INET, i, cnt = 1;
	bool any = false;

	out[0] = out[1] = NULL;
	if (n == 0 || n >= sizeof(v)) {
		conf_err(p, w, "expected an address like 127.0.0.1:6667, "
		    "[::1]:6667 or :6667");
		return -1;
	}
	memcpy(v, s, n);
	v[n] = '\0';
	if (v[0] == '/')
		return listen_unix(p, v, w, out);
	if (v[0] == '[') {
		if ((q = strchr(v, ']')) == NULL || q[1] != ':') {
			conf_err(p, w, "expected [IPv6-address]:port, like "
			    "[::1]:6667");
			return -1;
		}
		*q = '\0';
		host = v + 1;
		port = q + 2;
		family = AF_INET6;
	} else {
		if ((q = strrchr(v, ':')) == NULL) {
			conf_err(p, w, "expected host:port, like 127.0.0.1:6667"
			    " or :6667");
			return -1;
		}
		*q = '\0';
		host = v;
		port = q + 1;
		if (strchr(host, ':') != NULL) {
			conf_err(p, w, "an IPv6 address needs brackets, like "
			    "[::1]:6667");
			return -1;
		}
		any = host[0] == '\0';
	}
	if (port[0] == '\0' || strlen(port) > 5 ||
	    strspn(port, "0123456789") != strlen(port) ||
	    strtoul(port, NULL, 10) > 65535) {
		conf_err(p, w, "expected a port number (0-65535) after ':' in "
		    "%s", show(shown, sizeof(shown), s, n));
		return -1;
	}
	if (any)
		cnt = 2;
	for (i = 0; i < cnt; i++) {
		if ((out[i] = calloc(1, sizeof(*out[i]))) == NULL)
			goto nomem;
		if (any) {
			snprintf(text, sizeof(text), i == 0 ? "0.0.0.0:%s" :
			    "[::]:%s", port);
			host = i == 0 ? "0.0.0.0" : "::";
			family = i == 0 ? AF_INET : AF_INET6;
			out[i]->text = xstrndup(p, text, strlen(text));
		} else
			out[i]->text = xstrndup(p, s, n);
		if (out[i]->text == NULL)
			goto fail;
		out[i]->line = w->env == NULL ? w->line : 0;
		if (listen_resolve(host, port, family, out[i]) == -1) {
			show(shown, sizeof(shown), host, strlen(host));
			if (family == AF_INET && strspn(host, "0123456789.") !=
			    strlen(host))
				conf_err(p, w, "expected a numeric address, "
				    "not a hostname: %s", shown);
			else
				conf_err(p, w, "expected a numeric %s address,"
				    " not %s", family == AF_INET ? "IPv4" :
				    "IPv6", shown);
			goto fail;
		}
	}
	return cnt;
nomem:
	nomem(p);
fail:
	listen_free(out[0]);
	listen_free(out[1]);
	out[0] = out[1] = NULL;
	return -1;
}

static bool
listen_same(const struct listen_conf *a, const struct listen_conf *b)
{
	const struct sockaddr_in *a4, *b4;
	const struct sockaddr_in6 *a6, *b6;

	if (a->ss.ss_family != b->ss.ss_family)
		return false;
	if (a->ss.ss_family == AF_UNIX)
		return strcmp(a->text, b->text) == 0;
	if (a->ss.ss_family == AF_INET) {
		a4 = (const struct sockaddr_in *)(const void *)&a->ss;
		b4 = (const struct sockaddr_in *)(const void *)&b->ss;
		/* port 0 lets the kernel pick: never the same socket */
		return a4->sin_port != 0 && a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	}
	a6 = (const struct sockaddr_in6 *)(const void *)&a->ss;
	b6 = (const struct sockaddr_in6 *)(const void *)&b->ss;
	return a6->sin6_port != 0 && a6->sin6_port == b6->sin6_port &&
	    a6->sin6_scope_id == b6->sin6_scope_id &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
}

/* Appends l to the listen list, unless its address is there already. */
static void
listen_add(struct parser *p, struct listen_conf *l, const struct where *w)
{
	struct listen_conf **pp;
	unsigned first;

	for (pp = &p->c->listens; *pp != NULL; pp = &(*pp)->next)
		if (listen_same(*pp, l)) {
			if ((first = pos_line(p, *pp)) != 0)
				conf_err(p, w, "duplicate listen address %s "
				    "(first at line %u)", l->text, first);
			else
				conf_err(p, w, "duplicate listen address %s",
				    l->text);
			listen_free(l);
			return;
		}
	*pp = l;
	pos_add(p, l, w->line);
}

/*
 * A whole listen list from one string ("127.0.0.1:6667 [::1]:6667"),
 * replacing the current one: for overrides and the defaults.
 */
static void
listen_set_list(struct parser *p, const char *s, const struct where *w)
{
	struct listen_conf *l, *out[2];
	size_t n;
	int i, cnt, total = 0;

	while ((l = p->c->listens) != NULL) {
		p->c->listens = l->next;
		pos_del(p, l);
		listen_free(l);
	}
	p->listen_set = true;
	for (;;) {
		s += strspn(s, " \t,");
		if (*s == '\0')
			break;
		n = strcspn(s, " \t,");
		if ((cnt = listen_parse(p, s, n, w, out)) > 0)
			for (i = 0; i < cnt; i++) {
				listen_add(p, out[i], w);
				total++;
			}
		else
			total++;	/* reported; not "none given" too */
		s += n;
	}
	if (total == 0)
		conf_err(p, w, "expected at least one listen address, like "
		    "127.0.0.1:6667");
}

/* ---- the parser ---- */

static const struct key *
key_find(const struct block *b, const char *s, size_t n)
{
	const struct key *k;

	for (k = b->keys; k->name != NULL; k++)
		if (strlen(k->name) == n && memcmp(k->name, s, n) == 0)
			return k;
	return NULL;
}

/*
 * Edit distance of two short strings, an adjacent swap counting as one
 * edit ("nmae" is one from "name"), for "did you mean".
 */
static size_t
edit_distance(const char *a, size_t an, const char *b, size_t bn)
{
	size_t d[33][33], i, j, best;

	if (an > 32 || bn > 32)
		return SIZE_MAX;
	for (i = 0; i <= an; i++)
		d[i][0] = i;
	for (j = 0; j <= bn; j++)
		d[0][j] = j;
	for (i = 1; i <= an; i++)
		for (j = 1; j <= bn; j++) {
			best = d[i - 1][j - 1] +
			    (lower(a[i - 1]) != lower(b[j - 1]));
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[an][bn];
}

static const char *
block_where(const struct block *b, char *buf, size_t sz)
{
	if (b->name == NULL)
		snprintf(buf, sz, "at top level");
	else
		snprintf(buf, sz, "in block %s", b->name);
	return buf;
}

static const struct block top_block;

static void
unknown_key(struct parser *p, const struct block *b, const struct tok *t)
{
	const struct key *k, *best = NULL;
	size_t d, bestd = SIZE_MAX;
	char shown[64], in[64], hint[64] = "";
	struct where w = tok_where(t);

	if (b != &top_block && !p->cascade)
		for (k = top_block.keys; k->name != NULL; k++)
			if (k->type == K_BLOCK && strlen(k->name) == t->n &&
			    memcmp(k->name, t->s, t->n) == 0) {
				p->cascade = true;
				p->cascade_len = p->errlen;
				p->cascade_nerr = p->nerr;
				p->cascade_line = t->line;
				p->cascade_depth = p->depth;
				show(p->cascade_key, sizeof(p->cascade_key),
				    t->s, t->n);
				break;
			}

	for (k = b->keys; k->name != NULL; k++) {
		d = edit_distance(t->s, t->n, k->name, strlen(k->name));
		if (d < bestd) {
			bestd = d;
			best = k;
		}
	}
	if (best != NULL && bestd <= 2 && bestd * 3 <= strlen(best->name))
		snprintf(hint, sizeof(hint), "; did you mean \"%s\"?",
		    best->name);
	conf_err(p, &w, "unknown key \"%s\" %s%s",
	    show(shown, sizeof(shown), t->s, t->n),
	    block_where(b, in, sizeof(in)), hint);
}

static void parse_body(struct parser *, const struct block *, void *,
    const struct tok *);

/*
 * After a statement's value: more on the same line must be the next
 * statement (`tls { cert a  key b }`), so anything that is not a key of
 * this block is an error, most often an unquoted value with spaces.
 */
static void
end_statement(struct parser *p, const struct block *b, const struct key *k)
{
	struct tok *t = peek(p);
	struct where w = tok_where(t);
	char shown[64];

	switch (t->type) {
	case T_ERR:
		next(p);
		skip_statement(p);
		return;
	case T_STRING:
	case T_WORD:
		if (t->type == T_WORD && key_find(b, t->s, t->n) != NULL)
			return;
		if (t->type == T_WORD && k->type != K_STR &&
		    k->type != K_PATH && k->type != K_TAGS)
			unknown_key(p, b, t);
		else
			conf_err(p, &w, "unexpected \"%s\" after the value of "
			    "%s; quote a value that contains spaces",
			    show(shown, sizeof(shown), t->s, t->n), k->name);
		skip_statement(p);
		return;
	case T_LBRACE:
		conf_err(p, &w, "%s takes no block", k->name);
		skip_statement(p);
		return;
	default:
		return;
	}
}

/*
 * After a block's name (and label): '{', on the same line or a later
 * one. Returns true with it consumed, else false (reported).
 */
static bool
expect_open(struct parser *p, const struct key *k, bool label)
{
	struct tok *t;
	struct where w;
	bool nl = false;

	while ((t = peek(p))->type == T_NL) {
		next(p);
		nl = true;
	}
	w = tok_where(t);
	if (t->type == T_LBRACE) {
		next(p);
		return true;
	}
	if (t->type == T_ERR) {
		next(p);
	} else if (!label && !nl &&
	    (t->type == T_WORD || t->type == T_STRING))
		conf_err(p, &w, "block %s takes no label", k->name);
	else
		conf_err(p, &w, "expected '{' after %s", k->name);
	skip_statement(p);
	return false;
}

/* "AB:CD:..." or "abcd..." to 64 lowercase hex digits, in place. */
static int
certfp_normalize(char *s)
{
	size_t i, n = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == ':')
			continue;
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (lower(s[i]) >= 'a' && lower(s[i]) <= 'f')))
			return -1;
		s[n++] = lower(s[i]);
	}
	s[n] = '\0';
	return n == 64 ? 0 : -1;
}

/*
 * An oper's modes: "+is" and then, optionally, snomask letters
 * ("+is cjk"), as Ergo's modes key.
 */
static bool
oper_modes_ok(const char *s)
{
	size_t n;

	if (*s != '+')
		return false;
	n = strspn(s + 1, "iwBs");
	s += 1 + n;
	if (*s == '\0')
		return true;
	if (*s != ' ')
		return false;
	s += strspn(s, " ");
	return strspn(s, "acjknoqtuvx") == strlen(s);
}

static void	defaults_apply(struct parser *, const struct block *, void *);

/*
 * The start of a named block (oper NAME {, link NAME { ...): reads the
 * name and the brace and allocates the block's struct of size bytes,
 * with its name in *name; NULL after saying what is wrong (the statement
 * skipped). noun and example make the message: "expected a NOUN after
 * KEY, like: EXAMPLE".
 */
static void *
named_open(struct parser *p, const struct key *k, struct tok *t,
    const char *noun, const char *example, size_t size, char **name)
{
	struct where w;
	void *o;

	*t = *peek(p);
	w = tok_where(t);
	if (t->type != T_WORD && t->type != T_STRING) {
		if (t->type == T_ERR)
			next(p);
		else
			conf_err(p, &w, "expected a %s after %s, like: %s",
			    noun, k->name, example);
		skip_statement(p);
		return NULL;
	}
	next(p);
	if (!expect_open(p, k, true))
		return NULL;
	if ((o = calloc(1, size)) == NULL) {
		nomem(p);
		skip_statement(p);
		return NULL;
	}
	if ((*name = xstrndup(p, t->s, t->n)) == NULL) {
		free(o);
		skip_statement(p);
		return NULL;
	}
	return o;
}

static void
parse_oper(struct parser *p, const struct key *k, const struct tok *kt)
{
	struct tok t;
	struct where w, kw = tok_where(kt);
	struct oper_conf *o, **pp;
	char shown[64], *name;
	unsigned first, nerr;
	size_t i;

	if ((o = named_open(p, k, &t, "name", "oper admin { class "
	    "server-admin  password \"...\" }", sizeof(*o), &name)) == NULL)
		return;
	o->name = name;
	w = tok_where(&t);
	defaults_apply(p, k->aux, o);
	show(shown, sizeof(shown), t.s, t.n);
	for (i = 0; i < t.n; i++)
		if ((unsigned char)t.s[i] <= 0x20 || t.s[i] == 0x7f)
			break;
	if (t.n == 0 || i < t.n || t.n > 64)
		conf_err(p, &w, "an oper name is one word of at most 64 "
		    "characters, not \"%s\"", shown);
	for (pp = &p->c->opers; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->name, o->name) == 0) {
			first = pos_line(p, *pp);
			conf_err(p, &w, "duplicate oper \"%s\" (first at line "
			    "%u)", shown, first);
		}
	*pp = o;
	pos_add(p, o, kw.line);
	nerr = p->nerr;
	parse_body(p, k->aux, o, kt);
	if (p->nerr != nerr)
		return;		/* "needs a password" would be noise */
	if (o->class == NULL)
		conf_err(p, &kw, "oper \"%s\" needs a class, like: class "
		    "server-admin", shown);
	if (o->password == NULL && o->certfp == NULL)
		conf_err(p, &kw, "oper \"%s\" needs a password (a hash from "
		    "`ergo genpasswd`) or a certfp", shown);
	if (o->certfp != NULL && certfp_normalize(o->certfp) == -1)
		conf_err(p, &kw, "oper \"%s\": certfp must be 64 hex digits "
		    "(a SHA-256 fingerprint)", shown);
	if (o->modes != NULL && !oper_modes_ok(o->modes))
		conf_err(p, &kw, "oper \"%s\": modes must be like \"+is\" or "
		    "\"+is cjknoqux\": a '+' then letters from iwBs, then "
		    "snomask letters from acjknoqtuvx", shown);
}

/* oper-class NAME { title  extends  capabilities }: resolved in validate. */
static void
parse_operclass(struct parser *p, const struct key *k, const struct tok *kt)
{
	struct tok t;
	struct where w, kw = tok_where(kt);
	struct operclass_conf *oc, **pp;
	const char *c;
	char shown[64], *name;
	unsigned nerr;
	size_t n;

	if ((oc = named_open(p, k, &t, "name", "oper-class server-admin { "
	    "capabilities \"kill ban\" }", sizeof(*oc), &name)) == NULL)
		return;
	oc->name = name;
	w = tok_where(&t);
	show(shown, sizeof(shown), t.s, t.n);
	if (t.n == 0 || t.n > 64 || strcspn(oc->name, " \t") != t.n)
		conf_err(p, &w, "an oper-class name is one word of at most 64 "
		    "characters, not \"%s\"", shown);
	for (pp = &p->c->operclasses; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->name, oc->name) == 0)
			conf_err(p, &w, "duplicate oper-class \"%s\" (first at "
			    "line %u)", shown, pos_line(p, *pp));
	*pp = oc;
	pos_add(p, oc, kw.line);
	nerr = p->nerr;
	parse_body(p, k->aux, oc, kt);
	if (p->nerr != nerr || oc->capabilities == NULL)
		return;
	for (c = oc->capabilities;; c += n) {
		unsigned b;

		c += strspn(c, " \t");
		if (*c == '\0')
			break;
		n = strcspn(c, " \t");
		if ((b = conf_opcap(c, n)) == 0)
			conf_err(p, &kw, "oper-class \"%s\": unknown capability "
			    "\"%s\"; expected some of: kill ban nofakelag "
			    "roleplay relaymsg vhosts sajoin samode snomasks "
			    "rehash accreg chanreg history defcon massmessage "
			    "die", shown, show(shown, sizeof(shown), c, n));
		oc->caps |= b;
	}
}

/*
 * Oper classes' extends chains (each must name a class, no loops) and
 * each oper's capabilities. Without any oper-class block every oper has
 * every capability: configs older than oper-class keep working as they
 * did, when the class was only a label.
 */
static void
operclass_resolve(struct parser *p)
{
	struct operclass_conf *oc, *e, *x;
	struct oper_conf *o;
	unsigned caps, depth, nclass = 0;
	struct where w = { 0, 1, NULL };

	for (oc = p->c->operclasses; oc != NULL; oc = oc->next)
		nclass++;
	for (oc = p->c->operclasses; oc != NULL; oc = oc->next) {
		w.line = pos_line(p, oc);
		caps = oc->caps;
		for (e = oc, depth = 0; e->extends != NULL; e = x) {
			for (x = p->c->operclasses; x != NULL; x = x->next)
				if (strcmp(x->name, e->extends) == 0)
					break;
			if (x == NULL) {
				conf_err(p, &w, "oper-class \"%s\" extends "
				    "\"%s\", which is not an oper-class",
				    e->name, e->extends);
				break;
			}
			if (++depth > nclass) {
				conf_err(p, &w, "oper-class \"%s\": its "
				    "extends chain loops", oc->name);
				break;
			}
			caps |= x->caps;
		}
		oc->caps = caps;
	}
	for (o = p->c->opers; o != NULL; o = o->next) {
		if (nclass == 0) {
			o->caps = OPCAP_ALL;
			continue;
		}
		for (oc = p->c->operclasses; oc != NULL; oc = oc->next)
			if (o->class != NULL && strcmp(oc->name, o->class) == 0)
				break;
		if (oc == NULL) {
			w.line = pos_line(p, o);
			conf_err(p, &w, "oper \"%s\": class \"%s\" is not an "
			    "oper-class", o->name, o->class != NULL ?
			    o->class : "");
			continue;
		}
		o->cls = oc;
		o->caps = oc->caps;
	}
}

/* link NAME { ... }: a TS6 peer. */
static void
parse_link(struct parser *p, const struct key *k, const struct tok *kt)
{
	struct tok t;
	struct where w, kw = tok_where(kt);
	struct link_conf *l, **pp;
	char shown[64], *name;
	unsigned first, nerr;

	if ((l = named_open(p, k, &t, "server name", "link hub.example.org "
	    "{ host 192.0.2.1 ... }", sizeof(*l), &name)) == NULL)
		return;
	l->name = name;
	w = tok_where(&t);
	defaults_apply(p, k->aux, l);
	show(shown, sizeof(shown), t.s, t.n);
	if (!valid_hostname(l->name))
		conf_err(p, &w, "a link's name is the peer's server name, a "
		    "hostname with a dot, not \"%s\"", shown);
	for (pp = &p->c->links; *pp != NULL; pp = &(*pp)->next)
		if (strcasecmp((*pp)->name, l->name) == 0) {
			first = pos_line(p, *pp);
			conf_err(p, &w, "duplicate link \"%s\" (first at line "
			    "%u)", shown, first);
		}
	*pp = l;
	pos_add(p, l, kw.line);
	nerr = p->nerr;
	parse_body(p, k->aux, l, kt);
	if (p->nerr != nerr)
		return;
	if (l->send_password == NULL || l->recv_password == NULL)
		conf_err(p, &kw, "link \"%s\" needs send-password and "
		    "receive-password", shown);
	if (l->certfp != NULL && certfp_normalize(l->certfp) == -1)
		conf_err(p, &kw, "link \"%s\": certfp must be 64 hex digits "
		    "(a SHA-256 fingerprint)", shown);
	if (l->autoconnect && l->host == NULL)
		conf_err(p, &kw, "link \"%s\": autoconnect needs a host",
		    shown);
	if (l->certfp != NULL && !l->tls)
		conf_err(p, &kw, "link \"%s\": certfp needs tls yes", shown);
}

/* webirc NAME { password ... }: a WEBIRC gateway (irc_webirc.c). */
static void
parse_webirc(struct parser *p, const struct key *k, const struct tok *kt)
{
	struct tok t;
	struct where w, kw = tok_where(kt);
	struct webirc_conf *g, **pp;
	char shown[64], *name;
	unsigned first, nerr;

	if ((g = named_open(p, k, &t, "name", "webirc gamja { password "
	    "\"...\"  hosts localhost }", sizeof(*g), &name)) == NULL)
		return;
	g->name = name;
	w = tok_where(&t);
	show(shown, sizeof(shown), t.s, t.n);
	for (pp = &p->c->webircs; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->name, g->name) == 0) {
			first = pos_line(p, *pp);
			conf_err(p, &w, "duplicate webirc \"%s\" (first at "
			    "line %u)", shown, first);
		}
	*pp = g;
	pos_add(p, g, kw.line);
	nerr = p->nerr;
	parse_body(p, k->aux, g, kt);
	if (p->nerr != nerr)
		return;
	if (g->password == NULL && g->certfp == NULL)
		conf_err(p, &kw, "webirc \"%s\" needs a password or a certfp "
		    "(or both)", shown);
	if (g->hosts == NULL)
		conf_err(p, &kw, "webirc \"%s\" needs hosts: the gateway's "
		    "addresses, like hosts localhost", shown);
	if (g->certfp != NULL && certfp_normalize(g->certfp) == -1)
		conf_err(p, &kw, "webirc \"%s\": certfp must be 64 hex digits "
		    "(a SHA-256 fingerprint)", shown);
}

/* New logging block: the table's defaults, appended to the list. */
static struct log_conf *
log_new(struct parser *p)
{
	struct log_conf *lc, **pp;

	if ((lc = calloc(1, sizeof(*lc))) == NULL) {
		nomem(p);
		return NULL;
	}
	defaults_apply(p, &logging_block, lc);
	for (pp = &p->c->logs; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = lc;
	p->nlogs++;
	return lc;
}

static void
log_check(struct parser *p, const struct log_conf *lc, const struct where *w)
{
	if (lc->method == LOGM_FILE && lc->path == NULL)
		conf_err(p, w, "logging method file needs a path, like: "
		    "logging { method file  path ergo.log }");
}

static void
parse_logging(struct parser *p, const struct key *k, const struct tok *kt)
{
	struct where kw = tok_where(kt);
	struct log_conf *lc;
	unsigned nerr;

	if (!expect_open(p, k, false))
		return;
	if (p->nlogs == LOG_SINKS_MAX) {
		conf_err(p, &kw, "at most %d logging blocks", LOG_SINKS_MAX);
		skip_statement(p);
		return;
	}
	if ((lc = log_new(p)) == NULL) {
		skip_statement(p);
		return;
	}
	nerr = p->nerr;
	memset(&p->method_at, 0, sizeof(p->method_at));
	parse_body(p, k->aux, lc, kt);
	if (p->nerr == nerr)
		log_check(p, lc, p->method_at.line != 0 ? &p->method_at : &kw);
}

static void
parse_listen(struct parser *p, const struct block *b, const struct key *k,
    const struct tok *kt)
{
	struct tok t = *peek(p);
	struct where w = tok_where(&t);
	struct listen_conf *out[2], scratch, *l;
	int cnt, i;

	p->listen_set = true;
	if (t.type != T_WORD && t.type != T_STRING) {
		if (t.type == T_ERR)
			next(p);
		else
			conf_err(p, &w, "expected an address after listen, "
			    "like 127.0.0.1:6667");
		skip_statement(p);
		return;
	}
	next(p);
	cnt = listen_parse(p, t.s, t.n, &w, out);
	if (peek(p)->type == T_LBRACE) {
		next(p);
		memset(&scratch, 0, sizeof(scratch));
		/* a bad address still gets its block checked */
		l = cnt > 0 ? out[0] : &scratch;
		parse_body(p, &listen_block, l, kt);
		free(scratch.cert);
		free(scratch.key);
		if (cnt == 2) {	/* ":port": both sockets alike */
			out[1]->tls = l->tls;
			out[1]->proxy = l->proxy;
			out[1]->websocket = l->websocket;
			out[1]->server = l->server;
			if (l->cert != NULL)
				out[1]->cert = xstrndup(p, l->cert,
				    strlen(l->cert));
			if (l->key != NULL)
				out[1]->key = xstrndup(p, l->key,
				    strlen(l->key));
		}
	}
	for (i = 0; i < cnt; i++)
		listen_add(p, out[i], &w);
	end_statement(p, b, k);
}

/* types: every word up to the end of the statement, as one list. */
static void
parse_types(struct parser *p, const struct block *b, void *base,
    const struct key *k)
{
	struct tok *t = peek(p);
	struct where w = tok_where(t);
	char list[512];
	size_t len = 0;
	int n;

	list[0] = '\0';
	while ((t = peek(p))->type == T_WORD || t->type == T_STRING) {
		if (t->type == T_WORD && key_find(b, t->s, t->n) != NULL)
			break;		/* the next statement on this line */
		n = snprintf(list + len, sizeof(list) - len, "%s%.*s",
		    len ? " " : "", (int)t->n, t->s);
		if (n < 0 || (size_t)n >= sizeof(list) - len) {
			conf_err(p, &w, "types list is too long");
			skip_statement(p);
			return;
		}
		len += (size_t)n;
		next(p);
	}
	if (len == 0 && t->type == T_ERR) {
		next(p);
		skip_statement(p);
		return;
	}
	(void)set_value(p, k, base, list, len, &w);
	end_statement(p, b, k);
}

static void
parse_statement(struct parser *p, const struct block *b, void *base,
    struct where *seen)
{
	struct tok kt = *peek(p), t;
	struct where kw = tok_where(&kt), w;
	const struct key *k;
	struct listen_conf *l;
	char in[64];
	unsigned nerr;
	size_t idx;

	next(p);
	if ((k = key_find(b, kt.s, kt.n)) == NULL) {
		unknown_key(p, b, &kt);
		skip_statement(p);
		return;
	}
	idx = (size_t)(k - b->keys);
	if (k->type != K_LISTEN && k->type != K_OPER && k->type != K_LOG &&
	    k->type != K_OPERCLASS && k->type != K_LINK &&
	    k->type != K_WEBIRC && idx < KEYS_MAX) {
		if (seen[idx].line != 0)
			conf_err(p, &kw, "duplicate %s \"%s\" %s (first at "
			    "line %u)", k->type == K_BLOCK ||
			    k->type == K_SWITCH || k->type == K_TLS ? "block" :
			    "key", k->name,
			    block_where(b, in, sizeof(in)), seen[idx].line);
		else
			seen[idx] = kw;
	}
	if (k->type == K_SWITCH) {
		t = *peek(p);
		if (t.type == T_WORD || t.type == T_STRING) {
			next(p);
			w = tok_where(&t);
			(void)set_value(p, ((const struct block *)k->aux)->keys,
			    base, t.s, t.n, &w);
			end_statement(p, b, k);
			return;
		}
	}
	switch (k->type) {
	case K_BLOCK:
	case K_SWITCH:
	case K_TLS:
		if (!expect_open(p, k, false))
			return;
		if (k->type == K_TLS) {
			*(bool *)(void *)((char *)base + k->off) = true;
			defaults_apply(p, k->aux, base);	/* min-version */
		}
		nerr = p->nerr;
		parse_body(p, k->aux, base, &kt);
		if (k->type == K_TLS && p->nerr == nerr) {
			l = base;
			if (l->cert == NULL || l->key == NULL)
				conf_err(p, &kw, "tls needs both cert and key,"
				    " like: tls { cert fullchain.pem  key "
				    "privkey.pem }");
		}
		return;
	case K_OPER:
		parse_oper(p, k, &kt);
		return;
	case K_OPERCLASS:
		parse_operclass(p, k, &kt);
		return;
	case K_LINK:
		parse_link(p, k, &kt);
		return;
	case K_WEBIRC:
		parse_webirc(p, k, &kt);
		return;
	case K_LOG:
		parse_logging(p, k, &kt);
		return;
	case K_LISTEN:
		parse_listen(p, b, k, &kt);
		return;
	case K_TYPES:
		parse_types(p, b, base, k);
		return;
	default:
		break;
	}
	t = *peek(p);
	w = tok_where(&t);
	if (t.type != T_WORD && t.type != T_STRING) {
		if (t.type == T_ERR)
			next(p);
		else
			conf_err(p, &w, "expected a value after %s", k->name);
		skip_statement(p);
		return;
	}
	next(p);
	(void)set_value(p, k, base, t.s, t.n, &w);
	end_statement(p, b, k);
}

/*
 * A block still open at the end of the file, whose errors began at
 * offset at of p->errs: its error goes there, in the order of the file,
 * before the errors found after its opening (it was said last, after
 * them), and the "unknown key" errors from the first top-level block
 * name inside it on (the rest of the file read as part of it) are
 * dropped, that name given as the likely place of the missing '}'.
 */
static void
unterminated(struct parser *p, const struct tok *open, size_t at)
{
	struct where w = tok_where(open);
	char shown[64], hint[160] = "", *rest;
	size_t n;

	if (p->cascade) {
		p->errlen = p->cascade_len;
		p->nerr = p->cascade_nerr;
		if (p->errs != NULL)
			p->errs[p->errlen] = '\0';
		snprintf(hint, sizeof(hint), " (line %u starts block \"%s\" "
		    "inside it: is the '}' missing before it?)",
		    p->cascade_line, p->cascade_key);
		p->cascade = false;
	}
	n = p->errlen;
	conf_err(p, &w, "unterminated block \"%s\" opened here: missing "
	    "'}'%s", show(shown, sizeof(shown), open->s, open->n), hint);
	/* move the line just added to offset at */
	if (p->errs == NULL || p->errlen == n || n <= at)
		return;
	if ((rest = strdup(p->errs + n)) == NULL) {
		p->nomem = true;
		return;
	}
	memmove(p->errs + at + (p->errlen - n), p->errs + at, n - at);
	memcpy(p->errs + at, rest, p->errlen - n);
	free(rest);
}

/*
 * The statements of one block up to its '}' (open: the block's name
 * token), or of the whole file (open NULL).
 */
static void
parse_body(struct parser *p, const struct block *b, void *base,
    const struct tok *open)
{
	struct where seen[KEYS_MAX], w;
	struct tok *t;
	size_t start;

	memset(seen, 0, sizeof(seen));
	if (open != NULL)
		p->depth++;
	start = p->errlen;
	for (;;) {
		t = peek(p);
		w = tok_where(t);
		switch (t->type) {
		case T_NL:
			next(p);
			break;
		case T_EOF:
			if (open != NULL) {
				unterminated(p, open, start);
				p->depth--;
			}
			return;
		case T_RBRACE:
			next(p);
			if (open != NULL) {
				/* closed: a cascade marked inside was not one */
				if (p->cascade && p->cascade_depth >= p->depth)
					p->cascade = false;
				p->depth--;
				return;
			}
			conf_err(p, &w, "unexpected '}': no block is open");
			break;
		case T_ERR:
			next(p);
			skip_statement(p);
			break;
		case T_LBRACE:
			conf_err(p, &w, "expected a key before '{'");
			skip_statement(p);
			break;
		case T_STRING:
			conf_err(p, &w, "expected a key, not a quoted string");
			skip_statement(p);
			break;
		default:
			parse_statement(p, b, base, seen);
			break;
		}
	}
}

/* ---- defaults, overrides, validation ---- */

static void
defaults_apply(struct parser *p, const struct block *b, void *base)
{
	const struct key *k;

	for (k = b->keys; k->name != NULL; k++)
		if (k->type == K_BLOCK || k->type == K_SWITCH)
			defaults_apply(p, k->aux, base);
		else if (k->def != NULL && k->type != K_LISTEN &&
		    k->type != K_OPER && k->type != K_OPERCLASS &&
		    k->type != K_LOG && k->type != K_LINK &&
		    k->type != K_WEBIRC)
			(void)set_value(p, k, base, k->def, strlen(k->def),
			    &default_where);
}

/* "MAX_SENDQ" names "max-sendq": upper case, '_' for '-'. */
static const struct key *
env_key_find(const struct block *b, const char *s, size_t n)
{
	const struct key *k;
	size_t i;

	for (k = b->keys; k->name != NULL; k++) {
		if (strlen(k->name) != n)
			continue;
		for (i = 0; i < n; i++)
			if (lower(s[i]) != (k->name[i] == '-' ? '_' :
			    k->name[i]))
				break;
		if (i == n)
			return k;
	}
	return NULL;
}

/* "max-sendq" as it is spelled in a variable: "MAX_SENDQ". */
static void
env_name(char *buf, size_t sz, const char *key)
{
	size_t i;

	for (i = 0; key[i] != '\0' && i + 1 < sz; i++)
		buf[i] = key[i] == '-' ? '_' : key[i] >= 'a' &&
		    key[i] <= 'z' ? (char)(key[i] - 'a' + 'A') : key[i];
	buf[i] = '\0';
}

/* ERGO__SECTION__KEY=value, applied as if written in that block. */
static void
env_apply_one(struct parser *p, const char *var)
{
	const char *eq = strchr(var, '='), *comp, *end, *val;
	const struct block *b = &top_block;
	const struct key *k = NULL;
	char name[128], shown[64], in[64];
	struct where w = { 0, 0, name };
	void *base = p->c;
	size_t n;

	if (eq == NULL)
		return;
	n = (size_t)(eq - var);
	show(name, sizeof(name), var, n);
	val = eq + 1;
	for (comp = var + strlen(ENV_PREFIX);; comp = end + 2) {
		if ((end = strstr(comp, "__")) == NULL || end > eq)
			end = eq;
		if (end == comp) {
			conf_err(p, &w, "expected ERGO__SECTION__KEY=value");
			return;
		}
		if ((k = env_key_find(b, comp, (size_t)(end - comp))) ==
		    NULL) {
			show(shown, sizeof(shown), comp, (size_t)(end - comp));
			conf_err(p, &w, "unknown key %s %s", shown,
			    block_where(b, in, sizeof(in)));
			return;
		}
		if (k->type == K_OPER || k->type == K_OPERCLASS ||
		    k->type == K_LINK || k->type == K_WEBIRC) {
			conf_err(p, &w, "%s blocks cannot be set from the "
			    "environment", k->name);
			return;
		}
		if (end == eq)
			break;
		if (k->type != K_BLOCK && k->type != K_SWITCH &&
		    k->type != K_LOG) {
			conf_err(p, &w, "%s is not a block", k->name);
			return;
		}
		if (k->type == K_LOG) {	/* the first logging block */
			if (p->c->logs == NULL && log_new(p) == NULL)
				return;
			base = p->c->logs;
			memcpy(p->env_log_name, name, sizeof(name));
			p->env_log.env = p->env_log_name;
		}
		b = k->aux;
	}
	switch (k->type) {
	case K_SWITCH:	/* ERGO__ACCOUNTS__REGISTRATION=no */
		(void)set_value(p, ((const struct block *)k->aux)->keys, base,
		    val, strlen(val), &w);
		break;
	case K_BLOCK:
	case K_LOG:
		env_name(shown, sizeof(shown),
		    ((const struct block *)k->aux)->keys[0].name);
		conf_err(p, &w, "%s is a block: name one of its keys, like "
		    "%s__%s", k->name, name, shown);
		break;
	case K_LISTEN:
		listen_set_list(p, val, &w);
		break;
	default:
		(void)set_value(p, k, base, val, strlen(val), &w);
		break;
	}
}

static void
env_apply(struct parser *p)
{
	char **e;

	for (e = environ; e != NULL && *e != NULL; e++)
		if (strncmp(*e, ENV_PREFIX, strlen(ENV_PREFIX)) == 0)
			env_apply_one(p, *e);
}

static void
validate(struct parser *p)
{
	const struct key *k;

	if (!p->listen_set) {
		k = key_find(&server_block, "listen", 6);
		listen_set_list(p, k->def, &default_where);
	}
	if (p->c->links != NULL && p->c->sid == NULL) {
		struct where lw = { pos_line(p, p->c->links), 1, NULL };

		conf_err(p, &lw, "link blocks need server.sid, this "
		    "server's TS6 id, like: sid 0AB");
	}
	if (p->c->services.enabled && p->c->services.server != NULL &&
	    p->c->server_name != NULL &&
	    strcasecmp(p->c->services.server, p->c->server_name) != 0)
		conf_err(p, NULL, "services.server is %s but services.enabled "
		    "is yes here (%s): a network has one services server",
		    p->c->services.server, p->c->server_name);
	if (p->c->accounts.ev_enabled && (p->c->accounts.ev_sender == NULL ||
	    strchr(p->c->accounts.ev_sender, '@') == NULL ||
	    strpbrk(p->c->accounts.ev_sender, "<>\"") != NULL))
		conf_err(p, NULL, "accounts.registration."
		    "email-verification.sender must be an address like "
		    "admin@example.org");
	if (p->c->logs == NULL)
		(void)log_new(p);	/* none configured: stderr, info */
	else if (p->env_log.env != NULL)
		log_check(p, p->c->logs, &p->env_log);	/* an override */
	operclass_resolve(p);
}

static int
file_read(struct parser *p, const char *path)
{
	char *nb;
	size_t sz = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		conf_err(p, NULL, "cannot open: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		if (p->len == sz) {
			if (sz >= CONF_FILE_MAX) {
				conf_err(p, NULL, "larger than %d bytes; not a "
				    "config file?", CONF_FILE_MAX);
				close(fd);
				return -1;
			}
			sz = sz ? sz * 2 : 8192;
			if ((nb = realloc(p->buf, sz)) == NULL) {
				nomem(p);
				close(fd);
				return -1;
			}
			p->buf = nb;
		}
		if ((n = read(fd, p->buf + p->len, sz - p->len)) == -1) {
			if (errno == EINTR)
				continue;
			conf_err(p, NULL, "cannot read: %s", strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		p->len += (size_t)n;
	}
	close(fd);
	return 0;
}

/* ---- freeing ---- */

static void
fields_free(const struct block *b, void *base)
{
	const struct key *k;
	char **s;

	for (k = b->keys; k->name != NULL; k++)
		switch (k->type) {
		case K_BLOCK:
		case K_SWITCH:
		case K_TLS:
			fields_free(k->aux, base);
			break;
		case K_STR:
		case K_WORD:
		case K_HOST:
		case K_SID:
		case K_PATH:
		case K_HASH:
		case K_MODES:
		case K_TAGS:
		case K_NETS:
			s = (char **)(void *)((char *)base + k->off);
			free(*s);
			*s = NULL;
			break;
		default:
			break;
		}
}

void
conf_free(struct conf *c)
{
	struct listen_conf *l;
	struct oper_conf *o;
	struct operclass_conf *oc;
	struct link_conf *lk;
	struct webirc_conf *wc;
	struct log_conf *lc;

	if (c == NULL)
		return;
	while ((l = c->listens) != NULL) {
		c->listens = l->next;
		listen_free(l);
	}
	while ((o = c->opers) != NULL) {
		c->opers = o->next;
		fields_free(&oper_block, o);
		free(o->name);
		free(o);
	}
	while ((oc = c->operclasses) != NULL) {
		c->operclasses = oc->next;
		fields_free(&operclass_block, oc);
		free(oc->name);
		free(oc);
	}
	while ((lk = c->links) != NULL) {
		c->links = lk->next;
		fields_free(&link_block, lk);
		free(lk->name);
		free(lk);
	}
	while ((wc = c->webircs) != NULL) {
		c->webircs = wc->next;
		fields_free(&webirc_block, wc);
		free(wc->name);
		free(wc);
	}
	while ((lc = c->logs) != NULL) {
		c->logs = lc->next;
		fields_free(&logging_block, lc);
		free(lc);
	}
	fields_free(&top_block, c);
	free(c->path);
	free(c);
}

/*
 * Parses path (NULL: built-in defaults only), then the ERGO__ overrides,
 * then validates. Every problem is collected into *errs.
 */
struct conf *
conf_load(const char *path, char **errs)
{
	struct parser p;
	struct objpos *op;
	const char *slash;
	struct conf *c;

	if (errs != NULL)
		*errs = NULL;
	memset(&p, 0, sizeof(p));
	p.file = path;
	p.line = 1;
	p.col = 1;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		nomem(&p);
		goto done;
	}
	p.c = c;
	defaults_apply(&p, &top_block, c);
	if (path != NULL) {
		if ((c->path = xstrndup(&p, path, strlen(path))) == NULL)
			goto done;
		if ((slash = strrchr(path, '/')) != NULL &&
		    (p.dir = xstrndup(&p, path, slash == path ? 1 :
		    (size_t)(slash - path))) == NULL)
			goto done;
		if (file_read(&p, path) == 0)
			parse_body(&p, &top_block, c, NULL);
	}
	env_apply(&p);
	validate(&p);
done:
	while ((op = p.pos) != NULL) {
		p.pos = op->next;
		free(op);
	}
	free(p.buf);
	free(p.dir);
	if (p.nerr == 0 && !p.nomem) {
		free(p.errs);
		return c;
	}
	conf_free(c);
	if (p.nomem) {
		free(p.errs);
		p.errs = xstrndup(&p, "out of memory\n", 14);
	}
	if (errs != NULL)
		*errs = p.errs;
	else
		free(p.errs);
	return NULL;
}

/* ---- the annotated default config ---- */

static char	 deftext[32768];	/* the text is about 18k */
static size_t	 deflen;

static void
dt_put(const char *s, size_t n)
{
	if (n > sizeof(deftext) - 1 - deflen)
		n = sizeof(deftext) - 1 - deflen;	/* a unit test catches it */
	memcpy(deftext + deflen, s, n);
	deflen += n;
	deftext[deflen] = '\0';
}

static void
dt_puts(const char *s)
{
	dt_put(s, strlen(s));
}

static void
dt_indent(int depth)
{
	while (depth-- > 0)
		dt_puts("\t");
}

/* Each line of text as a comment. */
static void
dt_comment(int depth, const char *text)
{
	size_t n;

	while (text != NULL && *text != '\0') {
		n = strcspn(text, "\n");
		dt_indent(depth);
		dt_puts("# ");
		dt_put(text, n);
		dt_puts("\n");
		text += n;
		if (*text == '\n')
			text++;
	}
}

/* A value as the parser reads it back: bare if it can be, else quoted. */
static void
dt_value(const char *s)
{
	bool bare = *s != '\0' && *s != '#';
	const char *q;

	for (q = s; *q != '\0'; q++)
		if (lex_delim((unsigned char)*q) || *q == '\\')
			bare = false;
	if (bare) {
		dt_puts(s);
		return;
	}
	dt_puts("\"");
	for (q = s; *q != '\0'; q++) {
		if (*q == '"' || *q == '\\')
			dt_puts("\\");
		dt_put(q, 1);
	}
	dt_puts("\"");
}

static void
dt_block(const struct block *b, int depth)
{
	const struct key *k;
	const char *s;
	size_t n;

	for (k = b->keys; k->name != NULL; k++) {
		if (depth == 0)
			dt_puts("\n");
		dt_comment(depth, k->help);
		switch (k->type) {
		case K_BLOCK:
		case K_SWITCH:
			dt_comment(depth, k->example);
			dt_indent(depth);
			dt_puts(k->name);
			dt_puts(" {\n");
			dt_block(k->aux, depth + 1);
			dt_indent(depth);
			dt_puts("}\n");
			continue;
		case K_LOG:
			dt_comment(depth, k->example);
			dt_puts(k->name);
			dt_puts(" {\n");
			dt_block(k->aux, depth + 1);
			dt_puts("}\n");
			continue;
		case K_OPER:
		case K_OPERCLASS:
		case K_LINK:
		case K_WEBIRC:
			break;
		case K_LISTEN:
			for (s = k->def; *s != '\0'; s += n) {
				s += strspn(s, " ");
				n = strcspn(s, " ");
				dt_indent(depth);
				dt_puts(k->name);
				dt_puts(" ");
				dt_put(s, n);
				dt_puts("\n");
			}
			break;
		default:
			if (k->def == NULL)
				break;
			dt_indent(depth);
			dt_puts(k->name);
			dt_puts(" ");
			dt_value(k->def);
			dt_puts("\n");
			break;
		}
		dt_comment(depth, k->example);
	}
}

/*
 * The annotated default config (`ergo defaultconfig`): built from the
 * key tables once, so it always parses back to exactly the defaults.
 */
const char *
conf_default_text(void)
{
	if (deflen > 0)
		return deftext;
	dt_puts(
	    "# ergo.conf: the default configuration, annotated.\n"
	    "# Printed by `ergo defaultconfig`; every key shows its default.\n"
	    "#\n"
	    "# A statement is `key value`, one a line; blocks are\n"
	    "# `name [label] { ... }` and nest; several statements may share\n"
	    "# a line, as in `tls { cert a.pem  key b.pem }`. Values are bare\n"
	    "# words or \"quoted strings\" (escapes: \\\" and \\\\).\n"
	    "# Sizes: 512, 96k, 1m. Durations: 30s, 2m, 1h30m, 1d, 500ms;\n"
	    "# a plain number is seconds. Booleans: yes or no. A comment\n"
	    "# runs from a # that starts a word to the end of the line.\n"
	    "#\n"
	    "# The environment overrides any key, e.g. for containers:\n"
	    "#   ERGO__SERVER__NAME=irc.example.org\n"
	    "#   ERGO__SERVER__FAKELAG__ENABLED=no\n"
	    "#   ERGO__SERVER__LISTEN=\":6667 :6697\"  (replaces every listen)\n"
	    "# Relative paths of files the server reads (motd, cert, key) are\n"
	    "# taken from this file's directory; the datastore and log file\n"
	    "# from the working directory.\n");
	dt_block(&top_block, 0);
	return deftext;
}
