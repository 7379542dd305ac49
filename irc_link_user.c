/*
 * irc_link_user.c: what links carry about users and channels: the
 * burst, remote users (UID/EUID: users without sessions here, on the
 * server they came from), and the live traffic about them. Calls
 * irc_state, irc_user and irc_out; the server tree is irc_link.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc_link_int.h"
#include "ergo.h"
#include "log.h"
#include "irc_util.h"
#include "irc_state.h"

struct lk_user {
	char		 uid[LK_UIDLEN + 1];
	struct server	*server;
	time_t		 ts;		/* nick TS */
};

#define LK_STUB(name)							\
void									\
name(struct link *l, struct server *from, struct client *u,		\
    struct msg *m)							\
{									\
	(void)l; (void)from; (void)u; (void)m;				\
}
LK_STUB(lk_away) LK_STUB(lk_encap) LK_STUB(lk_euid) LK_STUB(lk_join)
LK_STUB(lk_kick) LK_STUB(lk_kill) LK_STUB(lk_mode) LK_STUB(lk_nick)
LK_STUB(lk_notice) LK_STUB(lk_part) LK_STUB(lk_privmsg) LK_STUB(lk_quit)
LK_STUB(lk_sjoin) LK_STUB(lk_tagmsg) LK_STUB(lk_tb) LK_STUB(lk_tmode)
LK_STUB(lk_topic) LK_STUB(lk_uid) LK_STUB(lk_bmask) LK_STUB(lk_whois)

struct client *
lk_user_uid(const char *uid)
{
	(void)uid;
	return NULL;
}

struct server *
lk_user_server(const struct client *c)
{
	return c->lk != NULL && c->lk->server != NULL ? c->lk->server :
	    &lk_me;
}

void
lk_burst(struct link *l)
{
	(void)l;
}

void
lk_users_split(struct server *s)
{
	(void)s;
}

void
lk_user_init(void)
{
}
