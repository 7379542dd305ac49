/*
 * irc_monitor.c: presence for modern clients: IRCv3 MONITOR (730-734,
 * extended-monitor), told of nick changes, quits and events through
 * hooks. Replies go through irc_out.c: no sockets, no SQL.
 *
 * Every watched nick has one mon_target (hashed by its folded form)
 * listing its watchers; every watcher lists its own links, so adding,
 * removing, a quit and a nick change cost O(entries involved), never a
 * scan of all clients.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc_monitor.h"
#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_num.h"


/* Room for a reply's text after ":server NUM nick " and before CRLF. */
#define LINE_BODY_MAX		(IRC_LINE_MAX - 2)

struct mon_target {
	struct hent	 h;		/* folded nick */
	struct mon_link	*watchers;
};

/* One (watcher, nick) pair, in both lists; name is as the watcher gave it. */
struct mon_link {
	struct mon_target *t;
	struct client	*c;
	struct mon_link	*tnext, *tprev;	/* in t->watchers */
	struct mon_link	*cnext, *cprev;	/* in c->monitors */
	char		 name[];
};

static struct htab	 targets;
static bool		 targets_ready;

static struct mon_target *
target_get(const char *folded)
{
	if (!targets_ready)
		return NULL;
	return (struct mon_target *)(void *)htab_get(&targets, folded);
}

/* The link of c to folded, or NULL; walks c's list (at most the limit). */
static struct mon_link *
link_find(const struct client *c, const char *folded)
{
	struct mon_link *l;

	for (l = c->ext->monitors; l != NULL; l = l->cnext)
		if (strcmp(l->t->h.key, folded) == 0)
			return l;
	return NULL;
}

static void
link_del(struct mon_link *l)
{
	struct mon_target *t = l->t;
	struct client *c = l->c;

	if (l->tprev != NULL)
		l->tprev->tnext = l->tnext;
	else
		t->watchers = l->tnext;
	if (l->tnext != NULL)
		l->tnext->tprev = l->tprev;
	if (l->cprev != NULL)
		l->cprev->cnext = l->cnext;
	else
		c->ext->monitors = l->cnext;
	if (l->cnext != NULL)
		l->cnext->cprev = l->cprev;
	c->ext->nmonitors--;
	free(l);
	if (t->watchers == NULL) {
		htab_del(&targets, &t->h);
		free(t->h.key);
		free(t);
		if (targets.n == 0) {
			/* nobody monitors anything: give the buckets back */
			htab_free(&targets);
			targets_ready = false;
		}
	}
}

/* Adds the link c -> nick after *tail (NULL: at the head); 0, or -1. */
static int
link_add(struct client *c, const char *nick, const char *folded,
    struct mon_link **tail)
{
	struct mon_target *t;
	struct mon_link *l;
	size_t n = strlen(nick) + 1;

	if (!targets_ready) {
		htab_init(&targets);
		targets_ready = true;
	}
	if (irc_cx(c) == NULL || (l = malloc(sizeof(*l) + n)) == NULL)
		return -1;
	memcpy(l->name, nick, n);
	if ((t = target_get(folded)) == NULL) {
		if ((t = calloc(1, sizeof(*t))) == NULL ||
		    (t->h.key = xstrdup(folded)) == NULL ||
		    htab_put(&targets, &t->h) == -1) {
			if (t != NULL)
				free(t->h.key);
			free(t);
			free(l);
			return -1;
		}
	}
	l->t = t;
	l->c = c;
	l->tprev = NULL;
	l->tnext = t->watchers;
	if (t->watchers != NULL)
		t->watchers->tprev = l;
	t->watchers = l;
	/* in the order given: MONITOR L lists them as they were added */
	l->cprev = *tail;
	l->cnext = NULL;
	if (*tail != NULL)
		(*tail)->cnext = l;
	else
		c->ext->monitors = l;
	*tail = l;
	c->ext->nmonitors++;
	return 0;
}

/* ---- replies that list names: as many per line as fit ---- */

struct namelist {
	struct client	*c;
	int		 num;
	size_t		 room, len;
	char		 buf[IRC_LINE_MAX];
};

static void
namelist_init(struct namelist *nl, struct client *c, int num)
{
	size_t used;

	nl->c = c;
	nl->num = num;
	nl->len = 0;
	/* ':' server ' ' NNN ' ' nick ' ' ':' */
	used = 1 + strlen(conf->server_name) + 5 + strlen(c->nick) + 2;
	nl->room = used < LINE_BODY_MAX ? LINE_BODY_MAX - used : 0;
	if (nl->room > sizeof(nl->buf) - 1)
		nl->room = sizeof(nl->buf) - 1;
}

static void
namelist_flush(struct namelist *nl)
{
	if (nl->len == 0)
		return;
	nl->buf[nl->len] = '\0';
	irc_numeric(nl->c, nl->num, ":%s", nl->buf);
	nl->len = 0;
}

static void
namelist_add(struct namelist *nl, const char *word)
{
	size_t n = strlen(word);

	if (n > nl->room)
		return;		/* cannot happen with sane limits */
	if (nl->len > 0 && nl->len + 1 + n > nl->room)
		namelist_flush(nl);
	if (nl->len > 0)
		nl->buf[nl->len++] = ',';
	memcpy(nl->buf + nl->len, word, n);
	nl->len += n;
}

static bool
online(const struct client *u)
{
	return u != NULL && (u->flags & CF_REG) && !(u->flags & CF_CLOSING);
}

/* 730 for the online ones, 731 for the others, of c's links from..to. */
static void
status_send(struct client *c, struct mon_link *from, struct mon_link *to)
{
	struct namelist on, off;
	struct mon_link *l;
	struct client *u;

	namelist_init(&on, c, RPL_MONONLINE);
	namelist_init(&off, c, RPL_MONOFFLINE);
	for (l = from; l != to; l = l->cnext) {
		if (online(u = irc_client_find(l->name)))
			namelist_add(&on, irc_prefix(u));
		else
			namelist_add(&off, l->name);
	}
	namelist_flush(&on);
	namelist_flush(&off);
}

/* ---- MONITOR ---- */

static unsigned
monitor_max(void)
{
	return conf->limits.monitor;
}

static void
monitor_add(struct client *c, char *list)
{
	char *t, *comma, folded[NICKLEN_MAX + 1];
	struct mon_link *tail, *last, *dup;
	struct namelist dups_on, dups_off;
	struct client *u;

	for (tail = c->ext->monitors; tail != NULL && tail->cnext != NULL;
	    tail = tail->cnext)
		;
	last = tail;		/* what follows it is new */

	namelist_init(&dups_on, c, RPL_MONONLINE);
	namelist_init(&dups_off, c, RPL_MONOFFLINE);
	for (t = list; t != NULL; t = comma != NULL ? comma + 1 : NULL) {
		if ((comma = strchr(t, ',')) != NULL)
			*comma = '\0';
		if (!irc_nick_valid(t))
			continue;	/* never a nick: nothing to watch */
		irc_fold(folded, t, sizeof(folded));
		if ((dup = link_find(c, folded)) != NULL) {
			/* already watched: its status again, not a new entry */
			if (online(u = irc_client_find(t)))
				namelist_add(&dups_on, irc_prefix(u));
			else
				namelist_add(&dups_off, dup->name);
			continue;
		}
		if (c->ext->nmonitors >= monitor_max()) {
			/* this target and the ones after it were not added */
			if (comma != NULL)
				*comma = ',';
			status_send(c, last != NULL ? last->cnext :
			    c->ext->monitors, NULL);
			namelist_flush(&dups_on);
			namelist_flush(&dups_off);
			irc_numeric(c, ERR_MONLISTFULL, "%u %s :Monitor list "
			    "is full", monitor_max(), t);
			return;
		}
		if (link_add(c, t, folded, &tail) == -1) {
			log_warnx("irc", "out of memory: MONITOR for %s",
			    c->nick);
			break;
		}
	}
	status_send(c, last != NULL ? last->cnext : c->ext->monitors, NULL);
	namelist_flush(&dups_on);
	namelist_flush(&dups_off);
}

static void
monitor_del(struct client *c, char *list)
{
	char *t, *save = NULL, folded[NICKLEN_MAX + 1];
	struct mon_link *l;

	for (t = strtok_r(list, ",", &save); t != NULL;
	    t = strtok_r(NULL, ",", &save)) {
		irc_fold(folded, t, sizeof(folded));
		if ((l = link_find(c, folded)) != NULL)
			link_del(l);
	}
}

static void
monitor_clear(struct client *c)
{
	while (c->ext->monitors != NULL)
		link_del(c->ext->monitors);
}

static void
monitor_list(struct client *c)
{
	struct namelist nl;
	struct mon_link *l;

	namelist_init(&nl, c, RPL_MONLIST);
	for (l = c->ext->monitors; l != NULL; l = l->cnext)
		namelist_add(&nl, l->name);
	namelist_flush(&nl);
	irc_numeric(c, RPL_ENDOFMONLIST, ":End of MONITOR list");
}

/* MONITOR + nick[,nick...] | - nick[,...] | C | L | S */
void
h_monitor(struct client *c, struct msg *m)
{
	const char *op = m->param[0];

	if (op[0] == '\0' || op[1] != '\0')
		goto unknown;
	switch (op[0]) {
	case '+':
	case '-':
		if (m->nparam < 2 || m->param[1][0] == '\0') {
			irc_numeric(c, ERR_NEEDMOREPARAMS,
			    "MONITOR :Not enough parameters");
			return;
		}
		if (op[0] == '+')
			monitor_add(c, m->param[1]);
		else
			monitor_del(c, m->param[1]);
		return;
	case 'C':
	case 'c':
		monitor_clear(c);
		return;
	case 'L':
	case 'l':
		monitor_list(c);
		return;
	case 'S':
	case 's':
		status_send(c, c->ext->monitors, NULL);
		return;
	}
unknown:
	irc_numeric(c, ERR_UNKNOWNERROR, "MONITOR %s :Unknown subcommand",
	    op[0] != '\0' ? op : "*");
}

/* ---- presence changes: hooks from irc.c ---- */

/* Tells every watcher of folded (but u itself) that u is on or off. */
static void
notify(struct client *u, const char *folded, const char *nick, bool on)
{
	struct mon_target *t;
	struct mon_link *l;

	if ((t = target_get(folded)) == NULL)
		return;
	for (l = t->watchers; l != NULL; l = l->tnext) {
		if (l->c == u)
			continue;
		if (on)
			irc_numeric(l->c, RPL_MONONLINE, ":%s", irc_prefix(u));
		else
			irc_numeric(l->c, RPL_MONOFFLINE, ":%s", nick);
	}
}

/* c finished registration: it is online under its nick. */
void
irc_monitor_online(struct client *c)
{
	char folded[NICKLEN_MAX + 1];

	irc_fold(folded, c->nick, sizeof(folded));
	notify(c, folded, c->nick, true);
}

/* A registered c went from oldprefix (nick!user@host) to c->nick. */
void
irc_monitor_nick(struct client *c, const char *oldprefix)
{
	char oldnick[NICKLEN_MAX + 1], oldf[NICKLEN_MAX + 1];
	char newf[NICKLEN_MAX + 1];

	snprintf(oldnick, sizeof(oldnick), "%.*s",
	    (int)strcspn(oldprefix, "!"), oldprefix);
	irc_fold(oldf, oldnick, sizeof(oldf));
	irc_fold(newf, c->nick, sizeof(newf));
	if (strcmp(oldf, newf) == 0)
		return;		/* a change of case: still the same nick */
	notify(c, oldf, oldnick, false);
	notify(c, newf, c->nick, true);
}

/*
 * c is leaving: its watchers see it go offline (if it was online), and
 * its own list is freed. Safe on any client, registered or not.
 */
void
irc_monitor_quit(struct client *c)
{
	char folded[NICKLEN_MAX + 1];

	if ((c->flags & CF_REG) && c->nick[0] != '\0') {
		irc_fold(folded, c->nick, sizeof(folded));
		notify(c, folded, c->nick, false);
	}
	monitor_clear(c);
}

/*
 * extended-monitor: an AWAY, ACCOUNT, CHGHOST or SETNAME of c that
 * irc_ev_peers just sent to c's channel peers also reaches those who
 * monitor c with extended-monitor (and the event's own cap), once:
 * irc_ev_peers marked everyone it reached with c->mark.
 */
/* The watchers hook: fn for each user monitoring c's nick (not c). */
static void
monitor_watchers(struct client *c, void (*fn)(struct client *, void *),
    void *arg)
{
	char folded[NICKLEN_MAX + 1];
	struct mon_target *t;
	struct mon_link *l;

	irc_fold(folded, c->nick, sizeof(folded));
	if ((t = target_get(folded)) == NULL)
		return;
	for (l = t->watchers; l != NULL; l = l->tnext)
		if (l->c != c)
			fn(l->c, arg);
}

void
irc_monitor_init(void)
{
	irc_hooks.watchers = monitor_watchers;
	IRC_HOOK_ADD(peers_sent, irc_monitor_ev);
	IRC_HOOK_ADD(nick_changed, irc_monitor_nick);
	IRC_HOOK_ADD(quit, irc_monitor_quit);
	IRC_HOOK_ADD(remote_user, irc_monitor_online);	/* server links */
}

void
irc_monitor_ev(struct irc_ev *ev, struct client *c)
{
	char folded[NICKLEN_MAX + 1];
	struct mon_target *t;
	struct mon_link *l;
	uint32_t gen = c->mark;

	if (!(ev->need & (CAP_AWAY_NOTIFY | CAP_ACCOUNT_NOTIFY |
	    CAP_CHGHOST | CAP_SETNAME)) || !(c->flags & CF_REG))
		return;
	irc_fold(folded, c->nick, sizeof(folded));
	if ((t = target_get(folded)) == NULL)
		return;
	for (l = t->watchers; l != NULL; l = l->tnext) {
		if (l->c->mark == gen ||
		    !(irc_user_caps(l->c) & CAP_EXTENDED_MONITOR))
			continue;
		l->c->mark = gen;
		irc_ev_send(ev, l->c);
	}
}
