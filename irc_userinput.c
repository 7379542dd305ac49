/*
 * irc_userinput.c: a client's line with its secrets hidden, for the
 * userinput log: the passwords of PASS, OPER, REGISTER (its e-mail too)
 * and NickServ's IDENTIFY, REGISTER, DROP, PASSWD, RESETPASS and VERIFY
 * (the mailed codes), VERIFY's code and
 * every AUTHENTICATE payload. Only the
 * logged copy changes, never the line the server acts on.
 */
#include <string.h>
#include <strings.h>

#include "irc_userinput.h"
#include "ergo.h"
#include "irc_util.h"

#define REDACTED	"*****"

/* NickServ commands whose words after the command are secret. */
static const char *const ns_secret[] = {
	"DROP", "IDENTIFY", "PASSWD", "REGISTER", "RESETPASS", "VERIFY"
};

/* AUTHENTICATE parameters that carry no secret. */
static const char *const sasl_plain_words[] = {
	"*", "+", "EXTERNAL", "PLAIN", "SCRAM-SHA-256"
};

struct out {
	char	*buf;
	size_t	 sz, len;
};

/* Appends n bytes of s, cutting at the end of the buffer. */
static void
put(struct out *o, const char *s, size_t n)
{
	if (o->len + 1 >= o->sz)
		return;
	if (n > o->sz - 1 - o->len)
		n = o->sz - 1 - o->len;
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void
puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static bool
listed(const char *w, size_t n, const char *const *list, size_t nlist)
{
	size_t i;

	for (i = 0; i < nlist; i++)
		if (strlen(list[i]) == n && strncasecmp(w, list[i], n) == 0)
			return true;
	return false;
}

/*
 * Text for NickServ: "IDENTIFY account pw" keeps the account, the other
 * secret commands keep only their name. False if nothing is secret.
 * The caller's prefix is in o already: on false, it logs line instead.
 */
static bool
ns_redact(struct out *o, const char *text)
{
	const char *w = text + strspn(text, " "), *rest;
	size_t n = strcspn(w, " ");

	if (!listed(w, n, ns_secret, sizeof(ns_secret) /
	    sizeof(ns_secret[0])))
		return false;
	rest = w + n + strspn(w + n, " ");
	if (*rest == '\0')
		return false;		/* no password given */
	put(o, w, n);
	if (n == 8 && strncasecmp(w, "IDENTIFY", 8) == 0) {
		size_t an = strcspn(rest, " ");
		const char *after = rest + an + strspn(rest + an, " ");

		if (*after != '\0') {		/* account and password */
			puts_(o, " ");
			put(o, rest, an);
			rest = after;
		}
	}
	puts_(o, " " REDACTED);
	return true;
}

/* Whether one of the comma-separated targets is NickServ. */
static bool
to_nickserv(const char *targets)
{
	const char *t = targets;
	size_t n;

	for (;;) {
		n = strcspn(t, ",");
		if (n == 8 && strncasecmp(t, "NickServ", 8) == 0)
			return true;
		if (t[n] == '\0')
			return false;
		t += n + 1;
	}
}

/*
 * line, or a copy of it in buf (sz bytes) with its secrets replaced by
 * "*****". A secret-bearing line is rebuilt from its parsed fields, so
 * its spacing may differ from what the client sent.
 */
const char *
irc_userinput_mask(const char *line, char *buf, size_t sz)
{
	char copy[RECVQ_MAX + 1], text[IRC_LINE_MAX];
	struct out o = { buf, sz, 0 };
	struct msg m;
	int i, from = -1;	/* params from this one on are hidden */
	bool ns = false;

	if (sz == 0 || strlen(line) >= sizeof(copy))
		return line;
	memcpy(copy, line, strlen(line) + 1);
	if (irc_parse(copy, &m) == -1 || m.nparam == 0)
		return line;
	if (strcmp(m.cmd, "PASS") == 0)
		from = 0;
	else if (strcmp(m.cmd, "OPER") == 0 ||
	    strcmp(m.cmd, "VERIFY") == 0)
		from = 1;
	else if (strcmp(m.cmd, "REGISTER") == 0)	/* <account> ... */
		from = m.nparam > 1 ? 1 : 0;
	else if (strcmp(m.cmd, "AUTHENTICATE") == 0) {
		if (!listed(m.param[0], strlen(m.param[0]), sasl_plain_words,
		    sizeof(sasl_plain_words) / sizeof(sasl_plain_words[0])))
			from = 0;
	} else if (strcmp(m.cmd, "NICKSERV") == 0 ||
	    strcmp(m.cmd, "NS") == 0)
		ns = true;
	else if ((strcmp(m.cmd, "PRIVMSG") == 0 ||
	    strcmp(m.cmd, "NOTICE") == 0) && m.nparam >= 2 &&
	    to_nickserv(m.param[0]))
		ns = true;
	if (from == -1 && !ns)
		return line;
	if (from >= m.nparam)
		return line;

	buf[0] = '\0';
	if (m.tags != NULL) {
		puts_(&o, "@");
		puts_(&o, m.tags);
		puts_(&o, " ");
	}
	if (m.source != NULL) {
		puts_(&o, ":");
		puts_(&o, m.source);
		puts_(&o, " ");
	}
	puts_(&o, m.cmd);
	if (ns && m.param[0] != NULL && (strcmp(m.cmd, "PRIVMSG") == 0 ||
	    strcmp(m.cmd, "NOTICE") == 0)) {
		puts_(&o, " ");
		puts_(&o, m.param[0]);
		puts_(&o, " :");
		if (!ns_redact(&o, m.param[1]))
			return line;
		return buf;
	}
	if (ns) {			/* NS words... as NickServ's text */
		struct out t = { text, sizeof(text), 0 };

		text[0] = '\0';
		for (i = 0; i < m.nparam; i++) {
			if (i > 0)
				puts_(&t, " ");
			puts_(&t, m.param[i]);
		}
		puts_(&o, " ");
		if (!ns_redact(&o, text))
			return line;
		return buf;
	}
	for (i = 0; i < m.nparam; i++) {
		puts_(&o, " ");
		if (i >= from) {
			puts_(&o, REDACTED);
			break;
		}
		puts_(&o, m.param[i]);
	}
	return buf;
}
