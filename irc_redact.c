/*
 * irc_redact.c: draft/message-redaction (ircv3.net/specs/extensions/
 * message-redaction): REDACT <target> <msgid> [:reason]. Who may: the
 * sender (the same account, or with none the same nick!user@host) within
 * limits.redact-window, a channel's ops, IRC operators. The message
 * leaves history (irc_hist_redact) and the REDACT goes to the target's
 * recipients with the cap; the others are not told (the spec allows no
 * fallback, and a NOTICE per deletion would be noise). No sockets, no SQL.
 */
#include <stdio.h>
#include <string.h>

#include "irc_redact.h"
#include "log.h"
#include "conf.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_hist.h"

/* Whether c sent the message hi describes. */
static bool
is_sender(const struct client *c, const struct hist_info *hi)
{
	if (hi->account[0] != '\0')
		return c->account != NULL &&
		    irc_casecmp(c->account, hi->account) == 0;
	return irc_casecmp(irc_prefix(c), hi->source) == 0;
}

static void
invalid_target(struct client *c, const char *target)
{
	irc_fail(c, "FAIL", "REDACT", "INVALID_TARGET", "%s :You cannot "
	    "delete messages from %s", target, target);
}

void
h_redact(struct client *c, struct msg *m)
{
	const char *target = m->param[0], *msgid = m->param[1];
	const char *reason = m->nparam > 2 ? m->param[2] : NULL;
	struct client *to = NULL;
	struct chan *ch = NULL;
	struct member *mb = NULL;
	struct hist_info hi;
	struct irc_ev ev;
	bool privileged = (c->umodes & UMODE_OPER) != 0;

	if (*target == '#' || *target == '&') {
		/* non-members learn nothing, not even that it exists */
		if ((ch = irc_chan_find(target)) == NULL ||
		    ((mb = irc_member_find(ch, c)) == NULL && !privileged)) {
			invalid_target(c, target);
			return;
		}
		if (mb != NULL && irc_chan_is_at_least(ch, c, MEMB_OP))
			privileged = true;
	} else if ((to = irc_client_find(target)) == NULL ||
	    !(to->flags & CF_REG)) {
		invalid_target(c, target);
		return;
	}
	if (msgid[0] == '\0' || strlen(msgid) > IRC_MSGID_LEN + 8 ||
	    irc_hooks.hist_redact == NULL ||
	    !irc_hooks.hist_redact(ch, c, target, msgid, false, &hi)) {
		/* a msgid given as the trailing parameter may be "" or hold
		 * spaces: "*" stands in for it as a middle parameter */
		irc_fail(c, "FAIL", "REDACT", "UNKNOWN_MSGID", "%s %s :This "
		    "message does not exist or is too old", target,
		    irc_param_safe(msgid));
		return;
	}
	if (!privileged) {
		if (!is_sender(c, &hi)) {
			irc_fail(c, "FAIL", "REDACT", "REDACT_FORBIDDEN",
			    "%s %s :You are not authorised to delete this "
			    "message", target, msgid);
			return;
		}
		if (irc_time_now_ms() - hi.ms >= (int64_t)conf->limits.redact_window *
		    1000) {
			irc_fail(c, "FAIL", "REDACT", "REDACT_WINDOW_EXPIRED",
			    "%s %s %u :You can no longer edit this message",
			    target, msgid, conf->limits.redact_window);
			return;
		}
	}
	(void)irc_hooks.hist_redact(ch, c, target, msgid, true, &hi);
	if (to != NULL && to != c)
		(void)irc_hooks.hist_redact(NULL, to, NULL, msgid, true, &hi);
	log_info("irc", "%s redacted %s in %s", irc_prefix(c), msgid, target);
	if (reason != NULL)
		irc_ev_init(&ev, c, true, ":%s REDACT %s %s :%s", irc_prefix(c),
		    ch != NULL ? ch->name : to->nick, msgid, reason);
	else
		irc_ev_init(&ev, c, true, ":%s REDACT %s %s", irc_prefix(c),
		    ch != NULL ? ch->name : to->nick, msgid);
	ev.need = CAP_REDACTION;
	if (ch != NULL)
		irc_ev_chan(&ev, ch, c);
	else if (to != c)
		irc_ev_send(&ev, to);
	irc_ev_send(&ev, c);	/* the redactor sees it done (the spec) */
	irc_ev_done(&ev);
}
