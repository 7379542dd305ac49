/*
 * irc_query.c: informational and operator commands (WHO, WHOIS, WHOWAS,
 * AWAY, ISON, USERHOST, MOTD, LUSERS, VERSION, TIME, ADMIN, INFO, OPER,
 * KILL, WALLOPS, REHASH, DIE) with WHOX, and the in-memory MOTD. It
 * reads the model and replies through irc_out.c: no sockets, no SQL.
 */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "irc_query.h"
#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "net.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_account.h"
#include "irc_num.h"
#include "irc_oper.h"
#include "irc_user.h"

/* Not in irc.h: only WHOIS uses it. */

/*
 * One WHO can name every user on the server; stop after this many 352s
 * so a single short line cannot be amplified into megabytes of output.
 */
#define WHO_REPLIES_MAX		500
/* An operator's MOTD file is trusted, but not unboundedly. */
#define MOTD_LINES_MAX		1000
/* Room for a reply's text after ":server NUM nick " and before CRLF. */
#define LINE_BODY_MAX		(IRC_LINE_MAX - 2)

#define client_of(e)	((struct client *)(void *)((char *)(e) - \
			    offsetof(struct client, h)))

static const char *
server_name(void)
{
	return conf->server_name != NULL ? conf->server_name : "irc.test";
}

static const char *
server_info(void)
{
	return conf->server_info != NULL ? conf->server_info : "ergo";
}

/* The server u is on (another one's, over a link) and its info. */
static const char *
user_server(const struct client *u, const char **info)
{
	const char *name = NULL, *i = NULL;

	if (irc_hooks.user_server != NULL)
		name = irc_hooks.user_server(u, &i);
	if (name == NULL) {
		name = server_name();
		i = server_info();
	}
	if (info != NULL)
		*info = i;
	return name;
}

/*
 * Room left for a list of words in ":server NUM asker <fixed> :<list>",
 * where fixed is the text between the asker's nick and the trailing colon.
 */
static size_t
list_room(const struct client *c, const char *fixed)
{
	size_t used;

	/* ':' server ' ' NNN ' ' nick ' ' fixed ' ' ':' */
	used = 1 + strlen(server_name()) + 5 + strlen(c->nick) + 1 +
	    strlen(fixed) + 2;
	return used < LINE_BODY_MAX ? LINE_BODY_MAX - used : 0;
}

/* How many comma-separated targets one command may name. */
static unsigned
targmax(void)
{
	return conf->limits.targmax > 0 ? conf->limits.targmax : 1;
}

static bool
is_user(const struct client *c)
{
	return c != NULL && (c->flags & CF_REG) != 0;
}

static bool
is_oper(const struct client *c)
{
	return (c->umodes & UMODE_OPER) != 0;
}

/* Whether a and b are both in some channel; walks the shorter list. */
static bool
shares_chan(const struct client *a, const struct client *b)
{
	const struct member *m;

	if (a->nchans > b->nchans) {
		const struct client *t = a;
		a = b;
		b = t;
	}
	for (m = a->chans; m != NULL; m = m->unext)
		if (irc_member_find(m->ch, b) != NULL)
			return true;
	return false;
}

/* Whether an invisible user u may be seen by c in global queries. */
static bool
user_visible(const struct client *u, const struct client *c)
{
	return (u->umodes & UMODE_INVISIBLE) == 0 || u == c || is_oper(c) ||
	    shares_chan(u, c);
}

/*
 * A [server] parameter on a query: ours, a nick on this server (RFC 2812
 * lets you name a user to mean "their server"), or 402.
 */
static bool
target_is_us(struct client *c, struct msg *m, int i)
{
	const char *t;

	if (m->nparam <= i || m->param[i][0] == '\0')
		return true;
	t = m->param[i];
	if (irc_match(t, server_name()) || is_user(irc_client_find(t)))
		return true;
	irc_numeric(c, ERR_NOSUCHSERVER, "%s :No such server", t);
	return false;
}

/* ---- WHOX ---- */

/* WHO <mask> %<fields>[,<token>]: the fields asked for, by letter. */
struct whox {
	bool	 on;		/* a %fields list was given */
	bool	 fields[128];
	char	 token[4];	/* 1-3 digits ("0" if none given) */
	bool	 matchsel;	/* letters before '%' chose what to match */
	bool	 match[128];
};

/* Appends to buf[0..*n) what fits; buf stays NUL-terminated. */
static void
add(char *buf, size_t sz, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (*n >= sz - 1)
		return;
	va_start(ap, fmt);
	r = vsnprintf(buf + *n, sz - *n, fmt, ap);
	va_end(ap);
	if (r > 0)
		*n = (size_t)r >= sz - *n ? sz - 1 : *n + (size_t)r;
}

/* The 'a' field: the account name, or "0" when not logged in. */
static const char *
whox_account(const struct client *u)
{
	return u->account != NULL ? u->account : "0";
}

/*
 * Whether fields (the text after '%', up to an optional ",token") is a
 * WHOX request. The token is kept only if it is 1 to 3 digits.
 */
static void
irc_whox_parse(const char *arg, struct whox *w)
{
	const char *p, *comma;
	size_t n;

	memset(w, 0, sizeof(*w));
	if ((p = strchr(arg, '%')) == NULL)
		return;
	w->on = true;
	/* before '%': which fields the mask is matched against (ircu) */
	for (comma = arg; comma < p; comma++)
		if (strchr("nuhisra", *comma) != NULL) {
			w->match[(unsigned char)*comma] = true;
			w->matchsel = true;
		}
	p++;
	comma = strchr(p, ',');
	n = comma != NULL ? (size_t)(comma - p) : strlen(p);
	for (; n > 0; n--, p++)
		if (strchr("tcuihsnfdlaor", *p) != NULL)
			w->fields[(unsigned char)*p] = true;
	if (comma != NULL) {
		size_t tl = strlen(comma + 1);

		if (tl >= 1 && tl <= 3 &&
		    strspn(comma + 1, "0123456789") == tl)
			memcpy(w->token, comma + 1, tl + 1);
	}
	if (w->token[0] == '\0')
		snprintf(w->token, sizeof(w->token), "0");
}

/*
 * WHOX matching: with letters before the '%' ("WHO alice n%na"), the
 * mask is matched only against those fields: n nick, u user, h host,
 * i IP, s server, r real name, a account. false if none was given.
 * The IP a mask is matched against is the one the asker c may see: the
 * real address for the user and opers, the shown host (a cloak) for
 * everyone else, or narrowing a mask would recover a cloaked address.
 */
static bool
irc_whox_matches(const struct whox *w, const char *mask,
    const struct client *c, const struct client *u)
{
	const char *ip;

#define SEL(ch)	(w->match[(unsigned char)(ch)])
	if (mask == NULL)
		return true;
	ip = c == u || (c->umodes & UMODE_OPER) ? irc_client_ip(u) : u->host;
	return (SEL('n') && irc_match(mask, u->nick)) ||
	    (SEL('u') && u->user != NULL && irc_match(mask, u->user)) ||
	    (SEL('h') && u->host != NULL && irc_match(mask, u->host)) ||
	    (SEL('i') && ip != NULL && irc_match(mask, ip)) ||
	    (SEL('s') && irc_match(mask, conf->server_name)) ||
	    (SEL('r') && u->realname != NULL &&
	    irc_match(mask, u->realname)) ||
	    (SEL('a') && u->account != NULL && irc_match(mask, u->account));
#undef SEL
}

/*
 * One 354 for u: the fields asked for, always in the order t c u i h s
 * n f d l a o r (realname last, as the trailing parameter).
 */
static void
irc_whox_reply(struct client *c, const struct whox *w, const char *chname,
    struct client *u, const struct member *mb)
{
	char buf[IRC_LINE_MAX];
	size_t n = 0;
	time_t last;
	bool see_ip = c == u || (c->umodes & UMODE_OPER);

#define ADD(...)	add(buf, sizeof(buf), &n, __VA_ARGS__)
#define HAS(ch)	(w->fields[(unsigned char)(ch)])
	buf[0] = '\0';
	if (HAS('t'))
		ADD(" %s", w->token);
	if (HAS('c'))
		ADD(" %s", chname);
	if (HAS('u'))
		ADD(" %s", u->user != NULL ? u->user : "*");
	if (HAS('i')) {
		const char *ip = see_ip && irc_client_ip(u) != NULL ?
		    irc_client_ip(u) : "255.255.255.255";

		/* "::1" would read as a trailing parameter */
		ADD(" %s%s", ip[0] == ':' ? "0" : "", ip);
	}
	if (HAS('h'))
		ADD(" %s", u->host != NULL ? u->host : "*");
	if (HAS('s'))
		ADD(" %s", conf->server_name);
	if (HAS('n'))
		ADD(" %s", u->nick);
	if (HAS('f'))
		ADD(" %c%s%s", u->ext->away != NULL ? 'G' : 'H',
		    irc_oper_visible(c, u) ? "*" : "",
		    mb != NULL ? irc_member_prefix(mb, c) : "");
	if (HAS('d'))
		ADD(" 0");
	if (HAS('l')) {
		last = u->last_msg != 0 ? u->last_msg : u->signon;
		ADD(" %lld", ergo_now > last ? (long long)(ergo_now - last) :
		    0LL);
	}
	if (HAS('a'))
		ADD(" %s", whox_account(u));
	if (HAS('o'))
		ADD(" n/a");
	if (HAS('r'))
		ADD(" :%s", u->realname != NULL ? u->realname : "");
#undef HAS
#undef ADD
	if (n > 0)
		irc_numeric(c, RPL_WHOSPCRPL, "%s", buf + 1);
	else	/* no field asked for: the nick, no empty parameter */
		irc_send(c, ":%s %03d %s", server_name(), RPL_WHOSPCRPL,
		    c->nick);
}

/* ---- WHO ---- */

static void
who_reply(struct client *c, const char *chname, struct client *u,
    const struct member *m)
{
	irc_numeric(c, RPL_WHOREPLY, "%s %s %s %s %s %c%s%s%s :0 %s",
	    chname, u->user != NULL ? u->user : "*",
	    u->host != NULL ? u->host : "*", user_server(u, NULL), u->nick,
	    u->ext->away != NULL ? 'G' : 'H',
	    irc_oper_visible(c, u) ? "*" : "",
	    (u->umodes & UMODE_BOT) ? "B" : "",
	    m != NULL ? irc_member_prefix(m, c) : "",
	    u->realname != NULL ? u->realname : "");
}

static bool
who_matches(const char *mask, const struct client *u)
{
	if (mask == NULL)
		return true;
	return irc_match(mask, u->nick) ||
	    (u->user != NULL && irc_match(mask, u->user)) ||
	    (u->host != NULL && irc_match(mask, u->host)) ||
	    (u->realname != NULL && irc_match(mask, u->realname)) ||
	    irc_match(mask, server_name());
}

/*
 * Whether one more 352 fits: past half of max-sendq the reply is cut
 * short, since the server cannot wait for the asker to read and a full
 * queue would drop it (SendQ exceeded).
 */
static bool
who_room(const struct client *c, unsigned sent)
{
	return sent < WHO_REPLIES_MAX && irc_sess(c)->conn != NULL &&
	    net_conn_sendq(irc_sess(c)->conn) + IRC_LINE_MAX <= conf->max_sendq / 2;
}

/*
 * WHO <#chan|mask> [o]: a channel lists its members (invisible ones only
 * to fellow members); a mask lists matching users the asker may see.
 */
void
h_who(struct client *c, struct msg *m)
{
	const char *arg = m->nparam > 0 && m->param[0][0] != '\0' ?
	    m->param[0] : "*";
	const char *mask = arg;
	bool opers_only = false;
	unsigned sent = 0;
	struct chan *ch;
	struct member *mb;
	struct client *u1;
	struct whox w;
	size_t i;

	irc_whox_parse(m->nparam > 1 ? m->param[1] : "", &w);
	if (m->nparam > 1) {
		/* flags end where a WHOX field list ("%...") would start */
		size_t n = strcspn(m->param[1], "%");
		opers_only = memchr(m->param[1], 'o', n) != NULL;
	}
	if (strcmp(mask, "*") == 0 || strcmp(mask, "0") == 0)
		mask = NULL;
	if ((arg[0] == '#' || arg[0] == '&') &&
	    (ch = irc_chan_find(arg)) != NULL) {
		bool member = irc_member_find(ch, c) != NULL;

		if (!member && !is_oper(c) && !irc_chan_visible(ch, c))
			goto done;
		for (mb = ch->members; mb != NULL && who_room(c, sent);
		    mb = mb->cnext) {
			struct client *u = mb->c;

			if (opers_only && !irc_oper_visible(c, u))
				continue;
			if (!member && !is_oper(c) &&
			    (u->umodes & UMODE_INVISIBLE))
				continue;
			if (w.on)
				irc_whox_reply(c, &w, ch->name, u, mb);
			else
				who_reply(c, ch->name, u, mb);
			sent++;
		}
		goto done;
	}
	/* an exact nick names that user, +i or not (the modern spec) */
	if (mask != NULL && strpbrk(mask, "*?") == NULL && !opers_only &&
	    !w.matchsel && is_user(u1 = irc_client_find(mask))) {
		if (w.on)
			irc_whox_reply(c, &w, "*", u1, NULL);
		else
			who_reply(c, "*", u1, NULL);
		goto done;
	}
	for (i = 0; i < irc.nicks.nb && who_room(c, sent); i++) {
		struct hent *e;

		for (e = irc.nicks.b[i]; e != NULL && who_room(c, sent);
		    e = e->next) {
			struct client *u = client_of(e);

			if (!is_user(u) || (opers_only && !irc_oper_visible(c, u)))
				continue;
			if (!(w.matchsel ? irc_whox_matches(&w, mask, c, u) :
			    who_matches(mask, u)) || !user_visible(u, c))
				continue;
			if (w.on)
				irc_whox_reply(c, &w, "*", u, NULL);
			else
				who_reply(c, "*", u, NULL);
			sent++;
		}
	}
done:
	irc_numeric(c, RPL_ENDOFWHO, "%s :End of WHO list", arg);
}

/* ---- WHOIS ---- */

/* 319, split over as many lines as the channel list needs. */
static void
whois_channels(struct client *c, struct client *u)
{
	char buf[IRC_LINE_MAX];
	size_t room = list_room(c, u->nick), len = 0;
	struct member *mb;

	if (room > sizeof(buf) - 1)
		room = sizeof(buf) - 1;
	for (mb = u->chans; mb != NULL; mb = mb->unext) {
		const char *pfx = irc_member_prefix(mb, c);
		size_t need = (len > 0) + strlen(pfx) + strlen(mb->ch->name);

		/* others see a +i user's channels only where they meet;
		 * anyone's +s/+p channels only as members */
		if (u != c && !is_oper(c) && (!irc_chan_visible(mb->ch, c) ||
		    ((u->umodes & UMODE_INVISIBLE) &&
		    irc_member_find(mb->ch, c) == NULL)))
			continue;
		if (need > room)
			continue;	/* cannot happen with sane limits */
		if (len + need > room) {
			irc_numeric(c, RPL_WHOISCHANNELS, "%s :%s", u->nick,
			    buf);
			len = 0;
			need--;		/* no leading space on a new line */
		}
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s%s",
		    len > 0 ? " " : "", pfx, mb->ch->name);
	}
	if (len > 0)
		irc_numeric(c, RPL_WHOISCHANNELS, "%s :%s", u->nick, buf);
}

static void
whois_one(struct client *c, const char *nick)
{
	struct client *u = irc_client_find(nick);
	const char *fp, *ip, *info = NULL, *sname;
	time_t last;

	if (!is_user(u)) {
		irc_numeric(c, ERR_NOSUCHNICK, "%s :No such nick/channel",
		    nick);
		return;
	}
	irc_numeric(c, RPL_WHOISUSER, "%s %s %s * :%s", u->nick,
	    u->user != NULL ? u->user : "*", u->host != NULL ? u->host : "*",
	    u->realname != NULL ? u->realname : "");
	whois_channels(c, u);
	sname = user_server(u, &info);
	irc_numeric(c, RPL_WHOISSERVER, "%s %s :%s", u->nick, sname,
	    info != NULL ? info : "");
	if (u->ext->away != NULL)
		irc_numeric(c, RPL_AWAY, "%s :%s", u->nick, u->ext->away);
	if (irc_oper_visible(c, u))
		irc_numeric(c, RPL_WHOISOPERATOR, "%s :%s", u->nick,
		    irc_oper_whois_line(u));
	if (u->account != NULL)
		irc_numeric(c, RPL_WHOISACCOUNT, "%s %s :is logged in as",
		    u->nick, u->account);
	if (u->umodes & UMODE_BOT)
		irc_numeric(c, RPL_WHOISBOT, "%s :is a bot", u->nick);
	/* Behind a cloak, the real address: only to them and to opers. */
	if ((ip = irc_client_ip(u)) != NULL && (c == u || is_oper(c)) &&
	    u->host != NULL && strcmp(u->host, ip) != 0)
		irc_numeric(c, RPL_WHOISHOST, "%s :is connecting from *@%s %s",
		    u->nick, ip, ip);
	/* The address it really connects from (behind a PROXY header or
	 * a WEBIRC gateway too): to opers, as Ergo's 338. */
	if (ip != NULL && is_oper(c))
		irc_numeric(c, RPL_WHOISACTUALLY, "%s %s@%s %s :Actual "
		    "user@host, Actual IP", u->nick, u->user != NULL ?
		    u->user : "*", ip, ip);
	/* The fingerprint identifies a person: only to them and to opers. */
	if ((fp = irc_client_certfp(u)) != NULL && (c == u || is_oper(c)))
		irc_numeric(c, RPL_WHOISCERTFP, "%s :has client certificate "
		    "fingerprint %s", u->nick, fp);
	if (u->umodes & UMODE_TLS)
		irc_numeric(c, RPL_WHOISSECURE,
		    "%s :is using a secure connection", u->nick);
	IRC_HOOK_RUN(whois, c, u);	/* metadata's 760 */
	last = u->last_msg != 0 ? u->last_msg : u->signon;
	irc_numeric(c, RPL_WHOISIDLE, "%s %lld %lld :seconds idle, signon time",
	    u->nick, ergo_now > last ? (long long)(ergo_now - last) : 0LL,
	    (long long)u->signon);
}

/* WHOIS [server] nick[,nick...]: at most targmax nicks, one 318 at the end. */
void
h_whois(struct client *c, struct msg *m)
{
	char *list, *nick, *save = NULL, end[IRC_LINE_MAX];
	unsigned n = 0;

	if (m->nparam >= 2) {
		/* "WHOIS nick nick" is the usual way to ask for idle time. */
		if (!target_is_us(c, m, 0))
			return;
		list = m->param[1];
	} else
		list = m->param[0];
	if (list[0] == '\0') {
		irc_numeric(c, ERR_NONICKNAMEGIVEN, ":No nickname given");
		return;
	}
	snprintf(end, sizeof(end), "%s", list);	/* strtok_r eats commas */
	for (nick = strtok_r(list, ",", &save); nick != NULL;
	    nick = strtok_r(NULL, ",", &save)) {
		if (++n > targmax()) {
			irc_numeric(c, ERR_TOOMANYTARGETS,
			    "%s :Too many targets", nick);
			break;
		}
		whois_one(c, nick);
	}
	irc_numeric(c, RPL_ENDOFWHOIS, "%s :End of /WHOIS list", end);
}

/* ---- WHOWAS ---- */

/* WHOWAS nick[,nick...] [count [server]]: count <= 0 means all. */
void
h_whowas(struct client *c, struct msg *m)
{
	char *nick, *save = NULL;
	long count = 0;
	unsigned n = 0;

	if (m->nparam > 1) {
		char *end;

		count = strtol(m->param[1], &end, 10);
		if (*end != '\0')
			count = 0;
	}
	if (m->nparam > 2 && !target_is_us(c, m, 2))
		return;
	for (nick = strtok_r(m->param[0], ",", &save); nick != NULL;
	    nick = strtok_r(NULL, ",", &save)) {
		const struct whowas *w;
		long found = 0;
		char when[64];

		if (++n > targmax()) {
			irc_numeric(c, ERR_TOOMANYTARGETS,
			    "%s :Too many targets", nick);
			break;
		}
		for (w = irc_whowas_first(); w != NULL && (count <= 0 || found < count);
		    w = w->next) {
			struct tm tm;

			if (irc_casecmp(w->nick, nick) != 0)
				continue;
			found++;
			irc_numeric(c, RPL_WHOWASUSER, "%s %s %s * :%s",
			    w->nick, w->user, w->host, w->realname);
			if (gmtime_r(&w->when, &tm) == NULL ||
			    strftime(when, sizeof(when),
			    "%a %b %d %H:%M:%S %Y UTC", &tm) == 0)
				snprintf(when, sizeof(when), "%lld",
				    (long long)w->when);
			irc_numeric(c, RPL_WHOISSERVER, "%s %s :%s", w->nick,
			    server_name(), when);
		}
		if (found == 0)
			irc_numeric(c, ERR_WASNOSUCHNICK,
			    "%s :There was no such nickname", nick);
		irc_numeric(c, RPL_ENDOFWHOWAS, "%s :End of WHOWAS", nick);
	}
}

/* ---- AWAY, ISON, USERHOST ---- */

void
h_away(struct client *c, struct msg *m)
{
	const char *text = m->nparam > 0 ? m->param[0] : "";
	size_t n;
	char *p;

	/* draft/pre-away: before registration only with the cap; then
	 * nobody is told (no peers yet, and MONITOR must not see it).
	 * "AWAY *" (not present, no reason) is kept and shown as is. */
	if (!(c->flags & CF_REG) && !(irc_sess(c)->caps & CAP_PRE_AWAY)) {
		irc_numeric(c, ERR_NOTREGISTERED, ":You have not registered");
		return;
	}
	if (text[0] == '\0') {
		if (c->ext != IRC_CX_NONE) {
			free(c->ext->away);
			c->ext->away = NULL;
		}
		irc_numeric(c, RPL_UNAWAY,
		    ":You are no longer marked as being away");
		if (c->flags & CF_REG)
			irc_peers_cap_send(c, false, CAP_AWAY_NOTIFY,
			    ":%s AWAY", irc_prefix(c));
		return;
	}
	n = irc_utf8_cut(text, strlen(text), conf->limits.awaylen);
	if (irc_cx(c) == NULL || (p = malloc(n + 1)) == NULL) {
		log_warn("irc", "away message for %s", c->nick);
		return;
	}
	memcpy(p, text, n);
	p[n] = '\0';
	free(c->ext->away);
	c->ext->away = p;
	irc_numeric(c, RPL_NOWAWAY, ":You have been marked as being away");
	if (c->flags & CF_REG)
		irc_peers_cap_send(c, false, CAP_AWAY_NOTIFY, ":%s AWAY :%s",
		    irc_prefix(c), p);
}

/* ISON nick [nick...]: nicks may also come space-separated in one param. */
void
h_ison(struct client *c, struct msg *m)
{
	char buf[IRC_LINE_MAX], *nick, *save;
	size_t room = list_room(c, ""), len = 0;
	int i;

	if (room > sizeof(buf) - 1)
		room = sizeof(buf) - 1;
	buf[0] = '\0';
	for (i = 0; i < m->nparam; i++) {
		save = NULL;
		for (nick = strtok_r(m->param[i], " ", &save); nick != NULL;
		    nick = strtok_r(NULL, " ", &save)) {
			struct client *u = irc_client_find(nick);
			size_t need;

			if (!is_user(u))
				continue;
			need = (len > 0) + strlen(u->nick);
			if (len + need > room)
				goto full;
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
			    "%s%s", len > 0 ? " " : "", u->nick);
		}
	}
full:
	irc_numeric(c, RPL_ISON, ":%s", buf);
}

/* USERHOST nick{1..5}: nick[*]=[+|-]user@host, * for opers, - for away. */
void
h_userhost(struct client *c, struct msg *m)
{
	char buf[IRC_LINE_MAX], *nick, *save;
	size_t room = list_room(c, ""), len = 0;
	int i, n = 0;

	if (room > sizeof(buf) - 1)
		room = sizeof(buf) - 1;
	buf[0] = '\0';
	for (i = 0; i < m->nparam && n < 5; i++) {
		save = NULL;
		for (nick = strtok_r(m->param[i], " ", &save);
		    nick != NULL && n < 5; nick = strtok_r(NULL, " ", &save)) {
			struct client *u = irc_client_find(nick);
			int w;

			n++;
			if (!is_user(u))
				continue;
			w = snprintf(buf + len, sizeof(buf) - len,
			    "%s%s%s=%c%s@%s", len > 0 ? " " : "", u->nick,
			    irc_oper_visible(c, u) ? "*" : "",
			    u->ext->away != NULL ? '-' : '+',
			    u->user != NULL ? u->user : "*",
			    u->host != NULL ? u->host : "*");
			if (w < 0 || len + (size_t)w > room) {
				buf[len] = '\0';	/* drop the partial one */
				goto full;
			}
			len += (size_t)w;
		}
	}
full:
	irc_numeric(c, RPL_USERHOST, ":%s", buf);
}

/* ---- MOTD ---- */

static char	**motd;		/* lines, NULL when there is no MOTD */
static size_t	  motd_n;
static bool	  motd_have;

static void
motd_free(char **lines, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
}

/*
 * Reads conf->motd into memory, each line cut to fit one 372 reply for
 * the longest nick. Keeps the previous MOTD if the file cannot be read,
 * so a typo in a rehash never blanks it.
 */
void
irc_motd_load(void)
{
	char line[IRC_LINE_MAX], **lines = NULL, **nl;
	size_t n = 0, cap = 0, max, len;
	FILE *f;
	int ch;

	if (conf->motd == NULL) {
		motd_free(motd, motd_n);
		motd = NULL;
		motd_n = 0;
		motd_have = false;
		return;
	}
	if ((f = fopen(conf->motd, "r")) == NULL) {
		log_warn("irc", "motd %s", conf->motd);
		return;
	}
	/* ":server 372 nick :- " + text */
	len = 1 + strlen(server_name()) + 5 + NICKLEN_MAX + 4;
	max = len < LINE_BODY_MAX ? LINE_BODY_MAX - len : 0;
	if (max > sizeof(line) - 1)
		max = sizeof(line) - 1;
	while (n < MOTD_LINES_MAX && fgets(line, sizeof(line), f) != NULL) {
		len = strcspn(line, "\r\n");
		if (line[len] == '\0' && len == sizeof(line) - 1)
			/* longer than we keep: skip the rest of it */
			while ((ch = getc(f)) != EOF && ch != '\n')
				;
		line[len] = '\0';
		irc_utf8_trunc(line, max);
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			if ((nl = realloc(lines, cap * sizeof(*lines))) == NULL)
				goto fail;
			lines = nl;
		}
		if ((lines[n] = xstrdup(line)) == NULL)
			goto fail;
		n++;
	}
	if (ferror(f)) {
		log_warn("irc", "motd %s", conf->motd);
		motd_free(lines, n);
		fclose(f);
		return;
	}
	fclose(f);
	motd_free(motd, motd_n);
	motd = lines;
	motd_n = n;
	motd_have = true;
	return;
fail:
	log_warn("irc", "motd %s", conf->motd);
	motd_free(lines, n);
	fclose(f);
}

void
irc_send_motd(struct client *c)
{
	size_t i;

	if (!motd_have) {
		irc_numeric(c, ERR_NOMOTD, ":MOTD File is missing");
		return;
	}
	irc_numeric(c, RPL_MOTDSTART, ":- %s Message of the day - ",
	    server_name());
	for (i = 0; i < motd_n; i++)
		irc_numeric(c, RPL_MOTD, ":- %s", motd[i]);
	irc_numeric(c, RPL_ENDOFMOTD, ":End of /MOTD command.");
}

void
h_motd(struct client *c, struct msg *m)
{
	if (target_is_us(c, m, 0))
		irc_send_motd(c);
}

/* ---- LUSERS, VERSION, TIME, ADMIN, INFO ---- */

void
irc_send_lusers(struct client *c)
{
	unsigned users = irc.nusers, invis = irc.ninvisible;
	unsigned max = irc.max_users > users ? irc.max_users : users;

	if (conf->suppress_lusers && !is_oper(c))	/* Ergo's key */
		return;
	if (invis > users)
		invis = users;
	irc_numeric(c, RPL_LUSERCLIENT,
	    ":There are %u users and %u invisible on 1 servers",
	    users - invis, invis);
	if (irc.nopers > 0)
		irc_numeric(c, RPL_LUSEROP, "%u :operator(s) online",
		    irc.nopers);
	if (irc.nunknown > 0)
		irc_numeric(c, RPL_LUSERUNKNOWN, "%u :unknown connection(s)",
		    irc.nunknown);
	if (irc.chans.n > 0)
		irc_numeric(c, RPL_LUSERCHANNELS, "%zu :channels formed",
		    irc.chans.n);
	irc_numeric(c, RPL_LUSERME, ":I have %u clients and 0 servers", users);
	irc_numeric(c, RPL_LOCALUSERS, "%u %u :Current local users %u, max %u",
	    users, max, users, max);
	irc_numeric(c, RPL_GLOBALUSERS,
	    "%u %u :Current global users %u, max %u", users, max, users, max);
}

/* ISUPPORT: the 005 lines again (as Ergo and the modern spec have it) */
void
h_isupport(struct client *c, struct msg *m)
{
	(void)m;
	irc_send_isupport(c);
}

void
h_lusers(struct client *c, struct msg *m)
{
	if (target_is_us(c, m, 1))
		irc_send_lusers(c);
}

void
h_version(struct client *c, struct msg *m)
{
	if (!target_is_us(c, m, 0))
		return;
	irc_numeric(c, RPL_VERSION, "%s %s :portable single-threaded ircd",
	    ERGO_VERSION, server_name());
	irc_send_isupport(c);
}

static void
time_text(char *buf, size_t sz, time_t t)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(buf, sz, "%A %B %d %Y -- %H:%M:%S %z", &tm) == 0)
		snprintf(buf, sz, "%lld", (long long)t);
}

void
h_time(struct client *c, struct msg *m)
{
	char buf[128];

	if (!target_is_us(c, m, 0))
		return;
	time_text(buf, sizeof(buf), ergo_now);
	irc_numeric(c, RPL_TIME, "%s :%s", server_name(), buf);
}

void
h_admin(struct client *c, struct msg *m)
{
	if (!target_is_us(c, m, 0))
		return;
	irc_numeric(c, RPL_ADMINME, "%s :Administrative info", server_name());
	irc_numeric(c, RPL_ADMINLOC1, ":%s", conf->admin_loc1 != NULL ?
	    conf->admin_loc1 : server_info());
	irc_numeric(c, RPL_ADMINLOC2, ":%s", conf->admin_loc2 != NULL ?
	    conf->admin_loc2 : (conf->network_name != NULL ?
	    conf->network_name : ""));
	irc_numeric(c, RPL_ADMINEMAIL, ":%s", conf->admin_email != NULL ?
	    conf->admin_email : "No contact address configured");
}

void
h_info(struct client *c, struct msg *m)
{
	char buf[128];

	if (!target_is_us(c, m, 0))
		return;
	irc_numeric(c, RPL_INFO, ":%s", ERGO_VERSION);
	irc_numeric(c, RPL_INFO,
	    ":A portable, single-threaded poll() IRC server in C,");
	irc_numeric(c, RPL_INFO,
	    ":after the design of the Ergo IRC server (ergo.chat).");
	irc_numeric(c, RPL_INFO, ":Libraries: BearSSL, SQLite.");
	time_text(buf, sizeof(buf), irc.started);
	irc_numeric(c, RPL_INFO, ":On-line since %s", buf);
	irc_numeric(c, RPL_ENDOFINFO, ":End of INFO list");
}

/* ---- operator commands ---- */

/*
 * Whether c may OPER from where it is: o's hosts masks (user@host or
 * host, space-separated) against its ident and its real address, never
 * its cloak or a vhost; no hosts: from anywhere.
 */
static bool
oper_host_ok(const struct client *c, const struct oper_conf *o)
{
	char mask[256];
	const char *p = o->hosts, *ip, *at, *user, *host;
	size_t n;

	if (p == NULL)
		return true;
	ip = irc_sess(c)->conn != NULL ? net_conn_ip(irc_sess(c)->conn) : c->host;
	user = c->user != NULL ? c->user : "";
	while (*p != '\0') {
		p += strspn(p, " ");
		if ((n = strcspn(p, " ")) == 0)
			break;
		snprintf(mask, sizeof(mask), "%.*s", (int)n, p);
		p += n;
		if ((at = strchr(mask, '@')) != NULL) {
			mask[at - mask] = '\0';
			host = at + 1;
			/* "ops@" also hits "~ops", who runs no identd */
			if (!irc_match(mask, user) && !(user[0] == '~' &&
			    irc_match(mask, user + 1)))
				continue;
		} else
			host = mask;
		if (irc_match(host, ip))
			return true;
	}
	return false;
}

/*
 * OPER name password: name is case-sensitive, as in Ergo's oper blocks.
 * Failures are throttled (5 a minute by address and by name, shared with
 * SASL and NickServ logins) and logged at warn with the real address; an
 * unknown name costs the PBKDF2 a known one does, and every refusal reads
 * the same (464), so neither timing nor replies tell which names exist.
 */
void
h_oper(struct client *c, struct msg *m)
{
	const struct oper_conf *o, *d;
	const char *fp, *why = NULL;
	bool throttled;

	for (o = conf->opers; o != NULL; o = o->next)
		if (o->name != NULL && strcmp(o->name, m->param[0]) == 0)
			break;
	/* One parameter is enough only for a certfp-only block. */
	if (m->nparam < 2 && (o == NULL || o->password != NULL)) {
		irc_numeric(c, ERR_NEEDMOREPARAMS, "OPER :Not enough "
		    "parameters");
		return;
	}
	if (conf->opers == NULL) {
		irc_numeric(c, ERR_NOOPERHOST, ":No O-lines for your host");
		return;
	}
	if ((throttled = irc_oper_throttled(c, m->param[0])))
		why = "too many failures, throttled";
	else if (o == NULL) {
		/* the hash a known name would cost, the answer ignored */
		for (d = conf->opers; d != NULL && d->password == NULL;
		    d = d->next)
			;
		if (d != NULL)
			(void)conf_passwd_verify(d->password, m->nparam > 1 ?
			    m->param[1] : "");
		why = "no such oper";
	} else if (o->password != NULL &&
	    !conf_passwd_verify(o->password, m->param[1]))
		why = "wrong password";
	else if (o->certfp != NULL && (irc_sess(c)->conn == NULL ||
	    (fp = net_conn_certfp(irc_sess(c)->conn)) == NULL ||
	    strcmp(fp, o->certfp) != 0))
		why = "certfp missing or not the block's";
	else if (!oper_host_ok(c, o))
		why = "host not in the block's hosts";
	if (why != NULL) {
		if (!throttled)
			irc_oper_failed(c, m->param[0]);
		log_warnx("opers", "failed OPER as %s by %s from %s: %s",
		    m->param[0], irc_prefix(c), irc_sess(c)->conn != NULL ?
		    net_conn_ip(irc_sess(c)->conn) : c->host, why);
		irc_numeric(c, ERR_PASSWDMISMATCH, ":Password incorrect");
		return;
	}
	if (!irc_oper_up(c, o))
		return;
	if (o->vhost != NULL && strcmp(o->vhost, c->host) != 0) {
		irc_user_chghost(c, NULL, o->vhost);
		irc_numeric(c, RPL_VISIBLEHOST, "%s :is now your displayed host",
		    c->host);
	}
	irc_numeric(c, RPL_YOUREOPER, ":You are now an IRC operator");
	log_info("opers", "%s is now an operator (%s, class %s%s)",
	    irc_prefix(c), o->name, c->ext->oper_class,
	    (c->flags & CF_FLOODOK) ? ", no fakelag" : "");
	irc_sno('o', "Client opered up [%s, %s]", irc_prefix(c), o->name);
}

/*
 * DEOPER: as MODE nick -o, as Ergo does it; "Insufficient oper privs"
 * to one who is not an operator.
 */
void
h_deoper(struct client *c, struct msg *m)
{
	(void)m;
	if (!is_oper(c)) {
		irc_send(c, ":%s NOTICE %s :Insufficient oper privs",
		    server_name(), c->nick);
		return;
	}
	log_info("opers", "%s is no longer an operator (%s)", irc_prefix(c),
	    irc_oper_name_or(c, "?"));
	irc_oper_down(c);
	irc_send(c, ":%s MODE %s :-o", c->nick, c->nick);
}

/* KILL nick [:reason] (Ergo: the reason is optional) */
void
h_kill(struct client *c, struct msg *m)
{
	const char *reason = m->nparam > 1 && m->param[1][0] != '\0' ?
	    m->param[1] : "No reason given";
	char killer[IRC_LINE_MAX], why[IRC_LINE_MAX];
	struct client *v;

	if (irc_casecmp(m->param[0], server_name()) == 0 ||
	    strchr(m->param[0], '.') != NULL) {
		irc_numeric(c, ERR_CANTKILLSERVER, ":You can't kill a server!");
		return;
	}
	if (!is_user(v = irc_client_find(m->param[0]))) {
		irc_numeric(c, ERR_NOSUCHNICK, "%s :No such nick/channel",
		    m->param[0]);
		return;
	}
	snprintf(killer, sizeof(killer), "%s", irc_prefix(c));
	snprintf(why, sizeof(why), "Killed (%s (%s))", c->nick, reason);
	log_info("opers", "%s killed %s: %s", killer, irc_prefix(v), reason);
	irc_sno('k', "%s was killed by %s [%s]", v->nick, c->nick, reason);
	irc_send(v, ":%s KILL %s :%s", killer, v->nick, reason);
	irc_user_kill(v, why, why);
}

/* WALLOPS :text, to every +w user; formatted once. */
void
h_wallops(struct client *c, struct msg *m)
{
	struct irc_ev ev;
	struct hent *e;
	size_t i;

	irc_ev_init(&ev, c, false, ":%s WALLOPS :%s", irc_prefix(c),
	    m->param[0]);
	for (i = 0; i < irc.nicks.nb; i++)
		for (e = irc.nicks.b[i]; e != NULL; e = e->next) {
			struct client *u = client_of(e);

			if (is_user(u) && (u->umodes & UMODE_WALLOPS))
				irc_ev_send(&ev, u);
		}
	irc_ev_done(&ev);
}

/*
 * REHASH: a failed rehash leaves the old config running and tells the
 * oper why, one NOTICE per FILE:LINE:COL error.
 */
void
h_rehash(struct client *c, struct msg *m)
{
	char *errs = NULL, *line, *save = NULL;

	(void)m;
	log_info("opers", "%s is rehashing", irc_prefix(c));
	if (irc.rehash(&errs) == 0) {
		irc_numeric(c, RPL_REHASHING, "%s :Rehashing",
		    conf->path != NULL ? conf->path : "ergo.conf");
		free(errs);
		return;
	}
	if (errs == NULL || errs[0] == '\0')
		irc_send(c, ":%s NOTICE %s :Rehash failed", server_name(),
		    c->nick);
	else
		for (line = strtok_r(errs, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save))
			irc_send(c, ":%s NOTICE %s :Rehash failed: %s",
			    server_name(), c->nick, line);
	free(errs);
}

/* DIE: an orderly shutdown through the same path as SIGTERM. */
void
h_die(struct client *c, struct msg *m)
{
	(void)m;
	log_warnx("opers", "DIE by %s", irc_prefix(c));
	irc_send(c, ":%s NOTICE %s :Server terminating", server_name(),
	    c->nick);
	raise(SIGTERM);
}
