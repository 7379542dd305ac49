/*
 * irc_util.c: casemapping, wildcard matching, name syntax and the
 * string-keyed hash table behind nick and channel lookups.
 * Pure functions over memory: no I/O, no protocol state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc.h"

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
	for (i = 0; src[i] != '\0' && i + 1 < dstsz; i++)
		dst[i] = (char)fold1((unsigned char)src[i]);
	dst[i] = '\0';
}

int
irc_casecmp(const char *a, const char *b)
{
	unsigned char x, y;

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
bool
irc_match(const char *mask, const char *s)
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

char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

/* "nick" -> "nick!*@*", "user@host" -> "*!user@host", "a!b" -> "a!b@*" */
void
irc_mask_normalize(char *dst, size_t dstsz, const char *mask)
{
	const char *bang = strchr(mask, '!'), *at = strchr(mask, '@');
	size_t n;

	if (dstsz == 0)
		return;
	if (bang == NULL && at == NULL)
		n = (size_t)snprintf(dst, dstsz, "%s!*@*", mask);
	else if (bang == NULL)
		n = (size_t)snprintf(dst, dstsz, "*!%s", mask);
	else if (at == NULL || at < bang)
		n = (size_t)snprintf(dst, dstsz, "%s@*", mask);
	else
		n = (size_t)snprintf(dst, dstsz, "%s", mask);
	(void)n;
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
