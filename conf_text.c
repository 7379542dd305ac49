/*
 * conf_text.c: the annotated default config that `ergo defaultconfig`
 * prints (and ergo.conf is), made from conf_keys.c's tables: every key
 * with its default and description, commented-out examples.
 */
#include <stdio.h>
#include <string.h>

#include "ergo.h"
#include "conf.h"
#include "conf_int.h"

static char	 deftext[32768];	/* the text is about 18k */
static size_t	 deflen;

static void
dt_put(const char *s, size_t n)
{
	if (n > sizeof(deftext) - 1 - deflen)
		n = sizeof(deftext) - 1 - deflen;	/* a unit test catches it */
	memcpy(deftext + deflen, s, n);
	deflen += n;
	deftext[deflen] = '\0';
}

static void
dt_puts(const char *s)
{
	dt_put(s, strlen(s));
}

static void
dt_indent(int depth)
{
	while (depth-- > 0)
		dt_puts("\t");
}

/* Each line of text as a comment. */
static void
dt_comment(int depth, const char *text)
{
	size_t n;

	while (text != NULL && *text != '\0') {
		n = strcspn(text, "\n");
		dt_indent(depth);
		dt_puts("# ");
		dt_put(text, n);
		dt_puts("\n");
		text += n;
		if (*text == '\n')
			text++;
	}
}

/* A value as the parser reads it back: bare if it can be, else quoted. */
static void
dt_value(const char *s)
{
	bool bare = *s != '\0' && *s != '#';
	const char *q;

	for (q = s; *q != '\0'; q++)
		if (lex_delim((unsigned char)*q) || *q == '\\')
			bare = false;
	if (bare) {
		dt_puts(s);
		return;
	}
	dt_puts("\"");
	for (q = s; *q != '\0'; q++) {
		if (*q == '"' || *q == '\\')
			dt_puts("\\");
		dt_put(q, 1);
	}
	dt_puts("\"");
}

static void
dt_block(const struct block *b, int depth)
{
	const struct key *k;
	const char *s;
	size_t n;

	for (k = b->keys; k->name != NULL; k++) {
		if (depth == 0)
			dt_puts("\n");
		dt_comment(depth, k->help);
		switch (k->type) {
		case K_BLOCK:
		case K_SWITCH:
			dt_comment(depth, k->example);
			dt_indent(depth);
			dt_puts(k->name);
			dt_puts(" {\n");
			dt_block(k->aux, depth + 1);
			dt_indent(depth);
			dt_puts("}\n");
			continue;
		case K_LOG:
			dt_comment(depth, k->example);
			dt_puts(k->name);
			dt_puts(" {\n");
			dt_block(k->aux, depth + 1);
			dt_puts("}\n");
			continue;
		case K_OPER:
		case K_OPERCLASS:
		case K_LINK:
		case K_WEBIRC:
			break;
		case K_LISTEN:
			for (s = k->def; *s != '\0'; s += n) {
				s += strspn(s, " ");
				n = strcspn(s, " ");
				dt_indent(depth);
				dt_puts(k->name);
				dt_puts(" ");
				dt_put(s, n);
				dt_puts("\n");
			}
			break;
		default:
			if (k->def == NULL)
				break;
			dt_indent(depth);
			dt_puts(k->name);
			dt_puts(" ");
			dt_value(k->def);
			dt_puts("\n");
			break;
		}
		dt_comment(depth, k->example);
	}
}

/*
 * The annotated default config (`ergo defaultconfig`): built from the
 * key tables once, so it always parses back to exactly the defaults.
 */
const char *
conf_default_text(void)
{
	if (deflen > 0)
		return deftext;
	dt_puts(
	    "# ergo.conf: the default configuration, annotated.\n"
	    "# Printed by `ergo defaultconfig`; every key shows its default.\n"
	    "#\n"
	    "# A statement is `key value`, one a line; blocks are\n"
	    "# `name [label] { ... }` and nest; several statements may share\n"
	    "# a line, as in `tls { cert a.pem  key b.pem }`. Values are bare\n"
	    "# words or \"quoted strings\" (escapes: \\\" and \\\\).\n"
	    "# Sizes: 512, 96k, 1m. Durations: 30s, 2m, 1h30m, 1d, 500ms;\n"
	    "# a plain number is seconds. Booleans: yes or no. A comment\n"
	    "# runs from a # that starts a word to the end of the line.\n"
	    "#\n"
	    "# The environment overrides any key, e.g. for containers:\n"
	    "#   ERGO__SERVER__NAME=irc.example.org\n"
	    "#   ERGO__SERVER__FAKELAG__ENABLED=no\n"
	    "#   ERGO__SERVER__LISTEN=\":6667 :6697\"  (replaces every listen)\n"
	    "# Relative paths of files the server reads (motd, cert, key) are\n"
	    "# taken from this file's directory; the datastore and log file\n"
	    "# from the working directory.\n");
	dt_block(&top_block, 0);
	return deftext;
}
