/*
 * irc_chan_int.h: what the two files of the channel commands share
 * (irc_chan.c: JOIN PART KICK TOPIC NAMES LIST INVITE ACCEPT SAJOIN;
 * irc_chan_mode.c: MODE and SAMODE). Only those two include it.
 */
#ifndef IRC_CHAN_INT_H
#define IRC_CHAN_INT_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "irc_state.h"
#include "irc_out.h"
#include "irc_num.h"

/*
 * A client-supplied name that is safe to echo as a middle parameter:
 * "*" for one that is empty, starts with ':' or holds a space (a name
 * from a trailing parameter, "NAMES : #a b", may).
 */
static inline const char *
echo_name(const char *s)
{
	return s[0] == '\0' || s[0] == ':' || strchr(s, ' ') != NULL ?
	    "*" : s;
}

/* Like echo_name, and "*" for anything with a space or control byte. */
static inline const char *
echo_word(const char *s)
{
	const char *p;

	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return "*";
	return echo_name(s);
}


static inline bool
is_user(const struct client *c)
{
	return c != NULL && (c->flags & CF_REG) != 0;
}

/* Ergo's ClientIsAtLeast(ChannelOperator): q, a or o, or the founder. */
static inline bool
is_op(const struct chan *ch, const struct client *c)
{
	return irc_chan_is_at_least(ch, c, MEMB_OP);
}

static inline void
not_op(struct client *c, const struct chan *ch)
{
	irc_numeric(c, ERR_CHANOPRIVSNEEDED, "%s :You're not a channel "
	    "operator", ch->name);
}

/* The oper block's name, as Ergo's snomasks name an operator. */
static inline const char *
oper_name(const struct client *c)
{
	return irc_oper_name_or(c, c->nick);
}

/* "p0 p1 ...", the parameters of an SA command, for its notice. */
static inline void
sa_params(const struct msg *m, char *buf, size_t sz)
{
	size_t n = 0;
	int i, w;

	buf[0] = '\0';
	for (i = 0; i < m->nparam && n < sz; i++) {
		w = snprintf(buf + n, sz - n, "%s%s", i > 0 ? " " : "",
		    m->param[i]);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

#endif
