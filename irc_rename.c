/*
 * irc_rename.c: IRCv3 draft/channel-rename: RENAME <old> <new> [:reason]
 * by a channel operator (a registered channel's founder) or an IRC
 * operator with the chanreg capability. The channel keeps everything
 * but its name; members with the cap see RENAME, the others PART the
 * old name and JOIN the new one (with its topic and NAMES), unless only
 * the case changed. ChanServ, history, metadata and read markers
 * follow through the chan_renamed hook. For channels { rename-redirect }
 * after it, a JOIN of the old name is sent to the new one (the spec's
 * channel redirection). No SQL, no sockets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc_rename.h"
#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "store.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_num.h"
#include "irc_oper.h"

/* An old name and where its channel is now, until a time. */
struct redirect {
	struct redirect	*next;
	uint64_t	 until_ms;
	char		 old[CHANLEN_MAX + 1];	/* folded */
	char		 now[CHANLEN_MAX + 1];	/* as the channel is named */
};

static struct redirect	*redirects;	/* newest first */
static unsigned		 nredirects;

static void
redirect_drop(struct redirect **rp)
{
	struct redirect *r = *rp;

	*rp = r->next;
	free(r);
	nredirects--;
}

/*
 * ch, named old before, is now ch->name: redirections that led to old
 * lead to the new name, those from the new name go (it is a channel
 * again), and old leads to ch for channels { rename-redirect }; at most
 * max-rename-redirects, the oldest going first.
 */
static void
redirect_add(struct chan *ch, const char *old)
{
	char fold[CHANLEN_MAX + 1], fnew[CHANLEN_MAX + 1];
	char fnow[CHANLEN_MAX + 1];
	struct redirect **rp, *r;
	unsigned n = 0;

	irc_fold(fold, old, sizeof(fold));
	irc_fold(fnew, ch->name, sizeof(fnew));
	for (rp = &redirects; (r = *rp) != NULL; ) {
		irc_fold(fnow, r->now, sizeof(fnow));
		if (strcmp(fnow, fold) == 0)
			snprintf(r->now, sizeof(r->now), "%s", ch->name);
		if (strcmp(r->old, fnew) == 0 || strcmp(r->old, fold) == 0 ||
		    ergo_now_ms >= r->until_ms || ++n > conf->chan_rename_max)
			redirect_drop(rp);
		else
			rp = &r->next;
	}
	if (strcmp(fold, fnew) == 0 || conf->chan_rename_redirect == 0 ||
	    conf->chan_rename_max == 0)
		return;		/* a change of case leaves no old name */
	if (nredirects >= conf->chan_rename_max) {
		for (rp = &redirects; (*rp)->next != NULL; rp = &(*rp)->next)
			;
		redirect_drop(rp);
	}
	if ((r = malloc(sizeof(*r))) == NULL) {
		log_warnx("channels", "out of memory: no redirection of %s "
		    "to %s", old, ch->name);
		return;
	}
	r->until_ms = ergo_now_ms + (uint64_t)conf->chan_rename_redirect *
	    1000;
	snprintf(r->old, sizeof(r->old), "%s", fold);
	snprintf(r->now, sizeof(r->now), "%s", ch->name);
	r->next = redirects;
	redirects = r;
	nredirects++;
}

/*
 * join_renamed: a JOIN of name, which is no channel. If a RENAME left
 * it, a client with the cap gets FAIL JOIN CHANNEL_RENAMED (and joins
 * the new name itself), the others 470 and go on to the new name.
 */
static int
join_renamed(struct client *c, const char *name, char *to, size_t sz)
{
	char fold[CHANLEN_MAX + 1];
	struct redirect **rp, *r;

	irc_fold(fold, name, sizeof(fold));
	for (rp = &redirects; (r = *rp) != NULL; ) {
		if (ergo_now_ms >= r->until_ms) {
			redirect_drop(rp);
			continue;
		}
		if (strcmp(r->old, fold) == 0)
			break;
		rp = &r->next;
	}
	if (r == NULL)
		return 0;
	if (irc_sess(c)->caps & CAP_CHANNEL_RENAME) {
		irc_fail(c, "FAIL", "JOIN", "CHANNEL_RENAMED", "%s %s :The "
		    "channel has been renamed", name, r->now);
		return 1;
	}
	irc_numeric(c, ERR_LINKCHANNEL, "%s %s :The channel has been renamed",
	    name, r->now);
	snprintf(to, sz, "%s", r->now);
	return 2;
}

void
irc_rename_init(void)
{
	irc_hooks.join_renamed = join_renamed;
}

static const char *
echo(const char *s)
{
	return s[0] == '\0' || s[0] == ':' || strchr(s, ' ') != NULL ?
	    "*" : s;
}

static void
cannot(struct client *c, const char *code, const char *old,
    const char *new, const char *why)
{
	irc_fail(c, "FAIL", "RENAME", code, "%s %s :%s", old, echo(new), why);
}

/* The fallback to session s of member u: PART old, JOIN new as if u had
 * just joined (topic, NAMES), told to that session alone. */
static void
fallback(struct client *u, struct session *s, struct chan *ch,
    const char *old, const char *reason)
{
	struct session *cur = u->cur;
	char prefix[IRC_LINE_MAX];

	snprintf(prefix, sizeof(prefix), "%s", irc_prefix(u));
	irc_send_session(s, ":%s PART %s :%s", prefix, old,
	    reason[0] != '\0' ? reason : "Channel renamed");
	if (s->caps & CAP_EXTENDED_JOIN)
		irc_send_session(s, ":%s JOIN %s %s :%s", prefix, ch->name,
		    u->account != NULL ? u->account : "*", u->realname);
	else
		irc_send_session(s, ":%s JOIN %s", prefix, ch->name);
	if (irc_hooks.chan_greet != NULL) {
		u->cur = s;	/* its replies go to this session */
		irc_hooks.chan_greet(u, ch);
		u->cur = cur;
	}
}

/*
 * RENAME <old> <new> [:reason]: Ergo's rules: channel operators (and
 * IRC operators with chanreg) rename; a registered channel only by its
 * founder; the prefix stays; a name in use or registered to another
 * channel is refused (FAIL RENAME CHANNEL_NAME_IN_USE).
 */
void
h_rename(struct client *c, struct msg *m)
{
	const char *reason = m->nparam > 2 ? m->param[2] : "";
	char old[CHANLEN_MAX + 1], fold[CHANLEN_MAX + 1];
	char fnew[CHANLEN_MAX + 1], prefix[IRC_LINE_MAX];
	struct store_chan sc;
	struct chan *ch, *other;
	struct member *mb;
	struct session *s;
	/* Ergo's: opers whose class has chanreg */
	bool oper = irc_oper_can(c, "chanreg"), caseonly, told = false;
	int rc;

	if ((ch = irc_chan_find(m->param[0])) == NULL) {
		irc_numeric(c, ERR_NOSUCHCHANNEL, "%s :No such channel",
		    echo(m->param[0]));
		return;
	}
	snprintf(old, sizeof(old), "%s", ch->name);
	if (!oper && irc_member_find(ch, c) == NULL) {
		irc_numeric(c, ERR_NOTONCHANNEL, "%s :You're not on that "
		    "channel", old);
		return;
	}
	if (!oper && !irc_chan_is_at_least(ch, c, MEMB_OP)) {
		irc_numeric(c, ERR_CHANOPRIVSNEEDED, "%s :You're not a channel "
		    "operator", old);
		return;
	}
	if (!oper && ch->reg_id != 0 && (c->account_id == 0 ||
	    ch->founder != c->account_id)) {
		cannot(c, "CANNOT_RENAME", old, m->param[1], "Only the channel "
		    "founder can rename a registered channel");
		return;
	}
	if (!irc_chan_valid(m->param[1])) {
		cannot(c, "CANNOT_RENAME", old, m->param[1],
		    "Invalid channel name");
		return;
	}
	if (m->param[1][0] != old[0]) {
		cannot(c, "CANNOT_RENAME", old, m->param[1], "You cannot "
		    "change a channel prefix type");
		return;
	}
	if (strcmp(m->param[1], old) == 0) {
		cannot(c, "CANNOT_RENAME", old, m->param[1], "The channel "
		    "already has that name");
		return;
	}
	irc_fold(fold, old, sizeof(fold));
	irc_fold(fnew, m->param[1], sizeof(fnew));
	caseonly = strcmp(fold, fnew) == 0;
	if ((other = irc_chan_find(m->param[1])) != NULL && other != ch) {
		cannot(c, "CHANNEL_NAME_IN_USE", old, m->param[1],
		    "Channel already exists");
		return;
	}
	if (!caseonly && (rc = store_chan_get(fnew, &sc)) != 0) {
		if (rc == 1)
			cannot(c, "CHANNEL_NAME_IN_USE", old, m->param[1],
			    "That channel name is registered");
		else
			cannot(c, "CANNOT_RENAME", old, m->param[1],
			    "Could not check the channel registry");
		return;
	}
	if (irc_chan_rename(ch, m->param[1]) == -1) {
		cannot(c, "CANNOT_RENAME", old, m->param[1], "Out of memory");
		return;
	}
	log_info("channels", "%s renamed %s to %s%s%s", irc_prefix(c), old,
	    ch->name, reason[0] != '\0' ? ": " : "", reason);
	IRC_HOOK_RUN(chan_renamed, ch, old);
	redirect_add(ch, old);
	snprintf(prefix, sizeof(prefix), "%s", irc_prefix(c));
	for (mb = ch->members; mb != NULL; mb = mb->cnext) {
		if (mb->c == c)
			told = true;
		for (s = mb->c->sess; s != NULL; s = s->next)
			if (s->caps & CAP_CHANNEL_RENAME)
				irc_send_session(s, ":%s RENAME %s %s :%s",
				    prefix, old, ch->name, reason);
			else if (!caseonly)
				fallback(mb->c, s, ch, old, reason);
	}
	if (!told)	/* an IRC operator from outside: its answer */
		irc_send(c, ":%s RENAME %s %s :%s", prefix, old, ch->name,
		    reason);
}
