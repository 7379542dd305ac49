/*
 * irc_chan.c: the channel and mode commands (channel and user modes):
 * JOIN PART KICK TOPIC NAMES LIST INVITE MODE, and ACCEPT for +R. The channels themselves
 * are irc_state.c's; replies go through irc_out.c; ChanServ, history and
 * read markers hear of a JOIN through hooks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc_chan.h"
#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "net.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_num.h"
#include "irc_oper.h"
#include "irc_user.h"
#include "irc_chan_int.h"
#include "store.h"

#define LIST_TERMS_MAX		16	/* names or masks in one LIST */

/* ---- small helpers ---- */

/* Splits *sp at the next comma; NULL once the list is used up. */
static char *
tok_next(char **sp)
{
	char *s = *sp, *e;

	if (s == NULL)
		return NULL;
	if ((e = strchr(s, ',')) != NULL) {
		*e = '\0';
		*sp = e + 1;
	} else
		*sp = NULL;
	return s;
}

/* ---- channel and membership lifetimes ---- */

/* ---- NAMES ---- */

static char
names_symbol(const struct chan *ch)
{
	if (ch->modes & CMODE_SECRET)
		return '@';
	if (ch->modes & CMODE_PRIVATE)
		return '*';
	return '=';
}

/*
 * 353 lines for ch, as many as needed to stay within 512 bytes. Invisible
 * users are left out for a non-member (RFC 2812 3.2.5).
 */
static void
names_send(struct client *c, struct chan *ch)
{
	char buf[IRC_LINE_MAX], item[IRC_LINE_MAX];
	size_t len = 0, n, room, fixed;
	struct member *me = irc_member_find(ch, c), *mb;
	bool member = me != NULL;
	/* +u: a plain member sees the ranks only (Ergo) */
	bool audit = (ch->modes & CMODE_AUDITORIUM) && !is_op(ch, c) &&
	    irc_member_rank(me) == 0;
	char sym = names_symbol(ch);

	/* ":server 353 nick = #chan :" and CRLF */
	fixed = strlen(conf->server_name) + strlen(c->nick) +
	    strlen(ch->name) + 15;
	room = fixed < IRC_LINE_MAX ? IRC_LINE_MAX - fixed : 0;
	if (room > sizeof(buf) - 1)
		room = sizeof(buf) - 1;
	for (mb = ch->members; mb != NULL; mb = mb->cnext) {
		struct client *u = mb->c;

		if (!member && (u->umodes & UMODE_INVISIBLE))
			continue;
		if (audit && mb->modes == 0)
			continue;
		if (irc_user_caps(c) & CAP_USERHOST_NAMES)
			n = (size_t)snprintf(item, sizeof(item), "%s%s!%s@%s",
			    irc_member_prefix(mb, c), u->nick,
			    u->user != NULL ? u->user : "*",
			    u->host != NULL ? u->host : "*");
		else
			n = (size_t)snprintf(item, sizeof(item), "%s%s",
			    irc_member_prefix(mb, c), u->nick);
		if (n >= sizeof(item))
			n = sizeof(item) - 1;
		if (len > 0 && len + 1 + n > room) {
			buf[len] = '\0';
			irc_numeric(c, RPL_NAMREPLY, "%c %s :%s", sym,
			    ch->name, buf);
			len = 0;
		}
		if (len > 0)
			buf[len++] = ' ';
		if (n > sizeof(buf) - 1 - len)
			n = sizeof(buf) - 1 - len;
		memcpy(buf + len, item, n);
		len += n;
	}
	if (len > 0) {
		buf[len] = '\0';
		irc_numeric(c, RPL_NAMREPLY, "%c %s :%s", sym, ch->name, buf);
	}
}

/*
 * NAMES [#chan{,#chan}]: a channel the asker may not see gets only its
 * 366. With no argument only 366 is sent; listing every channel is LIST's
 * job and would let one line fill a sendq.
 */
void
h_names(struct client *c, struct msg *m)
{
	char *list, *name;
	struct chan *ch;

	if (m->nparam < 1 || m->param[0][0] == '\0') {
		irc_numeric(c, RPL_ENDOFNAMES, "* :End of /NAMES list");
		return;
	}
	list = m->param[0];
	while ((name = tok_next(&list)) != NULL) {
		if (*name == '\0')
			continue;
		if ((ch = irc_chan_find(name)) != NULL &&
		    irc_chan_visible(ch, c)) {
			names_send(c, ch);
			name = ch->name;
		}
		irc_numeric(c, RPL_ENDOFNAMES, "%s :End of /NAMES list",
		    echo_name(name));
	}
}

/* ---- JOIN and PART ---- */

static void
topic_send(struct client *c, const struct chan *ch)
{
	if (ch->topic == NULL) {
		irc_numeric(c, RPL_NOTOPIC, "%s :No topic is set", ch->name);
		return;
	}
	irc_numeric(c, RPL_TOPIC, "%s :%s", ch->name, ch->topic);
	irc_numeric(c, RPL_TOPICWHOTIME, "%s %s %lld", ch->name,
	    ch->topic_by != NULL ? ch->topic_by : conf->server_name,
	    (long long)ch->topic_time);
}

/* The chan_greet hook: after a JOIN line, the topic and NAMES. */
static void
chan_greet(struct client *c, struct chan *ch)
{
	if (ch->topic != NULL)
		topic_send(c, ch);
	if (!(irc_sess(c)->caps & CAP_NO_IMPLICIT_NAMES)) {
		names_send(c, ch);
		irc_numeric(c, RPL_ENDOFNAMES, "%s :End of /NAMES list",
		    ch->name);
	}
}

void
irc_chan_init(void)
{
	irc_hooks.chan_greet = chan_greet;
}

/*
 * The checks of an existing channel, in Ergo's order; 0 or the numeric
 * that refuses. An INVITE gets past +l, +i, +b and +R (the modern
 * spec's and Ergo's INVITE), not +k; a +I match past +i and +R; +e gets
 * past +b. As Ergo's Channel.Join: the founder's account, and an
 * account whose AMODE is halfop or higher, get past all of them; an
 * AMODE of voice gets past +i only (Ergo #1901).
 */
static int
chan_join_check(struct client *c, struct chan *ch, const char *key,
    struct inv **invp)
{
	char folded[NICKLEN_MAX + 1];
	int amode = 0;
	bool invex;

	irc_fold(folded, c->nick, sizeof(folded));
	*invp = irc_invite_find(ch, folded);
	if (ch->founder != 0 && c->account != NULL &&
	    c->account_id == ch->founder)
		return 0;
	if (ch->reg_id != 0 && c->account != NULL &&
	    (amode = store_amode_get(ch->reg_id, c->account_id)) > 0 &&
	    amode != 'v')
		return 0;
	invex = *invp != NULL || irc_masks_match(ch->invex, c);
	if (ch->limit != 0 && ch->nmembers >= ch->limit && *invp == NULL)
		return ERR_CHANNELISFULL;
	if (ch->key != NULL && (key == NULL || strcmp(key, ch->key) != 0))
		return ERR_BADCHANNELKEY;
	if ((ch->modes & CMODE_INVITE) && !invex && amode != 'v')
		return ERR_INVITEONLYCHAN;
	if (*invp == NULL && irc_masks_match(ch->bans, c) &&
	    !irc_masks_match(ch->excepts, c))
		return ERR_BANNEDFROMCHAN;
	if ((ch->modes & CMODE_REGONLY) && c->account == NULL && !invex)
		return ERR_NEEDREGGEDNICK;
	return 0;
}

/* A refused JOIN's numeric, in Ergo's words. */
static void
chan_join_refused(struct client *c, const char *name, int num)
{
	const char *mode;

	switch (num) {
	case ERR_CHANNELISFULL:
		mode = "l";
		break;
	case ERR_BADCHANNELKEY:
		mode = "k";
		break;
	case ERR_INVITEONLYCHAN:
		mode = "i";
		break;
	case ERR_BANNEDFROMCHAN:
		mode = "b";
		break;
	default:
		irc_numeric(c, num, "%s :You must be registered to join that "
		    "channel", name);
		return;
	}
	irc_numeric(c, num, "%s :Cannot join channel (+%s)", name, mode);
}

/*
 * One channel of a JOIN; a refusal from a +f channel (but for a ban)
 * forwards c to its target with 470, once. by is the operator of a
 * SAJOIN: then no mode or ban refuses and no DEFCON limit applies, the
 * refusals left go to by, and nothing is forwarded. -1 when c was
 * dropped (out of memory).
 */
static int
chan_join(struct client *c, const char *name, const char *key, bool fwd,
    struct client *by)
{
	struct client *to = by != NULL ? by : c;
	struct chan *ch;
	struct inv *iv = NULL;
	char target[CHANLEN_MAX + 1];
	int reg, num;

	if (!irc_chan_valid(name)) {
		/* A prefixed but bad name is a "bad mask", not "no such" */
		if (name[0] == '#' || name[0] == '&')
			irc_numeric(to, ERR_BADCHANMASK, "%s :Bad Channel Mask",
			    echo_name(name));
		else
			irc_numeric(to, ERR_NOSUCHCHANNEL, "%s :No such channel",
			    echo_name(name));
		return 0;
	}
	ch = irc_chan_find(name);
	if (ch != NULL && irc_member_find(ch, c) != NULL)
		return 0;
	if (c->nchans >= conf->chan_max_per_user) {
		irc_numeric(to, ERR_TOOMANYCHANNELS,
		    "%s :You have joined too many channels", name);
		return 0;
	}
	if (ch == NULL) {
		/* a name RENAME left: the channel is under its new one */
		if (fwd && irc_hooks.join_renamed != NULL &&
		    (reg = irc_hooks.join_renamed(c, name, target,
		    sizeof(target))) != 0)
			return reg == 2 ?
			    chan_join(c, target, key, false, NULL) : 0;
		/* DEFCON 2: no new channels but by operators */
		if (irc.defcon <= 2 && !(to->umodes & UMODE_OPER)) {
			irc_numeric(to, ERR_NOSUCHCHANNEL, "%s :No such channel",
			    name);
			return 0;
		}
		if ((ch = irc_chan_create(name)) == NULL)
			goto nomem;
		irc_chan_default_modes(ch);
		/* registered: its saved modes and topic; ChanServ gives ops */
		reg = irc_hooks.chan_restore != NULL ?
		    irc_hooks.chan_restore(ch, c) : 0;
		if (reg == 3) {
			irc_chan_destroy(ch);
			irc_numeric(to, ERR_NOSUCHCHANNEL, "%s :This channel was "
			    "purged by the server operators and cannot be used",
			    echo_name(name));
			return 0;
		}
		if (reg == 2 && by == NULL &&
		    (num = chan_join_check(c, ch, key, &iv)) != 0) {
			irc_chan_destroy(ch);
			chan_join_refused(c, name, num);
			return 0;
		}
		if (irc_member_add(ch, c, reg == 0 ? MEMB_OP : 0) == NULL) {
			irc_chan_destroy(ch);
			goto nomem;
		}
	} else {
		if (by == NULL && (num = chan_join_check(c, ch, key, &iv)) != 0) {
			if (fwd && ch->forward != NULL &&
			    num != ERR_BANNEDFROMCHAN) {
				snprintf(target, sizeof(target), "%s",
				    ch->forward);
				irc_numeric(c, ERR_LINKCHANNEL, "%s %s :"
				    "Forwarding to another channel", ch->name,
				    target);
				return chan_join(c, target, key, false, NULL);
			}
			chan_join_refused(c, ch->name, num);
			return 0;
		}
		if (irc_member_add(ch, c, 0) == NULL)
			goto nomem;
		if (iv != NULL)
			irc_invite_free(iv);	/* used up */
	}
	irc_user_join_send(c, ch);
	if (ch->topic != NULL)
		topic_send(c, ch);
	IRC_HOOK_RUN(join_names, c, ch);	/* before 366: read-marker */
	if (!(irc_user_caps(c) & CAP_NO_IMPLICIT_NAMES)) {
		names_send(c, ch);
		irc_numeric(c, RPL_ENDOFNAMES, "%s :End of /NAMES list",
		    ch->name);
	}
	IRC_HOOK_RUN(joined, c, ch);	/* ChanServ's modes, history replay */
	return 0;
nomem:
	log_warnx("channels", "out of memory: %s joining %s", c->nick, name);
	irc_user_kill(c, "Server out of memory", "Server out of memory");
	return -1;
}

/* JOIN 0: part every channel, telling each. */
static void
chan_part_all_loud(struct client *c)
{
	while (c->chans != NULL)
		irc_user_part(c, c->chans->ch, NULL);
}

/* JOIN #a,#b [key1,key2] | JOIN 0 */
void
h_join(struct client *c, struct msg *m)
{
	char *names = m->param[0], *keys = m->nparam > 1 ? m->param[1] : NULL;
	char *name, *key;

	if (*names == '\0') {
		irc_numeric(c, ERR_NEEDMOREPARAMS, "JOIN :Not enough parameters");
		return;
	}
	while ((name = tok_next(&names)) != NULL) {
		key = tok_next(&keys);
		if (*name == '\0')
			continue;
		if (strcmp(name, "0") == 0) {
			chan_part_all_loud(c);
			continue;
		}
		if (chan_join(c, name, key != NULL && *key != '\0' ? key :
		    NULL, true, NULL) == -1)
			return;
	}
}

/*
 * SAJOIN [nick] #chan{,#chan} (capability sajoin): joins nick, or the
 * operator, past every mode and ban (Ergo's isSajoin); the operators
 * with snomask o hear of it, as in Ergo.
 */
void
h_sajoin(struct client *c, struct msg *m)
{
	struct client *t = c;
	char *names, *name, params[IRC_LINE_MAX];

	if (m->param[0][0] == '#' || m->param[0][0] == '&')
		names = m->param[0];
	else if (m->nparam < 2) {
		irc_numeric(c, ERR_NEEDMOREPARAMS, "SAJOIN :Not enough "
		    "parameters");
		return;
	} else if (!is_user(t = irc_client_find(m->param[0])) ||
	    (t->flags & CF_CLOSING)) {
		irc_numeric(c, ERR_NOSUCHNICK, "%s :No such nick/channel",
		    echo_name(m->param[0]));
		return;
	} else
		names = m->param[1];
	sa_params(m, params, sizeof(params));
	log_info("opers", "Operator %s ran SAJOIN %s", oper_name(c), params);
	irc_sno('o', "Operator %s ran SAJOIN %s", oper_name(c), params);
	while ((name = tok_next(&names)) != NULL) {
		if (*name == '\0')
			continue;
		if (chan_join(t, name, NULL, false, c) == -1)
			return;
	}
}

/* PART #a,#b [:reason] */
void
h_part(struct client *c, struct msg *m)
{
	char *list = m->param[0], *name;
	const char *reason = m->nparam > 1 ? m->param[1] : "";
	struct chan *ch;

	while ((name = tok_next(&list)) != NULL) {
		if (*name == '\0')
			continue;
		if ((ch = irc_chan_find(name)) == NULL) {
			irc_numeric(c, ERR_NOSUCHCHANNEL, "%s :No such channel",
			    echo_name(name));
			continue;
		}
		if (irc_member_find(ch, c) == NULL) {
			irc_numeric(c, ERR_NOTONCHANNEL,
			    "%s :You're not on that channel", ch->name);
			continue;
		}
		irc_user_part(c, ch, reason);
	}
}

/* ---- KICK ---- */

static void
chan_kick(struct client *c, const char *chname, const char *nick,
    const char *reason)
{
	struct chan *ch;
	struct member *tm;
	struct client *t;

	if ((ch = irc_chan_find(chname)) == NULL) {
		irc_numeric(c, ERR_NOSUCHCHANNEL, "%s :No such channel",
		    echo_name(chname));
		return;
	}
	if (irc_member_find(ch, c) == NULL) {
		irc_numeric(c, ERR_NOTONCHANNEL,
		    "%s :You're not on that channel", ch->name);
		return;
	}
	if (!is_user(t = irc_client_find(nick))) {
		irc_numeric(c, ERR_NOSUCHNICK, "%s :No such nick/channel",
		    echo_name(nick));
		return;
	}
	if ((tm = irc_member_find(ch, t)) == NULL) {
		irc_numeric(c, ERR_USERNOTINCHANNEL,
		    "%s %s :They aren't on that channel", t->nick, ch->name);
		return;
	}
	/* Ergo's ClientHasPrivsOver: halfops kick only below them */
	if (!irc_chan_privs_over(ch, c, t)) {
		irc_numeric(c, ERR_CHANOPRIVSNEEDED, "%s :You don't have "
		    "enough channel privileges", ch->name);
		return;
	}
	irc_chan_event(ch, c, NULL, ":%s KICK %s %s :%s", irc_prefix(c),
	    ch->name, t->nick, reason);
	irc_member_del(tm);
}

/*
 * KICK #chan nick[,nick] [:reason] kicks each nick from #chan;
 * KICK #a,#b n1,n2 pairs them up (RFC 2812 3.2.8). At most targmax
 * nicks (TARGMAX=KICK:n).
 */
void
h_kick(struct client *c, struct msg *m)
{
	char *chans = m->param[0], *nicks = m->param[1], *chname, *nick;
	char reason[IRC_LINE_MAX];
	bool single = strchr(chans, ',') == NULL;
	unsigned n = 1;
	const char *t;

	for (t = nicks; *t != '\0'; t++)
		n += *t == ',';
	if (n > conf->limits.targmax) {
		irc_numeric(c, ERR_TOOMANYTARGETS, "%s :Too many targets. "
		    "The maximum is %u", echo_name(nicks),
		    conf->limits.targmax);
		return;
	}
	snprintf(reason, sizeof(reason), "%s", m->nparam > 2 &&
	    m->param[2][0] != '\0' ? m->param[2] : c->nick);
	irc_utf8_trunc(reason, conf->limits.kicklen);
	chname = single ? chans : NULL;
	while ((nick = tok_next(&nicks)) != NULL) {
		if (!single && (chname = tok_next(&chans)) == NULL)
			break;
		if (*nick == '\0' || *chname == '\0')
			continue;
		chan_kick(c, chname, nick, reason);
	}
}

/* ---- TOPIC ---- */

void
h_topic(struct client *c, struct msg *m)
{
	struct chan *ch;
	struct member *mb;
	char *text, *topic = NULL, *by = NULL;

	if ((ch = irc_chan_find(m->param[0])) == NULL) {
		irc_numeric(c, ERR_NOSUCHCHANNEL, "%s :No such channel",
		    echo_name(m->param[0]));
		return;
	}
	mb = irc_member_find(ch, c);
	if (m->nparam < 2) {
		if (mb == NULL && !irc_chan_visible(ch, c))
			irc_numeric(c, ERR_NOTONCHANNEL,
			    "%s :You're not on that channel", ch->name);
		else
			topic_send(c, ch);
		return;
	}
	if (mb == NULL) {
		irc_numeric(c, ERR_NOTONCHANNEL,
		    "%s :You're not on that channel", ch->name);
		return;
	}
	/* +t: halfops and up (Ergo) */
	if ((ch->modes & CMODE_TOPIC) &&
	    !irc_chan_is_at_least(ch, c, MEMB_HALFOP)) {
		not_op(c, ch);
		return;
	}
	text = m->param[1];
	irc_utf8_trunc(text, conf->limits.topiclen);
	if (*text != '\0' && ((topic = xstrdup(text)) == NULL ||
	    (by = xstrdup(irc_prefix(c))) == NULL)) {
		free(topic);
		log_warnx("channels", "out of memory setting topic of %s",
		    ch->name);
		return;
	}
	free(ch->topic);
	free(ch->topic_by);
	ch->topic = topic;
	ch->topic_by = by;
	ch->topic_time = ergo_now;
	IRC_HOOK_RUN(chan_changed, ch);	/* a registered channel keeps it */
	irc_chan_event(ch, c, NULL, ":%s TOPIC %s :%s", irc_prefix(c),
	    ch->name, text);
}

/* ---- LIST ---- */

struct list_filter {
	const char	*pos[LIST_TERMS_MAX], *neg[LIST_TERMS_MAX];
	size_t		 npos, nneg;
	unsigned long	 above, below;	/* users > above, users < below */
	bool		 has_above, has_below, wild;
	/* ELIST=CT: created / topic set after and before these times */
	time_t		 c_after, c_before, t_after, t_before;
};

static bool
list_number(const char *s, unsigned long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	*v = strtoul(s, &end, 10);
	return *end == '\0';
}

static bool
list_wanted(const struct list_filter *f, const struct chan *ch)
{
	size_t i;

	if (f->has_above && ch->nmembers <= f->above)
		return false;
	if (f->has_below && ch->nmembers >= f->below)
		return false;
	if ((f->c_after != 0 && ch->created <= f->c_after) ||
	    (f->c_before != 0 && ch->created >= f->c_before) ||
	    (f->t_after != 0 && ch->topic_time <= f->t_after) ||
	    (f->t_before != 0 && ch->topic_time >= f->t_before))
		return false;
	for (i = 0; i < f->nneg; i++)
		if (irc_match(f->neg[i], ch->name))
			return false;
	if (f->npos == 0)
		return true;
	for (i = 0; i < f->npos; i++)
		if (irc_match(f->pos[i], ch->name))
			return true;
	return false;
}

/*
 * One 322, or false once the asker's output queue is half full: a LIST
 * of every channel must not cost the asker its connection (SendQ
 * exceeded), and a single-threaded server cannot wait for it to drain.
 */
static bool
list_reply(struct client *c, const struct chan *ch)
{
	if (irc_sess(c)->conn == NULL ||
	    net_conn_sendq(irc_sess(c)->conn) + IRC_LINE_MAX > conf->max_sendq / 2)
		return false;
	irc_numeric(c, RPL_LIST, "%s %u :%s", ch->name, ch->nmembers,
	    ch->topic != NULL ? ch->topic : "");
	return true;
}

/*
 * LIST [terms]: terms are channel names, masks (M), !masks (N), >n <n
 * user counts (U), C<n C>n creation and T<n T>n topic times in minutes
 * ago (C, T), as ELIST=CMNTU says. Plain names are looked up; anything
 * else walks the channel table, which only LIST does.
 */
void
h_list(struct client *c, struct msg *m)
{
	struct list_filter f;
	char *terms, *t;
	struct chan *ch;
	struct hent *e;
	size_t i;
	bool full = false;

	memset(&f, 0, sizeof(f));
	terms = m->nparam > 0 ? m->param[0] : NULL;
	while ((t = tok_next(&terms)) != NULL) {
		unsigned long v;

		if ((*t == 'C' || *t == 'T' || *t == 'c' || *t == 't') &&
		    (t[1] == '<' || t[1] == '>') && list_number(t + 2, &v)) {
			/* ELIST=CT: C<n created under n minutes ago, C>n over;
			 * T the same for the topic */
			time_t when = ergo_now - (time_t)(v > 5256000 ? 5256000 :
			    v) * 60;
			bool topic = *t == 'T' || *t == 't';

			if (t[1] == '<')
				*(topic ? &f.t_after : &f.c_after) = when;
			else
				*(topic ? &f.t_before : &f.c_before) = when;
			f.wild = true;
		} else if (*t == '>' && list_number(t + 1, &v)) {
			f.above = v;
			f.has_above = f.wild = true;
		} else if (*t == '<' && list_number(t + 1, &v)) {
			f.below = v;
			f.has_below = f.wild = true;
		} else if (*t == '!' && t[1] != '\0') {
			if (f.nneg < LIST_TERMS_MAX)
				f.neg[f.nneg++] = t + 1;
			f.wild = true;
		} else if (*t != '\0' && f.npos < LIST_TERMS_MAX) {
			f.pos[f.npos++] = t;
			if (strpbrk(t, "*?") != NULL)
				f.wild = true;
		}
	}
	irc_numeric(c, RPL_LISTSTART, "Channel :Users  Name");
	if (f.npos > 0 && !f.wild) {
		for (i = 0; i < f.npos && !full; i++)
			if ((ch = irc_chan_find(f.pos[i])) != NULL &&
			    irc_chan_visible(ch, c))
				full = !list_reply(c, ch);
	} else {
		for (i = 0; i < irc.chans.nb && !full; i++)
			for (e = irc.chans.b[i]; e != NULL && !full;
			    e = e->next) {
				ch = (struct chan *)(void *)e;
				if (irc_chan_visible(ch, c) &&
				    list_wanted(&f, ch))
					full = !list_reply(c, ch);
			}
	}
	if (full)
		irc_send(c, ":%s NOTICE %s :LIST output truncated: too many "
		    "channels; narrow it with a mask or >users",
		    conf->server_name, c->nick);
	irc_numeric(c, RPL_LISTEND, ":End of /LIST");
}

/* ---- INVITE ---- */

/* One line of the invites list (336). */
static void
invite_listed(struct chan *ch, void *arg)
{
	irc_numeric(arg, RPL_INVITELIST_USER, "%s", ch->name);
}

/* INVITE nick #chan; INVITE alone lists your pending invites */
void
h_invite(struct client *c, struct msg *m)
{
	struct client *t;
	struct chan *ch;
	struct member *om;
	struct irc_ev ev;
	char folded[NICKLEN_MAX + 1];

	if (m->nparam == 0) {
		irc_fold(folded, c->nick, sizeof(folded));
		irc_invite_each(folded, invite_listed, c);
		irc_numeric(c, RPL_ENDOFINVITELIST_USER,
		    ":End of /INVITE list");
		return;
	}
	if (m->nparam < 2) {
		irc_numeric(c, ERR_NEEDMOREPARAMS,
		    "INVITE :Not enough parameters");
		return;
	}
	if (!is_user(t = irc_client_find(m->param[0]))) {
		irc_numeric(c, ERR_NOSUCHNICK, "%s :No such nick/channel",
		    echo_name(m->param[0]));
		return;
	}
	if ((ch = irc_chan_find(m->param[1])) == NULL) {
		irc_numeric(c, ERR_NOSUCHCHANNEL, "%s :No such channel",
		    echo_name(m->param[1]));
		return;
	}
	if (irc_member_find(ch, c) == NULL) {
		irc_numeric(c, ERR_NOTONCHANNEL,
		    "%s :You're not on that channel", ch->name);
		return;
	}
	if (irc_member_find(ch, t) != NULL) {
		irc_numeric(c, ERR_USERONCHANNEL, "%s %s :is already on channel",
		    t->nick, ch->name);
		return;
	}
	if ((ch->modes & CMODE_INVITE) && !is_op(ch, c)) {
		not_op(c, ch);
		return;
	}
	if (irc_invite_add(ch, t) == -1)
		log_warnx("channels", "out of memory recording invite of %s "
		    "to %s", t->nick, ch->name);
	irc_numeric(c, RPL_INVITING, "%s %s", t->nick, ch->name);
	irc_ev_init(&ev, c, false, ":%s INVITE %s %s", irc_prefix(c), t->nick,
	    ch->name);
	irc_ev_send(&ev, t);
	/* invite-notify: members who could have invited, but the inviter */
	ev.need = CAP_INVITE_NOTIFY;
	for (om = ch->members; om != NULL; om = om->cnext)
		if (om->c != c && (!(ch->modes & CMODE_INVITE) ||
		    is_op(ch, om->c)))
			irc_ev_send(&ev, om->c);
	irc_ev_done(&ev);
	if (t->ext->away != NULL)
		irc_numeric(c, RPL_AWAY, "%s :%s", t->nick, t->ext->away);
}

/* ---- ACCEPT ---- */

/*
 * ACCEPT nick{,-nick}: who may message c despite its +R, as Ergo (no
 * reply but FAIL; at most limits.monitor nicks, as many as MONITOR).
 */
void
h_accept(struct client *c, struct msg *m)
{
	char *list = m->param[0], *nick;
	struct client *t;
	bool del;

	while ((nick = tok_next(&list)) != NULL) {
		if ((del = *nick == '-'))
			nick++;
		if (*nick == '\0')
			continue;
		if (!is_user(t = irc_client_find(nick))) {
			irc_fail(c, "FAIL", "ACCEPT", "INVALID_USER", "%s :No "
			    "such user", echo_word(nick));
			continue;
		}
		if (del)
			(void)irc_accept_del(c, t);
		else if (c->ext->naccepts >= conf->limits.monitor &&
		    !irc_accept_has(c, t))
			irc_fail(c, "FAIL", "ACCEPT", "LIMIT_REACHED", "%s :Your "
			    "ACCEPT list is full", t->nick);
		else if (irc_accept_add(c, t) == -1)
			log_warnx("channels", "out of memory: ACCEPT of %s by "
			    "%s", t->nick, c->nick);
	}
}
