/*
 * irc.c: the protocol core: message parsing, the command table and
 * dispatch, registration (PASS NICK USER CAP), PING/PONG, QUIT, PRIVMSG
 * and NOTICE, replies and fan-out, fakelag and client timeouts.
 * Never touches a socket or SQL: output goes through net_conn_send.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "irc.h"

struct ircstate irc;

/* Timeout lists, each FIFO by its own key (tstamp_ms). */
struct tlist {
	struct client	*head, *tail;
};
static struct tlist	 t_unreg;	/* by connect time */
static struct tlist	 t_active;	/* registered, by last line */
static struct tlist	 t_pinged;	/* registered, by PING time */
/* Fakelag holds their input; ordered by fl_next_ms, soonest first. */
static struct client	*throttled, *throttled_tail;
static struct client	*graveyard;	/* exited this pass */
static uint32_t		 mark_gen;
static char		 created[64];

/* ---- parsing ---- */

/*
 * RFC 1459 / IRCv3 message grammar: ['@' tags SP] [':' source SP]
 * command *(SP param) [SP ':' trailing]. Runs of spaces separate; the
 * 15th parameter takes the rest of the line.
 */
int
irc_parse(char *line, struct msg *m)
{
	char *p = line, *q;

	memset(m, 0, sizeof(*m));
	/* Leading spaces are skipped before the tags too: otherwise
	 * "  @x CMD" would make "@X" a command (found by fuzz_parse). */
	while (*p == ' ')
		p++;
	if (*p == '@') {
		m->tags = ++p;
		if ((p = strchr(p, ' ')) == NULL)
			return -1;
		*p++ = '\0';
	}
	while (*p == ' ')
		p++;
	if (*p == ':') {
		m->source = ++p;
		if ((p = strchr(p, ' ')) == NULL)
			return -1;
		*p++ = '\0';
		while (*p == ' ')
			p++;
	}
	if (*p == '\0')
		return -1;
	m->cmd = p;
	while (*p != '\0' && *p != ' ') {
		if (*p >= 'a' && *p <= 'z')
			*p -= 32;
		p++;
	}
	for (;;) {
		while (*p == ' ')
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (*p == ':' || m->nparam == IRC_PARAMS_MAX - 1) {
			m->param[m->nparam++] = *p == ':' ? p + 1 : p;
			break;
		}
		m->param[m->nparam++] = p;
		if ((q = strchr(p, ' ')) == NULL)
			break;
		p = q;
	}
	return 0;
}

/* ---- output ---- */

/*
 * Formats one line into buf with CRLF. An overlong line is cut at 510
 * bytes, never inside a UTF-8 sequence.
 */
size_t
irc_vformat(char *buf, size_t sz, const char *fmt, va_list ap)
{
	int n;
	size_t len, max = (sz < IRC_LINE_MAX ? sz : IRC_LINE_MAX) - 2;

	n = vsnprintf(buf, sz, fmt, ap);
	len = n < 0 ? 0 : (size_t)n;
	if (len >= sz)
		len = sz - 1;	/* vsnprintf kept this much */
	len = irc_utf8_cut(buf, len, max);
	buf[len++] = '\r';
	buf[len++] = '\n';
	return len;
}

static size_t
fmt_line(char *buf, size_t sz, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = irc_vformat(buf, sz, fmt, ap);
	va_end(ap);
	return n;
}

void
irc_send_raw(struct client *c, const char *line, size_t len)
{
	if (c->conn == NULL || (c->flags & CF_CLOSING))
		return;
	if (log_wants(LL_DEBUG, "useroutput"))
		log_debug("useroutput", "%s %s -> %.*s", net_conn_ip(c->conn),
		    c->nick[0] ? c->nick : "*", (int)(len > 2 ? len - 2 : 0),
		    line);
	net_conn_send(c->conn, line, len);
}

void
irc_send(struct client *c, const char *fmt, ...)
{
	char buf[IRC_LINE_MAX + 1];
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = irc_vformat(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	irc_send_raw(c, buf, n);
}

void
irc_numeric(struct client *c, int num, const char *fmt, ...)
{
	char buf[IRC_LINE_MAX + 1];
	va_list ap;
	size_t n;
	int hl;

	hl = snprintf(buf, sizeof(buf), ":%s %03d %s ", conf->server_name,
	    num, c->nick[0] ? c->nick : "*");
	if (hl < 0 || (size_t)hl >= sizeof(buf) - 3)
		return;
	va_start(ap, fmt);
	n = irc_vformat(buf + hl, sizeof(buf) - (size_t)hl, fmt, ap);
	va_end(ap);
	n += (size_t)hl;
	if (n > IRC_LINE_MAX) {		/* header ate into the budget */
		n = irc_utf8_cut(buf, n, IRC_LINE_MAX - 2);
		buf[n++] = '\r';
		buf[n++] = '\n';
	}
	irc_send_raw(c, buf, n);
}

const char *
irc_prefix(const struct client *c)
{
	static char buf[NICKLEN_MAX + 256];

	snprintf(buf, sizeof(buf), "%s!%s@%s", c->nick[0] ? c->nick : "*",
	    c->user ? c->user : "*", c->host);
	return buf;
}

void
irc_chan_send(struct chan *ch, struct client *except, const char *fmt, ...)
{
	char buf[IRC_LINE_MAX + 1];
	struct member *m;
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = irc_vformat(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (m = ch->members; m != NULL; m = m->cnext)
		if (m->c != except)
			irc_send_raw(m->c, buf, n);
}

void
irc_peers_send(struct client *c, bool self, const char *fmt, ...)
{
	char buf[IRC_LINE_MAX + 1];
	struct member *um, *m;
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = irc_vformat(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* Each peer once, however many channels it shares with c. */
	if (++mark_gen == 0)
		mark_gen = 1;
	c->mark = mark_gen;
	if (self)
		irc_send_raw(c, buf, n);
	for (um = c->chans; um != NULL; um = um->unext)
		for (m = um->ch->members; m != NULL; m = m->cnext)
			if (m->c->mark != mark_gen) {
				m->c->mark = mark_gen;
				irc_send_raw(m->c, buf, n);
			}
}

/* ---- timeout lists ---- */

static struct tlist *
tlist_of(const struct client *c)
{
	if (!(c->flags & CF_REG))
		return &t_unreg;
	return (c->flags & CF_PINGSENT) ? &t_pinged : &t_active;
}

static void
tlist_del(struct tlist *l, struct client *c)
{
	if (c->tprev != NULL)
		c->tprev->tnext = c->tnext;
	else
		l->head = c->tnext;
	if (c->tnext != NULL)
		c->tnext->tprev = c->tprev;
	else
		l->tail = c->tprev;
	c->tnext = c->tprev = NULL;
}

static void
tlist_add(struct tlist *l, struct client *c, uint64_t stamp)
{
	c->tstamp_ms = stamp;
	c->tnext = NULL;
	c->tprev = l->tail;
	if (l->tail != NULL)
		l->tail->tnext = c;
	else
		l->head = c;
	l->tail = c;
}

static void
throttle_del(struct client *c)
{
	if (!(c->flags & CF_THROTTLED))
		return;
	c->flags &= ~CF_THROTTLED;
	if (c->flprev != NULL)
		c->flprev->flnext = c->flnext;
	else
		throttled = c->flnext;
	if (c->flnext != NULL)
		c->flnext->flprev = c->flprev;
	else
		throttled_tail = c->flprev;
	c->flnext = c->flprev = NULL;
}

/*
 * Holds c's input until fl_next_ms. Every wait is at most one fakelag
 * interval from now, so a new entry belongs at or near the tail: the
 * walk back is short, and the timers only ever look at the head.
 */
static void
throttle_add(struct client *c, uint64_t next_ms)
{
	struct client *p;

	throttle_del(c);
	c->fl_next_ms = next_ms;
	for (p = throttled_tail; p != NULL && p->fl_next_ms > next_ms;
	    p = p->flprev)
		;
	c->flprev = p;
	c->flnext = p != NULL ? p->flnext : throttled;
	if (c->flnext != NULL)
		c->flnext->flprev = c;
	else
		throttled_tail = c;
	if (p != NULL)
		p->flnext = c;
	else
		throttled = c;
	c->flags |= CF_THROTTLED;
}

/* ---- clients ---- */

struct client *
irc_client_find(const char *nick)
{
	char key[NICKLEN_MAX + 1];
	struct hent *e;

	irc_fold(key, nick, sizeof(key));
	if ((e = htab_get(&irc.nicks, key)) == NULL)
		return NULL;
	return (struct client *)((char *)e - offsetof(struct client, h));
}

void *
irc_conn_open(struct conn *conn)
{
	struct client *c;
	const char *ip = net_conn_ip(conn);
	size_t n = strlen(ip);

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->host = malloc(n + 2)) == NULL) {
		free(c);
		return NULL;
	}
	/* "::1" would read as a trailing parameter in a prefix */
	snprintf(c->host, n + 2, "%s%s", ip[0] == ':' ? "0" : "", ip);
	c->conn = conn;
	c->signon = ergo_now;
	c->last_msg = ergo_now;
	c->capver = 301;
	c->last_recv_ms = ergo_now_ms;
	if (net_conn_tls(conn))
		c->umodes |= UMODE_TLS;
	tlist_add(&t_unreg, c, ergo_now_ms);
	irc.nunknown++;
	return c;
}

static void
nick_unset(struct client *c)
{
	if (c->h.key == NULL)
		return;
	htab_del(&irc.nicks, &c->h);
	free(c->h.key);
	c->h.key = NULL;
}

/* Sets c's nick and its hash entry; 0, or -1 on ENOMEM. */
static int
nick_set(struct client *c, const char *nick)
{
	char key[NICKLEN_MAX + 1], *k;

	irc_fold(key, nick, sizeof(key));
	if ((k = xstrdup(key)) == NULL)
		return -1;
	nick_unset(c);
	c->h.key = k;
	if (htab_put(&irc.nicks, &c->h) == -1) {
		free(k);
		c->h.key = NULL;
		return -1;
	}
	snprintf(c->nick, sizeof(c->nick), "%s", nick);
	return 0;
}

/*
 * Ends a client: QUIT to everyone sharing a channel, a WHOWAS entry,
 * removal from every table. The struct itself is freed at the next tick
 * so handlers still holding the pointer this pass stay safe.
 */
void
irc_client_exit(struct client *c, const char *quitmsg, const char *error)
{
	if (c->flags & CF_CLOSING)
		return;
	if (c->flags & CF_REG) {
		log_info("connect", "%s quit: %s", irc_prefix(c), quitmsg);
		irc_peers_send(c, false, ":%s QUIT :%s", irc_prefix(c),
		    quitmsg);
		irc_whowas_add(c);
		irc_chan_part_all(c);
		irc.nusers--;
		if (c->umodes & UMODE_INVISIBLE)
			irc.ninvisible--;
		if (c->umodes & UMODE_OPER)
			irc.nopers--;
	} else
		irc.nunknown--;
	c->flags |= CF_CLOSING;
	tlist_del(tlist_of(c), c);
	throttle_del(c);
	nick_unset(c);
	if (c->conn != NULL) {
		char err[IRC_LINE_MAX];

		/* "ERROR :" + error + CRLF in 512 bytes, cut between characters */
		if (error != NULL) {
			snprintf(err, sizeof(err), "%s", error);
			irc_utf8_trunc(err, IRC_LINE_MAX - 9);
		}
		net_conn_close(c->conn, error != NULL ? err : NULL);
		c->conn = NULL;
	}
	c->gnext = graveyard;
	graveyard = c;
}

static void
client_free(struct client *c)
{
	free(c->user);
	free(c->host);
	free(c->realname);
	free(c->away);
	free(c->oper_class);
	irc_account_client_free(c);
	free(c);
}

void
irc_conn_closed(void *arg, const char *reason)
{
	struct client *c = arg;

	c->conn = NULL;		/* net is done with it */
	irc_client_exit(c, reason, NULL);
}

void
irc_conn_toolong(void *arg)
{
	irc_numeric(arg, ERR_INPUTTOOLONG, ":Input line was too long");
}

/* ---- fakelag (Ergo's algorithm) ---- */

/* 0 if the line may run now, else milliseconds to hold it. */
static uint64_t
fakelag_touch(struct client *c)
{
	int64_t elapsed;
	uint64_t interval;

	if (c->fl_granted) {
		c->fl_granted = false;
		return 0;
	}
	elapsed = (int64_t)ergo_now_ms - (int64_t)c->fl_last;
	c->fl_last = ergo_now_ms;
	if (!c->fl_throttled) {
		if (elapsed > (int64_t)conf->fakelag.cooldown_ms)
			c->fl_count = 0;
		if (++c->fl_count <= conf->fakelag.burst_limit)
			return 0;
		c->fl_count = 0;
		c->fl_throttled = true;
	}
	if (elapsed > (int64_t)conf->fakelag.cooldown_ms) {
		c->fl_throttled = false;
		c->fl_count = 1;
		return 0;
	}
	interval = conf->fakelag.messages_per_window ?
	    conf->fakelag.window_ms / conf->fakelag.messages_per_window :
	    conf->fakelag.window_ms;
	if ((int64_t)interval > elapsed) {
		uint64_t wait = interval - (uint64_t)(elapsed > 0 ? elapsed : 0);

		c->fl_last = ergo_now_ms + wait;
		return wait;
	}
	return 0;
}

/* ---- command table: sorted by name, searched with bsearch ---- */

struct cmd {
	const char	*name;
	cmd_fn		*fn;
	int		 min;	/* parameters, else 461 */
	int		 flags;
};

static const struct cmd cmds[] = {
	{ "ADMIN",	h_admin,	0, CMD_REG },
	{ "AUTHENTICATE", h_authenticate, 1, CMD_PREREG },
	{ "AWAY",	h_away,		0, CMD_REG },
	{ "CAP",	h_cap,		1, CMD_PREREG },
	{ "DIE",	h_die,		0, CMD_REG | CMD_OPER },
	{ "INFO",	h_info,		0, CMD_REG },
	{ "INVITE",	h_invite,	2, CMD_REG },
	{ "ISON",	h_ison,		1, CMD_REG },
	{ "JOIN",	h_join,		1, CMD_REG },
	{ "KICK",	h_kick,		2, CMD_REG },
	{ "KILL",	h_kill,		2, CMD_REG | CMD_OPER },
	{ "LIST",	h_list,		0, CMD_REG },
	{ "LUSERS",	h_lusers,	0, CMD_REG },
	{ "MODE",	h_mode,		1, CMD_REG },
	{ "MOTD",	h_motd,		0, CMD_REG },
	{ "NAMES",	h_names,	0, CMD_REG },
	{ "NICK",	h_nick,		0, CMD_PREREG },
	{ "NICKSERV",	h_nickserv,	0, CMD_REG },
	{ "NOTICE",	h_notice,	0, CMD_REG },
	{ "NS",		h_nickserv,	0, CMD_REG },
	{ "OPER",	h_oper,		1, CMD_REG },
	{ "PART",	h_part,		1, CMD_REG },
	{ "PASS",	h_pass,		1, CMD_PREREG },
	{ "PING",	h_ping,		0, CMD_PREREG | CMD_NOIDLE },
	{ "PONG",	h_pong,		0, CMD_PREREG | CMD_NOIDLE },
	{ "PRIVMSG",	h_privmsg,	0, CMD_REG },
	{ "QUIT",	h_quit,		0, CMD_PREREG },
	{ "REHASH",	h_rehash,	0, CMD_REG | CMD_OPER },
	{ "TIME",	h_time,		0, CMD_REG },
	{ "TOPIC",	h_topic,	1, CMD_REG },
	{ "USER",	h_user,		4, CMD_PREREG },
	{ "USERHOST",	h_userhost,	1, CMD_REG },
	{ "VERSION",	h_version,	0, CMD_REG },
	{ "WALLOPS",	h_wallops,	1, CMD_REG | CMD_OPER },
	{ "WHO",	h_who,		0, CMD_REG },
	{ "WHOIS",	h_whois,	1, CMD_REG },
	{ "WHOWAS",	h_whowas,	1, CMD_REG },
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
	cmd->fn(c, m);
}

int
irc_conn_line(void *arg, char *line, size_t len)
{
	struct client *c = arg;
	struct tlist *l;
	struct msg m;
	char *rest;
	uint64_t wait;

	if (c->flags & CF_CLOSING)
		return IRC_STOP;
	if ((c->flags & CF_REG) && conf->fakelag.enabled &&
	    !(c->flags & CF_FLOODOK) && (wait = fakelag_touch(c)) > 0) {
		throttle_add(c, ergo_now_ms + wait);
		return IRC_DEFER;
	}
	/* Any line proves the client is alive. */
	c->last_recv_ms = ergo_now_ms;
	/* Opt-in, debug only: this logs passwords (PASS, OPER) too. */
	if (log_wants(LL_DEBUG, "userinput"))
		log_debug("userinput", "%s %s <- %s", net_conn_ip(c->conn),
		    c->nick[0] ? c->nick : "*", line);
	if (c->flags & CF_REG) {
		l = tlist_of(c);
		tlist_del(l, c);
		c->flags &= ~CF_PINGSENT;
		tlist_add(&t_active, c, ergo_now_ms);
	}
	if (strlen(line) != len) {
		/* NUL bytes never pass through to anyone */
		irc_send(c, ":%s FAIL * INVALID_LINE :Line contains a NUL "
		    "byte", conf->server_name);
		return IRC_MORE;
	}
	rest = line;
	if (*line == '@') {
		char *sp = strchr(line, ' ');

		if (sp == NULL)
			return IRC_MORE;	/* tags, no command: ignore */
		if ((size_t)(sp - line) + 1 > IRC_TAGS_MAX) {
			irc_conn_toolong(c);
			return IRC_MORE;
		}
		rest = sp + 1;
	}
	if (strlen(rest) > IRC_LINE_MAX - 2) {
		irc_conn_toolong(c);
		return IRC_MORE;
	}
	if (irc_parse(line, &m) == -1)
		return IRC_MORE;	/* empty or source-only: ignore */
	dispatch(c, &m);
	return (c->flags & CF_CLOSING) ? IRC_STOP : IRC_MORE;
}

/* ---- registration ---- */

static void
try_register(struct client *c)
{
	if ((c->flags & CF_REG) || !(c->flags & CF_NICK) ||
	    !(c->flags & CF_USER) || (c->flags & CF_CAPNEG) ||
	    c->sasl != NULL)	/* AUTHENTICATE in progress */
		return;
	if (conf->password != NULL && !(c->flags & CF_PASS)) {
		irc_numeric(c, ERR_PASSWDMISMATCH, ":Password incorrect");
		irc_client_exit(c, "Bad password", "Bad password");
		return;
	}
	tlist_del(&t_unreg, c);
	c->flags |= CF_REG;
	tlist_add(&t_active, c, ergo_now_ms);
	irc.nunknown--;
	irc.nusers++;
	if (irc.nusers > irc.max_users)
		irc.max_users = irc.nusers;
	log_info("connect", "registered %s", irc_prefix(c));
	irc_serv_nick_check(c);		/* a reserved nick? */
	irc_send_welcome(c);
}

void
irc_register_retry(struct client *c)
{
	try_register(c);
}

void
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
		irc_client_exit(c, "Bad password", "Bad password");
	}
}

void
h_nick(struct client *c, struct msg *m)
{
	struct client *o;
	const char *nick;
	char oldprefix[NICKLEN_MAX + 256];

	if (m->nparam < 1 || m->param[0][0] == '\0') {
		irc_numeric(c, ERR_NONICKNAMEGIVEN, ":No nickname given");
		return;
	}
	nick = m->param[0];
	if (!irc_nick_valid(nick)) {
		irc_numeric(c, ERR_ERRONEUSNICKNAME, "%s :Erroneous nickname",
		    nick);
		return;
	}
	if (strcmp(nick, c->nick) == 0)
		return;
	if ((o = irc_client_find(nick)) != NULL && o != c) {
		irc_numeric(c, ERR_NICKNAMEINUSE,
		    "%s :Nickname is already in use", nick);
		return;
	}
	if (!(c->flags & CF_REG)) {
		if (nick_set(c, nick) == -1)
			irc_client_exit(c, "Out of memory", "Out of memory");
		else {
			c->flags |= CF_NICK;
			try_register(c);
		}
		return;
	}
	snprintf(oldprefix, sizeof(oldprefix), "%s", irc_prefix(c));
	irc_whowas_add(c);
	{
		char oldkey[NICKLEN_MAX + 1];

		irc_fold(oldkey, c->nick, sizeof(oldkey));
		if (nick_set(c, nick) == -1) {
			irc_client_exit(c, "Out of memory", "Out of memory");
			return;
		}
		irc_chan_nick_changed(c, oldkey);
		irc_serv_nick_check(c);	/* renames come from irc_tick */
	}
	log_info("connect", "%s is now known as %s", oldprefix, nick);
	irc_peers_send(c, true, ":%s NICK :%s", oldprefix, nick);
}

/* Keeps the characters a user@host part may hold. */
static char *
user_clean(const char *in)
{
	char buf[64];
	size_t i, n = 0, max = conf->limits.identlen;

	if (max > sizeof(buf) - 2)
		max = sizeof(buf) - 2;
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
	return xstrdup(buf);
}

void
h_user(struct client *c, struct msg *m)
{
	if (c->flags & (CF_REG | CF_USER)) {
		irc_numeric(c, ERR_ALREADYREGISTERED,
		    ":You may not reregister");
		return;
	}
	irc_utf8_trunc(m->param[3], conf->limits.realnamelen);
	if ((c->user = user_clean(m->param[0])) == NULL ||
	    (c->realname = xstrdup(m->param[3])) == NULL) {
		irc_client_exit(c, "Out of memory", "Out of memory");
		return;
	}
	c->flags |= CF_USER;
	try_register(c);
}

/* ---- CAP (IRCv3 capability negotiation) ---- */

static const struct {
	const char	*name;
	uint32_t	 bit;
	const char	*value;		/* CAP LS 302 shows name=value */
} caps[] = {
	{ "cap-notify",		CAP_CAP_NOTIFY,		NULL },
	{ "multi-prefix",	CAP_MULTI_PREFIX,	NULL },
	{ "sasl",		CAP_SASL,		SASL_MECHS },
	{ "userhost-in-names",	CAP_USERHOST_NAMES,	NULL },
};
#define NCAPS	(sizeof(caps) / sizeof(caps[0]))

static void
cap_ls(struct client *c, bool enabled_only, const char *sub)
{
	char buf[400];
	size_t i, n = 0;
	const char *nick = c->nick[0] ? c->nick : "*";

	buf[0] = '\0';
	for (i = 0; i < NCAPS; i++) {
		const char *v = c->capver >= 302 && !enabled_only &&
		    caps[i].value != NULL ? caps[i].value : NULL;
		size_t l = strlen(caps[i].name) + (v ? strlen(v) + 1 : 0);

		if (enabled_only && !(c->caps & caps[i].bit))
			continue;
		if (n + l + 1 >= sizeof(buf)) {
			/* 302 clients get continuation lines */
			irc_send(c, ":%s CAP %s %s * :%s", conf->server_name,
			    nick, sub, buf);
			n = 0;
		}
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s%s%s",
		    n ? " " : "", caps[i].name, v ? "=" : "", v ? v : "");
	}
	/* IRCv3 STS: the policy is a cap value, so 302 clients only; it is
	 * advertised, never requested, so LIST leaves it out. */
	if (conf->sts.enabled && c->capver >= 302 && !enabled_only) {
		char sts[96];

		if (c->conn != NULL && net_conn_tls(c->conn))
			snprintf(sts, sizeof(sts), "sts=duration=%u%s",
			    conf->sts.duration, conf->sts.preload ?
			    ",preload" : "");
		else
			snprintf(sts, sizeof(sts), "sts=port=%u%s",
			    conf->sts.port, conf->sts.preload ? ",preload" :
			    "");
		if (n + strlen(sts) + 1 >= sizeof(buf)) {
			irc_send(c, ":%s CAP %s %s * :%s", conf->server_name,
			    nick, sub, buf);
			n = 0;
		}
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
		    n ? " " : "", sts);
	}
	irc_send(c, ":%s CAP %s %s :%s", conf->server_name, nick, sub, buf);
}

static void
cap_req(struct client *c, char *list)
{
	char copy[IRC_LINE_MAX], *tok, *save = NULL;
	uint32_t add = 0, del = 0;
	size_t i;

	snprintf(copy, sizeof(copy), "%s", list);
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		bool neg = *tok == '-';

		if (neg)
			tok++;
		for (i = 0; i < NCAPS; i++)
			if (strcmp(tok, caps[i].name) == 0)
				break;
		/* One unknown cap NAKs the whole request (IRCv3). */
		if (i == NCAPS || (neg && caps[i].bit == CAP_CAP_NOTIFY &&
		    c->capver >= 302)) {
			irc_send(c, ":%s CAP %s NAK :%s", conf->server_name,
			    c->nick[0] ? c->nick : "*", list);
			return;
		}
		if (neg)
			del |= caps[i].bit;
		else
			add |= caps[i].bit;
	}
	c->caps = (c->caps | add) & ~del;
	irc_send(c, ":%s CAP %s ACK :%s", conf->server_name,
	    c->nick[0] ? c->nick : "*", list);
}

void
h_cap(struct client *c, struct msg *m)
{
	const char *sub = m->param[0];

	if (strcasecmp(sub, "LS") == 0) {
		if (!(c->flags & CF_REG))
			c->flags |= CF_CAPNEG;
		if (m->nparam > 1 && atoi(m->param[1]) >= 302) {
			c->capver = 302;
			c->caps |= CAP_CAP_NOTIFY;	/* implied by 302 */
		}
		cap_ls(c, false, "LS");
	} else if (strcasecmp(sub, "LIST") == 0)
		cap_ls(c, true, "LIST");
	else if (strcasecmp(sub, "REQ") == 0) {
		if (!(c->flags & CF_REG))
			c->flags |= CF_CAPNEG;
		cap_req(c, m->nparam > 1 ? m->param[1] : "");
	} else if (strcasecmp(sub, "END") == 0) {
		if (!(c->flags & CF_REG)) {
			c->flags &= ~CF_CAPNEG;
			try_register(c);
		}
	} else
		irc_numeric(c, ERR_INVALIDCAPCMD, "%s :Invalid CAP command",
		    sub);
}

/* ---- welcome ---- */

void
irc_send_isupport(struct client *c)
{
	char tok[24][96];
	size_t n = 0, i, j;
	const struct conf *k = conf;

#define TOK(...) snprintf(tok[n++], sizeof(tok[0]), __VA_ARGS__)
	TOK("AWAYLEN=%u", k->limits.awaylen);
	TOK("CASEMAPPING=%s", k->casemapping == CASEMAP_RFC1459 ? "rfc1459" :
	    "ascii");
	TOK("CHANLIMIT=#&:%u", k->chan_max_per_user);
	TOK("CHANMODES=beI,k,l,imnpst");
	TOK("CHANNELLEN=%u", k->limits.channellen);
	TOK("CHANTYPES=#&");
	TOK("ELIST=MNU");
	TOK("EXCEPTS=e");
	TOK("INVEX=I");
	TOK("KICKLEN=%u", k->limits.kicklen);
	TOK("MAXLIST=beI:%u", k->chan_max_list);
	TOK("MODES=6");
	TOK("NETWORK=%s", k->network_name);
	TOK("NICKLEN=%u", k->limits.nicklen);
	TOK("PREFIX=(ov)@+");
	TOK("STATUSMSG=@+");
	TOK("TARGMAX=JOIN:,KICK:%u,NAMES:1,NOTICE:%u,PART:,PRIVMSG:%u,"
	    "WHOIS:%u", k->limits.targmax, k->limits.targmax,
	    k->limits.targmax, k->limits.targmax);
	TOK("TOPICLEN=%u", k->limits.topiclen);
	TOK("USERLEN=%u", k->limits.identlen + 1);
#undef TOK
	for (i = 0; i < n; i += 13) {
		char line[IRC_LINE_MAX];
		size_t off = 0;

		line[0] = '\0';
		for (j = i; j < n && j < i + 13; j++)
			off += (size_t)snprintf(line + off, sizeof(line) - off,
			    "%s%s", off ? " " : "", tok[j]);
		irc_numeric(c, RPL_ISUPPORT, "%s :are supported by this server",
		    line);
	}
}

void
irc_send_welcome(struct client *c)
{
	irc_numeric(c, RPL_WELCOME, ":Welcome to the %s IRC Network %s",
	    conf->network_name, irc_prefix(c));
	irc_numeric(c, RPL_YOURHOST, ":Your host is %s, running version %s",
	    conf->server_name, ERGO_VERSION);
	irc_numeric(c, RPL_CREATED, ":This server was created %s", created);
	irc_numeric(c, RPL_MYINFO, "%s %s iowZ beIiklmnopstv beIklov",
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

void
h_ping(struct client *c, struct msg *m)
{
	if (m->nparam < 1 || m->param[0][0] == '\0') {
		irc_numeric(c, ERR_NOORIGIN, ":No origin specified");
		return;
	}
	irc_send(c, ":%s PONG %s :%s", conf->server_name, conf->server_name,
	    m->param[0]);
}

void
h_pong(struct client *c, struct msg *m)
{
	(void)c;
	(void)m;	/* irc_conn_line already counted it as activity */
}

void
h_quit(struct client *c, struct msg *m)
{
	char reason[IRC_LINE_MAX];

	snprintf(reason, sizeof(reason), "Quit: %s",
	    m->nparam > 0 ? m->param[0] : "");
	irc_utf8_trunc(reason, 6 + conf->limits.kicklen);
	irc_client_exit(c, reason, "Closing link (Quit)");
}

/* ---- PRIVMSG / NOTICE ---- */

/*
 * A NOTICE never draws an automatic reply (RFC 2812 3.3.2), so its
 * per-target errors (401 403 404) and RPL_AWAY are not sent; malformed
 * commands (411 412 407) still are.
 */
static void
message(struct client *c, struct msg *m, const char *cmd, bool notice)
{
	char *targets, *t, *save = NULL;
	const char *text;
	unsigned n = 1;

	if (m->nparam < 1 || m->param[0][0] == '\0') {
		irc_numeric(c, ERR_NORECIPIENT, ":No recipient given (%s)",
		    cmd);
		return;
	}
	if (m->nparam < 2 || m->param[1][0] == '\0') {
		irc_numeric(c, ERR_NOTEXTTOSEND, ":No text to send");
		return;
	}
	targets = m->param[0];
	text = m->param[1];
	for (t = targets; *t != '\0'; t++)
		if (*t == ',')
			n++;
	if (n > conf->limits.targmax) {
		irc_numeric(c, ERR_TOOMANYTARGETS, "%s :Too many targets. "
		    "The maximum is %u", targets, conf->limits.targmax);
		return;
	}
	c->last_msg = ergo_now;
	for (t = strtok_r(targets, ",", &save); t != NULL;
	    t = strtok_r(NULL, ",", &save)) {
		unsigned char need = 0;
		const char *name = t;
		struct chan *ch;
		struct client *to;
		int num;

		/* STATUSMSG: @#chan reaches ops, +#chan voices and ops */
		if (*name == '@' || *name == '+') {
			need = *name == '@' ? MEMB_OP : MEMB_OP | MEMB_VOICE;
			name++;
		}
		if (*name == '#' || *name == '&') {
			struct member *mb;
			char line[IRC_LINE_MAX + 1];
			size_t len;

			if ((ch = irc_chan_find(name)) == NULL) {
				if (!notice)
					irc_numeric(c, ERR_NOSUCHCHANNEL,
					    "%s :No such channel", name);
				continue;
			}
			if (!irc_chan_can_send(ch, c, &num)) {
				if (!notice)
					irc_numeric(c, num,
					    "%s :Cannot send to channel",
					    ch->name);
				continue;
			}
			/* formatted once for every member */
			len = fmt_line(line, sizeof(line), ":%s %s %s :%s",
			    irc_prefix(c), cmd, t, text);
			for (mb = ch->members; mb != NULL; mb = mb->cnext)
				if (mb->c != c && (!need || (mb->modes & need)))
					irc_send_raw(mb->c, line, len);
			continue;
		}
		if (need == 0 && irc_serv_message(c, name, text, notice))
			continue;	/* NickServ */
		if (need != 0 || (to = irc_client_find(name)) == NULL ||
		    !(to->flags & CF_REG)) {
			if (!notice)
				irc_numeric(c, ERR_NOSUCHNICK,
				    "%s :No such nick/channel", name);
			continue;
		}
		irc_send(to, ":%s %s %s :%s", irc_prefix(c), cmd, to->nick,
		    text);
		if (!notice && to->away != NULL)
			irc_numeric(c, RPL_AWAY, "%s :%s", to->nick, to->away);
	}
}

void
h_privmsg(struct client *c, struct msg *m)
{
	message(c, m, "PRIVMSG", false);
}

void
h_notice(struct client *c, struct msg *m)
{
	message(c, m, "NOTICE", true);
}

/* ---- timers ---- */

void
irc_tick(void)
{
	struct client *c;
	uint64_t now = ergo_now_ms;
	char reason[64];

	irc_serv_tick();	/* reserved nicks; before the graveyard goes */
	while ((c = graveyard) != NULL) {
		graveyard = c->gnext;
		client_free(c);
	}
	while ((c = throttled) != NULL && c->fl_next_ms <= now) {
		throttle_del(c);
		c->fl_granted = true;
		if (c->conn != NULL)
			net_conn_resume(c->conn);
	}
	while ((c = t_unreg.head) != NULL &&
	    c->tstamp_ms + conf->reg_timeout * 1000ULL <= now)
		irc_client_exit(c, "Registration timed out",
		    "Registration timed out");
	while ((c = t_active.head) != NULL &&
	    c->tstamp_ms + conf->idle_timeout * 1000ULL <= now) {
		tlist_del(&t_active, c);
		c->flags |= CF_PINGSENT;
		tlist_add(&t_pinged, c, now);
		irc_send(c, "PING :%s", conf->server_name);
	}
	while ((c = t_pinged.head) != NULL &&
	    c->tstamp_ms + conf->ping_timeout * 1000ULL <= now) {
		snprintf(reason, sizeof(reason), "Ping timeout: %u seconds",
		    conf->idle_timeout + conf->ping_timeout);
		irc_client_exit(c, reason, reason);
	}
}

int
irc_next_timer_ms(void)
{
	uint64_t best;

	if (graveyard != NULL)
		return 0;
	if (throttled == NULL)
		return -1;
	best = throttled->fl_next_ms;
	return best <= ergo_now_ms ? 0 : (int)(best - ergo_now_ms);
}

void
irc_init(void)
{
	struct tm tm;

	htab_init(&irc.nicks);
	htab_init(&irc.chans);
	irc.started = ergo_now;
	gmtime_r(&ergo_now, &tm);
	strftime(created, sizeof(created), "%a %b %d %Y at %H:%M:%S UTC", &tm);
	irc_motd_load();
}

void
irc_rehashed(const struct conf *old)
{
	(void)old;
	irc_motd_load();
}

void
irc_shutdown(void)
{
	irc_tick();	/* free the graveyard */
	irc_whowas_free();
}
