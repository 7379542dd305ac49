/*
 * irc_state.h: the protocol's model (irc_state.c): users, channels,
 * memberships, masks, invites, the server-wide tables, and the hooks:
 * the only calls that go up or across the protocol's layers.
 */
#ifndef IRC_STATE_H
#define IRC_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "ergo.h"
#include "irc_util.h"
#include "store.h"

/* ---- users ---- */
#define UMODE_INVISIBLE	0x01	/* +i */
#define UMODE_WALLOPS	0x02	/* +w */
#define UMODE_OPER	0x04	/* +o */
#define UMODE_TLS	0x08	/* +Z, set by net for TLS conns */
#define UMODE_REGISTERED 0x10	/* +r: logged in to an account */
#define UMODE_BOT	0x20	/* +B: a bot (IRCv3 bot mode, BOT=B) */
#define UMODE_REGONLY	0x40	/* +R: direct messages only from accounts */
#define UMODE_NOCTCP	0x80	/* +T: no CTCP but ACTION */

#define CF_NICK		0x01	/* NICK received */
#define CF_USER		0x02	/* USER received */
#define CF_REG		0x08	/* registered (001 sent) */
#define CF_PASS		0x10	/* PASS was correct */
#define CF_CLOSING	0x20	/* quit in progress: send nothing more */
#define CF_FLOODOK	0x100	/* exempt from fakelag */
#define CF_DEAD		0x200	/* killed: irc.c ends it after the command */
#define CF_ATTACH	0x400	/* NICK names a user of an account: attach to
				 * it at registration if logged in to it */
#define CF_SHELL	0x800	/* attached to another user: only its memory
				 * is left, freed at the next tick */

/*
 * Capability bits (CAP), see irc_cap.c's table. A set of them is a
 * uint64_t wherever it is kept (irc_cap.c checks that the table fits),
 * and each bit is 64 bits wide, so ~CAP_X clears that bit alone.
 */
#define CAP_MULTI_PREFIX	UINT64_C(0x0001)
#define CAP_USERHOST_NAMES	UINT64_C(0x0002)
#define CAP_CAP_NOTIFY		UINT64_C(0x0004)
#define CAP_AWAY_NOTIFY		UINT64_C(0x0008)
#define CAP_SASL		UINT64_C(0x0010)
#define CAP_MESSAGE_TAGS	UINT64_C(0x0020)
#define CAP_SERVER_TIME		UINT64_C(0x0040)
#define CAP_ECHO_MESSAGE	UINT64_C(0x0080)
#define CAP_BATCH		UINT64_C(0x0100)
#define CAP_LABELED		UINT64_C(0x0200)
#define CAP_ACCOUNT_TAG		UINT64_C(0x0400)
#define CAP_ACCOUNT_NOTIFY	UINT64_C(0x0800)
#define CAP_EXTENDED_JOIN	UINT64_C(0x1000)
#define CAP_CHGHOST		UINT64_C(0x2000)
#define CAP_SETNAME		UINT64_C(0x4000)
#define CAP_INVITE_NOTIFY	UINT64_C(0x8000)
#define CAP_STANDARD_REPLIES	UINT64_C(0x10000)
#define CAP_NO_IMPLICIT_NAMES	UINT64_C(0x20000)
#define CAP_PERSISTENCE		UINT64_C(0x40000)	/* draft/persistence */
#define CAP_ZNC_PLAYBACK	UINT64_C(0x80000)	/* znc.in/playback */
#define CAP_CHATHISTORY		UINT64_C(0x100000)	/* draft/chathistory */
#define CAP_EXTENDED_MONITOR	UINT64_C(0x200000)
#define CAP_EVENT_PLAYBACK	UINT64_C(0x400000)	/* draft/... */
#define CAP_READ_MARKER		UINT64_C(0x800000)	/* draft/... */
#define CAP_METADATA		UINT64_C(0x1000000)	/* draft/metadata-2 */
#define CAP_CHANNEL_RENAME	UINT64_C(0x2000000)	/* draft/... */
#define CAP_ZNC_SELF		UINT64_C(0x4000000)	/* znc.in/... */
/* 0x8000000 is free, and so is 0x100000000 and up */
#define CAP_ACCOUNT_REGISTRATION UINT64_C(0x10000000)	/* draft/... */
#define CAP_PRE_AWAY		UINT64_C(0x20000000)	/* draft/pre-away */
#define CAP_REDACTION		UINT64_C(0x40000000)	/* draft/... */
#define CAP_MULTILINE		UINT64_C(0x80000000)	/* draft/multiline */

/* Caps that change how a relayed line is tagged (see struct irc_ev). */
#define CAP_TAGGING	(CAP_MESSAGE_TAGS | CAP_SERVER_TIME | CAP_ACCOUNT_TAG)

struct member;
struct lk_user;
struct conn;

/*
 * A session: one connection's side of a user: what it negotiated (CAP),
 * its timers and fakelag, a SASL exchange, a multiline batch or a
 * labeled command in progress. net hands lines up with the session as
 * the handle; irc_out delivers a user's events to each of its sessions
 * in the variant that session's capabilities need.
 */
#define SF_CAPNEG	0x01	/* CAP LS/REQ seen, waiting for CAP END */
#define SF_PINGSENT	0x02	/* idle PING outstanding */
#define SF_THROTTLED	0x04	/* on the fakelag list */
#define SF_CLOSING	0x08	/* it or its user is dead: send nothing */
#define SF_DEAD		0x10	/* ended alone (multiclient): irc.c detaches it */

struct session {
	struct session	*next;		/* the user's other sessions */
	struct client	*user;		/* whose session it is */
	struct conn	*conn;		/* NULL once net is done with it */
	unsigned	 flags;		/* SF_* */
	uint64_t	 caps;		/* CAP_* enabled */
	uint16_t	 capver;	/* 301 or 302 */
	bool		 fl_throttled;	/* burst used up: lines spaced out */
	bool		 fl_granted;	/* the held line may now run */
	unsigned	 fl_count;	/* lines in the current burst (fakelag) */
	uint64_t	 last_recv_ms;	/* last line of any kind */
	struct session	*tnext, *tprev;	/* timeout list, by last_recv_ms */
	uint64_t	 tstamp_ms;	/* key of the timeout list it is on */
	uint64_t	 fl_last;	/* fakelag (irc.c): last touch (may be
					 * in the future) */
	struct label	*label;		/* labeled command running (irc_out.c) */
	struct session_ext *x;		/* IRC_SX_NONE until needed (below) */
	uint64_t	 id;		/* for NickServ CLIENTS */
	time_t		 signon;
};

/*
 * What a session rarely needs, apart (as struct client_ext below): it
 * points at IRC_SX_NONE, shared, read-only and all zero, until a field
 * is written through irc_sx(s); irc_sx_trim frees it once every field
 * is zero again (after each command of the session, and when it leaves
 * the throttled list).
 */
struct session_ext {
	struct session	*flnext, *flprev;	/* throttled list (fakelag) */
	uint64_t	 fl_next_ms;	/* when the held line may run */
	struct sasl	*sasl;		/* AUTHENTICATE in progress */
	struct ml	*ml;		/* open draft/multiline batch */
	struct znc_play	*znc;		/* its last *playback PLAY (irc_hist.c) */
	struct mdsub	*mdsubs;	/* METADATA SUB keys (irc_metadata.c) */
	unsigned	 nmdsubs;
	struct session	*dnext;		/* irc.dead_sessions */
	char		*error;		/* ERROR text once dead, or NULL */
};

extern const struct session_ext irc_sx_none;
#define IRC_SX_NONE	((struct session_ext *)(uintptr_t)&irc_sx_none)
/* s's rare part to write, made if needed; NULL on ENOMEM. */
struct session_ext *irc_sx(struct session *);
/* Frees s's rare part if nothing in it is in use. */
void	 irc_sx_trim(struct session *);

/*
 * What a user rarely needs, apart from struct client so that an idle
 * registered user (the common case, tens of thousands of them) pays
 * for none of it: away text, oper state, snomasks, MONITOR, ACCEPT,
 * direct-message history, account settings, always-on, read markers,
 * metadata, nick enforcement, the precis skeleton, why it quit.
 * A user that has none points at IRC_CX_NONE, one shared read-only
 * part, all zero: c->ext->field reads as zero, and a write through it
 * faults. Made on first write (irc_cx) and freed once every field is
 * back to zero (irc_cx_trim, after each command of its user).
 */
struct client_ext {
	char		*away;		/* NULL when present */
	char		*oper_class;	/* NULL unless +o */
	char		*oper_name;	/* its oper block, NULL unless +o */
	uint32_t	 snomask;	/* SNO_* (irc_oper.c) */
	struct client	*snonext, *snoprev;	/* on the snomask list */
	char		*quitmsg, *error;	/* why, once dead (or NULL) */
	/* MONITOR list (irc_monitor.c), direct-message history (irc_hist.c) */
	struct mon_link	*monitors;
	unsigned	 nmonitors;
	struct hist	*hist;
	/* ACCEPT (user mode +R): whom c accepts, who accepts c */
	struct accept	*accepts, *accepted_by;
	unsigned	 naccepts;
	/* accounts (irc_sasl.c, irc_serv.c) */
	struct client	*acnext, *acprev;	/* sessions of the account */
	bool		 ac_listed;
	/* its account's NickServ SET settings: a copy taken at a login or
	 * a restore, kept after a logout; SET changes every session's */
	struct store_settings acset;
	/* always-on (irc_alwayson.c) */
	uint64_t	 ao_saved;	/* hash of the state last written */
	time_t		 last_seen;	/* its last session left */
	int64_t		 last_seen_ms;	/* the same, wall clock ms */
	int64_t		 ao_account;	/* the account its row is under */
	struct mark	*marks;		/* read markers without an account */
	unsigned	 nmarks;
	/* draft/metadata-2 (irc_metadata.c): its keys, its SET throttle */
	struct mdkv	*meta;
	unsigned	 nmeta;
	uint64_t	 md_win_ms;
	unsigned	 md_count;
	/* nick enforcement (irc_serv.c): on its list while pending; the
	 * fields are zero again once it is off */
	struct client	*nrnext, *nrprev;
	uint64_t	 nr_due_ms;	/* rename then, unless logged in */
	bool		 nr_listed;
	bool		 nr_told;	/* the warning was sent */
	struct hent	 sk;		/* by skeleton (casemapping precis) */
	struct client	*sk_user;	/* whose skeleton sk is */
};

/*
 * A user: what other clients see (nick, ident, host, account, modes,
 * channels) and what outlives a connection. Its sessions hang from
 * sess: one per connection (multiclient links more), or none. The
 * rest is in ext (above), NULL for most users.
 *
 * The invariant of a user with no session (sess == NULL): it has no
 * local connection: an always-on user whose every device is away, or
 * (later) a user of another server. It is in the nick table and its
 * channels like any other registered user, peers see it, and events to
 * it are simply delivered to nobody. It never runs a command, so cur is
 * NULL and irc_sess() is NULL for it: code about a user other than the
 * one whose command runs asks irc_user_caps(), irc_client_ip() and
 * irc_client_certfp(), which answer for a user with no session (0,
 * NULL), and walks sessions with a loop that may run zero times.
 */
struct client {
	struct hent	 h;		/* by folded nick, once NICK is set */
	struct client_ext *ext;		/* IRC_CX_NONE until needed (above) */
	struct session	*sess;		/* its sessions, or NULL (see above) */
	struct session	*cur;		/* the one whose command runs, or NULL */
	/*
	 * Its names, in one allocation (irc_user_set_names): nick ("" until
	 * NICK, never NULL), ident from USER ('~'-prefixed), shown host,
	 * realname (each NULL until set); h.key points at the folded nick
	 * in the same block while c is in the nick table. A change makes a
	 * new block, so a pointer read before it is stale after: copy what
	 * must outlive a rename or a host change.
	 */
	const char	*nick;
	const char	*user;
	const char	*host;
	const char	*realname;
	unsigned	 flags;		/* CF_* */
	unsigned	 umodes;	/* UMODE_* */
	struct member	*chans;		/* memberships, via unext */
	unsigned	 nchans;
	uint32_t	 mark;		/* fan-out dedup generation */
	uint32_t	 md_mark;	/* the same of irc_metadata.c */
	bool		 changed;	/* on irc.changed */
	bool		 always_on;	/* stays with no session (irc_alwayson.c) */
	bool		 auto_away;	/* its away is auto-away's */
	uint8_t		 namecl;	/* its names' pool (irc_state.c) */
	time_t		 signon;	/* connect time (317) */
	time_t		 last_msg;	/* last PRIVMSG/NOTICE (idle, 317) */
	struct client	*gnext;		/* graveyard: freed next tick */
	struct client	*dnext;		/* irc.dead: ended after the command */
	struct client	*chnext;	/* irc.changed */
	char		*account;	/* account name when logged in */
	int64_t		 account_id;
	/* server links (irc_link_user.c): UID, nick TS, and for a remote
	 * user (no sessions here) the server it is on; NULL until used */
	struct lk_user	*lk;
};

extern const struct client_ext irc_cx_none;
#define IRC_CX_NONE	((struct client_ext *)(uintptr_t)&irc_cx_none)
/* A new user: all zero but ext (IRC_CX_NONE); NULL on ENOMEM. A struct
 * client made otherwise (on the stack) sets ext so itself. */
struct client *irc_client_new(void);
/* Gives back the memory of a client from irc_client_new (or NULL) whose
 * names, sessions and rare part are already freed. */
void	 irc_client_del(struct client *);
/* A new session, all zero but x (IRC_SX_NONE); NULL on ENOMEM. */
struct session *irc_session_new(void);
/* Gives back the memory of a session from irc_session_new (or NULL). */
void	 irc_session_del(struct session *);
/*
 * Sets c's names: each argument not NULL replaces its field (nick ""
 * for none), the others are kept; the arguments may point into c's own
 * names. A nick set so is shown but not in the nick table (c leaves it
 * if it was in): irc_nick_set puts it there. 0, or -1 on ENOMEM
 * (c keeps its names).
 */
int	 irc_user_set_names(struct client *, const char *nick,
	    const char *user, const char *host, const char *realname);
/* Frees c's names (c is out of the nick table): nick "", the rest NULL. */
void	 irc_user_free_names(struct client *);
/* The name of c's oper block, or none if it is not an operator. */
static inline const char *
irc_oper_name_or(const struct client *c, const char *none)
{
	return c->ext->oper_name != NULL ? c->ext->oper_name : none;
}
/* c's rare part to write, made if needed; NULL on ENOMEM (logged). */
struct client_ext *irc_cx(struct client *);
/* Frees c's rare part if nothing in it is in use (irc.c, after each
 * command of c, and when c goes). */
void	 irc_cx_trim(struct client *);
/* Gives back the memory of a rare part from irc_cx (its strings freed). */
void	 irc_cx_del(struct client_ext *);

/* ---- channels ---- */
#define CMODE_INVITE	0x01	/* +i */
#define CMODE_MODERATED	0x02	/* +m */
#define CMODE_NOEXT	0x04	/* +n */
#define CMODE_SECRET	0x08	/* +s */
#define CMODE_TOPIC	0x10	/* +t */
#define CMODE_PRIVATE	0x20	/* +p */
#define CMODE_REGONLY	0x40	/* +R: only logged-in users may join */
#define CMODE_REGSPEAK	0x80	/* +M: only logged-in users may speak */
#define CMODE_NOCTCP	0x100	/* +C: no CTCP but ACTION */
#define CMODE_AUDITORIUM 0x200	/* +u: JOIN/PART of plain members to ranks */
#define CMODE_OPMOD	0x400	/* +U: plain members' messages to ranks */

#define CHAN_MODES_MAX	6	/* parameter modes per MODE (ISUPPORT MODES) */
#define CHAN_KEYLEN	32	/* longest +k key (ISUPPORT KEYLEN) */

/*
 * Prefix modes, Ergo's ranks from the lowest (PREFIX=(qaohv)~&@%+): a
 * higher rank is a higher bit, so a member's rank is its highest bit.
 */
#define MEMB_VOICE	0x01	/* +v + */
#define MEMB_HALFOP	0x02	/* +h % */
#define MEMB_OP		0x04	/* +o @ */
#define MEMB_ADMIN	0x08	/* +a & */
#define MEMB_FOUNDER	0x10	/* +q ~ */
#define MEMB_ALL	0x1f
/* The bits of rank and every rank above it (rank is one MEMB_* bit). */
#define MEMB_ATLEAST(rank)	((unsigned char)(MEMB_ALL & ~((rank) - 1)))

struct member {
	struct client	*c;
	struct chan	*ch;
	unsigned char	 modes;			/* MEMB_* */
	unsigned	 ci;			/* its index in ch->mv */
	int64_t		 joined_ms;		/* its JOIN (query-cutoff) */
	struct member	*cnext, *cprev;		/* in ch->members */
	struct member	*unext, *uprev;		/* in c->chans */
};

/*
 * One session's part of a channel's fan-out (struct chan's dv): its
 * connection, itself, and its caps as they were when the array was
 * built. Whatever changes one of these, or which sessions a member has,
 * marks the arrays of the user's channels stale (irc_user_dv_stale):
 * a join or part, a session attached or detached, closing or losing
 * its connection, a CAP REQ or DEL.
 */
struct deliv {
	struct conn	*conn;
	struct session	*s;
	uint64_t	 caps;
};
/*
 * Channels this large fan out through the array; a smaller one's
 * members stay in the cache and are walked as they are. ERGO_DV_CHECK
 * (the ASan build) uses it for every channel and checks it against a
 * fresh build at each use.
 */
/* A session's tagging caps (CAP_TAGGING) as 0..7. */
#define IRC_TAGKEY(caps)	(((caps) & CAP_MESSAGE_TAGS ? 1u : 0u) | \
	((caps) & CAP_SERVER_TIME ? 2u : 0u) | ((caps) & CAP_ACCOUNT_TAG ? 4u : 0u))
#ifdef ERGO_DV_CHECK
#define IRC_DV_MIN	1
#else
#define IRC_DV_MIN	32
#endif

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
	/*
	 * The same members in an array (in no order; swap-removal) for
	 * fan-out, which can then fetch members ahead at any distance: a
	 * list walk waits on each member's memory in turn.
	 */
	struct member	**mv;
	unsigned	 mvcap;
	/*
	 * What fan-out needs of the members' sessions, dense and in mv's
	 * order (irc_chan_dv; channels of IRC_DV_MIN members or more, once
	 * a message needs it): a delivery reads one entry instead of the
	 * member, its user and its session. dv_ok false: stale, rebuilt at
	 * the next message.
	 */
	bool		 dv_ok;
	unsigned char	 dvkeys;	/* 1 << IRC_TAGKEY of each entry */
	unsigned	 ndv, dvcap;
	struct deliv	*dv;
	unsigned	 modes;		/* CMODE_* */
	char		*key;		/* +k */
	unsigned	 limit;		/* +l, 0 = none */
	char		*topic, *topic_by;
	time_t		 topic_time, created;
	struct mask	*bans, *excepts, *invex;
	unsigned	 nbans, nexcepts, ninvex;
	struct invite	*invites;
	unsigned	 ninvites;
	char		*forward;	/* +f: where a refused JOIN goes */
	struct hist	*hist;		/* irc_hist.c; NULL until a message */
	int64_t		 reg_id;	/* ChanServ's row (irc_serv.c), or 0 */
	int64_t		 founder;	/* its founder's account id, or 0 */
	unsigned char	 history;	/* ChanServ SET history (CHAN_HIST_*) */
	unsigned char	 query_cutoff;	/* SET query-cutoff (CHAN_CUTOFF_*) */
	struct mdkv	*meta;		/* draft/metadata-2 (irc_metadata.c) */
	unsigned	 nmeta;
	int64_t		 md_reg;	/* the reg_id its keys were loaded for */
};
/* Ergo's HistoryStatus: a registered channel's own history setting */
#define CHAN_HIST_DEFAULT	0
#define CHAN_HIST_OFF		1
#define CHAN_HIST_EPHEMERAL	2
#define CHAN_HIST_ON		3
/* Ergo's HistoryCutoff: what of a channel's history a member may read */
#define CHAN_CUTOFF_DEFAULT	0	/* history.query-cutoff's */
#define CHAN_CUTOFF_NONE	1
#define CHAN_CUTOFF_REGTIME	2	/* not before its account's registration */
#define CHAN_CUTOFF_JOINTIME	3	/* not before it joined (but ops) */

/* ---- server-wide state (irc.c) ---- */
struct ircstate {
	struct htab	 nicks;		/* struct client by folded nick */
	struct htab	 chans;		/* struct chan by folded name */
	unsigned	 nusers;	/* registered */
	unsigned	 nunknown;	/* not yet registered */
	unsigned	 ninvisible, nopers;
	unsigned	 max_users;
	time_t		 started;
	struct client	*dead;		/* killed, ended after the command */
	struct session	*dead_sessions;	/* ended alone, detached after it */
	struct client	*changed;	/* users whose lasting state changed */
	uint64_t	 session_ids;	/* the last session id given */
	int		(*rehash)(char **errs);	/* ergo.c's, for REHASH */
	unsigned	 defcon;	/* Ergo's DEFCON 1-5 (irc_bans.c) */
};
extern struct ircstate irc;

/*
 * The hooks: the only calls that go up or across the protocol's layers
 * (families never call each other, irc_out and irc_state never call a
 * family). Each feature fills in its own at init (irc_init calls every
 * feature's init, in a fixed order, which is the order observers run).
 * IRC_HOOK_RUN calls each observer of a list; a one-slot hook may be
 * NULL (the feature is not there).
 */
#define IRC_HOOKS_MAX	8
struct irc_ev;
struct hist_info;
struct store_hrow;
struct irc_hooks {
	/* irc_out observers: an event sent to a channel's members
	 * (irc_chan_event) or to a user's peers (irc_peers_event): history;
	 * any event to a user's peers (irc_ev_peers): extended-monitor; a
	 * delivered PRIVMSG/NOTICE/TAGMSG (ch, or the user to): history */
	void	(*chan_event[IRC_HOOKS_MAX])(struct chan *,
		    const struct irc_ev *);
	void	(*peers_event[IRC_HOOKS_MAX])(struct client *,
		    const struct irc_ev *);
	void	(*peers_sent[IRC_HOOKS_MAX])(struct irc_ev *, struct client *);
	/* ch's delivery array (every one of a user's channels: NULL) is
	 * about to change: irc_out sends what it holds back first */
	void	(*dv_change[IRC_HOOKS_MAX])(const struct chan *);
	void	(*message[IRC_HOOKS_MAX])(struct client *from, struct chan *ch,
		    struct client *to, const char *cmd, const char *text,
		    const struct irc_ev *);
	/* a STATUSMSG (status: its prefix, @ of @#chan...; '\0': a plain
	 * member's message in a +U channel) delivered to ch's members
	 * holding a rank in need: no message history keeps; the links */
	void	(*status_message[IRC_HOOKS_MAX])(struct client *from,
		    struct chan *ch, char status, unsigned char need,
		    const char *cmd, const char *text, const struct irc_ev *);
	/* users: a registered user renamed (oldprefix: nick!user@host
	 * before); a registered user left (peers were told); a client's
	 * memory goes (registered or not); a session's memory goes (ended
	 * alone, or with its user): per-session state (SASL, multiline) */
	void	(*nick_changed[IRC_HOOKS_MAX])(struct client *,
		    const char *oldprefix);
	void	(*quit[IRC_HOOKS_MAX])(struct client *);
	void	(*registered[IRC_HOOKS_MAX])(struct client *);	/* 001 sent */
	/* a user of another server came (a link's UID or EUID, in a burst
	 * or later): it is online (MONITOR) */
	void	(*remote_user[IRC_HOOKS_MAX])(struct client *);
	/* the services rename c to nick (nick enforcement): true if c is a
	 * user of another server, asked to rename it (TS6 RSFNC; the
	 * network hears its NICK), false to rename it here */
	bool	(*rename_remote)(struct client *, const char *nick);
	void	(*client_free[IRC_HOOKS_MAX])(struct client *);
	void	(*session_free[IRC_HOOKS_MAX])(struct session *);
	/* a client logged in to an account (after 900), logged out (901) */
	void	(*logged_in[IRC_HOOKS_MAX])(struct client *);
	void	(*logged_out[IRC_HOOKS_MAX])(struct client *);
	/* MONITOR (irc_monitor.c): calls fn for each user watching c */
	void	(*watchers)(struct client *c,
		    void (*fn)(struct client *watcher, void *arg), void *arg);
	/* channels: c's JOIN created ch (returns 0 not registered, 1 c is
	 * its founder, 2 someone else's, 3 purged: no one may use it); c joined ch, before NAMES and
	 * after; ch's topic or modes changed; ch goes */
	int	(*chan_restore)(struct chan *, struct client *);
	void	(*join_names[IRC_HOOKS_MAX])(struct client *, struct chan *);
	void	(*joined[IRC_HOOKS_MAX])(struct client *, struct chan *);
	void	(*chan_changed[IRC_HOOKS_MAX])(struct chan *);
	/* ch was renamed (RENAME); old is its name before */
	void	(*chan_renamed[IRC_HOOKS_MAX])(struct chan *, const char *old);
	/* a JOIN of name, no such channel: 0 go on; 1 refused (c was told);
	 * 2 go to channel to instead (c was told): name was renamed */
	int	(*join_renamed)(struct client *, const char *name, char *to,
		    size_t sz);
	/* what a JOIN of ch shows c after its JOIN line: the topic and
	 * NAMES (irc_chan.c), to c's current session */
	void	(*chan_greet)(struct client *, struct chan *);
	void	(*chan_free[IRC_HOOKS_MAX])(struct chan *);
	/* the services changed a member's rank (ChanServ: a founder's +q,
	 * AMODE, OP): not a channel event, history keeps none; the links
	 * tell the other servers (TMODE). A user of another server joined
	 * ch (a link's JOIN or SJOIN): the services' ranks at JOIN */
	void	(*member_ranked[IRC_HOOKS_MAX])(struct chan *,
		    struct client *, char letter, bool on);
	void	(*remote_joined[IRC_HOOKS_MAX])(struct client *, struct chan *);
	/* services: a message to a service's nick (true: taken); a K- or
	 * D-line on a client not registered yet (true: 465 sent, killed) */
	bool	(*service_message)(struct client *, const char *target,
		    const char *text, bool notice);
	bool	(*banned)(struct client *);
	/* links: the server a user is on, its name and description, or
	 * NULL (this one); for WHOIS and WHO */
	const char *(*user_server)(const struct client *, const char **info);
	/* K- and D-lines across links: an oper here set one (kind 'k' or
	 * 'd', mask user@host or an address/CIDR, secs 0: permanent) or
	 * removed one, for target (a server mask, "*": all); and the bans
	 * family's entry for one a peer sent: 0, or -1 (refused, logged) */
	void	(*ban_set[IRC_HOOKS_MAX])(struct client *by, int kind,
		    const char *mask, long long secs, const char *reason,
		    const char *target);
	void	(*ban_unset[IRC_HOOKS_MAX])(struct client *by, int kind,
		    const char *mask, const char *target);
	int	(*ban_remote)(int kind, bool add, const char *mask,
		    long long secs, const char *reason, const char *setter);
	/* links: a reply (irc_send, irc_numeric) to a user with no session
	 * here (a user of another server gets services' replies there);
	 * with services on another server (services.enabled no): an
	 * AUTHENTICATE (arg NULL: registration completes, an exchange
	 * still open is aborted) and a NICKSERV or CHANSERV command, each
	 * true if taken (irc_link_svc.c) */
	void	(*remote_reply)(struct client *, const char *line, size_t len);
	bool	(*sasl_remote)(struct client *, const char *arg);
	bool	(*service_remote)(struct client *, const char *svc,
		    const char *text);
	/* the SASL mechanisms the services server announced (ENCAP
	 * MECHLIST), for CAP's sasl= while services.enabled is no; NULL:
	 * none heard */
	const char *(*sasl_mechs)(void);
	/* STATS z (opers): each feature's 249 line about what it holds */
	void	(*stats_z[IRC_HOOKS_MAX])(struct client *);
	/* WHOIS u asked by c: each feature's lines before 317 */
	void	(*whois[IRC_HOOKS_MAX])(struct client *c, struct client *u);
	/* history: a message found (and removed) by REDACT; a registered
	 * channel's or an account's rows about to be deleted (ids reused:
	 * queued rows are written first) and then gone */
	bool	(*hist_redact)(struct chan *, struct client *,
		    const char *peer, const char *msgid, bool remove,
		    struct hist_info *);
	/* HistServ: PLAY calls fn on the PRIVMSGs and NOTICEs among the
	 * last limit entries of ch's history or (ch NULL) c's direct
	 * messages with peer (NULL: with anyone), oldest first; FORGET
	 * drops every message the account sent, kept and saved (a count) */
	void	(*hist_play)(struct chan *, struct client *, const char *peer,
		    unsigned limit, void (*fn)(void *, const struct hist_info *,
		    const char *text), void *arg);
	size_t	(*hist_forget_account)(const char *account);
	/* EXPORT: fn on every entry (events too: HK_* of irc_hist.h) the
	 * account sent, kept and saved, oldest first in each; one held in
	 * both, or a direct message's two copies, may come twice (same
	 * msgid) */
	size_t	(*hist_export_account)(const char *account,
		    void (*fn)(void *, const struct store_hrow *), void *arg);
	void	(*dropping[IRC_HOOKS_MAX])(int64_t channel, int64_t account);
	void	(*dropped[IRC_HOOKS_MAX])(int64_t channel, int64_t account);
};
extern struct irc_hooks irc_hooks;

/* Adds fn to the hook list name (aborts if full: a build mistake). */
#define IRC_HOOK_ADD(name, fn) do {					\
	size_t i_;							\
	for (i_ = 0; i_ < IRC_HOOKS_MAX && irc_hooks.name[i_] != NULL;	\
	    i_++)							\
		;							\
	if (i_ == IRC_HOOKS_MAX)					\
		abort();						\
	irc_hooks.name[i_] = (fn);					\
} while (0)
#define IRC_HOOK_RUN(name, ...) do {					\
	size_t i_;							\
	for (i_ = 0; i_ < IRC_HOOKS_MAX && irc_hooks.name[i_] != NULL;	\
	    i_++)							\
		irc_hooks.name[i_](__VA_ARGS__);			\
} while (0)

/* ---- the model's calls ---- */
struct chan *irc_chan_find(const char *name);
struct member *irc_member_find(const struct chan *, const struct client *);
/* Remove c from every channel (QUIT fan-out is done by the caller). */
void	 irc_chan_part_all(struct client *);
/* Whether c may speak in ch now; sets *num to the refusal numeric and
 * *mode to the mode letter that refused (Ergo's "(+m)"). */
bool	 irc_chan_can_send(struct chan *, struct client *, int *num,
	    char *mode);
/* Ergo's channel modes and ranks: the MEMB_* bit of a prefix letter
 * (q a o h v) or symbol (~ & @ % +), 0 if none; a member's rank (its
 * highest bit, 0 for none or NULL); whether c is at least rank in ch
 * (its founder's account always is); Ergo's channelUserModeHasPrivsOver
 * (whether rank r may kick, or give or take the mode t) and
 * ClientHasPrivsOver (c over member t, the founder's account first). */
unsigned char irc_memb_letter(char letter);
unsigned char irc_memb_symbol(char sym);
char	 irc_memb_letter_of(unsigned char bit);
unsigned char irc_member_rank(const struct member *);
bool	 irc_chan_is_at_least(const struct chan *, const struct client *,
	    unsigned char rank);
bool	 irc_rank_over(unsigned char r, unsigned char t);
bool	 irc_chan_privs_over(const struct chan *, const struct client *c,
	    const struct client *t);
/* Whether ch holds a mute (m:) that matches c and no m: exception. */
bool	 irc_chan_muted(const struct chan *, const struct client *);
/* Whether the channel should be listed/shown to c (secret/private) */
bool	 irc_chan_visible(const struct chan *, const struct client *);
/* c's nick changed: rename pending invites etc. */
void	 irc_chan_nick_changed(struct client *, const char *oldfolded);
/* Model changes for the channel commands (irc_chan.c). */
struct chan *irc_chan_create(const char *name);		/* NULL: ENOMEM */
void	 irc_chan_destroy(struct chan *);	/* an empty one */
/* Renames ch (its table key too): 0, or -1 on ENOMEM (unchanged). */
int	 irc_chan_rename(struct chan *, const char *name);
struct member *irc_member_add(struct chan *, struct client *,
	    unsigned char modes);			/* NULL: ENOMEM */
void	 irc_member_del(struct member *);	/* an emptied channel goes */
/* ch's delivery array (struct deliv), rebuilt if stale, its length in
 * *n; NULL when out of memory (walk the members instead). */
const struct deliv *irc_chan_dv(struct chan *, unsigned *n);
/* c's sessions, their caps or connections changed: its channels'
 * delivery arrays are stale. */
void	 irc_user_dv_stale(struct client *);
void	 irc_masks_free(struct mask *);
/* Whether a mask of the list matches c (also by its real IP if cloaked) */
bool	 irc_masks_match(const struct mask *, const struct client *);
bool	 irc_chan_banned(const struct chan *, const struct client *);
/* One mask (nick!user@host, or an extban a:account) against c. */
bool	 irc_mask_matches(const char *mask, const struct client *);
/* The symbols (~&@%+) of modes into buf, highest first: all of them
 * (multi-prefix) or only the highest; returns the length. */
size_t	 irc_memb_symbols(unsigned char modes, bool all, char *buf,
	    size_t sz);
struct inv;			/* a pending invite */
struct inv *irc_invite_find(const struct chan *, const char *folded);
void	 irc_invite_free(struct inv *);
int	 irc_invite_add(struct chan *, struct client *);	/* 0, -1 */
void	 irc_invite_each(const char *folded,
	    void (*)(struct chan *, void *), void *);

struct client *irc_client_find(const char *nick);
/* casemapping precis: the user whose nick looks like nick (the same
 * confusable skeleton), or NULL; always NULL otherwise. */
struct client *irc_client_confusable(const char *nick);

/* ACCEPT: by lets who message it despite +R (Ergo's AcceptManager). */
struct accept {
	struct client	*by, *who;
	struct accept	*bnext, *bprev;	/* in by->accepts */
	struct accept	*wnext, *wprev;	/* in who->accepted_by */
};
bool	 irc_accept_has(const struct client *by, const struct client *who);
/* 0 added, 1 already there, -1 out of memory */
int	 irc_accept_add(struct client *by, struct client *who);
bool	 irc_accept_del(struct client *by, struct client *who);
void	 irc_accept_forget(struct client *);	/* both ways; c goes */
/* The session of c a command or reply is about: the one whose command
 * runs, else its first; NULL for a user with no session (irc_sess is
 * never NULL inside c's own command). */
static inline struct session *
irc_sess(const struct client *c)
{
	return c->cur != NULL ? c->cur : c->sess;
}
/* The capabilities of irc_sess(c), 0 for a user with no session: what
 * to ask about a user that is not the one whose command runs. */
static inline uint64_t
irc_user_caps(const struct client *c)
{
	const struct session *s = irc_sess(c);

	return s != NULL ? s->caps : 0;
}
unsigned irc_user_sessions(const struct client *);	/* how many */
/* c's real address and client certificate fingerprint (of its session
 * irc_sess), or NULL: none for a user with no session. */
const char *irc_client_ip(const struct client *);
const char *irc_client_certfp(const struct client *);
/*
 * Notes that something of registered c that outlives a connection (its
 * nick, channels, member or user modes, away) may have changed: the
 * always-on users are written from irc.changed after each command.
 */
void	 irc_user_changed(struct client *);
/* Unlinks c from irc.changed (c's memory goes). */
void	 irc_user_unchanged(struct client *);
/* A new channel's modes: channels.default-modes (flag modes only). */
void	 irc_chan_default_modes(struct chan *);
/* Sets c's nick and its table entry (0, or -1 on ENOMEM); or drops it. */
int	 irc_nick_set(struct client *, const char *nick);
void	 irc_nick_unset(struct client *);

/* WHOWAS: departed and renamed users, newest first, limits.whowas. */
struct whowas {
	struct whowas	*next, *prev;
	time_t		 when;
	char		 nick[NICKLEN_MAX + 1];
	char		*user, *host, *realname;
	char		 data[];
};
void	 irc_whowas_add(const struct client *);
const struct whowas *irc_whowas_first(void);	/* then ->next */
void	 irc_whowas_free(void);
/* nick!user@host of c (static buffer, valid until the next call) */
const char *irc_prefix(const struct client *);

/* A command handler (the roof's table; each family declares its own). */
typedef void cmd_fn(struct client *, struct msg *);

#endif
