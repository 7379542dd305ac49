/*
 * fuzz_parse.c: the message parser, and a round trip through a
 * serializer: parse(serialize(parse(line))) must give the same fields,
 * or a client could make the server relay something it did not parse.
 * The userinput log's redaction (irc_userinput.c) parses the same lines:
 * it stays in its buffer and keeps what it does not hide. What handlers
 * then read from a parsed line goes through here too: tag values
 * (draft/multiline's batch and concat, label), the client-only tags
 * that are relayed (canonical: a second pass changes nothing), the
 * timestamps of MARKREAD and CHATHISTORY (a round trip through the
 * formatter) and REGISTER's account name and password checks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../irc_account.h"
#include "../../irc_multiline.h"
#include "../../irc_userinput.h"

#define LINE_MAX_FUZZ	(IRC_TAGS_MAX + IRC_LINE_MAX + 1)

static size_t
put(char *dst, size_t off, size_t sz, const char *s)
{
	size_t n = strlen(s);

	if (off + n >= sz)
		abort();		/* cannot be: a line only shrinks */
	memcpy(dst + off, s, n + 1);
	return off + n;
}

static size_t
serialize(const struct msg *m, char *out, size_t sz)
{
	size_t off = 0;
	int i;

	out[0] = '\0';
	if (m->tags != NULL) {
		off = put(out, off, sz, "@");
		off = put(out, off, sz, m->tags);
		off = put(out, off, sz, " ");
	}
	if (m->source != NULL) {
		off = put(out, off, sz, ":");
		off = put(out, off, sz, m->source);
		off = put(out, off, sz, " ");
	}
	off = put(out, off, sz, m->cmd);
	for (i = 0; i < m->nparam; i++) {
		const char *p = m->param[i];
		bool last = i == m->nparam - 1;

		off = put(out, off, sz, " ");
		if (last && (*p == '\0' || *p == ':' || strchr(p, ' ') != NULL))
			off = put(out, off, sz, ":");
		off = put(out, off, sz, p);
	}
	return off;
}

static bool
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	    (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Year 9999's last millisecond: what a timestamp can be written as. */
#define TIME_MAX_MS	253402300799999LL

static void
fields(const struct msg *m)
{
	static const char *const keys[] = { "batch", "label",
	    "draft/multiline-concat", "+draft/reply", "" };
	static char ct[IRC_TAGS_MAX + 1], again[IRC_TAGS_MAX + 1];
	char v[IRC_ML_REF_MAX * 2 + 1], t[40];
	const char *p;
	int64_t ms, ms2;
	size_t i, n;
	bool weak;

	if (m->tags != NULL) {
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			if (irc_tag_get(m->tags, keys[i], v, sizeof(v)) &&
			    strlen(v) >= sizeof(v))
				abort();
			if (irc_tag_get(m->tags, keys[i], v, 1) && v[0] != '\0')
				abort();	/* room for the NUL only */
		}
		n = irc_tags_client(m->tags, ct, sizeof(ct));
		if (n != strlen(ct) || strpbrk(ct, " \r\n") != NULL)
			abort();	/* relayed as one escaped word */
		for (p = ct; n > 0 && p != NULL; p = strchr(p, ';'))
			if (*(p += *p == ';') != '+')
				abort();	/* only client-only tags */
		if (irc_tags_client(ct, again, sizeof(again)) != n ||
		    strcmp(ct, again) != 0)
			abort();
	}
	for (i = 0; i < (size_t)m->nparam; i++) {
		p = m->param[i];
		if (strncmp(p, "timestamp=", 10) == 0)
			p += 10;
		if (irc_time_parse(p, &ms) && ms >= 0 && ms <= TIME_MAX_MS) {
			irc_time_format(t, sizeof(t), ms);
			if (!irc_time_parse(t, &ms2) || ms2 != ms)
				abort();
		}
		(void)irc_account_name_ok(m->param[i]);
		(void)irc_account_password_bad("account", m->param[i], &weak);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static char out[LINE_MAX_FUZZ * 2];
	struct msg a, b;
	char *line, *again;
	const char *red;
	int i;

	fuzz_init();
	if (len > LINE_MAX_FUZZ)
		return 0;		/* net.c never hands irc more */
	line = fuzz_cstr(data, len);
	red = irc_userinput_mask(line, out, sizeof(out));
	if (red != line && (red != out || strlen(out) >= sizeof(out) ||
	    strstr(out, "*****") == NULL))
		abort();	/* a rebuilt line is one with a secret hidden */
	if (irc_parse(line, &a) == 0) {
		if (a.cmd == NULL || *a.cmd == '\0' || strchr(a.cmd, ' '))
			abort();
		for (i = 0; i < a.nparam - 1; i++)
			if (*a.param[i] == '\0' || strchr(a.param[i], ' ') ||
			    *a.param[i] == ':')
				abort();	/* a middle param is one word */
		serialize(&a, out, sizeof(out));
		again = fuzz_cstr((const uint8_t *)out, strlen(out));
		if (irc_parse(again, &b) != 0 || !same(a.tags, b.tags) ||
		    !same(a.source, b.source) || !same(a.cmd, b.cmd) ||
		    a.nparam != b.nparam)
			abort();
		for (i = 0; i < a.nparam; i++)
			if (strcmp(a.param[i], b.param[i]) != 0)
				abort();
		free(again);
		fields(&a);
	}
	free(line);
	return 0;
}
