/*
 * irc_link.c: TS6 server links: their connections (in and out), the
 * handshake (PASS CAPAB SERVER SVINFO), the server tree (SID, SQUIT),
 * keepalive, autoconnect with back-off, the server command table, and
 * the operators' CONNECT, SQUIT and LINKS. Users and channels carried
 * over links are irc_link_user.c's. Calls net, irc_state and irc_out;
 * never another family.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "irc_link.h"
#include "irc_link_int.h"
#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "net.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_num.h"

#define LK_TS_CURRENT	6
/* ERGO: another of ours (Ergo's channel modes, ranks and extbans) */
#define LK_CAPAB	"QS EX IE KLN UNKLN CLUSTER ENCAP TB SERVICES EUID EOPMOD HOPS STAG ERGO"
#define LK_RETRY_MAX	32	/* back-off stops doubling at this factor */

struct server	 lk_me;
struct link	*lk_links;
struct server	*lk_servers;
struct link	*lk_cur;
struct lk_hooks	 lk_hooks;

/* autoconnect state per configured link, by name */
struct retry {
	struct retry	*next;
	char		 name[64];
	time_t		 next_try;
	unsigned	 backoff;	/* seconds */
};
static struct retry	*retries;
static unsigned		 nservers;

/* ---- the server tree ---- */

struct server *
lk_server_sid(const char *sid)
{
	struct server *s;

	if (lk_me.sid[0] != '\0' && strcmp(sid, lk_me.sid) == 0)
		return &lk_me;
	for (s = lk_servers; s != NULL; s = s->next)
		if (strcmp(s->sid, sid) == 0)
			return s;
	return NULL;
}

struct server *
lk_server_name(const char *name)
{
	struct server *s;

	if (strcasecmp(name, lk_me.name) == 0)
		return &lk_me;
	for (s = lk_servers; s != NULL; s = s->next)
		if (strcasecmp(s->name, name) == 0)
			return s;
	return NULL;
}

static bool
sid_valid(const char *s)
{
	return strlen(s) == LK_SIDLEN && s[0] >= '0' && s[0] <= '9' &&
	    strspn(s + 1, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") == 2;
}

static bool
servername_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < sizeof(lk_me.name) && strchr(s, '.') != NULL &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-_") == n;
}

static struct server *
server_add(const char *sid, const char *name, const char *info,
    unsigned hops, struct server *uplink, struct link *via)
{
	struct server *s;

	if (nservers >= LK_SERVERS_MAX || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	snprintf(s->sid, sizeof(s->sid), "%s", sid);
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->info, sizeof(s->info), "%s", info);
	s->hops = hops;
	s->uplink = uplink;
	s->via = via;
	s->next = lk_servers;
	lk_servers = s;
	nservers++;
	return s;
}

/*
 * s and every server behind it go: their users quit (netsplit), then
 * the servers, the farthest first. Other links are told by the caller.
 */
static void
server_remove(struct server *s, const char *why)
{
	struct server *o, **pp;

	for (;;) {
		for (o = lk_servers; o != NULL; o = o->next)
			if (o->uplink == s)
				break;
		if (o == NULL)
			break;
		server_remove(o, why);
	}
	log_info("link", "server %s (%s) split: %s", s->name, s->sid, why);
	if (lk_hooks.split != NULL)
		lk_hooks.split(s);
	for (pp = &lk_servers; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	nservers--;
	free(s);
}

/* ---- sending ---- */

static void
vsend(struct link *l, const char *fmt, va_list ap)
{
	char buf[IRC_LINE_MAX + 1];
	size_t n;

	if (l->conn == NULL || l->dead)
		return;
	n = irc_vformat(buf, sizeof(buf), fmt, ap);
	if (log_wants(LL_DEBUG, "link"))
		log_debug("link", "%s -> %.*s", l->name,
		    (int)(n > 2 ? n - 2 : 0), buf);
	net_conn_send(l->conn, buf, n);
}

void
lk_send(struct link *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsend(l, fmt, ap);
	va_end(ap);
}

void
lk_send_tagged(struct link *l, const char *tags, const char *line)
{
	char buf[IRC_TAGS_MAX + IRC_LINE_MAX + 1];
	size_t n;

	if (l->conn == NULL || l->dead)
		return;
	n = (size_t)snprintf(buf, sizeof(buf), "%s%.*s\r\n", tags,
	    IRC_LINE_MAX - 2, line);
	if (n >= sizeof(buf))
		return;
	if (log_wants(LL_DEBUG, "link"))
		log_debug("link", "%s -> %.*s", l->name, (int)(n - 2), buf);
	net_conn_send(l->conn, buf, n);
}

void
lk_send_all(struct link *except, const char *fmt, ...)
{
	struct link *l;
	va_list ap;

	for (l = lk_links; l != NULL; l = l->next)
		if (l != except && l->state == LS_UP && !l->dead) {
			va_start(ap, fmt);
			vsend(l, fmt, ap);
			va_end(ap);
		}
}

/* ---- links ---- */

static const struct link_conf *
link_conf_find(const char *name)
{
	const struct link_conf *lc;

	for (lc = conf->links; lc != NULL; lc = lc->next)
		if (strcasecmp(lc->name, name) == 0)
			return lc;
	return NULL;
}

static struct retry *
retry_of(const char *name)
{
	struct retry *r;

	for (r = retries; r != NULL; r = r->next)
		if (strcasecmp(r->name, name) == 0)
			return r;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return NULL;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->backoff = conf->link_retry;
	r->next = retries;
	retries = r;
	return r;
}

static struct link *
link_new(struct conn *conn, bool outbound, const char *name)
{
	struct link *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NULL;
	l->conn = conn;
	l->outbound = outbound;
	l->state = LS_HANDSHAKE;
	l->since_ms = l->last_recv_ms = ergo_now_ms;
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->next = lk_links;
	lk_links = l;
	return l;
}

/* PASS CAPAB SERVER: who we are, once per link. */
static void
send_hello(struct link *l, const struct link_conf *lc)
{
	if (l->sent_hello)
		return;
	l->sent_hello = true;
	lk_send(l, "PASS %s TS %d :%s", lc->send_password, LK_TS_CURRENT,
	    lk_me.sid);
	lk_send(l, "CAPAB :%s", LK_CAPAB);
	/* with our SID and flags, which ircd-hybrid 8.2 requires; to a
	 * peer that named itself the older way, the older way */
	if (l->old_server)
		lk_send(l, "SERVER %s 1 :%s", lk_me.name, lk_me.info);
	else
		lk_send(l, "SERVER %s 1 %s + :%s", lk_me.name, lk_me.sid,
		    lk_me.info);
}

void
lk_drop(struct link *l, const char *reason)
{
	struct retry *r;

	if (l->dead)
		return;
	l->dead = true;
	log_info("link", "link with %s (%s) ended: %s", l->name, l->ip,
	    reason);
	if (l->conn != NULL) {
		net_conn_close(l->conn, reason);
		l->conn = NULL;
	}
	if (l->srv != NULL) {
		lk_send_all(l, ":%s SQUIT %s :%s", lk_me.sid, l->srv->sid,
		    reason);
		server_remove(l->srv, reason);
		l->srv = NULL;
	}
	if (l->outbound && (r = retry_of(l->name)) != NULL) {
		r->next_try = ergo_now + (time_t)r->backoff;
		if (r->backoff < conf->link_retry * LK_RETRY_MAX)
			r->backoff *= 2;
	}
}

/* Starts an outgoing link to lc; NULL if it could not start (logged). */
static struct link *
link_connect(const struct link_conf *lc)
{
	struct link *l;
	struct conn *conn;

	if ((l = link_new(NULL, true, lc->name)) == NULL)
		return NULL;
	snprintf(l->ip, sizeof(l->ip), "%s", lc->host);
	if ((conn = net_connect(lc->host, lc->port, lc->tls, l)) == NULL) {
		l->dead = true;
		return NULL;
	}
	l->conn = conn;
	net_conn_set_sendq(conn, lc->sendq);
	log_info("link", "connecting to %s (%s port %u%s)", lc->name,
	    lc->host, lc->port, lc->tls ? ", TLS" : "");
	if (!lc->tls)		/* over TLS: once its certificate is known */
		send_hello(l, lc);
	return l;
}

/* A live link (or one starting) to this name? */
static struct link *
link_named(const char *name)
{
	struct link *l;

	for (l = lk_links; l != NULL; l = l->next)
		if (!l->dead && strcasecmp(l->name, name) == 0)
			return l;
	return NULL;
}

void *
irc_link_open(struct conn *conn)
{
	struct link *l;

	if (lk_me.sid[0] == '\0') {
		log_info("link", "refused a server connection from %s: no "
		    "server.sid configured", net_conn_ip(conn));
		return NULL;
	}
	if ((l = link_new(conn, false, "*")) == NULL)
		return NULL;
	snprintf(l->ip, sizeof(l->ip), "%s", net_conn_ip(conn));
	log_info("link", "server connection from %s", l->ip);
	return l;
}

void
irc_link_closed(void *handle, const char *reason)
{
	struct link *l = handle;

	l->conn = NULL;		/* net is done with it */
	lk_drop(l, reason != NULL ? reason : "Connection closed");
}

void
irc_link_toolong(void *handle)
{
	lk_drop(handle, "Line too long");
}

/* ---- the handshake ---- */

/*
 * A TLS link's certificate against the link block: true if it may go
 * on; else the link is dropped (logged). Our password goes only to a
 * peer that passed.
 */
static bool
tls_check(struct link *l, const struct link_conf *lc)
{
	const char *fp;

	if (!lc->tls)
		return true;
	if (l->conn == NULL || !net_conn_tls(l->conn)) {
		log_warnx("link", "%s from %s: not over TLS, but its link "
		    "block says tls yes", lc->name, l->ip);
		lk_drop(l, "TLS required");
		return false;
	}
	fp = net_conn_peer_certfp(l->conn);
	if (lc->certfp == NULL)
		return true;
	if (fp == NULL || strcmp(fp, lc->certfp) != 0) {
		log_warnx("link", "%s (%s): certificate fingerprint %s, not "
		    "the link block's %s", lc->name, l->ip, fp != NULL ? fp :
		    "(none)", lc->certfp);
		lk_drop(l, "Certificate fingerprint mismatch");
		return false;
	}
	return true;
}

/* An outgoing TLS link whose handshake is done: checked, then hello. */
static void
tls_outbound_ready(struct link *l)
{
	const struct link_conf *lc = link_conf_find(l->name);

	if (lc == NULL) {
		lk_drop(l, "Link removed from the configuration");
		return;
	}
	if (net_conn_peer_certfp(l->conn) == NULL)
		return;		/* handshake not done yet */
	if (tls_check(l, lc))
		send_hello(l, lc);
}

/* The servers behind parent that l does not know yet, nearest first. */
static void
burst_servers(struct link *l, struct server *parent)
{
	struct server *s;

	for (s = lk_servers; s != NULL; s = s->next)
		if (s->uplink == parent && s->via != l) {
			lk_send(l, ":%s SID %s %u %s :%s", parent->sid, s->name,
			    s->hops + 1, s->sid, s->info);
			burst_servers(l, s);
		}
}

static lk_fn	s_capab, s_error, s_pass, s_ping, s_pong, s_server, s_sid,
		s_squit, s_svinfo;

static void
s_pass(struct link *l, struct server *from, struct client *u, struct msg *m)
{
	(void)from;
	(void)u;
	if (l->state != LS_HANDSHAKE || l->got_pass)
		return;
	/* PASS password TS 6 :SID, or (ircd-hybrid 8.2's) PASS password
	 * with the SID in SERVER */
	if (m->nparam != 1 && (m->nparam < 4 ||
	    strcmp(m->param[1], "TS") != 0 ||
	    atoi(m->param[2]) < LK_TS_CURRENT || !sid_valid(m->param[3]))) {
		lk_drop(l, "Not a TS6 server (PASS password TS 6 :SID)");
		return;
	}
	free(l->pass);
	if ((l->pass = xstrdup(m->param[0])) == NULL) {
		lk_drop(l, "Out of memory");
		return;
	}
	snprintf(l->peer_sid, sizeof(l->peer_sid), "%s", m->nparam >= 4 ?
	    m->param[3] : "");
	l->got_pass = true;
}

static void
s_capab(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	static const struct { const char *name; unsigned bit; } known[] = {
		{ "EUID", LKCAP_EUID }, { "TB", LKCAP_TB },
		{ "ENCAP", LKCAP_ENCAP }, { "EX", LKCAP_EX },
		{ "IE", LKCAP_IE }, { "HOPS", LKCAP_HOPS },
		{ "HOP", LKCAP_HOPS }, { "TBURST", LKCAP_TBURST },
		{ "RHOST", LKCAP_HYBRID }, { "KLN", LKCAP_KLN },
		{ "ERGO", LKCAP_ERGO }, { "STAG", LKCAP_STAG },
	};
	char *save = NULL, *w;
	size_t i;

	(void)from;
	(void)u;
	if (l->state != LS_HANDSHAKE || m->nparam < 1)
		return;
	for (w = strtok_r(m->param[m->nparam - 1], " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save))
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (strcmp(w, known[i].name) == 0)
				l->caps |= known[i].bit;
}

/* SERVER name hops :info: the peer names itself; checked, then burst. */
static void
s_server(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	const struct link_conf *lc;
	const char *name;
	char why[160];
	struct retry *r;
	struct link *o;
	size_t i;

	(void)from;
	(void)u;
	if (l->state != LS_HANDSHAKE) {
		lk_drop(l, "SERVER after the handshake (use SID)");
		return;
	}
	if (m->nparam < 3 || !l->got_pass) {
		lk_drop(l, "Expected PASS, CAPAB, then SERVER");
		return;
	}
	/* SERVER name hops sid +flags :info names the SID (hybrid 8.2) */
	if (m->nparam >= 5 && sid_valid(m->param[2]))
		snprintf(l->peer_sid, sizeof(l->peer_sid), "%s", m->param[2]);
	else
		l->old_server = true;
	if (l->peer_sid[0] == '\0') {
		lk_drop(l, "Not a TS6 server (no SID in PASS or SERVER)");
		return;
	}
	name = m->param[0];
	if (!servername_valid(name)) {
		lk_drop(l, "Bad server name");
		return;
	}
	if ((lc = link_conf_find(name)) == NULL) {
		log_warnx("link", "server %s from %s has no link block",
		    name, l->ip);
		lk_drop(l, "No link block for this server");
		return;
	}
	if (l->outbound && strcasecmp(name, l->name) != 0) {
		snprintf(why, sizeof(why), "Expected %s, not %s", l->name,
		    name);
		lk_drop(l, why);
		return;
	}
	if (!conf_passwd_verify(lc->recv_password, l->pass)) {
		log_warnx("link", "server %s from %s: wrong password", name,
		    l->ip);
		lk_drop(l, "Bad password");
		return;
	}
	free(l->pass);
	l->pass = NULL;
	if (!tls_check(l, lc))
		return;
	if (!(l->caps & LKCAP_ENCAP)) {
		lk_drop(l, "The peer must support ENCAP (CAPAB)");
		return;
	}
	if (lk_server_name(name) != NULL ||
	    ((o = link_named(name)) != NULL && o != l)) {
		lk_drop(l, "Server exists");
		return;
	}
	if (lk_server_sid(l->peer_sid) != NULL) {
		lk_drop(l, "SID in use");
		return;
	}
	snprintf(l->name, sizeof(l->name), "%s", name);
	if ((l->srv = server_add(l->peer_sid, name, m->param[m->nparam - 1],
	    1, &lk_me, l)) == NULL) {
		lk_drop(l, "Out of memory");
		return;
	}
	if (l->conn != NULL)
		net_conn_set_sendq(l->conn, lc->sendq);
	send_hello(l, lc);
	l->state = LS_UP;
	if ((r = retry_of(name)) != NULL)
		r->backoff = conf->link_retry;
	log_info("link", "link with %s (%s, %s) established", name,
	    l->peer_sid, l->ip);
	lk_send(l, "SVINFO %d %d 0 :%lld", LK_TS_CURRENT, LK_TS_CURRENT,
	    (long long)ergo_now);
	lk_send_all(l, ":%s SID %s 2 %s :%s", lk_me.sid, name, l->peer_sid,
	    l->srv->info);
	burst_servers(l, &lk_me);
	for (i = 0; i < lk_hooks.nburst; i++)	/* users, channels, services */
		lk_hooks.burst[i](l);
	/* its PONG tells us it has taken the whole burst */
	lk_send(l, ":%s PING %s :%s", lk_me.sid, lk_me.name, l->peer_sid);
}

static void
s_svinfo(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	long long ts, delta;
	char why[128];

	(void)from;
	(void)u;
	if (m->nparam < 4 || atoi(m->param[0]) < LK_TS_CURRENT) {
		lk_drop(l, "Incompatible TS version");
		return;
	}
	ts = strtoll(m->param[3], NULL, 10);
	delta = (long long)ergo_now - ts;
	if (delta < 0)
		delta = -delta;
	if (delta > (long long)conf->ts_max_delta) {
		snprintf(why, sizeof(why), "Clock delta of %llds is over "
		    "ts-max-delta (%us)", delta, conf->ts_max_delta);
		log_warnx("link", "%s: %s", l->name, why);
		lk_drop(l, why);
		return;
	}
	if (delta > 10)
		log_warnx("link", "%s: clocks differ by %llds", l->name,
		    delta);
	l->got_svinfo = true;
}

static void
s_error(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	char why[IRC_LINE_MAX];

	(void)from;
	(void)u;
	snprintf(why, sizeof(why), "ERROR from %s: %s", l->name,
	    m->nparam > 0 ? m->param[0] : "");
	log_warnx("link", "%s", why);
	lk_drop(l, why);
}

/* PING origin [dest]: answered for us, passed on for others. */
static void
s_ping(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	struct server *d;
	const char *src = from != NULL ? from->sid : l->peer_sid;

	(void)u;
	if (m->nparam < 1)
		return;
	if (m->nparam >= 2 && (d = lk_server_sid(m->param[1])) == NULL)
		d = lk_server_name(m->param[1]);
	else
		d = &lk_me;
	if (d == NULL)
		return;
	if (d != &lk_me) {
		if (d->via != NULL && d->via != l)
			lk_send(d->via, ":%s PING %s :%s", src, m->param[0],
			    d->sid);
		return;
	}
	lk_send(l, ":%s PONG %s :%s", lk_me.sid, lk_me.name, src);
}

static void
s_pong(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	struct server *d;

	(void)u;
	if (m->nparam >= 2 && (d = lk_server_sid(m->param[1])) != NULL &&
	    d != &lk_me) {
		if (d->via != NULL && d->via != l && from != NULL)
			lk_send(d->via, ":%s PONG %s :%s", from->sid,
			    m->param[0], d->sid);
		return;
	}
	l->pinged = false;
	if (!l->eob && from == l->srv) {
		l->eob = true;
		log_info("link", "end of burst from %s (%llu ms)", l->name,
		    (unsigned long long)(ergo_now_ms - l->since_ms));
	}
}

/* :uplink SID name hops sid :info: a server behind the peer. */
static void
s_sid(struct link *l, struct server *from, struct client *u, struct msg *m)
{
	const struct link_conf *lc = link_conf_find(l->name);
	struct server *s;

	(void)u;
	if (from == NULL || m->nparam < 4)
		return;
	if (lc == NULL || !lc->hub) {
		lk_drop(l, "Not a hub: it may not introduce servers");
		return;
	}
	if (!sid_valid(m->param[2]) || !servername_valid(m->param[0])) {
		lk_drop(l, "Bad SID");
		return;
	}
	if (lk_server_sid(m->param[2]) != NULL ||
	    lk_server_name(m->param[0]) != NULL) {
		lk_drop(l, "Server exists");	/* a loop */
		return;
	}
	if ((s = server_add(m->param[2], m->param[0], m->param[m->nparam - 1],
	    from->hops + 1, from, l)) == NULL) {
		lk_drop(l, "Too many servers");
		return;
	}
	log_info("link", "server %s (%s) joined behind %s", s->name, s->sid,
	    from->name);
	lk_send_all(l, ":%s SID %s %u %s :%s", from->sid, s->name, s->hops + 1,
	    s->sid, s->info);
}

/* SQUIT sid :reason */
static void
s_squit(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	struct server *s;
	const char *why = m->nparam > 1 ? m->param[1] : "SQUIT";

	(void)from;
	(void)u;
	if (m->nparam < 1)
		return;
	if ((s = lk_server_sid(m->param[0])) == NULL &&
	    (s = lk_server_name(m->param[0])) == NULL)
		return;
	if (s == &lk_me || s == l->srv) {
		lk_drop(l, why);
		return;
	}
	if (s->via != l) {	/* one of ours on another link: drop it */
		if (s->via != NULL && s->via->srv == s)
			lk_drop(s->via, why);
		return;
	}
	lk_send_all(l, ":%s SQUIT %s :%s", from != NULL ? from->sid :
	    lk_me.sid, s->sid, why);
	server_remove(s, why);
}

/* ---- the server command table: sorted, searched with bsearch ---- */

#define LK_CMDS_MAX	64

/* every file's commands, sorted as they are added */
static struct lk_cmd	 cmds[LK_CMDS_MAX];
static size_t		 ncmds;

static int
cmd_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct lk_cmd *)elem)->name);
}

void
lk_cmds_add(const struct lk_cmd *add, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (ncmds == LK_CMDS_MAX)
			fatalx("link commands: more than %d", LK_CMDS_MAX);
		for (j = ncmds; j > 0 && strcmp(cmds[j - 1].name,
		    add[i].name) >= 0; j--)
			if (strcmp(cmds[j - 1].name, add[i].name) == 0)
				fatalx("link commands: %s twice", add[i].name);
		memmove(cmds + j + 1, cmds + j, (ncmds - j) * sizeof(cmds[0]));
		cmds[j] = add[i];
		ncmds++;
	}
}

void
lk_burst_add(void (*fn)(struct link *))
{
	if (lk_hooks.nburst == LK_BURST_MAX)
		fatalx("link burst: more than %d parts", LK_BURST_MAX);
	lk_hooks.burst[lk_hooks.nburst++] = fn;
}

static const struct lk_cmd core_cmds[] = {
	{ "CAPAB",	s_capab,	1, 0 },
	{ "ERROR",	s_error,	0, 0 },
	{ "PASS",	s_pass,		1, 0 },
	{ "PING",	s_ping,		1, 0 },
	{ "PONG",	s_pong,		1, LK_UP },
	{ "SERVER",	s_server,	3, 0 },
	{ "SID",	s_sid,		4, LK_UP },
	{ "SQUIT",	s_squit,	1, LK_UP },
	{ "SVINFO",	s_svinfo,	4, 0 },
};

/* Commands we do not know, each logged once (the first few kinds). */
static void
unknown_log(const struct link *l, const char *cmd)
{
	static char seen[16][16];
	size_t i;

	for (i = 0; i < 16 && seen[i][0] != '\0'; i++)
		if (strcmp(seen[i], cmd) == 0)
			return;
	if (i == 16)
		return;
	snprintf(seen[i], sizeof(seen[i]), "%s", cmd);
	log_info("link", "%s sent %s, which is not implemented: ignored "
	    "(logged once)", l->name, cmd);
}

int
irc_link_line(void *handle, char *line, size_t len)
{
	struct link *l = handle;
	const struct lk_cmd *sc;
	struct server *from = NULL;
	struct client *u = NULL;
	struct msg m;

	if (l->dead)
		return NET_STOP;
	l->last_recv_ms = ergo_now_ms;
	if (log_wants(LL_DEBUG, "link"))
		log_debug("link", "%s <- %s", l->name, line);
	if (strlen(line) != len || !irc_utf8_valid(line, len)) {
		lk_drop(l, "Malformed line (NUL or not UTF-8)");
		return NET_STOP;
	}
	if (irc_parse(line, &m) == -1)
		return NET_MORE;
	if (m.source != NULL && l->state == LS_UP) {
		if (strlen(m.source) == LK_SIDLEN)
			from = lk_server_sid(m.source);
		else if (strlen(m.source) == LK_UIDLEN)
			u = lk_hooks.user_uid != NULL ?
			    lk_hooks.user_uid(m.source) : NULL;
		else
			from = lk_server_name(m.source);
		if (from == NULL && u == NULL)
			return NET_MORE;	/* gone meanwhile (a race) */
		/* a source must be behind the link it came on */
		if ((from != NULL && from->via != l) ||
		    (u != NULL && u->lk->server->via != l)) {
			log_info("link", "%s sent a line from %s, which is not "
			    "behind it: ignored", l->name, m.source);
			return NET_MORE;
		}
	} else if (l->state == LS_UP)
		from = l->srv;
	sc = bsearch(m.cmd, cmds, ncmds, sizeof(cmds[0]), cmd_cmp);
	if (sc == NULL) {
		if (!(m.cmd[0] >= '0' && m.cmd[0] <= '9'))
			unknown_log(l, m.cmd);
		return NET_MORE;
	}
	if ((sc->flags & LK_UP) && l->state != LS_UP) {
		/* ircd-hybrid greets with "NOTICE * :*** Looking up..." */
		if (strcmp(m.cmd, "NOTICE") == 0)
			return NET_MORE;
		lk_drop(l, "Command before the handshake ended");
		return NET_STOP;
	}
	if (m.nparam < sc->min) {
		log_info("link", "%s sent %s with too few parameters: "
		    "ignored", l->name, m.cmd);
		return NET_MORE;
	}
	lk_cur = l;
	sc->fn(l, from, u, &m);
	lk_cur = NULL;
	return l->dead ? NET_STOP : NET_MORE;
}

/* ---- timers ---- */

static void
links_reap(void)
{
	struct link **pp, *l;

	for (pp = &lk_links; (l = *pp) != NULL;)
		if (l->dead) {
			*pp = l->next;
			free(l->pass);
			free(l);
		} else
			pp = &l->next;
}

static void
autoconnect(void)
{
	const struct link_conf *lc;
	struct retry *r;

	if (lk_me.sid[0] == '\0')
		return;
	for (lc = conf->links; lc != NULL; lc = lc->next) {
		if (!lc->autoconnect || lc->host == NULL ||
		    link_named(lc->name) != NULL ||
		    lk_server_name(lc->name) != NULL)
			continue;
		if ((r = retry_of(lc->name)) == NULL || ergo_now < r->next_try)
			continue;
		r->next_try = ergo_now + (time_t)r->backoff;
		(void)link_connect(lc);
	}
}

void
irc_link_tick(void)
{
	struct link *l;
	uint64_t lim = conf->link_ping * 1000ULL;

	for (l = lk_links; l != NULL; l = l->next) {
		if (l->dead)
			continue;
		if (l->state == LS_HANDSHAKE) {
			if (ergo_now_ms - l->since_ms > lim)
				lk_drop(l, "Handshake timed out");
			else if (l->outbound && !l->sent_hello &&
			    l->conn != NULL)
				tls_outbound_ready(l);
			continue;
		}
		if (!l->pinged && ergo_now_ms - l->last_recv_ms > lim) {
			l->pinged = true;
			l->ping_ms = ergo_now_ms;
			lk_send(l, ":%s PING %s :%s", lk_me.sid, lk_me.name,
			    l->peer_sid);
		} else if (l->pinged && ergo_now_ms - l->ping_ms > lim &&
		    ergo_now_ms - l->last_recv_ms > lim)
			lk_drop(l, "Ping timeout");
	}
	links_reap();
	autoconnect();
}

/* Our name and SID, from the config (a rehash cannot change a SID
 * while linked: the network knows us by it). */
static void
me_set(void)
{
	if (lk_servers == NULL || lk_me.sid[0] == '\0')
		snprintf(lk_me.sid, sizeof(lk_me.sid), "%s",
		    conf->sid != NULL ? conf->sid : "");
	else if (conf->sid == NULL || strcmp(conf->sid, lk_me.sid) != 0)
		log_warnx("link", "server.sid changed while linked: %s kept "
		    "until every link is down", lk_me.sid);
	snprintf(lk_me.name, sizeof(lk_me.name), "%s", conf->server_name);
	snprintf(lk_me.info, sizeof(lk_me.info), "%s", conf->server_info);
}

void
irc_link_rehashed(void)
{
	struct link *l;

	me_set();
	if (lk_hooks.rehashed != NULL)
		lk_hooks.rehashed();
	/* a link whose block went is ended */
	for (l = lk_links; l != NULL; l = l->next)
		if (!l->dead && l->state == LS_UP &&
		    link_conf_find(l->name) == NULL)
			lk_drop(l, "Link removed from the configuration");
}

void
irc_link_init(void)
{
	me_set();
	lk_cmds_add(core_cmds, sizeof(core_cmds) / sizeof(core_cmds[0]));
}

/* ---- operators' commands ---- */

/* CONNECT server */
void
h_connect(struct client *c, struct msg *m)
{
	const struct link_conf *lc;
	struct retry *r;

	if (lk_me.sid[0] == '\0') {
		irc_send(c, ":%s NOTICE %s :*** Linking is off (no "
		    "server.sid)", conf->server_name, c->nick);
		return;
	}
	if ((lc = link_conf_find(m->param[0])) == NULL || lc->host == NULL) {
		irc_numeric(c, ERR_NOSUCHSERVER, "%s :No such server (no link "
		    "block with a host)", irc_param_safe(m->param[0]));
		return;
	}
	if (lk_server_name(lc->name) != NULL || link_named(lc->name) != NULL) {
		irc_send(c, ":%s NOTICE %s :*** Connect: %s is already "
		    "linked or connecting", conf->server_name, c->nick,
		    lc->name);
		return;
	}
	if ((r = retry_of(lc->name)) != NULL)
		r->backoff = conf->link_retry;
	log_info("link", "CONNECT %s by %s", lc->name, irc_prefix(c));
	if (link_connect(lc) == NULL)
		irc_send(c, ":%s NOTICE %s :*** Connect: could not connect to "
		    "%s (see the log)", conf->server_name, c->nick, lc->name);
	else
		irc_send(c, ":%s NOTICE %s :*** Connecting to %s port %u",
		    conf->server_name, c->nick, lc->name, lc->port);
}

/* SQUIT server [:reason] */
void
h_squit(struct client *c, struct msg *m)
{
	struct server *s = lk_server_name(m->param[0]);
	struct link *l;
	char why[IRC_LINE_MAX];

	if (s == NULL && (l = link_named(m->param[0])) != NULL &&
	    l->state == LS_HANDSHAKE) {
		lk_drop(l, "SQUIT while connecting");
		return;
	}
	if (s == NULL || s == &lk_me) {
		irc_numeric(c, ERR_NOSUCHSERVER, "%s :No such server",
		    irc_param_safe(m->param[0]));
		return;
	}
	snprintf(why, sizeof(why), "%s", m->nparam > 1 && m->param[1][0] ?
	    m->param[1] : c->nick);
	log_info("link", "SQUIT %s by %s: %s", s->name, irc_prefix(c), why);
	if (s->via->srv == s) {
		lk_drop(s->via, why);
		return;
	}
	/* behind a peer: its uplink drops it, and the SQUIT comes back */
	lk_send(s->via, ":%s SQUIT %s :%s", lk_me.sid, s->sid, why);
}

/* LINKS [[server] mask]: the servers of the network. */
void
h_links(struct client *c, struct msg *m)
{
	const char *mask = m->nparam > 0 ? m->param[m->nparam - 1] : "*";
	struct server *s;

	if (irc_match(mask, lk_me.name))
		irc_numeric(c, RPL_LINKS, "%s %s :0 %s", lk_me.name,
		    lk_me.name, conf->server_info);
	for (s = lk_servers; s != NULL; s = s->next)
		if (irc_match(mask, s->name))
			irc_numeric(c, RPL_LINKS, "%s %s :%u %s", s->name,
			    s->uplink->name, s->hops, s->info);
	irc_numeric(c, RPL_ENDOFLINKS, "%s :End of /LINKS list.",
	    irc_param_safe(mask));
}
