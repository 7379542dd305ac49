/*
 * irc_user.c: the changes to a user that others are told of, shared by
 * the roof and the command families: a rename, a host change, a login's
 * account-notify, a JOIN's lines, and marking a user or one of its
 * sessions dead (irc.c reaps them after the command). Calls irc_state, irc_out and the hooks;
 * never a command family.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc_user.h"
#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_oper.h"
#include "irc_num.h"

static void	rejoin(struct client *, struct chan *);

/*
 * Renames a registered c to nick (valid and free: the caller checked):
 * a WHOWAS entry for the old nick, NICK to c and its peers, and the
 * nick_changed hooks (nick enforcement, MONITOR). 0, or -1 on ENOMEM
 * (the caller ends c).
 */
int
irc_user_rename(struct client *c, const char *nick)
{
	char oldprefix[NICKLEN_MAX + 256], oldkey[NICKLEN_MAX + 1];

	snprintf(oldprefix, sizeof(oldprefix), "%s", irc_prefix(c));
	irc_whowas_add(c);
	irc_fold(oldkey, c->nick, sizeof(oldkey));
	if (irc_nick_set(c, nick) == -1)
		return -1;
	nick = c->nick;		/* the argument may have been c's old names */
	irc_chan_nick_changed(c, oldkey);
	log_info("connect", "%s is now known as %s", oldprefix, nick);
	irc_sno('n', "%.*s changed nickname to %s",
	    (int)strcspn(oldprefix, "!"), oldprefix, nick);
	irc_peers_event(c, true, ":%s NICK :%s", oldprefix, nick);
	IRC_HOOK_RUN(nick_changed, c, oldprefix);
	return 0;
}

/*
 * Marks c dead: nothing more is sent to it, and irc.c ends it after the
 * command that is running (QUIT to its peers with quitmsg, then ERROR
 * :error to it, or no ERROR if error is NULL). A second call keeps the
 * first reasons.
 */
void
irc_user_kill(struct client *c, const char *quitmsg, const char *error)
{
	struct session *s;

	if (c->flags & (CF_CLOSING | CF_DEAD))
		return;
	c->flags |= CF_DEAD | CF_CLOSING;
	for (s = c->sess; s != NULL; s = s->next)
		s->flags |= SF_CLOSING;	/* what irc_out looks at */
	irc_user_dv_stale(c);
	/* out of memory: irc.c says "Client exited", and ERROR without text */
	if (irc_cx(c) != NULL) {
		c->ext->quitmsg = xstrdup(quitmsg);
		c->ext->error = error != NULL ? xstrdup(error) : NULL;
	}
	c->dnext = irc.dead;
	irc.dead = c;
}

/*
 * Ends one session of c: if c has others (multiclient) or is always-on,
 * irc.c detaches it after the command (ERROR :error to it, nobody else
 * is told); the last one of any other user ends c itself, with quitmsg.
 */
void
irc_session_kill(struct session *s, const char *quitmsg, const char *error)
{
	struct client *c = s->user;
	struct session *o;
	struct session_ext *x;

	for (o = c->sess; o != NULL; o = o->next)
		if (o != s && !(o->flags & SF_DEAD))
			break;
	if (o == NULL && !c->always_on) {	/* its last: it goes */
		irc_user_kill(c, quitmsg, error);
		return;
	}
	if (s->flags & (SF_DEAD | SF_CLOSING))
		return;
	if ((x = irc_sx(s)) == NULL) {
		irc_user_kill(c, quitmsg, error);
		return;
	}
	s->flags |= SF_DEAD | SF_CLOSING;
	irc_user_dv_stale(c);
	x->error = error != NULL ? xstrdup(error) : NULL;
	x->dnext = irc.dead_sessions;
	irc.dead_sessions = s;
}

void
irc_user_account_notify(struct client *c)
{
	if (c->flags & CF_REG)
		irc_peers_cap_send(c, true, CAP_ACCOUNT_NOTIFY,
		    ":%s ACCOUNT %s", irc_prefix(c),
		    c->account != NULL ? c->account : "*");
}

/*
 * chghost: peers with the cap see CHGHOST; the others see the user quit
 * and come back (JOIN, and the modes it had), as Ergo does.
 */
void
irc_user_chghost(struct client *c, const char *user, const char *host)
{
	char old[NICKLEN_MAX + 256];
	struct member *um;
	struct irc_ev ev;

	snprintf(old, sizeof(old), "%s", irc_prefix(c));
	if (irc_user_set_names(c, NULL, user, host, NULL) == -1)
		return;
	if (!(c->flags & CF_REG))
		return;
	irc_user_changed(c);
	irc_ev_init(&ev, c, false, ":%s CHGHOST %s %s", old, c->user, c->host);
	ev.need = CAP_CHGHOST;
	irc_ev_peers(&ev, c, true);
	irc_ev_done(&ev);
	/* the rest: a QUIT, then a JOIN per shared channel */
	irc_ev_init(&ev, c, false, ":%s QUIT :Changing host", old);
	irc_ev_peers_lacking(&ev, c, CAP_CHGHOST);
	irc_ev_done(&ev);
	for (um = c->chans; um != NULL; um = um->unext)
		rejoin(c, um->ch);
}

/*
 * The JOIN of c to the members of ch (extended-join: with account and
 * realname), and for away-notify clients c's away message. only, if
 * set, limits it to members without that cap (chghost's fallback).
 */
static void
join_send(struct client *c, struct chan *ch, const uint64_t *only)
{
	struct irc_ev ev, aw;
	struct member *mb, *me;
	int64_t ms;
	bool hidden;

	irc_ev_init(&ev, c, false, ":%s JOIN %s", irc_prefix(c), ch->name);
	irc_ev_alt(&ev, CAP_EXTENDED_JOIN, ":%s JOIN %s %s :%s",
	    irc_prefix(c), ch->name, c->account != NULL ? c->account : "*",
	    c->realname != NULL ? c->realname : "");
	if (c->ext->away != NULL) {
		irc_ev_init(&aw, c, false, ":%s AWAY :%s", irc_prefix(c),
		    c->ext->away);
		aw.need = CAP_AWAY_NOTIFY;
	}
	/* +u (auditorium): a plain member's JOIN reaches the ranks only,
	 * and history keeps none of it (Ergo's respectAuditorium) */
	hidden = (ch->modes & CMODE_AUDITORIUM) &&
	    irc_member_rank(irc_member_find(ch, c)) == 0;
	/* query-cutoff join-time: the JOIN's time as its events have it */
	if (only == NULL && (me = irc_member_find(ch, c)) != NULL &&
	    irc_time_parse(ev.time, &ms))
		me->joined_ms = ms;
	for (mb = ch->members; mb != NULL; mb = mb->cnext) {
		if (only != NULL && (mb->c == c || (irc_user_caps(mb->c) & *only)))
			continue;
		if (hidden && mb->c != c && mb->modes == 0)
			continue;
		irc_ev_send(&ev, mb->c);
		if (c->ext->away != NULL && mb->c != c)
			irc_ev_send(&aw, mb->c);
	}
	if (only == NULL && !hidden)	/* not chghost's rejoin */
		IRC_HOOK_RUN(chan_event, ch, &ev);	/* history */
	irc_ev_done(&ev);
	if (c->ext->away != NULL)
		irc_ev_done(&aw);
}

/* chghost for clients without it: c joins again, with its modes. */
static void
rejoin(struct client *c, struct chan *ch)
{
	uint64_t cap = CAP_CHGHOST;
	struct member *me = irc_member_find(ch, c), *mb;
	struct irc_ev ev;
	char modes[8] = "+", nicks[6 * (NICKLEN_MAX + 1)], *p = modes + 1;
	unsigned char b;
	size_t n = 0;

	if (me == NULL)
		return;
	join_send(c, ch, &cap);
	if (me->modes == 0)
		return;
	for (b = MEMB_FOUNDER; b != 0; b >>= 1)
		if (me->modes & b) {
			*p++ = irc_memb_letter_of(b);
			n += (size_t)snprintf(nicks + n, sizeof(nicks) - n,
			    " %s", c->nick);
		}
	*p = '\0';
	irc_ev_init(&ev, NULL, false, ":%s MODE %s %s%s",
	    conf->server_name, ch->name, modes, nicks);
	for (mb = ch->members; mb != NULL; mb = mb->cnext)
		if (mb->c != c && !(irc_user_caps(mb->c) & CAP_CHGHOST))
			irc_ev_send(&ev, mb->c);
	irc_ev_done(&ev);
}

/* c joined ch: its JOIN (and away state) to the members, c included. */
void
irc_user_join_send(struct client *c, struct chan *ch)
{
	join_send(c, ch, NULL);
	irc_sno('j', "%s joined channel %s", c->nick, ch->name);
}

/* c leaves ch: PART to the members (the ranks only for a plain member
 * of a +u channel, then history records none of it), c included. */
void
irc_user_part(struct client *c, struct chan *ch, const char *reason)
{
	struct member *me = irc_member_find(ch, c);
	struct irc_ev ev;

	if (me == NULL)
		return;
	if (reason != NULL && *reason != '\0')
		irc_ev_init(&ev, c, false, ":%s PART %s :%s", irc_prefix(c),
		    ch->name, reason);
	else
		irc_ev_init(&ev, c, false, ":%s PART %s", irc_prefix(c),
		    ch->name);
	if ((ch->modes & CMODE_AUDITORIUM) && me->modes == 0) {
		irc_ev_chan_status(&ev, ch, c, MEMB_ALL);
		irc_ev_send(&ev, c);
	} else
		irc_ev_chan_event(&ev, ch, NULL);
	irc_ev_done(&ev);
	irc_sno('j', "%s left channel %s", c->nick, ch->name);
	irc_member_del(me);
}

/* Ergo's IsRestrictedCTCPMessage: a CTCP other than ACTION. */
static bool
ctcp_restricted(const char *text)
{
	return text != NULL && text[0] == '\001' &&
	    strncmp(text + 1, "ACTION", 6) != 0;
}

bool
irc_user_may_send_chan(struct client *c, struct chan *ch, const char *text,
    bool notice, unsigned char *need)
{
	char mode;
	int num;

	if (irc_chan_can_send(ch, c, &num, &mode)) {
		if (!(ch->modes & CMODE_NOCTCP) || !ctcp_restricted(text)) {
			/* +U: a plain member's message reaches halfops and
			 * up (Ergo: max(the STATUSMSG rank, halfop)) */
			if ((ch->modes & CMODE_OPMOD) &&
			    irc_member_rank(irc_member_find(ch, c)) == 0 &&
			    (*need == 0 || (*need & MEMB_VOICE)))
				*need = MEMB_ATLEAST(MEMB_HALFOP);
			return true;
		}
		mode = 'C';
	}
	if (!notice)
		irc_numeric(c, num, "%s :Cannot send to channel (+%c)",
		    ch->name, mode);
	return false;
}

bool
irc_user_may_send_user(struct client *c, struct client *to, const char *text,
    bool notice)
{
	(void)notice;	/* Ergo answers a NOTICE's +R refusal too */
	if ((to->umodes & UMODE_NOCTCP) && ctcp_restricted(text))
		return false;
	if (c->account == NULL && ((to->umodes & UMODE_REGONLY) ||
	    irc.defcon <= 3) && to != c &&
	    !irc_accept_has(to, c)) {
		irc_numeric(c, ERR_NEEDREGGEDNICK, "%s :You must be registered "
		    "to send a direct message to this user", to->nick);
		return false;
	}
	/* Ergo #1688: a +R user's own message accepts the replies */
	if ((c->umodes & UMODE_REGONLY) && to->account == NULL && to != c &&
	    c->ext->naccepts < conf->limits.monitor &&
	    irc_accept_add(c, to) == -1)
		log_warnx("irc", "out of memory: ACCEPT of %s by %s", to->nick,
		    c->nick);
	return true;
}
