/*
 * irc_histserv.c: HistServ (PRIVMSG HistServ, HISTSERV) with Ergo's
 * syntax and wording: PLAY a channel's or one's direct messages' history
 * as notices, and for opers DELETE one message and FORGET an account's.
 * Part of the services (irc_serv_int.h); the history itself is
 * irc_hist.c's, reached through its hooks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "irc_serv.h"
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

static void hist_help(struct client *, int, char **);

static const struct ns_cmd hist_cmds[] = {
	{ "DELETE", hist_delete },
	{ "FORGET", hist_forget },
	{ "HELP", hist_help },
	{ "PLAY", hist_play },
};

static const struct service histserv = {
	"HistServ", "HISTSERV", hist_cmds, sizeof(hist_cmds) /
	    sizeof(hist_cmds[0])
};

static void
hist_help(struct client *c, int argc, char **argv)
{
	serv_help(c, &histserv, argc, argv);
}

void
hist_command(struct client *c, const char *text)
{
	serv_command(c, &histserv, text);
}

/* HISTSERV */
void
h_histserv(struct client *c, struct msg *m)
{
	char text[IRC_LINE_MAX];

	serv_words(m, text, sizeof(text));
	hist_command(c, text);
}
