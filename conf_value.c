/*
 * conf_value.c: one config value: each key type's conversion from the
 * text and its checks (sizes, durations, hostnames, modes, tags, paths
 * relative to the config, log categories), and the listen addresses
 * (host:port, [v6]:port, :port, Unix paths) a listen statement or
 * override lists. For conf.c's parser and conf_apply.c (conf_int.h).
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>

#include <limits.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ergo.h"
#include "conf.h"
#include "conf_int.h"
#include "log.h"
#include "util.h"

/* ---- values ---- */

static bool
is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

char
conf_lower(char ch)
{
	return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

static bool
eq_nocase(const char *a, const char *b)
{
	for (; *a != '\0' && conf_lower(*a) == conf_lower(*b); a++, b++)
		;
	return *a == '\0' && *b == '\0';
}

/* Plain decimal: digits only, no sign, no overflow. */
static int
parse_uint(const char *s, unsigned long long *out)
{
	unsigned long long v = 0;

	if (*s == '\0')
		return -1;
	for (; is_digit(*s); s++) {
		if (v > (ULLONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (unsigned long long)(*s - '0');
	}
	if (*s != '\0')
		return -1;
	*out = v;
	return 0;
}

/* 512, 96k, 1m, 2g (1024-based). */
static int
parse_size(const char *s, unsigned long long *out)
{
	unsigned long long v = 0, mul = 1;

	if (!is_digit(*s))
		return -1;
	for (; is_digit(*s); s++) {
		if (v > (ULLONG_MAX - 9) / 10)
			return -1;
		v = v * 10 + (unsigned long long)(*s - '0');
	}
	switch (conf_lower(*s)) {
	case '\0':
		break;
	case 'k':
		mul = KB;
		break;
	case 'm':
		mul = MB;
		break;
	case 'g':
		mul = KB * MB;
		break;
	default:
		return -1;
	}
	if (*s != '\0' && s[1] != '\0')
		return -1;
	if (v > ULLONG_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

/* In milliseconds: 90 (seconds), 30s, 500ms, 1h30m, 2d, 1w. */
static int
parse_duration(const char *s, unsigned long long *out)
{
	unsigned long long total = 0, v, mul;

	if (parse_uint(s, &v) == 0) {
		if (v > ULLONG_MAX / 1000)
			return -1;
		*out = v * 1000;
		return 0;
	}
	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		if (!is_digit(*s))
			return -1;
		for (v = 0; is_digit(*s); s++) {
			if (v > (ULLONG_MAX - 9) / 10)
				return -1;
			v = v * 10 + (unsigned long long)(*s - '0');
		}
		if (s[0] == 'm' && s[1] == 's') {
			mul = 1;
			s++;
		} else if (*s == 's')
			mul = 1000;
		else if (*s == 'm')
			mul = 60 * 1000ULL;
		else if (*s == 'h')
			mul = HOUR_MS;
		else if (*s == 'd')
			mul = 24 * HOUR_MS;
		else if (*s == 'w')
			mul = 7 * 24 * HOUR_MS;
		else
			return -1;
		s++;
		if (v > ULLONG_MAX / mul || total > ULLONG_MAX - v * mul)
			return -1;
		total += v * mul;
	}
	*out = total;
	return 0;
}

/* Letters, digits, '-' and '.', with a dot; labels not empty or -edged. */
bool
conf_valid_hostname(const char *s)
{
	size_t i, n = strlen(s), lab = 0;
	bool dot = false;
	char ch;

	if (n == 0 || n > 63)
		return false;
	for (i = 0; i < n; i++) {
		ch = s[i];
		if (ch == '.') {
			if (lab == 0 || s[i - 1] == '-')
				return false;
			dot = true;
			lab = 0;
		} else if ((ch >= 'a' && ch <= 'z') ||
		    (ch >= 'A' && ch <= 'Z') || is_digit(ch) ||
		    (ch == '-' && lab > 0))
			lab++;
		else
			return false;
	}
	return dot && lab > 0 && s[n - 1] != '-';
}

/* "+draft/react +react": client-only tag names, spaces between. */
static bool
valid_tags(const char *s)
{
	bool inword = false;

	for (; *s != '\0'; s++) {
		if (*s == ' ') {
			if (inword && s[-1] == '+')
				return false;
			inword = false;
		} else if (!inword) {
			if (*s != '+')
				return false;
			inword = true;
		} else if (!((*s >= 'a' && *s <= 'z') ||
		    (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		    strchr("-./", *s) != NULL))
			return false;
	}
	return !inword || s[-1] != '+';
}

static bool
valid_modes(const char *s)
{
	if (*s++ != '+')
		return false;
	for (; *s != '\0'; s++)
		if (strchr("imnpst", *s) == NULL)
			return false;
	return true;
}

static void
fmt_size(char *buf, size_t sz, unsigned long long v)
{
	if (v >= MB && v % MB == 0)
		snprintf(buf, sz, "%llum", v / MB);
	else if (v >= KB && v % KB == 0)
		snprintf(buf, sz, "%lluk", v / KB);
	else
		snprintf(buf, sz, "%llu", v);
}

static void
fmt_ms(char *buf, size_t sz, unsigned long long v)
{
	if (v >= HOUR_MS && v % HOUR_MS == 0)
		snprintf(buf, sz, "%lluh", v / HOUR_MS);
	else if (v >= 1000 && v % 1000 == 0)
		snprintf(buf, sz, "%llus", v / 1000);
	else
		snprintf(buf, sz, "%llums", v);
}

/* a/b/c: dir "a/b", so values are read relative to the config file. */
static char *
path_resolve(struct parser *p, const char *v)
{
	size_t dl, vl;
	char *r;

	if (v[0] == '/' || p->dir == NULL)
		return conf_xstrndup(p, v, strlen(v));
	dl = strlen(p->dir);
	vl = strlen(v);
	if ((r = malloc(dl + 1 + vl + 1)) == NULL) {
		conf_nomem(p);
		return NULL;
	}
	memcpy(r, p->dir, dl);
	r[dl] = '/';
	memcpy(r + dl + 1, v, vl + 1);
	return r;
}

static int
set_string(struct parser *p, const struct key *k, void *base, char *v,
    size_t n, const struct where *w)
{
	char **dst = (char **)(void *)((char *)base + k->off), *r;
	size_t i;

	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
			conf_err(p, w, "control characters are not allowed "
			    "in %s", k->name);
			return -1;
		}
	if (n < k->min) {
		conf_err(p, w, "%s must not be empty", k->name);
		return -1;
	}
	if (n > k->max) {
		conf_err(p, w, "%s is longer than %llu characters", k->name,
		    k->max);
		return -1;
	}
	switch (k->type) {
	case K_WORD:
		if (strchr(v, ' ') != NULL) {
			conf_err(p, w, "%s must be one word, without spaces",
			    k->name);
			return -1;
		}
		break;
	case K_HOST:
		if (!conf_valid_hostname(v)) {
			conf_err(p, w, "expected a hostname with a dot, like "
			    "irc.example.org (letters, digits, '-' and '.'; "
			    "at most 63 characters)");
			return -1;
		}
		break;
	case K_SID:
		if (n != 3 || !is_digit(v[0]) ||
		    strspn(v + 1, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 2) {
			conf_err(p, w, "expected a server id: a digit then two "
			    "digits or capital letters, like 0AB");
			return -1;
		}
		break;
	case K_HASH:
		if (!conf_passwd_check(v)) {
			conf_err(p, w, "expected a password hash from `ergo "
			    "genpasswd`, like \"$pbkdf2-sha256$32768$...\"");
			return -1;
		}
		break;
	case K_MODES:
		if (!valid_modes(v)) {
			conf_err(p, w, "expected channel modes like +nt: a '+'"
			    " then letters from imnpst");
			return -1;
		}
		break;
	case K_NETS: {
		struct util_net nets[UTIL_NETS_MAX];
		const char *bad;
		int cnt = util_nets_parse(v, nets, UTIL_NETS_MAX, &bad);

		if (cnt == -1 && bad != NULL)
			conf_err(p, w, "expected addresses or CIDR blocks like "
			    "\"localhost 192.0.2.0/24\" (at most %d), not "
			    "\"%.*s\"", UTIL_NETS_MAX, (int)strcspn(bad, " \t,"),
			    bad);
		if (cnt <= 0) {
			if (cnt == 0)
				conf_err(p, w, "%s needs at least one address",
				    k->name);
			return -1;
		}
		break;
	}
	case K_TAGS:
		if (!valid_tags(v)) {
			conf_err(p, w, "expected client-only tag names "
			    "separated by spaces, each a '+' then letters, "
			    "digits and -./ like \"+draft/react +react\"");
			return -1;
		}
		break;
	default:
		break;
	}
	if (k->type == K_PATH) {
		if ((r = path_resolve(p, v)) == NULL)
			return -1;
		free(v);
	} else
		r = v;
	free(*dst);
	*dst = r;
	return 0;
}

/*
 * "* -userinput", "server connect": space-separated words. Starts from
 * nothing, or from everything when the first word is an exclusion.
 */
static int
types_parse(struct parser *p, const char *s, uint32_t *out,
    const struct where *w)
{
	char shown[64];
	uint32_t v = 0, b;
	size_t n;
	bool first = true, neg;

	for (;;) {
		s += strspn(s, " \t");
		if (*s == '\0')
			break;
		n = strcspn(s, " \t");
		if ((neg = *s == '-')) {
			if (first)
				v = LOG_TYPES_ALL;
			s++;
			n--;
		}
		if (n == 1 && *s == '*' && !neg)
			b = LOG_TYPES_ALL;
		else if ((b = log_category(s, n)) == 0) {
			conf_err(p, w, "unknown log type \"%s\"; expected * or"
			    " some of: server connect channels opers rehash "
			    "store userinput useroutput log irc accounts tls "
			    "link, each may start with -", conf_show(shown,
			    sizeof(shown), s, n));
			return -1;
		}
		v = neg ? v & ~b : v | b;
		first = false;
		s += n;
	}
	if (first) {
		conf_err(p, w, "types needs at least one name, like: types *");
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * Sets key k of the struct at base from the text s (n bytes; from the
 * file, an override or a table default). Returns 0, or -1 (reported).
 */
int
conf_set_value(struct parser *p, const struct key *k, void *base, const char *s,
    size_t n, const struct where *w)
{
	void *dst = (char *)base + k->off;
	const struct enumval *ev;
	unsigned long long v = 0;
	char lo[32], hi[32], list[128], *t;
	size_t len;
	int rc = -1;

	if ((t = conf_xstrndup(p, s, n)) == NULL)
		return -1;
	switch (k->type) {
	case K_BOOL:
		if (eq_nocase(t, "yes") || eq_nocase(t, "true") ||
		    eq_nocase(t, "on"))
			*(bool *)dst = true;
		else if (eq_nocase(t, "no") || eq_nocase(t, "false") ||
		    eq_nocase(t, "off"))
			*(bool *)dst = false;
		else {
			conf_err(p, w, "expected yes or no");
			break;
		}
		rc = 0;
		break;
	case K_ENUM:
		for (ev = k->aux; ev->name != NULL; ev++)
			if (eq_nocase(t, ev->name))
				break;
		if (ev->name == NULL) {
			list[0] = '\0';
			for (ev = k->aux; ev->name != NULL; ev++) {
				len = strlen(list);
				snprintf(list + len, sizeof(list) - len, "%s%s",
				    len ? ", " : "", ev->name);
			}
			conf_err(p, w, "expected one of: %s", list);
			break;
		}
		*(int *)dst = ev->val;
		if (k->aux == method_vals)
			p->method_at = *w;
		rc = 0;
		break;
	case K_UINT:
	case K_SIZE:
	case K_SECS:
	case K_MSECS:
		if (k->type == K_UINT && parse_uint(t, &v) == -1) {
			conf_err(p, w, "expected a whole number");
			break;
		}
		if (k->type == K_SIZE && parse_size(t, &v) == -1) {
			conf_err(p, w, "expected a size like 96k");
			break;
		}
		if ((k->type == K_SECS || k->type == K_MSECS) &&
		    parse_duration(t, &v) == -1) {
			conf_err(p, w, "expected a duration like 30s, 2m or "
			    "1h30m");
			break;
		}
		if (k->type == K_SECS) {
			if (v % 1000 != 0) {
				conf_err(p, w, "%s takes whole seconds, like "
				    "60s", k->name);
				break;
			}
			v /= 1000;
		}
		if (v < k->min || v > k->max) {
			if (k->type == K_SIZE) {
				fmt_size(lo, sizeof(lo), k->min);
				fmt_size(hi, sizeof(hi), k->max);
			} else if (k->type == K_MSECS) {
				fmt_ms(lo, sizeof(lo), k->min);
				fmt_ms(hi, sizeof(hi), k->max);
			} else if (k->type == K_SECS) {
				fmt_ms(lo, sizeof(lo), k->min * 1000);
				fmt_ms(hi, sizeof(hi), k->max * 1000);
			} else {
				snprintf(lo, sizeof(lo), "%llu", k->min);
				snprintf(hi, sizeof(hi), "%llu", k->max);
			}
			conf_err(p, w, "%s must be between %s and %s",
			    k->name, lo, hi);
			break;
		}
		if (k->type == K_SIZE)
			*(size_t *)dst = (size_t)v;
		else
			*(unsigned *)dst = (unsigned)v;
		rc = 0;
		break;
	case K_FMODE:
		if (n == 0 || n > 4 || strspn(t, "01234567") != n ||
		    (v = strtoul(t, NULL, 8)) > k->max) {
			conf_err(p, w, "expected a file mode in octal, like "
			    "0770");
			break;
		}
		*(unsigned *)dst = (unsigned)v;
		rc = 0;
		break;
	case K_TYPES:
		rc = types_parse(p, t, (uint32_t *)dst, w);
		break;
	default:
		if (conf_key_is_string(k->type) &&
		    set_string(p, k, base, t, n, w) == 0)
			return 0;
		break;
	}
	free(t);
	return rc;
}

/* ---- listen addresses ---- */

void
conf_listen_free(struct listen_conf *l)
{
	if (l == NULL)
		return;
	free(l->text);
	free(l->cert);
	free(l->key);
	free(l);
}

static int
listen_resolve(const char *host, const char *port, int family,
    struct listen_conf *l)
{
	struct addrinfo hints, *res;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	if (res->ai_addrlen > sizeof(l->ss)) {
		freeaddrinfo(res);
		return -1;
	}
	memset(&l->ss, 0, sizeof(l->ss));
	memcpy(&l->ss, res->ai_addr, res->ai_addrlen);
	l->sslen = (socklen_t)res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* A Unix socket's path: out[0]. */
static int
listen_unix(struct parser *p, const char *path, const struct where *w,
    struct listen_conf *out[2])
{
	struct sockaddr_un *sun;

	if (strlen(path) >= sizeof(sun->sun_path)) {
		conf_err(p, w, "a Unix socket path is at most %zu bytes",
		    sizeof(sun->sun_path) - 1);
		return -1;
	}
	if ((out[0] = calloc(1, sizeof(*out[0]))) == NULL ||
	    (out[0]->text = conf_xstrndup(p, path, strlen(path))) == NULL) {
		if (out[0] == NULL)
			conf_nomem(p);
		free(out[0]);
		out[0] = NULL;
		return -1;
	}
	out[0]->line = w->env == NULL ? w->line : 0;
	sun = (struct sockaddr_un *)(void *)&out[0]->ss;
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, strlen(path) + 1);
	out[0]->sslen = (socklen_t)sizeof(*sun);
	return 1;
}

/*
 * host:port, [v6]:port or :port (two entries: 0.0.0.0 and [::], each
 * its own socket, since one dual-stack socket is not portable). Fills
 * out[0] (and out[1]); returns how many, or -1 (reported).
 */
int
conf_listen_parse(struct parser *p, const char *s, size_t n,
    const struct where *w, struct listen_conf *out[2])
{
	char v[128], shown[64], text[96], *host, *port, *q;
	int family = AF_INET, i, cnt = 1;
	bool any = false;

	out[0] = out[1] = NULL;
	if (n == 0 || n >= sizeof(v)) {
		conf_err(p, w, "expected an address like 127.0.0.1:6667, "
		    "[::1]:6667 or :6667");
		return -1;
	}
	memcpy(v, s, n);
	v[n] = '\0';
	if (v[0] == '/')
		return listen_unix(p, v, w, out);
	if (v[0] == '[') {
		if ((q = strchr(v, ']')) == NULL || q[1] != ':') {
			conf_err(p, w, "expected [IPv6-address]:port, like "
			    "[::1]:6667");
			return -1;
		}
		*q = '\0';
		host = v + 1;
		port = q + 2;
		family = AF_INET6;
	} else {
		if ((q = strrchr(v, ':')) == NULL) {
			conf_err(p, w, "expected host:port, like 127.0.0.1:6667"
			    " or :6667");
			return -1;
		}
		*q = '\0';
		host = v;
		port = q + 1;
		if (strchr(host, ':') != NULL) {
			conf_err(p, w, "an IPv6 address needs brackets, like "
			    "[::1]:6667");
			return -1;
		}
		any = host[0] == '\0';
	}
	if (port[0] == '\0' || strlen(port) > 5 ||
	    strspn(port, "0123456789") != strlen(port) ||
	    strtoul(port, NULL, 10) > 65535) {
		conf_err(p, w, "expected a port number (0-65535) after ':' in "
		    "%s", conf_show(shown, sizeof(shown), s, n));
		return -1;
	}
	if (any)
		cnt = 2;
	for (i = 0; i < cnt; i++) {
		if ((out[i] = calloc(1, sizeof(*out[i]))) == NULL)
			goto nomem;
		if (any) {
			snprintf(text, sizeof(text), i == 0 ? "0.0.0.0:%s" :
			    "[::]:%s", port);
			host = i == 0 ? "0.0.0.0" : "::";
			family = i == 0 ? AF_INET : AF_INET6;
			out[i]->text = conf_xstrndup(p, text, strlen(text));
		} else
			out[i]->text = conf_xstrndup(p, s, n);
		if (out[i]->text == NULL)
			goto fail;
		out[i]->line = w->env == NULL ? w->line : 0;
		if (listen_resolve(host, port, family, out[i]) == -1) {
			conf_show(shown, sizeof(shown), host, strlen(host));
			if (family == AF_INET && strspn(host, "0123456789.") !=
			    strlen(host))
				conf_err(p, w, "expected a numeric address, "
				    "not a hostname: %s", shown);
			else
				conf_err(p, w, "expected a numeric %s address,"
				    " not %s", family == AF_INET ? "IPv4" :
				    "IPv6", shown);
			goto fail;
		}
	}
	return cnt;
nomem:
	conf_nomem(p);
fail:
	conf_listen_free(out[0]);
	conf_listen_free(out[1]);
	out[0] = out[1] = NULL;
	return -1;
}

static bool
listen_same(const struct listen_conf *a, const struct listen_conf *b)
{
	const struct sockaddr_in *a4, *b4;
	const struct sockaddr_in6 *a6, *b6;

	if (a->ss.ss_family != b->ss.ss_family)
		return false;
	if (a->ss.ss_family == AF_UNIX)
		return strcmp(a->text, b->text) == 0;
	if (a->ss.ss_family == AF_INET) {
		a4 = (const struct sockaddr_in *)(const void *)&a->ss;
		b4 = (const struct sockaddr_in *)(const void *)&b->ss;
		/* port 0 lets the kernel pick: never the same socket */
		return a4->sin_port != 0 && a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	}
	a6 = (const struct sockaddr_in6 *)(const void *)&a->ss;
	b6 = (const struct sockaddr_in6 *)(const void *)&b->ss;
	return a6->sin6_port != 0 && a6->sin6_port == b6->sin6_port &&
	    a6->sin6_scope_id == b6->sin6_scope_id &&
	    memcmp(&a6->sin6_addr, &b6->sin6_addr, sizeof(a6->sin6_addr)) == 0;
}

/* Appends l to the listen list, unless its address is there already. */
void
conf_listen_add(struct parser *p, struct listen_conf *l, const struct where *w)
{
	struct listen_conf **pp;
	unsigned first;

	for (pp = &p->c->listens; *pp != NULL; pp = &(*pp)->next)
		if (listen_same(*pp, l)) {
			if ((first = conf_pos_line(p, *pp)) != 0)
				conf_err(p, w, "duplicate listen address %s "
				    "(first at line %u)", l->text, first);
			else
				conf_err(p, w, "duplicate listen address %s",
				    l->text);
			conf_listen_free(l);
			return;
		}
	*pp = l;
	conf_pos_add(p, l, w->line);
}

/*
 * A whole listen list from one string ("127.0.0.1:6667 [::1]:6667"),
 * replacing the current one: for overrides and the defaults.
 */
void
conf_listen_set_list(struct parser *p, const char *s, const struct where *w)
{
	struct listen_conf *l, *out[2];
	size_t n;
	int i, cnt, total = 0;

	while ((l = p->c->listens) != NULL) {
		p->c->listens = l->next;
		conf_pos_del(p, l);
		conf_listen_free(l);
	}
	p->listen_set = true;
	for (;;) {
		s += strspn(s, " \t,");
		if (*s == '\0')
			break;
		n = strcspn(s, " \t,");
		if ((cnt = conf_listen_parse(p, s, n, w, out)) > 0)
			for (i = 0; i < cnt; i++) {
				conf_listen_add(p, out[i], w);
				total++;
			}
		else
			total++;	/* reported; not "none given" too */
		s += n;
	}
	if (total == 0)
		conf_err(p, w, "expected at least one listen address, like "
		    "127.0.0.1:6667");
}
