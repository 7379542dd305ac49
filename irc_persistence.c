/*
 * irc_persistence.c: draft/persistence (PERSISTENCE GET | SET
 * ON|OFF|DEFAULT), Ergo's wording: the account's always-on setting and
 * whether it is in effect. The setting is NickServ SET ALWAYS-ON's
 * (store.c); irc_alwayson.c applies it after the command. Calls the
 * lower layers only.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "irc_persistence.h"
#include "ergo.h"
#include "conf.h"
#include "store.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_account.h"
#include "irc_alwayson.h"

static const char *const set_names[] = { "DEFAULT", "ON", "OFF" };

/* PERSISTENCE STATUS <stored> <effective> to s. */
static void
status_send(struct session *s, int set)
{
	irc_send_session(s, ":%s PERSISTENCE STATUS %s %s", conf->server_name,
	    set_names[set], irc_account_always_on(set) ? "ON" : "OFF");
}

void
h_persistence(struct client *c, struct msg *m)
{
	struct session *s, *me = irc_sess(c);
	struct client *u;
	int set;

	if (c->account == NULL) {
		irc_fail(c, "FAIL", "PERSISTENCE", "ACCOUNT_REQUIRED",
		    ":You're not logged into an account");
		return;
	}
	if (strcasecmp(m->param[0], "GET") == 0) {
		status_send(me, c->ext->acset.always_on);
		return;
	}
	if (strcasecmp(m->param[0], "SET") != 0 || m->nparam < 2)
		goto invalid;
	for (set = SET_DEFAULT; set <= SET_OFF; set++)
		if (strcasecmp(m->param[1], set_names[set]) == 0)
			break;
	if (set > SET_OFF)
		goto invalid;
	if (irc_account_always_on(set) && !irc_alwayson_room(c)) {
		irc_fail(c, "FAIL", "PERSISTENCE", "UNKNOWN_ERROR",
		    ":This server has as many always-on users as it allows");
		return;
	}
	if (set != c->ext->acset.always_on &&
	    store_account_always_on(c->account_id, set) == -1) {
		irc_fail(c, "FAIL", "PERSISTENCE", "UNKNOWN_ERROR",
		    ":An error occurred");
		return;
	}
	for (u = irc_account_sessions(c->account_id); u != NULL;
	    u = u->ext->acnext) {
		u->ext->acset.always_on = set;
		irc_user_changed(u);	/* irc_alwayson.c, after the command */
	}
	status_send(me, set);
	/* the user's other sessions that speak it hear of it too */
	for (s = c->sess; s != NULL; s = s->next)
		if (s != me && (s->caps & CAP_PERSISTENCE))
			status_send(s, set);
	return;
invalid:
	irc_fail(c, "FAIL", "PERSISTENCE", "INVALID_PARAMS",
	    ":Invalid parameters");
}
