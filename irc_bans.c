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

#define BAN_DURATION_MAX	(10LL * 366 * 86400)	/* ten years */

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

static struct ban	*bans;
static unsigned		 nbans;
static bool		 loaded;

static void bans_load(void);

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

static bool
ban_expired(const struct ban *b)
{
	return b->b.expires != 0 && b->b.expires <= ergo_now;
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
	if (sb->kind == 'd')
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
			    b->b.kind == 'k' ? "K-Line" : "D-Line", b->b.mask);
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

	snprintf(quit, sizeof(quit), "%s: %s", b->b.kind == 'k' ?
	    "K-Lined" : "D-Lined", b->b.reason);
	snprintf(err, sizeof(err), "You are banned from this server (%s)",
	    b->b.reason);
	log_info("connect", "%s: %s %s", irc_prefix(c), b->b.kind == 'k' ?
	    "K-Line" : "D-Line", b->b.mask);
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

	if ((b = ban_of(c, 0)) == NULL)
		return false;
	irc_numeric(c, ERR_YOUREBANNEDCREEP, ":You are banned from this "
	    "server (%s)", b->b.reason);
	ban_exit(c, b);
	return true;
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
			if ((u->flags & CF_CLOSING) ||
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

/*
 * "0", "none", "perm", "permanent": 0 (permanent); bare digits: minutes,
 * as in ircd-hybrid; else units, "1w2d3h4m5s". Seconds, or -1.
 */
static long long
dur_parse(const char *s)
{
	long long total = 0, v;
	bool any = false;

	if (strcasecmp(s, "none") == 0 || strcasecmp(s, "perm") == 0 ||
	    strcasecmp(s, "permanent") == 0)
		return 0;
	if (*s < '0' || *s > '9')
		return -1;
	while (*s != '\0') {
		if (*s < '0' || *s > '9')
			return -1;
		for (v = 0; *s >= '0' && *s <= '9'; s++) {
			v = v * 10 + (*s - '0');
			if (v > BAN_DURATION_MAX)
				return -1;
		}
		switch (*s) {
		case '\0':
			if (any)
				return -1;	/* "1h30": 30 what? */
			v *= 60;
			break;
		case 'w': v *= 7 * 86400; s++; break;
		case 'd': v *= 86400; s++; break;
		case 'h': v *= 3600; s++; break;
		case 'm': v *= 60; s++; break;
		case 's': s++; break;
		default:
			return -1;
		}
		total += v;
		any = true;
		if (total > BAN_DURATION_MAX)
			return -1;
	}
	return total;
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

static const char *
kind_name(int kind)
{
	return kind == 'k' ? "K-Line" : "D-Line";
}

/* KLINE|DLINE [ANDKILL] [MYSELF] [duration] <mask> [ON server] [reason] */
static void
ban_add(struct client *c, struct msg *m, int kind)
{
	struct store_ban sb;
	struct ban *b, **pp;
	char dur[32], text[IRC_LINE_MAX];
	const char *cmd = kind == 'k' ? "KLINE" : "DLINE";
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
	if (m->nparam - i >= 2 && (secs = dur_parse(m->param[i])) >= 0)
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
	if (i + 1 < m->nparam && strcasecmp(m->param[i], "ON") == 0)
		i += 2;		/* one server: this one */
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
	snprintf(sb.setter, sizeof(sb.setter), "%s", irc_prefix(c));
	sb.set_at = ergo_now;
	sb.expires = secs > 0 ? ergo_now + (time_t)secs : 0;

	/* a ban on oneself is a typo unless said outright (Ergo's MYSELF) */
	if ((b = ban_new(&sb)) == NULL)
		goto nomem;
	if (!myself && ban_matches(b, c, irc_sess(c)->conn != NULL ?
	    net_conn_ip(irc_sess(c)->conn) : NULL)) {
		ban_free(b);
		ban_notice(c, "This ban matches you. To %s yourself, you must "
		    "use the command:  /%s MYSELF <arguments>", cmd, cmd);
		return;
	}
	ban_free(b);
	if (ban_find(kind, sb.mask) == NULL && nbans >= IRC_BANS_MAX) {
		ban_notice(c, "Could not add the %s: there are %u bans "
		    "already", kind_name(kind), IRC_BANS_MAX);
		return;
	}
	if (store_ban_set(&sb) == -1) {
		ban_notice(c, "Could not add the %s: the database failed (%s)",
		    kind_name(kind), store_error());
		return;
	}
	if (ban_put(&sb) == -1)
		goto nomem;
	if (secs > 0) {
		dur_format(dur, sizeof(dur), secs);
		ban_notice(c, "Added temporary (%s) %s for %s", dur,
		    kind_name(kind), sb.mask);
	} else
		ban_notice(c, "Added %s for %s", kind_name(kind), sb.mask);
	log_info("opers", "%s added %s%s for %s: %s", sb.setter,
	    secs > 0 ? "temporary " : "", kind_name(kind), sb.mask,
	    sb.reason);
	if ((pp = ban_find(kind, sb.mask)) != NULL &&
	    (n = (int)ban_apply(*pp)) > 0)
		ban_notice(c, "%d client%s removed by the %s", n, n == 1 ? "" :
		    "s", kind_name(kind));
	return;
nomem:
	log_warnx("opers", "out of memory adding a %s", kind_name(kind));
	ban_notice(c, "Could not add the %s: out of memory", kind_name(kind));
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

/* The hook of K- and D-lines (irc_state.h). */
void
irc_bans_init(void)
{
	irc_hooks.banned = irc_bans_check;
}
