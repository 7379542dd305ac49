/*
 * unit_irc.c: the pure parts of the protocol core: the message parser,
 * casemapping, wildcard matching, nick/channel syntax, ban-mask
 * normalisation, the hash table, the UTF-8-safe line formatter, and
 * the model's promise about a user with no session (irc_state.h), a
 * user's rare part made and freed as used.
 * Prints "ok NAME" or "FAIL NAME: why" per case; links against libergo.a.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_throttle.h"

#include "unit.h"

static const char *
s_or_null(const char *s)
{
	return s ? s : "(null)";
}

static void
check_str(const char *what, const char *got, const char *want)
{
	if (got == NULL && want == NULL)
		return;
	if (got == NULL || want == NULL || strcmp(got, want) != 0)
		bad("%s: got \"%s\", want \"%s\"", what, s_or_null(got),
		    s_or_null(want));
}

/* ---- irc_parse ---- */

static void
parse_into(const char *in, char *buf, size_t sz, struct msg *m, int *rc)
{
	snprintf(buf, sz, "%s", in);
	*rc = irc_parse(buf, m);
}

static void
t_parse_simple(void)
{
	char buf[600];
	struct msg m;
	int rc;

	parse_into("privmsg #chan :hello there: friend", buf, sizeof(buf), &m,
	    &rc);
	CHECK(rc == 0, "rc %d", rc);
	check_str("tags", m.tags, NULL);
	check_str("source", m.source, NULL);
	check_str("cmd (upper-cased)", m.cmd, "PRIVMSG");
	CHECK(m.nparam == 2, "nparam %d, want 2", m.nparam);
	if (m.nparam == 2) {
		check_str("param0", m.param[0], "#chan");
		check_str("param1 (trailing keeps spaces and colons)",
		    m.param[1], "hello there: friend");
	}
	report("parse_simple");
}

static void
t_parse_tags_source(void)
{
	char buf[600];
	struct msg m;
	int rc;

	parse_into("@time=2024-01-01T00:00:00Z;+draft/x=y :nick!u@h "
	    "NOTICE bob :hi", buf, sizeof(buf), &m, &rc);
	CHECK(rc == 0, "rc %d", rc);
	check_str("tags", m.tags, "time=2024-01-01T00:00:00Z;+draft/x=y");
	check_str("source", m.source, "nick!u@h");
	check_str("cmd", m.cmd, "NOTICE");
	CHECK(m.nparam == 2, "nparam %d", m.nparam);
	if (m.nparam == 2) {
		check_str("param0", m.param[0], "bob");
		check_str("param1", m.param[1], "hi");
	}
	report("parse_tags_and_source");

	parse_into("@a=b PING x", buf, sizeof(buf), &m, &rc);
	CHECK(rc == 0, "rc %d", rc);
	check_str("tags", m.tags, "a=b");
	check_str("source", m.source, NULL);
	check_str("cmd", m.cmd, "PING");
	CHECK(m.nparam == 1 && strcmp(m.param[0], "x") == 0,
	    "params wrong (n=%d)", m.nparam);
	report("parse_tags_without_source");

	parse_into(":src.example cmd a", buf, sizeof(buf), &m, &rc);
	CHECK(rc == 0, "rc %d", rc);
	check_str("source", m.source, "src.example");
	check_str("cmd", m.cmd, "CMD");
	CHECK(m.nparam == 1 && strcmp(m.param[0], "a") == 0,
	    "params wrong (n=%d)", m.nparam);
	report("parse_source_without_tags");
}

static void
t_parse_middle(void)
{
	char buf[600];
	struct msg m;
	int rc;

	parse_into("MODE #c +ov alice bob", buf, sizeof(buf), &m, &rc);
	CHECK(rc == 0, "rc %d", rc);
	CHECK(m.nparam == 4, "nparam %d, want 4", m.nparam);
	if (m.nparam == 4) {
		check_str("p0", m.param[0], "#c");
		check_str("p1", m.param[1], "+ov");
		check_str("p2", m.param[2], "alice");
		check_str("p3", m.param[3], "bob");
	}
	report("parse_middle_params");

	/* A colon inside a middle parameter is part of it. */
	parse_into("USER a:b 0 * :Real: Name", buf, sizeof(buf), &m, &rc);
	CHECK(rc == 0 && m.nparam == 4, "rc %d nparam %d", rc, m.nparam);
	if (m.nparam == 4) {
		check_str("p0", m.param[0], "a:b");
		check_str("p3", m.param[3], "Real: Name");
	}
	report("parse_colon_inside_middle");
}

static void
t_parse_trailing(void)
{
	char buf[600];
	struct msg m;
	int rc;

	parse_into("PRIVMSG bob :", buf, sizeof(buf), &m, &rc);
	CHECK(rc == 0, "rc %d", rc);
	CHECK(m.nparam == 2, "nparam %d, want 2 (empty trailing)", m.nparam);
	if (m.nparam == 2)
		check_str("empty trailing", m.param[1], "");
	report("parse_empty_trailing");

	parse_into("PRIVMSG bob ::) :( x", buf, sizeof(buf), &m, &rc);
	CHECK(rc == 0 && m.nparam == 2, "rc %d nparam %d", rc, m.nparam);
	if (m.nparam == 2)
		check_str("trailing starting with ':'", m.param[1], ":) :( x");
	report("parse_trailing_colons");

	parse_into("PRIVMSG bob :  two  spaces  ", buf, sizeof(buf), &m, &rc);
	CHECK(rc == 0 && m.nparam == 2, "rc %d nparam %d", rc, m.nparam);
	if (m.nparam == 2)
		check_str("trailing keeps its spaces", m.param[1],
		    "  two  spaces  ");
	report("parse_trailing_spaces");

	parse_into("QUIT", buf, sizeof(buf), &m, &rc);
	CHECK(rc == 0 && m.nparam == 0, "rc %d nparam %d", rc, m.nparam);
	check_str("cmd", m.cmd, "QUIT");
	report("parse_no_params");
}

static void
t_parse_spaces(void)
{
	char buf[600];
	struct msg m;
	int rc;

	parse_into("  :src   JOIN    #a     key   ", buf, sizeof(buf), &m,
	    &rc);
	CHECK(rc == 0, "rc %d", rc);
	check_str("source", m.source, "src");
	check_str("cmd", m.cmd, "JOIN");
	CHECK(m.nparam == 2, "nparam %d, want 2", m.nparam);
	if (m.nparam == 2) {
		check_str("p0", m.param[0], "#a");
		check_str("p1", m.param[1], "key");
	}
	report("parse_multiple_spaces");

	parse_into("PRIVMSG   bob    :x", buf, sizeof(buf), &m, &rc);
	CHECK(rc == 0 && m.nparam == 2, "rc %d nparam %d", rc, m.nparam);
	if (m.nparam == 2) {
		check_str("p0", m.param[0], "bob");
		check_str("p1", m.param[1], "x");
	}
	report("parse_spaces_before_trailing");
}

static void
t_parse_15(void)
{
	char buf[600];
	struct msg m;
	int rc, i;
	char want[8];

	/* 14 middles, then the 15th takes the rest, spaces and all. */
	parse_into("CMD p1 p2 p3 p4 p5 p6 p7 p8 p9 p10 p11 p12 p13 p14 "
	    "p15 p16 :p17 x", buf, sizeof(buf), &m, &rc);
	CHECK(rc == 0, "rc %d", rc);
	CHECK(m.nparam == IRC_PARAMS_MAX, "nparam %d, want 15", m.nparam);
	for (i = 0; i < 14 && i < m.nparam; i++) {
		snprintf(want, sizeof(want), "p%d", i + 1);
		check_str("middle", m.param[i], want);
	}
	if (m.nparam == IRC_PARAMS_MAX)
		check_str("15th takes the rest", m.param[14],
		    "p15 p16 :p17 x");
	report("parse_15_params_limit");

	/* Exactly 15 parameters with a trailing one. */
	parse_into("CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 :last one",
	    buf, sizeof(buf), &m, &rc);
	CHECK(rc == 0 && m.nparam == 15, "rc %d nparam %d", rc, m.nparam);
	if (m.nparam == 15)
		check_str("15th trailing", m.param[14], "last one");
	report("parse_15th_trailing");

	/* The 15th param starting with ':' drops only that colon. */
	parse_into("CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16",
	    buf, sizeof(buf), &m, &rc);
	CHECK(rc == 0 && m.nparam == 15, "rc %d nparam %d", rc, m.nparam);
	if (m.nparam == 15)
		check_str("15th (16 given)", m.param[14], "15 16");
	report("parse_16_params");
}

static void
t_parse_bad(void)
{
	char buf[600];
	struct msg m;
	int rc;

	parse_into("", buf, sizeof(buf), &m, &rc);
	CHECK(rc == -1, "empty line: rc %d, want -1", rc);
	report("parse_empty");

	parse_into("     ", buf, sizeof(buf), &m, &rc);
	CHECK(rc == -1, "only spaces: rc %d, want -1", rc);
	report("parse_only_spaces");

	parse_into(":source.only", buf, sizeof(buf), &m, &rc);
	CHECK(rc == -1, "source only: rc %d, want -1", rc);
	parse_into(":source.only   ", buf, sizeof(buf), &m, &rc);
	CHECK(rc == -1, "source and spaces: rc %d, want -1", rc);
	report("parse_source_only");

	parse_into("@a=b", buf, sizeof(buf), &m, &rc);
	CHECK(rc == -1, "tags only: rc %d, want -1", rc);
	parse_into("@a=b :src", buf, sizeof(buf), &m, &rc);
	CHECK(rc == -1, "tags and source only: rc %d, want -1", rc);
	report("parse_tags_only");
}

/* ---- casemapping ---- */

static void
t_fold(void)
{
	char out[64];
	int saved = conf->casemapping;

	conf->casemapping = CASEMAP_ASCII;
	irc_fold(out, "NiCk[]\\~{}|^", sizeof(out));
	check_str("ascii fold", out, "nick[]\\~{}|^");
	CHECK(irc_casecmp("FOO", "foo") == 0, "ascii: FOO != foo");
	CHECK(irc_casecmp("a[", "a{") != 0, "ascii: a[ == a{");
	CHECK(irc_casecmp("a\\", "a|") != 0, "ascii: a\\ == a|");
	CHECK(irc_casecmp("abc", "abd") < 0, "ascii: abc !< abd");
	CHECK(irc_casecmp("abc", "ab") > 0, "ascii: abc !> ab");
	CHECK(irc_casecmp("", "") == 0, "ascii: empty != empty");
	report("fold_ascii");

	conf->casemapping = CASEMAP_RFC1459;
	irc_fold(out, "NICK[]\\", sizeof(out));
	check_str("rfc1459 fold", out, "nick{}|");
	irc_fold(out, "{}|", sizeof(out));
	check_str("rfc1459 fold of lower case", out, "{}|");
	CHECK(irc_casecmp("a[b]c\\", "A{B}C|") == 0,
	    "rfc1459: a[b]c\\ != A{B}C|");
	CHECK(irc_casecmp("x~", "X^") == 0, "rfc1459: x~ != X^");
	{
		char f1[8], f2[8];

		irc_fold(f1, "~", sizeof(f1));
		irc_fold(f2, "^", sizeof(f2));
		check_str("rfc1459: fold(~) == fold(^)", f1, f2);
	}
	CHECK(irc_casecmp("a_", "a-") != 0, "rfc1459: _ == -");
	report("fold_rfc1459");

	/* Truncation is safe and terminated. */
	irc_fold(out, "ABCDEFGH", 4);
	check_str("truncated fold", out, "abc");
	report("fold_truncates");
	conf->casemapping = saved;
}

/* ---- wildcard matching ---- */

static void
t_match(void)
{
	static char longs[4096 + 1];
	int saved = conf->casemapping;
	size_t i;

	conf->casemapping = CASEMAP_ASCII;
	CHECK(irc_match("*", ""), "* vs empty");
	CHECK(irc_match("*", "anything at all"), "* vs text");
	CHECK(irc_match("", ""), "empty vs empty");
	CHECK(!irc_match("", "a"), "empty mask matched a");
	CHECK(!irc_match("?", ""), "? matched empty");
	CHECK(irc_match("?", "x"), "? vs x");
	CHECK(!irc_match("?", "xy"), "? matched xy");
	CHECK(irc_match("a?c", "abc"), "a?c vs abc");
	CHECK(!irc_match("a?c", "ac"), "a?c matched ac");
	CHECK(irc_match("abc", "abc"), "abc vs abc");
	CHECK(!irc_match("abc", "abcd"), "abc matched abcd");
	CHECK(!irc_match("abcd", "abc"), "abcd matched abc");
	CHECK(irc_match("*!*@*", "nick!~u@127.0.0.1"), "*!*@*");
	CHECK(irc_match("nick!*@*", "NICK!~u@h"), "case-insensitive nick");
	CHECK(irc_match("*!*@*.EXAMPLE.org", "n!u@host.example.ORG"),
	    "case-insensitive host");
	CHECK(!irc_match("nick!*@*", "nick2!u@h"), "nick!*@* matched nick2");
	CHECK(irc_match("**a**", "bab"), "**a**");
	CHECK(irc_match("*a", "aaaa"), "*a vs aaaa");
	CHECK(!irc_match("*a", "aaab"), "*a matched aaab");
	CHECK(irc_match("a*", "a"), "a* vs a");
	CHECK(irc_match("*?", "x"), "*? vs x");
	CHECK(!irc_match("*?", ""), "*? matched empty");
	CHECK(irc_match("*a*b*c", "xxaxxbxxc"), "*a*b*c simple");
	CHECK(irc_match("*a*b*c", "abcabcabc"), "*a*b*c abcabcabc");
	CHECK(!irc_match("*a*b*c", "abcabcab"), "*a*b*c matched abcabcab");
	CHECK(irc_match("a*b?c*d", "aXXbYcZZd"), "a*b?c*d");
	CHECK(irc_match("*.*.*", "1.2.3"), "*.*.*");
	report("match_basic");

	/* Backtracking on long subjects: must finish fast and be right. */
	for (i = 0; i < sizeof(longs) - 1; i++)
		longs[i] = 'a';
	longs[sizeof(longs) - 1] = '\0';
	CHECK(!irc_match("*a*a*a*a*a*a*a*a*a*a*b", longs),
	    "many stars matched a string without b");
	CHECK(irc_match("*a*a*a*a*a*a*a*a*a*a*a", longs),
	    "many stars vs all a");
	CHECK(!irc_match("*a*b*c", longs), "*a*b*c matched aaaa...");
	longs[2000] = 'b';
	longs[sizeof(longs) - 2] = 'c';
	CHECK(irc_match("*a*b*c", longs), "*a*b*c vs a..b..c");
	CHECK(!irc_match("*a*b*cd", longs), "*a*b*cd matched");
	CHECK(irc_match("a*?b*c", longs), "a*?b*c");
	report("match_backtracking_long");

	conf->casemapping = CASEMAP_RFC1459;
	CHECK(irc_match("a[*", "A{x"), "rfc1459 match a[* vs A{x");
	CHECK(irc_match("*|*", "x\\y"), "rfc1459 match *|* vs x\\y");
	conf->casemapping = CASEMAP_ASCII;
	CHECK(!irc_match("a[*", "a{x"), "ascii match a[* vs a{x");
	report("match_casemapping");
	conf->casemapping = saved;
}

/* ---- names ---- */

static void
t_nick_valid(void)
{
	unsigned saved = conf->limits.nicklen;
	char n[NICKLEN_MAX + 2];

	CHECK(irc_nick_valid("alice"), "alice");
	CHECK(irc_nick_valid("Alice_2"), "Alice_2");
	CHECK(irc_nick_valid("a-b"), "a-b");
	CHECK(irc_nick_valid("[bot]"), "[bot]");
	CHECK(irc_nick_valid("`x"), "`x");
	CHECK(irc_nick_valid("^_^"), "^_^");
	CHECK(irc_nick_valid("{x}|y\\"), "{x}|y\\");
	CHECK(irc_nick_valid("x"), "one letter");
	CHECK(!irc_nick_valid(""), "empty accepted");
	CHECK(!irc_nick_valid("1abc"), "leading digit accepted");
	CHECK(!irc_nick_valid("-abc"), "leading dash accepted");
	CHECK(!irc_nick_valid("#chan"), "leading # accepted");
	CHECK(!irc_nick_valid(":x"), "leading : accepted");
	CHECK(!irc_nick_valid("a b"), "space accepted");
	CHECK(!irc_nick_valid("a,b"), "comma accepted");
	CHECK(!irc_nick_valid("a!b"), "! accepted");
	CHECK(!irc_nick_valid("a@b"), "@ accepted");
	CHECK(!irc_nick_valid("a*"), "* accepted");
	CHECK(!irc_nick_valid("a?"), "? accepted");
	CHECK(!irc_nick_valid("a.b"), ". accepted");
	CHECK(!irc_nick_valid("a$b"), "$ accepted");
	CHECK(!irc_nick_valid("\xc3\xa9t\xc3\xa9"), "non-ASCII accepted");
	CHECK(!irc_nick_valid("a\x01"), "control char accepted");
	report("nick_valid_chars");

	conf->limits.nicklen = 9;
	CHECK(irc_nick_valid("abcdefghi"), "9 chars with nicklen 9");
	CHECK(!irc_nick_valid("abcdefghij"), "10 chars with nicklen 9");
	conf->limits.nicklen = NICKLEN_MAX;
	memset(n, 'a', NICKLEN_MAX);
	n[NICKLEN_MAX] = '\0';
	CHECK(irc_nick_valid(n), "NICKLEN_MAX chars");
	n[NICKLEN_MAX] = 'a';
	n[NICKLEN_MAX + 1] = '\0';
	CHECK(!irc_nick_valid(n), "NICKLEN_MAX+1 chars");
	conf->limits.nicklen = saved;
	memset(n, 'b', saved);
	n[saved] = '\0';
	CHECK(irc_nick_valid(n), "default nicklen (%u) chars", saved);
	n[saved] = 'b';
	n[saved + 1] = '\0';
	CHECK(!irc_nick_valid(n), "default nicklen + 1 chars");
	report("nick_valid_length");
}

static void
t_chan_valid(void)
{
	unsigned saved = conf->limits.channellen;
	char n[CHANLEN_MAX + 2];

	CHECK(irc_chan_valid("#a"), "#a");
	CHECK(irc_chan_valid("&local"), "&local");
	CHECK(irc_chan_valid("#Chan-Name_1.2"), "#Chan-Name_1.2");
	CHECK(irc_chan_valid("##double"), "##double");
	CHECK(irc_chan_valid("#caf\xc3\xa9"), "UTF-8 channel name");
	CHECK(!irc_chan_valid("#"), "# alone accepted");
	CHECK(!irc_chan_valid(""), "empty accepted");
	CHECK(!irc_chan_valid("chan"), "no prefix accepted");
	CHECK(!irc_chan_valid("+chan"), "+ prefix accepted");
	CHECK(!irc_chan_valid("!chan"), "! prefix accepted");
	CHECK(!irc_chan_valid("#a b"), "space accepted");
	CHECK(!irc_chan_valid("#a,b"), "comma accepted");
	CHECK(!irc_chan_valid("#a\ab"), "BEL accepted");
	report("chan_valid_chars");

	conf->limits.channellen = 5;
	CHECK(irc_chan_valid("#abcd"), "5 chars with channellen 5");
	CHECK(!irc_chan_valid("#abcde"), "6 chars with channellen 5");
	conf->limits.channellen = saved;
	n[0] = '#';
	memset(n + 1, 'c', saved - 1);
	n[saved] = '\0';
	CHECK(irc_chan_valid(n), "default channellen (%u) chars", saved);
	n[saved] = 'c';
	n[saved + 1] = '\0';
	CHECK(!irc_chan_valid(n), "default channellen + 1 chars");
	report("chan_valid_length");
}

static void
t_mask_normalize(void)
{
	char out[256];

	irc_mask_normalize(out, sizeof(out), "nick");
	check_str("nick", out, "nick!*@*");
	irc_mask_normalize(out, sizeof(out), "user@host");
	check_str("user@host", out, "*!user@host");
	irc_mask_normalize(out, sizeof(out), "*@10.0.0.*");
	check_str("*@10.0.0.*", out, "*!*@10.0.0.*");
	irc_mask_normalize(out, sizeof(out), "nick!user");
	check_str("nick!user", out, "nick!user@*");
	irc_mask_normalize(out, sizeof(out), "nick!user@host");
	check_str("full", out, "nick!user@host");
	irc_mask_normalize(out, sizeof(out), "*!*@*");
	check_str("*!*@*", out, "*!*@*");
	irc_mask_normalize(out, sizeof(out), "*");
	check_str("*", out, "*!*@*");
	report("mask_normalize");

	/* Truncation never overruns and stays terminated. */
	memset(out, 'Z', sizeof(out));
	irc_mask_normalize(out, 6, "abcdefgh");
	CHECK(strlen(out) == 5, "truncated length %zu, want 5", strlen(out));
	CHECK(out[6] == 'Z', "wrote past dstsz");
	report("mask_normalize_truncates");
}

/* ---- hash table ---- */

struct item {
	struct hent	 h;
	int		 v;
};

static void
t_htab(void)
{
	enum { N = 5000 };
	static struct item items[N];
	struct htab t;
	struct hent *e;
	char key[32];
	int i, missing = 0, wrong = 0;

	htab_init(&t);
	CHECK(htab_get(&t, "nothing") == NULL, "get on empty table");
	for (i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "key%d", i);
		if ((items[i].h.key = xstrdup(key)) == NULL) {
			bad("xstrdup failed");
			break;
		}
		items[i].v = i;
		if (htab_put(&t, &items[i].h) == -1) {
			bad("htab_put failed at %d", i);
			break;
		}
	}
	CHECK(t.n == N, "n = %zu, want %d", t.n, N);
	CHECK(t.nb >= N / 4, "table did not grow: %zu buckets for %d", t.nb,
	    N);
	for (i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "key%d", i);
		e = htab_get(&t, key);
		if (e == NULL)
			missing++;
		else if (((struct item *)e)->v != i)
			wrong++;
	}
	CHECK(missing == 0 && wrong == 0, "after growth: %d missing, %d wrong",
	    missing, wrong);
	CHECK(htab_get(&t, "key") == NULL, "found a key never put");
	CHECK(htab_get(&t, "key5000") == NULL, "found key5000");
	report("htab_put_get_grow");

	/* Delete the even ones; the odd ones stay. */
	for (i = 0; i < N; i += 2)
		htab_del(&t, &items[i].h);
	CHECK(t.n == N / 2, "n = %zu after deleting half, want %d", t.n,
	    N / 2);
	missing = wrong = 0;
	for (i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "key%d", i);
		e = htab_get(&t, key);
		if (i % 2 == 0 && e != NULL)
			wrong++;
		if (i % 2 == 1 && (e == NULL || ((struct item *)e)->v != i))
			missing++;
	}
	CHECK(wrong == 0 && missing == 0, "after deletes: %d deleted still "
	    "found, %d kept missing", wrong, missing);
	/* Put them back: found again. */
	for (i = 0; i < N; i += 2)
		if (htab_put(&t, &items[i].h) == -1)
			bad("re-put failed");
	missing = 0;
	for (i = 0; i < N; i++) {
		snprintf(key, sizeof(key), "key%d", i);
		if (htab_get(&t, key) != &items[i].h)
			missing++;
	}
	CHECK(missing == 0 && t.n == N, "after re-put: %d missing, n=%zu",
	    missing, t.n);
	report("htab_del");

	htab_free(&t);
	CHECK(t.nb == 0 && t.n == 0 && t.b == NULL, "htab_free did not reset");
	CHECK(htab_get(&t, "key1") == NULL, "get after free");
	for (i = 0; i < N; i++)
		free(items[i].h.key);
	report("htab_free");
}

/* ---- irc_vformat ---- */

static size_t
vf(char *buf, size_t sz, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = irc_vformat(buf, sz, fmt, ap);
	va_end(ap);
	return n;
}

/* Whether s[0..n) is complete, well-formed UTF-8 (no cut sequence). */
static bool
utf8_complete(const unsigned char *s, size_t n)
{
	size_t i = 0, k, need;

	while (i < n) {
		if (s[i] < 0x80)
			need = 0;
		else if ((s[i] & 0xe0) == 0xc0)
			need = 1;
		else if ((s[i] & 0xf0) == 0xe0)
			need = 2;
		else if ((s[i] & 0xf8) == 0xf0)
			need = 3;
		else
			return false;
		for (k = 1; k <= need; k++)
			if (i + k >= n || (s[i + k] & 0xc0) != 0x80)
				return false;
		i += need + 1;
	}
	return true;
}

static void
t_vformat(void)
{
	static const char *chars[] = { "\xc3\xa9", "\xe2\x82\xac",
	    "\xf0\x9d\x84\x9e" };	/* 2, 3 and 4 byte sequences */
	char buf[IRC_LINE_MAX + 1], text[2048];
	size_t n, off, i, c, pad;
	char *crlf;

	n = vf(buf, sizeof(buf), ":%s PRIVMSG %s :%s", "a!b@c", "bob", "hi");
	CHECK(n == strlen(":a!b@c PRIVMSG bob :hi") + 2, "short length %zu",
	    n);
	CHECK(n >= 2 && memcmp(buf + n - 2, "\r\n", 2) == 0,
	    "short line not CRLF-terminated");
	CHECK(memcmp(buf, ":a!b@c PRIVMSG bob :hi\r\n", n) == 0,
	    "short line content");
	report("vformat_short");

	/* ASCII, exactly at and over the limit. */
	memset(text, 'x', 510);
	text[510] = '\0';
	n = vf(buf, sizeof(buf), "%s", text);
	CHECK(n == 512, "510 chars: length %zu, want 512", n);
	CHECK(memcmp(buf + 510, "\r\n", 2) == 0, "510 chars: no CRLF at end");
	memset(text, 'x', 1500);
	text[1500] = '\0';
	n = vf(buf, sizeof(buf), "%s", text);
	CHECK(n == 512, "1500 chars: length %zu, want 512", n);
	CHECK(memcmp(buf + 510, "\r\n", 2) == 0, "1500 chars: no CRLF");
	crlf = memchr(buf, '\r', n);
	CHECK(crlf == buf + 510, "CR before the end");
	report("vformat_truncates_at_510");

	/* Multi-byte text cut at every alignment: never inside a sequence. */
	for (c = 0; c < 3; c++)
		for (pad = 0; pad < 4; pad++) {
			size_t clen = strlen(chars[c]);

			off = 0;
			for (i = 0; i < pad; i++)
				text[off++] = 'p';
			while (off + clen < sizeof(text) - 1) {
				memcpy(text + off, chars[c], clen);
				off += clen;
			}
			text[off] = '\0';
			n = vf(buf, sizeof(buf), "%s", text);
			if (n > 512 || n < 2) {
				bad("char %zu pad %zu: length %zu", c, pad, n);
				continue;
			}
			if (memcmp(buf + n - 2, "\r\n", 2) != 0)
				bad("char %zu pad %zu: no CRLF at end", c, pad);
			if (n < 512 - 1 - clen)
				bad("char %zu pad %zu: cut too early (%zu)", c,
				    pad, n);
			if (!utf8_complete((unsigned char *)buf, n - 2))
				bad("char %zu pad %zu: UTF-8 sequence split "
				    "(len %zu)", c, pad, n);
			if (memchr(buf, '\r', n - 2) != NULL ||
			    memchr(buf, '\n', n - 2) != NULL)
				bad("char %zu pad %zu: CR/LF inside", c, pad);
		}
	report("vformat_utf8_safe_cut");

	/* A smaller buffer than a line: still CRLF-terminated, in bounds. */
	{
		char small[40];

		memset(small, 'Q', sizeof(small));
		memset(text, 'y', 100);
		text[100] = '\0';
		n = vf(small, 32, "%s", text);
		CHECK(n <= 32, "small buffer: length %zu > 32", n);
		CHECK(n >= 2 && memcmp(small + n - 2, "\r\n", 2) == 0,
		    "small buffer: no CRLF");
		CHECK(small[32] == 'Q', "small buffer: wrote past sz");
	}
	report("vformat_small_buffer");
}

/*
 * A user with no session (always-on, every device away; later a user
 * of another server) is a channel member like any other: fan-out,
 * replies, peers' events and the questions asked about another user
 * (caps, address, mask match) must pass it by, never dereference its
 * sessions.
 */
static void
t_sessionless(void)
{
	struct client u, v;
	struct session vs;
	struct chan *ch;
	struct irc_ev ev;
	struct mask mk = { NULL, "u!*@*", "x", 0 };
	char buf[IRC_OUT_MAX];

	htab_init(&irc.nicks);
	htab_init(&irc.chans);
	memset(&u, 0, sizeof(u));
	memset(&v, 0, sizeof(v));
	memset(&vs, 0, sizeof(vs));
	vs.x = IRC_SX_NONE;
	u.ext = v.ext = IRC_CX_NONE;
	u.nick = "u";
	v.nick = "v";
	u.user = v.user = "~x";
	u.host = v.host = "h";
	u.flags = v.flags = CF_REG;
	vs.user = &v;		/* a session net is done with: conn NULL */
	vs.caps = CAP_MESSAGE_TAGS;
	v.sess = &vs;
	if ((ch = irc_chan_create("#c")) == NULL ||
	    irc_member_add(ch, &u, MEMB_OP) == NULL ||
	    irc_member_add(ch, &v, 0) == NULL) {
		bad("out of memory");
		report("sessionless_user");
		return;
	}
	CHECK(irc_sess(&u) == NULL, "irc_sess of a sessionless user");
	CHECK(irc_user_caps(&u) == 0, "caps of a sessionless user");
	CHECK(irc_user_caps(&v) == CAP_MESSAGE_TAGS, "caps of v");
	CHECK(irc_user_sessions(&u) == 0, "sessions of u");
	CHECK(irc_client_ip(&u) == NULL, "ip of a sessionless user");
	CHECK(irc_client_certfp(&u) == NULL, "certfp of a sessionless user");
	CHECK(irc_masks_match(&mk, &u), "a mask matches a sessionless user");
	CHECK(strcmp(irc_member_prefix(ch->members->cnext, &v), "@") == 0,
	    "prefix of u");
	/* events to and about it, replies to it: delivered to nobody */
	irc_chan_event(ch, &v, NULL, ":v!~x@h PRIVMSG #c :hi");
	irc_chan_send(ch, NULL, ":irc.test MODE #c +o u");
	irc_peers_event(&u, true, ":u!~x@h AWAY :gone");
	irc_peers_cap_send(&u, true, CAP_AWAY_NOTIFY, ":u!~x@h AWAY");
	irc_ev_init(&ev, &v, true, ":v!~x@h PRIVMSG u :hi");
	irc_ev_send(&ev, &u);
	irc_ev_send_unlabeled(&ev, &u);
	irc_ev_echo(&ev, &u);
	CHECK(irc_ev_format(&ev, &u, buf, sizeof(buf)) > 0,
	    "an event formatted for a sessionless user");
	irc_ev_done(&ev);
	irc_send(&u, ":irc.test NOTICE u :hello");
	irc_numeric(&u, 1, ":Welcome");
	irc_fail(&u, "FAIL", "NICK", "X", ":no");
	irc_label_begin(&u, "label=1");
	irc_label_end(&u);
	while (u.chans != NULL)
		irc_member_del(u.chans);
	while (v.chans != NULL)
		irc_member_del(v.chans);
	CHECK(irc_chan_find("#c") == NULL, "the emptied channel went");
	report("sessionless_user");
}

/*
 * A user's rare part (irc_state.h): none until a field is written,
 * read as all zero meanwhile, and freed once nothing in it is in use,
 * including fields that outlive their use (a nick enforcement over).
 */
static void
t_client_ext(void)
{
	struct client u, v;

	memset(&u, 0, sizeof(u));
	memset(&v, 0, sizeof(v));
	u.ext = v.ext = IRC_CX_NONE;
	u.nick = "u";
	v.nick = "v";
	CHECK(u.ext->away == NULL && u.ext->naccepts == 0,
	    "a user with no rare part reads as zero");
	irc_cx_trim(&u);
	CHECK(u.ext == IRC_CX_NONE, "trim of none");
	if (irc_cx(&u) == NULL) {
		bad("out of memory");
		report("client_ext");
		return;
	}
	u.ext->snomask = 1;
	irc_cx_trim(&u);
	CHECK(u.ext != IRC_CX_NONE, "a part in use is kept");
	u.ext->snomask = 0;
	irc_cx_trim(&u);
	CHECK(u.ext == IRC_CX_NONE, "a part no longer used goes");
	CHECK(irc_accept_add(&u, &v) == 0, "accept_add");
	CHECK(u.ext != IRC_CX_NONE && v.ext != IRC_CX_NONE &&
	    irc_accept_has(&u, &v),
	    "accept: both have the part");
	irc_cx_trim(&u);
	irc_cx_trim(&v);
	CHECK(u.ext != IRC_CX_NONE && v.ext != IRC_CX_NONE,
	    "trim of a part in use");
	CHECK(irc_accept_del(&u, &v), "accept_del");
	irc_cx_trim(&u);
	irc_cx_trim(&v);
	CHECK(u.ext == IRC_CX_NONE && v.ext == IRC_CX_NONE,
	    "trim once the accept went");
	report("client_ext");
}

/* ---- util_milli, util_digits, util_hexbyte (scanf-free parsing) ---- */

static void
t_util_numbers(void)
{
	static const struct { const char *in; int64_t want; } m[] = {
		{ "0", 0 }, { "12", 12000 }, { "12.5", 12500 }, { ".25", 250 },
		{ "1.2345", 1234 }, { "1700000000.123", INT64_C(1700000000123) },
		{ "5.", 5000 }, { "", -1 }, { ".", -1 }, { "-1", -1 },
		{ "1e3", -1 }, { " 1", -1 }, { "1.2.3", -1 },
		{ "999999999999999", INT64_C(999999999999999000) },
		{ "1000000000000000", -1 }, { "99999999999999999999", -1 },
	};
	size_t i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		CHECK(util_milli(m[i].in) == m[i].want, "util_milli(\"%s\") = "
		    "%lld, want %lld", m[i].in, (long long)util_milli(m[i].in),
		    (long long)m[i].want);
	CHECK(util_digits("2026x", 4) == 2026, "util_digits 2026");
	CHECK(util_digits("20a6", 4) == -1, "util_digits 20a6");
	CHECK(util_digits("0", 0) == 0, "util_digits empty");
	CHECK(util_hexbyte("ff") == 255 && util_hexbyte("0A") == 10,
	    "util_hexbyte ff/0A");
	CHECK(util_hexbyte("g0") == -1 && util_hexbyte("1") == -1,
	    "util_hexbyte g0/1");
	report("util_numbers");
}

int
main(void)
{
	char *errs = NULL;

	if ((conf = conf_load(NULL, &errs)) == NULL) {
		printf("FAIL conf_load_defaults: %s\n", errs ? errs : "?");
		return 1;
	}
	t_parse_simple();
	t_parse_tags_source();
	t_parse_middle();
	t_parse_trailing();
	t_parse_spaces();
	t_parse_15();
	t_parse_bad();
	t_fold();
	t_match();
	t_nick_valid();
	t_chan_valid();
	t_mask_normalize();
	t_htab();
	t_vformat();
	t_sessionless();
	t_client_ext();
	t_util_numbers();
	conf_free(conf);
	return nfail ? 1 : 0;
}
