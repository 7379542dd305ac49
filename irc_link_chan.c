/*
 * irc_link_chan.c: what links carry about channels: SJOIN (the burst's
 * and a new channel's) with the TS rules (the older channel's modes,
 * lists and ranks win, equal TS merges), JOIN, PART, KICK, TOPIC and TB,
 * TMODE and BMASK both ways, Ergo's ranks (~&@%+) and modes among them.
 * Users are irc_link_user.c's, the links irc_link.c's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc_link_int.h"
#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_user.h"
#include "irc_out.h"

/*
 * Channel modes without a parameter: TS6's own (every peer has them),
 * then Ergo's, which only a peer saying ERGO in its CAPAB (another of
 * ours) gets; others would refuse or misread them.
 */
static const struct { char letter; unsigned bit; bool ergo; } simple[] = {
	{ 'i', CMODE_INVITE, false }, { 'm', CMODE_MODERATED, false },
	{ 'n', CMODE_NOEXT, false }, { 'p', CMODE_PRIVATE, false },
	{ 's', CMODE_SECRET, false }, { 't', CMODE_TOPIC, false },
	{ 'C', CMODE_NOCTCP, true }, { 'M', CMODE_REGSPEAK, true },
	{ 'R', CMODE_REGONLY, true }, { 'U', CMODE_OPMOD, true },
	{ 'u', CMODE_AUDITORIUM, true },
};
#define NSIMPLE	(sizeof(simple) / sizeof(simple[0]))

static bool
ergo_peer(const struct link *l)
{
	return l == NULL || (l->caps & LKCAP_ERGO);
}

/* Whether a list mask means the same to l: extbans (a: m:) are Ergo's. */
static bool
mask_for(const struct link *l, const char *mask)
{
	return ergo_peer(l) || !((mask[0] == 'a' || mask[0] == 'm') &&
	    mask[1] == ':');
}

/* A member's prefixes as l reads them: all of ~&@%+ for our own kind;
 * TS6's @ and + for others (+q/+a count as @, +h as @ only where the
 * peer has halfops, HOPS, else as +). */
static void
prefix_text(const struct link *l, unsigned char modes, char *buf, size_t sz)
{
	size_t n = 0;

	if (ergo_peer(l)) {
		(void)irc_memb_symbols(modes, true, buf, sz);
		return;
	}
	if (modes & (MEMB_FOUNDER | MEMB_ADMIN | MEMB_OP))
		buf[n++] = '@';
	else if ((modes & MEMB_HALFOP) && (l->caps & LKCAP_HOPS))
		buf[n++] = '%';
	if ((modes & MEMB_VOICE) || ((modes & MEMB_HALFOP) &&
	    !(l->caps & LKCAP_HOPS) && n == 0))
		buf[n++] = '+';
	buf[n] = '\0';
}

/* "+ntk key" (with args) of ch as l reads it (NULL: all), into buf. */
static void
chan_modes_text(const struct link *l, const struct chan *ch, char *buf,
    size_t sz)
{
	char letters[32] = "+", args[IRC_LINE_MAX] = "";
	size_t i, n = 1;

	for (i = 0; i < NSIMPLE; i++)
		if ((ch->modes & simple[i].bit) &&
		    (!simple[i].ergo || ergo_peer(l)))
			letters[n++] = simple[i].letter;
	if (ch->forward != NULL && ergo_peer(l)) {
		letters[n++] = 'f';
		snprintf(args + strlen(args), sizeof(args) - strlen(args),
		    " %s", ch->forward);
	}
	if (ch->key != NULL) {
		letters[n++] = 'k';
		snprintf(args + strlen(args), sizeof(args) - strlen(args),
		    " %s", ch->key);
	}
	if (ch->limit > 0) {
		letters[n++] = 'l';
		snprintf(args + strlen(args), sizeof(args) - strlen(args),
		    " %u", ch->limit);
	}
	letters[n] = '\0';
	snprintf(buf, sz, "%s%s", letters, args);
}

/* One channel's SJOIN lines (members not behind l), masks and topic. */
void
lk_burst_chan(struct link *l, struct chan *ch)
{
	static const struct { char letter; size_t off; } lists[] = {
		{ 'b', offsetof(struct chan, bans) },
		{ 'e', offsetof(struct chan, excepts) },
		{ 'I', offsetof(struct chan, invex) },
	};
	char modes[IRC_LINE_MAX], head[IRC_LINE_MAX], buf[IRC_LINE_MAX];
	struct member *mb;
	struct mask *mk;
	size_t n = 0, hl, i;

	chan_modes_text(l, ch, modes, sizeof(modes));
	hl = (size_t)snprintf(head, sizeof(head), ":%s SJOIN %lld %s %s :",
	    lk_me.sid, (long long)ch->created, ch->name, modes);
	buf[0] = '\0';
	for (mb = ch->members; mb != NULL; mb = mb->cnext) {
		const char *uid;
		char one[24], pfx[8];
		int w;

		if (lk_user_server(mb->c)->via == l ||
		    (uid = lk_uid_of(mb->c)) == NULL)
			continue;
		prefix_text(l, mb->modes, pfx, sizeof(pfx));
		w = snprintf(one, sizeof(one), "%s%s", pfx, uid);
		if (hl + n + (size_t)w + 1 > IRC_LINE_MAX - 20) {
			lk_send(l, "%s%s", head, buf);
			n = 0;
			buf[0] = '\0';
		}
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s",
		    n > 0 ? " " : "", one);
	}
	if (n == 0)
		return;		/* nobody it does not know already */
	lk_send(l, "%s%s", head, buf);
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		mk = *(struct mask **)(void *)((char *)ch + lists[i].off);
		if (lists[i].letter == 'e' && !(l->caps & LKCAP_EX))
			continue;
		if (lists[i].letter == 'I' && !(l->caps & LKCAP_IE))
			continue;
		for (; mk != NULL; mk = mk->next)
			if (mask_for(l, mk->mask))
				lk_send(l, ":%s BMASK %lld %s %c :%s",
				    lk_me.sid, (long long)ch->created,
				    ch->name, lists[i].letter, mk->mask);
	}
	if (ch->topic != NULL && (l->caps & LKCAP_TB))
		lk_send(l, ":%s TB %s %lld %s :%s", lk_me.sid, ch->name,
		    (long long)ch->topic_time, ch->topic_by != NULL ?
		    ch->topic_by : lk_me.name, ch->topic);
	else if (ch->topic != NULL && (l->caps & LKCAP_TBURST))
		lk_send(l, ":%s TBURST %lld %s %lld %s :%s", lk_me.sid,
		    (long long)ch->created, ch->name,
		    (long long)ch->topic_time, ch->topic_by != NULL ?
		    ch->topic_by : lk_me.name, ch->topic);
}

/* ---- channels ---- */

static struct mask **
mask_list(struct chan *ch, char letter, unsigned **n)
{
	switch (letter) {
	case 'b':
		*n = &ch->nbans;
		return &ch->bans;
	case 'e':
		*n = &ch->nexcepts;
		return &ch->excepts;
	case 'I':
		*n = &ch->ninvex;
		return &ch->invex;
	}
	return NULL;
}

/* true if the list changed */
static bool
mask_set(struct chan *ch, char letter, bool add, const char *mask,
    const char *setter)
{
	struct mask **pp, *mk;
	unsigned *n;

	if ((pp = mask_list(ch, letter, &n)) == NULL || mask[0] == '\0' ||
	    strlen(mask) > IRC_LINE_MAX / 2 || strchr(mask, ' ') != NULL)
		return false;
	for (; *pp != NULL; pp = &(*pp)->next)
		if (irc_casecmp((*pp)->mask, mask) == 0)
			break;
	if (!add) {
		if ((mk = *pp) == NULL)
			return false;
		*pp = mk->next;
		mk->next = NULL;
		irc_masks_free(mk);
		(*n)--;
		return true;
	}
	if (*pp != NULL || *n >= conf->chan_max_list ||
	    (mk = calloc(1, sizeof(*mk))) == NULL)
		return false;
	if ((mk->mask = xstrdup(mask)) == NULL ||
	    (mk->setter = xstrdup(setter)) == NULL) {
		irc_masks_free(mk);
		return false;
	}
	mk->when = ergo_now;
	*pp = mk;
	(*n)++;
	return true;
}

/* The changes of one mode command, shown to local members as MODE lines
 * of at most CHAN_MODES_MAX parameters. */
struct mout {
	struct chan	*ch;
	struct client	*from;		/* NULL: a server */
	char		 src[IRC_LINE_MAX];
	char		 modes[64], args[IRC_LINE_MAX];
	size_t		 nm, na;
	unsigned	 nparams;
	char		 sign;
};

static void
mout_init(struct mout *o, struct chan *ch, struct client *from,
    const char *srvname)
{
	memset(o, 0, sizeof(*o));
	o->ch = ch;
	o->from = from;
	snprintf(o->src, sizeof(o->src), "%s", from != NULL ?
	    irc_prefix(from) : srvname);
}

static void
mout_flush(struct mout *o)
{
	if (o->nm == 0)
		return;
	o->modes[o->nm] = '\0';
	o->args[o->na] = '\0';
	/* a service's change is no event of the channel (history keeps
	 * none), as our own ChanServ's is not */
	if (o->from != NULL && o->from->lk != NULL && o->from->lk->service)
		irc_chan_send(o->ch, NULL, ":%s MODE %s %s%s", o->src,
		    o->ch->name, o->modes, o->args);
	else
		irc_chan_event(o->ch, o->from, NULL, ":%s MODE %s %s%s",
		    o->src, o->ch->name, o->modes, o->args);
	o->nm = o->na = 0;
	o->nparams = 0;
	o->sign = '\0';
}

static void
mout_add(struct mout *o, char sign, char letter, const char *arg)
{
	if (o->nm + 3 >= sizeof(o->modes) || (arg != NULL &&
	    (o->nparams == CHAN_MODES_MAX ||
	    o->na + strlen(arg) + 2 >= sizeof(o->args) - 64)))
		mout_flush(o);
	if (o->sign != sign)
		o->modes[o->nm++] = o->sign = sign;
	o->modes[o->nm++] = letter;
	if (arg != NULL) {
		o->na += (size_t)snprintf(o->args + o->na,
		    sizeof(o->args) - o->na, " %s", arg);
		o->nparams++;
	}
}

/*
 * Applies modes (args from args[0..nargs)) to ch and shows them to the
 * local members; only additions if add_only (an SJOIN).
 */
static void
modes_apply(struct chan *ch, struct mout *o, const char *modes,
    char **args, int nargs, bool add_only)
{
	const char *p, *arg;
	struct member *mb;
	struct client *t;
	char sign = '+', num[16];
	unsigned char bit;
	int ai = 0;
	size_t i;

	for (p = modes; *p != '\0'; p++) {
		if (*p == '+' || *p == '-') {
			sign = *p;
			continue;
		}
		if (add_only && sign == '-')
			continue;
		for (i = 0; i < NSIMPLE; i++)
			if (simple[i].letter == *p)
				break;
		if (i < NSIMPLE) {
			if (sign == '+' && !(ch->modes & simple[i].bit)) {
				ch->modes |= simple[i].bit;
				mout_add(o, '+', *p, NULL);
			} else if (sign == '-' && (ch->modes & simple[i].bit)) {
				ch->modes &= ~simple[i].bit;
				mout_add(o, '-', *p, NULL);
			}
			continue;
		}
		switch (*p) {
		case 'k':
			arg = ai < nargs ? args[ai++] : NULL;
			if (sign == '+' && arg != NULL && arg[0] != '\0' &&
			    strlen(arg) <= CHAN_KEYLEN && !strchr(arg, ' ')) {
				char *k = xstrdup(arg);

				if (k == NULL)
					break;
				free(ch->key);
				ch->key = k;
				mout_add(o, '+', 'k', arg);
			} else if (sign == '-' && ch->key != NULL) {
				free(ch->key);
				ch->key = NULL;
				mout_add(o, '-', 'k', "*");
			}
			break;
		case 'l':
			if (sign == '+') {
				arg = ai < nargs ? args[ai++] : NULL;
				if (arg == NULL || atoi(arg) <= 0)
					break;
				ch->limit = (unsigned)atoi(arg);
				snprintf(num, sizeof(num), "%u", ch->limit);
				mout_add(o, '+', 'l', num);
			} else if (ch->limit > 0) {
				ch->limit = 0;
				mout_add(o, '-', 'l', NULL);
			}
			break;
		case 'b':
		case 'e':
		case 'I':
			if ((arg = ai < nargs ? args[ai++] : NULL) == NULL)
				break;
			if (mask_set(ch, *p, sign == '+', arg, o->src))
				mout_add(o, sign, *p, arg);
			break;
		case 'f':	/* +f #target: where a refused JOIN goes */
			if (sign == '+') {
				char *f;

				arg = ai < nargs ? args[ai++] : NULL;
				if (arg == NULL || (arg[0] != '#' &&
				    arg[0] != '&') || strlen(arg) > CHANLEN_MAX ||
				    (ch->forward != NULL &&
				    strcmp(ch->forward, arg) == 0) ||
				    (f = xstrdup(arg)) == NULL)
					break;
				free(ch->forward);
				ch->forward = f;
				mout_add(o, '+', 'f', f);
			} else if (ch->forward != NULL) {
				free(ch->forward);
				ch->forward = NULL;
				mout_add(o, '-', 'f', NULL);
			}
			break;
		case 'q':
		case 'a':
		case 'o':
		case 'h':
		case 'v':
			bit = irc_memb_letter(*p);
			if ((arg = ai < nargs ? args[ai++] : NULL) == NULL ||
			    (t = lk_user_ref(arg)) == NULL ||
			    (mb = irc_member_find(ch, t)) == NULL)
				break;
			if (sign == '+' && !(mb->modes & bit)) {
				mb->modes |= bit;
				mout_add(o, '+', *p, t->nick);
			} else if (sign == '-' && (mb->modes & bit)) {
				mb->modes &= (unsigned char)~bit;
				mout_add(o, '-', *p, t->nick);
			}
			break;
		default:
			break;	/* a mode we do not have: ignored */
		}
	}
}

/*
 * Their channel is older: ours loses its modes, lists and statuses
 * (shown to local members as the server's MODE), and takes their TS.
 */
static void
chan_lose(struct chan *ch, time_t ts, const char *srvname)
{
	static const char lists[] = "beI";
	struct member *mb;
	struct mask *mk;
	struct mout o;
	unsigned *n;
	size_t i;

	mout_init(&o, ch, NULL, srvname);
	modes_apply(ch, &o, "-imnpstCMRUukfl", NULL, 0, false);
	for (i = 0; lists[i] != '\0'; i++) {
		struct mask **pp = mask_list(ch, lists[i], &n);

		for (mk = *pp; mk != NULL; mk = mk->next)
			mout_add(&o, '-', lists[i], mk->mask);
		irc_masks_free(*pp);
		*pp = NULL;
		*n = 0;
	}
	for (mb = ch->members; mb != NULL; mb = mb->cnext) {
		unsigned char bit;

		for (bit = MEMB_FOUNDER; bit != 0; bit >>= 1)
			if (mb->modes & bit)
				mout_add(&o, '-', irc_memb_letter_of(bit),
				    mb->c->nick);
		mb->modes = 0;
	}
	mout_flush(&o);
	log_info("link", "%s: TS %lld lost to %lld: our modes went",
	    ch->name, (long long)ch->created, (long long)ts);
	ch->created = ts;
}

/* The channel, made if need be with TS ts; NULL: a bad name or ENOMEM. */
static struct chan *
chan_get(const char *name, time_t ts)
{
	struct chan *ch;

	if ((ch = irc_chan_find(name)) != NULL)
		return ch;
	if ((name[0] != '#' && name[0] != '&') ||
	    strlen(name) > CHANLEN_MAX || strpbrk(name, " ,\a") != NULL ||
	    (ch = irc_chan_create(name)) == NULL)
		return NULL;
	ch->created = ts;
	return ch;
}

/* SJOIN of ch with members mbs[0..n) to every link but except, each in
 * its own dialect (modes, prefixes). */
static void
sjoin_send(struct link *except, struct server *from, struct chan *ch,
    struct member **mbs, size_t n)
{
	char modes[IRC_LINE_MAX], list[IRC_LINE_MAX], pfx[8];
	struct link *l;
	size_t i, k;

	for (l = lk_links; l != NULL; l = l->next) {
		if (l == except || l->state != LS_UP || l->dead)
			continue;
		chan_modes_text(l, ch, modes, sizeof(modes));
		for (i = k = 0; i < n && k < sizeof(list) - 32; i++) {
			prefix_text(l, mbs[i]->modes, pfx, sizeof(pfx));
			k += (size_t)snprintf(list + k, sizeof(list) - k,
			    "%s%s%s", k > 0 ? " " : "", pfx,
			    mbs[i]->c->lk->uid);
		}
		list[k] = '\0';
		lk_send(l, ":%s SJOIN %lld %s %s :%s", from->sid,
		    (long long)ch->created, ch->name, modes, list);
	}
}

/* :sid SJOIN ts #chan +modes [args] :[~&@%+]uid ... */
void
lk_sjoin(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	time_t ts = (time_t)strtoll(m->param[0], NULL, 10);
	char *list = m->param[m->nparam - 1], *tok, *save = NULL;
	struct member *added[IRC_LINE_MAX / (LK_UIDLEN + 1)];
	struct member *mb;
	struct chan *ch;
	struct client *t;
	struct mout o;
	bool theirs, fresh;
	size_t n = 0, i;

	(void)u;
	if (from == NULL || ts <= 0)
		return;
	fresh = irc_chan_find(m->param[1]) == NULL;
	if ((ch = chan_get(m->param[1], ts)) == NULL)
		return;
	if (!fresh && ts < ch->created)
		chan_lose(ch, ts, from->name);
	theirs = ts <= ch->created;
	mout_init(&o, ch, NULL, from->name);
	if (theirs)
		modes_apply(ch, &o, m->param[2], m->param + 3,
		    m->nparam - 4, true);
	for (tok = strtok_r(list, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		unsigned char st = 0, bit;
		const char *id = tok;

		for (; (bit = irc_memb_symbol(*id)) != 0; id++)
			st |= bit;
		if ((t = lk_user_uid(id)) == NULL || t->lk->server->via != l ||
		    irc_member_find(ch, t) != NULL ||
		    n == sizeof(added) / sizeof(added[0]))
			continue;
		if (!theirs)
			st = 0;
		if ((mb = irc_member_add(ch, t, st)) == NULL)
			continue;
		added[n++] = mb;
		irc_user_join_send(t, ch);
		for (bit = MEMB_FOUNDER; bit != 0; bit >>= 1)
			if (st & bit)
				mout_add(&o, '+', irc_memb_letter_of(bit),
				    t->nick);
	}
	mout_flush(&o);
	if (ch->nmembers == 0) {
		irc_chan_destroy(ch);
		return;
	}
	sjoin_send(l, from, ch, added, n);
	/* ChanServ's ranks, once every server knows the members */
	for (i = 0; i < n; i++)
		if (irc_member_find(ch, added[i]->c) == added[i])
			IRC_HOOK_RUN(remote_joined, added[i]->c, ch);
}

/* :uid JOIN ts #chan + (or JOIN 0) */
void
lk_join(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	time_t ts = (time_t)strtoll(m->param[0], NULL, 10);
	struct chan *ch;

	(void)from;
	if (u == NULL)
		return;
	if (strcmp(m->param[0], "0") == 0) {
		while (u->chans != NULL) {
			irc_chan_event(u->chans->ch, u, NULL, ":%s PART %s",
			    irc_prefix(u), u->chans->ch->name);
			irc_member_del(u->chans);
		}
		lk_send_all(l, ":%s JOIN 0", u->lk->uid);
		return;
	}
	if (ts <= 0 || (ch = chan_get(m->param[1], ts)) == NULL ||
	    irc_member_find(ch, u) != NULL)
		return;
	if (ts < ch->created)
		chan_lose(ch, ts, u->lk->server->name);
	if (irc_member_add(ch, u, 0) == NULL) {
		if (ch->nmembers == 0)
			irc_chan_destroy(ch);
		return;
	}
	irc_user_join_send(u, ch);
	lk_send_all(l, ":%s JOIN %lld %s +", u->lk->uid,
	    (long long)ch->created, ch->name);
	IRC_HOOK_RUN(remote_joined, u, ch);	/* ChanServ's ranks */
}

/* :uid PART #chan[,#chan] [:reason] */
void
lk_part(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	const char *why = m->nparam > 1 ? m->param[1] : NULL;
	char *save = NULL, *name;
	struct member *mb;
	struct chan *ch;

	(void)from;
	if (u == NULL)
		return;
	for (name = strtok_r(m->param[0], ",", &save); name != NULL;
	    name = strtok_r(NULL, ",", &save)) {
		if ((ch = irc_chan_find(name)) == NULL ||
		    (mb = irc_member_find(ch, u)) == NULL)
			continue;
		if (why != NULL) {
			irc_chan_event(ch, u, NULL, ":%s PART %s :%s",
			    irc_prefix(u), ch->name, why);
			lk_send_all(l, ":%s PART %s :%s", u->lk->uid, ch->name,
			    why);
		} else {
			irc_chan_event(ch, u, NULL, ":%s PART %s",
			    irc_prefix(u), ch->name);
			lk_send_all(l, ":%s PART %s", u->lk->uid, ch->name);
		}
		irc_member_del(mb);
	}
}

/* :src KICK #chan uid [:reason] */
void
lk_kick(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	const char *why = m->nparam > 2 ? m->param[2] : "";
	struct member *mb;
	struct client *t;
	struct chan *ch;

	if ((ch = irc_chan_find(m->param[0])) == NULL ||
	    (t = lk_user_ref(m->param[1])) == NULL ||
	    (mb = irc_member_find(ch, t)) == NULL)
		return;
	irc_chan_event(ch, u, NULL, ":%s KICK %s %s :%s", u != NULL ?
	    irc_prefix(u) : from->name, ch->name, t->nick, why);
	lk_send_all(l, ":%s KICK %s %s :%s", u != NULL ? u->lk->uid :
	    from->sid, ch->name, lk_uid_of(t) != NULL ? t->lk->uid : t->nick,
	    why);
	irc_member_del(mb);
}

static int
topic_set(struct chan *ch, const char *topic, const char *by, time_t when)
{
	char *t = NULL, *b;

	if (topic[0] != '\0' && (t = xstrdup(topic)) == NULL)
		return -1;
	if ((b = xstrdup(by)) == NULL) {
		free(t);
		return -1;
	}
	free(ch->topic);
	free(ch->topic_by);
	ch->topic = t;
	ch->topic_by = b;
	ch->topic_time = when;
	return 0;
}

/* :uid TOPIC #chan :topic */
void
lk_topic(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	const char *topic = m->nparam > 1 ? m->param[1] : "";
	struct chan *ch;

	(void)from;
	if (u == NULL || (ch = irc_chan_find(m->param[0])) == NULL ||
	    topic_set(ch, topic, irc_prefix(u), ergo_now) == -1)
		return;
	irc_chan_event(ch, u, NULL, ":%s TOPIC %s :%s", irc_prefix(u),
	    ch->name, topic);
	lk_send_all(l, ":%s TOPIC %s :%s", u->lk->uid, ch->name, topic);
}

/* :sid TB #chan topicts [setter] :topic: a burst's topic, if older. */
void
lk_tb(struct link *l, struct server *from, struct client *u, struct msg *m)
{
	time_t ts = (time_t)strtoll(m->param[1], NULL, 10);
	const char *by, *topic = m->param[m->nparam - 1];
	struct chan *ch;

	(void)u;
	if (from == NULL)
		return;
	by = m->nparam > 3 ? m->param[2] : from->name;
	if ((ch = irc_chan_find(m->param[0])) == NULL ||
	    topic[0] == '\0' ||
	    (ch->topic != NULL && ch->topic_time <= ts) ||
	    topic_set(ch, topic, by, ts) == -1)
		return;
	irc_chan_event(ch, NULL, NULL, ":%s TOPIC %s :%s", from->name,
	    ch->name, topic);
	lk_send_all(l, ":%s TB %s %lld %s :%s", from->sid, ch->name,
	    (long long)ts, by, topic);
}

/* The letter (and its argument) of one mode change as l reads it, or
 * '\0' to leave it out. */
static char
mode_for(const struct link *l, char sign, char letter, const char **arg)
{
	size_t i;

	if (ergo_peer(l))
		return letter;
	for (i = 0; i < NSIMPLE; i++)
		if (simple[i].letter == letter)
			return simple[i].ergo ? '\0' : letter;
	switch (letter) {
	case 'k':
	case 'l':
	case 'o':
	case 'v':
		return letter;
	case 'q':
	case 'a':
		return 'o';
	case 'h':
		return (l->caps & LKCAP_HOPS) ? 'h' : 'v';
	case 'b':
	case 'e':
	case 'I':
		if ((letter == 'e' && !(l->caps & LKCAP_EX)) ||
		    (letter == 'I' && !(l->caps & LKCAP_IE)))
			return '\0';
		return *arg != NULL && mask_for(l, *arg) ? letter : '\0';
	}
	(void)sign;
	return '\0';
}

/*
 * TMODE of changes modes (args[0..nargs)) to every link but except, in
 * its dialect; rank arguments are nicks to turn into UIDs if nicks.
 */
static void
tmode_send(struct link *except, const char *src, struct chan *ch, time_t ts,
    const char *modes, char **args, int nargs, bool nicks)
{
	char letters[64], argtext[IRC_LINE_MAX], sign, osign;
	struct link *l;
	struct client *t;
	const char *p, *arg;
	size_t nl, na;
	int ai;

	for (l = lk_links; l != NULL; l = l->next) {
		if (l == except || l->state != LS_UP || l->dead)
			continue;
		nl = na = 0;
		ai = 0;
		sign = '+';
		osign = '\0';
		argtext[0] = '\0';
		for (p = modes; *p != '\0' && nl + 3 < sizeof(letters);
		    p++) {
			char out;

			if (*p == '+' || *p == '-') {
				sign = *p;
				continue;
			}
			arg = NULL;
			if (strchr("qaohvbeIk", *p) != NULL ||
			    (strchr("fl", *p) != NULL && sign == '+')) {
				if (ai >= nargs)
					break;
				arg = args[ai++];
			}
			if ((out = mode_for(l, sign, *p, &arg)) == '\0')
				continue;
			if (arg != NULL && irc_memb_letter(*p) != 0 && nicks &&
			    (t = irc_client_find(arg)) != NULL &&
			    lk_uid_of(t) != NULL)
				arg = t->lk->uid;
			if (sign != osign)
				letters[nl++] = osign = sign;
			letters[nl++] = out;
			if (arg != NULL && na + strlen(arg) + 2 <
			    sizeof(argtext))
				na += (size_t)snprintf(argtext + na,
				    sizeof(argtext) - na, " %s", arg);
		}
		if (nl == 0)
			continue;
		letters[nl] = '\0';
		lk_send(l, ":%s TMODE %lld %s %s%s", src, (long long)ts,
		    ch->name, letters, argtext);
	}
}

/* :sid TBURST chants #chan topicts setter :topic (ircd-hybrid): TB's */
void
lk_tburst(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	struct msg tb = *m;
	struct chan *ch;
	int i;

	if ((ch = irc_chan_find(m->param[1])) == NULL ||
	    strtoll(m->param[0], NULL, 10) > (long long)ch->created)
		return;
	for (i = 1; i < m->nparam; i++)
		tb.param[i - 1] = m->param[i];
	tb.nparam = m->nparam - 1;
	lk_tb(l, from, u, &tb);
}

/* :src TMODE ts #chan modes [args] */
void
lk_tmode(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	time_t ts = (time_t)strtoll(m->param[0], NULL, 10);
	struct chan *ch;
	struct mout o;

	if ((ch = irc_chan_find(m->param[1])) == NULL || ts > ch->created)
		return;
	mout_init(&o, ch, u, from != NULL ? from->name : "");
	modes_apply(ch, &o, m->param[2], m->param + 3, m->nparam - 3, false);
	mout_flush(&o);
	tmode_send(l, u != NULL ? u->lk->uid : from->sid, ch, ts, m->param[2],
	    m->param + 3, m->nparam - 3, false);
}

/* :sid BMASK ts #chan type :masks */
void
lk_bmask(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	time_t ts = (time_t)strtoll(m->param[0], NULL, 10);
	char *save = NULL, *mk, copy[IRC_LINE_MAX];
	struct chan *ch;
	struct mout o;

	(void)u;
	if (from == NULL || (ch = irc_chan_find(m->param[1])) == NULL ||
	    ts > ch->created || strlen(m->param[2]) != 1 ||
	    strchr("beI", m->param[2][0]) == NULL)
		return;
	snprintf(copy, sizeof(copy), "%s", m->param[3]);
	mout_init(&o, ch, NULL, from->name);
	for (mk = strtok_r(copy, " ", &save); mk != NULL;
	    mk = strtok_r(NULL, " ", &save))
		if (mask_set(ch, m->param[2][0], true, mk, from->name))
			mout_add(&o, '+', m->param[2][0], mk);
	mout_flush(&o);
	lk_send_all(l, ":%s BMASK %lld %s %s :%s", from->sid,
	    (long long)ch->created, ch->name, m->param[2], m->param[3]);
}

/* ---- local users' channel changes, to the links (irc_hooks) ---- */

static void
on_joined(struct client *c, struct chan *ch)
{
	struct member *mb = irc_member_find(ch, c);

	if (lk_told(c) || mb == NULL || lk_uid_of(c) == NULL)
		return;
	if (ch->nmembers == 1)	/* made by this JOIN */
		sjoin_send(NULL, &lk_me, ch, &mb, 1);
	else
		lk_send_all(NULL, ":%s JOIN %lld %s +", c->lk->uid,
		    (long long)ch->created, ch->name);
}

/* PART KICK TOPIC MODE by a local user (or this server), as TS6. */
static void
on_chan_event(struct chan *ch, const struct irc_ev *ev)
{
	char line[IRC_LINE_MAX + 1], *crlf;
	const char *src;
	struct client *t;
	struct msg m;

	if (lk_cur != NULL || lk_links == NULL ||
	    (ev->from != NULL && (lk_is_remote(ev->from) ||
	    lk_uid_of(ev->from) == NULL)))
		return;
	snprintf(line, sizeof(line), "%.*s", (int)ev->blen, ev->body);
	if ((crlf = strpbrk(line, "\r\n")) != NULL)
		*crlf = '\0';
	if (irc_parse(line, &m) == -1 || m.nparam < 1)
		return;
	src = ev->from != NULL ? ev->from->lk->uid : lk_me.sid;
	if (strcmp(m.cmd, "PART") == 0) {
		if (m.nparam > 1)
			lk_send_all(NULL, ":%s PART %s :%s", src, ch->name,
			    m.param[1]);
		else
			lk_send_all(NULL, ":%s PART %s", src, ch->name);
	} else if (strcmp(m.cmd, "KICK") == 0 && m.nparam >= 2) {
		if ((t = irc_client_find(m.param[1])) == NULL ||
		    lk_uid_of(t) == NULL)
			return;
		lk_send_all(NULL, ":%s KICK %s %s :%s", src, ch->name,
		    t->lk->uid, m.nparam > 2 ? m.param[2] : "");
	} else if (strcmp(m.cmd, "TOPIC") == 0) {
		if (ev->from == NULL)
			lk_send_all(NULL, ":%s TB %s %lld %s :%s", lk_me.sid,
			    ch->name, (long long)ch->topic_time, lk_me.name,
			    m.nparam > 1 ? m.param[1] : "");
		else
			lk_send_all(NULL, ":%s TOPIC %s :%s", src, ch->name,
			    m.nparam > 1 ? m.param[1] : "");
	} else if (strcmp(m.cmd, "MODE") == 0 && m.nparam >= 2)
		tmode_send(NULL, src, ch, ch->created, m.param[1],
		    m.param + 2, m.nparam - 2, true);
}

/* Our ChanServ changed a member's rank (irc_hooks.member_ranked): a
 * TMODE from it to every link, the member's own server's too (a JOIN
 * from a link gets its founder's or AMODE's rank here). */
static void
on_member_ranked(struct chan *ch, struct client *t, char letter, bool on)
{
	char modes[3] = { on ? '+' : '-', letter, '\0' };
	char uid[LK_UIDLEN + 1], *args[1] = { uid };

	if (lk_links == NULL || lk_uid_of(t) == NULL)
		return;
	snprintf(uid, sizeof(uid), "%s", t->lk->uid);
	tmode_send(NULL, lk_svc_chanserv(), ch, ch->created, modes, args, 1,
	    false);
}

void
lk_chan_init(void)
{
	IRC_HOOK_ADD(joined, on_joined);
	IRC_HOOK_ADD(chan_event, on_chan_event);
	IRC_HOOK_ADD(member_ranked, on_member_ranked);
}
