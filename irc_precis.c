/*
 * irc_precis.c: casemapping precis: UTF-8 nicknames folded as RFC 8265's
 * UsernameCaseMapped (width mapping, lower case) and their confusable
 * skeletons (UTS #39, as Ergo's), over the tables scripts/gen_precis.sh
 * makes from ICU's Unicode data (irc_precis_tab.h), after Unicode
 * normalisation (NFC, over the tables scripts/gen_nfc.py makes,
 * irc_precis_nfc.h). A subset of PRECIS, said in doc/ircv3.md: a
 * nickname's NFC must be of letters the tables allow (a combining mark
 * that composes with its letter is fine, one left over is not), no
 * bidi rule, skeletons only where the prototype is in a two-byte UTF-8
 * alphabet. Pure functions: no I/O. The tables are byte streams walked
 * in order where a NICK alone reads them, to keep the static binary
 * under 1 MiB; a text with nothing NFC could change (the usual case,
 * checked by a binary search) is not normalised.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "irc_precis.h"
#include "irc_precis_tab.h"
#include "irc_precis_nfc.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))
/* Most code points of one text normalised; a longer one is not (a
 * nickname is at most NICKLEN_MAX bytes). */
#define NFC_MAX	256

static uint32_t	 fold(uint32_t);

/* One code point of s[0..n) into *cp: its length, 0 if not UTF-8. */
static size_t
u8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c;
	size_t l, i;

	if (n == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		l = 2, c = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		l = 3, c = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		l = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n < l)
		return 0;
	for (i = 1; i < l; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if ((l == 3 && (c < 0x800 || (c >= 0xD800 && c <= 0xDFFF))) ||
	    (l == 4 && (c < 0x10000 || c > 0x10FFFF)))
		return 0;
	*cp = c;
	return l;
}

static size_t
u8_put(char *d, uint32_t c)
{
	if (c < 0x80) {
		d[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		d[0] = (char)(0xC0 | (c >> 6));
		d[1] = (char)(0x80 | (c & 0x3F));
		return 2;
	}
	if (c < 0x10000) {
		d[0] = (char)(0xE0 | (c >> 12));
		d[1] = (char)(0x80 | ((c >> 6) & 0x3F));
		d[2] = (char)(0x80 | (c & 0x3F));
		return 3;
	}
	d[0] = (char)(0xF0 | (c >> 18));
	d[1] = (char)(0x80 | ((c >> 12) & 0x3F));
	d[2] = (char)(0x80 | ((c >> 6) & 0x3F));
	d[3] = (char)(0x80 | (c & 0x3F));
	return 4;
}

static bool
ascii_nick(uint32_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' ||
	    (c != 0 && strchr("[]\\`_^{|}", (int)c) != NULL);
}

/* One varint of the tables at *p (7 bits a byte, low first). */
static uint32_t
varint(const unsigned char **p)
{
	uint32_t v = 0;
	unsigned sh = 0;

	while (**p & 0x80) {
		v |= (uint32_t)(**p & 0x7F) << sh;
		sh += 7;
		(*p)++;
	}
	v |= (uint32_t)**p << sh;
	(*p)++;
	return v;
}

/* ---- NFC (UAX #15): decompose, order the marks, compose ---- */

#define SBASE	0xAC00		/* Hangul syllables (Unicode 3.12) */
#define SCOUNT	11172
#define LBASE	0x1100
#define VBASE	0x1161
#define TBASE	0x11A7

/* c's index in precis_nfc_second (it composes with a letter), or -1. */
static int
second(uint32_t c)
{
	size_t lo = 0, hi = N(precis_nfc_second), m;

	while (lo < hi) {
		m = (lo + hi) / 2;
		if (c < precis_nfc_second[m])
			hi = m;
		else if (c > precis_nfc_second[m])
			lo = m + 1;
		else
			return (int)m;
	}
	return -1;
}

/* c's canonical combining class (0 for the marks left out). */
static unsigned
ccc(uint32_t c)
{
	int i;

	return c >= 0x300 && (i = second(c)) >= 0 ? precis_nfc_ccc[i] : 0;
}

/* Whether NFC may change a text because c is in it. */
static bool
nfc_maybe(uint32_t c)
{
	return c >= 0x300 && (second(c) >= 0 ||
	    (c >= VBASE && c < VBASE + 21) || (c > TBASE && c < TBASE + 28));
}

/*
 * The two parts of letter *c (c set), or the letter *c that *a and *b
 * make (*c 0); false if none.
 */
static bool
decomp(uint32_t *c, uint32_t *a, uint32_t *b)
{
	const unsigned char *p = precis_nfc_decomp;
	const unsigned char *end = p + N(precis_nfc_decomp);
	uint32_t cp = 0, x, y;

	while (p < end) {
		cp += varint(&p);
		x = varint(&p);
		y = precis_nfc_second[*p++];
		if (*c != 0 ? cp == *c : x == *a && y == *b) {
			if (*c != 0) {
				*a = x;
				*b = y;
			} else
				*c = cp;
			return true;
		}
		if (*c != 0 && cp > *c)
			break;
	}
	return false;
}

/* The letter a and b compose to, or 0. */
static uint32_t
compose(uint32_t a, uint32_t b)
{
	uint32_t c = 0;

	if (a >= LBASE && a < LBASE + 19 && b >= VBASE && b < VBASE + 21)
		return SBASE + ((a - LBASE) * 21 + (b - VBASE)) * 28;
	if (a >= SBASE && a < SBASE + SCOUNT && (a - SBASE) % 28 == 0 &&
	    b > TBASE && b < TBASE + 28)
		return a + (b - TBASE);
	if (second(b) < 0 || !decomp(&c, &a, &b))
		return 0;
	return c;
}

/* c's full canonical decomposition appended to buf[*n]; false if full. */
static bool
nfd_push(uint32_t *buf, size_t *n, uint32_t c)
{
	uint32_t a, b, s = c - SBASE;

	if (c >= SBASE && c < SBASE + SCOUNT) {
		if (*n + 3 > NFC_MAX)
			return false;
		buf[(*n)++] = LBASE + s / 588;
		buf[(*n)++] = VBASE + (s % 588) / 28;
		if (s % 28 != 0)
			buf[(*n)++] = TBASE + s % 28;
		return true;
	}
	if (c >= 0xC0 && decomp(&c, &a, &b))
		return nfd_push(buf, n, a) && nfd_push(buf, n, b);
	if (*n >= NFC_MAX)
		return false;
	buf[(*n)++] = c;
	return true;
}

/* buf[0..n) in NFC, in place: the new count, 0 if too long. */
static size_t
nfc_buf(uint32_t *buf, size_t n)
{
	uint32_t d[NFC_MAX], c, cc;
	size_t i, m = 0, j, k, start;
	unsigned last, cl;

	for (i = 0; i < n; i++)
		if (!nfd_push(d, &m, buf[i]))
			return 0;
	/* the canonical order: each mark after those of a lower class */
	for (j = 1; j < m; j++) {
		c = d[j];
		if ((cl = ccc(c)) == 0)
			continue;
		for (k = j; k > 0 && ccc(d[k - 1]) > cl; k--)
			d[k] = d[k - 1];
		d[k] = c;
	}
	/* composition: each mark with its starter unless blocked */
	if (m == 0)
		return 0;
	start = 0;
	last = ccc(d[0]) != 0 ? 256 : 0;
	buf[0] = d[0];
	for (j = 1, k = 1; j < m; j++) {
		c = d[j];
		cl = ccc(c);
		if ((last < cl || last == 0) &&
		    (cc = compose(buf[start], c)) != 0) {
			buf[start] = cc;
			continue;
		}
		if (cl == 0)
			start = k;
		last = cl;
		buf[k++] = c;
	}
	return k;
}

/*
 * src in NFC into buf, then if dofold its code points folded and the
 * result normalised again (folding may make a pair NFC composes): the
 * count, or 0 if src is not UTF-8 or too long. NFC comes first, unlike
 * RFC 8265's order, because this subset allows a mark only where it
 * composes: folding first would keep "I" + U+0307 apart as "i" + U+0307,
 * which is no nickname, while its NFC, U+0130, folds to "i" as the
 * precomposed letter does (a valid nickname's fold must be one).
 */
static size_t
nfc(const char *src, uint32_t *buf, bool dofold)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t len = strlen(src), i = 0, n = 0, l;
	uint32_t c;
	bool changed = false;

	while (i < len) {
		if ((l = u8_next(s + i, len - i, &c)) == 0 || n >= NFC_MAX)
			return 0;
		buf[n++] = c;
		i += l;
	}
	if ((n = nfc_buf(buf, n)) == 0 || !dofold)
		return n;
	for (i = 0; i < n; i++)
		if ((c = fold(buf[i])) != buf[i]) {
			buf[i] = c;
			changed = true;
		}
	return changed ? nfc_buf(buf, n) : n;
}

/* Whether src has anything NFC could change (not UTF-8: no). */
static bool
needs_nfc(const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t len = strlen(src), i = 0, l;
	uint32_t c;

	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((l = u8_next(s + i, len - i, &c)) == 0)
			return false;
		if (nfc_maybe(c))
			return true;
		i += l;
	}
	return false;
}

/* Whether non-ASCII c may be in a nickname: a walk of the ranges (a
 * NICK's check only, so small beats fast). */
static bool
valid(uint32_t c)
{
	const unsigned char *p = precis_valid, *end = p + N(precis_valid);
	uint32_t lo = 0x80, n;

	while (p < end) {
		lo += varint(&p);
		n = varint(&p);
		if (c < lo)
			return false;
		if (c <= lo + n)
			return true;
		lo += n + 1;
	}
	return false;
}

/* What c folds to (itself if nothing). */
static uint32_t
fold(uint32_t c)
{
	size_t lo = 0, hi = N(precis_fold);

	if (c < 0x80)
		return c >= 'A' && c <= 'Z' ? c + 32 : c;
	while (lo < hi) {
		size_t m = (lo + hi) / 2;
		const struct precis_fold *f = &precis_fold[m];

		if (c < f->lo)
			hi = m;
		else if (c > f->lo + (uint32_t)f->n * f->stride)
			lo = m + 1;
		else
			return (c - f->lo) % f->stride == 0 ?
			    (uint32_t)((int32_t)c + f->delta) : c;
	}
	return c;
}

/* Whether the code points buf[0..n) make a valid nickname. */
static bool
cps_valid(const uint32_t *buf, size_t n)
{
	size_t i;
	uint32_t f;

	for (i = 0; i < n; i++) {
		if (buf[i] < 0x80 ? !ascii_nick(buf[i]) : !valid(buf[i]))
			return false;
		f = fold(buf[i]);
		if (i == 0 && ((f >= '0' && f <= '9') || f == '-'))
			return false;
	}
	return n > 0;
}

bool
irc_precis_nick_valid(const char *nick, size_t maxlen)
{
	const unsigned char *s = (const unsigned char *)nick;
	size_t n = strlen(nick), i = 0, l;
	uint32_t c, f, buf[NFC_MAX];

	if (n == 0 || n > maxlen)
		return false;
	if (needs_nfc(nick))	/* its NFC must be a nickname */
		return cps_valid(buf, nfc(nick, buf, false));
	while (i < n) {
		if ((l = u8_next(s + i, n - i, &c)) == 0)
			return false;
		if (c < 0x80 ? !ascii_nick(c) : !valid(c))
			return false;
		f = fold(c);
		/* the first: not a digit or '-' (fullwidth ones too) */
		if (i == 0 && ((f >= '0' && f <= '9') || f == '-'))
			return false;
		i += l;
	}
	return true;
}

void
irc_precis_fold(char *dst, const char *src, size_t dstsz)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t n = strlen(src), i = 0, o = 0, l;
	char b[4];
	uint32_t c, buf[NFC_MAX];
	size_t k;

	if (dstsz == 0)
		return;
	if (needs_nfc(src) && (k = nfc(src, buf, true)) > 0) {
		for (i = 0; i < k; i++) {
			size_t bl = u8_put(b, buf[i]);

			if (o + bl >= dstsz)
				break;
			memcpy(dst + o, b, bl);
			o += bl;
		}
		dst[o] = '\0';
		return;
	}
	while (i < n) {
		if ((l = u8_next(s + i, n - i, &c)) == 0) {
			l = 1;		/* not UTF-8: the byte as it is */
			b[0] = (char)s[i];
			if (o + 1 >= dstsz)
				break;
			dst[o++] = b[0];
			i += l;
			continue;
		}
		{
			size_t bl = u8_put(b, fold(c));

			if (o + bl >= dstsz)
				break;
			memcpy(dst + o, b, bl);
			o += bl;
		}
		i += l;
	}
	dst[o] = '\0';
}

/* Appends c's skeleton to dst[*o..sz) (not a Hangul syllable). */
static void
skel1(char *dst, size_t sz, size_t *o, uint32_t c)
{
	const unsigned char *p = precis_skel, *end = p + N(precis_skel);
	const char *s = NULL;
	uint32_t cp = 0;
	size_t bl = 0;
	char b[4];

	while (p < end) {
		cp += varint(&p);
		bl = *p++;
		if (cp >= c)
			break;
		p += bl;
	}
	if (cp == c)
		s = (const char *)p;
	else {
		bl = u8_put(b, fold(c));
		s = b;
	}
	if (*o + bl >= sz)
		return;
	memcpy(dst + *o, s, bl);
	*o += bl;
}

/* Appends c's skeleton, a Hangul syllable's as its jamo's. */
static void
skel_cp(char *dst, size_t sz, size_t *o, uint32_t c)
{
	uint32_t si = c - SBASE;

	if (c >= SBASE && c < SBASE + SCOUNT) {
		skel1(dst, sz, o, LBASE + si / 588);
		skel1(dst, sz, o, VBASE + (si % 588) / 28);
		if (si % 28 != 0)
			skel1(dst, sz, o, TBASE + si % 28);
	} else
		skel1(dst, sz, o, c);
}

void
irc_precis_skeleton(char *dst, const char *nick, size_t dstsz)
{
	const unsigned char *s = (const unsigned char *)nick;
	size_t n = strlen(nick), i = 0, o = 0, l, k;
	uint32_t c, buf[NFC_MAX];

	if (dstsz == 0)
		return;
	if (needs_nfc(nick) && (k = nfc(nick, buf, false)) > 0) {
		for (i = 0; i < k; i++)	/* of its NFC */
			skel_cp(dst, dstsz, &o, buf[i]);
		dst[o] = '\0';
		return;
	}
	while (i < n) {
		if ((l = u8_next(s + i, n - i, &c)) == 0)
			break;
		skel_cp(dst, dstsz, &o, c);
		i += l;
	}
	dst[o] = '\0';
}

const char *
irc_precis_unicode(void)
{
	return PRECIS_UNICODE;
}
