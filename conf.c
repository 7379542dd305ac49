/*
 * conf.c: the config file: a hand-written lexer and a table-driven parser,
 * its errors, the named blocks (oper, oper-class, link, webirc, logging,
 * listen), loading and freeing. Touches no sockets. Each value's
 * conversion and check and the listen addresses are conf_value.c's; the
 * built-in defaults, ERGO__SECTION__KEY environment overrides and the
 * checks across keys conf_apply.c's; the tables of keys conf_keys.c's,
 * the annotated `ergo defaultconfig` text conf_text.c's (conf_int.h).
 */

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "ergo.h"
#include "conf.h"
#include "conf_int.h"
#include "log.h"

struct conf	*conf;

#define CONF_FILE_MAX	(1024 * 1024)	/* no real config is this big */
#define CONF_ERRS_MAX	100		/* errors reported per load */
#define KEYS_MAX	32		/* keys in one block */

/* ---- errors ---- */

static void
err_append(struct parser *p, const char *s)
{
	size_t n = strlen(s), sz;
	char *nb;

	if (p->errlen + n + 1 > p->errsz) {
		sz = p->errsz ? p->errsz : 256;
		while (sz < p->errlen + n + 1)
			sz *= 2;
		if ((nb = realloc(p->errs, sz)) == NULL) {
			p->nomem = true;
			return;
		}
		p->errs = nb;
		p->errsz = sz;
	}
	memcpy(p->errs + p->errlen, s, n + 1);
	p->errlen += n;
}

/* One "FILE:LINE:COL: message" (or "ERGO__X__Y: message") line. */
void __attribute__((format(printf, 3, 4)))
conf_err(struct parser *p, const struct where *w, const char *fmt, ...)
{
	char msg[512], line[768];
	va_list ap;

	if (++p->nerr > CONF_ERRS_MAX)
		return;
	if (p->nerr == CONF_ERRS_MAX)
		snprintf(msg, sizeof(msg), "too many errors; stopping here");
	else {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	if (w != NULL && w->env != NULL)
		snprintf(line, sizeof(line), "%s: %s\n", w->env, msg);
	else if (w != NULL && w->line != 0)
		snprintf(line, sizeof(line), "%s:%u:%u: %s\n", p->file,
		    w->line, w->col, msg);
	else
		snprintf(line, sizeof(line), "%s: %s\n",
		    p->file ? p->file : "built-in defaults", msg);
	err_append(p, line);
}

static struct where
tok_where(const struct tok *t)
{
	struct where w = { t->line, t->col, NULL };

	return w;
}

/*
 * Operator text for a message: cut at 40 bytes, control characters
 * shown as '?', so an error line stays one short line.
 */
const char *
conf_show(char *buf, size_t sz, const char *s, size_t n)
{
	size_t i, o = 0, lim = sz > 44 ? 40 : sz - 4;

	for (i = 0; i < n && o < lim; i++) {
		unsigned char ch = (unsigned char)s[i];

		buf[o++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	if (i < n) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

void
conf_nomem(struct parser *p)
{
	p->nomem = true;
}

char *
conf_xstrndup(struct parser *p, const char *s, size_t n)
{
	char *d;

	if ((d = malloc(n + 1)) == NULL) {
		conf_nomem(p);
		return NULL;
	}
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

void
conf_pos_add(struct parser *p, const void *obj, unsigned line)
{
	struct objpos *op;

	if ((op = malloc(sizeof(*op))) == NULL) {
		conf_nomem(p);
		return;
	}
	op->obj = obj;
	op->line = line;
	op->next = p->pos;
	p->pos = op;
}

void
conf_pos_del(struct parser *p, const void *obj)
{
	struct objpos **pp, *op;

	for (pp = &p->pos; (op = *pp) != NULL;)
		if (op->obj == obj) {
			*pp = op->next;
			free(op);
		} else
			pp = &op->next;
}

unsigned
conf_pos_line(const struct parser *p, const void *obj)
{
	const struct objpos *op;

	for (op = p->pos; op != NULL; op = op->next)
		if (op->obj == obj)
			return op->line;
	return 0;
}

/* ---- lexer ---- */

static void
lex_advance(struct parser *p)
{
	unsigned char ch = (unsigned char)p->buf[p->off++];

	if (ch == '\n') {
		p->line++;
		p->col = 1;
	} else if ((ch & 0xc0) != 0x80)	/* columns count characters */
		p->col++;
}

static bool
lex_space(unsigned char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\f' ||
	    ch == '\v';
}

bool
lex_delim(unsigned char ch)
{
	return lex_space(ch) || ch == '\n' || ch == '{' || ch == '}' ||
	    ch == '"' || ch < 0x20 || ch == 0x7f;
}

/* "quoted string": unescaped in place; it may not span lines. */
static void
lex_string(struct parser *p, struct tok *t)
{
	struct where bw;
	size_t w;
	unsigned char ch;
	bool bad = false;

	lex_advance(p);
	w = p->off;
	t->s = p->buf + w;
	for (;;) {
		if (p->off >= p->len || p->buf[p->off] == '\n') {
			bw = tok_where(t);
			conf_err(p, &bw, "unterminated string: the closing "
			    "'\"' must be on the same line");
			t->type = T_ERR;
			return;
		}
		ch = (unsigned char)p->buf[p->off];
		if (ch == '"') {
			lex_advance(p);
			break;
		}
		if (ch == '\\') {
			bw.line = p->line;
			bw.col = p->col;
			bw.env = NULL;
			lex_advance(p);
			if (p->off >= p->len || p->buf[p->off] == '\n')
				continue;	/* reported as unterminated */
			ch = (unsigned char)p->buf[p->off];
			if (ch != '"' && ch != '\\') {
				if (ch > 0x20 && ch < 0x7f)
					conf_err(p, &bw, "unknown escape \\%c in"
					    " a string: only \\\" and \\\\ are "
					    "allowed", ch);
				else
					conf_err(p, &bw, "unknown escape in a "
					    "string: only \\\" and \\\\ are "
					    "allowed");
				bad = true;
			}
		} else if (ch == '\0') {
			bw.line = p->line;
			bw.col = p->col;
			bw.env = NULL;
			conf_err(p, &bw, "NUL byte in a string");
			bad = true;
		}
		lex_advance(p);
		p->buf[w++] = (char)ch;
	}
	t->n = (size_t)(p->buf + w - t->s);
	t->type = bad ? T_ERR : T_STRING;
}

static void
lex(struct parser *p, struct tok *t)
{
	unsigned char ch;
	struct where w;

again:
	while (p->off < p->len && lex_space((unsigned char)p->buf[p->off]))
		lex_advance(p);
	t->line = p->line;
	t->col = p->col;
	t->s = p->buf + p->off;
	t->n = 0;
	if (p->off >= p->len) {
		t->type = T_EOF;
		return;
	}
	ch = (unsigned char)p->buf[p->off];
	switch (ch) {
	case '\n':
		lex_advance(p);
		t->type = T_NL;
		return;
	case '#':
		while (p->off < p->len && p->buf[p->off] != '\n')
			lex_advance(p);
		goto again;
	case '{':
	case '}':
		lex_advance(p);
		t->n = 1;
		t->type = ch == '{' ? T_LBRACE : T_RBRACE;
		return;
	case '"':
		lex_string(p, t);
		return;
	}
	if (ch < 0x20 || ch == 0x7f) {
		w = tok_where(t);
		conf_err(p, &w, "unexpected control character 0x%02x", ch);
		lex_advance(p);
		t->type = T_ERR;
		return;
	}
	while (p->off < p->len && !lex_delim((unsigned char)p->buf[p->off]))
		lex_advance(p);
	t->n = (size_t)(p->buf + p->off - t->s);
	t->type = T_WORD;
}

static struct tok *
peek(struct parser *p)
{
	if (!p->have_la) {
		lex(p, &p->la);
		p->have_la = true;
	}
	return &p->la;
}

static void
next(struct parser *p)
{
	p->have_la = false;
}

/*
 * Error recovery: drops the rest of a statement, including any block it
 * opened, up to the end of its line or the '}' closing the enclosing
 * block (which is left for the caller).
 */
static void
skip_statement(struct parser *p)
{
	struct tok *t;
	struct where open = { 0, 0, NULL };
	unsigned depth = 0;

	for (;;) {
		t = peek(p);
		switch (t->type) {
		case T_EOF:
			if (depth > 0)
				conf_err(p, &open, "unterminated block opened "
				    "here: missing '}'");
			return;
		case T_NL:
			if (depth == 0)
				return;
			break;
		case T_RBRACE:
			if (depth == 0)
				return;
			depth--;
			break;
		case T_LBRACE:
			if (depth++ == 0)
				open = tok_where(t);
			break;
		}
		next(p);
	}
}

/* ---- the parser ---- */

const struct key *
conf_key_find(const struct block *b, const char *s, size_t n)
{
	const struct key *k;

	for (k = b->keys; k->name != NULL; k++)
		if (strlen(k->name) == n && memcmp(k->name, s, n) == 0)
			return k;
	return NULL;
}

/*
 * Edit distance of two short strings, an adjacent swap counting as one
 * edit ("nmae" is one from "name"), for "did you mean".
 */
static size_t
edit_distance(const char *a, size_t an, const char *b, size_t bn)
{
	size_t d[33][33], i, j, best;

	if (an > 32 || bn > 32)
		return SIZE_MAX;
	for (i = 0; i <= an; i++)
		d[i][0] = i;
	for (j = 0; j <= bn; j++)
		d[0][j] = j;
	for (i = 1; i <= an; i++)
		for (j = 1; j <= bn; j++) {
			best = d[i - 1][j - 1] +
			    (conf_lower(a[i - 1]) != conf_lower(b[j - 1]));
			if (d[i - 1][j] + 1 < best)
				best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	return d[an][bn];
}

const char *
conf_block_where(const struct block *b, char *buf, size_t sz)
{
	if (b->name == NULL)
		snprintf(buf, sz, "at top level");
	else
		snprintf(buf, sz, "in block %s", b->name);
	return buf;
}

static void
unknown_key(struct parser *p, const struct block *b, const struct tok *t)
{
	const struct key *k, *best = NULL;
	size_t d, bestd = SIZE_MAX;
	char shown[64], in[64], hint[64] = "";
	struct where w = tok_where(t);

	if (b != &top_block && !p->cascade)
		for (k = top_block.keys; k->name != NULL; k++)
			if (k->type == K_BLOCK && strlen(k->name) == t->n &&
			    memcmp(k->name, t->s, t->n) == 0) {
				p->cascade = true;
				p->cascade_len = p->errlen;
				p->cascade_nerr = p->nerr;
				p->cascade_line = t->line;
				p->cascade_depth = p->depth;
				conf_show(p->cascade_key,
				    sizeof(p->cascade_key), t->s, t->n);
				break;
			}

	for (k = b->keys; k->name != NULL; k++) {
		d = edit_distance(t->s, t->n, k->name, strlen(k->name));
		if (d < bestd) {
			bestd = d;
			best = k;
		}
	}
	if (best != NULL && bestd <= 2 && bestd * 3 <= strlen(best->name))
		snprintf(hint, sizeof(hint), "; did you mean \"%s\"?",
		    best->name);
	conf_err(p, &w, "unknown key \"%s\" %s%s",
	    conf_show(shown, sizeof(shown), t->s, t->n),
	    conf_block_where(b, in, sizeof(in)), hint);
}

static void parse_body(struct parser *, const struct block *, void *,
    const struct tok *);

/*
 * After a statement's value: more on the same line must be the next
 * statement (`tls { cert a  key b }`), so anything that is not a key of
 * this block is an error, most often an unquoted value with spaces.
 */
static void
end_statement(struct parser *p, const struct block *b, const struct key *k)
{
	struct tok *t = peek(p);
	struct where w = tok_where(t);
	char shown[64];

	switch (t->type) {
	case T_ERR:
		next(p);
		skip_statement(p);
		return;
	case T_STRING:
	case T_WORD:
		if (t->type == T_WORD && conf_key_find(b, t->s, t->n) != NULL)
			return;
		if (t->type == T_WORD && k->type != K_STR &&
		    k->type != K_PATH && k->type != K_TAGS)
			unknown_key(p, b, t);
		else
			conf_err(p, &w, "unexpected \"%s\" after the value of "
			    "%s; quote a value that contains spaces",
			    conf_show(shown, sizeof(shown), t->s, t->n),
			    k->name);
		skip_statement(p);
		return;
	case T_LBRACE:
		conf_err(p, &w, "%s takes no block", k->name);
		skip_statement(p);
		return;
	default:
		return;
	}
}

/*
 * After a block's name (and label): '{', on the same line or a later
 * one. Returns true with it consumed, else false (reported).
 */
static bool
expect_open(struct parser *p, const struct key *k, bool label)
{
	struct tok *t;
	struct where w;
	bool nl = false;

	while ((t = peek(p))->type == T_NL) {
		next(p);
		nl = true;
	}
	w = tok_where(t);
	if (t->type == T_LBRACE) {
		next(p);
		return true;
	}
	if (t->type == T_ERR) {
		next(p);
	} else if (!label && !nl &&
	    (t->type == T_WORD || t->type == T_STRING))
		conf_err(p, &w, "block %s takes no label", k->name);
	else
		conf_err(p, &w, "expected '{' after %s", k->name);
	skip_statement(p);
	return false;
}

/* "AB:CD:..." or "abcd..." to 64 lowercase hex digits, in place. */
static int
certfp_normalize(char *s)
{
	size_t i, n = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == ':')
			continue;
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (conf_lower(s[i]) >= 'a' && conf_lower(s[i]) <= 'f')))
			return -1;
		s[n++] = conf_lower(s[i]);
	}
	s[n] = '\0';
	return n == 64 ? 0 : -1;
}

/*
 * An oper's modes: "+is" and then, optionally, snomask letters
 * ("+is cjk"), as Ergo's modes key.
 */
static bool
oper_modes_ok(const char *s)
{
	size_t n;

	if (*s != '+')
		return false;
	n = strspn(s + 1, "iwBs");
	s += 1 + n;
	if (*s == '\0')
		return true;
	if (*s != ' ')
		return false;
	s += strspn(s, " ");
	return strspn(s, "acjknoqtuvx") == strlen(s);
}

/*
 * The start of a named block (oper NAME {, link NAME { ...): reads the
 * name and the brace and allocates the block's struct of size bytes,
 * with its name in *name; NULL after saying what is wrong (the statement
 * skipped). noun and example make the message: "expected a NOUN after
 * KEY, like: EXAMPLE".
 */
static void *
named_open(struct parser *p, const struct key *k, struct tok *t,
    const char *noun, const char *example, size_t size, char **name)
{
	struct where w;
	void *o;

	*t = *peek(p);
	w = tok_where(t);
	if (t->type != T_WORD && t->type != T_STRING) {
		if (t->type == T_ERR)
			next(p);
		else
			conf_err(p, &w, "expected a %s after %s, like: %s",
			    noun, k->name, example);
		skip_statement(p);
		return NULL;
	}
	next(p);
	if (!expect_open(p, k, true))
		return NULL;
	if ((o = calloc(1, size)) == NULL) {
		conf_nomem(p);
		skip_statement(p);
		return NULL;
	}
	if ((*name = conf_xstrndup(p, t->s, t->n)) == NULL) {
		free(o);
		skip_statement(p);
		return NULL;
	}
	return o;
}

static void
parse_oper(struct parser *p, const struct key *k, const struct tok *kt)
{
	struct tok t;
	struct where w, kw = tok_where(kt);
	struct oper_conf *o, **pp;
	char shown[64], *name;
	unsigned first, nerr;
	size_t i;

	if ((o = named_open(p, k, &t, "name", "oper admin { class "
	    "server-admin  password \"...\" }", sizeof(*o), &name)) == NULL)
		return;
	o->name = name;
	w = tok_where(&t);
	conf_defaults_apply(p, k->aux, o);
	conf_show(shown, sizeof(shown), t.s, t.n);
	for (i = 0; i < t.n; i++)
		if ((unsigned char)t.s[i] <= 0x20 || t.s[i] == 0x7f)
			break;
	if (t.n == 0 || i < t.n || t.n > 64)
		conf_err(p, &w, "an oper name is one word of at most 64 "
		    "characters, not \"%s\"", shown);
	for (pp = &p->c->opers; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->name, o->name) == 0) {
			first = conf_pos_line(p, *pp);
			conf_err(p, &w, "duplicate oper \"%s\" (first at line "
			    "%u)", shown, first);
		}
	*pp = o;
	conf_pos_add(p, o, kw.line);
	nerr = p->nerr;
	parse_body(p, k->aux, o, kt);
	if (p->nerr != nerr)
		return;		/* "needs a password" would be noise */
	if (o->class == NULL)
		conf_err(p, &kw, "oper \"%s\" needs a class, like: class "
		    "server-admin", shown);
	if (o->password == NULL && o->certfp == NULL)
		conf_err(p, &kw, "oper \"%s\" needs a password (a hash from "
		    "`ergo genpasswd`) or a certfp", shown);
	if (o->certfp != NULL && certfp_normalize(o->certfp) == -1)
		conf_err(p, &kw, "oper \"%s\": certfp must be 64 hex digits "
		    "(a SHA-256 fingerprint)", shown);
	if (o->modes != NULL && !oper_modes_ok(o->modes))
		conf_err(p, &kw, "oper \"%s\": modes must be like \"+is\" or "
		    "\"+is cjknoqux\": a '+' then letters from iwBs, then "
		    "snomask letters from acjknoqtuvx", shown);
}

/* oper-class NAME { title  extends  capabilities }: resolved in validate. */
static void
parse_operclass(struct parser *p, const struct key *k, const struct tok *kt)
{
	struct tok t;
	struct where w, kw = tok_where(kt);
	struct operclass_conf *oc, **pp;
	const char *c;
	char shown[64], *name;
	unsigned nerr;
	size_t n;

	if ((oc = named_open(p, k, &t, "name", "oper-class server-admin { "
	    "capabilities \"kill ban\" }", sizeof(*oc), &name)) == NULL)
		return;
	oc->name = name;
	w = tok_where(&t);
	conf_show(shown, sizeof(shown), t.s, t.n);
	if (t.n == 0 || t.n > 64 || strcspn(oc->name, " \t") != t.n)
		conf_err(p, &w, "an oper-class name is one word of at most 64 "
		    "characters, not \"%s\"", shown);
	for (pp = &p->c->operclasses; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->name, oc->name) == 0)
			conf_err(p, &w, "duplicate oper-class \"%s\" (first at "
			    "line %u)", shown, conf_pos_line(p, *pp));
	*pp = oc;
	conf_pos_add(p, oc, kw.line);
	nerr = p->nerr;
	parse_body(p, k->aux, oc, kt);
	if (p->nerr != nerr || oc->capabilities == NULL)
		return;
	for (c = oc->capabilities;; c += n) {
		unsigned b;

		c += strspn(c, " \t");
		if (*c == '\0')
			break;
		n = strcspn(c, " \t");
		if ((b = conf_opcap(c, n)) == 0)
			conf_err(p, &kw, "oper-class \"%s\": unknown capability "
			    "\"%s\"; expected some of: kill ban nofakelag "
			    "roleplay relaymsg vhosts sajoin samode snomasks "
			    "rehash accreg chanreg history defcon massmessage "
			    "die", shown,
			    conf_show(shown, sizeof(shown), c, n));
		oc->caps |= b;
	}
}

/*
 * Oper classes' extends chains (each must name a class, no loops) and
 * each oper's capabilities. Without any oper-class block every oper has
 * every capability: configs older than oper-class keep working as they
 * did, when the class was only a label.
 */
void
conf_operclass_resolve(struct parser *p)
{
	struct operclass_conf *oc, *e, *x;
	struct oper_conf *o;
	unsigned caps, depth, nclass = 0;
	struct where w = { 0, 1, NULL };

	for (oc = p->c->operclasses; oc != NULL; oc = oc->next)
		nclass++;
	for (oc = p->c->operclasses; oc != NULL; oc = oc->next) {
		w.line = conf_pos_line(p, oc);
		caps = oc->caps;
		for (e = oc, depth = 0; e->extends != NULL; e = x) {
			for (x = p->c->operclasses; x != NULL; x = x->next)
				if (strcmp(x->name, e->extends) == 0)
					break;
			if (x == NULL) {
				conf_err(p, &w, "oper-class \"%s\" extends "
				    "\"%s\", which is not an oper-class",
				    e->name, e->extends);
				break;
			}
			if (++depth > nclass) {
				conf_err(p, &w, "oper-class \"%s\": its "
				    "extends chain loops", oc->name);
				break;
			}
			caps |= x->caps;
		}
		oc->caps = caps;
	}
	for (o = p->c->opers; o != NULL; o = o->next) {
		if (nclass == 0) {
			o->caps = OPCAP_ALL;
			continue;
		}
		for (oc = p->c->operclasses; oc != NULL; oc = oc->next)
			if (o->class != NULL && strcmp(oc->name, o->class) == 0)
				break;
		if (oc == NULL) {
			w.line = conf_pos_line(p, o);
			conf_err(p, &w, "oper \"%s\": class \"%s\" is not an "
			    "oper-class", o->name, o->class != NULL ?
			    o->class : "");
			continue;
		}
		o->cls = oc;
		o->caps = oc->caps;
	}
}

/* link NAME { ... }: a TS6 peer. */
static void
parse_link(struct parser *p, const struct key *k, const struct tok *kt)
{
	struct tok t;
	struct where w, kw = tok_where(kt);
	struct link_conf *l, **pp;
	char shown[64], *name;
	unsigned first, nerr;

	if ((l = named_open(p, k, &t, "server name", "link hub.example.org "
	    "{ host 192.0.2.1 ... }", sizeof(*l), &name)) == NULL)
		return;
	l->name = name;
	w = tok_where(&t);
	conf_defaults_apply(p, k->aux, l);
	conf_show(shown, sizeof(shown), t.s, t.n);
	if (!conf_valid_hostname(l->name))
		conf_err(p, &w, "a link's name is the peer's server name, a "
		    "hostname with a dot, not \"%s\"", shown);
	for (pp = &p->c->links; *pp != NULL; pp = &(*pp)->next)
		if (strcasecmp((*pp)->name, l->name) == 0) {
			first = conf_pos_line(p, *pp);
			conf_err(p, &w, "duplicate link \"%s\" (first at line "
			    "%u)", shown, first);
		}
	*pp = l;
	conf_pos_add(p, l, kw.line);
	nerr = p->nerr;
	parse_body(p, k->aux, l, kt);
	if (p->nerr != nerr)
		return;
	if (l->send_password == NULL || l->recv_password == NULL)
		conf_err(p, &kw, "link \"%s\" needs send-password and "
		    "receive-password", shown);
	if (l->certfp != NULL && certfp_normalize(l->certfp) == -1)
		conf_err(p, &kw, "link \"%s\": certfp must be 64 hex digits "
		    "(a SHA-256 fingerprint)", shown);
	if (l->autoconnect && l->host == NULL)
		conf_err(p, &kw, "link \"%s\": autoconnect needs a host",
		    shown);
	if (l->certfp != NULL && !l->tls)
		conf_err(p, &kw, "link \"%s\": certfp needs tls yes", shown);
}

/* webirc NAME { password ... }: a WEBIRC gateway (irc_webirc.c). */
static void
parse_webirc(struct parser *p, const struct key *k, const struct tok *kt)
{
	struct tok t;
	struct where w, kw = tok_where(kt);
	struct webirc_conf *g, **pp;
	char shown[64], *name;
	unsigned first, nerr;

	if ((g = named_open(p, k, &t, "name", "webirc gamja { password "
	    "\"...\"  hosts localhost }", sizeof(*g), &name)) == NULL)
		return;
	g->name = name;
	w = tok_where(&t);
	conf_show(shown, sizeof(shown), t.s, t.n);
	for (pp = &p->c->webircs; *pp != NULL; pp = &(*pp)->next)
		if (strcmp((*pp)->name, g->name) == 0) {
			first = conf_pos_line(p, *pp);
			conf_err(p, &w, "duplicate webirc \"%s\" (first at "
			    "line %u)", shown, first);
		}
	*pp = g;
	conf_pos_add(p, g, kw.line);
	nerr = p->nerr;
	parse_body(p, k->aux, g, kt);
	if (p->nerr != nerr)
		return;
	if (g->password == NULL && g->certfp == NULL)
		conf_err(p, &kw, "webirc \"%s\" needs a password or a certfp "
		    "(or both)", shown);
	if (g->hosts == NULL)
		conf_err(p, &kw, "webirc \"%s\" needs hosts: the gateway's "
		    "addresses, like hosts localhost", shown);
	if (g->certfp != NULL && certfp_normalize(g->certfp) == -1)
		conf_err(p, &kw, "webirc \"%s\": certfp must be 64 hex digits "
		    "(a SHA-256 fingerprint)", shown);
}

/* New logging block: the table's defaults, appended to the list. */
struct log_conf *
conf_log_new(struct parser *p)
{
	struct log_conf *lc, **pp;

	if ((lc = calloc(1, sizeof(*lc))) == NULL) {
		conf_nomem(p);
		return NULL;
	}
	conf_defaults_apply(p, &logging_block, lc);
	for (pp = &p->c->logs; *pp != NULL; pp = &(*pp)->next)
		;
	*pp = lc;
	p->nlogs++;
	return lc;
}

void
conf_log_check(struct parser *p, const struct log_conf *lc,
    const struct where *w)
{
	if (lc->method == LOGM_FILE && lc->path == NULL)
		conf_err(p, w, "logging method file needs a path, like: "
		    "logging { method file  path ergo.log }");
}

static void
parse_logging(struct parser *p, const struct key *k, const struct tok *kt)
{
	struct where kw = tok_where(kt);
	struct log_conf *lc;
	unsigned nerr;

	if (!expect_open(p, k, false))
		return;
	if (p->nlogs == LOG_SINKS_MAX) {
		conf_err(p, &kw, "at most %d logging blocks", LOG_SINKS_MAX);
		skip_statement(p);
		return;
	}
	if ((lc = conf_log_new(p)) == NULL) {
		skip_statement(p);
		return;
	}
	nerr = p->nerr;
	memset(&p->method_at, 0, sizeof(p->method_at));
	parse_body(p, k->aux, lc, kt);
	if (p->nerr == nerr)
		conf_log_check(p, lc,
		    p->method_at.line != 0 ? &p->method_at : &kw);
}

static void
parse_listen(struct parser *p, const struct block *b, const struct key *k,
    const struct tok *kt)
{
	struct tok t = *peek(p);
	struct where w = tok_where(&t);
	struct listen_conf *out[2], scratch, *l;
	int cnt, i;

	p->listen_set = true;
	if (t.type != T_WORD && t.type != T_STRING) {
		if (t.type == T_ERR)
			next(p);
		else
			conf_err(p, &w, "expected an address after listen, "
			    "like 127.0.0.1:6667");
		skip_statement(p);
		return;
	}
	next(p);
	cnt = conf_listen_parse(p, t.s, t.n, &w, out);
	if (peek(p)->type == T_LBRACE) {
		next(p);
		memset(&scratch, 0, sizeof(scratch));
		/* a bad address still gets its block checked */
		l = cnt > 0 ? out[0] : &scratch;
		parse_body(p, &listen_block, l, kt);
		free(scratch.cert);
		free(scratch.key);
		if (cnt == 2) {	/* ":port": both sockets alike */
			out[1]->tls = l->tls;
			out[1]->proxy = l->proxy;
			out[1]->websocket = l->websocket;
			out[1]->server = l->server;
			if (l->cert != NULL)
				out[1]->cert = conf_xstrndup(p, l->cert,
				    strlen(l->cert));
			if (l->key != NULL)
				out[1]->key = conf_xstrndup(p, l->key,
				    strlen(l->key));
		}
	}
	for (i = 0; i < cnt; i++)
		conf_listen_add(p, out[i], &w);
	end_statement(p, b, k);
}

/* types: every word up to the end of the statement, as one list. */
static void
parse_types(struct parser *p, const struct block *b, void *base,
    const struct key *k)
{
	struct tok *t = peek(p);
	struct where w = tok_where(t);
	char list[512];
	size_t len = 0;
	int n;

	list[0] = '\0';
	while ((t = peek(p))->type == T_WORD || t->type == T_STRING) {
		if (t->type == T_WORD && conf_key_find(b, t->s, t->n) != NULL)
			break;		/* the next statement on this line */
		n = snprintf(list + len, sizeof(list) - len, "%s%.*s",
		    len ? " " : "", (int)t->n, t->s);
		if (n < 0 || (size_t)n >= sizeof(list) - len) {
			conf_err(p, &w, "types list is too long");
			skip_statement(p);
			return;
		}
		len += (size_t)n;
		next(p);
	}
	if (len == 0 && t->type == T_ERR) {
		next(p);
		skip_statement(p);
		return;
	}
	(void)conf_set_value(p, k, base, list, len, &w);
	end_statement(p, b, k);
}

static void
parse_statement(struct parser *p, const struct block *b, void *base,
    struct where *seen)
{
	struct tok kt = *peek(p), t;
	struct where kw = tok_where(&kt), w;
	const struct key *k;
	struct listen_conf *l;
	char in[64];
	unsigned nerr;
	size_t idx;

	next(p);
	if ((k = conf_key_find(b, kt.s, kt.n)) == NULL) {
		unknown_key(p, b, &kt);
		skip_statement(p);
		return;
	}
	idx = (size_t)(k - b->keys);
	if (k->type != K_LISTEN && k->type != K_OPER && k->type != K_LOG &&
	    k->type != K_OPERCLASS && k->type != K_LINK &&
	    k->type != K_WEBIRC && idx < KEYS_MAX) {
		if (seen[idx].line != 0)
			conf_err(p, &kw, "duplicate %s \"%s\" %s (first at "
			    "line %u)", k->type == K_BLOCK ||
			    k->type == K_SWITCH || k->type == K_TLS ? "block" :
			    "key", k->name,
			    conf_block_where(b, in, sizeof(in)),
			    seen[idx].line);
		else
			seen[idx] = kw;
	}
	if (k->type == K_SWITCH) {
		t = *peek(p);
		if (t.type == T_WORD || t.type == T_STRING) {
			next(p);
			w = tok_where(&t);
			(void)conf_set_value(p,
			    ((const struct block *)k->aux)->keys, base, t.s,
			    t.n, &w);
			end_statement(p, b, k);
			return;
		}
	}
	switch (k->type) {
	case K_BLOCK:
	case K_SWITCH:
	case K_TLS:
		if (!expect_open(p, k, false))
			return;
		if (k->type == K_TLS) {
			*(bool *)(void *)((char *)base + k->off) = true;
			/* min-version */
			conf_defaults_apply(p, k->aux, base);
		}
		nerr = p->nerr;
		parse_body(p, k->aux, base, &kt);
		if (k->type == K_TLS && p->nerr == nerr) {
			l = base;
			if (l->cert == NULL || l->key == NULL)
				conf_err(p, &kw, "tls needs both cert and key,"
				    " like: tls { cert fullchain.pem  key "
				    "privkey.pem }");
		}
		return;
	case K_OPER:
		parse_oper(p, k, &kt);
		return;
	case K_OPERCLASS:
		parse_operclass(p, k, &kt);
		return;
	case K_LINK:
		parse_link(p, k, &kt);
		return;
	case K_WEBIRC:
		parse_webirc(p, k, &kt);
		return;
	case K_LOG:
		parse_logging(p, k, &kt);
		return;
	case K_LISTEN:
		parse_listen(p, b, k, &kt);
		return;
	case K_TYPES:
		parse_types(p, b, base, k);
		return;
	default:
		break;
	}
	t = *peek(p);
	w = tok_where(&t);
	if (t.type != T_WORD && t.type != T_STRING) {
		if (t.type == T_ERR)
			next(p);
		else
			conf_err(p, &w, "expected a value after %s", k->name);
		skip_statement(p);
		return;
	}
	next(p);
	(void)conf_set_value(p, k, base, t.s, t.n, &w);
	end_statement(p, b, k);
}

/*
 * A block still open at the end of the file, whose errors began at
 * offset at of p->errs: its error goes there, in the order of the file,
 * before the errors found after its opening (it was said last, after
 * them), and the "unknown key" errors from the first top-level block
 * name inside it on (the rest of the file read as part of it) are
 * dropped, that name given as the likely place of the missing '}'.
 */
static void
unterminated(struct parser *p, const struct tok *open, size_t at)
{
	struct where w = tok_where(open);
	char shown[64], hint[160] = "", *rest;
	size_t n;

	if (p->cascade) {
		p->errlen = p->cascade_len;
		p->nerr = p->cascade_nerr;
		if (p->errs != NULL)
			p->errs[p->errlen] = '\0';
		snprintf(hint, sizeof(hint), " (line %u starts block \"%s\" "
		    "inside it: is the '}' missing before it?)",
		    p->cascade_line, p->cascade_key);
		p->cascade = false;
	}
	n = p->errlen;
	conf_err(p, &w, "unterminated block \"%s\" opened here: missing "
	    "'}'%s", conf_show(shown, sizeof(shown), open->s, open->n), hint);
	/* move the line just added to offset at */
	if (p->errs == NULL || p->errlen == n || n <= at)
		return;
	if ((rest = strdup(p->errs + n)) == NULL) {
		p->nomem = true;
		return;
	}
	memmove(p->errs + at + (p->errlen - n), p->errs + at, n - at);
	memcpy(p->errs + at, rest, p->errlen - n);
	free(rest);
}

/*
 * The statements of one block up to its '}' (open: the block's name
 * token), or of the whole file (open NULL).
 */
static void
parse_body(struct parser *p, const struct block *b, void *base,
    const struct tok *open)
{
	struct where seen[KEYS_MAX], w;
	struct tok *t;
	size_t start;

	memset(seen, 0, sizeof(seen));
	if (open != NULL)
		p->depth++;
	start = p->errlen;
	for (;;) {
		t = peek(p);
		w = tok_where(t);
		switch (t->type) {
		case T_NL:
			next(p);
			break;
		case T_EOF:
			if (open != NULL) {
				unterminated(p, open, start);
				p->depth--;
			}
			return;
		case T_RBRACE:
			next(p);
			if (open != NULL) {
				/* closed: a cascade marked inside was not one */
				if (p->cascade && p->cascade_depth >= p->depth)
					p->cascade = false;
				p->depth--;
				return;
			}
			conf_err(p, &w, "unexpected '}': no block is open");
			break;
		case T_ERR:
			next(p);
			skip_statement(p);
			break;
		case T_LBRACE:
			conf_err(p, &w, "expected a key before '{'");
			skip_statement(p);
			break;
		case T_STRING:
			conf_err(p, &w, "expected a key, not a quoted string");
			skip_statement(p);
			break;
		default:
			parse_statement(p, b, base, seen);
			break;
		}
	}
}

static int
file_read(struct parser *p, const char *path)
{
	char *nb;
	size_t sz = 0;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		conf_err(p, NULL, "cannot open: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		if (p->len == sz) {
			if (sz >= CONF_FILE_MAX) {
				conf_err(p, NULL, "larger than %d bytes; not a "
				    "config file?", CONF_FILE_MAX);
				close(fd);
				return -1;
			}
			sz = sz ? sz * 2 : 8192;
			if ((nb = realloc(p->buf, sz)) == NULL) {
				conf_nomem(p);
				close(fd);
				return -1;
			}
			p->buf = nb;
		}
		if ((n = read(fd, p->buf + p->len, sz - p->len)) == -1) {
			if (errno == EINTR)
				continue;
			conf_err(p, NULL, "cannot read: %s", strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		p->len += (size_t)n;
	}
	close(fd);
	return 0;
}

/* ---- freeing ---- */

static void
fields_free(const struct block *b, void *base)
{
	const struct key *k;
	char **s;

	for (k = b->keys; k->name != NULL; k++)
		switch (k->type) {
		case K_BLOCK:
		case K_SWITCH:
		case K_TLS:
			fields_free(k->aux, base);
			break;
		default:
			if (!conf_key_is_string(k->type))
				break;
			s = (char **)(void *)((char *)base + k->off);
			free(*s);
			*s = NULL;
			break;
		}
}

void
conf_free(struct conf *c)
{
	struct listen_conf *l;
	struct oper_conf *o;
	struct operclass_conf *oc;
	struct link_conf *lk;
	struct webirc_conf *wc;
	struct log_conf *lc;

	if (c == NULL)
		return;
	while ((l = c->listens) != NULL) {
		c->listens = l->next;
		conf_listen_free(l);
	}
	while ((o = c->opers) != NULL) {
		c->opers = o->next;
		fields_free(&oper_block, o);
		free(o->name);
		free(o);
	}
	while ((oc = c->operclasses) != NULL) {
		c->operclasses = oc->next;
		fields_free(&operclass_block, oc);
		free(oc->name);
		free(oc);
	}
	while ((lk = c->links) != NULL) {
		c->links = lk->next;
		fields_free(&link_block, lk);
		free(lk->name);
		free(lk);
	}
	while ((wc = c->webircs) != NULL) {
		c->webircs = wc->next;
		fields_free(&webirc_block, wc);
		free(wc->name);
		free(wc);
	}
	while ((lc = c->logs) != NULL) {
		c->logs = lc->next;
		fields_free(&logging_block, lc);
		free(lc);
	}
	fields_free(&top_block, c);
	free(c->path);
	free(c);
}

/*
 * Parses path (NULL: built-in defaults only), then the ERGO__ overrides,
 * then validates. Every problem is collected into *errs.
 */
struct conf *
conf_load(const char *path, char **errs)
{
	struct parser p;
	struct objpos *op;
	const char *slash;
	struct conf *c;

	if (errs != NULL)
		*errs = NULL;
	memset(&p, 0, sizeof(p));
	p.file = path;
	p.line = 1;
	p.col = 1;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		conf_nomem(&p);
		goto done;
	}
	p.c = c;
	conf_defaults_apply(&p, &top_block, c);
	if (path != NULL) {
		if ((c->path = conf_xstrndup(&p, path, strlen(path))) == NULL)
			goto done;
		if ((slash = strrchr(path, '/')) != NULL &&
		    (p.dir = conf_xstrndup(&p, path, slash == path ? 1 :
		    (size_t)(slash - path))) == NULL)
			goto done;
		if (file_read(&p, path) == 0)
			parse_body(&p, &top_block, c, NULL);
	}
	conf_env_apply(&p);
	conf_validate(&p);
done:
	while ((op = p.pos) != NULL) {
		p.pos = op->next;
		free(op);
	}
	free(p.buf);
	free(p.dir);
	if (p.nerr == 0 && !p.nomem) {
		free(p.errs);
		return c;
	}
	conf_free(c);
	if (p.nomem) {
		free(p.errs);
		p.errs = conf_xstrndup(&p, "out of memory\n", 14);
	}
	if (errs != NULL)
		*errs = p.errs;
	else
		free(p.errs);
	return NULL;
}
