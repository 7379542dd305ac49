/*
 * irc_util.c: casemapping, wildcard matching, name syntax and the
 * string-keyed hash table behind nick and channel lookups.
 * Pure functions over memory: no I/O, no protocol state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "irc_util.h"
#include "ergo.h"
#include "conf.h"
#include "util.h"
#include "irc_precis.h"

static unsigned char
fold1(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch + 32;
	/* rfc1459: []\~ are the upper case of {}|^ */
	if (conf->casemapping == CASEMAP_RFC1459 && ch >= '[' && ch <= '^')
		return ch + 32;
	return ch;
}

void
irc_fold(char *dst, const char *src, size_t dstsz)
{
	size_t i;

	if (dstsz == 0)
		return;
	if (conf->casemapping == CASEMAP_PRECIS) {
		irc_precis_fold(dst, src, dstsz);
		return;
	}
	for (i = 0; src[i] != '\0' && i + 1 < dstsz; i++)
		dst[i] = (char)fold1((unsigned char)src[i]);
	dst[i] = '\0';
}

int
irc_casecmp(const char *a, const char *b)
{
	unsigned char x, y;

	if (conf->casemapping == CASEMAP_PRECIS) {
		char fa[IRC_LINE_MAX * 2], fb[IRC_LINE_MAX * 2];

		irc_precis_fold(fa, a, sizeof(fa));
		irc_precis_fold(fb, b, sizeof(fb));
		return strcmp(fa, fb);
	}
	do {
		x = fold1((unsigned char)*a++);
		y = fold1((unsigned char)*b++);
	} while (x == y && x != '\0');
	return (int)x - (int)y;
}

/*
 * Iterative glob match with single-star backtracking: O(len(mask) *
 * len(s)) worst case, no recursion, so a hostile mask cannot blow the
 * stack or go exponential.
 */
static bool	 match_folded(const char *, const char *);

/* precis: both folded first; '?' is then one byte, not one letter. */
bool
irc_match(const char *mask, const char *s)
{
	char fm[IRC_LINE_MAX * 2], fs[IRC_LINE_MAX * 2];

	if (conf->casemapping != CASEMAP_PRECIS)
		return match_folded(mask, s);
	irc_precis_fold(fm, mask, sizeof(fm));
	irc_precis_fold(fs, s, sizeof(fs));
	return match_folded(fm, fs);
}

static bool
match_folded(const char *mask, const char *s)
{
	const char *star = NULL, *sback = NULL;

	while (*s != '\0') {
		if (*mask == '*') {
			star = ++mask;
			sback = s;
		} else if (*mask == '?' || (*mask != '\0' &&
		    fold1((unsigned char)*mask) == fold1((unsigned char)*s))) {
			mask++;
			s++;
		} else if (star != NULL) {
			mask = star;
			s = ++sback;
		} else
			return false;
	}
	while (*mask == '*')
		mask++;
	return *mask == '\0';
}

static bool
nick_special(char ch)
{
	return strchr("[]\\`_^{|}", ch) != NULL;
}

bool
irc_nick_valid(const char *nick)
{
	size_t i, n = strlen(nick);

	if (conf->casemapping == CASEMAP_PRECIS)
		return irc_precis_nick_valid(nick, conf->limits.nicklen);
	if (n == 0 || n > conf->limits.nicklen)
		return false;
	if (!(((nick[0] | 32) >= 'a' && (nick[0] | 32) <= 'z') ||
	    nick_special(nick[0])))
		return false;
	for (i = 1; i < n; i++) {
		char ch = nick[i];
		if (!(((ch | 32) >= 'a' && (ch | 32) <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || nick_special(ch)))
			return false;
	}
	return true;
}

/*
 * Whether nick is a service's (NickServ, ChanServ, and HostServ and
 * HistServ, which Ergo runs) or one Ergo keeps for services it does not
 * run (MemoServ, BotServ, OperServ, Global): nobody may take it, so
 * nobody can send as :NickServ!... even for a moment.
 */
bool
irc_nick_reserved(const char *nick)
{
	static const char *const names[] = { "NickServ", "ChanServ",
	    "HostServ", "HistServ", "MemoServ", "BotServ", "OperServ",
	    "Global" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (irc_casecmp(nick, names[i]) == 0)
			return true;
	return false;
}

bool
irc_chan_valid(const char *name)
{
	size_t n = strlen(name);

	if (n < 2 || n > conf->limits.channellen)
		return false;
	if (name[0] != '#' && name[0] != '&')
		return false;
	/* RFC 2812: no space, BEL, comma (colon is allowed by modern servers) */
	return strpbrk(name, " ,\a") == NULL;
}

/*
 * Whether a +b/+e/+I mask can be listed and broadcast as one word: not
 * empty, no space, control character or comma (each would desync
 * clients' lists or split a reply), no '@' before the '!' (as in Ergo).
 */
bool
irc_mask_valid(const char *mask)
{
	const char *p, *bang = strchr(mask, '!'), *at = strchr(mask, '@');

	if (*mask == '\0' || *mask == ':' ||
	    (bang != NULL && at != NULL && at < bang))
		return false;
	for (p = mask; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == ',')
			return false;
	return true;
}

/*
 * "nick" -> "nick!*@*", "user@host" -> "*!user@host", "a!b" -> "a!b@*";
 * an empty part is '*' too: "a!@" -> "a!*@*", "@h" -> "*!*@h" (Ergo's
 * CanonicalizeMaskWildcard, InspIRCd and solanum do the same).
 */
void
irc_mask_normalize(char *dst, size_t dstsz, const char *mask)
{
	const char *bang = strchr(mask, '!'), *at, *end;
	const char *nick = "", *user = "", *host = "";
	int nl = 0, ul = 0, hl = 0;

	if (dstsz == 0)
		return;
	at = strchr(bang != NULL ? bang + 1 : mask, '@');
	end = mask + strlen(mask);
	if (bang != NULL) {
		nick = mask;
		nl = (int)(bang - mask);
		user = bang + 1;
		ul = (int)((at != NULL ? at : end) - user);
	} else if (at != NULL) {
		user = mask;
		ul = (int)(at - mask);
	} else {
		nick = mask;
		nl = (int)(end - mask);
	}
	if (at != NULL) {
		host = at + 1;
		hl = (int)(end - host);
	}
	snprintf(dst, dstsz, "%.*s!%.*s@%.*s", nl > 0 ? nl : 1,
	    nl > 0 ? nick : "*", ul > 0 ? ul : 1, ul > 0 ? user : "*",
	    hl > 0 ? hl : 1, hl > 0 ? host : "*");
}

/* ---- hash table: FNV-1a, chained, power-of-two buckets ---- */

static size_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s != '\0') {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

void
htab_init(struct htab *t)
{
	t->b = NULL;
	t->nb = 0;
	t->n = 0;
}

void
htab_free(struct htab *t)
{
	free(t->b);
	htab_init(t);
}

struct hent *
htab_get(struct htab *t, const char *key)
{
	struct hent *e;

	if (t->nb == 0)
		return NULL;
	for (e = t->b[hash_str(key) & (t->nb - 1)]; e != NULL; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

static int
htab_grow(struct htab *t)
{
	size_t nb = t->nb ? t->nb * 2 : 64, i;
	struct hent **b = calloc(nb, sizeof(*b)), *e, *next;

	if (b == NULL)
		return -1;
	for (i = 0; i < t->nb; i++)
		for (e = t->b[i]; e != NULL; e = next) {
			size_t k = hash_str(e->key) & (nb - 1);
			next = e->next;
			e->next = b[k];
			b[k] = e;
		}
	free(t->b);
	t->b = b;
	t->nb = nb;
	return 0;
}

int
htab_put(struct htab *t, struct hent *e)
{
	size_t k;

	if (t->n >= t->nb && htab_grow(t) == -1 && t->nb == 0)
		return -1;	/* a full table still works, only slower */
	k = hash_str(e->key) & (t->nb - 1);
	e->next = t->b[k];
	t->b[k] = e;
	t->n++;
	return 0;
}

void
htab_del(struct htab *t, struct hent *e)
{
	struct hent **pp;

	if (t->nb == 0)
		return;
	for (pp = &t->b[hash_str(e->key) & (t->nb - 1)]; *pp != NULL;
	    pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			t->n--;
			return;
		}
}

size_t
irc_utf8_cut(const char *s, size_t len, size_t max)
{
	size_t n;

	if (len <= max)
		return len;
	/* s[max] is the first byte dropped: a continuation byte means the
	 * kept part ends mid-character, so back up to its lead byte. */
	for (n = max; n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80; n--)
		;
	return n;
}

void
irc_utf8_trunc(char *s, size_t max)
{
	s[irc_utf8_cut(s, strlen(s), max)] = '\0';
}

/* RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF. */
bool
irc_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, n, k;
	uint32_t cp;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf) {
			n = 1;
			cp = s[i] & 0x1f;
		} else if (s[i] >= 0xe0 && s[i] <= 0xef) {
			n = 2;
			cp = s[i] & 0x0f;
		} else if (s[i] >= 0xf0 && s[i] <= 0xf4) {
			n = 3;
			cp = s[i] & 0x07;
		} else
			return false;
		if (len - i - 1 < n)
			return false;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n + 1;
	}
	return true;
}

/* ---- IRCv3 message tags ---- */

size_t
irc_tag_escape(char *dst, size_t dstsz, const char *src, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len && n + 3 <= dstsz; i++) {
		const char *e = NULL;

		switch (src[i]) {
		case ';':	e = "\\:"; break;
		case ' ':	e = "\\s"; break;
		case '\\':	e = "\\\\"; break;
		case '\r':	e = "\\r"; break;
		case '\n':	e = "\\n"; break;
		}
		if (e != NULL) {
			dst[n++] = e[0];
			dst[n++] = e[1];
		} else
			dst[n++] = src[i];
	}
	if (dstsz > 0)
		dst[n < dstsz ? n : dstsz - 1] = '\0';
	return n;
}

/* A lone trailing backslash is dropped; "\x" for unknown x is "x". */
size_t
irc_tag_unescape(char *dst, size_t dstsz, const char *src, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len && n + 1 < dstsz; i++) {
		char ch = src[i];

		if (ch == '\\') {
			if (++i == len)
				break;
			switch (src[i]) {
			case ':':	ch = ';'; break;
			case 's':	ch = ' '; break;
			case 'r':	ch = '\r'; break;
			case 'n':	ch = '\n'; break;
			default:	ch = src[i]; break;
			}
		}
		dst[n++] = ch;
	}
	if (dstsz > 0)
		dst[n] = '\0';
	return n;
}

/* Next tag of a raw section: key [k, k+kl), value [v, v+vl) (v NULL). */
static const char *
tag_next(const char *p, const char **k, size_t *kl, const char **v,
    size_t *vl)
{
	const char *end = p + strcspn(p, ";"), *eq;

	*k = p;
	eq = memchr(p, '=', (size_t)(end - p));
	*kl = (size_t)((eq != NULL ? eq : end) - p);
	*v = eq != NULL ? eq + 1 : NULL;
	*vl = eq != NULL ? (size_t)(end - eq - 1) : 0;
	return *end == ';' ? end + 1 : NULL;
}

bool
irc_tag_get(const char *tags, const char *key, char *val, size_t valsz)
{
	const char *p = tags, *k, *v;
	size_t kl, vl, klen = strlen(key);
	bool found = false;

	while (p != NULL && *p != '\0') {
		p = tag_next(p, &k, &kl, &v, &vl);
		if (kl == klen && memcmp(k, key, kl) == 0) {
			found = true;	/* the last one wins */
			if (v != NULL)
				irc_tag_unescape(val, valsz, v, vl);
			else if (valsz > 0)
				val[0] = '\0';
		}
	}
	return found;
}

/* Whether CLIENTTAGDENY denies key ("+" stripped): "*,-a" or "a,b". */
static bool
tag_denied(const char *key, size_t kl)
{
	const char *p = IRC_CLIENTTAGDENY, *e;
	bool deny = false;

	while (*p != '\0') {
		size_t n;

		e = p + strcspn(p, ",");
		n = (size_t)(e - p);
		if (n == 1 && *p == '*')
			deny = true;
		else if (*p == '-' && n - 1 == kl && memcmp(p + 1, key, kl) == 0)
			return false;
		else if (n == kl && memcmp(p, key, kl) == 0)
			return true;
		p = *e == ',' ? e + 1 : e;
	}
	return deny;
}

/*
 * A client-only tag's key after its '+': [vendor/]name, letters, digits,
 * '-', and '.' in a vendor (message-tags' grammar, loosely). Anything
 * else would be relayed as raw bytes to every recipient.
 */
static bool
tag_key_ok(const char *k, size_t kl)
{
	size_t i;

	for (i = 0; i < kl; i++)
		if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' &&
		    k[i] <= 'Z') || (k[i] >= '0' && k[i] <= '9') ||
		    k[i] == '-' || k[i] == '.' || k[i] == '/'))
			return false;
	return true;
}

/* A client-only tag of a line, and where it stood. */
struct ctag {
	const char	*k, *v;
	size_t		 kl, vl;
	unsigned	 i;
};

/* By key, then by place: a key's last copy sorts last among its own. */
static int
ctag_cmp(const void *a, const void *b)
{
	const struct ctag *x = a, *y = b;
	int d = memcmp(x->k, y->k, x->kl < y->kl ? x->kl : y->kl);

	if (d != 0)
		return d;
	if (x->kl != y->kl)
		return x->kl < y->kl ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/*
 * The client-only tags of a raw section, to relay: the first
 * IRC_CLIENT_TAGS_N allowed ones (the rest are ignored), a later
 * duplicate among them replacing an earlier one. One pass and a sort of
 * at most IRC_CLIENT_TAGS_N keys: a line of thousands of tags costs
 * O(n), not a rescan of the rest of the line per tag.
 */
size_t
irc_tags_client(const char *tags, char *out, size_t outsz)
{
	const char *p = tags, *k, *v;
	char raw[IRC_TAGS_MAX + 1];
	struct ctag t[IRC_CLIENT_TAGS_N], s[IRC_CLIENT_TAGS_N];
	bool later[IRC_CLIENT_TAGS_N];
	size_t kl, vl, n = 0, r, nt = 0, i;

	if (outsz == 0)
		return 0;
	out[0] = '\0';
	while (p != NULL && *p != '\0' && nt < IRC_CLIENT_TAGS_N) {
		p = tag_next(p, &k, &kl, &v, &vl);
		if (kl < 2 || k[0] != '+' || !tag_key_ok(k + 1, kl - 1) ||
		    tag_denied(k + 1, kl - 1))
			continue;
		t[nt].k = k;
		t[nt].kl = kl;
		t[nt].v = v;
		t[nt].vl = vl;
		t[nt].i = (unsigned)nt;
		later[nt] = false;
		nt++;
	}
	memcpy(s, t, nt * sizeof(*t));
	qsort(s, nt, sizeof(*s), ctag_cmp);
	for (i = 0; i + 1 < nt; i++)	/* a later duplicate replaces it */
		if (s[i].kl == s[i + 1].kl &&
		    memcmp(s[i].k, s[i + 1].k, s[i].kl) == 0)
			later[s[i].i] = true;
	for (i = 0; i < nt; i++) {
		if (later[i])
			continue;
		r = t[i].v != NULL ? irc_tag_unescape(raw, sizeof(raw),
		    t[i].v, t[i].vl) : 0;
		if (!irc_utf8_valid(raw, r))
			continue;
		if (n + (n > 0) + t[i].kl + 1 + 2 * r + 1 > outsz)
			break;
		if (n > 0)
			out[n++] = ';';
		memcpy(out + n, t[i].k, t[i].kl);
		n += t[i].kl;
		if (r > 0) {
			out[n++] = '=';
			n += irc_tag_escape(out + n, outsz - n, raw, r);
		}
		out[n] = '\0';
	}
	return n;
}

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

/*
 * s as a middle parameter of a reply: itself, or "*" if it could not be
 * one (empty, a leading ':', a space, a CR or LF).
 */
const char *
irc_param_safe(const char *s)
{
	return s[0] == '\0' || s[0] == ':' || strpbrk(s, " \r\n") != NULL ?
	    "*" : s;
}

/* ---- time: wall clock in ms, and the IRCv3 timestamp format ---- */

/*
 * Read once per pass (per ergo_now_ms) and never going back: every stamp
 * of one pass is the same (server-time tags, history, when the last
 * session left), so a message of a later pass is never older than
 * something this pass recorded, even when the wall clock steps back.
 */
int64_t
irc_time_now_ms(void)
{
	static int64_t	 last;
	static uint64_t	 at;
	static bool	 read_once;
	struct timespec	 ts;
	int64_t		 v;

	if (read_once && at == ergo_now_ms)
		return last;
	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		v = (int64_t)ergo_now * 1000;
	else
		v = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (v > last)
		last = v;
	at = ergo_now_ms;
	read_once = true;
	return last;
}

void
irc_time_format(char *buf, size_t sz, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(buf, sz, "1970-01-01T00:00:00.000Z");
		return;
	}
	/* the modulos only tell the compiler how wide each field is */
	snprintf(buf, sz, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
	    (unsigned)(tm.tm_year + 1900) % 10000u,
	    (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
	    (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
	    (unsigned)tm.tm_sec % 100u, (unsigned)(ms % 1000));
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool
digits(const char **pp, int n, int *out)
{
	const char *p = *pp;
	int v = 0;

	while (n-- > 0) {
		if (*p < '0' || *p > '9')
			return false;
		v = v * 10 + (*p++ - '0');
	}
	*out = v;
	*pp = p;
	return true;
}

/* YYYY-MM-DDThh:mm:ss[.sss]Z to ms since the epoch; false if malformed. */
bool
irc_time_parse(const char *s, int64_t *ms)
{
	int y, mo, d, h, mi, sec, frac = 0, fd = 0;

	if (!digits(&s, 4, &y) || *s++ != '-' || !digits(&s, 2, &mo) ||
	    *s++ != '-' || !digits(&s, 2, &d) || *s++ != 'T' ||
	    !digits(&s, 2, &h) || *s++ != ':' || !digits(&s, 2, &mi) ||
	    *s++ != ':' || !digits(&s, 2, &sec))
		return false;
	if (*s == '.') {
		s++;
		while (*s >= '0' && *s <= '9') {
			if (fd < 3) {
				frac = frac * 10 + (*s - '0');
				fd++;
			}
			s++;
		}
		if (fd == 0)
			return false;
		while (fd++ < 3)
			frac *= 10;
	}
	if (*s++ != 'Z' || *s != '\0')
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60)
		return false;
	*ms = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000LL +
	    sec * 1000LL + frac;
	return true;
}

static bool
char_in(const char *set, unsigned char ch)
{
	const unsigned char *p = (const unsigned char *)set;

	for (; *p != '\0'; p++) {
		if (p[1] == '-' && p[2] != '\0') {
			if (ch >= p[0] && ch <= p[2])
				return true;
			p += 2;
		} else if (*p == ch)
			return true;
	}
	return false;
}

bool
irc_chars_ok(const char *set, const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (!char_in(set, (unsigned char)*s))
			return false;
	return true;
}

/*
 * "0", "none", "perm", "permanent": 0 (permanent); bare digits: minutes,
 * as in ircd-hybrid; else units, "1w2d3h4m5s". Seconds, or -1.
 */
long long
irc_duration_parse(const char *s)
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
			if (v > IRC_DURATION_MAX)
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
		if (total > IRC_DURATION_MAX)
			return -1;
	}
	return total;
}
