/*
 * irc_state.c: the protocol's model: users and their sessions, the
 * server-wide tables (nicks, channels, counters), channels with their
 * memberships, masks and invites, WHOWAS, and the hooks features register
 * at init. Sends nothing; calls no family.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc_state.h"
#include "irc_precis.h"
#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "net.h"
#include "irc_util.h"
#include "irc_num.h"
#include "pool.h"

struct ircstate	 irc;
struct irc_hooks irc_hooks;

/* ---- a user's rare part ---- */

const struct client_ext irc_cx_none;

/*
 * c's names (irc_state.h): one block, "nick\0key\0user\0host\0real\0"
 * with key, user, host and real there only when set (key not at all when
 * it is the nick itself: h.key is then c->nick); c->nick is its start,
 * or irc_nonick when c has none.
 */
static const char irc_nonick[1];

const struct session_ext irc_sx_none;

struct session_ext *
irc_sx(struct session *s)
{
	struct session_ext *x;

	if (s->x != IRC_SX_NONE)
		return s->x;
	if ((x = calloc(1, sizeof(*x))) != NULL)
		s->x = x;
	return x;
}

void
irc_sx_trim(struct session *s)
{
	if (s->x == IRC_SX_NONE ||
	    memcmp(s->x, &irc_sx_none, sizeof(*s->x)) != 0)
		return;
	free(s->x);
	s->x = IRC_SX_NONE;
}

/*
 * What every client holds as long as it lasts comes from pools (pool.h),
 * not from malloc's heap between the short-lived memory of registrations.
 */
static struct pool client_pool = POOL_INIT(sizeof(struct client));
static struct pool session_pool = POOL_INIT(sizeof(struct session));
/* a rare part lives as long as its user when used at all (always-on,
 * opers, away) */
static struct pool cx_pool = POOL_INIT(sizeof(struct client_ext));

struct client *
irc_client_new(void)
{
	struct client *c = pool_alloc(&client_pool);

	if (c != NULL) {
		c->ext = IRC_CX_NONE;
		c->nick = irc_nonick;
	}
	return c;
}

void
irc_cx_del(struct client_ext *x)
{
	pool_free(&cx_pool, x);
}

void
irc_client_del(struct client *c)
{
	pool_free(&client_pool, c);
}

struct session *
irc_session_new(void)
{
	struct session *s = pool_alloc(&session_pool);

	if (s != NULL)
		s->x = IRC_SX_NONE;
	return s;
}

void
irc_session_del(struct session *s)
{
	pool_free(&session_pool, s);
}

struct client_ext *
irc_cx(struct client *c)
{
	struct client_ext *x;

	if (c->ext != IRC_CX_NONE)
		return c->ext;
	if ((x = pool_alloc(&cx_pool)) == NULL) {
		log_warn("irc", "out of memory: state of %s", c->nick);
		return NULL;
	}
	return c->ext = x;
}

/*
 * Frees c's rare part once every field is back to zero. A few keep a
 * value after their use ends and so keep the part: the settings of an
 * account logged out of, a METADATA throttle window (rare: the first
 * stays set while logged in, the second while it has keys).
 */
void
irc_cx_trim(struct client *c)
{
	if (c->ext == IRC_CX_NONE ||
	    memcmp(c->ext, &irc_cx_none, sizeof(*c->ext)) != 0)
		return;
	irc_cx_del(c->ext);
	c->ext = IRC_CX_NONE;
}

struct client *
irc_client_find(const char *nick)
{
	char key[NICKLEN_MAX + 1];
	struct hent *e;

	irc_fold(key, nick, sizeof(key));
	if ((e = htab_get(&irc.nicks, key)) == NULL)
		return NULL;
	return (struct client *)((char *)e - offsetof(struct client, h));
}

/* Skeletons of the nicks in use (casemapping precis only). */
static struct htab skels;

struct client *
irc_client_confusable(const char *nick)
{
	char key[IRC_LINE_MAX];
	struct hent *e;

	if (conf->casemapping != CASEMAP_PRECIS || skels.n == 0)
		return NULL;
	irc_precis_skeleton(key, nick, sizeof(key));
	if ((e = htab_get(&skels, key)) == NULL)
		return NULL;
	return ((struct client_ext *)((char *)e -
	    offsetof(struct client_ext, sk)))->sk_user;
}

static void
skel_unset(struct client *c)
{
	struct client_ext *x = c->ext;

	if (x->sk.key == NULL)
		return;
	htab_del(&skels, &x->sk);
	free(x->sk.key);
	x->sk.key = NULL;
	x->sk_user = NULL;
	if (skels.n == 0)
		htab_free(&skels);
}

/* c's skeleton entry for its new nick; -1 on ENOMEM. */
static int
skel_set(struct client *c, const char *nick)
{
	char key[IRC_LINE_MAX];
	struct client_ext *x;

	skel_unset(c);
	if (conf->casemapping != CASEMAP_PRECIS)
		return 0;
	irc_precis_skeleton(key, nick, sizeof(key));
	if ((x = irc_cx(c)) == NULL || (x->sk.key = xstrdup(key)) == NULL)
		return -1;
	if (htab_put(&skels, &x->sk) == -1) {
		free(x->sk.key);
		x->sk.key = NULL;
		return -1;
	}
	x->sk_user = c;
	return 0;
}

const char *
irc_prefix(const struct client *c)
{
	static char buf[NICKLEN_MAX + 256];
	const char *part[3] = { c->nick[0] ? c->nick : "*",
	    c->user ? c->user : "*", c->host };
	size_t n = 0, l, i;

	/* copied, not printed: every message and welcome makes one */
	for (i = 0; i < 3; i++) {
		l = strlen(part[i]);
		if (l > sizeof(buf) - 1 - n - (i < 2))
			l = sizeof(buf) - 1 - n - (i < 2);
		memcpy(buf + n, part[i], l);
		n += l;
		if (i < 2)
			buf[n++] = i == 0 ? '!' : '@';
	}
	buf[n] = '\0';
	return buf;
}

/* The real address of c's connection, or NULL once it has none. */
const char *
irc_client_ip(const struct client *c)
{
	const struct session *s = irc_sess(c);

	return s != NULL && s->conn != NULL ? net_conn_ip(s->conn) : NULL;
}

/* The fingerprint of c's client certificate, or NULL. */
const char *
irc_client_certfp(const struct client *c)
{
	const struct session *s = irc_sess(c);

	return s != NULL && s->conn != NULL ? net_conn_certfp(s->conn) : NULL;
}

/* How many sessions c has (multiclient). */
unsigned
irc_user_sessions(const struct client *c)
{
	const struct session *s;
	unsigned n = 0;

	for (s = c->sess; s != NULL; s = s->next)
		n++;
	return n;
}

void
irc_user_changed(struct client *c)
{
	if (c->changed || !(c->flags & CF_REG))
		return;
	c->changed = true;
	c->chnext = irc.changed;
	irc.changed = c;
}

void
irc_user_unchanged(struct client *c)
{
	struct client **pp;

	if (!c->changed)
		return;
	for (pp = &irc.changed; *pp != NULL; pp = &(*pp)->chnext)
		if (*pp == c) {
			*pp = c->chnext;
			break;
		}
	c->changed = false;
	c->chnext = NULL;
}

/* ---- nicks ---- */

void
irc_nick_unset(struct client *c)
{
	skel_unset(c);
	if (c->h.key == NULL)
		return;
	htab_del(&irc.nicks, &c->h);
	c->h.key = NULL;	/* its bytes stay in c's names */
}

/*
 * Names blocks by size, in steps of 8 bytes up to NAMES_POOLED (nearly
 * every user's: ~40 bytes), from pools; a longer one from malloc.
 * c->namecl says which: the block's size / 8, or 0.
 */
#define NAMES_POOLED	128
static struct pool names_pool[NAMES_POOLED / 8];

static char *
names_alloc(size_t n, uint8_t *cl)
{
	struct pool *p;

	if (n > NAMES_POOLED) {
		*cl = 0;
		return malloc(n);
	}
	*cl = (uint8_t)((n + 7) / 8);
	p = &names_pool[*cl - 1];
	if (p->size == 0)
		p->size = (size_t)*cl * 8;
	return pool_alloc(p);
}

static void
names_free(char *b, uint8_t cl)
{
	if (cl == 0)
		free(b);
	else
		pool_free(&names_pool[cl - 1], b);
}

/* Sets c's names to these (NULL: none), key the folded nick to keep in
 * the block (NULL: none); they may point into the old block. */
static int
names_build(struct client *c, const char *nick, const char *key,
    const char *user, const char *host, const char *real)
{
	const char *v[5] = { nick, key, user, host, real };
	char *b, *p[5], *o;
	size_t l[5], n = 0, i;
	uint8_t cl, ocl = c->namecl;
	bool same = key != NULL && strcmp(key, nick) == 0;

	if (same)	/* a nick that is its own folded form: once */
		v[1] = NULL;
	for (i = 0; i < 5; i++)
		n += l[i] = v[i] != NULL ? strlen(v[i]) + 1 : 0;
	if ((b = names_alloc(n, &cl)) == NULL)
		return -1;
	for (n = 0, i = 0; i < 5; n += l[i], i++)
		p[i] = v[i] != NULL ? memcpy(b + n, v[i], l[i]) : NULL;
	o = c->nick != irc_nonick ? (char *)(uintptr_t)c->nick : NULL;
	c->nick = b;
	c->h.key = same ? b : p[1];
	c->user = p[2];
	c->host = p[3];
	c->realname = p[4];
	c->namecl = cl;
	if (o != NULL)
		names_free(o, ocl);
	return 0;
}

int
irc_user_set_names(struct client *c, const char *nick, const char *user,
    const char *host, const char *realname)
{
	if (nick != NULL)
		irc_nick_unset(c);
	return names_build(c, nick != NULL ? nick : c->nick,
	    nick != NULL ? NULL : c->h.key, user != NULL ? user : c->user,
	    host != NULL ? host : c->host,
	    realname != NULL ? realname : c->realname);
}

void
irc_user_free_names(struct client *c)
{
	if (c->nick != irc_nonick)
		names_free((char *)(uintptr_t)c->nick, c->namecl);
	c->nick = irc_nonick;
	c->namecl = 0;
	c->h.key = NULL;
	c->user = c->host = c->realname = NULL;
}

/* Sets c's nick and its hash entry; 0, or -1 on ENOMEM. */
int
irc_nick_set(struct client *c, const char *nick)
{
	char key[NICKLEN_MAX + 1];

	irc_fold(key, nick, sizeof(key));
	irc_nick_unset(c);
	if (names_build(c, nick, key, c->user, c->host, c->realname) == -1)
		return -1;
	if (htab_put(&irc.nicks, &c->h) == -1) {
		c->h.key = NULL;
		return -1;
	}
	if (skel_set(c, c->nick) == -1) {	/* nick may be the old block's */
		irc_nick_unset(c);
		return -1;
	}
	irc_user_changed(c);
	return 0;
}

/* ---- WHOWAS ---- */

/*
 * Departed and renamed users, newest first, at most limits.whowas of
 * them; one allocation per entry holding its strings.
 */

static struct whowas	*ww_head, *ww_tail;
static unsigned		 ww_count;

static void
whowas_unlink(struct whowas *w)
{
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		ww_head = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	else
		ww_tail = w->prev;
	ww_count--;
	free(w);
}

/* Drops the oldest entries until at most max remain. */
static void
whowas_trim(unsigned max)
{
	while (ww_count > max && ww_tail != NULL)
		whowas_unlink(ww_tail);
}

void
irc_whowas_add(const struct client *c)
{
	const char *user, *host, *real;
	size_t ul, hl, rl;
	struct whowas *w;

	if (!(c->flags & CF_REG) || c->nick[0] == '\0' || conf->limits.whowas == 0) {
		whowas_trim(conf->limits.whowas);
		return;
	}
	user = c->user != NULL ? c->user : "*";
	host = c->host != NULL ? c->host : "*";
	real = c->realname != NULL ? c->realname : "";
	ul = strlen(user) + 1;
	hl = strlen(host) + 1;
	rl = strlen(real) + 1;
	if ((w = malloc(sizeof(*w) + ul + hl + rl)) == NULL) {
		log_warn("irc", "whowas entry for %s", c->nick);
		return;
	}
	w->when = ergo_now;
	snprintf(w->nick, sizeof(w->nick), "%s", c->nick);
	w->user = w->data;
	memcpy(w->user, user, ul);
	w->host = w->user + ul;
	memcpy(w->host, host, hl);
	w->realname = w->host + hl;
	memcpy(w->realname, real, rl);
	w->prev = NULL;
	w->next = ww_head;
	if (ww_head != NULL)
		ww_head->prev = w;
	else
		ww_tail = w;
	ww_head = w;
	ww_count++;
	whowas_trim(conf->limits.whowas);
}

void
irc_whowas_free(void)
{
	whowas_trim(0);
}

/* The newest entry (then ->next), or NULL. */
const struct whowas *
irc_whowas_first(void)
{
	return ww_head;
}

/* ---- channels and memberships ---- */

/*
 * A pending invite is linked twice: into its channel (ch->invites, the
 * irc.h view, bounded by chan_max_list) and into its invitee's list, found
 * by folded nick in a private table (bounded by chan_max_per_user), so a
 * nick change or quit reaches a user's invites without a scan of all
 * channels. struct invite comes first, so a struct invite * on a channel
 * list is also the struct inv * that holds it.
 */
struct invitee;
struct inv {
	struct invite	 i;
	struct chan	*ch;
	struct invitee	*ie;
	struct inv	*nnext, *nprev;
};
struct invitee {
	struct hent	 h;		/* key points at key[] */
	char		 key[NICKLEN_MAX + 1];
	struct inv	*list;		/* newest first */
	unsigned	 n;
};
static struct htab invitees;


struct chan *
irc_chan_create(const char *name)
{
	struct chan *ch;
	size_t n = strlen(name) + 1;

	if ((ch = calloc(1, sizeof(*ch))) == NULL)
		return NULL;
	if ((ch->name = xstrdup(name)) == NULL ||
	    (ch->h.key = malloc(n)) == NULL)
		goto fail;
	irc_fold(ch->h.key, name, n);
	if (htab_put(&irc.chans, &ch->h) == -1)
		goto fail;
	ch->created = ergo_now;
	return ch;
fail:
	free(ch->h.key);
	free(ch->name);
	free(ch);
	return NULL;
}

int
irc_chan_rename(struct chan *ch, const char *name)
{
	size_t n = strlen(name) + 1;
	char *nn, *nk;

	if ((nn = xstrdup(name)) == NULL)
		return -1;
	if ((nk = malloc(n)) == NULL) {
		free(nn);
		return -1;
	}
	irc_fold(nk, name, n);
	/* out and back in: the same count, so the table does not grow */
	htab_del(&irc.chans, &ch->h);
	free(ch->h.key);
	ch->h.key = nk;
	free(ch->name);
	ch->name = nn;
	(void)htab_put(&irc.chans, &ch->h);
	return 0;
}

void
irc_chan_default_modes(struct chan *ch)
{
	static const char letters[] = "imnpst";
	static const unsigned bits[] = { CMODE_INVITE, CMODE_MODERATED,
	    CMODE_NOEXT, CMODE_PRIVATE, CMODE_SECRET, CMODE_TOPIC };
	const char *p, *l;
	bool add = true;

	for (p = conf->default_modes; p != NULL && *p != '\0'; p++) {
		if (*p == '+' || *p == '-')
			add = *p == '+';
		else if ((l = strchr(letters, *p)) != NULL) {
			if (add)
				ch->modes |= bits[l - letters];
			else
				ch->modes &= ~bits[l - letters];
		}
		/* k, l and the lists need a parameter: not defaults */
	}
}

void
irc_masks_free(struct mask *mk)
{
	struct mask *next;

	for (; mk != NULL; mk = next) {
		next = mk->next;
		free(mk->mask);
		free(mk->setter);
		free(mk);
	}
}


/* Frees an empty channel and everything it owns. */
void
irc_chan_destroy(struct chan *ch)
{
	htab_del(&irc.chans, &ch->h);
	IRC_HOOK_RUN(chan_free, ch);
	irc_masks_free(ch->bans);
	irc_masks_free(ch->excepts);
	irc_masks_free(ch->invex);
	while (ch->invites != NULL)
		irc_invite_free((struct inv *)(void *)ch->invites);
	free(ch->key);
	free(ch->forward);
	free(ch->topic);
	free(ch->topic_by);
	free(ch->name);
	free(ch->h.key);
	free(ch->mv);
	free(ch->dv);
	free(ch);
}

/* ---- fan-out's delivery arrays ---- */

#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p)	__builtin_prefetch(p)
#else
#define PREFETCH(p)	((void)(p))
#endif

/* Room for n entries; false on ENOMEM (the array is then stale). */
static bool
dv_room(struct chan *ch, unsigned n)
{
	struct deliv *nv;
	unsigned ncap;

	if (n <= ch->dvcap)
		return true;
	ncap = n + n / 8 + 4;
	if ((nv = realloc(ch->dv, ncap * sizeof(*nv))) == NULL) {
		ch->dv_ok = false;
		return false;
	}
	ch->dv = nv;
	ch->dvcap = ncap;
	return true;
}

/* c's sessions that hear anything, appended to ch's array. */
static bool
dv_add(struct chan *ch, const struct client *c)
{
	struct session *s;

	for (s = c->sess; s != NULL; s = s->next) {
		if (s->conn == NULL || (s->flags & SF_CLOSING))
			continue;	/* sent nothing (irc_out) */
		if (!dv_room(ch, ch->ndv + 1))
			return false;
		ch->dvkeys |= (unsigned char)(1u << IRC_TAGKEY(s->caps));
		ch->dv[ch->ndv].conn = s->conn;
		ch->dv[ch->ndv].s = s;
		ch->dv[ch->ndv++].caps = s->caps;
	}
	return true;
}

/*
 * The array from the members: the walk fan-out did before, once per
 * change instead of once per message, each level fetched ahead as
 * irc_out's walk does.
 */
static bool
dv_build(struct chan *ch)
{
	struct member *const *mv = ch->mv;
	unsigned i, k, n = ch->nmembers;

	ch->ndv = 0;
	ch->dvkeys = 0;
	if (!dv_room(ch, n))
		return false;
	for (i = 0; i < n; i++) {
		if ((k = i + 12) < n)
			PREFETCH(mv[k]);
		if ((k = i + 8) < n)
			PREFETCH(mv[k]->c);
		if ((k = i + 4) < n)
			PREFETCH(mv[k]->c->sess);
		if (!dv_add(ch, mv[i]->c))
			return false;
	}
	/* a channel that shrank gives back what it no longer needs */
	if (ch->dvcap > 2 * ch->ndv + 64) {
		struct deliv *nv = realloc(ch->dv, (ch->ndv + 4) * sizeof(*nv));

		if (nv != NULL) {
			ch->dv = nv;
			ch->dvcap = ch->ndv + 4;
		}
	}
	ch->dv_ok = true;
	return true;
}

#ifdef ERGO_DV_CHECK
/* The array in use must be what a build now makes: else a change did
 * not mark it stale, and fan-out would miss or mistag someone. */
static void
dv_check(struct chan *ch)
{
	struct deliv *old;
	unsigned i, on = ch->ndv;

	if ((old = malloc((on + 1) * sizeof(*old))) == NULL)
		return;
	if (on > 0)
		memcpy(old, ch->dv, on * sizeof(*old));
	if (dv_build(ch)) {
		if (ch->ndv != on) {
			fprintf(stderr, "%s: delivery array stale: %u "
			    "entries, %u now\n", ch->name, on, ch->ndv);
			abort();
		}
		for (i = 0; i < on; i++)
			if (old[i].conn != ch->dv[i].conn ||
			    old[i].s != ch->dv[i].s ||
			    old[i].caps != ch->dv[i].caps) {
				fprintf(stderr, "%s: delivery array stale "
				    "at %u\n", ch->name, i);
				abort();
			}
	}
	free(old);
}
#endif

const struct deliv *
irc_chan_dv(struct chan *ch, unsigned *n)
{
#ifdef ERGO_DV_CHECK
	if (ch->dv_ok)
		dv_check(ch);
#endif
	if (!ch->dv_ok && !dv_build(ch))
		return NULL;
	*n = ch->ndv;
	return ch->dv;
}

void
irc_user_dv_stale(struct client *c)
{
	struct member *mb;

	IRC_HOOK_RUN(dv_change, NULL);
	for (mb = c->chans; mb != NULL; mb = mb->unext)
		mb->ch->dv_ok = false;
}

struct member *
irc_member_add(struct chan *ch, struct client *c, unsigned char modes)
{
	struct member *mb;

	IRC_HOOK_RUN(dv_change, ch);
	if (ch->nmembers == ch->mvcap) {
		unsigned ncap = ch->mvcap ? ch->mvcap * 2 : 4;
		struct member **nv = realloc(ch->mv, ncap * sizeof(*nv));

		if (nv == NULL)
			return NULL;
		ch->mv = nv;
		ch->mvcap = ncap;
	}
	if ((mb = calloc(1, sizeof(*mb))) == NULL)
		return NULL;
	mb->ci = ch->nmembers;
	ch->mv[mb->ci] = mb;
	mb->c = c;
	mb->ch = ch;
	mb->modes = modes;
	mb->joined_ms = irc_time_now_ms();
	if ((mb->cnext = ch->members) != NULL)
		mb->cnext->cprev = mb;
	ch->members = mb;
	ch->nmembers++;
	if ((mb->unext = c->chans) != NULL)
		mb->unext->uprev = mb;
	c->chans = mb;
	c->nchans++;
	/* a joining member goes last in mv, and so in the array */
	if (ch->dv_ok)
		dv_add(ch, c);
	irc_user_changed(c);
	return mb;
}

/* Unlinks and frees mb; the channel goes too when it empties. */
void
irc_member_del(struct member *mb)
{
	struct chan *ch = mb->ch;
	struct client *c = mb->c;

	IRC_HOOK_RUN(dv_change, ch);
	if (mb->cprev != NULL)
		mb->cprev->cnext = mb->cnext;
	else
		ch->members = mb->cnext;
	if (mb->cnext != NULL)
		mb->cnext->cprev = mb->cprev;
	if (mb->uprev != NULL)
		mb->uprev->unext = mb->unext;
	else
		c->chans = mb->unext;
	if (mb->unext != NULL)
		mb->unext->uprev = mb->uprev;
	ch->mv[mb->ci] = ch->mv[ch->nmembers - 1];
	ch->mv[mb->ci]->ci = mb->ci;
	ch->nmembers--;
	c->nchans--;
	ch->dv_ok = false;	/* mv's order changed */
	if (ch->nmembers < IRC_DV_MIN && ch->dv != NULL) {
		free(ch->dv);
		ch->dv = NULL;
		ch->ndv = ch->dvcap = 0;
	}
	irc_user_changed(c);
	free(mb);
	if (ch->nmembers == 0)
		irc_chan_destroy(ch);
}

/*
 * Whether a mask matches c: as others see it, and, when its host is a
 * cloak, also as nick!user@realip, so bans on addresses keep working.
 */
bool
irc_masks_match(const struct mask *mk, const struct client *c)
{
	for (; mk != NULL; mk = mk->next)
		if (irc_mask_matches(mk->mask, c))
			return true;
	return false;
}

/*
 * One mask against c. Extbans (EXTBAN=,am): "a:glob" matches the
 * account c is logged in to; "m:..." (a mute) never bans, only mutes.
 */
static bool
mask_match_one(const char *mask, const struct client *c)
{
	char nuh[IRC_LINE_MAX];
	const char *ip;

	if (mask[0] == 'm' && mask[1] == ':')
		return false;
	if (mask[0] == 'a' && mask[1] == ':')
		return c->account != NULL && irc_match(mask + 2, c->account);
	if (irc_match(mask, irc_prefix(c)))
		return true;
	ip = irc_client_ip(c);
	if (ip == NULL || c->host == NULL || strcmp(c->host, ip) == 0)
		return false;
	snprintf(nuh, sizeof(nuh), "%s!%s@%s", c->nick,
	    c->user != NULL ? c->user : "*", ip);
	return irc_match(mask, nuh);
}

bool
irc_mask_matches(const char *mask, const struct client *c)
{
	return mask_match_one(mask, c);
}

/* Whether an m: entry of the list matches c (by what follows "m:"). */
static bool
mutes_match(const struct mask *mk, const struct client *c)
{
	for (; mk != NULL; mk = mk->next)
		if (mk->mask[0] == 'm' && mk->mask[1] == ':' &&
		    mask_match_one(mk->mask + 2, c))
			return true;
	return false;
}

bool
irc_chan_muted(const struct chan *ch, const struct client *c)
{
	return mutes_match(ch->bans, c) && !mutes_match(ch->excepts, c);
}

/* Banned and not excepted. */
bool
irc_chan_banned(const struct chan *ch, const struct client *c)
{
	if (ch->bans == NULL)
		return false;
	return irc_masks_match(ch->bans, c) && !irc_masks_match(ch->excepts, c);
}

/* ---- ACCEPT ---- */

bool
irc_accept_has(const struct client *by, const struct client *who)
{
	const struct accept *a;

	for (a = by->ext->accepts; a != NULL; a = a->bnext)
		if (a->who == who)
			return true;
	return false;
}

int
irc_accept_add(struct client *by, struct client *who)
{
	struct accept *a;

	if (irc_accept_has(by, who))
		return 1;
	if (irc_cx(by) == NULL || irc_cx(who) == NULL ||
	    (a = calloc(1, sizeof(*a))) == NULL)
		return -1;
	a->by = by;
	a->who = who;
	if ((a->bnext = by->ext->accepts) != NULL)
		a->bnext->bprev = a;
	by->ext->accepts = a;
	if ((a->wnext = who->ext->accepted_by) != NULL)
		a->wnext->wprev = a;
	who->ext->accepted_by = a;
	by->ext->naccepts++;
	return 0;
}

static void
accept_free(struct accept *a)
{
	if (a->bprev != NULL)
		a->bprev->bnext = a->bnext;
	else
		a->by->ext->accepts = a->bnext;
	if (a->bnext != NULL)
		a->bnext->bprev = a->bprev;
	if (a->wprev != NULL)
		a->wprev->wnext = a->wnext;
	else
		a->who->ext->accepted_by = a->wnext;
	if (a->wnext != NULL)
		a->wnext->wprev = a->wprev;
	a->by->ext->naccepts--;
	free(a);
}

bool
irc_accept_del(struct client *by, struct client *who)
{
	struct accept *a;

	for (a = by->ext->accepts; a != NULL; a = a->bnext)
		if (a->who == who) {
			accept_free(a);
			return true;
		}
	return false;
}

void
irc_accept_forget(struct client *c)
{
	while (c->ext->accepts != NULL)
		accept_free(c->ext->accepts);
	while (c->ext->accepted_by != NULL)
		accept_free(c->ext->accepted_by);
}

/* ---- ranks (Ergo's modes.ChannelUserModes) ---- */

static const struct {
	char		 letter, sym;
	unsigned char	 bit;
} memb_modes[] = {
	{ 'q', '~', MEMB_FOUNDER }, { 'a', '&', MEMB_ADMIN },
	{ 'o', '@', MEMB_OP }, { 'h', '%', MEMB_HALFOP },
	{ 'v', '+', MEMB_VOICE },
};
#define NMEMB_MODES	(sizeof(memb_modes) / sizeof(memb_modes[0]))

unsigned char
irc_memb_letter(char letter)
{
	size_t i;

	for (i = 0; i < NMEMB_MODES; i++)
		if (memb_modes[i].letter == letter)
			return memb_modes[i].bit;
	return 0;
}

unsigned char
irc_memb_symbol(char sym)
{
	size_t i;

	for (i = 0; i < NMEMB_MODES; i++)
		if (memb_modes[i].sym == sym)
			return memb_modes[i].bit;
	return 0;
}

char
irc_memb_letter_of(unsigned char bit)
{
	size_t i;

	for (i = 0; i < NMEMB_MODES; i++)
		if (memb_modes[i].bit == bit)
			return memb_modes[i].letter;
	return '\0';
}

/* Writes the symbols of modes, highest first (all, or the highest). */
size_t
irc_memb_symbols(unsigned char modes, bool all, char *buf, size_t sz)
{
	size_t i, n = 0;

	for (i = 0; i < NMEMB_MODES && n + 1 < sz; i++)
		if (modes & memb_modes[i].bit) {
			buf[n++] = memb_modes[i].sym;
			if (!all)
				break;
		}
	if (sz > 0)
		buf[n] = '\0';
	return n;
}

unsigned char
irc_member_rank(const struct member *mb)
{
	unsigned char b;

	if (mb == NULL)
		return 0;
	for (b = MEMB_FOUNDER; b != 0; b >>= 1)
		if (mb->modes & b)
			return b;
	return 0;
}

static bool
chan_founder_is(const struct chan *ch, const struct client *c)
{
	return ch->founder != 0 && c->account != NULL &&
	    c->account_id == ch->founder;
}

bool
irc_chan_is_at_least(const struct chan *ch, const struct client *c,
    unsigned char rank)
{
	if (chan_founder_is(ch, c))
		return true;
	return irc_member_rank(irc_member_find(ch, c)) >= rank;
}

/* Founders act on anyone; admins and ops on anyone below admin (ops
 * on ops too); halfops on voices and plain members; no one else. */
bool
irc_rank_over(unsigned char r, unsigned char t)
{
	switch (r) {
	case MEMB_FOUNDER:
		return true;
	case MEMB_ADMIN:
	case MEMB_OP:
		return t != MEMB_FOUNDER && t != MEMB_ADMIN;
	case MEMB_HALFOP:
		return t == MEMB_VOICE || t == 0;
	default:
		return false;
	}
}

bool
irc_chan_privs_over(const struct chan *ch, const struct client *c,
    const struct client *t)
{
	struct member *cm, *tm;

	if (chan_founder_is(ch, c))
		return true;
	if (chan_founder_is(ch, t))
		return false;	/* only the founder acts on the founder */
	cm = irc_member_find(ch, c);
	tm = irc_member_find(ch, t);
	return cm != NULL && tm != NULL &&
	    irc_rank_over(irc_member_rank(cm), irc_member_rank(tm));
}

/* ---- invites ---- */

static struct invitee *
invitee_get(const char *folded)
{
	return (struct invitee *)(void *)htab_get(&invitees, folded);
}

struct inv *
irc_invite_find(const struct chan *ch, const char *folded)
{
	struct invite *i;

	for (i = ch->invites; i != NULL; i = i->next)
		if (strcmp(i->nick, folded) == 0)
			return (struct inv *)(void *)i;
	return NULL;
}

void
irc_invite_free(struct inv *iv)
{
	struct invite **pp;
	struct invitee *ie = iv->ie;

	for (pp = &iv->ch->invites; *pp != NULL; pp = &(*pp)->next)
		if (*pp == &iv->i) {
			*pp = iv->i.next;
			iv->ch->ninvites--;
			break;
		}
	if (iv->nprev != NULL)
		iv->nprev->nnext = iv->nnext;
	else
		ie->list = iv->nnext;
	if (iv->nnext != NULL)
		iv->nnext->nprev = iv->nprev;
	ie->n--;
	free(iv);
	if (ie->list == NULL) {
		htab_del(&invitees, &ie->h);
		free(ie);
		if (invitees.n == 0)
			htab_free(&invitees);
	}
}

/* Frees every invite of one invitee, and with the last, the invitee. */
static void
invitee_drop(struct invitee *ie)
{
	unsigned n = ie->n;

	while (n-- > 0)
		irc_invite_free(ie->list);
}

/* The last of a singly linked channel list, i.e. the oldest invite. */
static struct inv *
inv_oldest_in_chan(const struct chan *ch)
{
	struct invite *i = ch->invites;

	while (i != NULL && i->next != NULL)
		i = i->next;
	return (struct inv *)(void *)i;
}

/* Calls fn for each channel the folded nick is invited to, newest first. */
void
irc_invite_each(const char *folded, void (*fn)(struct chan *, void *),
    void *arg)
{
	struct invitee *ie = invitee_get(folded);
	struct inv *iv;

	for (iv = ie != NULL ? ie->list : NULL; iv != NULL; iv = iv->nnext)
		fn(iv->ch, arg);
}

/*
 * Records that t may join ch past +i. Full lists drop their oldest entry,
 * so the newest invite always counts. 0, or -1 on ENOMEM.
 */
int
irc_invite_add(struct chan *ch, struct client *t)
{
	char key[NICKLEN_MAX + 1];
	struct invitee *ie;
	struct inv *iv;

	irc_fold(key, t->nick, sizeof(key));
	if (irc_invite_find(ch, key) != NULL)
		return 0;
	if (conf->chan_max_list == 0 || conf->chan_max_per_user == 0)
		return 0;
	if (ch->ninvites >= conf->chan_max_list)
		irc_invite_free(inv_oldest_in_chan(ch));
	if ((ie = invitee_get(key)) != NULL && ie->n >= conf->chan_max_per_user) {
		for (iv = ie->list; iv->nnext != NULL; iv = iv->nnext)
			;
		irc_invite_free(iv);		/* may free ie */
		ie = invitee_get(key);
	}
	if (ie == NULL) {
		if ((ie = calloc(1, sizeof(*ie))) == NULL)
			return -1;
		memcpy(ie->key, key, sizeof(key));
		ie->h.key = ie->key;
		if (htab_put(&invitees, &ie->h) == -1) {
			free(ie);
			return -1;
		}
	}
	if ((iv = calloc(1, sizeof(*iv))) == NULL) {
		if (ie->list == NULL) {
			htab_del(&invitees, &ie->h);
			free(ie);
		}
		return -1;
	}
	memcpy(iv->i.nick, key, sizeof(key));
	iv->ch = ch;
	iv->ie = ie;
	iv->i.next = ch->invites;
	ch->invites = &iv->i;
	ch->ninvites++;
	if ((iv->nnext = ie->list) != NULL)
		iv->nnext->nprev = iv;
	ie->list = iv;
	ie->n++;
	return 0;
}

/* ---- lookups ---- */

struct chan *
irc_chan_find(const char *name)
{
	char key[CHANLEN_MAX + 1];

	if (strlen(name) > CHANLEN_MAX)
		return NULL;
	irc_fold(key, name, sizeof(key));
	return (struct chan *)(void *)htab_get(&irc.chans, key);
}

/* Walks the shorter of the two membership lists. */
struct member *
irc_member_find(const struct chan *ch, const struct client *c)
{
	struct member *mb;

	if (c->nchans < ch->nmembers) {
		for (mb = c->chans; mb != NULL; mb = mb->unext)
			if (mb->ch == ch)
				return mb;
	} else {
		for (mb = ch->members; mb != NULL; mb = mb->cnext)
			if (mb->c == c)
				return mb;
	}
	return NULL;
}

/*
 * Forgets c everywhere (memberships and pending invites); the caller has
 * already told the peers. Called when c goes away.
 */
void
irc_chan_part_all(struct client *c)
{
	char key[NICKLEN_MAX + 1];
	struct invitee *ie;

	while (c->chans != NULL)
		irc_member_del(c->chans);
	irc_fold(key, c->nick, sizeof(key));
	if ((ie = invitee_get(key)) != NULL)
		invitee_drop(ie);
}

/*
 * Ergo's CanSpeak: any rank (voice and up) speaks through +m, +M, mutes
 * and bans; -n keeps non-members out.
 */
bool
irc_chan_can_send(struct chan *ch, struct client *c, int *num, char *mode)
{
	struct member *mb = irc_member_find(ch, c);

	*num = ERR_CANNOTSENDTOCHAN;
	*mode = '\0';
	if (irc_member_rank(mb) != 0)
		return true;
	if (mb == NULL && (ch->modes & CMODE_NOEXT))
		*mode = 'n';
	else if (irc_chan_muted(ch, c) || irc_chan_banned(ch, c))
		*mode = 'b';
	else if (ch->modes & CMODE_MODERATED)
		*mode = 'm';
	else if ((ch->modes & CMODE_REGSPEAK) && c->account == NULL)
		*mode = 'M';
	return *mode == '\0';
}

bool
irc_chan_visible(const struct chan *ch, const struct client *c)
{
	if ((ch->modes & (CMODE_SECRET | CMODE_PRIVATE)) == 0)
		return true;
	return irc_member_find(ch, c) != NULL;
}

/* Memberships hold pointers; only invites remember the nick. */
void
irc_chan_nick_changed(struct client *c, const char *oldfolded)
{
	char key[NICKLEN_MAX + 1];
	struct invitee *ie, *stale;
	struct inv *iv;

	if ((ie = invitee_get(oldfolded)) == NULL)
		return;
	irc_fold(key, c->nick, sizeof(key));
	if (strcmp(key, ie->key) == 0)
		return;
	/* Left by a client that went without irc_chan_part_all: drop. */
	if ((stale = invitee_get(key)) != NULL)
		invitee_drop(stale);
	htab_del(&invitees, &ie->h);
	memcpy(ie->key, key, sizeof(key));
	for (iv = ie->list; iv != NULL; iv = iv->nnext)
		memcpy(iv->i.nick, key, sizeof(key));
	(void)htab_put(&invitees, &ie->h);	/* cannot fail: a slot was freed */
}

