/*
 * conf_keys.c: the config file's keys, one table per block: name, type,
 * where the value goes, bounds, default and a one-line description. The
 * same tables give conf.c's defaults, parser, environment overrides and
 * conf_free, and conf_text.c's default text, so a key cannot be
 * documented without being parsed or parsed without a default.
 */
#include <stddef.h>
#include <string.h>

#include "ergo.h"
#include "conf.h"
#include "conf_int.h"
#include "log.h"

#define C(f)	offsetof(struct conf, f)
#define L(f)	offsetof(struct listen_conf, f)
#define O(f)	offsetof(struct oper_conf, f)
#define OC(f)	offsetof(struct operclass_conf, f)
#define G(f)	offsetof(struct log_conf, f)
#define LK(f)	offsetof(struct link_conf, f)

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
const struct enumval method_vals[] = {
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
const struct block listen_block = { "server.listen", listen_keys };

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
	{ "tls-buffers", K_SECS, C(tls_idle), 0, DAY, NULL, "10s",
	  "Silence on a TLS connection after which the memory of its\n"
	  "record buffers is given back (an idle TLS client then holds\n"
	  "about 5 KiB instead of 9); 0 = keep it.", NULL },
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
const struct block webirc_block = { "server.webirc", webirc_keys };

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
	{ "checkpoint-process", K_BOOL, C(datastore_ckpt), 0, 0, NULL, "yes",
	  "SQLite's checkpoints (syncs to disk) in a second process, not in\n"
	  "the server's loop; no: in the loop. Read at start only.", NULL },
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
const struct block oper_block = { "oper", oper_keys };

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
const struct block operclass_block = { "oper-class", operclass_keys };

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
const struct block link_block = { "link", link_keys };

static const struct block network_block = { "network", network_keys };
const struct block server_block = { "server", server_keys };
static const struct block admin_block = { "admin", admin_keys };
static const struct block datastore_block = { "datastore", datastore_keys };
static const struct block accounts_block = { "accounts", accounts_keys };
const struct block logging_block = { "logging", logging_keys };
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
const struct block top_block = { NULL, top_keys };
