/*
 * irc_alwayson.c: always-on users (Ergo's accounts.multiclient
 * always-on): a user that stays, in its channels, with no session, and
 * across restarts. Writes each one's lasting state (nick, channels with
 * the member's modes, user modes, away, last seen) to store.c after the
 * command that changed it and before its reply goes out; brings them
 * back at start; auto-away when the last session leaves and back when
 * one attaches. Calls irc_account, irc_user, irc_out, irc_state and
 * store; never a command family or the roof.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc_alwayson.h"
#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "store.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_account.h"
#include "irc_user.h"

/* Ergo's text for the away of an always-on user nobody is using. */
#define AUTO_AWAY_TEXT	"User is currently disconnected"

/* The user modes a restart keeps (+o and +Z belong to a connection). */
#define AO_UMODES	(UMODE_INVISIBLE | UMODE_WALLOPS | UMODE_BOT | \
			 UMODE_REGISTERED)

static unsigned	 ao_count;	/* always-on users now */
static time_t	 ao_swept;	/* last always-on-expiration sweep */

/*
 * "o,#a ov,#b ,&c": each channel with the letters of the member's ranks
 * (q a o h v) and a comma, which no channel name holds; not the prefix
 * symbols, as & is a rank's and a channel type's both. Malloc'd; NULL:
 * out of memory.
 */
static char *
chans_text(const struct client *c)
{
	static const unsigned char bits[] = { MEMB_FOUNDER, MEMB_ADMIN,
	    MEMB_OP, MEMB_HALFOP, MEMB_VOICE };
	const struct member *mb;
	size_t n = 1, off = 0, i;
	char *s;

	for (mb = c->chans; mb != NULL; mb = mb->unext)
		n += strlen(mb->ch->name) + sizeof(bits) + 2;
	if ((s = malloc(n)) == NULL)
		return NULL;
	s[0] = '\0';
	for (mb = c->chans; mb != NULL; mb = mb->unext) {
		if (off > 0)
			s[off++] = ' ';
		for (i = 0; i < sizeof(bits); i++)
			if (mb->modes & bits[i])
				s[off++] = irc_memb_letter_of(bits[i]);
		off += (size_t)snprintf(s + off, n - off, ",%s", mb->ch->name);
	}
	return s;
}

/* The ranks of a saved "ov,#chan": their bits; *name past the comma. */
static unsigned char
ranks_of(char **name)
{
	unsigned char modes = 0;
	char *comma = strchr(*name, ',');
	const char *p;

	if (comma == NULL)
		return 0;
	for (p = *name; p < comma; p++)
		modes |= irc_memb_letter(*p);
	*name = comma + 1;
	return modes;
}

/* FNV-1a over the strings and numbers a write would hold. */
static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n-- > 0) {
		h ^= *b++;
		h *= 1099511628211ULL;
	}
	return h;
}

static uint64_t
state_hash(const struct client *c, const char *chans)
{
	uint64_t h = 14695981039346656037ULL;
	unsigned um = c->umodes & AO_UMODES;
	bool sess = c->sess != NULL;
	const char *away = c->ext->away;

	h = fnv(h, c->nick, strlen(c->nick) + 1);
	h = fnv(h, c->user, strlen(c->user) + 1);
	h = fnv(h, c->host, strlen(c->host) + 1);
	h = fnv(h, c->realname, strlen(c->realname) + 1);
	h = fnv(h, away != NULL ? away : "\1", away != NULL ?
	    strlen(away) + 1 : 1);
	h = fnv(h, chans, strlen(chans) + 1);
	h = fnv(h, &um, sizeof(um));
	h = fnv(h, &sess, sizeof(sess));	/* last_seen matters then */
	return h | 1;		/* 0: never written */
}

/* Writes c's row if its state changed since the last write. */
static void
ao_save(struct client *c)
{
	struct store_alwayson u;
	uint64_t h;
	char *chans;

	if (c->user == NULL || c->realname == NULL || c->host == NULL)
		return;
	if ((chans = chans_text(c)) == NULL) {
		log_warnx("accounts", "out of memory saving always-on %s",
		    c->nick);
		return;
	}
	if ((h = state_hash(c, chans)) != c->ext->ao_saved) {
		memset(&u, 0, sizeof(u));
		u.account = c->account_id;
		u.nick = c->nick;
		u.user = c->user;
		u.host = c->host;
		u.realname = c->realname;
		u.umodes = c->umodes & AO_UMODES;
		u.away = c->ext->away;
		u.channels = chans;
		u.last_seen = c->sess != NULL ? ergo_now : c->ext->last_seen;
		if (store_alwayson_put(&u) == 0)	/* else logged; retried */
			c->ext->ao_saved = h;		/* at the next change */
	}
	free(chans);
}

/* ---- turning it on and off ---- */

/* Whether c should be always-on now: logged in, the policy says so. */
static bool
ao_wanted(const struct client *c)
{
	const char *info;

	/* a user of another server logged in here (its NickServ) is
	 * always-on there or not at all */
	if (irc_hooks.user_server != NULL &&
	    irc_hooks.user_server(c, &info) != NULL)
		return false;
	return c->account_id != 0 && (c->flags & CF_REG) &&
	    !(c->flags & CF_CLOSING) &&
	    irc_account_always_on(c->ext->acset.always_on);
}

/* (c has its rare part: ao_wanted read its account's setting there) */
static void
ao_on(struct client *c)
{
	c->always_on = true;
	c->ext->ao_account = c->account_id;
	c->ext->ao_saved = 0;
	ao_count++;
}

static void
ao_off(struct client *c)
{
	if (!c->always_on)
		return;
	c->always_on = false;
	c->ext->ao_saved = 0;
	ao_count--;
	(void)store_alwayson_delete(c->ext->ao_account);	/* logged */
	c->ext->ao_account = 0;
}

/*
 * After each command and timer pass: every user whose lasting state may
 * have changed becomes or stops being always-on as its account says
 * (a login, a logout, NickServ SET), and an always-on one is written if
 * its state differs from the last write. One left with no session and
 * no reason to stay (logged out, turned off) ends.
 */
void
irc_alwayson_sync(void)
{
	struct client *c;

	while ((c = irc.changed) != NULL) {
		irc.changed = c->chnext;
		c->changed = false;
		c->chnext = NULL;
		if (c->flags & CF_CLOSING)
			continue;
		if (ao_wanted(c) && irc_alwayson_room(c)) {
			if (!c->always_on ||
			    c->ext->ao_account != c->account_id) {
				ao_off(c);
				ao_on(c);
			}
			ao_save(c);
		} else if (c->always_on) {
			ao_off(c);
			/* only what always-on kept: not a user of another
			 * server, which has no session here either */
			if (c->sess == NULL)
				irc_user_kill(c, "Client exited", NULL);
		}
	}
}

bool
irc_alwayson_room(const struct client *c)
{
	return c->always_on ||
	    ao_count < conf->accounts.max_always_on;
}

struct client *
irc_alwayson_user(int64_t account)
{
	struct client *u;

	for (u = irc_account_sessions(account); u != NULL;
	    u = u->ext->acnext)
		if (u->always_on && (u->flags & CF_REG) &&
		    !(u->flags & CF_CLOSING))
			return u;
	return NULL;
}

/* quit hook: an always-on user that ends is not brought back. */
static void
ao_quit(struct client *c)
{
	ao_off(c);
}

/* ---- auto-away ---- */

static void
away_set(struct client *c, const char *text)
{
	char *p = NULL;

	if (text != NULL && (p = xstrdup(text)) == NULL)
		return;
	free(c->ext->away);
	c->ext->away = p;
	irc_user_changed(c);
	if (p != NULL)
		irc_peers_cap_send(c, false, CAP_AWAY_NOTIFY, ":%s AWAY :%s",
		    irc_prefix(c), p);
	else
		irc_peers_cap_send(c, false, CAP_AWAY_NOTIFY, ":%s AWAY",
		    irc_prefix(c));
}

void
irc_alwayson_detached(struct client *c)
{
	if (c->sess != NULL || !c->always_on)
		return;
	c->ext->last_seen = ergo_now;
	c->ext->last_seen_ms = irc_time_now_ms();
	irc_user_changed(c);
	if (c->ext->away == NULL &&
	    irc_account_auto_away(c->ext->acset.auto_away)) {
		c->auto_away = true;
		away_set(c, AUTO_AWAY_TEXT);
	}
}

void
irc_alwayson_attached(struct client *c)
{
	irc_user_changed(c);
	if (c->auto_away) {
		c->auto_away = false;
		if (c->ext->away != NULL)
			away_set(c, NULL);
	}
}

/* ---- restart ---- */

/* One row back as a user with no session, in its channels. */
static void
ao_restore(void *arg, const struct store_alwayson *u)
{
	struct client *c, *o;
	struct client_ext *x;
	struct chan *ch;
	struct member *mb;
	char *list, *save = NULL, *t;
	unsigned char modes;
	unsigned *n = arg;

	/* a suspended account's user stays gone */
	if (!conf->accounts.mc_enabled ||
	    !irc_account_always_on(u->set.always_on) ||
	    !irc_nick_valid(u->nick) || (u->suspend_expires == 0 ||
	    u->suspend_expires >= ergo_now)) {
		(void)store_alwayson_delete(u->account);
		return;
	}
	if ((o = irc_client_find(u->nick)) != NULL) {
		log_warnx("accounts", "always-on %s of account %s: the nick is "
		    "taken (casemapping changed?): not restored", u->nick,
		    u->account_name);
		return;
	}
	if ((c = irc_client_new()) == NULL || irc_cx(c) == NULL ||
	    irc_user_set_names(c, NULL, u->user, u->host, u->realname) ==
	    -1 ||
	    (u->away != NULL &&
	    (c->ext->away = xstrdup(u->away)) == NULL) ||
	    irc_nick_set(c, u->nick) == -1 ||
	    irc_account_restore(c, u->account, u->account_name, &u->set) ==
	    -1) {
		log_warnx("accounts", "out of memory restoring always-on %s",
		    u->nick);
		if (c != NULL) {
			irc_nick_unset(c);
			irc_user_free_names(c);
			free(c->ext->away);
			if (c->ext != IRC_CX_NONE)
				irc_cx_del(c->ext);
			irc_client_del(c);
		}
		return;
	}
	c->flags = CF_NICK | CF_USER | CF_REG;
	c->umodes = (u->umodes & AO_UMODES) | UMODE_REGISTERED;
	c->signon = ergo_now;
	c->last_msg = u->last_seen;
	x = c->ext;
	x->last_seen = u->last_seen;
	x->last_seen_ms = (int64_t)u->last_seen * 1000;
	ao_on(c);
	irc.nusers++;
	if (irc.nusers > irc.max_users)
		irc.max_users = irc.nusers;
	if (c->umodes & UMODE_INVISIBLE)
		irc.ninvisible++;
	if ((list = xstrdup(u->channels)) != NULL) {
		for (t = strtok_r(list, " ", &save); t != NULL;
		    t = strtok_r(NULL, " ", &save)) {
			modes = ranks_of(&t);
			if (!irc_chan_valid(t) ||
			    c->nchans >= conf->chan_max_per_user)
				continue;
			if ((ch = irc_chan_find(t)) == NULL) {
				if ((ch = irc_chan_create(t)) == NULL)
					break;
				irc_chan_default_modes(ch);
				if (irc_hooks.chan_restore != NULL)
					(void)irc_hooks.chan_restore(ch, c);
			} else if (irc_member_find(ch, c) != NULL)
				continue;
			if ((mb = irc_member_add(ch, c, modes)) == NULL) {
				if (ch->nmembers == 0)
					irc_chan_destroy(ch);
				break;
			}
		}
		free(list);
	}
	/* auto-away as when its last session left, if it was not away */
	if (x->away == NULL && irc_account_auto_away(x->acset.auto_away)) {
		x->away = xstrdup(AUTO_AWAY_TEXT);
		c->auto_away = x->away != NULL;
	} else if (x->away != NULL && strcmp(x->away, AUTO_AWAY_TEXT) == 0)
		c->auto_away = true;
	/* what the row holds (auto-away is made again at each start):
	 * no write per user at start, which would cost a sync each */
	if ((list = chans_text(c)) != NULL) {
		x->ao_saved = state_hash(c, list);
		free(list);
	}
	(*n)++;
}

void
irc_alwayson_restore(void)
{
	unsigned n = 0;

	if (store_alwayson_list(ao_restore, &n) == -1)
		return;		/* logged; the users come back next start */
	irc_alwayson_sync();
	if (n > 0)
		log_info("accounts", "%u always-on users restored", n);
	ao_swept = ergo_now;
}

/* always-on-expiration: users with no session for that long end. */
void
irc_alwayson_tick(void)
{
	struct hent *e, *next;
	size_t i;
	time_t max = (time_t)conf->accounts.always_on_expiration;

	/* once a minute; every second for a test's short expiration */
	if (max == 0 || ao_count == 0 || ergo_now - ao_swept <
	    (max < 60 ? 1 : 60))
		return;
	ao_swept = ergo_now;
	for (i = 0; i < irc.nicks.nb; i++)
		for (e = irc.nicks.b[i]; e != NULL; e = next) {
			struct client *c = (struct client *)(void *)
			    ((char *)e - offsetof(struct client, h));

			next = e->next;
			if (c->always_on && c->sess == NULL &&
			    c->ext->last_seen + max <= ergo_now)
				irc_user_kill(c, "Always-on expired", NULL);
		}
}

void
irc_alwayson_init(void)
{
	IRC_HOOK_ADD(quit, ao_quit);
}
