/*
 * json.c: a small, strict JSON parser (RFC 8259) into a tree of
 * struct json, for the files `ergo importdb` reads. Recursion is
 * bounded by JSON_DEPTH_MAX; no state outside the call. Knows nothing
 * of what the tree means.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"

struct jp {
	const char	*p, *end, *start;
	char		*err;
	size_t		 errsz;
	bool		 failed;
};

static void
jp_fail(struct jp *jp, const char *what)
{
	const char *q;
	size_t line = 1, col = 1;

	if (jp->failed)
		return;
	jp->failed = true;
	for (q = jp->start; q < jp->p && q < jp->end; q++) {
		if (*q == '\n') {
			line++;
			col = 1;
		} else
			col++;
	}
	snprintf(jp->err, jp->errsz, "line %zu, column %zu: %s", line, col,
	    what);
}

static void
jp_ws(struct jp *jp)
{
	while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' ||
	    *jp->p == '\n' || *jp->p == '\r'))
		jp->p++;
}

static struct json *
jnew(struct jp *jp, enum json_type t)
{
	struct json *j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		jp_fail(jp, strerror(errno));
	else
		j->type = t;
	return j;
}

static int
hex4(const char *p, unsigned *v)
{
	int i;

	*v = 0;
	for (i = 0; i < 4; i++) {
		*v <<= 4;
		if (p[i] >= '0' && p[i] <= '9')
			*v |= (unsigned)(p[i] - '0');
		else if (p[i] >= 'a' && p[i] <= 'f')
			*v |= (unsigned)(p[i] - 'a' + 10);
		else if (p[i] >= 'A' && p[i] <= 'F')
			*v |= (unsigned)(p[i] - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

/* Length of the UTF-8 sequence at p (well-formed, RFC 3629), or 0. */
static size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
	size_t n, i;
	unsigned c = p[0], cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

static size_t
utf8_put(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A string at jp->p (the opening quote), decoded into a new buffer. */
static char *
jp_string(struct jp *jp)
{
	const char *q;
	char *out, *o;
	unsigned cp, lo;
	size_t n;

	jp->p++;
	/* the decoded string is never longer than its source */
	for (q = jp->p; q < jp->end && *q != '"'; q++)
		if (*q == '\\' && q + 1 < jp->end)
			q++;
	if (q >= jp->end) {
		jp_fail(jp, "unterminated string");
		return NULL;
	}
	if ((out = malloc((size_t)(q - jp->p) + 1)) == NULL) {
		jp_fail(jp, strerror(errno));
		return NULL;
	}
	for (o = out; *jp->p != '"'; ) {
		unsigned char c = (unsigned char)*jp->p;

		if (c < 0x20) {
			jp_fail(jp, "control character in a string");
			goto fail;
		}
		if (c != '\\') {
			if ((n = utf8_len((const unsigned char *)jp->p,
			    (const unsigned char *)jp->end)) == 0) {
				jp_fail(jp, "invalid UTF-8 in a string");
				goto fail;
			}
			memcpy(o, jp->p, n);
			o += n;
			jp->p += n;
			continue;
		}
		jp->p++;
		switch (*jp->p) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '/': *o++ = '/'; break;
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u':
			if (jp->end - jp->p < 5 || hex4(jp->p + 1, &cp) == -1) {
				jp_fail(jp, "bad \\u escape");
				goto fail;
			}
			jp->p += 4;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (jp->end - jp->p < 7 || jp->p[1] != '\\' ||
				    jp->p[2] != 'u' ||
				    hex4(jp->p + 3, &lo) == -1 ||
				    lo < 0xdc00 || lo > 0xdfff) {
					jp_fail(jp, "unpaired surrogate");
					goto fail;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
				jp->p += 6;
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				jp_fail(jp, "unpaired surrogate");
				goto fail;
			}
			if (cp == 0) {
				jp_fail(jp, "\\u0000 in a string");
				goto fail;
			}
			/* 6 or 12 source bytes make at most 4 */
			o += utf8_put(o, cp);
			break;
		default:
			jp_fail(jp, "bad escape");
			goto fail;
		}
		jp->p++;
	}
	jp->p++;
	*o = '\0';
	return out;
fail:
	free(out);
	return NULL;
}

static struct json *jp_value(struct jp *, int);

static struct json *
jp_number(struct jp *jp)
{
	const char *s = jp->p;
	struct json *j;

	if (jp->p < jp->end && *jp->p == '-')
		jp->p++;
	if (jp->p < jp->end && *jp->p == '0')
		jp->p++;
	else if (jp->p < jp->end && *jp->p >= '1' && *jp->p <= '9')
		while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9')
			jp->p++;
	else
		goto bad;
	if (jp->p < jp->end && *jp->p == '.') {
		jp->p++;
		if (jp->p >= jp->end || *jp->p < '0' || *jp->p > '9')
			goto bad;
		while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9')
			jp->p++;
	}
	if (jp->p < jp->end && (*jp->p == 'e' || *jp->p == 'E')) {
		jp->p++;
		if (jp->p < jp->end && (*jp->p == '+' || *jp->p == '-'))
			jp->p++;
		if (jp->p >= jp->end || *jp->p < '0' || *jp->p > '9')
			goto bad;
		while (jp->p < jp->end && *jp->p >= '0' && *jp->p <= '9')
			jp->p++;
	}
	if (jp->p - s > JSON_NUM_MAX) {
		jp->p = s;
		jp_fail(jp, "number too long");
		return NULL;
	}
	if ((j = jnew(jp, JSON_NUM)) == NULL)
		return NULL;
	if ((j->s = malloc((size_t)(jp->p - s) + 1)) == NULL) {
		jp_fail(jp, strerror(errno));
		free(j);
		return NULL;
	}
	memcpy(j->s, s, (size_t)(jp->p - s));
	j->s[jp->p - s] = '\0';
	return j;
bad:
	jp_fail(jp, "bad number");
	return NULL;
}

/* An array or object at jp->p ('[' or '{'). */
static struct json *
jp_container(struct jp *jp, int depth)
{
	bool obj = *jp->p == '{';
	char close = obj ? '}' : ']';
	struct json *j, *v, **tail;
	char *key = NULL;

	if (depth >= JSON_DEPTH_MAX) {
		jp_fail(jp, "nested too deeply");
		return NULL;
	}
	if ((j = jnew(jp, obj ? JSON_OBJ : JSON_ARR)) == NULL)
		return NULL;
	tail = &j->child;
	jp->p++;
	jp_ws(jp);
	if (jp->p < jp->end && *jp->p == close) {
		jp->p++;
		return j;
	}
	for (;;) {
		jp_ws(jp);
		if (obj) {
			if (jp->p >= jp->end || *jp->p != '"') {
				jp_fail(jp, "expected a member name");
				goto fail;
			}
			if ((key = jp_string(jp)) == NULL)
				goto fail;
			jp_ws(jp);
			if (jp->p >= jp->end || *jp->p != ':') {
				jp_fail(jp, "expected ':'");
				goto fail;
			}
			jp->p++;
		}
		if ((v = jp_value(jp, depth + 1)) == NULL)
			goto fail;
		v->key = key;
		key = NULL;
		*tail = v;
		tail = &v->next;
		jp_ws(jp);
		if (jp->p < jp->end && *jp->p == ',') {
			jp->p++;
			continue;
		}
		if (jp->p < jp->end && *jp->p == close) {
			jp->p++;
			return j;
		}
		jp_fail(jp, obj ? "expected ',' or '}'" : "expected ',' or ']'");
		goto fail;
	}
fail:
	free(key);
	json_free(j);
	return NULL;
}

static struct json *
jp_value(struct jp *jp, int depth)
{
	struct json *j;

	jp_ws(jp);
	if (jp->p >= jp->end) {
		jp_fail(jp, "expected a value");
		return NULL;
	}
	switch (*jp->p) {
	case '{':
	case '[':
		return jp_container(jp, depth);
	case '"':
		if ((j = jnew(jp, JSON_STR)) != NULL &&
		    (j->s = jp_string(jp)) == NULL) {
			free(j);
			j = NULL;
		}
		return j;
	case 't':
	case 'f':
	case 'n': {
		static const struct { const char *w; enum json_type t; bool b; }
		    lit[] = { { "true", JSON_BOOL, true },
		    { "false", JSON_BOOL, false }, { "null", JSON_NULL, false } };
		size_t i, n;

		for (i = 0; i < 3; i++) {
			n = strlen(lit[i].w);
			if ((size_t)(jp->end - jp->p) >= n &&
			    memcmp(jp->p, lit[i].w, n) == 0) {
				jp->p += n;
				if ((j = jnew(jp, lit[i].t)) != NULL)
					j->b = lit[i].b;
				return j;
			}
		}
		break;
	}
	default:
		if (*jp->p == '-' || (*jp->p >= '0' && *jp->p <= '9'))
			return jp_number(jp);
	}
	jp_fail(jp, "expected a value");
	return NULL;
}

struct json *
json_parse(const char *text, size_t len, char *err, size_t errsz)
{
	struct jp jp;
	struct json *j;

	memset(&jp, 0, sizeof(jp));
	jp.p = jp.start = text;
	jp.end = text + len;
	jp.err = err;
	jp.errsz = errsz;
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		jp.p += 3;	/* a byte order mark some editors write */
	if ((j = jp_value(&jp, 0)) == NULL)
		return NULL;
	jp_ws(&jp);
	if (jp.p != jp.end) {
		jp_fail(&jp, "trailing data after the value");
		json_free(j);
		return NULL;
	}
	return j;
}

void
json_free(struct json *j)
{
	struct json *n;

	for (; j != NULL; j = n) {
		n = j->next;
		json_free(j->child);	/* depth is bounded by the parser */
		free(j->s);
		free(j->key);
		free(j);
	}
}

struct json *
json_get(const struct json *obj, const char *key)
{
	struct json *j;

	if (obj == NULL || obj->type != JSON_OBJ)
		return NULL;
	for (j = obj->child; j != NULL; j = j->next)
		if (strcasecmp(j->key, key) == 0)
			return j;
	return NULL;
}

int
json_int(const struct json *j, int64_t *v)
{
	char *end;
	long long n;

	if (j == NULL || j->type != JSON_NUM)
		return -1;
	errno = 0;
	n = strtoll(j->s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*v = n;
	return 0;
}

const char *
json_type_name(enum json_type t)
{
	static const char *const names[] = { "null", "a boolean", "a number",
	    "a string", "an array", "an object" };

	return names[t];
}
