/*
 * irc_chan_mode.c: MODE, of users and of channels (ranks, flags, keys,
 * limits, +f, the +b +e +I lists), and SAMODE, the same for an operator
 * regardless of rank. The channels are irc_state.c's; replies go
 * through irc_out.c; ChanServ hears of a change through chan_changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc_chan.h"
#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_num.h"
#include "irc_oper.h"
#include "irc_user.h"
#include "irc_chan_int.h"

static const struct {
	char		 letter;
	unsigned	 bit;
} cmode_flags[] = {
	{ 'C', CMODE_NOCTCP }, { 'M', CMODE_REGSPEAK }, { 'R', CMODE_REGONLY },
	{ 'U', CMODE_OPMOD }, { 'i', CMODE_INVITE }, { 'm', CMODE_MODERATED },
	{ 'n', CMODE_NOEXT }, { 'p', CMODE_PRIVATE }, { 's', CMODE_SECRET },
	{ 't', CMODE_TOPIC }, { 'u', CMODE_AUDITORIUM },
};

static unsigned
cmode_bit(char letter)
{
	size_t i;

	for (i = 0; i < sizeof(cmode_flags) / sizeof(cmode_flags[0]); i++)
		if (cmode_flags[i].letter == letter)
			return cmode_flags[i].bit;
	return 0;
}

/* ---- masks (+b +e +I) ---- */

static void
chan_list_of(struct chan *ch, char mode, struct mask ***head, unsigned **n)
{
	switch (mode) {
	case 'b':
		*head = &ch->bans;
		*n = &ch->nbans;
		break;
	case 'e':
		*head = &ch->excepts;
		*n = &ch->nexcepts;
		break;
	default:
		*head = &ch->invex;
		*n = &ch->ninvex;
		break;
	}
}

/* ---- MODE: user ---- */

static void
mode_user_string(const struct client *c, char *buf, size_t sz)
{
	char sno[32];

	irc_sno_string(c, sno, sizeof(sno));
	snprintf(buf, sz, "+%s%s%s%s%s%s%s%s%s%s",
	    (c->umodes & UMODE_BOT) ? "B" : "",
	    (c->umodes & UMODE_REGONLY) ? "R" : "",
	    (c->umodes & UMODE_NOCTCP) ? "T" : "",
	    (c->umodes & UMODE_INVISIBLE) ? "i" : "",
	    (c->umodes & UMODE_OPER) ? "o" : "",
	    sno[0] != '\0' ? "s" : "",
	    (c->umodes & UMODE_WALLOPS) ? "w" : "",
	    (c->umodes & UMODE_TLS) ? "Z" : "",
	    sno[0] != '\0' ? " " : "", sno);
}

/* Appends sign+letter to a change string, writing the sign only if new. */
static void
mode_change_add(char *buf, size_t sz, size_t *len, char *last, char sign,
    char letter)
{
	if (*len + 3 > sz)
		return;
	if (*last != sign)
		buf[(*len)++] = *last = sign;
	buf[(*len)++] = letter;
	buf[*len] = '\0';
}

/*
 * MODE nick [changes]: only one's own modes (SAMODE, sa: anyone's). +o
 * comes from OPER and +Z from the connection, so "+o" and "±Z" are
 * ignored; -o de-opers. +s [mask] (Ergo's snomasks, "+s +cjk" or "+s
 * -k"; alone: all) needs the snomasks capability of the user whose
 * modes change: else 481.
 */
static void
mode_user(struct client *c, struct msg *m, bool sa)
{
	struct client *t = irc_client_find(m->param[0]);
	char out[IRC_LINE_MAX], sign = '+', last = '\0';
	size_t len = 0;
	bool unknown = false;
	const char *p, *sparam;
	char sno[32];
	int np = 2;
	unsigned bit;

	out[0] = '\0';
	sno[0] = '\0';
	if (!is_user(t)) {
		irc_numeric(c, ERR_NOSUCHNICK, "%s :No such nick/channel",
		    echo_name(m->param[0]));
		return;
	}
	if (t != c && !sa) {
		irc_numeric(c, ERR_USERSDONTMATCH,
		    ":Can't change mode for other users");
		return;
	}
	if (m->nparam < 2) {
		mode_user_string(t, out, sizeof(out));
		irc_numeric(c, RPL_UMODEIS, "%s", out);
		return;
	}
	for (p = m->param[1]; *p != '\0'; p++) {
		switch (*p) {
		case '+':
		case '-':
			sign = *p;
			break;
		case 'i':
			if ((sign == '+') == ((t->umodes & UMODE_INVISIBLE) != 0))
				break;
			t->umodes ^= UMODE_INVISIBLE;
			if (sign == '+')
				irc.ninvisible++;
			else if (irc.ninvisible > 0)
				irc.ninvisible--;
			mode_change_add(out, sizeof(out), &len, &last, sign, 'i');
			break;
		case 'B':
		case 'R':
		case 'T':
		case 'w':
			bit = *p == 'B' ? UMODE_BOT : *p == 'R' ? UMODE_REGONLY :
			    *p == 'T' ? UMODE_NOCTCP : UMODE_WALLOPS;
			if ((sign == '+') == ((t->umodes & bit) != 0))
				break;
			t->umodes ^= bit;
			mode_change_add(out, sizeof(out), &len, &last, sign, *p);
			break;
		case 'o':
			if (sign == '+' || (t->umodes & UMODE_OPER) == 0)
				break;
			irc_oper_down(t);
			mode_change_add(out, sizeof(out), &len, &last, '-', 'o');
			break;
		case 's':
			sparam = np < m->nparam ? m->param[np++] : NULL;
			if (sign == '+' && !irc_oper_can(t, "snomasks")) {
				irc_numeric(c, ERR_NOPRIVILEGES,
				    ":Permission Denied");
				break;
			}
			if (sign == '-' && t->ext->snomask == 0)
				break;
			irc_sno_change(t, sign == '-' ? "-*" : sparam != NULL ?
			    sparam : "+*", sno, sizeof(sno));
			mode_change_add(out, sizeof(out), &len, &last,
			    sno[0] != '\0' ? '+' : '-', 's');
			break;
		case 'Z':
			break;
		default:
			unknown = true;
			break;
		}
	}
	if (unknown)
		irc_numeric(c, ERR_UMODEUNKNOWNFLAG, ":Unknown MODE flag");
	if (len > 0) {
		irc_send(c, ":%s MODE %s :%s", c->nick, t->nick, out);
		if (t != c)	/* SAMODE: the user is told too */
			irc_send(t, ":%s MODE %s :%s", c->nick, t->nick, out);
	}
	if (sno[0] != '\0')
		irc_numeric(c, RPL_SNOMASK, "+%s :Server notice masks", sno);
}

/* ---- MODE: channel ---- */

/*
 * The changes one MODE applied, broadcast once as ":who MODE #chan +ov-k
 * a b key"; split over several lines only if one would pass 512 bytes.
 */
struct modebuf {
	struct chan	*ch;
	struct client	*from;
	char		 prefix[IRC_LINE_MAX];
	char		 modes[IRC_LINE_MAX];
	char		 args[IRC_LINE_MAX];
	size_t		 nm, na, fixed;
	char		 sign;
};

static void
modebuf_init(struct modebuf *mb, struct chan *ch, const struct client *c)
{
	mb->ch = ch;
	mb->from = (struct client *)c;
	snprintf(mb->prefix, sizeof(mb->prefix), "%s", irc_prefix(c));
	mb->nm = mb->na = 0;
	mb->sign = '\0';
	/* ":" prefix " MODE " name " " and CRLF */
	mb->fixed = strlen(mb->prefix) + strlen(ch->name) + 10;
}

static void
modebuf_flush(struct modebuf *mb)
{
	if (mb->nm == 0)
		return;
	mb->modes[mb->nm] = '\0';
	mb->args[mb->na] = '\0';
	irc_chan_event(mb->ch, mb->from, NULL, ":%s MODE %s %s%s",
	    mb->prefix,
	    mb->ch->name, mb->modes, mb->args);
	/* SAMODE from outside the channel: the operator sees it too */
	if (irc_member_find(mb->ch, mb->from) == NULL)
		irc_send(mb->from, ":%s MODE %s %s%s", mb->prefix,
		    mb->ch->name, mb->modes, mb->args);
	mb->nm = mb->na = 0;
	mb->sign = '\0';
}

static void
modebuf_add(struct modebuf *mb, char sign, char letter, const char *arg)
{
	size_t alen = arg != NULL ? strlen(arg) : 0;
	size_t need = 2 + (arg != NULL ? alen + 1 : 0);

	if (mb->nm > 0 && mb->fixed + mb->nm + mb->na + need > IRC_LINE_MAX)
		modebuf_flush(mb);
	if (mb->nm + 2 >= sizeof(mb->modes))
		return;		/* cannot happen: flushed above */
	if (mb->sign != sign)
		mb->modes[mb->nm++] = mb->sign = sign;
	mb->modes[mb->nm++] = letter;
	if (arg != NULL && mb->na + alen + 2 <= sizeof(mb->args)) {
		mb->args[mb->na++] = ' ';
		memcpy(mb->args + mb->na, arg, alen);
		mb->na += alen;
	}
}

/* 324 and 329: letters sorted, then f k l's values (key and limit
 * values only for members, the +f target for all, as Ergo). */
static void
mode_chan_show(struct client *c, const struct chan *ch, bool member)
{
	char modes[32], args[IRC_LINE_MAX];
	size_t nm = 0, na = 0, i;

	modes[nm++] = '+';
	args[0] = '\0';
	for (i = 0; i < sizeof(cmode_flags) / sizeof(cmode_flags[0]); i++) {
		if (cmode_flags[i].letter == 'i' && ch->forward != NULL)
			modes[nm++] = 'f';
		if (cmode_flags[i].letter == 'm') {
			/* keep the letters sorted: k and l go before m */
			if (ch->key != NULL)
				modes[nm++] = 'k';
			if (ch->limit != 0)
				modes[nm++] = 'l';
		}
		if (ch->modes & cmode_flags[i].bit)
			modes[nm++] = cmode_flags[i].letter;
	}
	modes[nm] = '\0';
	if (ch->forward != NULL)
		na += (size_t)snprintf(args + na, sizeof(args) - na, " %s",
		    ch->forward);
	if (member && ch->key != NULL && na < sizeof(args))
		na += (size_t)snprintf(args + na, sizeof(args) - na, " %s",
		    ch->key);
	if (member && ch->limit != 0 && na < sizeof(args))
		snprintf(args + na, sizeof(args) - na, " %u", ch->limit);
	irc_numeric(c, RPL_CHANNELMODEIS, "%s %s%s", ch->name, modes, args);
	irc_numeric(c, RPL_CREATIONTIME, "%s %lld", ch->name,
	    (long long)ch->created);
}

static void
mode_list_show(struct client *c, struct chan *ch, char letter)
{
	struct mask **head, *mk;
	unsigned *n;
	int rpl, end;
	const char *what;

	chan_list_of(ch, letter, &head, &n);
	switch (letter) {
	case 'b':
		rpl = RPL_BANLIST;
		end = RPL_ENDOFBANLIST;
		what = "ban";
		break;
	case 'e':
		rpl = RPL_EXCEPTLIST;
		end = RPL_ENDOFEXCEPTLIST;
		what = "exception";
		break;
	default:
		rpl = RPL_INVITELIST;
		end = RPL_ENDOFINVITELIST;
		what = "invite";
		break;
	}
	for (mk = *head; mk != NULL; mk = mk->next)
		irc_numeric(c, rpl, "%s %s %s %lld", ch->name, mk->mask,
		    mk->setter, (long long)mk->when);
	irc_numeric(c, end, "%s :End of channel %s list", ch->name, what);
}

/*
 * A list entry as kept and shown: a nick!user@host mask completed, the
 * extbans (EXTBAN=,am) "m:" before any mask and "a:account" as given.
 */
static void
mask_canon(char *dst, size_t sz, const char *arg)
{
	if ((arg[0] == 'm' || arg[0] == 'a') && arg[1] == ':' &&
	    arg[2] != '\0' && sz > 2) {
		dst[0] = arg[0];
		dst[1] = ':';
		if (arg[0] == 'm')
			mask_canon(dst + 2, sz - 2, arg + 2);
		else
			snprintf(dst + 2, sz - 2, "%s", arg + 2);
		return;
	}
	irc_mask_normalize(dst, sz, arg);
}

/*
 * +b/-b mask (and e, I). Returns whether the list changed; out gets the
 * mask as broadcast. Duplicates and absent masks change nothing.
 */
static bool
mode_list_change(struct client *c, struct chan *ch, char letter, bool add,
    const char *arg, char *out, size_t outsz, const char *setter)
{
	struct mask **head, **pp, *mk;
	unsigned *n;

	mask_canon(out, outsz, arg);
	chan_list_of(ch, letter, &head, &n);
	for (pp = head; *pp != NULL; pp = &(*pp)->next)
		if (irc_casecmp((*pp)->mask, out) == 0)
			break;
	if (!add) {
		if ((mk = *pp) == NULL)
			return false;
		snprintf(out, outsz, "%s", mk->mask);
		*pp = mk->next;
		(*n)--;
		mk->next = NULL;
		irc_masks_free(mk);
		return true;
	}
	if (*pp != NULL)
		return false;
	if (*n >= conf->chan_max_list) {
		irc_numeric(c, ERR_BANLISTFULL, "%s %s :Channel list is full",
		    ch->name, out);
		return false;
	}
	if ((mk = calloc(1, sizeof(*mk))) == NULL ||
	    (mk->mask = xstrdup(out)) == NULL ||
	    (mk->setter = xstrdup(setter)) == NULL) {
		irc_masks_free(mk);
		log_warnx("channels", "out of memory adding +%c to %s", letter,
		    ch->name);
		return false;
	}
	mk->when = ergo_now;
	*pp = mk;		/* at the end: lists keep the order set */
	(*n)++;
	return true;
}

/* A key is one word of at most CHAN_KEYLEN bytes that JOIN can carry. */
static bool
mode_key_valid(const char *key)
{
	size_t n = strlen(key);

	return n > 0 && n <= CHAN_KEYLEN && key[0] != ':' &&
	    strpbrk(key, " ,") == NULL;
}

static bool
mode_limit_parse(const char *s, unsigned *v)
{
	unsigned long l;
	char *end;

	if (*s < '0' || *s > '9' || strlen(s) > 9)
		return false;
	l = strtoul(s, &end, 10);
	if (*end != '\0' || l == 0)
		return false;
	*v = (unsigned)l;
	return true;
}

/* Whether c may change modes now (ops and up, or SAMODE: sa); the first
 * refusal of a MODE says 482. */
static bool
mode_may_change(struct client *c, struct chan *ch, bool sa, bool *refused)
{
	if (sa || is_op(ch, c))
		return true;
	if (!*refused)
		not_op(c, ch);
	*refused = true;
	return false;
}

/*
 * +q/+a/+o/+h/+v nick and their removal. Ergo's rules: the founder's
 * account does anything, anyone may take a mode off themselves, else
 * c's rank must be over the mode (channelUserModeHasPrivsOver); SAMODE
 * (sa) needs no rank.
 */
static void
mode_member_change(struct client *c, struct chan *ch, struct modebuf *mb,
    char sign, char letter, const char *nick, bool sa, bool *refused)
{
	struct client *t;
	struct member *tm;
	unsigned char bit = irc_memb_letter(letter);

	if (!is_user(t = irc_client_find(nick))) {
		irc_numeric(c, ERR_NOSUCHNICK, "%s :No such nick/channel",
		    echo_name(nick));
		return;
	}
	if (!sa && !(sign == '-' && t == c) &&
	    !irc_chan_is_at_least(ch, c, MEMB_FOUNDER) &&
	    !irc_rank_over(irc_member_rank(irc_member_find(ch, c)), bit)) {
		if (!*refused)
			not_op(c, ch);
		*refused = true;
		return;
	}
	if ((tm = irc_member_find(ch, t)) == NULL) {
		irc_numeric(c, ERR_USERNOTINCHANNEL,
		    "%s %s :They aren't on that channel", t->nick, ch->name);
		return;
	}
	if ((sign == '+') == ((tm->modes & bit) != 0))
		return;
	tm->modes ^= bit;
	irc_user_changed(t);
	modebuf_add(mb, sign, letter, t->nick);
}

/* +f #target: an existing channel, not this one, where c is an op
 * (SAMODE, sa: anywhere). */
static void
mode_forward_set(struct client *c, struct chan *ch, struct modebuf *mb,
    const char *arg, bool sa)
{
	struct chan *to = irc_chan_find(arg);
	char *f;

	if (to == NULL || to == ch) {
		irc_numeric(c, ERR_INVALIDMODEPARAM, "%s f %s :%s", ch->name,
		    echo_word(arg), to == NULL ? "No such channel" :
		    "You can't forward a channel to itself");
		return;
	}
	if (!sa && !is_op(to, c)) {
		irc_numeric(c, ERR_CHANOPRIVSNEEDED, "%s :You must be a "
		    "channel operator in the channel you are forwarding to",
		    to->name);
		return;
	}
	if (ch->forward != NULL && strcmp(ch->forward, to->name) == 0)
		return;
	if ((f = xstrdup(to->name)) == NULL) {
		log_warnx("channels", "out of memory setting +f on %s",
		    ch->name);
		return;
	}
	free(ch->forward);
	ch->forward = f;
	modebuf_add(mb, '+', 'f', f);
}

/*
 * MODE #chan [changes [params]]: list queries (b e I without a parameter)
 * need no privilege; every change needs +o, but under SAMODE (sa). At
 * most CHAN_MODES_MAX parameters are taken; further parameter modes are
 * ignored.
 */
static void
mode_chan(struct client *c, struct chan *ch, struct msg *m, bool sa)
{
	struct modebuf mb;
	char sign = '+', mask[IRC_LINE_MAX], num[16];
	bool refused = false, listed[3] = { false, false, false };
	unsigned char unknown[256 / 8];
	int ai = 2, nparams = 0;
	const char *p, *arg;
	unsigned bit, lim;

	if (m->nparam < 2) {
		mode_chan_show(c, ch, irc_member_find(ch, c) != NULL);
		return;
	}
	memset(unknown, 0, sizeof(unknown));
	modebuf_init(&mb, ch, c);
	for (p = m->param[1]; *p != '\0'; p++) {
		arg = NULL;
		switch (*p) {
		case '+':
		case '-':
			sign = *p;
			continue;
		case 'b':
		case 'e':
		case 'I':
		case 'f':
		case 'k':
		case 'l':
		case 'q':
		case 'a':
		case 'o':
		case 'h':
		case 'v':
			break;
		default:
			if ((bit = cmode_bit(*p)) == 0) {
				unsigned char u = (unsigned char)*p;

				/* named only if it can be a parameter: not
				 * a space, a ':' or a byte of a UTF-8 one */
				if (u > ' ' && u < 0x7f && u != ':' &&
				    (unknown[u / 8] & (1 << (u % 8))) == 0)
					irc_numeric(c, ERR_UNKNOWNMODE,
					    "%c :is unknown mode char to me",
					    *p);
				unknown[u / 8] |= 1 << (u % 8);
				continue;
			}
			if (!mode_may_change(c, ch, sa, &refused) ||
			    (sign == '+') == ((ch->modes & bit) != 0))
				continue;
			ch->modes ^= bit;
			modebuf_add(&mb, sign, *p, NULL);
			continue;
		}
		/* modes with a parameter, or a list query */
		if (*p == 'l' && sign == '-') {
			if (mode_may_change(c, ch, sa, &refused) && ch->limit != 0) {
				ch->limit = 0;
				modebuf_add(&mb, '-', 'l', NULL);
			}
			continue;
		}
		if (*p == 'f' && sign == '-') {
			if (mode_may_change(c, ch, sa, &refused) &&
			    ch->forward != NULL) {
				free(ch->forward);
				ch->forward = NULL;
				modebuf_add(&mb, '-', 'f', NULL);
			}
			continue;
		}
		if (ai < m->nparam && nparams < CHAN_MODES_MAX) {
			arg = m->param[ai++];
			nparams++;
		} else if (ai < m->nparam)
			continue;	/* over the MODES limit */
		if (arg == NULL && strchr("beI", *p) != NULL) {
			int k = *p == 'b' ? 0 : *p == 'e' ? 1 : 2;

			if (!listed[k])
				mode_list_show(c, ch, *p);
			listed[k] = true;
			continue;
		}
		if (arg == NULL && !(*p == 'k' && sign == '-'))
			continue;	/* missing parameter: ignored */
		if (irc_memb_letter(*p) != 0) {	/* checked per rank */
			mode_member_change(c, ch, &mb, sign, *p, arg, sa,
			    &refused);
			continue;
		}
		if (!mode_may_change(c, ch, sa, &refused))
			continue;
		switch (*p) {
		case 'b':
		case 'e':
		case 'I':
			if (*arg == '\0' || *arg == ':')
				break;
			if (!irc_mask_valid(arg)) {	/* as Ergo words it */
				irc_numeric(c, ERR_INVALIDMODEPARAM, "%s %c %s "
				    ":Invalid mode %c parameter: %s", ch->name,
				    *p, echo_word(arg), *p, echo_word(arg));
				break;
			}
			if (mode_list_change(c, ch, *p, sign == '+', arg, mask,
			    sizeof(mask), mb.prefix))
				modebuf_add(&mb, sign, *p, mask);
			break;
		case 'k':
			if (sign == '-') {
				/* any or no key removes it, as in Ergo */
				if (ch->key == NULL)
					break;
				modebuf_add(&mb, '-', 'k', ch->key);
				free(ch->key);
				ch->key = NULL;
			} else if (!mode_key_valid(arg))
				irc_numeric(c, ERR_INVALIDKEY,
				    "%s :Key is not well-formed", ch->name);
			else if (ch->key != NULL)
				irc_numeric(c, ERR_KEYSET,
				    "%s :Channel key already set", ch->name);
			else if ((ch->key = xstrdup(arg)) == NULL)
				log_warnx("channels", "out of memory setting "
				    "key");
			else
				modebuf_add(&mb, '+', 'k', ch->key);
			break;
		case 'l':
			if (!mode_limit_parse(arg, &lim)) {
				irc_numeric(c, ERR_INVALIDMODEPARAM,
				    "%s l %s :Invalid limit", ch->name,
				    echo_name(arg));
				break;
			}
			if (lim == ch->limit)
				break;
			ch->limit = lim;
			snprintf(num, sizeof(num), "%u", lim);
			modebuf_add(&mb, '+', 'l', num);
			break;
		case 'f':
			mode_forward_set(c, ch, &mb, arg, sa);
			break;
		default:
			break;
		}
	}
	modebuf_flush(&mb);
	IRC_HOOK_RUN(chan_changed, ch);	/* a registered one keeps them */
}

/* SAMODE: the operators with snomask o hear of it, as in Ergo, once
 * its target is known to exist. */
static void
mode_sa_notice(struct client *c, struct msg *m)
{
	char params[IRC_LINE_MAX];

	sa_params(m, params, sizeof(params));
	log_info("opers", "Operator %s ran SAMODE %s", oper_name(c), params);
	irc_sno('o', "Operator %s ran SAMODE %s", oper_name(c), params);
}

/* MODE and SAMODE (sa): a channel's or a user's. */
static void
mode_any(struct client *c, struct msg *m, bool sa)
{
	const char *target = m->param[0];
	struct chan *ch;

	if (target[0] != '#' && target[0] != '&') {
		if (sa && is_user(irc_client_find(target)))
			mode_sa_notice(c, m);
		mode_user(c, m, sa);
		return;
	}
	if ((ch = irc_chan_find(target)) == NULL) {
		irc_numeric(c, ERR_NOSUCHCHANNEL, "%s :No such channel",
		    echo_name(target));
		return;
	}
	if (sa)
		mode_sa_notice(c, m);
	mode_chan(c, ch, m, sa);
}

void
h_mode(struct client *c, struct msg *m)
{
	mode_any(c, m, false);
}

/* SAMODE #chan|nick [changes [params]] (capability samode): MODE
 * regardless of channel rank, or on another user. */
void
h_samode(struct client *c, struct msg *m)
{
	mode_any(c, m, true);
}
