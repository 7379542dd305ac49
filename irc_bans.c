/*
 * irc_bans.c: server bans. KLINE/UNKLINE (user@host masks), DLINE/UNDLINE
 * (IPs and CIDRs, IPv4 and IPv6), STATS k/d; rows live in store.c, a copy
 * in memory is what connections are checked against. No SQL here.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "irc_bans.h"
#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "net.h"
#include "store.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_num.h"
#include "irc_user.h"
#include "irc_oper.h"
#include "irc_account.h"


struct ban {
	struct ban	*next;
	struct store_ban b;
	/* a D-line, or a K-line whose host part is an IP or a CIDR */
	bool		 has_net;
	int		 fam;		/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];
	unsigned	 bits;
	char		*host;		/* K-line: after '@' in b.mask */
};

/* What a client of a REQUIRE-SASL network without a login is told. */
#define SASL_REQUIRED	"You must log in with SASL to join this server"

static struct ban	*bans;
static unsigned		 nbans;
static bool		 loaded;

static void bans_load(void);

static const char *
kind_name(int kind)
{
	return kind == 'k' ? "K-Line" : kind == 's' ? "D-Line (REQUIRE-SASL)" :
	    "D-Line";
}

/* ---- addresses ---- */

/*
 * "1.2.3.4", "2001:db8::/32", "::ffff:1.2.3.4": family, address with
 * the host bits cleared, prefix length. An IPv4-mapped IPv6 address is
 * taken as the IPv4 one. False if s is none of these.
 */
static bool
net_parse(const char *s, int *fam, unsigned char a[16], unsigned *bits)
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0, 0xff, 0xff };
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long b = 0;
	unsigned max, i;

	if (strlen(s) >= sizeof(buf))
		return false;
	snprintf(buf, sizeof(buf), "%s", s);
	if ((slash = strchr(buf, '/')) != NULL) {
		*slash++ = '\0';
		if (*slash < '0' || *slash > '9')
			return false;
		b = strtoul(slash, &end, 10);
		if (*end != '\0' || b > 128)
			return false;
	}
	memset(a, 0, 16);
	if (inet_pton(AF_INET, buf, a) == 1) {
		*fam = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, a) == 1) {
		*fam = AF_INET6;
		max = 128;
		if (memcmp(a, mapped, sizeof(mapped)) == 0 &&
		    (slash == NULL || b >= 96)) {
			memmove(a, a + 12, 4);
			memset(a + 4, 0, 12);
			*fam = AF_INET;
			max = 32;
			if (slash != NULL)
				b -= 96;
		}
	} else
		return false;
	if (slash == NULL)
		b = max;
	if (b > max)
		return false;
	*bits = (unsigned)b;
	for (i = 0; i < max / 8; i++)
		if (i * 8 >= b)
			a[i] = 0;
		else if (i * 8 + 8 > b)
			a[i] &= (unsigned char)(0xff << (8 - (b - i * 8)));
	return true;
}

/* The canonical text of a network: "192.0.2.0/24", or the bare address. */
static void
net_format(char *dst, size_t sz, int fam, const unsigned char a[16],
    unsigned bits)
{
	char ip[INET6_ADDRSTRLEN];

	if (inet_ntop(fam, a, ip, sizeof(ip)) == NULL)
		snprintf(ip, sizeof(ip), "?");
	if (bits == (fam == AF_INET ? 32U : 128U))
		snprintf(dst, sz, "%s", ip);
	else
		snprintf(dst, sz, "%s/%u", ip, bits);
}

static bool
net_contains(const struct ban *n, const char *ip)
{
	unsigned char a[16];
	unsigned bits, i;
	int fam;

	if (!n->has_net || ip == NULL || !net_parse(ip, &fam, a, &bits) ||
	    fam != n->fam)
		return false;
	for (i = 0; i < n->bits / 8; i++)
		if (a[i] != n->addr[i])
			return false;
	if (n->bits % 8 != 0 && ((a[i] ^ n->addr[i]) &
	    (unsigned char)(0xff << (8 - n->bits % 8))) != 0)
		return false;
	return true;
}

/* ---- the list in memory ---- */

/* As store.c's: a ban lasts through the second it expires in. */
static bool
ban_expired(const struct ban *b)
{
	return b->b.expires != 0 && b->b.expires < ergo_now;
}

static void
ban_free(struct ban *b)
{
	free(b->host);
	free(b);
}

/* A copy of sb for the list, with its mask parsed; NULL on ENOMEM. */
static struct ban *
ban_new(const struct store_ban *sb)
{
	struct ban *b;
	const char *at;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->b = *sb;
	if (sb->kind == 'd' || sb->kind == 's')
		b->has_net = net_parse(sb->mask, &b->fam, b->addr, &b->bits);
	else if ((at = strchr(sb->mask, '@')) != NULL) {
		if ((b->host = xstrdup(at + 1)) == NULL) {
			free(b);
			return NULL;
		}
		b->has_net = net_parse(b->host, &b->fam, b->addr, &b->bits);
	}
	return b;
}

static struct ban **
ban_find(int kind, const char *mask)
{
	struct ban **pp;

	for (pp = &bans; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->b.kind == kind && strcmp((*pp)->b.mask, mask) == 0)
			return pp;
	return NULL;
}

/* Puts sb on the list, replacing the one of the same mask; 0 or -1. */
static int
ban_put(const struct store_ban *sb)
{
	struct ban *b, **pp, **tail;

	if ((b = ban_new(sb)) == NULL)
		return -1;
	if ((pp = ban_find(sb->kind, sb->mask)) != NULL) {
		b->next = (*pp)->next;
		ban_free(*pp);
		*pp = b;
		return 0;
	}
	for (tail = &bans; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = b;
	nbans++;
	return 0;
}

static void
ban_load_one(void *arg, const struct store_ban *sb)
{
	(void)arg;
	if (sb->kind == 'a')	/* suspensions: irc_account.c asks the store */
		return;
	if (nbans < IRC_BANS_MAX && ban_put(sb) == -1)
		log_warnx("server", "out of memory loading bans");
}

static void
bans_load(void)
{
	if (loaded)
		return;
	loaded = true;
	(void)store_ban_expire(ergo_now);	/* a failure is logged */
	(void)store_ban_list(ergo_now, ban_load_one, NULL);
}

/* Drops expired bans from the list and from the database. */
void
irc_bans_tick(void)
{
	struct ban **pp, *b;
	bool gone = false;

	bans_load();
	for (pp = &bans; (b = *pp) != NULL; )
		if (ban_expired(b)) {
			log_info("opers", "%s expired for %s",
			    kind_name(b->b.kind), b->b.mask);
			*pp = b->next;
			ban_free(b);
			nbans--;
			gone = true;
		} else
			pp = &b->next;
	if (gone)
		(void)store_ban_expire(ergo_now);
}

/* ---- matching ---- */

static bool
ban_matches(const struct ban *b, const struct client *c, const char *ip)
{
	char user[IRC_LINE_MAX];
	const char *at;
	size_t n;

	if (ban_expired(b))
		return false;
	if (b->b.kind == 'd')
		return net_contains(b, ip);
	if (b->b.kind == 's')	/* UBAN REQUIRE-SASL: the logged-in pass */
		return c->account == NULL && net_contains(b, ip);
	if (c->user == NULL || b->host == NULL ||
	    (at = strchr(b->b.mask, '@')) == NULL)
		return false;
	n = (size_t)(at - b->b.mask);
	if (n >= sizeof(user))
		return false;
	memcpy(user, b->b.mask, n);
	user[n] = '\0';
	/* "bob@*" also hits "~bob", who runs no identd */
	if (!irc_match(user, c->user) && !(c->user[0] == '~' &&
	    irc_match(user, c->user + 1)))
		return false;
	return (c->host != NULL && irc_match(b->host, c->host)) ||
	    (ip != NULL && irc_match(b->host, ip)) || net_contains(b, ip);
}

/* The first ban of kind ('k', 'd', or 0 for both) c matches, or NULL. */
static const struct ban *
ban_of(const struct client *c, int kind)
{
	const struct ban *b;
	const char *ip = irc_client_ip(c);

	bans_load();
	for (b = bans; b != NULL; b = b->next)
		if ((kind == 0 || b->b.kind == kind) && ban_matches(b, c, ip))
			return b;
	return NULL;
}

static void
ban_exit(struct client *c, const struct ban *b)
{
	char quit[IRC_LINE_MAX], err[IRC_LINE_MAX];

	log_info("connect", "%s: %s %s", irc_prefix(c), kind_name(b->b.kind),
	    b->b.mask);
	if (b->b.kind == 's') {
		irc_user_kill(c, SASL_REQUIRED, SASL_REQUIRED);
		return;
	}
	snprintf(quit, sizeof(quit), "%s: %s", b->b.kind == 'k' ?
	    "K-Lined" : "D-Lined", b->b.reason);
	snprintf(err, sizeof(err), "You are banned from this server (%s)",
	    b->b.reason);
	irc_user_kill(c, quit, err);
}

/*
 * A new connection from a D-lined address: ERROR and close before it
 * registers. True if conn was closed (irc_conn_open then refuses it).
 */
bool
irc_bans_conn_refused(struct conn *conn)
{
	const struct ban *b;
	const char *ip = net_conn_ip(conn);
	char err[IRC_LINE_MAX];

	/* DEFCON 1: only loopback connects */
	if (irc.defcon <= 1 && ip != NULL && strcmp(ip, "::1") != 0 &&
	    strncmp(ip, "127.", 4) != 0) {
		log_info("connect", "refused %s: DEFCON %u", ip, irc.defcon);
		net_conn_close(conn, "New connections to this server are "
		    "temporarily restricted");
		return true;
	}
	bans_load();
	for (b = bans; b != NULL; b = b->next)
		if (b->b.kind == 'd' && !ban_expired(b) && net_contains(b, ip))
			break;
	if (b == NULL)
		return false;
	log_info("connect", "refused %s: D-Line %s", ip, b->b.mask);
	snprintf(err, sizeof(err), "You are banned from this server (%s)",
	    b->b.reason);
	net_conn_close(conn, err);
	return true;
}

/* At registration: a K- or D-lined client gets 465 and is gone (true). */
bool
irc_bans_check(struct client *c)
{
	const struct ban *b;

	/* DEFCON 2: only clients logged in by SASL may connect */
	if (irc.defcon <= 2 && c->account == NULL) {
		irc_numeric(c, ERR_YOUREBANNEDCREEP, ":You must log in with "
		    "SASL to connect to this server right now");
		irc_user_kill(c, "Unauthenticated connection refused",
		    "You must log in with SASL to connect to this server "
		    "right now");
		return true;
	}
	if ((b = ban_of(c, 0)) == NULL)
		return false;
	if (b->b.kind == 's') {	/* Ergo's answer to an anonymous client */
		irc_fail(c, "FAIL", "*", "ACCOUNT_REQUIRED", ":%s",
		    SASL_REQUIRED);
		ban_exit(c, b);
		return true;
	}
	irc_numeric(c, ERR_YOUREBANNEDCREEP, ":You are banned from this "
	    "server (%s)", b->b.reason);
	ban_exit(c, b);
	return true;
}

/* A user on another server (links): its own server applies the ban. */
static bool
remote(const struct client *u)
{
	const char *info;

	return irc_hooks.user_server != NULL &&
	    irc_hooks.user_server(u, &info) != NULL;
}

/* A new ban reaches the clients already here: QUIT with its reason. */
static unsigned
ban_apply(const struct ban *b)
{
	struct hent *e, *next;
	struct client *u;
	unsigned n = 0;
	size_t i;

	for (i = 0; i < irc.nicks.nb; i++)
		for (e = irc.nicks.b[i]; e != NULL; e = next) {
			next = e->next;		/* u leaves the table */
			u = (struct client *)(void *)((char *)e -
			    offsetof(struct client, h));
			if ((u->flags & CF_CLOSING) || remote(u) ||
			    !ban_matches(b, u, irc_client_ip(u)))
				continue;
			ban_exit(u, b);
			n++;
		}
	return n;
}

/* ---- the commands ---- */

static void
ban_notice(struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
ban_notice(struct client *c, const char *fmt, ...)
{
	char text[IRC_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	irc_send(c, ":%s NOTICE %s :%s", conf->server_name, c->nick, text);
}

/* "1d2h", "30m", "2s": what dur_parse reads back. */
static void
dur_format(char *dst, size_t sz, long long s)
{
	static const struct { char u; long long n; } units[] = {
		{ 'd', 86400 }, { 'h', 3600 }, { 'm', 60 }, { 's', 1 } };
	size_t i, off = 0;
	int n;

	dst[0] = '\0';
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (s < units[i].n && !(units[i].n == 1 && off == 0))
			continue;
		n = snprintf(dst + off, sz - off, "%lld%c", s / units[i].n,
		    units[i].u);
		if (n < 0 || (size_t)n >= sz - off)
			return;
		off += (size_t)n;
		s %= units[i].n;
	}
}

/*
 * A K-line mask as stored: "nick!user@host" and "host" become
 * "user@host" and "*@host", lowercased. False if unusable.
 */
static bool
kline_mask(char *dst, size_t sz, const char *in)
{
	const char *p = strrchr(in, '!');
	size_t i;
	int n;

	if (p != NULL)
		in = p + 1;
	n = snprintf(dst, sz, "%s%s", strchr(in, '@') == NULL ? "*@" : "",
	    in);
	if (n < 0 || (size_t)n >= sz || n > STORE_BAN_MASK_MAX)
		return false;
	for (i = 0; dst[i] != '\0'; i++) {
		if (dst[i] == ' ' || dst[i] == ',')
			return false;
		if (dst[i] >= 'A' && dst[i] <= 'Z')
			dst[i] = (char)(dst[i] + 32);
	}
	p = strchr(dst, '@');
	return p != dst && p[1] != '\0' && strchr(p + 1, '@') == NULL;
}

/* A D-line mask as stored: the canonical network. False if not one. */
static bool
dline_mask(char *dst, size_t sz, const char *in)
{
	unsigned char a[16];
	unsigned bits;
	int fam;

	if (!net_parse(in, &fam, a, &bits))
		return false;
	net_format(dst, sz, fam, a, bits);
	return true;
}


static int	ban_commit(struct client *, struct store_ban *, long long,
		    bool, bool, const char *);

/* KLINE|DLINE [ANDKILL] [MYSELF] [duration] <mask> [ON server] [reason] */
static void
ban_add(struct client *c, struct msg *m, int kind)
{
	struct store_ban sb;
	char text[IRC_LINE_MAX];
	const char *cmd = kind == 'k' ? "KLINE" : "DLINE";
	const char *target = "*";
	long long secs = 0;
	bool myself = false;
	size_t off = 0;
	int i = 0, n;

	bans_load();
	for (; i < m->nparam; i++)
		if (strcasecmp(m->param[i], "MYSELF") == 0)
			myself = true;
		else if (strcasecmp(m->param[i], "ANDKILL") != 0)
			break;	/* matching clients always go */
	if (m->nparam - i >= 2 && (secs = irc_duration_parse(m->param[i])) >= 0)
		i++;
	else
		secs = 0;
	if (i >= m->nparam || m->param[i][0] == '\0') {
		irc_numeric(c, ERR_NEEDMOREPARAMS, "%s :Not enough parameters",
		    cmd);
		return;
	}
	memset(&sb, 0, sizeof(sb));
	sb.kind = (char)kind;
	if (!(kind == 'k' ? kline_mask(sb.mask, sizeof(sb.mask),
	    m->param[i]) : dline_mask(sb.mask, sizeof(sb.mask),
	    m->param[i]))) {
		ban_notice(c, "Invalid %s mask: %s", kind_name(kind),
		    m->param[i]);
		return;
	}
	i++;
	if (i + 1 < m->nparam && strcasecmp(m->param[i], "ON") == 0) {
		target = m->param[i + 1];	/* a server mask (links) */
		i += 2;
	}
	text[0] = '\0';
	for (; i < m->nparam; i++) {
		n = snprintf(text + off, sizeof(text) - off, "%s%s",
		    off ? " " : "", m->param[i]);
		if (n < 0 || (size_t)n >= sizeof(text) - off)
			break;
		off += (size_t)n;
	}
	if (text[0] == '\0')
		snprintf(text, sizeof(text), "No reason given");
	irc_utf8_trunc(text, STORE_BAN_REASON_MAX);	/* cut on a character */
	snprintf(sb.reason, sizeof(sb.reason), "%.*s",
	    (int)STORE_BAN_REASON_MAX, text);
	(void)ban_commit(c, &sb, secs, myself, false, target);
}

/*
 * Stores ban sb (setter and times filled in here) and applies it to the
 * clients here, with KLINE/DLINE's notices (uban: UBAN's, Ergo's).
 * The number of clients it removed, or -1 (said to c).
 */
static int
ban_commit(struct client *c, struct store_ban *sb, long long secs,
    bool myself, bool uban, const char *target)
{
	struct ban *b, **pp;
	char dur[32];
	const char *cmd = uban ? "UBAN ADD" : sb->kind == 'k' ? "KLINE" :
	    "DLINE";
	int kind = sb->kind, n = 0;

	snprintf(sb->setter, sizeof(sb->setter), "%s", irc_prefix(c));
	sb->set_at = ergo_now;
	sb->expires = secs > 0 ? ergo_now + (time_t)secs : 0;

	/* a ban on oneself is a typo unless said outright (Ergo's MYSELF) */
	if ((b = ban_new(sb)) == NULL)
		goto nomem;
	if (!myself && ban_matches(b, c, irc_sess(c)->conn != NULL ?
	    net_conn_ip(irc_sess(c)->conn) : NULL)) {
		ban_free(b);
		ban_notice(c, "This ban matches you. To %s yourself, you must "
		    "use the command:  /%s MYSELF <arguments>", cmd, cmd);
		return -1;
	}
	ban_free(b);
	if (ban_find(kind, sb->mask) == NULL && nbans >= IRC_BANS_MAX) {
		ban_notice(c, "Could not add the %s: there are %u bans "
		    "already", kind_name(kind), IRC_BANS_MAX);
		return -1;
	}
	if (store_ban_set(sb) == -1) {
		ban_notice(c, "Could not add the %s: the database failed (%s)",
		    kind_name(kind), store_error());
		return -1;
	}
	if (ban_put(sb) == -1)
		goto nomem;
	dur[0] = '\0';
	if (secs > 0)
		dur_format(dur, sizeof(dur), secs);
	if (uban)
		ban_notice(c, "Successfully added UBAN for %s", sb->mask);
	else if (secs > 0)
		ban_notice(c, "Added temporary (%s) %s for %s", dur,
		    kind_name(kind), sb->mask);
	else
		ban_notice(c, "Added %s for %s", kind_name(kind), sb->mask);
	log_info("opers", "%s added %s%s for %s: %s", sb->setter,
	    secs > 0 ? "temporary " : "", kind_name(kind), sb->mask,
	    sb->reason);
	irc_sno('x', "%s [%s] added %s%s%s%s%s for %s", c->nick,
	    irc_oper_name_or(c, "?"), secs > 0 ?
	    "temporary (" : "", dur, secs > 0 ? ") " : "", uban ? "UBAN " : "",
	    kind_name(kind), sb->mask);
	IRC_HOOK_RUN(ban_set, c, kind, sb->mask, secs, sb->reason, target);
	if ((pp = ban_find(kind, sb->mask)) != NULL &&
	    (n = (int)ban_apply(*pp)) > 0)
		ban_notice(c, uban ? "Killed %d active client(s)" :
		    "%d client%s removed by the %s", n, n == 1 ? "" : "s",
		    kind_name(kind));
	return n;
nomem:
	log_warnx("opers", "out of memory adding a %s", kind_name(kind));
	ban_notice(c, "Could not add the %s: out of memory", kind_name(kind));
	return -1;
}

/* UNKLINE|UNDLINE <mask> */
static void
ban_remove(struct client *c, struct msg *m, int kind)
{
	char mask[STORE_BAN_MASK_MAX + 8];
	struct ban **pp, *b;
	int rc;

	bans_load();
	if (!(kind == 'k' ? kline_mask(mask, sizeof(mask), m->param[0]) :
	    dline_mask(mask, sizeof(mask), m->param[0]))) {
		ban_notice(c, "Invalid %s mask: %s", kind_name(kind),
		    m->param[0]);
		return;
	}
	if ((rc = store_ban_del(kind, mask)) == -1) {
		ban_notice(c, "Could not remove the %s: the database failed "
		    "(%s)", kind_name(kind), store_error());
		return;
	}
	if ((pp = ban_find(kind, mask)) != NULL) {
		b = *pp;
		*pp = b->next;
		ban_free(b);
		nbans--;
		rc = 0;
	}
	if (rc == 1) {
		ban_notice(c, "Could not remove ban [%s]", mask);
		return;
	}
	log_info("opers", "%s removed %s for %s", irc_prefix(c),
	    kind_name(kind), mask);
	ban_notice(c, "Removed %s for %s", kind_name(kind), mask);
	IRC_HOOK_RUN(ban_unset, c, kind, mask, "*");
}

void
h_kline(struct client *c, struct msg *m)
{
	ban_add(c, m, 'k');
}

void
h_dline(struct client *c, struct msg *m)
{
	ban_add(c, m, 'd');
}

void
h_unkline(struct client *c, struct msg *m)
{
	ban_remove(c, m, 'k');
}

void
h_undline(struct client *c, struct msg *m)
{
	ban_remove(c, m, 'd');
}

/* STATS k|d (opers): the K-lines (216) and D-lines (225); u: uptime;
 * z (opers): what the server holds for clients, by its own count (249). */
void
h_stats(struct client *c, struct msg *m)
{
	const struct ban *b;
	char letter = m->param[0][0], rest[64], user[STORE_BAN_MASK_MAX + 1];
	const char *at;
	long long up;
	int kind;

	if (letter == '\0') {
		irc_numeric(c, ERR_NEEDMOREPARAMS, "STATS :Not enough "
		    "parameters");
		return;
	}
	kind = letter == 'k' || letter == 'K' ? 'k' : letter == 'd' ||
	    letter == 'D' ? 'd' : 0;
	if ((kind != 0 || letter == 'z') && !(c->umodes & UMODE_OPER)) {
		irc_numeric(c, ERR_NOPRIVILEGES, ":Permission Denied- You're "
		    "not an IRC operator");
		return;
	}
	if (letter == 'u') {
		up = (long long)(ergo_now - irc.started);
		irc_numeric(c, RPL_STATSUPTIME, ":Server Up %lld days "
		    "%lld:%02lld:%02lld", up / 86400, up / 3600 % 24,
		    up / 60 % 60, up % 60);
	}
	if (letter == 'z')	/* what features hold, by their own count */
		IRC_HOOK_RUN(stats_z, c);
	if (kind != 0)
		irc_bans_tick();	/* what expired is not listed */
	for (b = kind != 0 ? bans : NULL; b != NULL; b = b->next) {
		if (b->b.kind != kind)
			continue;
		rest[0] = '\0';
		if (b->b.expires != 0) {
			char d[32];

			dur_format(d, sizeof(d), (long long)(b->b.expires -
			    ergo_now));
			snprintf(rest, sizeof(rest), " (expires in %s)", d);
		}
		if (kind == 'd') {
			irc_numeric(c, RPL_STATSDLINE, "%c %s :%s%s",
			    b->b.expires != 0 ? 'd' : 'D', b->b.mask,
			    b->b.reason, rest);
			continue;
		}
		if ((at = strchr(b->b.mask, '@')) == NULL)
			continue;
		snprintf(user, sizeof(user), "%.*s", (int)(at - b->b.mask),
		    b->b.mask);
		irc_numeric(c, RPL_STATSKLINE, "%c %s * %s :%s%s",
		    b->b.expires != 0 ? 'k' : 'K', at + 1, user, b->b.reason,
		    rest);
	}
	irc_numeric(c, RPL_ENDOFSTATS, "%c :End of /STATS report", letter);
}

/* ---- UBAN, DEFCON, SANICK ---- */

/* "Ban - MASK - added by SETTER - REASON [expires in D]", Ergo's form */
static void
uban_show(struct client *c, const struct ban *b)
{
	char d[32], rest[64] = "";

	if (b->b.expires != 0) {
		dur_format(d, sizeof(d), (long long)(b->b.expires - ergo_now));
		snprintf(rest, sizeof(rest), " [expires in %s]", d);
	}
	ban_notice(c, "Ban - %s - added by %s - %s%s%s", b->b.mask,
	    b->b.setter, b->b.reason, rest, b->b.kind == 's' ?
	    " [requires SASL]" : "");
}

/* The users matching b (counted, and their nicks into buf). */
static unsigned
uban_affected(const struct ban *b, char *buf, size_t sz)
{
	struct hent *e;
	unsigned n = 0;
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < irc.nicks.nb; i++)
		for (e = irc.nicks.b[i]; e != NULL; e = e->next) {
			struct client *u = (struct client *)(void *)
			    ((char *)e - offsetof(struct client, h));

			if ((u->flags & CF_CLOSING) || !(u->flags & CF_REG) ||
			    !ban_matches(b, u, irc_client_ip(u)))
				continue;
			n++;
			if (len + strlen(u->nick) + 2 < sz)
				len += (size_t)snprintf(buf + len, sz - len,
				    "%s%s", len ? " " : "", u->nick);
		}
	return n;
}

static void
uban_suspension_count(void *arg, const struct store_ban *b)
{
	*(unsigned *)arg += b->kind == 'a';
}

static void
uban_suspension_line(void *arg, const struct store_ban *b)
{
	struct store_account a;
	char text[IRC_LINE_MAX];

	if (b->kind != 'a')
		return;
	irc_account_suspension_text(text, sizeof(text),
	    store_account_get(b->mask, &a) == 1 ? a.name : b->mask, b);
	ban_notice(arg, "%s", text);
}

/* UBAN LIST: D-lines (REQUIRE-SASL ones too), K-lines, suspensions. */
static void
uban_list(struct client *c)
{
	const struct ban *b;
	unsigned n;

	irc_bans_tick();
	for (n = 0, b = bans; b != NULL; b = b->next)
		n += b->b.kind == 'd' || b->b.kind == 's';
	ban_notice(c, "There are %u active IP/network ban(s) (DLINEs)", n);
	for (b = bans; b != NULL; b = b->next)
		if (b->b.kind == 'd' || b->b.kind == 's')
			uban_show(c, b);
	for (n = 0, b = bans; b != NULL; b = b->next)
		n += b->b.kind == 'k';
	ban_notice(c, "There are %u active ban(s) on nick-user-host masks "
	    "(KLINEs)", n);
	for (b = bans; b != NULL; b = b->next)
		if (b->b.kind == 'k')
			uban_show(c, b);
	n = 0;
	if (store_ban_list(ergo_now, uban_suspension_count, &n) == -1)
		return;		/* logged */
	ban_notice(c, "There are %u active account suspensions.", n);
	(void)store_ban_list(ergo_now, uban_suspension_line, c);
}

/* Drops the in-memory ban of kind and mask; whether there was one. */
static bool
ban_drop(int kind, const char *mask)
{
	struct ban **pp, *b;

	if ((pp = ban_find(kind, mask)) == NULL)
		return false;
	b = *pp;
	*pp = b->next;
	ban_free(b);
	nbans--;
	return true;
}

/*
 * UBAN on an account (Ergo's): ADD suspends it (NickServ SUSPEND's
 * effect: no login by any means, its users end), DEL lifts that, INFO
 * tells who uses the nick and the account's standing.
 */
static void
uban_account(struct client *c, const char *sub, const char *t,
    long long secs, const char *reason)
{
	struct store_account a;
	struct store_ban sb;
	struct client *u, *x;
	struct session *s;
	char fz[NICKLEN_MAX + 1], text[IRC_LINE_MAX];
	unsigned n = 0;
	int rc;

	irc_fold(fz, t, sizeof(fz));
	if (strcasecmp(sub, "INFO") == 0) {
		u = irc_client_find(t);
		if (u == NULL || !(u->flags & CF_REG))
			ban_notice(c, "No client is currently using that "
			    "nickname");
		else if (u->account == NULL)
			ban_notice(c, "Client %s is unauthenticated and "
			    "connected from %s", u->nick, irc_client_ip(u) !=
			    NULL ? irc_client_ip(u) : u->host);
		else
			ban_notice(c, "Client %s is logged into account %s and "
			    "has %u active clients (see /NICKSERV CLIENTS LIST "
			    "%s for more info", u->nick, u->account,
			    irc_user_sessions(u), u->nick);
		if ((rc = store_account_get(fz, &a)) == -1)
			ban_notice(c, "Couldn't load account: %s",
			    store_error());
		else if (rc == 0)
			ban_notice(c, "There is no account registered for %s",
			    t);
		else if (!irc_account_suspended(&a) ||
		    store_ban_get('a', fz, ergo_now, &sb) != 1)
			ban_notice(c, "Account %s is in good standing; see "
			    "/NICKSERV INFO %s for more details", t, t);
		else {
			irc_account_suspension_text(text, sizeof(text), a.name,
			    &sb);
			ban_notice(c, "Account %s has been suspended: %s", t,
			    text);
		}
		return;
	}
	if ((rc = store_account_get(fz, &a)) != 1) {
		if (rc == -1)
			ban_notice(c, "An error occurred");
		else if (strcasecmp(sub, "ADD") == 0)
			ban_notice(c, "No such account");
		else
			ban_notice(c, "Could not remove ban: Account does not "
			    "exist");
		return;
	}
	if (strcasecmp(sub, "ADD") != 0) {	/* DEL */
		if ((rc = irc_account_unsuspend(&a)) == 0) {
			log_info("opers", "%s unsuspended account %s",
			    irc_prefix(c), a.name);
			ban_notice(c, "Successfully removed ban on %s", t);
		} else
			ban_notice(c, "Could not remove ban: %s", rc == 1 ?
			    "Action was a no-op" : store_error());
		return;
	}
	/* the addresses of the clients about to go, for the reply */
	text[0] = '\0';
	for (u = irc_account_sessions(a.id); u != NULL; u = u->ext->acnext)
		for (s = u->sess; s != NULL; s = s->next)
			n++;
	if (irc_account_suspend(c, &a, secs, reason) == -1) {
		ban_notice(c, "An error occurred");
		return;
	}
	irc_sno('x', "%s [%s] suspended account %s with UBAN", c->nick,
	    irc_oper_name_or(c, "?"), a.name);
	ban_notice(c, "Successfully suspended account %s", t);
	if (n == 0)
		return;
	ban_notice(c, "Disconnected %u client(s) associated with the account, "
	    "using the following IPs:", n);
	n = 0;
	for (x = irc_account_sessions(a.id); x != NULL; x = x->ext->acnext)
		for (s = x->sess; s != NULL; s = s->next)
			ban_notice(c, "%u. %s", ++n, s->conn != NULL ?
			    net_conn_ip(s->conn) : "-");
}

/*
 * UBAN <ADD|DEL|LIST|INFO> [target] [DURATION <duration>] [REQUIRE-SASL]
 * [reason]: Ergo's unified bans over the same K- and D-lines: an IP or
 * CIDR is a D-line (with REQUIRE-SASL only clients that log in with
 * SASL may connect from it), a mask with ! or @ a K-line (its nick part
 * dropped, as KLINE's), a bare name an account (its suspension).
 */
void
h_uban(struct client *c, struct msg *m)
{
	struct store_ban sb;
	struct ban **pp, *b;
	char text[IRC_LINE_MAX], nicks[400];
	const char *sub = m->param[0], *t;
	long long secs = 0;
	bool sasl = false, had;
	size_t off = 0;
	unsigned n;
	int i, kind, w;

	bans_load();
	if (strcasecmp(sub, "LIST") == 0) {
		uban_list(c);
		return;
	}
	if (strcasecmp(sub, "ADD") != 0 && strcasecmp(sub, "DEL") != 0 &&
	    strcasecmp(sub, "REMOVE") != 0 && strcasecmp(sub, "RM") != 0 &&
	    strcasecmp(sub, "INFO") != 0) {
		irc_fail(c, "FAIL", "UBAN", "UNKNOWN_COMMAND", ":Unknown "
		    "command");
		return;
	}
	if (m->nparam < 2 || m->param[1][0] == '\0') {
		irc_fail(c, "FAIL", "UBAN", "INVALID_PARAMS", ":Not enough "
		    "parameters");
		return;
	}
	t = m->param[1];
	memset(&sb, 0, sizeof(sb));
	if (dline_mask(sb.mask, sizeof(sb.mask), t))
		kind = 'd';
	else if (strpbrk(t, "!@") != NULL && kline_mask(sb.mask,
	    sizeof(sb.mask), t))
		kind = 'k';
	else if (irc_nick_valid(t))
		kind = 'a';
	else {
		irc_fail(c, "FAIL", "UBAN", "INVALID_PARAMS", ":Couldn't parse "
		    "ban target");
		return;
	}
	/* ADD: DURATION <d> and REQUIRE-SASL in any order, then a reason */
	for (i = 2; strcasecmp(sub, "ADD") == 0 && i < m->nparam; i++) {
		if (strcasecmp(m->param[i], "DURATION") == 0 &&
		    i + 1 < m->nparam) {
			if ((secs = irc_duration_parse(m->param[i + 1])) < 0) {
				ban_notice(c, "Invalid time duration for UBAN");
				return;
			}
			i++;
		} else if (strcasecmp(m->param[i], "REQUIRE-SASL") == 0)
			sasl = true;
		else
			break;
	}
	text[0] = '\0';
	for (; i < m->nparam; i++) {
		w = snprintf(text + off, sizeof(text) - off, "%s%s",
		    off ? " " : "", m->param[i]);
		if (w < 0 || (size_t)w >= sizeof(text) - off)
			break;
		off += (size_t)w;
	}
	irc_utf8_trunc(text, STORE_BAN_REASON_MAX);
	if (kind == 'a') {
		uban_account(c, sub, t, secs, text);
		return;
	}
	if (strcasecmp(sub, "INFO") == 0) {
		if ((pp = ban_find(kind, sb.mask)) != NULL ||
		    (kind == 'd' && (pp = ban_find('s', sb.mask)) != NULL))
			uban_show(c, *pp);
		else if (kind == 'd')
			ban_notice(c, "There is no active IP ban against %s",
			    sb.mask);
		else
			ban_notice(c, "No ban exists for %s", sb.mask);
		sb.kind = (char)kind;
		if ((b = ban_new(&sb)) == NULL)
			return;
		n = uban_affected(b, nicks, sizeof(nicks));
		ban_free(b);
		if (kind == 'd' && n > 0) {
			ban_notice(c, "There are %u active client(s) from %s:",
			    n, sb.mask);
			ban_notice(c, "%s", nicks);
		} else if (kind == 'k')
			ban_notice(c, "Adding this mask would affect %u "
			    "clients", n);
		return;
	}
	if (strcasecmp(sub, "ADD") != 0) {	/* DEL: a D-line either kind */
		if (store_ban_del(kind, sb.mask) == -1 || (kind == 'd' &&
		    store_ban_del('s', sb.mask) == -1)) {
			ban_notice(c, "Could not remove ban: the database "
			    "failed (%s)", store_error());
			return;
		}
		had = ban_drop(kind, sb.mask);
		if (kind == 'd' && ban_drop('s', sb.mask))
			had = true;
		if (!had) {
			ban_notice(c, "Could not remove ban: no such ban");
			return;
		}
		log_info("opers", "%s removed %s for %s", irc_prefix(c),
		    kind_name(kind), sb.mask);
		irc_sno('x', "Operator %s removed %s UBAN against %s",
		    irc_oper_name_or(c, c->nick),
		    kind == 'd' ? "an IP-based" : "a NUH-mask", sb.mask);
		ban_notice(c, "Successfully removed ban on %s", sb.mask);
		IRC_HOOK_RUN(ban_unset, c, kind, sb.mask, "*");
		return;
	}
	/* one ban per network: REQUIRE-SASL replaces a D-line, and back */
	if (kind == 'd' && sasl) {
		kind = 's';
		if (store_ban_del('d', sb.mask) != -1)
			(void)ban_drop('d', sb.mask);
	} else if (kind == 'd' && store_ban_del('s', sb.mask) != -1)
		(void)ban_drop('s', sb.mask);
	sb.kind = (char)kind;
	snprintf(sb.reason, sizeof(sb.reason), "%.*s",
	    (int)STORE_BAN_REASON_MAX, text[0] != '\0' ? text :
	    "No reason given");
	(void)ban_commit(c, &sb, secs, false, true, "*");
}

/*
 * DEFCON [level]: Ergo's levels, each including those above it:
 * 5 normal; 4 no new accounts; 3 every user +R (only logged-in users
 * may message them), no CHGHOST; 2 no unauthenticated connections, no
 * new channels but by opers; 1 no connections but from loopback.
 */
void
h_defcon(struct client *c, struct msg *m)
{
	char *end;
	unsigned long v;

	if (m->nparam > 0) {
		v = strtoul(m->param[0], &end, 10);
		if (*end != '\0' || end == m->param[0] || v < 1 || v > 5) {
			ban_notice(c, "Invalid DEFCON parameter");
			return;
		}
		irc.defcon = (unsigned)v;
		log_warnx("opers", "%s set DEFCON level to %u", irc_prefix(c),
		    irc.defcon);
		irc_sno('a', "Operator %s set DEFCON level to %u",
		    irc_oper_name_or(c, c->nick), irc.defcon);
	}
	ban_notice(c, "Current DEFCON level is %u", irc.defcon);
}

/* SANICK <nick> <newnick>: renames another user (capability samode). */
void
h_sanick(struct client *c, struct msg *m)
{
	struct client *u = irc_client_find(m->param[0]), *o;
	char old[NICKLEN_MAX + 1];

	if (u == NULL || !(u->flags & CF_REG) || (u->flags & CF_CLOSING)) {
		irc_numeric(c, ERR_NOSUCHNICK, "%s :No such nick/channel",
		    m->param[0]);
		return;
	}
	if (!irc_nick_valid(m->param[1]) || irc_nick_reserved(m->param[1])) {
		irc_numeric(c, ERR_ERRONEUSNICKNAME, "%s :Erroneous nickname",
		    m->param[1]);
		return;
	}
	if ((o = irc_client_find(m->param[1])) != NULL && o != u) {
		irc_numeric(c, ERR_NICKNAMEINUSE, "%s :Nickname is already in "
		    "use", m->param[1]);
		return;
	}
	snprintf(old, sizeof(old), "%s", u->nick);
	if (strcmp(old, m->param[1]) == 0)
		return;
	if (irc_user_rename(u, m->param[1]) == -1) {
		irc_user_kill(u, "Out of memory", "Out of memory");
		return;
	}
	log_info("opers", "%s renamed %s to %s (SANICK)", irc_prefix(c), old,
	    u->nick);
}

/*
 * A K- or D-line a peer server sent (irc_hooks.ban_remote): kept and
 * applied like an oper's here, to this server's users.
 */
static int
ban_remote(int kind, bool add, const char *mask, long long secs,
    const char *reason, const char *setter)
{
	struct store_ban sb;
	struct ban **pp, *b;
	unsigned n;

	bans_load();
	memset(&sb, 0, sizeof(sb));
	sb.kind = (char)kind;
	if ((kind != 'k' && kind != 'd') || secs < 0 ||
	    !(kind == 'k' ? kline_mask(sb.mask, sizeof(sb.mask), mask) :
	    dline_mask(sb.mask, sizeof(sb.mask), mask))) {
		log_warnx("opers", "%s from %s: bad mask %s: ignored",
		    kind == 'k' ? "K-Line" : "D-Line", setter, mask);
		return -1;
	}
	if (!add) {
		if (store_ban_del(kind, sb.mask) == -1)
			return -1;
		if ((pp = ban_find(kind, sb.mask)) != NULL) {
			b = *pp;
			*pp = b->next;
			ban_free(b);
			nbans--;
			log_info("opers", "%s removed %s for %s", setter,
			    kind_name(kind), sb.mask);
		}
		return 0;
	}
	if (ban_find(kind, sb.mask) == NULL && nbans >= IRC_BANS_MAX) {
		log_warnx("opers", "%s from %s for %s: there are %u bans "
		    "already", kind_name(kind), setter, sb.mask, IRC_BANS_MAX);
		return -1;
	}
	snprintf(sb.reason, sizeof(sb.reason), "%s", reason[0] != '\0' ?
	    reason : "No reason given");
	irc_utf8_trunc(sb.reason, STORE_BAN_REASON_MAX);
	snprintf(sb.setter, sizeof(sb.setter), "%s", setter);
	sb.set_at = ergo_now;
	sb.expires = secs > 0 ? ergo_now + (time_t)secs : 0;
	if (store_ban_set(&sb) == -1 || ban_put(&sb) == -1) {
		log_warnx("opers", "%s from %s for %s not kept", kind_name(kind),
		    setter, sb.mask);
		return -1;
	}
	log_info("opers", "%s added %s%s for %s: %s", setter, secs > 0 ?
	    "temporary " : "", kind_name(kind), sb.mask, sb.reason);
	if ((pp = ban_find(kind, sb.mask)) != NULL &&
	    (n = ban_apply(*pp)) > 0)
		log_info("opers", "%u client%s removed by the %s", n,
		    n == 1 ? "" : "s", kind_name(kind));
	return 0;
}

/* The hook of K- and D-lines (irc_state.h). */
void
irc_bans_init(void)
{
	irc_hooks.banned = irc_bans_check;
	irc_hooks.ban_remote = ban_remote;
}
