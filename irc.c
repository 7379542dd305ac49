/*
 * irc.c: the protocol's roof: net's calls (a new session, its lines, its
 * end), line intake, the sorted command table and dispatch, registration
 * (PASS NICK USER, retried after every command, multiclient attach; CAP
 * is irc_cap.c's), PING/PONG, QUIT, PRIVMSG/NOTICE/TAGMSG, fakelag and
 * timeouts, and reaping what handlers marked dead. Called only by
 * ergo.c; calls down into the families, irc_user/irc_out/irc_state,
 * never a socket or SQL.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "irc.h"
#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "net.h"
#include "store.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_cloak.h"
#include "irc_userinput.h"
#include "irc_throttle.h"
#include "irc_account.h"
#include "irc_alwayson.h"
#include "irc_bans.h"
#include "irc_cap.h"
#include "irc_chan.h"
#include "irc_chghost.h"
#include "irc_help.h"
#include "irc_hist.h"
#include "irc_link.h"
#include "irc_mail.h"
#include "irc_markread.h"
#include "irc_metadata.h"
#include "irc_rename.h"
#include "irc_monitor.h"
#include "irc_multiline.h"
#include "irc_persistence.h"
#include "irc_num.h"
#include "irc_oper.h"
#include "irc_query.h"
#include "irc_redact.h"
#include "irc_register.h"
#include "irc_sasl.h"
#include "irc_serv.h"
#include "irc_chanserv.h"
#include "irc_hostserv.h"
#include "irc_histserv.h"
#include "irc_nsadmin.h"
#include "irc_user.h"
#include "irc_webirc.h"

/* Timeout lists of sessions, each FIFO by its own key (tstamp_ms). */
struct tlist {
	struct session	*head, *tail;
};
static struct tlist	 t_unreg;	/* by connect time */
static struct tlist	 t_active;	/* registered, by last line */
static struct tlist	 t_pinged;	/* registered, by PING time */
/* Fakelag holds their input; ordered by fl_next_ms, soonest first. */
static struct session	*throttled, *throttled_tail;
static struct client	*graveyard;	/* exited this pass */
static struct session	*sgraveyard;	/* sessions detached this pass */
static char		 created[64];

/* ---- timeout lists ---- */

static struct tlist *
tlist_of(const struct session *s)
{
	if (!(s->user->flags & CF_REG))
		return &t_unreg;
	return (s->flags & SF_PINGSENT) ? &t_pinged : &t_active;
}

static void
tlist_del(struct tlist *l, struct session *s)
{
	if (s->tprev != NULL)
		s->tprev->tnext = s->tnext;
	else
		l->head = s->tnext;
	if (s->tnext != NULL)
		s->tnext->tprev = s->tprev;
	else
		l->tail = s->tprev;
	s->tnext = s->tprev = NULL;
}

static void
tlist_add(struct tlist *l, struct session *s, uint64_t stamp)
{
	s->tstamp_ms = stamp;
	s->tnext = NULL;
	s->tprev = l->tail;
	if (l->tail != NULL)
		l->tail->tnext = s;
	else
		l->head = s;
	l->tail = s;
}

static void
throttle_del(struct session *s)
{
	struct session_ext *x;

	if (!(s->flags & SF_THROTTLED))
		return;
	s->flags &= ~SF_THROTTLED;
	x = s->x;		/* a part of its own: it was on the list */
	if (x->flprev != NULL)
		x->flprev->x->flnext = x->flnext;
	else
		throttled = x->flnext;
	if (x->flnext != NULL)
		x->flnext->x->flprev = x->flprev;
	else
		throttled_tail = x->flprev;
	x->flnext = x->flprev = NULL;
	x->fl_next_ms = 0;
	irc_sx_trim(s);
}

/*
 * Holds s's input until fl_next_ms. Every wait is at most one fakelag
 * interval from now, so a new entry belongs at or near the tail: the
 * walk back is short, and the timers only ever look at the head.
 * false if out of memory: the line runs now.
 */
static bool
throttle_add(struct session *s, uint64_t next_ms)
{
	struct session *p;
	struct session_ext *x;

	throttle_del(s);
	if ((x = irc_sx(s)) == NULL)	/* its line runs now */
		return false;
	x->fl_next_ms = next_ms;
	for (p = throttled_tail; p != NULL && p->x->fl_next_ms > next_ms;
	    p = p->x->flprev)
		;
	x->flprev = p;
	x->flnext = p != NULL ? p->x->flnext : throttled;
	if (x->flnext != NULL)
		x->flnext->x->flprev = s;
	else
		throttled_tail = s;
	if (p != NULL)
		p->x->flnext = s;
	else
		throttled = s;
	s->flags |= SF_THROTTLED;
	return true;
}

/* ---- clients ---- */


/*
 * connection-limits' throttle: true if conn is one connection too many
 * from its address this window (closed with an ERROR). Said in the log
 * once a window, when the limit is reached, not per refusal.
 */
static bool
conn_throttled(struct conn *conn)
{
	const char *ip = net_conn_ip(conn);
	uint64_t window = (uint64_t)conf->conn_throttle_secs * 1000;
	char key[NET_ADDRKEY_LEN + 3];

	/* the exact address, before grouping: ::1 is exempt, its /64 not */
	if (!conf->conn_throttle || strcmp(ip, "127.0.0.1") == 0 ||
	    strcmp(ip, "::1") == 0)
		return false;
	memcpy(key, "ip:", 3);
	net_ip_key(ip, key + 3, sizeof(key) - 3);
	if (irc_throttle_full(THROTTLE_CONN, key, conf->conn_throttle_max,
	    window)) {
		net_conn_close(conn, "Too many connection attempts from your "
		    "IP; wait a while and try again");
		return true;
	}
	if (irc_throttle_count(THROTTLE_CONN, key, window) >=
	    conf->conn_throttle_max)
		log_warnx("connect", "%s: connections throttled: %u in %us "
		    "from this address", key + 3, conf->conn_throttle_max,
		    conf->conn_throttle_secs);
	return false;
}

static void *
irc_conn_open(struct conn *conn)
{
	struct client *c;
	const char *ip = net_conn_ip(conn);
	char host[IRC_HOST_CLOAK];	/* an address fits too (46 + 1) */

	if (irc_bans_conn_refused(conn) ||	/* D-lined: ERROR, closed */
	    conn_throttled(conn))
		return NULL;
	if (irc_cloak_on())
		irc_cloak(ip, host, sizeof(host));
	else if (conf->cloak.enabled)	/* no key (logged): never show ip */
		return NULL;
	else	/* "::1" would read as a trailing parameter in a prefix */
		snprintf(host, sizeof(host), "%s%s", ip[0] == ':' ? "0" : "",
		    ip);
	/* a user and its one session; the session is net's handle */
	if ((c = irc_client_new()) == NULL ||
	    (c->sess = irc_session_new()) == NULL ||
	    irc_user_set_names(c, NULL, NULL, host, NULL) == -1) {
		if (c != NULL)
			irc_session_del(c->sess);
		irc_client_del(c);
		return NULL;
	}
	c->sess->user = c;
	c->sess->conn = conn;
	c->sess->id = ++irc.session_ids;
	c->sess->signon = ergo_now;
	c->signon = ergo_now;
	c->last_msg = ergo_now;
	c->sess->capver = 301;
	c->sess->last_recv_ms = ergo_now_ms;
	if (net_conn_tls(conn))
		c->umodes |= UMODE_TLS;
	tlist_add(&t_unreg, c->sess, ergo_now_ms);
	irc.nunknown++;
	return c->sess;
}

/*
 * Ends c, marked dead by irc_user_kill, in one place and a fixed order:
 * QUIT to everyone sharing a channel, its WHOWAS entry, its channels,
 * the quit hooks (MONITOR 731, then history), the tables and counters,
 * then ERROR and the connection. The struct itself is freed at the next
 * tick (client_free), so pointers held this pass stay safe.
 */
/* Off the timers; ERROR :error (or none) and the connection closed. */
static void
session_close(struct session *s, const char *error)
{
	tlist_del(tlist_of(s), s);
	throttle_del(s);
	if (s->conn != NULL) {
		irc_user_dv_stale(s->user);	/* held lines go out first */
		net_conn_close(s->conn, error);
		s->conn = NULL;
	}
}

static void
client_exit(struct client *c)
{
	const struct client_ext *x = c->ext;
	const char *quitmsg = x->quitmsg != NULL ? x->quitmsg :
	    "Client exited";
	struct session *s;

	if (c->flags & CF_REG) {
		log_info("connect", "%s quit: %s", irc_prefix(c), quitmsg);
		irc_sno('q', "%s exited the network", c->nick);
		irc_peers_event(c, false, ":%s QUIT :%s", irc_prefix(c),
		    quitmsg);
		irc_whowas_add(c);
		irc_chan_part_all(c);
		IRC_HOOK_RUN(quit, c);
		irc.nusers--;
		if (c->umodes & UMODE_INVISIBLE)
			irc.ninvisible--;
		if (c->umodes & UMODE_OPER)
			irc.nopers--;
	} else
		irc.nunknown--;
	irc_nick_unset(c);
	/* "ERROR :" + error + CRLF in 512 bytes, cut between characters */
	if (x->error != NULL)
		irc_utf8_trunc(x->error, IRC_LINE_MAX - 9);
	for (s = c->sess; s != NULL; s = s->next)
		session_close(s, x->error);
	c->gnext = graveyard;
	graveyard = c;
}

/*
 * A session ended alone (multiclient): it leaves its user, whom nobody
 * sees change; freed at the next tick. A user whose sessions were all
 * ended so goes with them.
 */
static void
session_detach(struct session *s)
{
	struct client *c = s->user;
	struct session **pp;

	if (c->flags & CF_DEAD)
		return;		/* the user goes too: client_exit closes it */
	for (pp = &c->sess; *pp != NULL && *pp != s; pp = &(*pp)->next)
		;
	if (*pp == NULL)
		return;
	if (s == c->sess && s->next == NULL && !c->always_on) {
		/* its last */
		irc_user_kill(c, "Client exited", s->x->error);
		return;
	}
	*pp = s->next;
	irc_user_dv_stale(c);
	if (c->cur == s)
		c->cur = NULL;
	log_info("connect", "%s: a session left (%u left)", irc_prefix(c),
	    irc_user_sessions(c));
	session_close(s, s->x->error);
	s->next = sgraveyard;
	sgraveyard = s;
	if (c->sess == NULL)		/* always-on: it stays, unseen */
		irc_alwayson_detached(c);
}

/* Ends every session and client marked dead since the last call. */
static void
reap(void)
{
	struct session *s;
	struct client *c;

	while ((s = irc.dead_sessions) != NULL) {
		irc.dead_sessions = s->x->dnext;
		session_detach(s);
	}
	while ((c = irc.dead) != NULL) {
		irc.dead = c->dnext;
		client_exit(c);
	}
}

static void
session_free(struct session *s)
{
	IRC_HOOK_RUN(session_free, s);	/* its SASL exchange, batch, ... */
	irc_metadata_session_free(s);
	if (s->x != IRC_SX_NONE) {
		free(s->x->error);
		free(s->x);
	}
	irc_session_del(s);
}

/* The roof's own kills (timeouts, bad password): at once. */
static void
client_kill(struct client *c, const char *quitmsg, const char *error)
{
	irc_user_kill(c, quitmsg, error);
	reap();
}

static void
client_free(struct client *c)
{
	struct session *s;

	if (!(c->flags & CF_SHELL))	/* session_attach ran its hooks */
		IRC_HOOK_RUN(client_free, c);
	irc_user_unchanged(c);
	irc_accept_forget(c);
	irc_user_free_names(c);
	irc_oper_free(c);
	if (c->ext != IRC_CX_NONE) {
		free(c->ext->away);
		free(c->ext->oper_class);
		free(c->ext->oper_name);
		free(c->ext->quitmsg);
		free(c->ext->error);
		irc_cx_del(c->ext);
	}
	while ((s = c->sess) != NULL) {
		c->sess = s->next;
		session_free(s);
	}
	irc_client_del(c);
}

static void
irc_conn_closed(void *arg, const char *reason)
{
	struct session *s = arg;

	s->conn = NULL;		/* net is done with it */
	irc_user_dv_stale(s->user);
	irc_session_kill(s, reason, NULL);
	reap();
}

/* A line over 512 bytes (8191 with tags): 417, and the session goes on. */
static void
session_toolong(struct session *s)
{
	irc_numeric(s->user, ERR_INPUTTOOLONG, ":Input line was too long");
}

static void
irc_conn_toolong(void *arg)
{
	session_toolong(arg);
}

/* ---- fakelag (Ergo's algorithm) ---- */

/* 0 if the line may run now, else milliseconds to hold it. */
static uint64_t
fakelag_touch(struct session *s)
{
	int64_t elapsed;
	uint64_t interval;

	if (s->fl_granted) {
		s->fl_granted = false;
		return 0;
	}
	elapsed = (int64_t)ergo_now_ms - (int64_t)s->fl_last;
	s->fl_last = ergo_now_ms;
	if (!s->fl_throttled) {
		if (elapsed > (int64_t)conf->fakelag.cooldown_ms)
			s->fl_count = 0;
		if (++s->fl_count <= conf->fakelag.burst_limit)
			return 0;
		s->fl_count = 0;
		s->fl_throttled = true;
	}
	if (elapsed > (int64_t)conf->fakelag.cooldown_ms) {
		s->fl_throttled = false;
		s->fl_count = 1;
		return 0;
	}
	interval = conf->fakelag.messages_per_window ?
	    conf->fakelag.window_ms / conf->fakelag.messages_per_window :
	    conf->fakelag.window_ms;
	if ((int64_t)interval > elapsed) {
		uint64_t wait = interval - (uint64_t)(elapsed > 0 ? elapsed : 0);

		s->fl_last = ergo_now_ms + wait;
		return wait;
	}
	return 0;
}

static void	 try_register(struct client *);
static void	 irc_send_welcome(struct client *);

/* ---- command table: sorted by name, searched with bsearch ---- */

/* A row's flags, each checked by dispatch; none: also before 001. */
#define CMD_REG		0x01	/* needs registration (else 451) */
#define CMD_OPER	0x02	/* needs +o (else 481) */

/* The roof's own commands: registration, PING, QUIT, messages. */
static cmd_fn	h_nick, h_notice, h_pass, h_ping, h_pong, h_privmsg, h_quit,
		h_setname, h_tagmsg, h_user;

struct cmd {
	const char	*name;
	cmd_fn		*fn;
	int		 min;	/* parameters, else 461 */
	int		 flags;
	const char	*cap;	/* oper capability needed (else 481), or NULL */
};

static const struct cmd cmds[] = {
	{ "ACCEPT",	h_accept,	1, CMD_REG, NULL },
	{ "ADMIN",	h_admin,	0, CMD_REG, NULL },
	{ "AUTHENTICATE", h_authenticate, 1, 0, NULL },
	{ "AWAY",	h_away,		0, 0, NULL },	/* pre-away */
	{ "BATCH",	h_batch,	1, CMD_REG, NULL },
	{ "CAP",	h_cap,		1, 0, NULL },
	{ "CHANSERV",	h_chanserv,	0, CMD_REG, NULL },
	{ "CHATHISTORY", h_chathistory,	0, CMD_REG, NULL },
	{ "CHGHOST",	h_chghost,	3, CMD_REG | CMD_OPER, "vhosts" },
	{ "CONNECT",	h_connect,	1, CMD_REG | CMD_OPER, NULL },
	{ "CS",		h_chanserv,	0, CMD_REG, NULL },
	{ "DEFCON",	h_defcon,	0, CMD_REG | CMD_OPER, "defcon" },
	{ "DEOPER",	h_deoper,	0, CMD_REG, NULL },
	{ "DIE",	h_die,		0, CMD_REG | CMD_OPER, "die" },
	{ "DLINE",	h_dline,	1, CMD_REG | CMD_OPER, "ban" },
	{ "HELP",	h_help,		0, CMD_REG, NULL },
	{ "HELPOP",	h_help,		0, CMD_REG, NULL },
	{ "HISTSERV",	h_histserv,	0, CMD_REG, NULL },
	{ "HOSTSERV",	h_hostserv,	0, CMD_REG, NULL },
	{ "HS",		h_hostserv,	0, CMD_REG, NULL },
	{ "INFO",	h_info,		0, CMD_REG, NULL },
	{ "INVITE",	h_invite,	0, CMD_REG, NULL },
	{ "ISON",	h_ison,		1, CMD_REG, NULL },
	{ "ISUPPORT",	h_isupport,	0, CMD_REG, NULL },
	{ "JOIN",	h_join,		1, CMD_REG, NULL },
	{ "KICK",	h_kick,		2, CMD_REG, NULL },
	{ "KILL",	h_kill,		1, CMD_REG | CMD_OPER, "kill" },
	{ "KLINE",	h_kline,	1, CMD_REG | CMD_OPER, "ban" },
	{ "LINKS",	h_links,	0, CMD_REG, NULL },
	{ "LIST",	h_list,		0, CMD_REG, NULL },
	{ "LUSERS",	h_lusers,	0, CMD_REG, NULL },
	{ "MARKREAD",	h_markread,	0, CMD_REG, NULL },
	{ "METADATA",	h_metadata,	2, 0, NULL },	/* before-connect */
	{ "MODE",	h_mode,		1, CMD_REG, NULL },
	{ "MONITOR",	h_monitor,	1, CMD_REG, NULL },
	{ "MOTD",	h_motd,		0, CMD_REG, NULL },
	{ "NAMES",	h_names,	0, CMD_REG, NULL },
	{ "NICK",	h_nick,		0, 0, NULL },
	{ "NICKSERV",	h_nickserv,	0, CMD_REG, NULL },
	{ "NOTICE",	h_notice,	0, CMD_REG, NULL },
	{ "NS",		h_nickserv,	0, CMD_REG, NULL },
	{ "OPER",	h_oper,		1, CMD_REG, NULL },
	{ "PART",	h_part,		1, CMD_REG, NULL },
	{ "PASS",	h_pass,		1, 0, NULL },
	{ "PERSISTENCE", h_persistence,	1, CMD_REG, NULL },
	{ "PING",	h_ping,		0, 0, NULL },
	{ "PONG",	h_pong,		0, 0, NULL },
	{ "PRIVMSG",	h_privmsg,	0, CMD_REG, NULL },
	{ "QUIT",	h_quit,		0, 0, NULL },
	{ "REDACT",	h_redact,	2, CMD_REG, NULL },
	{ "REGISTER",	h_register,	3, 0, NULL },
	{ "REHASH",	h_rehash,	0, CMD_REG | CMD_OPER, "rehash" },
	{ "RENAME",	h_rename,	2, CMD_REG, NULL },
	{ "SAJOIN",	h_sajoin,	1, CMD_REG | CMD_OPER, "sajoin" },
	{ "SAMODE",	h_samode,	1, CMD_REG | CMD_OPER, "samode" },
	{ "SANICK",	h_sanick,	2, CMD_REG | CMD_OPER, "samode" },
	{ "SETNAME",	h_setname,	1, CMD_REG, NULL },
	{ "SQUIT",	h_squit,	1, CMD_REG | CMD_OPER, NULL },
	{ "STATS",	h_stats,	1, CMD_REG, NULL },
	{ "TAGMSG",	h_tagmsg,	0, CMD_REG, NULL },
	{ "TIME",	h_time,		0, CMD_REG, NULL },
	{ "TOPIC",	h_topic,	1, CMD_REG, NULL },
	{ "UBAN",	h_uban,		1, CMD_REG | CMD_OPER, "ban" },
	{ "UNDLINE",	h_undline,	1, CMD_REG | CMD_OPER, "ban" },
	{ "UNKLINE",	h_unkline,	1, CMD_REG | CMD_OPER, "ban" },
	{ "USER",	h_user,		4, 0, NULL },
	{ "USERHOST",	h_userhost,	1, CMD_REG, NULL },
	{ "VERIFY",	h_verify,	2, 0, NULL },
	{ "VERSION",	h_version,	0, CMD_REG, NULL },
	{ "WALLOPS",	h_wallops,	1, CMD_REG | CMD_OPER, NULL },
	{ "WEBIRC",	h_webirc,	4, 0, NULL },
	{ "WHO",	h_who,		0, CMD_REG, NULL },
	{ "WHOIS",	h_whois,	1, CMD_REG, NULL },
	{ "WHOWAS",	h_whowas,	1, CMD_REG, NULL },
};

static int
cmd_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct cmd *)elem)->name);
}

static void
dispatch(struct client *c, struct msg *m)
{
	const struct cmd *cmd;

	cmd = bsearch(m->cmd, cmds, sizeof(cmds) / sizeof(cmds[0]),
	    sizeof(cmds[0]), cmd_cmp);
	if (cmd == NULL) {
		if (m->cmd[0] >= '0' && m->cmd[0] <= '9')
			return;		/* numerics from clients: ignore */
		if (c->flags & CF_REG)
			irc_numeric(c, ERR_UNKNOWNCOMMAND,
			    "%s :Unknown command", m->cmd);
		else
			irc_numeric(c, ERR_NOTREGISTERED,
			    ":You have not registered");
		return;
	}
	if ((cmd->flags & CMD_REG) && !(c->flags & CF_REG)) {
		irc_numeric(c, ERR_NOTREGISTERED, ":You have not registered");
		return;
	}
	if (m->nparam < cmd->min) {
		irc_numeric(c, ERR_NEEDMOREPARAMS, "%s :Not enough parameters",
		    cmd->name);
		return;
	}
	if ((cmd->flags & CMD_OPER) && !(c->umodes & UMODE_OPER)) {
		irc_numeric(c, ERR_NOPRIVILEGES,
		    ":Permission Denied- You're not an IRC operator");
		return;
	}
	if (cmd->cap != NULL && !irc_oper_can(c, cmd->cap)) {
		irc_numeric(c, ERR_NOPRIVILEGES, ":Permission Denied");
		return;
	}
	cmd->fn(c, m);
}

/* Bytes of client-only (+) tag data in the tag section [p, end). */
static size_t
client_tags_len(const char *p, const char *end)
{
	size_t n = 0, l;

	while (p < end) {
		const char *e = memchr(p, ';', (size_t)(end - p));

		l = (size_t)((e != NULL ? e : end) - p);
		if (l > 0 && *p == '+')
			n += l + (n > 0);
		p = e != NULL ? e + 1 : end;
	}
	return n;
}

/*
 * A registering client's NICK that another client holds whose
 * connection has input net has not read yet, perhaps its end: the line
 * waits for the next poll over every descriptor (net_conn_retry, once),
 * so a client that closes and at once reconnects gets its nick back
 * though its old connection was quiet, outside the polls of a busy
 * server's passes, when the new one came. rest is the line after its
 * tags, parsed from a copy: a line deferred is offered again as it was.
 */
static bool
nick_wait(struct session *s, const char *rest)
{
	char buf[IRC_LINE_MAX];
	struct client *o;
	struct session *os;
	struct msg m;

	if (s->conn == NULL || (s->user->flags & CF_REG) ||
	    strncasecmp(rest, "NICK ", 5) != 0)
		return false;
	snprintf(buf, sizeof(buf), "%s", rest);
	if (irc_parse(buf, &m) == -1 || m.nparam < 1 ||
	    (o = irc_client_find(m.param[0])) == NULL || o == s->user)
		return false;
	for (os = o->sess; os != NULL; os = os->next)
		if (os->conn != NULL && net_conn_unread(os->conn))
			return net_conn_retry(s->conn);
	return false;
}

static int
session_line(struct session *s, char *line, size_t len)
{
	struct client *c = s->user;
	struct tlist *l;
	struct msg m;
	char *rest;
	uint64_t wait;
	bool utf8;

	if (s->flags & SF_CLOSING)
		return NET_STOP;
	if ((c->flags & CF_REG) && conf->fakelag.enabled &&
	    !(c->flags & CF_FLOODOK) &&
	    (s->fl_granted || !irc_ml_fakelag_exempt(c, line)) &&
	    (wait = fakelag_touch(s)) > 0 &&
	    throttle_add(s, ergo_now_ms + wait))
		return NET_DEFER;
	/* Any line proves the client is alive. */
	s->last_recv_ms = ergo_now_ms;
	/* Opt-in, debug only; passwords and SASL payloads hidden. */
	if (log_wants(LL_DEBUG, "userinput")) {
		char red[RECVQ_MAX + 1];

		log_debug("userinput", "%s %s <- %s", net_conn_ip(s->conn),
		    c->nick[0] ? c->nick : "*",
		    irc_userinput_mask(line, red, sizeof(red)));
	}
	if (c->flags & CF_REG) {
		l = tlist_of(s);
		tlist_del(l, s);
		s->flags &= ~SF_PINGSENT;
		tlist_add(&t_active, s, ergo_now_ms);
	}
	if (strlen(line) != len) {
		/* NUL bytes never pass through to anyone */
		irc_send(c, ":%s FAIL * INVALID_LINE :Line contains a NUL "
		    "byte", conf->server_name);
		return NET_MORE;
	}
	rest = line;
	if (*line == '@') {
		char *sp = strchr(line, ' ');

		if (sp == NULL)
			return NET_MORE;	/* tags, no command: ignore */
		if ((size_t)(sp - line) + 1 > IRC_TAGS_MAX ||
		    client_tags_len(line + 1, sp) > IRC_CLIENT_TAGS_MAX) {
			session_toolong(s);
			return NET_MORE;
		}
		rest = sp + 1;
	}
	if (strlen(rest) > IRC_LINE_MAX - 2) {
		session_toolong(s);
		return NET_MORE;
	}
	if (nick_wait(s, rest))
		return NET_DEFER;
	/* the tags too: a batch reference or a client tag's value is
	 * echoed in replies and relayed to others */
	utf8 = irc_utf8_valid(line, len);
	if (irc_parse(line, &m) == -1)
		return NET_MORE;	/* empty or source-only: ignore */
	irc_label_begin(c, m.tags);
	/* UTF8ONLY: refused, never relayed or repaired (as Ergo does).
	 * A NOTICE too: this is a malformed command, like 412, not an
	 * automatic reply to its text. */
	if (!utf8) {
		irc_fail(c, "FAIL", irc_utf8_valid(m.cmd, strlen(m.cmd)) ?
		    m.cmd : "*", "INVALID_UTF8", ":Message rejected, your "
		    "IRC software MUST use UTF-8 encoding on this network");
		irc_ml_reject(c, &m);	/* a batch without it: none */
	} else if (!irc_ml_line(c, &m))
		dispatch(c, &m);
	/* registration goes on once NICK, USER, CAP END and SASL allow */
	if (!(c->flags & (CF_REG | CF_CLOSING)))
		try_register(c);
	/* s may have attached to another user: its state is what changed */
	irc_user_changed(s->user);
	irc_label_end(c);
	reap();
	/* written before the reply leaves: a reply says it is kept */
	irc_alwayson_sync();
	reap();
	return (s->flags & SF_CLOSING) ? NET_STOP : NET_MORE;
}

/* One line of session s: its user's replies go to s while it runs. */
static int
irc_conn_line(void *arg, char *line, size_t len)
{
	struct session *s = arg;
	struct client *c = s->user;
	int rc;

	irc_out_hold();		/* until irc_tick: see irc_out.c's run */
	c->cur = s;
	rc = session_line(s, line, len);
	c->cur = NULL;
	s->user->cur = NULL;	/* s may have attached to another user */
	irc_cx_trim(s->user);	/* what the command used and let go of */
	irc_sx_trim(s);
	return rc;
}

/* ---- registration ---- */

/* Whether a client logged in to o's account may attach to user o. */
static bool
multiclient_target(const struct client *o)
{
	int mc = o->ext->acset.multiclient;

	return conf->accounts.mc_enabled && (mc == MC_ON ||
	    (mc == MC_DEFAULT && conf->accounts.mc_default)) &&
	    (o->flags & CF_REG) && !(o->flags & CF_CLOSING) &&
	    o->account != NULL;
}

/*
 * Multiclient: c, not registered, logged in to the account of user u
 * and asking for its nick, becomes a session of u. c's own state goes
 * (nothing of it was seen); the session gets u's welcome, modes and
 * channels as if it had joined them, and nobody else sees a thing.
 */
static void
session_attach(struct client *c, struct client *u)
{
	struct session *s = c->sess;
	struct member *mb;
	struct msg m;
	char nick[NICKLEN_MAX + 1];
	bool missed = u->sess == NULL && u->always_on &&
	    u->ext->acset.autoreplay_missed == SET_ON;

	tlist_del(&t_unreg, s);
	throttle_del(s);
	irc_nick_unset(c);		/* an attach by account: its own nick */
	IRC_HOOK_RUN(client_free, c);	/* c's own login, markers, ... */
	c->sess = NULL;			/* a shell, freed at the next tick */
	c->flags |= CF_CLOSING | CF_SHELL;
	c->gnext = graveyard;
	graveyard = c;
	irc.nunknown--;
	s->user = u;
	s->next = u->sess;
	u->sess = s;
	irc_user_dv_stale(u);
	u->cur = s;
	tlist_add(&t_active, s, ergo_now_ms);
	log_info("connect", "%s: a session attached (%u sessions)",
	    irc_prefix(u), irc_user_sessions(u));
	irc_send_welcome(u);
	memset(&m, 0, sizeof(m));	/* its modes: 221, as MODE nick says */
	m.cmd = "MODE";
	snprintf(nick, sizeof(nick), "%s", u->nick);
	m.param[0] = nick;
	m.nparam = 1;
	h_mode(u, &m);
	for (mb = u->chans; mb != NULL; mb = mb->unext) {
		irc_send(u, ":%s JOIN %s", irc_prefix(u), mb->ch->name);
		m.param[0] = mb->ch->name;
		if (mb->ch->topic != NULL) {
			m.cmd = "TOPIC";
			h_topic(u, &m);
		}
		m.cmd = "NAMES";
		h_names(u, &m);
	}
	irc_metadata_registered(u);	/* its keys, its channels' */
	/* SET AUTOREPLAY-MISSED: what came while nobody was attached */
	if (missed)
		irc_hist_missed(u, u->ext->last_seen_ms,
		    u->ext->acset.autoreplay_lines >= 0 ?
		    (size_t)u->ext->acset.autoreplay_lines :
		    conf->history.maxmessages,
		    u->ext->acset.replay_joins == RJ_ALWAYS);
	irc_alwayson_attached(u);	/* back from auto-away */
}

/*
 * Whether c may attach to user o as one more session: under
 * max-sessions; else c is told why and waits for another NICK.
 */
static bool
session_room(struct client *c, struct client *o)
{
	if (irc_user_sessions(o) < conf->accounts.max_sessions)
		return true;
	irc_fail(c, "FAIL", "NICK", "TOO_MANY_SESSIONS", "%s :Too many "
	    "clients are attached to this account (max-sessions %u)",
	    o->nick, conf->accounts.max_sessions);
	return false;
}

static void
try_register(struct client *c)
{
	struct client *o;
	char nick[NICKLEN_MAX + 1];
	const char *shown;
	bool refused;

	if ((c->flags & CF_REG) || !(c->flags & CF_NICK) ||
	    !(c->flags & CF_USER) || (irc_sess(c)->flags & SF_CAPNEG))
		return;
	/* NICK, USER and CAP END are all in: an unfinished AUTHENTICATE
	 * is abandoned (906) and the client registers without it */
	irc_sasl_abort(c);
	if (conf->password != NULL && !(c->flags & CF_PASS)) {
		irc_numeric(c, ERR_PASSWDMISMATCH, ":Password incorrect");
		irc_user_kill(c, "Bad password", "Bad password");
		return;
	}
	if (irc_bans_check(c))	/* K-lined or D-lined: 465, gone */
		return;
	/* the account's always-on user: attached whatever nick c asked */
	if (c->account_id != 0 && (o = irc_alwayson_user(c->account_id)) !=
	    NULL && o != c) {
		if (!session_room(c, o)) {
			irc_user_kill(c, "Too many sessions",
			    "Too many clients attached to this account");
			return;
		}
		c->flags &= ~CF_ATTACH;
		session_attach(c, o);
		return;
	}
	if (c->flags & CF_ATTACH) {	/* NICK named a user of an account */
		c->flags &= ~CF_ATTACH;
		snprintf(nick, sizeof(nick), "%s", c->nick);
		if ((o = irc_client_find(nick)) != NULL && o != c) {
			if (multiclient_target(o) && c->account_id != 0 &&
			    c->account_id == o->account_id) {
				if (!session_room(c, o)) {
					irc_user_kill(c, "Too many sessions",
					    "Too many clients attached to "
					    "this account");
					return;
				}
				session_attach(c, o);
				return;
			}
			c->flags &= ~CF_NICK;	/* waits for another NICK */
			if (irc_user_set_names(c, "", NULL, NULL, NULL) == -1)
				irc_user_kill(c, "Out of memory",
				    "Out of memory");
			irc_numeric(c, ERR_NICKNAMEINUSE,
			    "%s :Nickname is already in use", nick);
			return;
		}
		if (irc_nick_set(c, nick) == -1) {	/* its user left */
			irc_user_kill(c, "Out of memory", "Out of memory");
			return;
		}
	}
	/* strict nick enforcement, once SASL said who c is: 433 says *
	 * as the current nick, and c waits for another NICK */
	snprintf(nick, sizeof(nick), "%s", c->nick);
	shown = c->nick;	/* c's names block: nothing below changes it */
	c->nick = "";
	refused = irc_serv_nick_refused(c, nick);
	c->nick = shown;
	if (refused) {
		irc_nick_unset(c);
		c->flags &= ~CF_NICK;
		return;
	}
	/* accounts { default-user-modes +i } */
	if (conf->accounts.default_umodes && !(c->umodes & UMODE_INVISIBLE)) {
		c->umodes |= UMODE_INVISIBLE;
		irc.ninvisible++;
	}
	tlist_del(&t_unreg, c->sess);
	c->flags |= CF_REG;
	tlist_add(&t_active, c->sess, ergo_now_ms);
	irc.nunknown--;
	irc.nusers++;
	if (irc.nusers > irc.max_users)
		irc.max_users = irc.nusers;
	log_info("connect", "registered %s", irc_prefix(c));
	irc_sno('c', "Client connected [%s] [u:%s] [h:%s] [ip:%s] [r:%s]",
	    c->nick, c->user, c->host, irc_client_ip(c) != NULL ?
	    irc_client_ip(c) : c->host, c->realname != NULL ? c->realname : "");
	irc_serv_nick_check(c);		/* a reserved nick? */
	irc_send_welcome(c);
	irc_metadata_registered(c);
	irc_monitor_online(c);
	IRC_HOOK_RUN(registered, c);	/* server links: the network hears */
}

static void
h_pass(struct client *c, struct msg *m)
{
	if (c->flags & CF_REG) {
		irc_numeric(c, ERR_ALREADYREGISTERED,
		    ":You may not reregister");
		return;
	}
	if (conf->password == NULL)
		return;
	if (conf_passwd_verify(conf->password, m->param[0]))
		c->flags |= CF_PASS;
	else {
		irc_numeric(c, ERR_PASSWDMISMATCH, ":Password incorrect");
		irc_user_kill(c, "Bad password", "Bad password");
	}
}

static void
h_nick(struct client *c, struct msg *m)
{
	struct client *o;
	const char *nick;

	if (m->nparam < 1 || m->param[0][0] == '\0') {
		irc_numeric(c, ERR_NONICKNAMEGIVEN, ":No nickname given");
		return;
	}
	nick = m->param[0];
	if (!irc_nick_valid(nick) || irc_nick_reserved(nick)) {
		irc_numeric(c, ERR_ERRONEUSNICKNAME, "%s :Erroneous nickname",
		    nick);
		return;
	}
	if (strcmp(nick, c->nick) == 0)
		return;
	if ((o = irc_client_find(nick)) != NULL && o != c) {
		if (!(c->flags & CF_REG) && multiclient_target(o)) {
			/* perhaps its own account's user: registration
			 * decides, once SASL has said who c is */
			if (irc_user_set_names(c, nick, NULL, NULL, NULL) ==
			    -1)
				irc_user_kill(c, "Out of memory",
				    "Out of memory");
			else
				c->flags |= CF_NICK | CF_ATTACH;
			return;
		}
		irc_numeric(c, ERR_NICKNAMEINUSE,
		    "%s :Nickname is already in use", nick);
		return;
	}
	if ((o = irc_client_confusable(nick)) != NULL && o != c) {
		/* casemapping precis: it looks like o's (Ergo's skeleton) */
		irc_numeric(c, ERR_NICKNAMEINUSE,
		    "%s :Nickname is already in use", nick);
		return;
	}
	if (!(c->flags & CF_REG)) {
		c->flags &= ~CF_ATTACH;
		if (irc_nick_set(c, nick) == -1)
			irc_user_kill(c, "Out of memory", "Out of memory");
		else
			c->flags |= CF_NICK;	/* registers after the command */
		return;
	}
	if (irc_serv_nick_refused(c, nick))	/* strict enforcement */
		return;
	if (irc_user_rename(c, nick) == -1)
		irc_user_kill(c, "Out of memory", "Out of memory");
}

#define IDENT_BUF	64

/* Keeps the characters a user@host part may hold, into buf. */
static void
user_clean(char buf[IDENT_BUF], const char *in)
{
	size_t i, n = 0, max = conf->limits.identlen;

	if (max > IDENT_BUF - 2)
		max = IDENT_BUF - 2;
	buf[n++] = '~';
	for (i = 0; in[i] != '\0' && n < max + 1; i++) {
		char ch = in[i];
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || strchr("-._[]{}\\`^|", ch))
			buf[n++] = ch;
	}
	if (n == 1)
		buf[n++] = 'u';
	buf[n] = '\0';
}

static void
h_user(struct client *c, struct msg *m)
{
	char user[IDENT_BUF];

	if (c->flags & (CF_REG | CF_USER)) {
		irc_numeric(c, ERR_ALREADYREGISTERED,
		    ":You may not reregister");
		return;
	}
	if (m->param[3][0] == '\0') {	/* as Ergo: a realname is needed */
		irc_numeric(c, ERR_NEEDMOREPARAMS, "USER :Not enough parameters");
		return;
	}
	irc_utf8_trunc(m->param[3], conf->limits.realnamelen);
	user_clean(user, m->param[0]);
	if (irc_user_set_names(c, NULL, user, NULL, m->param[3]) == -1) {
		irc_user_kill(c, "Out of memory", "Out of memory");
		return;
	}
	c->flags |= CF_USER;	/* registers after the command */
}

/* ---- welcome ---- */


static void
irc_send_welcome(struct client *c)
{
	irc_numeric(c, RPL_WELCOME, ":Welcome to the %s IRC Network %s",
	    conf->network_name, irc_prefix(c));
	irc_numeric(c, RPL_YOURHOST, ":Your host is %s, running version %s",
	    conf->server_name, ERGO_VERSION);
	irc_numeric(c, RPL_CREATED, ":This server was created %s", created);
	irc_numeric(c, RPL_MYINFO, "%s %s BRTiorswZ CIMRUabefhiklmnopqstuv Iabefhkloqv",
	    conf->server_name, ERGO_VERSION);
	irc_send_isupport(c);
	irc_send_lusers(c);
	irc_send_motd(c);
	if (c->umodes)
		irc_send(c, ":%s MODE %s :+%s%s%s", c->nick, c->nick,
		    (c->umodes & UMODE_INVISIBLE) ? "i" : "",
		    (c->umodes & UMODE_REGISTERED) ? "r" : "",
		    (c->umodes & UMODE_TLS) ? "Z" : "");
}

/* ---- PING PONG QUIT ---- */

static void
h_ping(struct client *c, struct msg *m)
{
	if (m->nparam < 1 || m->param[0][0] == '\0') {
		irc_numeric(c, ERR_NOORIGIN, ":No origin specified");
		return;
	}
	irc_send(c, ":%s PONG %s :%s", conf->server_name, conf->server_name,
	    m->param[0]);
}

static void
h_pong(struct client *c, struct msg *m)
{
	(void)c;
	(void)m;	/* irc_conn_line already counted it as activity */
}

static void
h_quit(struct client *c, struct msg *m)
{
	char reason[IRC_LINE_MAX];

	snprintf(reason, sizeof(reason), "Quit: %s",
	    m->nparam > 0 ? m->param[0] : "");
	irc_utf8_trunc(reason, 6 + conf->limits.kicklen);
	/* multiclient: only this session goes, unless it is the last */
	irc_session_kill(irc_sess(c), reason, "Closing link (Quit)");
}

/* ---- PRIVMSG / NOTICE / TAGMSG ---- */

enum { MSG_PRIVMSG, MSG_NOTICE, MSG_TAGMSG };

/*
 * A NOTICE never draws an automatic reply (RFC 2812 3.3.2), so its
 * per-target errors (401 403 404) and RPL_AWAY are not sent; malformed
 * commands (411 412 407) still are. Each target's line is one event:
 * formatted once, tagged once per capability variant among its
 * recipients (msgid, time, account, bot, the sender's client-only tags);
 * a sender with echo-message gets it back, labeled if it asked.
 */
static void
message(struct client *c, struct msg *m, const char *cmd, int kind)
{
	char *targets, *t, *save = NULL;
	char ctags[IRC_TAGS_MAX + 1];
	const char *text = "";
	bool notice = kind == MSG_NOTICE;
	unsigned n = 1;

	if (m->nparam < 1 || m->param[0][0] == '\0') {
		irc_numeric(c, ERR_NORECIPIENT, ":No recipient given (%s)",
		    cmd);
		return;
	}
	if (kind != MSG_TAGMSG && (m->nparam < 2 || m->param[1][0] == '\0')) {
		irc_numeric(c, ERR_NOTEXTTOSEND, ":No text to send");
		return;
	}
	targets = m->param[0];
	if (kind != MSG_TAGMSG)
		text = m->param[1];
	for (t = targets; *t != '\0'; t++)
		if (*t == ',')
			n++;
	if (n > conf->limits.targmax) {
		irc_numeric(c, ERR_TOOMANYTARGETS, "%s :Too many targets. "
		    "The maximum is %u", targets, conf->limits.targmax);
		return;
	}
	/* client-only tags are taken from clients that speak message-tags */
	ctags[0] = '\0';
	if (m->tags != NULL && (irc_sess(c)->caps & CAP_MESSAGE_TAGS))
		irc_tags_client(m->tags, ctags, sizeof(ctags));
	if (kind != MSG_TAGMSG)
		c->last_msg = ergo_now;
	for (t = strtok_r(targets, ",", &save); t != NULL;
	    t = strtok_r(NULL, ",", &save)) {
		unsigned char need = 0;
		const char *name = t;
		struct irc_ev ev;
		struct chan *ch;
		struct client *to;

		/* STATUSMSG: @#chan reaches ops and up, +#chan voices
		 * and up, and so on for ~ & % */
		if (irc_memb_symbol(*name) != 0) {
			need = MEMB_ATLEAST(irc_memb_symbol(*name));
			name++;
		}
		if (*name == '#' || *name == '&') {
			if ((ch = irc_chan_find(name)) == NULL) {
				if (!notice)
					irc_numeric(c, ERR_NOSUCHCHANNEL,
					    "%s :No such channel", name);
				continue;
			}
			if (!irc_user_may_send_chan(c, ch, text, notice,
			    &need))
				continue;
			if (kind == MSG_TAGMSG)
				irc_ev_init(&ev, c, true, ":%s TAGMSG %s",
				    irc_prefix(c), t);
			else
				irc_ev_init(&ev, c, true, ":%s %s %s :%s",
				    irc_prefix(c), cmd, t, text);
			ev.ctags = ctags;
			if (kind == MSG_TAGMSG)
				ev.need = CAP_MESSAGE_TAGS;
			if (need != 0)	/* STATUSMSG: @#chan, +#chan */
				irc_ev_chan_status(&ev, ch, c, need);
			else
				irc_ev_chan(&ev, ch, c);
			irc_ev_echo(&ev, c);
			if (need == 0)
				irc_ev_message(&ev, c, ch, NULL, cmd, text);
			else	/* to the other servers' members of need */
				IRC_HOOK_RUN(status_message, c, ch,
				    name != t ? *t : '\0', need, cmd, text,
				    &ev);
			irc_ev_done(&ev);
			continue;
		}
		if (need == 0 && kind == MSG_PRIVMSG &&
		    strcasecmp(name, "*playback") == 0) {
			irc_hist_playback(c, text);	/* znc.in/playback */
			continue;
		}
		if (need == 0 && kind != MSG_TAGMSG &&
		    irc_serv_message(c, name, text, notice))
			continue;	/* NickServ */
		if (need != 0 || (to = irc_client_find(name)) == NULL ||
		    !(to->flags & CF_REG)) {
			if (!notice)
				irc_numeric(c, ERR_NOSUCHNICK,
				    "%s :No such nick/channel", name);
			continue;
		}
		if (!irc_user_may_send_user(c, to, text, notice))
			continue;
		if (kind == MSG_TAGMSG)
			irc_ev_init(&ev, c, true, ":%s TAGMSG %s",
			    irc_prefix(c), to->nick);
		else
			irc_ev_init(&ev, c, true, ":%s %s %s :%s",
			    irc_prefix(c), cmd, to->nick, text);
		ev.ctags = ctags;
		if (kind == MSG_TAGMSG)
			ev.need = CAP_MESSAGE_TAGS;
		/* to oneself: the delivered copy is no reply, the echo is */
		if (to == c)
			irc_ev_send_unlabeled(&ev, to);
		else
			irc_ev_send(&ev, to);
		irc_ev_echo(&ev, c);
		irc_ev_message(&ev, c, NULL, to, cmd, text);
		irc_ev_done(&ev);
		if (kind == MSG_PRIVMSG && to->ext->away != NULL)
			irc_numeric(c, RPL_AWAY, "%s :%s", to->nick,
			    to->ext->away);
	}
}

static void
h_privmsg(struct client *c, struct msg *m)
{
	message(c, m, "PRIVMSG", MSG_PRIVMSG);
}

static void
h_notice(struct client *c, struct msg *m)
{
	message(c, m, "NOTICE", MSG_NOTICE);
}

static void
h_tagmsg(struct client *c, struct msg *m)
{
	message(c, m, "TAGMSG", MSG_TAGMSG);
}

/* SETNAME :realname (IRCv3 setname) */
static void
h_setname(struct client *c, struct msg *m)
{
	const char *text = m->param[0];

	if (text[0] == '\0' || strlen(text) > conf->limits.realnamelen) {
		irc_fail(c, "FAIL", "SETNAME", "INVALID_REALNAME",
		    ":Realname is not valid");
		return;
	}
	if (irc_user_set_names(c, NULL, NULL, NULL, text) == -1) {
		irc_fail(c, "FAIL", "SETNAME", "CANNOT_CHANGE_REALNAME",
		    ":Out of memory");
		return;
	}
	irc_peers_cap_send(c, true, CAP_SETNAME, ":%s SETNAME :%s",
	    irc_prefix(c), c->realname);
}

/* ---- timers ---- */

/*
 * After the pass's output went out: the persistent history's batched
 * writes (and expiry) wait on the disk, and the lines of this pass must
 * not wait behind them.
 */
void
irc_tick_late(void)
{
	irc_hist_tick();
}

void
irc_tick(void)
{
	struct client *c;
	struct session *s;
	uint64_t now = ergo_now_ms;
	char reason[64];

	irc_out_release();	/* what fan-out held back, before anything */
	irc_serv_tick();	/* reserved nicks; before the graveyard goes */
	irc_bans_tick();	/* K/D-lines that expired */
	irc_link_tick();	/* server links: PINGs, autoconnect */
	irc_alwayson_tick();	/* always-on-expiration */
	irc_mail_tick();	/* sendmail programs: fed, reaped, answered */
	reap();
	irc_alwayson_sync();	/* what the timers and closed connections changed */
	reap();
	while ((c = graveyard) != NULL) {
		graveyard = c->gnext;
		client_free(c);
	}
	while ((s = sgraveyard) != NULL) {
		sgraveyard = s->next;
		session_free(s);
	}
	while ((s = throttled) != NULL && s->x->fl_next_ms <= now) {
		throttle_del(s);
		s->fl_granted = true;
		if (s->conn != NULL)
			net_conn_resume(s->conn);
	}
	while ((s = t_unreg.head) != NULL &&
	    s->tstamp_ms + conf->reg_timeout * 1000ULL <= now)
		client_kill(s->user, "Registration timed out",
		    "Registration timed out");
	while ((s = t_active.head) != NULL &&
	    s->tstamp_ms + conf->idle_timeout * 1000ULL <= now) {
		tlist_del(&t_active, s);
		s->flags |= SF_PINGSENT;
		tlist_add(&t_pinged, s, now);
		s->user->cur = s;	/* this session's, not the user's */
		irc_send(s->user, "PING :%s", conf->server_name);
		s->user->cur = NULL;
	}
	while ((s = t_pinged.head) != NULL &&
	    s->tstamp_ms + conf->ping_timeout * 1000ULL <= now) {
		snprintf(reason, sizeof(reason), "Ping timeout: %u seconds",
		    conf->idle_timeout + conf->ping_timeout);
		irc_session_kill(s, reason, reason);
		reap();
	}
}

int
irc_next_timer_ms(void)
{
	uint64_t best;
	int h = irc_hist_next_ms(), t, m = irc_mail_next_ms();

	if (graveyard != NULL || sgraveyard != NULL)
		return 0;
	if (m >= 0 && (h < 0 || m < h))
		h = m;
	if (throttled == NULL)
		return h;
	best = throttled->x->fl_next_ms;
	t = best <= ergo_now_ms ? 0 : (int)(best - ergo_now_ms);
	return h >= 0 && h < t ? h : t;
}

const struct net_handlers irc_net_handlers = {
	irc_conn_open, irc_conn_line, irc_conn_toolong, irc_conn_closed
};

/* ---- server links: their lines go to the link family ---- */

static void *
link_open(struct conn *conn)
{
	if (irc_bans_conn_refused(conn))	/* D-lined: ERROR, closed */
		return NULL;
	return irc_link_open(conn);
}

/* A server's line may end users (KILL, QUIT, a split): reaped after. */
static int
link_line(void *arg, char *line, size_t len)
{
	int rc = irc_link_line(arg, line, len);

	reap();
	return rc;
}

static void
link_closed(void *arg, const char *reason)
{
	irc_link_closed(arg, reason);
	reap();
}

const struct net_handlers irc_link_net_handlers = {
	link_open, link_line, irc_link_toolong, link_closed
};

void
irc_init(int (*rehash)(char **errs))
{
	struct tm tm;
	size_t i;

	for (i = 1; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i - 1].name, cmds[i].name) >= 0)
			fatalx("command table: %s before %s: bsearch needs "
			    "it sorted", cmds[i - 1].name, cmds[i].name);
	irc.defcon = 5;
	irc_help_init();
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (!irc_help_exists(cmds[i].name))
			fatalx("command table: %s has no help entry in "
			    "irc_help.c", cmds[i].name);
	irc.rehash = rehash;
	htab_init(&irc.nicks);
	htab_init(&irc.chans);
	irc_out_init();
	/* each feature's hooks: the order here is the order they run;
	 * links first, so a JOIN reaches them before ChanServ's MODE */
	irc_link_init();
	irc_link_user_init();
	irc_link_chan_init();
	irc_link_msg_init();
	irc_link_ban_init();
	irc_link_svc_init();
	irc_chan_init();
	irc_serv_init();
	irc_chanserv_init();
	irc_hostserv_init();
	irc_histserv_init();
	irc_nsadmin_init();
	irc_monitor_init();
	irc_hist_init();
	irc_chathistory_init();
	irc_markread_init();
	irc_metadata_init();
	irc_rename_init();
	irc_ml_init();
	irc_sasl_init();
	irc_account_init();
	irc_mail_init();
	irc_alwayson_init();
	irc_bans_init();
	irc.started = ergo_now;
	(void)irc_cloak_init();	/* logged; never off while enabled */
	gmtime_r(&ergo_now, &tm);
	strftime(created, sizeof(created), "%a %b %d %Y at %H:%M:%S UTC", &tm);
	irc_motd_load();
	irc_hist_load();	/* history.persistent */
	/* before the loop's first poll accepts anyone */
	irc_alwayson_restore();
}

void
irc_rehashed(const struct conf *old)
{
	irc_out_rehashed();
	(void)irc_cloak_init();	/* new clients only: nobody's host changes */
	irc_motd_load();
	irc_link_rehashed();
	irc_hist_flush();	/* before persistent may have been turned off */
	if (old != NULL)
		irc_cap_notify_rehash(old);
}

void
irc_shutdown(void)
{
	irc_tick();	/* free the graveyard */
	irc_mail_shutdown();
	irc_hist_flush();
	irc_whowas_free();
}
