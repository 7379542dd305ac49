/*
 * irc.h: state shared by the irc_*.c files (the protocol part). Nothing
 * outside irc*.c includes this; net.c and ergo.c see only ergo.h.
 */
#ifndef IRC_H
#define IRC_H

#include "ergo.h"

/* ---- IP cloaking (irc_cloak.c) ---- */
#define IRC_HOST_CLOAK	64		/* room for a cloak and netname */
int	 irc_cloak_init(void);		/* at start and rehash; 0 or -1 */
bool	 irc_cloak_on(void);
void	 irc_cloak(const char *ip, char *buf, size_t sz);

/* ---- a client's line for the userinput log (irc_userinput.c) ---- */
const char *irc_userinput_mask(const char *line, char *buf, size_t sz);

/* ---- parsed message ---- */
struct msg {
	char	*tags;		/* raw tag section without '@', or NULL */
	char	*source;	/* without ':', or NULL */
	char	*cmd;		/* upper-cased in place */
	char	*param[IRC_PARAMS_MAX];
	int	 nparam;
};
/* 0, or -1 if there is no command. Modifies line. */
int	 irc_parse(char *line, struct msg *m);

/* ---- intrusive string-keyed hash table (irc_util.c) ---- */
struct hent {
	struct hent	*next;
	char		*key;		/* casefolded, owned by the entry's owner */
};
struct htab {
	struct hent	**b;
	size_t		 nb, n;
};
void	 htab_init(struct htab *);
void	 htab_free(struct htab *);		/* the bucket array only */
struct hent *htab_get(struct htab *, const char *key);
int	 htab_put(struct htab *, struct hent *);	/* -1 on ENOMEM */
void	 htab_del(struct htab *, struct hent *);

/* casemapping and matching (irc_util.c) */
void	 irc_fold(char *dst, const char *src, size_t dstsz); /* per conf */
int	 irc_casecmp(const char *a, const char *b);
bool	 irc_match(const char *mask, const char *s);	/* * ? casemapped */
bool	 irc_nick_valid(const char *nick);		/* syntax + nicklen */
bool	 irc_chan_valid(const char *name);		/* #&, channellen */
char	*xstrdup(const char *);		/* NULL on ENOMEM */
/* Largest n <= max with s[0..n) not ending inside a UTF-8 sequence. */
size_t	 irc_utf8_cut(const char *s, size_t len, size_t max);
void	 irc_utf8_trunc(char *s, size_t max);	/* cut NUL-terminated s */
/* Whether s[0..len) is well-formed UTF-8 (UTF8ONLY). */
bool	 irc_utf8_valid(const char *s, size_t len);
/* IRCv3 tags. The unescaped value of key in a raw tag section. */
bool	 irc_tag_get(const char *tags, const char *key, char *val,
	    size_t valsz);
/*
 * The client-only (+) tags of a raw tag section, escaped canonically,
 * the last of duplicates kept, CLIENTTAGDENY ones, malformed keys and
 * values that are not UTF-8 dropped, ';'-separated into out; returns the length.
 */
size_t	 irc_tags_client(const char *tags, char *out, size_t outsz);
/* Escapes a tag value (\: \s \\ \r \n); returns the length. */
size_t	 irc_tag_escape(char *dst, size_t dstsz, const char *src,
	    size_t len);
size_t	 irc_tag_unescape(char *dst, size_t dstsz, const char *src,
	    size_t len);
/* Normalise nick!user@host masks for +b/+e/+I: "foo" -> "foo!*@*". */
void	 irc_mask_normalize(char *dst, size_t dstsz, const char *mask);

/* ---- users ---- */
#define UMODE_INVISIBLE	0x01	/* +i */
#define UMODE_WALLOPS	0x02	/* +w */
#define UMODE_OPER	0x04	/* +o */
#define UMODE_TLS	0x08	/* +Z, set by net for TLS conns */
#define UMODE_REGISTERED 0x10	/* +r: logged in to an account */
#define UMODE_BOT	0x20	/* +B: a bot (IRCv3 bot mode, BOT=B) */

#define CF_NICK		0x01	/* NICK received */
#define CF_USER		0x02	/* USER received */
#define CF_CAPNEG	0x04	/* CAP LS/REQ seen, waiting for CAP END */
#define CF_REG		0x08	/* registered (001 sent) */
#define CF_PASS		0x10	/* PASS was correct */
#define CF_CLOSING	0x20	/* quit in progress: send nothing more */
#define CF_PINGSENT	0x40	/* idle PING outstanding */
#define CF_THROTTLED	0x80	/* on the fakelag list */
#define CF_FLOODOK	0x100	/* exempt from fakelag */

/* capability bits (CAP), see irc.c cap table */
#define CAP_MULTI_PREFIX	0x0001
#define CAP_USERHOST_NAMES	0x0002
#define CAP_CAP_NOTIFY		0x0004
#define CAP_AWAY_NOTIFY		0x0008
#define CAP_SASL		0x0010
#define CAP_MESSAGE_TAGS	0x0020
#define CAP_SERVER_TIME		0x0040
#define CAP_ECHO_MESSAGE	0x0080
#define CAP_BATCH		0x0100
#define CAP_LABELED		0x0200
#define CAP_ACCOUNT_TAG		0x0400
#define CAP_ACCOUNT_NOTIFY	0x0800
#define CAP_EXTENDED_JOIN	0x1000
#define CAP_CHGHOST		0x2000
#define CAP_SETNAME		0x4000
#define CAP_INVITE_NOTIFY	0x8000
#define CAP_STANDARD_REPLIES	0x10000
#define CAP_NO_IMPLICIT_NAMES	0x20000
/* 0x100000 and up: free for irc_monitor.c / irc_hist.c caps */
#define CAP_CHATHISTORY		0x100000	/* draft/chathistory */
#define CAP_EXTENDED_MONITOR	0x200000
#define CAP_EVENT_PLAYBACK	0x400000	/* draft/event-playback */
#define CAP_READ_MARKER		0x800000	/* draft/read-marker */
/* drafts, from the top bit down (irc_multiline.c, irc_redact.c) */
#define CAP_MULTILINE		0x80000000U	/* draft/multiline */
#define CAP_REDACTION		0x40000000U	/* draft/message-redaction */
#define CAP_PRE_AWAY		0x20000000U	/* draft/pre-away */
#define CAP_ACCOUNT_REGISTRATION 0x10000000U	/* irc_register.c */

/* Caps that change how a relayed line is tagged (see struct irc_ev). */
#define CAP_TAGGING	(CAP_MESSAGE_TAGS | CAP_SERVER_TIME | CAP_ACCOUNT_TAG)

/* IRCv3 limits */
#define IRC_CLIENT_TAGS_MAX	4094	/* tag data a client may send */
#define IRC_LABEL_MAX		64	/* labeled-response label */
#define IRC_MSGID_LEN		24
/* A tagged line: tags (8191 incl '@' and ' ') + 512 + NUL */
#define IRC_OUT_MAX		(IRC_TAGS_MAX + IRC_LINE_MAX + 1)
/* CLIENTTAGDENY: client-only tags never relayed ("": all allowed) */
#define IRC_CLIENTTAGDENY	""

struct member;

struct client {
	struct hent	 h;		/* by folded nick, once NICK is set */
	struct conn	*conn;
	char		 nick[NICKLEN_MAX + 1];
	char		*user;		/* ident from USER, '~'-prefixed */
	char		*host;		/* shown host (IP for now) */
	char		*realname;
	char		*away;		/* NULL when present */
	char		*oper_class;	/* NULL unless +o */
	unsigned	 flags;		/* CF_* */
	unsigned	 umodes;	/* UMODE_* */
	uint32_t	 caps;		/* CAP_* enabled */
	unsigned	 capver;	/* 301 or 302 */
	struct member	*chans;		/* memberships, via unext */
	unsigned	 nchans;
	time_t		 signon;	/* connect time (317) */
	time_t		 last_msg;	/* last PRIVMSG/NOTICE (idle, 317) */
	uint64_t	 last_recv_ms;	/* last line of any kind */
	struct client	*tnext, *tprev;	/* timeout list, by last_recv_ms */
	uint64_t	 tstamp_ms;	/* key of the timeout list it is on */
	uint32_t	 mark;		/* fan-out dedup generation */
	/* fakelag (irc.c), Ergo's algorithm */
	uint64_t	 fl_last;	/* last touch (may be in the future) */
	unsigned	 fl_count;	/* lines in the current burst */
	bool		 fl_throttled;	/* burst used up: lines spaced out */
	bool		 fl_granted;	/* the held line may now run */
	uint64_t	 fl_next_ms;	/* when the held line may run */
	struct client	*flnext, *flprev;	/* throttled list */
	struct client	*gnext;		/* graveyard: freed next tick */
	/* MONITOR list (irc_monitor.c), direct-message history (irc_hist.c) */
	struct mon_link	*monitors;
	unsigned	 nmonitors;
	struct hist	*hist;
	/* accounts (irc_sasl.c, irc_serv.c) */
	char		*account;	/* account name when logged in */
	int64_t		 account_id;
	struct client	*acnext, *acprev;	/* sessions of the account */
	bool		 ac_listed;
	struct mark	*marks;		/* read markers without an account */
	unsigned	 nmarks;
	struct sasl	*sasl;		/* AUTHENTICATE in progress */
	/* nick enforcement (irc_serv.c): on its list while pending */
	struct client	*nrnext, *nrprev;
	uint64_t	 nr_due_ms;	/* rename then, unless logged in */
	bool		 nr_listed;
	bool		 nr_told;	/* the warning was sent */
	struct ml	*ml;		/* open draft/multiline batch */
};

/* ---- channels ---- */
#define CMODE_INVITE	0x01	/* +i */
#define CMODE_MODERATED	0x02	/* +m */
#define CMODE_NOEXT	0x04	/* +n */
#define CMODE_SECRET	0x08	/* +s */
#define CMODE_TOPIC	0x10	/* +t */
#define CMODE_PRIVATE	0x20	/* +p */

#define MEMB_OP		0x01
#define MEMB_VOICE	0x02

struct member {
	struct client	*c;
	struct chan	*ch;
	unsigned char	 modes;			/* MEMB_* */
	struct member	*cnext, *cprev;		/* in ch->members */
	struct member	*unext, *uprev;		/* in c->chans */
};

struct mask {
	struct mask	*next;
	char		*mask;		/* normalised nick!user@host */
	char		*setter;
	time_t		 when;
};

struct invite {
	struct invite	*next;
	char		 nick[NICKLEN_MAX + 1];	/* folded */
};

struct chan {
	struct hent	 h;		/* by folded name */
	char		*name;
	struct member	*members;
	unsigned	 nmembers;
	unsigned	 modes;		/* CMODE_* */
	char		*key;		/* +k */
	unsigned	 limit;		/* +l, 0 = none */
	char		*topic, *topic_by;
	time_t		 topic_time, created;
	struct mask	*bans, *excepts, *invex;
	unsigned	 nbans, nexcepts, ninvex;
	struct invite	*invites;
	unsigned	 ninvites;
	struct hist	*hist;		/* irc_hist.c; NULL until a message */
	int64_t		 reg_id;	/* ChanServ's row (irc_serv.c), or 0 */
};

/* ---- server-wide state (irc.c) ---- */
struct ircstate {
	struct htab	 nicks;		/* struct client by folded nick */
	struct htab	 chans;		/* struct chan by folded name */
	unsigned	 nusers;	/* registered */
	unsigned	 nunknown;	/* not yet registered */
	unsigned	 ninvisible, nopers;
	unsigned	 max_users;
	time_t		 started;
};
extern struct ircstate irc;

/* ---- sending (irc.c) ---- */
/* raw line; CRLF appended; truncated to 512 bytes at a UTF-8-safe place */
void	 irc_send(struct client *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* ":server NUM target " + fmt; target is nick or "*" */
void	 irc_numeric(struct client *, int num, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* A preformatted line including CRLF. */
void	 irc_send_raw(struct client *, const char *line, size_t len);
/* Same, for a line that carries its own tags: no time= is added. */
void	 irc_send_tagged(struct client *, const char *line, size_t len);
/* nick!user@host of c (static buffer, valid until the next call) */
const char *irc_prefix(const struct client *);
/* Format once, send to every member of ch except `except`. */
void	 irc_chan_send(struct chan *, struct client *except,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void	 irc_chan_send_from(struct chan *, struct client *from,
	    struct client *except, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
/* Send to c (if self) and every user sharing a channel with c, once each. */
void	 irc_peers_send(struct client *, bool self, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Build a line into buf (CRLF appended, truncated safely); returns length */
size_t	 irc_vformat(char *buf, size_t sz, const char *fmt, va_list ap);
/* ":server FAIL|WARN|NOTE <cmd> <code> [ctx] :text" (standard-replies) */
void	 irc_fail(struct client *, const char *kind, const char *cmd,
	    const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));

/*
 * One event (a PRIVMSG, JOIN, QUIT...) relayed to many clients. The body
 * is formatted once (plus an alternative body for clients with altcap,
 * e.g. extended-join); the tags (time, msgid, account, bot, client-only
 * tags) once per distinct set of CAP_TAGGING caps among the recipients.
 * irc_ev_done frees what irc_ev_send cached.
 */
#define IRC_EV_VARIANTS	16
struct irc_ev {
	struct client	*from;		/* NULL: the server */
	uint32_t	 need;		/* recipients need all of these caps */
	uint32_t	 altcap;	/* recipients with it get alt */
	char		 body[IRC_LINE_MAX + 1], alt[IRC_LINE_MAX + 1];
	size_t		 blen, alen;	/* CRLF included; alen 0: no alt */
	char		 msgid[IRC_MSGID_LEN + 1];	/* "" if none */
	char		 time[32];
	const char	*ctags;		/* escaped client-only tags, or NULL */
	unsigned	 nv;
	struct {
		uint32_t key;
		size_t	 len;
		char	*line;
	} v[IRC_EV_VARIANTS];
};
/* from may be NULL; msgid: give the event a fresh msgid. */
void	 irc_ev_init(struct irc_ev *, struct client *from, bool msgid,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void	 irc_ev_alt(struct irc_ev *, uint32_t cap, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	 irc_ev_send(struct irc_ev *, struct client *to);
void	 irc_ev_chan(struct irc_ev *, struct chan *, struct client *except);
void	 irc_ev_peers(struct irc_ev *, struct client *c, bool self);
void	 irc_ev_done(struct irc_ev *);
/* The line ev would be to `to` (its tags for to's caps); 0 if none. */
size_t	 irc_ev_format(struct irc_ev *, const struct client *to, char *buf,
	    size_t sz);
/*
 * labeled-response for a reply that carries the label itself (the
 * opening BATCH of a multiline echo): takes c's "label=..." tag into
 * tag and stops labeling this command (no ACK); false if c's command
 * has no label or its replies began. resume labels c's replies from
 * here to the end of the command with a taken tag, unless it has one.
 */
bool	 irc_label_take(struct client *, char *tag, size_t sz);
void	 irc_label_resume(struct client *, const char *tag);
/* Event lines from c to its peers (and itself) holding cap only. */
void	 irc_peers_cap_send(struct client *c, bool self, uint32_t cap,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* account-notify: c logged in or out (call after c->account changed) */
void	 irc_account_notify(struct client *);
/* chghost: c's user or host changed; peers are told (CHGHOST, or a
 * QUIT and JOIN for those without the cap). Takes copies. */
void	 irc_chghost(struct client *, const char *user, const char *host);

struct client *irc_client_find(const char *nick);
/* Ends c: QUIT to peers, whowas entry, removal; closes the connection. */
void	 irc_client_exit(struct client *, const char *quitmsg,
	    const char *error);
void	 irc_send_welcome(struct client *);	/* 001-005, LUSERS, MOTD */
void	 irc_send_isupport(struct client *);

/* ---- channels (irc_chan.c) ---- */
struct chan *irc_chan_find(const char *name);
struct member *irc_member_find(const struct chan *, const struct client *);
/* Remove c from every channel (QUIT fan-out is done by the caller). */
void	 irc_chan_part_all(struct client *);
/* Whether c may speak in ch now; sets *num to the refusal numeric. */
bool	 irc_chan_can_send(struct chan *, struct client *, int *num);
/* "@" "+" or "" (multi-prefix: "@+"), per the client's caps */
const char *irc_member_prefix(const struct member *, const struct client *to);
/* Whether the channel should be listed/shown to c (secret/private) */
bool	 irc_chan_visible(const struct chan *, const struct client *);
/* c's nick changed: rename pending invites etc. */
void	 irc_chan_nick_changed(struct client *, const char *oldfolded);
/* JOIN line(s) for c in ch to the members but c (chghost fallback) */
void	 irc_chan_rejoin(struct client *, struct chan *);

/* ---- whowas (irc_query.c) ---- */
void	 irc_whowas_add(const struct client *);
void	 irc_whowas_free(void);
void	 irc_motd_load(void);	/* (re)reads conf->motd; keeps old on error */
void	 irc_send_lusers(struct client *);
void	 irc_send_motd(struct client *);

/* ---- command table ---- */
#define CMD_REG		0x01	/* needs registration (else 451) */
#define CMD_OPER	0x02	/* needs +o (else 481) */
#define CMD_PREREG	0x04	/* allowed before registration */
#define CMD_NOIDLE	0x08	/* does not reset WHOIS idle */

typedef void cmd_fn(struct client *, struct msg *);

cmd_fn	h_admin, h_away, h_cap, h_info, h_invite, h_ison, h_join, h_kick,
	h_kill, h_list, h_lusers, h_mode, h_motd, h_names, h_nick, h_notice,
	h_oper, h_part, h_pass, h_ping, h_pong, h_privmsg, h_quit, h_time,
	h_topic, h_user, h_userhost, h_version, h_wallops, h_who, h_whois,
	h_whowas, h_rehash, h_die, h_authenticate, h_nickserv, h_tagmsg,
	h_setname, h_batch, h_redact, h_chghost;

/* registration may go on now (SASL finished); irc.c */
void	 irc_register_retry(struct client *);

/* ---- accounts and SASL (irc_sasl.c) ---- */
#define SASL_MECHS		"PLAIN,SCRAM-SHA-256,EXTERNAL"
#define SASL_CHUNK		400	/* AUTHENTICATE payload per line */
#define SASL_MSG_MAX		4096	/* one decoded SASL message */
#define AUTH_FAIL_MAX		5	/* failed logins per window ... */
#define AUTH_FAIL_WINDOW_MS	60000	/* ... per IP and per account */
#define ACCOUNT_SALTLEN		16

void	 irc_sasl_free(struct client *);
/* The server-first message of c's SCRAM exchange, or NULL (fuzz_scram). */
const char *irc_sasl_scram_server_first(const struct client *c);
void	 irc_account_client_free(struct client *);	/* client_free */
/* SCRAM-SHA-256 StoredKey and ServerKey for pw (RFC 5802) into a. */
void	 irc_account_creds(struct store_account *a, const char *pw);
/* pw against a's credentials, in constant time. */
bool	 irc_account_password_ok(const struct store_account *a,
	    const char *pw);
/* After a login with pw: new credentials if a's iterations are stale. */
void	 irc_account_rehash(const struct client *c, struct store_account *a,
	    const char *pw);
/* Fixed-window counters by key, one table each (irc_throttle.c). */
enum { THROTTLE_AUTH, THROTTLE_REG, THROTTLE_CONN, THROTTLE_NTABS };
bool	 irc_throttle_full(int tab, const char *key, unsigned max,
	    uint64_t window_ms);
unsigned irc_throttle_count(int tab, const char *key, uint64_t window_ms);
/* Too many recent failures for c's IP or the account (folded)? */
bool	 irc_auth_throttled(const struct client *, const char *folded);
void	 irc_auth_failed(const struct client *, const char *folded);
/* Logs c in (900, +r) or out (901, -r). */
void	 irc_account_login(struct client *, const struct store_account *);
void	 irc_account_logout(struct client *);
/* The sessions logged in to account id: the first, then ->acnext. */
struct client *irc_account_sessions(int64_t id);

/* ---- draft/read-marker (irc_markread.c) ---- */
#define IRC_MARKS_MAX		128	/* markers a client without account keeps */
cmd_fn	 h_markread;
void	 irc_markread_join(struct client *, struct chan *);	/* after JOIN */
void	 irc_markread_client_free(struct client *);

/* ---- account registration (irc_register.c) ---- */
#define REG_PASS_MAX		300	/* bytes: the spec's safe limit */
cmd_fn	 h_register, h_verify;		/* draft/account-registration */
/* Whether conf offers the cap, and its value (NULL: none) made in buf;
 * irc.c's cap_offer, so CAP LS and cap-notify at rehash agree. */
bool	 irc_register_cap(const struct conf *, char *buf, size_t sz,
	    const char **value);
/* Whether name may be a new account's: a nick, not a service's or a
 * GuestNNNNN (what nick enforcement renames to). */
bool	 irc_register_name_ok(const char *name);
/* Why pw cannot be the password of account name: NULL if it can;
 * *weak tells a weak password from an unacceptable one. */
const char *irc_register_password_bad(const char *name, const char *pw,
	    bool *weak);
/*
 * Creates account name (a valid nick) for c with password pw and email
 * ("" for none) into *a, counted against c's IP: REG_OK once committed
 * (the caller logs c in), REG_EXISTS if the name is owned, REG_THROTTLED
 * if c's IP registered too many lately, REG_FAILED (store_error()).
 */
enum { REG_OK, REG_EXISTS, REG_THROTTLED, REG_FAILED };
int	 irc_register_account(struct client *, const char *name,
	    const char *email, const char *pw, struct store_account *a);

/* ---- services (irc_serv.c) ---- */
/* PRIVMSG/NOTICE to a service: handled (true), or not a service. */
bool	 irc_serv_message(struct client *, const char *target,
	    const char *text, bool notice);
/* c has a new nick (or just registered): schedule enforcement. */
void	 irc_serv_nick_check(struct client *);
void	 irc_serv_forget(struct client *);	/* off the pending list */
void	 irc_serv_tick(void);			/* renames that are due */
/* c joined ch: ChanServ's founder +o and AMODEs (for irc_chan.c) */
void	 irc_serv_joined(struct client *, struct chan *);
/* A registered channel's saved state (for irc_chan.c): restored when
 * c's JOIN creates it (0 not registered, 1 c is its founder, 2 someone
 * else), saved when TOPIC or MODE change it. */
int	 irc_serv_chan_restore(struct chan *, struct client *);
void	 irc_serv_chan_changed(struct chan *);
cmd_fn	 h_chanserv;

/* ---- K-lines, D-lines and STATS (irc_bans.c) ---- */
#define IRC_BANS_MAX		10000	/* K-lines and D-lines together */
cmd_fn	 h_kline, h_unkline, h_dline, h_undline, h_stats;
bool	 irc_bans_conn_refused(struct conn *);	/* D-lined: ERROR, closed */
bool	 irc_bans_check(struct client *);	/* registration: 465, gone */
void	 irc_bans_tick(void);			/* drops expired ones */

/* ---- MONITOR and WHOX (irc_monitor.c) ---- */
cmd_fn	h_monitor;
/* c is online: after registration. Tells those monitoring its nick. */
void	 irc_monitor_online(struct client *);
/* A registered c changed nick; oldprefix is its nick!user@host before. */
void	 irc_monitor_nick(struct client *, const char *oldprefix);
/* c leaves: 731 to its watchers, and its own list is freed. */
void	 irc_monitor_quit(struct client *);
/* extended-monitor: ev (AWAY, ACCOUNT, CHGHOST, SETNAME of c) went to
 * c's peers; now to its watchers with the cap (irc_ev_peers calls it). */
void	 irc_monitor_ev(struct irc_ev *, struct client *c);
/* WHO <mask> %<fields>[,<token>]: the fields asked for, by letter. */
struct whox {
	bool	 on;		/* a %fields list was given */
	bool	 fields[128];
	char	 token[4];	/* 1-3 digits ("0" if none given) */
	bool	 matchsel;	/* letters before '%' chose what to match */
	bool	 match[128];
};
void	 irc_whox_parse(const char *arg, struct whox *);
/* Whether mask matches u in the fields w chose (w->matchsel). */
bool	 irc_whox_matches(const struct whox *, const char *mask,
	    const struct client *asker, const struct client *u);
/* One 354 for u (mb: its membership in chname, or NULL). */
void	 irc_whox_reply(struct client *, const struct whox *,
	    const char *chname, struct client *u, const struct member *mb);

/* ---- draft/multiline (irc_multiline.c) ---- */
#define IRC_ML_REF_MAX	64	/* a client's batch reference */
/* A line in (or claiming to be in) c's open batch: taken, true. */
bool	 irc_ml_line(struct client *, struct msg *);
/* Whether raw line is one of c's open batch: those skip fakelag, up to
 * max-lines (the spec: clients send a batch all at once), but each 512
 * bytes of the batch (its lines and tags) counts as one command. */
bool	 irc_ml_fakelag_exempt(struct client *, const char *line);
/* m was refused (not UTF-8): if it was a line of c's batch, so is that. */
void	 irc_ml_reject(struct client *, struct msg *);
void	 irc_ml_free(struct client *);
/* k's max-bytes and max-lines, lowered where a whole batch would not
 * fit in a recipient's max-sendq: what the cap says and ml_open keeps. */
void	 irc_ml_limits(const struct conf *k, unsigned *bytes, unsigned *lines);

/* ---- history and CHATHISTORY (irc_hist.c) ---- */
cmd_fn	h_chathistory;
/* A delivered PRIVMSG/NOTICE from c to ch, or (ch NULL) to the client
 * to; ev (may be NULL) gives the msgid, time and client-only tags. */
void	 irc_hist_add(struct client *c, struct chan *ch, struct client *to,
	    const char *cmd, const char *text, const struct irc_ev *ev);
void	 irc_hist_join(struct client *, struct chan *);	/* autoreplay */
/* draft/event-playback: ev went to ch's members (JOIN PART KICK TOPIC
 * MODE), or to c's channels (QUIT NICK, before c leaves them). */
void	 irc_hist_event(struct chan *, const struct irc_ev *ev);
void	 irc_hist_peers_event(struct client *c, const struct irc_ev *ev);
/* draft/message-redaction (irc_redact.c): the message msgid of ch, or
 * of c's direct messages with peer (NULL: anyone): who sent it and
 * when; removed from history too if remove (every line of a multiline
 * message). */
struct hist_info {
	char	 source[NICKLEN_MAX + 256];	/* nick!user@host then */
	char	 account[NICKLEN_MAX + 1];	/* "" if none */
	int64_t	 ms;		/* wall clock, ms since the epoch */
};
bool	 irc_hist_redact(struct chan *ch, struct client *c, const char *peer,
	    const char *msgid, bool remove, struct hist_info *out);
void	 irc_hist_chan_free(struct chan *);
void	 irc_hist_client_free(struct client *);
/* history.persistent: load at start; write the queued rows (rehash,
 * shutdown); the once-a-pass timer; a dropped channel's or account's
 * ring (one id 0) forgotten. */
void	 irc_hist_load(void);
void	 irc_hist_flush(void);
void	 irc_hist_tick(void);
int	 irc_hist_next_ms(void);	/* until the next batch is due, or -1 */
void	 irc_hist_forget(int64_t channel, int64_t account);
void	 irc_hist_bytes(size_t *count, size_t *bytes);	/* held now */
/* IRCv3 server-time text <-> ms since the epoch */
bool	 irc_time_parse(const char *s, int64_t *ms);
void	 irc_time_format(char *buf, size_t sz, int64_t ms);
int64_t	 irc_time_now_ms(void);

/* ---- numerics ---- */
#define RPL_WELCOME		1
#define RPL_YOURHOST		2
#define RPL_CREATED		3
#define RPL_MYINFO		4
#define RPL_ISUPPORT		5
#define RPL_STATSKLINE		216
#define RPL_ENDOFSTATS		219
#define RPL_UMODEIS		221
#define RPL_STATSDLINE		225
#define RPL_STATSUPTIME		242
#define RPL_STATSDEBUG		249
#define RPL_LUSERCLIENT		251
#define RPL_LUSEROP		252
#define RPL_LUSERUNKNOWN	253
#define RPL_LUSERCHANNELS	254
#define RPL_LUSERME		255
#define RPL_ADMINME		256
#define RPL_ADMINLOC1		257
#define RPL_ADMINLOC2		258
#define RPL_ADMINEMAIL		259
#define RPL_LOCALUSERS		265
#define RPL_GLOBALUSERS		266
#define RPL_AWAY		301
#define RPL_WHOISACCOUNT	330
#define RPL_WHOISBOT		335
#define RPL_USERHOST		302
#define RPL_ISON		303
#define RPL_UNAWAY		305
#define RPL_NOWAWAY		306
#define RPL_WHOISUSER		311
#define RPL_WHOISSERVER		312
#define RPL_WHOISOPERATOR	313
#define RPL_WHOWASUSER		314
#define RPL_ENDOFWHO		315
#define RPL_WHOISIDLE		317
#define RPL_ENDOFWHOIS		318
#define RPL_WHOISCHANNELS	319
#define RPL_LISTSTART		321
#define RPL_LIST		322
#define RPL_LISTEND		323
#define RPL_CHANNELMODEIS	324
#define RPL_CREATIONTIME	329
#define RPL_NOTOPIC		331
#define RPL_TOPIC		332
#define RPL_TOPICWHOTIME	333
#define RPL_INVITING		341
#define RPL_INVITELIST		346
#define RPL_ENDOFINVITELIST	347
#define RPL_EXCEPTLIST		348
#define RPL_ENDOFEXCEPTLIST	349
#define RPL_VERSION		351
#define RPL_WHOREPLY		352
#define RPL_NAMREPLY		353
#define RPL_ENDOFNAMES		366
#define RPL_BANLIST		367
#define RPL_ENDOFBANLIST	368
#define RPL_ENDOFWHOWAS		369
#define RPL_INFO		371
#define RPL_MOTD		372
#define RPL_ENDOFINFO		374
#define RPL_MOTDSTART		375
#define RPL_ENDOFMOTD		376
#define RPL_YOUREOPER		381
#define RPL_REHASHING		382
#define RPL_TIME		391
#define RPL_VISIBLEHOST		396
#define ERR_NOSUCHNICK		401
#define ERR_NOSUCHSERVER	402
#define ERR_NOSUCHCHANNEL	403
#define ERR_CANNOTSENDTOCHAN	404
#define ERR_TOOMANYCHANNELS	405
#define ERR_WASNOSUCHNICK	406
#define ERR_TOOMANYTARGETS	407
#define ERR_NOORIGIN		409
#define ERR_NORECIPIENT		411
#define ERR_NOTEXTTOSEND	412
#define ERR_INVALIDCAPCMD	410
#define ERR_INPUTTOOLONG	417
#define ERR_UNKNOWNCOMMAND	421
#define ERR_NOMOTD		422
#define ERR_NONICKNAMEGIVEN	431
#define ERR_ERRONEUSNICKNAME	432
#define ERR_NICKNAMEINUSE	433
#define ERR_USERNOTINCHANNEL	441
#define ERR_NOTONCHANNEL	442
#define ERR_USERONCHANNEL	443
#define ERR_NOTREGISTERED	451
#define ERR_NEEDMOREPARAMS	461
#define ERR_ALREADYREGISTERED	462
#define ERR_PASSWDMISMATCH	464
#define ERR_YOUREBANNEDCREEP	465
#define ERR_KEYSET		467
#define ERR_CHANNELISFULL	471
#define ERR_UNKNOWNMODE		472
#define ERR_INVITEONLYCHAN	473
#define ERR_BANNEDFROMCHAN	474
#define ERR_BADCHANNELKEY	475
#define ERR_BADCHANMASK		476
#define ERR_NOPRIVILEGES	481
#define ERR_CHANOPRIVSNEEDED	482
#define ERR_CANTKILLSERVER	483
#define ERR_NOOPERHOST		491
#define ERR_UMODEUNKNOWNFLAG	501
#define ERR_USERSDONTMATCH	502
#define ERR_INVALIDKEY		525
#define ERR_INVALIDMODEPARAM	696
#define RPL_LOGGEDIN		900
#define RPL_LOGGEDOUT		901
#define RPL_SASLSUCCESS		903
#define ERR_SASLFAIL		904
#define ERR_SASLTOOLONG		905
#define ERR_SASLABORTED		906
#define ERR_SASLALREADY		907
#define RPL_SASLMECHS		908

#endif
