/*
 * conf_yaml.c: `ergo importconf ircd.yaml`: a parser for the YAML that
 * Ergo's default.yaml is written in (block maps and lists, scalars
 * plain or quoted, "|" and ">" blocks, one-line flow [a, b] and {k: v}
 * of scalars, comments),
 * and the table that carries Ergo's keys over to ours. Writes text; the
 * result is checked by conf_load like any config. Knows no sockets.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"
#include "conf_yaml.h"

/* ---- the YAML subset ---- */

enum ytype { Y_NULL, Y_SCALAR, Y_MAP, Y_LIST };

struct ynode {
	enum ytype	 t;
	char		*key;		/* in a map */
	char		*val;		/* Y_SCALAR */
	int		 line;
	struct ynode	*child, *next;
};

struct yline {
	int		 indent, no;
	char		*s;		/* after the indent, comment cut */
};

struct yp {
	struct yline	*l;
	size_t		 n, i;
	const char	*file;
	char		 err[256];
};

static void
yp_err(struct yp *yp, int line, const char *what)
{
	if (yp->err[0] == '\0')
		snprintf(yp->err, sizeof(yp->err), "%s:%d: %s", yp->file,
		    line, what);
}

static void
ynode_free(struct ynode *y)
{
	struct ynode *n;

	for (; y != NULL; y = n) {
		n = y->next;
		ynode_free(y->child);
		free(y->key);
		free(y->val);
		free(y);
	}
}

/* Cuts a comment ('#' at the start or after a blank, outside quotes). */
static void
cut_comment(char *s)
{
	char q = 0;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (q != 0) {
			if (s[i] == '\\' && q == '"' && s[i + 1] != '\0')
				i++;
			else if (s[i] == q)
				q = 0;
		} else if (s[i] == '"' || s[i] == '\'') {
			if (i == 0 || s[i - 1] == ' ' || s[i - 1] == '-' ||
			    s[i - 1] == ':' || s[i - 1] == '[' || s[i - 1] == ',')
				q = s[i];
		} else if (s[i] == '#' && (i == 0 || s[i - 1] == ' ' ||
		    s[i - 1] == '\t')) {
			s[i] = '\0';
			break;
		}
	}
	for (i = strlen(s); i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t' ||
	    s[i - 1] == '\r'); i--)
		s[i - 1] = '\0';
}

/* A scalar as written: quoted (unquoted here) or plain; NULL on error. */
static char *
scalar(struct yp *yp, int line, const char *s)
{
	size_t n = strlen(s), i;
	char *out, *o;

	if (n >= 2 && s[0] == '\'' && s[n - 1] == '\'') {
		if ((out = malloc(n)) == NULL)
			return NULL;
		for (i = 1, o = out; i < n - 1; i++) {
			if (s[i] == '\'' && s[i + 1] == '\'')
				i++;
			*o++ = s[i];
		}
		*o = '\0';
		return out;
	}
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		if ((out = malloc(n)) == NULL)
			return NULL;
		for (i = 1, o = out; i < n - 1; i++) {
			if (s[i] != '\\') {
				*o++ = s[i];
				continue;
			}
			switch (s[++i]) {
			case 'n': *o++ = '\n'; break;
			case 't': *o++ = '\t'; break;
			case '"': *o++ = '"'; break;
			case '\\': *o++ = '\\'; break;
			case '/': *o++ = '/'; break;
			default:
				free(out);
				yp_err(yp, line, "unsupported escape in a "
				    "double-quoted string");
				return NULL;
			}
		}
		*o = '\0';
		return out;
	}
	if (s[0] == '"' || s[0] == '\'') {
		yp_err(yp, line, "unterminated quoted string");
		return NULL;
	}
	return strdup(s);
}

static struct ynode *ynew(int line, enum ytype t)
{
	struct ynode *y = calloc(1, sizeof(*y));

	if (y != NULL) {
		y->t = t;
		y->line = line;
	}
	return y;
}

static struct ynode *yblock(struct yp *, int indent, int depth);

/*
 * The value after "key:" or "- " (rest, maybe empty) on line ln whose
 * block has indent ind: a scalar, a flow [] {} or [a, b], a "|"/">"
 * block, or the nested block on the following lines.
 */
static struct ynode *
yvalue(struct yp *yp, const char *rest, int ln, int ind, int depth,
    bool in_map)
{
	struct ynode *y, **tail;
	char *buf, *p, *q;
	size_t n, i;

	if (*rest == '\0') {
		/* nested (deeper, or a list at the same indent in a map) */
		if (yp->i < yp->n && (yp->l[yp->i].indent > ind ||
		    (in_map && yp->l[yp->i].indent == ind &&
		    (yp->l[yp->i].s[0] == '-' && (yp->l[yp->i].s[1] == ' ' ||
		    yp->l[yp->i].s[1] == '\0')))))
			return yblock(yp, yp->l[yp->i].indent, depth + 1);
		return ynew(ln, Y_NULL);
	}
	if ((rest[0] == '|' || rest[0] == '>') && (rest[1] == '\0' ||
	    ((rest[1] == '-' || rest[1] == '+') && rest[2] == '\0'))) {
		bool fold = rest[0] == '>';

		if ((y = ynew(ln, Y_SCALAR)) == NULL)
			return NULL;
		for (n = 0, i = yp->i; i < yp->n && yp->l[i].indent > ind; i++)
			n += strlen(yp->l[i].s) + 1;
		if ((y->val = calloc(1, n + 1)) == NULL)
			return y;
		for (p = y->val; yp->i < i; yp->i++) {
			if (p != y->val)
				*p++ = fold ? ' ' : '\n';
			n = strlen(yp->l[yp->i].s);
			memcpy(p, yp->l[yp->i].s, n + 1);
			p += n;
		}
		return y;
	}
	if (rest[0] == '[' || rest[0] == '{') {
		n = strlen(rest);
		if (rest[n - 1] != (rest[0] == '[' ? ']' : '}')) {
			yp_err(yp, ln, "a flow collection must end on its line");
			return NULL;
		}
		if ((y = ynew(ln, rest[0] == '[' ? Y_LIST : Y_MAP)) == NULL)
			return NULL;
		if ((buf = strndup(rest + 1, n - 2)) == NULL)
			return y;
		tail = &y->child;
		for (p = buf; *p != '\0'; p = q) {
			while (*p == ' ')
				p++;
			if ((q = strchr(p, ',')) != NULL)
				*q++ = '\0';
			else
				q = p + strlen(p);
			for (i = strlen(p); i > 0 && p[i - 1] == ' '; i--)
				p[i - 1] = '\0';
			if (*p == '\0')
				continue;
			if ((*tail = ynew(ln, Y_SCALAR)) == NULL)
				break;
			if (y->t == Y_MAP) {
				/* {k: v, ...}: plain keys, scalar values */
				char *v = strstr(p, ": ");

				if (v == NULL) {
					yp_err(yp, ln, "expected \"key: value\" "
					    "in a flow map");
					break;
				}
				*v = '\0';
				for (v += 2; *v == ' '; v++)
					;
				(*tail)->key = strdup(p);
				p = v;
			}
			(*tail)->val = scalar(yp, ln, p);
			tail = &(*tail)->next;
		}
		free(buf);
		return y;
	}
	if ((y = ynew(ln, Y_SCALAR)) != NULL && (y->val = scalar(yp, ln,
	    rest)) == NULL) {
		free(y);
		return NULL;
	}
	return y;
}

/* "key: rest": the key (unquoted) and where rest starts; NULL if none. */
static char *
ykey(struct yp *yp, char *s, char **rest)
{
	char *c, q;

	if (s[0] == '"' || s[0] == '\'') {
		q = s[0];
		for (c = s + 1; *c != '\0' && *c != q; c++)
			if (*c == '\\' && q == '"' && c[1] != '\0')
				c++;
		if (*c != q || c[1] != ':' || (c[2] != ' ' && c[2] != '\0'))
			return NULL;
		*rest = c[2] == '\0' ? c + 2 : c + 3;
		c[1] = '\0';
		return scalar(yp, 0, s);
	}
	for (c = s; *c != '\0'; c++)
		if (*c == ':' && (c[1] == ' ' || c[1] == '\0'))
			break;
	if (*c == '\0')
		return NULL;
	*rest = c[1] == '\0' ? c + 1 : c + 2;
	*c = '\0';
	return strdup(s);
}

/* The block of lines at exactly indent ind: a map or a list. */
static struct ynode *
yblock(struct yp *yp, int ind, int depth)
{
	struct ynode *y, *v, **tail;
	struct yline *l;
	char *rest, *k;
	bool list;

	if (depth > YAML_DEPTH_MAX) {
		yp_err(yp, yp->l[yp->i].no, "nested too deeply");
		return NULL;
	}
	l = &yp->l[yp->i];
	list = l->s[0] == '-' && (l->s[1] == ' ' || l->s[1] == '\0');
	if ((y = ynew(l->no, list ? Y_LIST : Y_MAP)) == NULL)
		return NULL;
	tail = &y->child;
	while (yp->i < yp->n && yp->err[0] == '\0') {
		l = &yp->l[yp->i];
		if (l->indent < ind)
			break;
		if (l->indent > ind) {
			yp_err(yp, l->no, "unexpected indentation");
			break;
		}
		if (list) {
			if (!(l->s[0] == '-' && (l->s[1] == ' ' ||
			    l->s[1] == '\0')))
				break;	/* the map that holds the list goes on */
			rest = l->s[1] == '\0' ? l->s + 1 : l->s + 2;
			while (*rest == ' ')
				rest++;
			if (*rest != '\0' && rest[0] != '"' && rest[0] != '\'' &&
			    rest[0] != '[' && rest[0] != '{' &&
			    (k = strstr(rest, ": ")) != NULL) {
				/* "- key: v": a map whose first line this is */
				l->indent = ind + (int)(rest - l->s);
				l->s = rest;
				v = yblock(yp, l->indent, depth + 1);
			} else if (*rest != '\0' && rest[strlen(rest) - 1] == ':' &&
			    rest[0] != '"' && rest[0] != '\'') {
				l->indent = ind + (int)(rest - l->s);
				l->s = rest;
				v = yblock(yp, l->indent, depth + 1);
			} else {
				yp->i++;
				v = yvalue(yp, rest, l->no, ind, depth, false);
			}
		} else {
			if (l->s[0] == '-' && (l->s[1] == ' ' || l->s[1] == '\0')) {
				yp_err(yp, l->no, "a list item where a key was "
				    "expected");
				break;
			}
			if ((k = ykey(yp, l->s, &rest)) == NULL) {
				yp_err(yp, l->no, "expected \"key: value\"");
				break;
			}
			yp->i++;
			if ((v = yvalue(yp, rest, l->no, ind, depth, true)) !=
			    NULL)
				v->key = k;
			else
				free(k);
		}
		if (v == NULL) {
			yp_err(yp, l->no, "out of memory or bad value");
			break;
		}
		*tail = v;
		tail = &v->next;
	}
	return y;
}

static struct ynode *
yaml_parse(struct yp *yp, char *text)
{
	char *p, *nl;
	size_t cap = 0;
	int no = 0, ind;
	struct yline *nlines;

	for (p = text; *p != '\0'; p = nl) {
		no++;
		if ((nl = strchr(p, '\n')) != NULL)
			*nl++ = '\0';
		else
			nl = p + strlen(p);
		for (ind = 0; p[ind] == ' '; ind++)
			;
		if (p[ind] == '\t') {
			yp_err(yp, no, "a tab in the indentation");
			return NULL;
		}
		if (strncmp(p + ind, "---", 3) == 0 && no == 1)
			continue;
		cut_comment(p + ind);
		if (p[ind] == '\0')
			continue;
		if (yp->n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((nlines = realloc(yp->l, cap * sizeof(*nlines))) ==
			    NULL) {
				yp_err(yp, no, strerror(errno));
				return NULL;
			}
			yp->l = nlines;
		}
		yp->l[yp->n].indent = ind;
		yp->l[yp->n].no = no;
		yp->l[yp->n].s = p + ind;
		yp->n++;
	}
	if (yp->n == 0)
		return ynew(1, Y_MAP);
	return yblock(yp, yp->l[0].indent, 0);
}

/* ---- Ergo's keys to ours ---- */

struct out {
	char		 path[96];	/* our block, "server.connection-limits" */
	char		*text;		/* statement(s), one or more lines */
};

struct cv {
	const char	*file;
	bool		 quiet;		/* conf_yaml_check: no report */
	struct out	*o;
	size_t		 n, cap;
	unsigned	 dropped;
};

static void
drop(struct cv *cv, const struct ynode *y, const char *path, const char *why)
{
	if (!cv->quiet)
		fprintf(stderr, "ergo: importconf: %s:%d: %s: %s\n", cv->file,
	    y->line, path, why);
	cv->dropped++;
}

static void
emit(struct cv *cv, const char *path, const char *fmt, ...)
{
	struct out *no;
	va_list ap;
	char *t;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0 || (t = malloc((size_t)len + 1)) == NULL)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(t, (size_t)len + 1, fmt, ap);
	va_end(ap);
	if (cv->n == cv->cap) {
		cv->cap = cv->cap ? cv->cap * 2 : 64;
		if ((no = realloc(cv->o, cv->cap * sizeof(*no))) == NULL) {
			free(t);
			return;
		}
		cv->o = no;
	}
	snprintf(cv->o[cv->n].path, sizeof(cv->o[cv->n].path), "%s", path);
	cv->o[cv->n++].text = t;
}

/* A value in our grammar: bare if it can be, else quoted. */
static const char *
word(const char *s)
{
	static char buf[2][1024];
	static int k;
	char *o;
	size_t i;

	k ^= 1;
	if (s[0] != '\0' && strpbrk(s, " \t\"\\#{};'") == NULL)
		return s;
	o = buf[k];
	*o++ = '"';
	for (i = 0; s[i] != '\0' && o < buf[k] + sizeof(buf[k]) - 3; i++) {
		if (s[i] == '"' || s[i] == '\\')
			*o++ = '\\';
		*o++ = s[i] == '\n' ? ' ' : s[i];
	}
	*o++ = '"';
	*o = '\0';
	return buf[k];
}

static int
ybool(const char *s)
{
	if (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 ||
	    strcasecmp(s, "on") == 0)
		return 1;
	if (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0 ||
	    strcasecmp(s, "off") == 0)
		return 0;
	return -1;
}

/* Ergo's durations (custime: y, mo, w, d, h, m, s, ms) as seconds. */
static int
ydur(const char *s, unsigned long long *out)
{
	unsigned long long t = 0, v, mul;

	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	while (*s != '\0') {
		if (*s < '0' || *s > '9')
			return -1;
		for (v = 0; *s >= '0' && *s <= '9'; s++)
			if ((v = v * 10 + (unsigned long long)(*s - '0')) >
			    1ULL << 40)
				return -1;
		if (strncmp(s, "mo", 2) == 0)
			mul = 30 * 86400ULL, s += 2;
		else if (strncmp(s, "ms", 2) == 0)
			mul = 0, s += 2;
		else if (*s == 'y')
			mul = 365 * 86400ULL, s++;
		else if (*s == 'w')
			mul = 7 * 86400ULL, s++;
		else if (*s == 'd')
			mul = 86400, s++;
		else if (*s == 'h')
			mul = 3600, s++;
		else if (*s == 'm')
			mul = 60, s++;
		else if (*s == 's')
			mul = 1, s++;
		else
			return -1;
		t += v * mul;
	}
	*out = t;
	return 0;
}

enum conv { CV_WORD, CV_BOOL, CV_DUR, CV_SIZE, CV_UINT, CV_MODES };

/* One of Ergo's scalar keys and where it goes here. */
static const struct map {
	const char	*ergo;		/* dotted path in ircd.yaml */
	const char	*block, *key;	/* ours */
	enum conv	 conv;
} maps[] = {
	{ "network.name", "network", "name", CV_WORD },
	{ "server.name", "server", "name", CV_WORD },
	{ "server.motd", "server", "motd", CV_WORD },
	{ "server.max-sendq", "server", "max-sendq", CV_SIZE },
	{ "server.ip-limits.max-concurrent-connections",
	  "server.connection-limits", "max-per-ip", CV_UINT },
	{ "server.ip-limits.throttle", "server.connection-limits", "throttle",
	  CV_BOOL },
	{ "server.ip-limits.window", "server.connection-limits", "window",
	  CV_DUR },
	{ "server.ip-limits.max-connections-per-window",
	  "server.connection-limits", "max-connections-per-window", CV_UINT },
	{ "server.ip-limits.cidr-len-ipv4", "server.connection-limits",
	  "cidr-len-ipv4", CV_UINT },
	{ "server.ip-limits.cidr-len-ipv6", "server.connection-limits",
	  "cidr-len-ipv6", CV_UINT },
	{ "server.ip-cloaking.enabled", "server.ip-cloaking", "enabled",
	  CV_BOOL },
	{ "server.ip-cloaking.netname", "server.ip-cloaking", "netname",
	  CV_WORD },
	{ "server.sts.enabled", "server.sts", "enabled", CV_BOOL },
	{ "server.sts.duration", "server.sts", "duration", CV_DUR },
	{ "server.sts.port", "server.sts", "port", CV_UINT },
	{ "server.sts.preload", "server.sts", "preload", CV_BOOL },
	{ "datastore.autoupgrade", "datastore", "autoupgrade", CV_BOOL },
	{ "accounts.authentication-enabled", "accounts",
	  "authentication-enabled", CV_BOOL },
	{ "accounts.registration.enabled", "accounts.registration", "enabled",
	  CV_BOOL },
	{ "accounts.registration.allow-before-connect",
	  "accounts.registration", "allow-before-connect", CV_BOOL },
	{ "accounts.registration.throttling.enabled",
	  "accounts.registration.throttling", "enabled", CV_BOOL },
	{ "accounts.registration.throttling.duration",
	  "accounts.registration.throttling", "duration", CV_DUR },
	{ "accounts.registration.throttling.max-attempts",
	  "accounts.registration.throttling", "max-attempts", CV_UINT },
	{ "accounts.registration.verify-timeout", "accounts.registration",
	  "verify-timeout", CV_DUR },
	{ "accounts.registration.email-verification.enabled",
	  "accounts.registration.email-verification", "enabled", CV_BOOL },
	{ "accounts.registration.email-verification.sender",
	  "accounts.registration.email-verification", "sender", CV_WORD },
	{ "accounts.registration.email-verification.timeout",
	  "accounts.registration.email-verification", "timeout", CV_DUR },
	{ "accounts.registration.email-verification.password-reset.enabled",
	  "accounts.registration.email-verification.password-reset",
	  "enabled", CV_BOOL },
	{ "accounts.registration.email-verification.password-reset.cooldown",
	  "accounts.registration.email-verification.password-reset",
	  "cooldown", CV_DUR },
	{ "accounts.registration.email-verification.password-reset.timeout",
	  "accounts.registration.email-verification.password-reset",
	  "timeout", CV_DUR },
	{ "server.output-path", "server", "output-path", CV_WORD },
	{ "accounts.nick-reservation.enabled", "accounts.nick-reservation",
	  "enabled", CV_BOOL },
	{ "accounts.login-throttling.enabled", "accounts.login-throttling",
	  "enabled", CV_BOOL },
	{ "accounts.login-throttling.duration", "accounts.login-throttling",
	  "duration", CV_DUR },
	{ "accounts.login-throttling.max-attempts",
	  "accounts.login-throttling", "max-attempts", CV_UINT },
	{ "server.suppress-lusers", "server", "suppress-lusers", CV_BOOL },
	{ "channels.registration.enabled", "channels.registration", "enabled",
	  CV_BOOL },
	{ "channels.default-modes", "channels", "default-modes", CV_MODES },
	{ "channels.max-channels-per-client", "channels", "max-per-user",
	  CV_UINT },
	{ "channels.registration.max-channels-per-account",
	  "channels.registration", "max-channels-per-account", CV_UINT },
	{ "limits.nicklen", "limits", "nicklen", CV_UINT },
	{ "limits.identlen", "limits", "identlen", CV_UINT },
	{ "limits.channellen", "limits", "channellen", CV_UINT },
	{ "limits.topiclen", "limits", "topiclen", CV_UINT },
	{ "limits.awaylen", "limits", "awaylen", CV_UINT },
	{ "limits.kicklen", "limits", "kicklen", CV_UINT },
	{ "limits.realnamelen", "limits", "realnamelen", CV_UINT },
	{ "limits.whowas-entries", "limits", "whowas-entries", CV_UINT },
	{ "limits.monitor-entries", "limits", "monitor-entries", CV_UINT },
	{ "limits.chan-list-modes", "channels", "max-list-entries", CV_UINT },
	{ "limits.multiline.max-bytes", "limits", "multiline-max-bytes",
	  CV_UINT },
	{ "limits.multiline.max-lines", "limits", "multiline-max-lines",
	  CV_UINT },
	{ "history.enabled", "history", "enabled", CV_BOOL },
	{ "history.channel-length", "history", "channel-length", CV_UINT },
	{ "history.client-length", "history", "client-length", CV_UINT },
	{ "history.autoreplay-on-join", "history", "autoreplay-on-join",
	  CV_UINT },
	{ "history.chathistory-maxmessages", "history",
	  "chathistory-maxmessages", CV_UINT },
	{ "history.restrictions.expire-time", "history", "expire-time",
	  CV_DUR },
	{ "history.restrictions.query-cutoff", "history", "query-cutoff",
	  CV_WORD },
	{ "history.restrictions.grace-period", "history", "grace-period",
	  CV_DUR },
	{ "history.persistent.enabled", "history", "persistent", CV_BOOL },
};

static void
scalar_key(struct cv *cv, const struct ynode *y, const char *path,
    const struct map *m)
{
	unsigned long long d;
	char *end;
	int b;

	if (y->t == Y_NULL)
		return;		/* "key:" with nothing: Ergo's default */
	if (y->t != Y_SCALAR) {
		drop(cv, y, path, "expected a single value; dropped");
		return;
	}
	switch (m->conv) {
	case CV_BOOL:
		if ((b = ybool(y->val)) == -1)
			drop(cv, y, path, "not a boolean; dropped");
		else
			emit(cv, m->block, "%s %s", m->key, b ? "yes" : "no");
		break;
	case CV_DUR:
		if (ydur(y->val, &d) == -1)
			drop(cv, y, path, "not a duration; dropped");
		else
			emit(cv, m->block, "%s %llus", m->key, d);
		break;
	case CV_UINT:
		(void)strtoull(y->val, &end, 10);
		if (y->val[0] < '0' || y->val[0] > '9' || *end != '\0')
			drop(cv, y, path, "not a number; dropped");
		else
			emit(cv, m->block, "%s %s", m->key, y->val);
		break;
	case CV_MODES: {
		/* the modes a channel can be created with here */
		char md[32], bad[32];
		size_t i, nm = 1, nb = 0;

		md[0] = '+';
		for (i = 0; y->val[i] != '\0' && nm + 1 < sizeof(md) &&
		    nb + 1 < sizeof(bad); i++)
			if (strchr("imnpst", y->val[i]) != NULL)
				md[nm++] = y->val[i];
			else if (y->val[i] != '+')
				bad[nb++] = y->val[i];
		md[nm] = '\0';
		bad[nb] = '\0';
		if (nb > 0) {
			char why[96];

			snprintf(why, sizeof(why), "modes +%s are not supported "
			    "here; dropped from it", bad);
			drop(cv, y, path, why);
		}
		if (nm > 1)
			emit(cv, m->block, "%s %s", m->key, md);
		break;
	}
	case CV_SIZE:
	case CV_WORD:
		emit(cv, m->block, "%s %s", m->key, word(y->val));
		break;
	}
}

/* server.listeners: "ADDR": { tls: {cert, key}, min-tls-version, ... } */
static void
listeners(struct cv *cv, const struct ynode *y)
{
	const struct ynode *l, *f, *t;
	char path[256], tls[1024], *cert, *key, *minv;
	bool skip;

	if (y->t != Y_MAP)
		return;
	for (l = y->child; l != NULL; l = l->next) {
		snprintf(path, sizeof(path), "server.listeners.\"%s\"", l->key);
		if (l->key[0] == '/') {
			drop(cv, l, path, "Unix socket listeners are not "
			    "supported here; dropped");
			continue;
		}
		cert = key = minv = NULL;
		skip = false;
		for (f = l->t == Y_MAP ? l->child : NULL; f != NULL;
		    f = f->next) {
			if (strcmp(f->key, "tls") == 0 && f->t == Y_MAP) {
				for (t = f->child; t != NULL; t = t->next)
					if (strcmp(t->key, "cert") == 0 &&
					    t->t == Y_SCALAR)
						cert = t->val;
					else if (strcmp(t->key, "key") == 0 &&
					    t->t == Y_SCALAR)
						key = t->val;
					else
						drop(cv, t, path, "this tls key "
						    "is not supported here");
			} else if (strcmp(f->key, "min-tls-version") == 0 &&
			    f->t == Y_SCALAR)
				minv = f->val;
			else if ((strcmp(f->key, "proxy") == 0 ||
			    strcmp(f->key, "websocket") == 0 ||
			    strcmp(f->key, "tor") == 0 ||
			    strcmp(f->key, "sts-only") == 0) && f->t == Y_SCALAR &&
			    ybool(f->val) == 0)
				;	/* off: what we do anyway */
			else {
				drop(cv, f, path, strcmp(f->key, "proxy") == 0 ||
				    strcmp(f->key, "websocket") == 0 ||
				    strcmp(f->key, "tor") == 0 ||
				    strcmp(f->key, "sts-only") == 0 ?
				    "this kind of listener is not supported "
				    "here; the listener is dropped" :
				    "not supported here; dropped");
				if (strcmp(f->key, "proxy") == 0 ||
				    strcmp(f->key, "websocket") == 0 ||
				    strcmp(f->key, "tor") == 0 ||
				    strcmp(f->key, "sts-only") == 0)
					skip = true;
			}
		}
		if (skip)
			continue;
		if (cert == NULL && key == NULL) {
			emit(cv, "server", "listen %s", word(l->key));
			continue;
		}
		snprintf(tls, sizeof(tls), "cert %s  key ", word(cert != NULL ?
		    cert : ""));
		snprintf(tls + strlen(tls), sizeof(tls) - strlen(tls), "%s%s%s",
		    word(key != NULL ? key : ""), minv != NULL ?
		    "  min-version " : "", minv != NULL ? word(minv) : "");
		emit(cv, "server", "listen %s { tls { %s } }", word(l->key),
		    tls);
	}
}

/* logging: a list of { method, filename, type, level } */
static void
logging(struct cv *cv, const struct ynode *y)
{
	const struct ynode *l, *f;
	const char *meth, *file, *type, *level;
	char m[64], *p, *save;

	if (y->t != Y_LIST)
		return;
	for (l = y->child; l != NULL; l = l->next) {
		meth = file = type = level = NULL;
		for (f = l->t == Y_MAP ? l->child : NULL; f != NULL;
		    f = f->next) {
			if (f->t != Y_SCALAR)
				continue;
			if (strcmp(f->key, "method") == 0)
				meth = f->val;
			else if (strcmp(f->key, "filename") == 0)
				file = f->val;
			else if (strcmp(f->key, "type") == 0)
				type = f->val;
			else if (strcmp(f->key, "level") == 0)
				level = f->val;
			else
				drop(cv, f, "logging", "this key of a log is not "
				    "supported here; dropped");
		}
		snprintf(m, sizeof(m), "%s", meth != NULL ? meth : "stderr");
		/* Ergo allows "stderr file": one block each here */
		for (p = strtok_r(m, " ", &save); p != NULL;
		    p = strtok_r(NULL, " ", &save)) {
			if (strcmp(p, "file") == 0 && file == NULL) {
				drop(cv, l, "logging", "method file without a "
				    "filename; dropped");
				continue;
			}
			emit(cv, "", "logging {\n\tmethod %s%s%s\n\tlevel %s%s%s"
			    "\n}", p, strcmp(p, "file") == 0 ? "\n\tpath " : "",
			    strcmp(p, "file") == 0 ? word(file) : "",
			    word(level != NULL ? level : "info"),
			    type != NULL ? "\n\ttypes " : "",
			    type != NULL ? word(type) : "");
		}
	}
}

/* opers: NAME: { class, password, certfp, ... } */
static void
opers(struct cv *cv, const struct ynode *y)
{
	const struct ynode *o, *f;
	const char *cls, *pw, *fp;
	char path[128];

	if (y->t != Y_MAP)
		return;
	for (o = y->child; o != NULL; o = o->next) {
		snprintf(path, sizeof(path), "opers.%s", o->key);
		cls = pw = fp = NULL;
		for (f = o->t == Y_MAP ? o->child : NULL; f != NULL;
		    f = f->next) {
			if (f->t == Y_SCALAR && strcmp(f->key, "class") == 0)
				cls = f->val;
			else if (f->t == Y_SCALAR &&
			    strcmp(f->key, "password") == 0)
				pw = f->val;
			else if (f->t == Y_SCALAR &&
			    strcmp(f->key, "certfp") == 0)
				fp = f->val;
			else {
				char fpath[256];

				snprintf(fpath, sizeof(fpath), "%s.%s", path,
				    f->key != NULL ? f->key : "-");
				drop(cv, f, fpath, "not supported here; "
				    "dropped");
			}
		}
		if (pw != NULL && !conf_passwd_check(pw)) {
			/* Ergo's are bcrypt: no way back to the password */
			drop(cv, o, path, "its password is an Ergo (bcrypt) "
			    "hash: the oper block is written commented out; "
			    "make a new hash with `ergo genpasswd`");
			emit(cv, "", "# oper %s {\t# from %s: needs a new "
			    "password\n# \tclass %s\n# \tpassword \"<ergo "
			    "genpasswd>\"%s%s\n# }", word(o->key), cv->file,
			    word(cls != NULL ? cls : "server-admin"),
			    fp != NULL ? "\n# \tcertfp " : "",
			    fp != NULL ? word(fp) : "");
			continue;
		}
		emit(cv, "", "oper %s {\n\tclass %s%s%s%s%s\n}", word(o->key),
		    word(cls != NULL ? cls : "server-admin"),
		    pw != NULL ? "\n\tpassword " : "", pw != NULL ? word(pw) : "",
		    fp != NULL ? "\n\tcertfp " : "", fp != NULL ? word(fp) : "");
	}
}

static int	 subtree_count(const struct ynode *y);

static int
subtree_count(const struct ynode *y)
{
	int n = 0;

	for (y = y->child; y != NULL; y = y->next)
		n += y->child != NULL ? subtree_count(y) : 1;
	return n;
}

/* Walks the document: each key mapped, handled or reported. */
static void
walk(struct cv *cv, const struct ynode *y, const char *prefix)
{
	const struct ynode *c;
	char path[512], why[128];
	size_t i;
	int n;

	for (c = y->child; c != NULL; c = c->next) {
		snprintf(path, sizeof(path), "%s%s%s", prefix,
		    prefix[0] != '\0' ? "." : "", c->key != NULL ? c->key : "-");
		for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
			if (strcmp(maps[i].ergo, path) == 0)
				break;
		if (i < sizeof(maps) / sizeof(maps[0])) {
			scalar_key(cv, c, path, &maps[i]);
			continue;
		}
		if (strcmp(path, "server.listeners") == 0)
			listeners(cv, c);
		else if (strcmp(path, "logging") == 0)
			logging(cv, c);
		else if (strcmp(path, "opers") == 0)
			opers(cv, c);
		else if (strcmp(path, "server.casemapping") == 0 &&
		    c->t == Y_SCALAR) {
			if (strcmp(c->val, "ascii") == 0 ||
			    strcmp(c->val, "rfc1459") == 0 ||
			    strcmp(c->val, "precis") == 0)
				emit(cv, "server", "casemapping %s", c->val);
			else
				drop(cv, c, path, "only ascii, rfc1459 and precis "
				    "here; dropped (ascii is the default)");
		} else if (strcmp(path, "server.password") == 0 &&
		    c->t == Y_SCALAR) {
			if (conf_passwd_check(c->val))
				emit(cv, "server", "password %s", word(c->val));
			else
				drop(cv, c, path, "an Ergo (bcrypt) hash; make a "
				    "new one with `ergo genpasswd`; dropped");
		} else if (strcmp(path, "datastore.path") == 0 &&
		    c->t == Y_SCALAR) {
			/* Ergo's file is buntdb: ours must be another one */
			drop(cv, c, path, "that is Ergo's buntdb file: the "
			    "SQLite database is written as ircd.sqlite beside "
			    "it (bring the old one over with `ergo importdb`)");
			emit(cv, "datastore", "path ircd.sqlite");
		} else if (strcmp(path, "accounts.nick-reservation.method") ==
		    0 && c->t == Y_SCALAR) {
			if (strcmp(c->val, "strict") == 0 ||
			    strcmp(c->val, "optional") == 0)
				emit(cv, "accounts.nick-reservation",
				    "method %s", c->val);
			else
				drop(cv, c, path, "only strict and optional "
				    "here; dropped");
		} else if (c->t == Y_MAP && c->child != NULL &&
		    (strcmp(path, "network") == 0 || strcmp(path, "server") ==
		    0 || strcmp(path, "datastore") == 0 ||
		    strcmp(path, "accounts") == 0 ||
		    strcmp(path, "channels") == 0 || strcmp(path, "limits") ==
		    0 || strcmp(path, "history") == 0 ||
		    strcmp(path, "server.ip-limits") == 0 ||
		    strcmp(path, "server.ip-cloaking") == 0 ||
		    strcmp(path, "server.sts") == 0 ||
		    strcmp(path, "accounts.registration") == 0 ||
		    strcmp(path, "accounts.registration.throttling") == 0 ||
		    strcmp(path, "accounts.registration.email-verification") ==
		    0 || strcmp(path, "accounts.registration.email-verification."
		    "password-reset") == 0 ||
		    strcmp(path, "accounts.nick-reservation") == 0 ||
		    strcmp(path, "accounts.login-throttling") == 0 ||
		    strcmp(path, "channels.registration") == 0 ||
		    strcmp(path, "limits.multiline") == 0 ||
		    strcmp(path, "history.restrictions") == 0 ||
		    strcmp(path, "history.persistent") == 0))
			walk(cv, c, path);
		else if (c->t == Y_NULL)
			;	/* "key:" alone: Ergo's default, ours too */
		else {
			n = c->child != NULL ? subtree_count(c) : 0;
			if (n > 0)
				snprintf(why, sizeof(why), "not supported here; "
				    "dropped (with the %d key%s under it)", n,
				    n == 1 ? "" : "s");
			else
				snprintf(why, sizeof(why), "not supported here; "
				    "dropped");
			drop(cv, c, path, why);
		}
	}
}

/* The statements of block path itself, indented to depth. */
static void
print_lines(FILE *f, const struct cv *cv, const char *path, int depth)
{
	const char *t, *nl;
	size_t i;
	int k;

	for (i = 0; i < cv->n; i++) {
		if (strcmp(cv->o[i].path, path) != 0)
			continue;
		for (t = cv->o[i].text; *t != '\0'; t = *nl ? nl + 1 : nl) {
			nl = t + strcspn(t, "\n");
			if (f == NULL)
				continue;
			for (k = 0; k < depth; k++)
				fputc('\t', f);
			fprintf(f, "%.*s\n", (int)(nl - t), t);
		}
	}
}

/* Prints the entries of block path (and the blocks under it) at depth. */
static void
print_block(FILE *f, const struct cv *cv, const char *path, int depth)
{
	size_t i, j, pl = strlen(path);
	char child[96], *dot;
	int k;

	if (pl > 0)
		print_lines(f, cv, path, depth);
	/* the child blocks, in the order they were first seen */
	for (i = 0; i < cv->n; i++) {
		if (pl > 0 && (strncmp(cv->o[i].path, path, pl) != 0 ||
		    cv->o[i].path[pl] != '.'))
			continue;
		if (pl == 0 && cv->o[i].path[0] == '\0')
			continue;
		snprintf(child, sizeof(child), "%s", cv->o[i].path +
		    (pl > 0 ? pl + 1 : 0));
		if ((dot = strchr(child, '.')) != NULL)
			*dot = '\0';
		for (j = 0; j < i; j++)
			if ((pl == 0 || (strncmp(cv->o[j].path, path, pl) == 0 &&
			    cv->o[j].path[pl] == '.')) &&
			    strncmp(cv->o[j].path + (pl > 0 ? pl + 1 : 0), child,
			    strlen(child)) == 0 && (cv->o[j].path[(pl > 0 ?
			    pl + 1 : 0) + strlen(child)] == '\0' ||
			    cv->o[j].path[(pl > 0 ? pl + 1 : 0) +
			    strlen(child)] == '.'))
				break;
		if (j < i)
			continue;	/* printed already */
		for (k = 0; f != NULL && k < depth; k++)
			fputc('\t', f);
		if (f != NULL)
			fprintf(f, "%s {\n", child);
		{
			char sub[96];

			/* the schema's paths are short: a longer one is no
			 * block of ours */
			if (snprintf(sub, sizeof(sub), "%s%s%s", path,
			    pl > 0 ? "." : "", child) < (int)sizeof(sub))
				print_block(f, cv, sub, depth + 1);
		}
		for (k = 0; f != NULL && k < depth; k++)
			fputc('\t', f);
		if (f != NULL)
			fprintf(f, "}\n");
	}
	if (pl == 0)	/* top level: oper and logging blocks last */
		print_lines(f, cv, path, depth);
}

static void
cv_free(struct cv *cv)
{
	size_t i;

	for (i = 0; i < cv->n; i++)
		free(cv->o[i].text);
	free(cv->o);
}

int
conf_yaml_check(const char *text, size_t len, char *err, size_t errsz)
{
	struct yp yp;
	struct cv cv;
	struct ynode *root;
	char *buf;
	int rc = -1;

	snprintf(err, errsz, "not YAML");
	if (len > YAML_FILE_MAX || memchr(text, '\0', len) != NULL ||
	    (buf = malloc(len + 1)) == NULL)
		return -1;
	memcpy(buf, text, len);
	buf[len] = '\0';
	memset(&yp, 0, sizeof(yp));
	memset(&cv, 0, sizeof(cv));
	yp.file = cv.file = "yaml";
	cv.quiet = true;
	if ((root = yaml_parse(&yp, buf)) != NULL && yp.err[0] == '\0') {
		if (root->t == Y_MAP) {
			walk(&cv, root, "");
			print_block(NULL, &cv, "", 0);
		}
		rc = 0;
	} else
		snprintf(err, errsz, "%s", yp.err[0] != '\0' ? yp.err :
		    "out of memory");
	cv_free(&cv);
	ynode_free(root);
	free(yp.l);
	free(buf);
	return rc;
}

int
conf_yaml_convert(const char *path, FILE *out)
{
	struct yp yp;
	struct cv cv;
	struct ynode *root = NULL;
	struct conf *c;
	char *text = NULL, *errs = NULL, tmp[] = "/tmp/ergo-importconf.XXXXXX";
	FILE *f, *tf;
	size_t n = 0, r;
	int fd, rc = -1, ch;

	memset(&yp, 0, sizeof(yp));
	memset(&cv, 0, sizeof(cv));
	yp.file = cv.file = path;
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "ergo: importconf: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	if ((text = malloc(YAML_FILE_MAX + 1)) == NULL)
		goto done_f;
	r = fread(text, 1, YAML_FILE_MAX + 1, f);
	if (ferror(f) || r > YAML_FILE_MAX) {
		fprintf(stderr, "ergo: importconf: %s: %s\n", path, ferror(f) ?
		    "read error" : "larger than 4 MiB");
		goto done_f;
	}
	n = r;
	text[n] = '\0';
	if (memchr(text, '\0', n) != NULL) {
		fprintf(stderr, "ergo: importconf: %s: a NUL byte: not YAML\n",
		    path);
		goto done_f;
	}
	if ((root = yaml_parse(&yp, text)) == NULL || yp.err[0] != '\0') {
		fprintf(stderr, "ergo: importconf: %s\n", yp.err[0] != '\0' ?
		    yp.err : "out of memory");
		goto done_f;
	}
	if (root->t != Y_MAP) {
		fprintf(stderr, "ergo: importconf: %s: not a YAML map\n", path);
		goto done_f;
	}
	walk(&cv, root, "");
	/* check what we made the way `ergo run` would read it */
	if ((fd = mkstemp(tmp)) == -1 || (tf = fdopen(fd, "w+")) == NULL) {
		fprintf(stderr, "ergo: importconf: %s: %s\n", tmp,
		    strerror(errno));
		goto done_f;
	}
	fprintf(tf, "# converted by `ergo importconf` from %s\n", path);
	print_block(tf, &cv, "", 0);
	fflush(tf);
	if ((c = conf_load(tmp, &errs)) == NULL) {
		fprintf(stderr, "ergo: importconf: the converted config does "
		    "not load:\n%s\n", errs != NULL ? errs : "config error");
		free(errs);
	} else {
		conf_free(c);
		rewind(tf);
		while ((ch = fgetc(tf)) != EOF)
			fputc(ch, out);
		rc = fflush(out) == 0 ? 0 : -1;
		fprintf(stderr, "ergo: importconf: %s: converted; %u keys not "
		    "carried over (listed above)\n", path, cv.dropped);
	}
	fclose(tf);
	unlink(tmp);
done_f:
	fclose(f);
	ynode_free(root);
	free(yp.l);
	cv_free(&cv);
	free(text);
	return rc;
}
