/*
 * irc_precis.c: casemapping precis: UTF-8 nicknames folded as RFC 8265's
 * UsernameCaseMapped (width mapping, lower case) and their confusable
 * skeletons (UTS #39, as Ergo's), over the tables scripts/gen_precis.sh
 * makes from ICU's Unicode data (irc_precis_tab.h). A subset of PRECIS,
 * said in doc/ircv3.md: no combining marks (a nick must be in NFC with
 * precomposed letters), no bidi rule, skeletons only where the
 * prototype is in a two-byte UTF-8 alphabet. Pure functions: no I/O.
 * The tables are byte streams walked in order where a NICK alone reads
 * them, to keep the static binary under 1 MiB.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "irc_precis.h"
#include "irc_precis_tab.h"

#define N(a)	(sizeof(a) / sizeof((a)[0]))

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

bool
irc_precis_nick_valid(const char *nick, size_t maxlen)
{
	const unsigned char *s = (const unsigned char *)nick;
	size_t n = strlen(nick), i = 0, l;
	uint32_t c, f;

	if (n == 0 || n > maxlen)
		return false;
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
	uint32_t c;

	if (dstsz == 0)
		return;
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

void
irc_precis_skeleton(char *dst, const char *nick, size_t dstsz)
{
	const unsigned char *s = (const unsigned char *)nick;
	size_t n = strlen(nick), i = 0, o = 0, l;
	uint32_t c;

	if (dstsz == 0)
		return;
	while (i < n) {
		if ((l = u8_next(s + i, n - i, &c)) == 0)
			break;
		if (c >= 0xAC00 && c <= 0xD7A3) {
			/* Hangul syllable: its jamo (Unicode 3.12) */
			uint32_t si = c - 0xAC00;

			skel1(dst, dstsz, &o, 0x1100 + si / 588);
			skel1(dst, dstsz, &o, 0x1161 + (si % 588) / 28);
			if (si % 28 != 0)
				skel1(dst, dstsz, &o, 0x11A7 + si % 28);
		} else
			skel1(dst, dstsz, &o, c);
		i += l;
	}
	dst[o] = '\0';
}

const char *
irc_precis_unicode(void)
{
	return PRECIS_UNICODE;
}
