/*
 * irc_histserv.c: HistServ (PRIVMSG HistServ, HISTSERV) with Ergo's
 * syntax and wording: PLAY a channel's or one's direct messages' history
 * as notices, and for opers DELETE one message, FORGET an account's and
 * EXPORT them as JSON to a file.
 * Part of the services (irc_serv_int.h); the history itself is
 * irc_hist.c's, reached through its hooks.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "store.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_hist.h"
#include "irc_oper.h"
#include "irc_serv_int.h"
#include "irc_histserv.h"

#define HIST_PLAY_DEFAULT	100	/* Ergo's PLAY without a limit */

static void hist_reply(struct client *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
hist_reply(struct client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	serv_vreply(c, "HistServ", fmt, ap);
	va_end(ap);
}

/* An oper whose class has Ergo's history capability. */
static bool
hist_oper(struct client *c)
{
	if (irc_oper_can(c, "history"))
		return true;
	hist_reply(c, "Command restricted");
	return false;
}

static bool
hist_enabled(struct client *c)
{
	if (conf->history.enabled && irc_hooks.hist_play != NULL)
		return true;
	hist_reply(c, "This command has been disabled by the server "
	    "administrators");
	return false;
}

/* One message of PLAY: "15:04:05 <nick> text", as Ergo renders it. */
static void
hist_play_line(void *arg, const struct hist_info *hi, const char *text)
{
	char nick[NICKLEN_MAX + 1], when[16];
	time_t t = (time_t)(hi->ms / 1000);
	struct tm tm;
	size_t n = strcspn(hi->source, "!");

	if (n > NICKLEN_MAX)
		n = NICKLEN_MAX;
	memcpy(nick, hi->source, n);
	nick[n] = '\0';
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	hist_reply(arg, "%s <%s> %s", when, nick, text);
}

/* PLAY <target> [limit]: a channel c is in (or any, for opers), or c's
 * direct messages with a nick. */
static void
hist_play(struct client *c, int argc, char **argv)
{
	struct chan *ch = NULL;
	unsigned limit = HIST_PLAY_DEFAULT;
	char *end;
	unsigned long v;

	if (!hist_enabled(c))
		return;
	if (argc < 1) {
		hist_reply(c, "Syntax: PLAY <target> [limit]");
		return;
	}
	if (argc > 1) {
		v = strtoul(argv[1], &end, 10);
		if (*end == '\0' && v > 0)
			limit = v > UINT32_MAX ? UINT32_MAX : (unsigned)v;
	}
	if (limit > conf->history.maxmessages)
		limit = conf->history.maxmessages;
	if (argv[0][0] == '#' || argv[0][0] == '&') {
		if ((ch = irc_chan_find(argv[0])) == NULL ||
		    (irc_member_find(ch, c) == NULL &&
		    !irc_oper_can(c, "history"))) {
			hist_reply(c, "Could not retrieve history");
			return;
		}
	} else if (!irc_nick_valid(argv[0])) {
		hist_reply(c, "Could not retrieve history");
		return;
	}
	irc_hooks.hist_play(ch, c, ch != NULL ? NULL : argv[0], limit,
	    hist_play_line, c);
	hist_reply(c, "End of history playback");
}

/* DELETE <target> <msgid> (opers; Ergo's allow-individual-delete is
 * off by default): a channel's message, or a user's copy of one. */
static void
hist_delete(struct client *c, int argc, char **argv)
{
	struct hist_info hi;
	struct chan *ch = NULL;
	struct client *t = NULL;

	if (!hist_enabled(c))
		return;
	if (argc < 2) {
		hist_reply(c, "Syntax: DELETE <target> <msgid>");
		return;
	}
	if (!irc_oper_can(c, "history")) {
		hist_reply(c, "Insufficient privileges");
		return;
	}
	if (argv[0][0] == '#' || argv[0][0] == '&')
		ch = irc_chan_find(argv[0]);
	else if ((t = irc_client_find(argv[0])) != NULL &&
	    !(t->flags & CF_REG))
		t = NULL;
	if ((ch == NULL && t == NULL) || irc_hooks.hist_redact == NULL ||
	    !irc_hooks.hist_redact(ch, t, NULL, argv[1], true, &hi)) {
		hist_reply(c, "Error deleting message: no such message");
		return;
	}
	log_info("opers", "Operator %s deleted message %s of %s", c->nick,
	    argv[1], argv[0]);
	hist_reply(c, "Successfully deleted message");
}

/* FORGET <account> (opers): every message the account sent. */
static void
hist_forget(struct client *c, int argc, char **argv)
{
	struct store_account a;
	char fz[NICKLEN_MAX + 1];
	const char *name;
	size_t n;

	if (!hist_enabled(c) || !hist_oper(c))
		return;
	if (argc < 1 || irc_hooks.hist_forget_account == NULL) {
		hist_reply(c, "Syntax: FORGET <account>");
		return;
	}
	name = argv[0];
	irc_fold(fz, name, sizeof(fz));
	if (!irc_nick_valid(name) || store_account_get(fz, &a) != 1)
		hist_reply(c, "Could not look up account name, proceeding "
		    "anyway");
	else
		name = a.name;
	n = irc_hooks.hist_forget_account(name);
	log_info("opers", "Operator %s made history forget account %s (%zu "
	    "kept messages)", c->nick, name, n);
	hist_reply(c, "Enqueued account %s for message deletion", name);
}

/* ---- EXPORT ---- */

/* A msgid already written, so a message held in memory and in the
 * datastore, or a direct message's two copies, is written once. */
struct seen {
	struct hent	 h;
	struct seen	*next;
};

struct export {
	FILE		*f;
	struct htab	 ids;
	struct seen	*all;
	size_t		 n;
	bool		 nomem;
};

/* s as a JSON string (RFC 8259): quotes, backslashes and controls
 * escaped; the rest is UTF-8 already (every line is checked). */
static void
json_str(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

/* One message: a line of JSON with the field names of Ergo's export
 * (its history.Item), Type as a name rather than Ergo's number. */
static void
export_row(void *arg, const struct store_hrow *r)
{
	static const char *const kinds[] = { "PRIVMSG", "NOTICE", "TAGMSG" };
	struct export *x = arg;
	struct seen *s;
	size_t n;

	if (r->kind < HK_PRIVMSG || r->kind > HK_TAGMSG || x->nomem ||
	    htab_get(&x->ids, r->msgid) != NULL)
		return;
	n = strlen(r->msgid) + 1;
	if ((s = malloc(sizeof(*s) + n)) == NULL) {
		x->nomem = true;
		return;
	}
	s->h.key = (char *)(s + 1);
	memcpy(s->h.key, r->msgid, n);
	if (htab_put(&x->ids, &s->h) == -1) {
		free(s);
		x->nomem = true;
		return;
	}
	s->next = x->all;
	x->all = s;
	fprintf(x->f, "{\"Type\":\"%s\",\"Nick\":", kinds[r->kind]);
	json_str(x->f, r->source);
	fputs(",\"AccountName\":", x->f);
	json_str(x->f, r->acct_tag != NULL ? r->acct_tag : "");
	fputs(",\"Target\":", x->f);
	json_str(x->f, r->target);
	fputs(",\"Message\":{\"Message\":", x->f);
	json_str(x->f, r->text);
	fputs(",\"Msgid\":", x->f);
	json_str(x->f, r->msgid);
	fputs(",\"Time\":", x->f);
	json_str(x->f, r->time);
	fputc('}', x->f);
	if (r->ctags != NULL && r->ctags[0] != '\0') {
		fputs(",\"ClientOnlyTags\":", x->f);
		json_str(x->f, r->ctags);
	}
	if (r->bot)
		fputs(",\"IsBot\":true", x->f);
	fputs("}\n", x->f);
	x->n++;
}

/*
 * EXPORT <account> (opers): every message the account sent, kept and
 * saved, one JSON object a line, into a new file of server.output-path
 * (the working directory if unset), as Ergo does; the oper is told its
 * name. Written at once: the loop waits for it (store.c reads the rows
 * in one scan).
 */
static void
hist_export(struct client *c, int argc, char **argv)
{
	struct store_account a;
	struct export x;
	struct seen *s;
	char fz[NICKLEN_MAX + 1], name[NICKLEN_MAX + 1], path[4200];
	char file[96], when[40];
	unsigned char r[16];
	const char *dir = conf->output_path;
	struct tm tm;
	time_t now = ergo_now;
	int fd, i, ok;

	if (!hist_enabled(c) || !hist_oper(c))
		return;
	if (argc < 1 || irc_hooks.hist_export_account == NULL) {
		hist_reply(c, "Syntax: EXPORT <account>");
		return;
	}
	if (!irc_nick_valid(argv[0])) {
		hist_reply(c, "Invalid account name");
		return;
	}
	irc_fold(fz, argv[0], sizeof(fz));
	snprintf(name, sizeof(name), "%s", store_account_get(fz, &a) == 1 ?
	    a.name : fz);
	/* no account name in the file's name: nothing to escape */
	if (ergo_random(r, sizeof(r)) == -1)
		memset(r, 0, sizeof(r));
	for (i = 0; i < 16; i++)
		snprintf(file + 2 * i, 3, "%02x", r[i]);
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(file + 32, sizeof(file) - 32, "-%s.%03dZ.json", when,
	    (int)(irc_time_now_ms() % 1000));
	if (dir != NULL)
		snprintf(path, sizeof(path), "%s/%s", dir, file);
	else
		snprintf(path, sizeof(path), "%s", file);
	memset(&x, 0, sizeof(x));
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600)) == -1 || (x.f = fdopen(fd, "w")) == NULL) {
		hist_reply(c, "Error opening export file: %s", strerror(errno));
		log_warn("opers", "HistServ EXPORT of %s: %s", name, path);
		if (fd != -1)
			(void)close(fd);
		return;
	}
	hist_reply(c, "Started exporting data for account %s to file %s",
	    name, path);
	htab_init(&x.ids);
	(void)irc_hooks.hist_export_account(name, export_row, &x);
	while ((s = x.all) != NULL) {
		x.all = s->next;
		free(s);
	}
	htab_free(&x.ids);
	ok = !x.nomem && !ferror(x.f);
	if (fclose(x.f) != 0)
		ok = 0;
	if (!ok) {
		hist_reply(c, "Error writing export file %s: %s", path,
		    x.nomem ? "out of memory" : strerror(errno));
		log_warn("opers", "HistServ EXPORT of %s: %s", name, path);
		(void)unlink(path);
		return;
	}
	log_info("opers", "Operator %s exported %zu messages of account %s "
	    "to %s", c->nick, x.n, name, path);
	hist_reply(c, "Data export for %s completed and written to %s", name,
	    path);
}

static void hist_help(struct client *, int, char **);

static const struct ns_cmd hist_cmds[] = {
	{ "DELETE", hist_delete },
	{ "EXPORT", hist_export },
	{ "FORGET", hist_forget },
	{ "HELP", hist_help },
	{ "PLAY", hist_play },
};

static struct service histserv = {
	"HistServ", "HISTSERV", hist_cmds, sizeof(hist_cmds) /
	    sizeof(hist_cmds[0]), NULL, 0
};

static void
hist_help(struct client *c, int argc, char **argv)
{
	serv_help(c, &histserv, argc, argv);
}


/* HISTSERV */
void
h_histserv(struct client *c, struct msg *m)
{
	char text[IRC_LINE_MAX];

	serv_words(m, text, sizeof(text));
	serv_command(c, &histserv, text);
}

void
irc_histserv_init(void)
{
	serv_register(&histserv);
}
