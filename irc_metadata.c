/*
 * irc_metadata.c: IRCv3 draft/metadata-2: the METADATA command (GET,
 * SET, LIST, CLEAR, SUB, UNSUB, SUBS, SYNC), the keys of users and
 * channels, each session's subscriptions, and telling subscribers of a
 * change. A logged-in user's keys are its account's, kept by store.c;
 * no SQL and no sockets here.
 *
 * Who hears of a change: a user's keys go to the sessions of users who
 * share a channel with it or MONITOR it and to its own other sessions; a
 * channel's to its members; in each case only to sessions with the cap
 * that subscribed to the key, never to the session that made it. A
 * registered channel's keys are its row's, loaded when first needed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc_metadata.h"
#include "ergo.h"
#include "log.h"
#include "util.h"
#include "store.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_num.h"

/* A JOIN syncs a channel of at most this many members at once; a bigger
 * one gets 774 and the client asks with METADATA #chan SYNC. */
#define MD_JOIN_SYNC_MAX	100

/* One key of a user or a channel. */
struct mdkv {
	struct mdkv	*next;
	char		*value;
	char		 key[];		/* lower case */
};

/* One subscribed key of a session. */
struct mdsub {
	struct mdsub	*next;
	char		 key[];
};

static unsigned long	 batch_seq;
static uint32_t		 md_gen;	/* recipients' dedup generation */

/* ---- the keys ---- */

/* Lower-cases key in place; whether it is a valid key name (the spec's
 * A-Z a-z 0-9 _ . : -, and Ergo's /; not starting with ':'). */
static bool
key_norm(char *key)
{
	size_t i, n = strlen(key);

	if (n == 0 || n > MD_KEY_MAX || key[0] == ':')
		return false;
	for (i = 0; i < n; i++) {
		char ch = key[i];

		if (ch >= 'A' && ch <= 'Z')
			key[i] = (char)(ch - 'A' + 'a');
		else if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		    ch == '_' || ch == '.' || ch == ':' || ch == '-' ||
		    ch == '/'))
			return false;
	}
	return true;
}

static struct mdkv **
kv_find(struct mdkv **list, const char *key)
{
	for (; *list != NULL; list = &(*list)->next)
		if (strcmp((*list)->key, key) == 0)
			break;
	return list;
}

/*
 * Sets key to value in list (count n): 1 if it changed, 0 if it held
 * that value already, -1 on ENOMEM or past max keys (*full set).
 */
static int
kv_set(struct mdkv **list, unsigned *n, const char *key, const char *value,
    unsigned max, bool *full)
{
	struct mdkv **p = kv_find(list, key), *kv;
	char *v;
	size_t kl;

	*full = false;
	if ((kv = *p) != NULL) {
		if (strcmp(kv->value, value) == 0)
			return 0;
		if ((v = xstrdup(value)) == NULL)
			return -1;
		free(kv->value);
		kv->value = v;
		return 1;
	}
	if (*n >= max) {
		*full = true;
		return -1;
	}
	kl = strlen(key) + 1;
	if ((kv = malloc(sizeof(*kv) + kl)) == NULL)
		return -1;
	if ((kv->value = xstrdup(value)) == NULL) {
		free(kv);
		return -1;
	}
	memcpy(kv->key, key, kl);
	kv->next = NULL;
	*p = kv;		/* at the end: LIST shows keys in the order set */
	(*n)++;
	return 1;
}

/* Deletes key; whether it was set. */
static bool
kv_del(struct mdkv **list, unsigned *n, const char *key)
{
	struct mdkv **p = kv_find(list, key), *kv;

	if ((kv = *p) == NULL)
		return false;
	*p = kv->next;
	free(kv->value);
	free(kv);
	(*n)--;
	return true;
}

static void
kv_free(struct mdkv **list, unsigned *n)
{
	struct mdkv *kv;

	while ((kv = *list) != NULL) {
		*list = kv->next;
		free(kv->value);
		free(kv);
	}
	*n = 0;
}

/* ---- subscriptions ---- */

static bool
subscribed(const struct session *s, const char *key)
{
	const struct mdsub *m;

	if (!(s->caps & CAP_METADATA))
		return false;
	for (m = s->x->mdsubs; m != NULL; m = m->next)
		if (strcmp(m->key, key) == 0)
			return true;
	return false;
}

void
irc_metadata_session_free(struct session *s)
{
	struct mdsub *m;

	while ((m = s->x->mdsubs) != NULL) {
		s->x->mdsubs = m->next;
		free(m);
	}
	if (s->x != IRC_SX_NONE)
		s->x->nmdsubs = 0;
}

/* ---- output ---- */

static const char *
me(const struct client *c)
{
	return c->nick[0] != '\0' ? c->nick : "*";
}

/* A line to c, in batch ref unless ref is "". */
static void __attribute__((format(printf, 3, 4)))
md_line(struct client *c, const char *ref, const char *fmt, ...)
{
	char body[IRC_LINE_MAX + 1], line[IRC_LINE_MAX + 64];
	va_list ap;
	size_t n;
	int hl;

	va_start(ap, fmt);
	n = irc_vformat(body, sizeof(body), fmt, ap);
	va_end(ap);
	if (ref[0] == '\0') {
		irc_send_raw(c, body, n);
		return;
	}
	hl = snprintf(line, sizeof(line), "@batch=%s ", ref);
	memcpy(line + hl, body, n);
	irc_send_raw(c, line, (size_t)hl + n);
}

/* Opens a metadata batch if c's session takes batches (ref "" if not). */
static void
batch_start(struct client *c, char *ref, size_t sz)
{
	ref[0] = '\0';
	if (!(irc_sess(c)->caps & CAP_BATCH))
		return;
	snprintf(ref, sz, "md%lx", ++batch_seq);
	irc_send(c, ":%s BATCH +%s metadata", conf->server_name, ref);
}

static void
batch_end(struct client *c, const char *ref)
{
	if (ref[0] != '\0')
		irc_send(c, ":%s BATCH -%s", conf->server_name, ref);
}

static void
md_fail(struct client *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void
md_fail(struct client *c, const char *code, const char *fmt, ...)
{
	char buf[IRC_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	irc_fail(c, "FAIL", "METADATA", code, "%s", buf);
}

/* A parameter safe to echo in a FAIL: "*" if it would not be one word. */
static const char *
safe(const char *p)
{
	return p[0] == '\0' || p[0] == ':' || strchr(p, ' ') != NULL ? "*" : p;
}

/* ---- telling subscribers ---- */

struct notice {
	const char	*target, *key, *value;	/* value NULL: deleted */
	struct session	*origin;
};

/* To each session of u that subscribed to the key (not the origin). */
static void
notify_user(struct client *u, void *arg)
{
	const struct notice *n = arg;
	struct session *s;

	if (u->md_mark == md_gen || !(u->flags & CF_REG))
		return;
	u->md_mark = md_gen;
	for (s = u->sess; s != NULL; s = s->next) {
		if (s == n->origin || !subscribed(s, n->key))
			continue;
		if (n->value != NULL)
			irc_send_session(s, ":%s METADATA %s %s * :%s",
			    conf->server_name, n->target, n->key, n->value);
		else
			irc_send_session(s, ":%s METADATA %s %s *",
			    conf->server_name, n->target, n->key);
	}
}

/* c's key changed: its peers, its watchers, its other sessions. */
static void
notify_client(struct client *c, struct session *origin, const char *key,
    const char *value)
{
	struct notice n = { c->nick, key, value, origin };
	struct member *mb, *o;

	if (!(c->flags & CF_REG))
		return;		/* before-connect: nobody sees it yet */
	md_gen++;
	notify_user(c, &n);
	for (mb = c->chans; mb != NULL; mb = mb->unext)
		for (o = mb->ch->members; o != NULL; o = o->cnext)
			notify_user(o->c, &n);
	if (irc_hooks.watchers != NULL)
		irc_hooks.watchers(c, notify_user, &n);
}

static void
notify_chan(struct chan *ch, struct session *origin, const char *key,
    const char *value)
{
	struct notice n = { ch->name, key, value, origin };
	struct member *o;

	md_gen++;
	for (o = ch->members; o != NULL; o = o->cnext)
		notify_user(o->c, &n);
}

/* ---- targets and permissions ---- */

struct target {
	struct client	*u;		/* one of u or ch */
	struct chan	*ch;
	const char	*name;		/* as the replies show it */
};

static bool
target_find(struct client *c, const char *name, struct target *t)
{
	memset(t, 0, sizeof(*t));
	t->name = name;
	if (strcmp(name, "*") == 0) {
		t->u = c;
		return true;
	}
	if (!(c->flags & CF_REG))
		return false;	/* before-connect: only oneself, as "*" */
	if (name[0] == '#' || name[0] == '&') {
		if ((t->ch = irc_chan_find(name)) != NULL)
			t->name = t->ch->name;
		return t->ch != NULL;
	}
	if ((t->u = irc_client_find(name)) == NULL || !(t->u->flags & CF_REG))
		return false;
	t->name = t->u->nick;
	return true;
}

static void chan_load(struct chan *);

/* (a user's with no rare part is IRC_CX_NONE's, empty: md_set makes it) */
static struct mdkv **
t_list(const struct target *t, unsigned **n)
{
	if (t->ch != NULL) {
		chan_load(t->ch);
		*n = &t->ch->nmeta;
		return &t->ch->meta;
	}
	*n = &t->u->ext->nmeta;
	return &t->u->ext->meta;
}

/* Users: oneself, or an oper; channels: their ops, or an oper (Ergo). */
static bool
may_edit(const struct client *c, const struct target *t)
{
	if (c->umodes & UMODE_OPER)
		return true;
	if (t->u != NULL)
		return t->u == c;
	return irc_chan_is_at_least(t->ch, c, MEMB_OP);
}

/* A channel's keys are for its members (and opers); a user's for all. */
static bool
may_see(const struct client *c, const struct target *t)
{
	return t->u != NULL || (c->umodes & UMODE_OPER) ||
	    irc_member_find(t->ch, c) != NULL;
}

/* client-throttle: whether c may make one more change now; if not,
 * *retry is the seconds until it may. */
static bool
throttle_ok(struct client *c, unsigned *retry)
{
	uint64_t win = (uint64_t)conf->metadata.throttle_secs * 1000;
	struct client_ext *x;

	if (!conf->metadata.throttle || (c->umodes & UMODE_OPER) ||
	    (x = irc_cx(c)) == NULL)	/* (out of memory: logged) */
		return true;
	if (ergo_now_ms >= x->md_win_ms + win) {
		x->md_win_ms = ergo_now_ms;
		x->md_count = 0;
	}
	if (x->md_count >= conf->metadata.throttle_max) {
		*retry = (unsigned)((x->md_win_ms + win - ergo_now_ms + 999) /
		    1000);
		return false;
	}
	x->md_count++;
	return true;
}

/* The account of a user target whose keys are kept, or 0. */
static int64_t
t_account(const struct target *t)
{
	return t->u != NULL ? t->u->account_id : 0;
}

/* ---- the subcommands ---- */

static void
md_set(struct client *c, struct msg *m, const struct target *t)
{
	char key[MD_KEY_MAX + 1];
	const char *value;
	struct mdkv **list;
	unsigned *n, retry;
	bool full;
	int rc;

	if (m->nparam < 3) {
		irc_numeric(c, ERR_NEEDMOREPARAMS,
		    "METADATA :Not enough parameters");
		return;
	}
	if (strlen(m->param[2]) > MD_KEY_MAX || (snprintf(key, sizeof(key),
	    "%s", m->param[2]), !key_norm(key))) {
		md_fail(c, "KEY_INVALID", "%s :Invalid key name",
		    safe(m->param[2]));
		return;
	}
	if (!may_edit(c, t)) {
		md_fail(c, "KEY_NO_PERMISSION", "%s %s :You do not have "
		    "permission to set %s on %s", t->name, key, key, t->name);
		return;
	}
	value = m->nparam > 3 ? m->param[3] : NULL;
	if (value != NULL && (strlen(value) > conf->metadata.max_value_bytes ||
	    strlen(key) + strlen(value) > MD_KV_MAX)) {
		md_fail(c, "VALUE_INVALID", ":Value is too long");
		return;
	}
	if (t->u != NULL && value != NULL && irc_cx(t->u) == NULL) {
		md_fail(c, "INTERNAL_ERROR", "%s :Out of memory", t->name);
		return;
	}
	list = t_list(t, &n);
	if (value == NULL && *kv_find(list, key) == NULL) {
		irc_numeric(c, ERR_KEYNOTSET, "%s %s :Key not set", t->name,
		    key);
		return;
	}
	if (!throttle_ok(c, &retry)) {
		md_fail(c, "RATE_LIMITED", "%s %s %u %s :Too many changes, "
		    "try again in %u seconds", t->name, key, retry,
		    value != NULL ? safe(value) : "*", retry);
		return;
	}
	if (value == NULL) {
		(void)kv_del(list, n, key);
		rc = 1;
	} else if ((rc = kv_set(list, n, key, value,
	    conf->metadata.max_keys, &full)) == -1) {
		if (full)
			md_fail(c, "LIMIT_REACHED",
			    "%s :Metadata limit reached", t->name);
		else
			md_fail(c, "INTERNAL_ERROR", "%s :Out of memory",
			    t->name);
		return;
	}
	if (rc == 1 && t_account(t) != 0)
		(void)store_md_set(t_account(t), key, value);	/* logged */
	if (rc == 1 && t->ch != NULL && t->ch->reg_id != 0)
		(void)store_chan_md_set(t->ch->reg_id, key, value);
	if (value != NULL)
		irc_numeric(c, RPL_KEYVALUE, "%s %s * :%s", t->name, key,
		    value);
	else
		irc_numeric(c, RPL_KEYVALUE, "%s %s *", t->name, key);
	if (rc == 1) {
		if (t->ch != NULL)
			notify_chan(t->ch, irc_sess(c), key, value);
		else
			notify_client(t->u, irc_sess(c), key, value);
	}
}

static void
md_get(struct client *c, struct msg *m, const struct target *t)
{
	char key[MD_KEY_MAX + 1], ref[32];
	struct mdkv **list, *kv;
	unsigned *n;
	int i;

	if (m->nparam < 3) {
		irc_numeric(c, ERR_NEEDMOREPARAMS,
		    "METADATA :Not enough parameters");
		return;
	}
	list = t_list(t, &n);
	batch_start(c, ref, sizeof(ref));
	for (i = 2; i < m->nparam; i++) {
		if (strlen(m->param[i]) > MD_KEY_MAX ||
		    (snprintf(key, sizeof(key), "%s", m->param[i]),
		    !key_norm(key))) {
			if (ref[0] != '\0')
				md_line(c, ref, ":%s FAIL METADATA KEY_INVALID "
				    "%s :Invalid key name", conf->server_name,
				    safe(m->param[i]));
			else
				md_fail(c, "KEY_INVALID", "%s :Invalid key "
				    "name", safe(m->param[i]));
			continue;
		}
		if ((kv = *kv_find(list, key)) == NULL)
			md_line(c, ref, ":%s %03d %s %s %s :No matching key",
			    conf->server_name, ERR_NOMATCHINGKEY, me(c),
			    t->name, key);
		else
			md_line(c, ref, ":%s %03d %s %s %s * :%s",
			    conf->server_name, RPL_KEYVALUE, me(c), t->name,
			    key, kv->value);
	}
	batch_end(c, ref);
}

static void
md_list(struct client *c, const struct target *t)
{
	char ref[32];
	struct mdkv **list, *kv;
	unsigned *n;

	list = t_list(t, &n);
	batch_start(c, ref, sizeof(ref));
	for (kv = *list; kv != NULL; kv = kv->next)
		md_line(c, ref, ":%s %03d %s %s %s * :%s", conf->server_name,
		    RPL_KEYVALUE, me(c), t->name, kv->key, kv->value);
	batch_end(c, ref);
}

static void
md_clear(struct client *c, const struct target *t)
{
	char ref[32];
	struct mdkv **list, *kv;
	unsigned *n, retry;

	if (!may_edit(c, t)) {
		md_fail(c, "KEY_NO_PERMISSION", "%s * :You do not have "
		    "permission to clear the keys of %s", t->name, t->name);
		return;
	}
	list = t_list(t, &n);
	if (*list != NULL && !throttle_ok(c, &retry)) {
		md_fail(c, "RATE_LIMITED", "%s * %u * :Too many changes, "
		    "try again in %u seconds", t->name, retry, retry);
		return;
	}
	if (*list != NULL && t_account(t) != 0)
		(void)store_md_clear(t_account(t));	/* logged */
	if (*list != NULL && t->ch != NULL && t->ch->reg_id != 0)
		(void)store_chan_md_clear(t->ch->reg_id);
	batch_start(c, ref, sizeof(ref));
	while ((kv = *list) != NULL) {
		md_line(c, ref, ":%s %03d %s %s %s *", conf->server_name,
		    RPL_KEYVALUE, me(c), t->name, kv->key);
		if (t->ch != NULL)
			notify_chan(t->ch, irc_sess(c), kv->key, NULL);
		else
			notify_client(t->u, irc_sess(c), kv->key, NULL);
		(void)kv_del(list, n, kv->key);
	}
	batch_end(c, ref);
}

/* A numeric listing words, as many lines as they need. */
struct words {
	struct client	*c;
	int		 num;
	char		 buf[IRC_LINE_MAX];
	size_t		 len, room;
};

static void
words_init(struct words *w, struct client *c, int num)
{
	w->c = c;
	w->num = num;
	w->len = 0;
	/* ":server NUM nick :" and CRLF */
	w->room = IRC_LINE_MAX - 2 - strlen(conf->server_name) -
	    strlen(me(c)) - 9;
}

static void
words_flush(struct words *w)
{
	if (w->len > 0)
		irc_numeric(w->c, w->num, ":%.*s", (int)w->len, w->buf);
	w->len = 0;
}

static void
words_add(struct words *w, const char *word)
{
	size_t l = strlen(word);

	if (w->len > 0 && w->len + 1 + l > w->room)
		words_flush(w);
	w->len += (size_t)snprintf(w->buf + w->len, sizeof(w->buf) - w->len,
	    "%s%s", w->len > 0 ? " " : "", word);
}

/* Whether key is one of the subscriptions from sub on. */
static bool
among(const struct mdsub *sub, const char *key)
{
	for (; sub != NULL; sub = sub->next)
		if (strcmp(sub->key, key) == 0)
			return true;
	return false;
}

/* name's keys among those from sub on, as METADATA lines to c in a
 * metadata batch, opened by the first of them (ref). */
static void
values_of(struct client *c, char *ref, size_t sz, const char *name,
    const struct mdkv *kv, const struct mdsub *sub)
{
	for (; kv != NULL; kv = kv->next) {
		if (!among(sub, kv->key))
			continue;
		if (ref[0] == '\0')	/* stays "" without batch */
			batch_start(c, ref, sz);
		md_line(c, ref, ":%s METADATA %s %s * :%s", conf->server_name,
		    name, kv->key, kv->value);
	}
}

/*
 * SUB added the keys from sub on: their values now, as the spec says a
 * client should get them, for everyone c hears of changes from (itself,
 * its channels and their members) in one batch (none if no value);
 * a channel of more than MD_JOIN_SYNC_MAX members gets 774 for its
 * members' keys, as at JOIN.
 */
static void
sub_values(struct client *c, const struct mdsub *sub)
{
	struct member *mb, *o;
	char ref[32] = "";

	if (sub == NULL || !(c->flags & CF_REG) ||
	    !(irc_sess(c)->caps & CAP_METADATA))
		return;		/* before-connect: 001 brings c's own */
	md_gen++;
	c->md_mark = md_gen;
	values_of(c, ref, sizeof(ref), c->nick, c->ext->meta, sub);
	for (mb = c->chans; mb != NULL; mb = mb->unext) {
		chan_load(mb->ch);
		values_of(c, ref, sizeof(ref), mb->ch->name, mb->ch->meta, sub);
		if (mb->ch->nmembers > MD_JOIN_SYNC_MAX)
			continue;
		for (o = mb->ch->members; o != NULL; o = o->cnext)
			if (o->c->md_mark != md_gen) {
				o->c->md_mark = md_gen;
				values_of(c, ref, sizeof(ref), o->c->nick,
				    o->c->ext->meta, sub);
			}
	}
	batch_end(c, ref);
	for (mb = c->chans; mb != NULL; mb = mb->unext)
		if (mb->ch->nmembers > MD_JOIN_SYNC_MAX)
			irc_numeric(c, ERR_METADATASYNCLATER, "%s",
			    mb->ch->name);
}

static void
md_sub(struct client *c, struct msg *m)
{
	struct session_ext *s = irc_sx(irc_sess(c));
	char key[MD_KEY_MAX + 1];
	struct mdsub *sub, **p, *added = NULL;
	struct words ok;
	size_t kl;
	int i;

	if (m->nparam < 3) {
		irc_numeric(c, ERR_NEEDMOREPARAMS,
		    "METADATA :Not enough parameters");
		return;
	}
	if (s == NULL) {
		md_fail(c, "INTERNAL_ERROR", "* :Out of memory");
		return;
	}
	words_init(&ok, c, RPL_METADATASUBOK);
	for (i = 2; i < m->nparam; i++) {
		if (strlen(m->param[i]) > MD_KEY_MAX ||
		    (snprintf(key, sizeof(key), "%s", m->param[i]),
		    !key_norm(key))) {
			md_fail(c, "KEY_INVALID", "%s :Invalid key name",
			    safe(m->param[i]));
			continue;
		}
		for (p = &s->mdsubs; *p != NULL; p = &(*p)->next)
			if (strcmp((*p)->key, key) == 0)
				break;
		if (*p == NULL) {
			if (s->nmdsubs >= conf->metadata.max_subs) {
				md_fail(c, "TOO_MANY_SUBS",
				    "%s :Too many subscriptions", key);
				break;	/* the keys after it: not processed */
			}
			kl = strlen(key) + 1;
			if ((sub = malloc(sizeof(*sub) + kl)) == NULL) {
				md_fail(c, "INTERNAL_ERROR", "%s :Out of memory",
				    key);
				break;
			}
			memcpy(sub->key, key, kl);
			sub->next = NULL;
			*p = sub;
			s->nmdsubs++;
			if (added == NULL)
				added = sub;	/* it and those after it */
		}
		words_add(&ok, key);
	}
	words_flush(&ok);
	sub_values(c, added);
}

static void
md_unsub(struct client *c, struct msg *m)
{
	struct session_ext *s = irc_sess(c)->x;
	char key[MD_KEY_MAX + 1];
	struct mdsub *sub, **p;
	struct words ok;
	int i;

	if (m->nparam < 3) {
		irc_numeric(c, ERR_NEEDMOREPARAMS,
		    "METADATA :Not enough parameters");
		return;
	}
	words_init(&ok, c, RPL_METADATAUNSUBOK);
	for (i = 2; i < m->nparam; i++) {
		if (strlen(m->param[i]) > MD_KEY_MAX ||
		    (snprintf(key, sizeof(key), "%s", m->param[i]),
		    !key_norm(key))) {
			md_fail(c, "KEY_INVALID", "%s :Invalid key name",
			    safe(m->param[i]));
			continue;
		}
		for (p = &s->mdsubs; *p != NULL; p = &(*p)->next)
			if (strcmp((*p)->key, key) == 0) {
				sub = *p;
				*p = sub->next;
				free(sub);
				s->nmdsubs--;
				break;
			}
		words_add(&ok, key);
	}
	words_flush(&ok);
}

static void
md_subs(struct client *c)
{
	struct mdsub *sub;
	struct words w;

	words_init(&w, c, RPL_METADATASUBS);
	for (sub = irc_sess(c)->x->mdsubs; sub != NULL; sub = sub->next)
		words_add(&w, sub->key);
	words_flush(&w);
}

/* u's subscribed keys as METADATA lines to c, in batch ref. */
static void
sync_keys(struct client *c, const char *ref, const char *name,
    const struct mdkv *kv)
{
	for (; kv != NULL; kv = kv->next)
		if (subscribed(irc_sess(c), kv->key))
			md_line(c, ref, ":%s METADATA %s %s * :%s",
			    conf->server_name, name, kv->key, kv->value);
}

static void
md_sync(struct client *c, const struct target *t)
{
	struct member *o;
	char ref[32];

	batch_start(c, ref, sizeof(ref));
	if (t->u != NULL)
		sync_keys(c, ref, t->u->nick[0] ? t->u->nick : "*",
		    t->u->ext->meta);
	else {
		chan_load(t->ch);
		sync_keys(c, ref, t->ch->name, t->ch->meta);
		for (o = t->ch->members; o != NULL; o = o->cnext)
			if (o->c != c)
				sync_keys(c, ref, o->c->nick,
				    o->c->ext->meta);
	}
	batch_end(c, ref);
}

/*
 * METADATA <target> <subcommand> [params]: target "*" is oneself, the
 * only one before registration (before-connect).
 */
void
h_metadata(struct client *c, struct msg *m)
{
	struct target t;
	char sub[16];
	size_t i;

	if (!conf->metadata.enabled) {
		md_fail(c, "FORBIDDEN", "%s :Metadata is disabled on this "
		    "server", safe(m->param[0]));
		return;
	}
	snprintf(sub, sizeof(sub), "%s", m->param[1]);
	for (i = 0; sub[i] != '\0'; i++)
		if (sub[i] >= 'a' && sub[i] <= 'z')
			sub[i] = (char)(sub[i] - 'a' + 'A');
	if (strcmp(sub, "SUB") == 0) {
		md_sub(c, m);
		return;
	}
	if (strcmp(sub, "UNSUB") == 0) {
		md_unsub(c, m);
		return;
	}
	if (strcmp(sub, "SUBS") == 0) {
		md_subs(c);
		return;
	}
	if (strcmp(sub, "GET") != 0 && strcmp(sub, "SET") != 0 &&
	    strcmp(sub, "LIST") != 0 && strcmp(sub, "CLEAR") != 0 &&
	    strcmp(sub, "SYNC") != 0) {
		md_fail(c, "INVALID_SUBCOMMAND", "%s :Invalid subcommand",
		    safe(m->param[1]));
		return;
	}
	if (!target_find(c, m->param[0], &t)) {
		md_fail(c, "INVALID_TARGET", "%s :Invalid metadata target",
		    safe(m->param[0]));
		return;
	}
	if (strcmp(sub, "SET") == 0)
		md_set(c, m, &t);
	else if (strcmp(sub, "CLEAR") == 0)
		md_clear(c, &t);
	else if (!may_see(c, &t))
		md_fail(c, "KEY_NO_PERMISSION", "%s * :You do not have "
		    "permission to see the keys of %s", t.name, t.name);
	else if (strcmp(sub, "GET") == 0)
		md_get(c, m, &t);
	else if (strcmp(sub, "LIST") == 0)
		md_list(c, &t);
	else
		md_sync(c, &t);
}

bool
irc_metadata_cap(const struct conf *k, char *buf, size_t sz,
    const char **v)
{
	if (!k->metadata.enabled)
		return false;
	snprintf(buf, sz, "before-connect,max-subs=%u,max-keys=%u,"
	    "max-value-bytes=%u", k->metadata.max_subs, k->metadata.max_keys,
	    k->metadata.max_value_bytes);
	*v = buf;
	return true;
}

/* ---- hooks ---- */

/* c's session joined ch (or, attached, found c in it): the channel's
 * and its members' subscribed keys, or 774 for a big channel. */
static void
chan_sync(struct client *c, struct chan *ch)
{
	struct target t = { NULL, ch, ch->name };

	chan_load(ch);
	if (ch->nmembers > MD_JOIN_SYNC_MAX)
		irc_numeric(c, ERR_METADATASYNCLATER, "%s", ch->name);
	else if (ch->meta != NULL || ch->nmembers > 1)
		md_sync(c, &t);
}

/*
 * After registration, or a session's attach to its user: the user's own
 * keys in a metadata batch (an empty one if none), as the spec asks of a
 * client with the cap, then, if it subscribed before (before-connect),
 * each of the user's channels synced as at JOIN.
 */
void
irc_metadata_registered(struct client *c)
{
	struct member *mb;
	struct mdkv *kv;
	char ref[32];

	if (!(irc_sess(c)->caps & CAP_METADATA) || !conf->metadata.enabled)
		return;
	batch_start(c, ref, sizeof(ref));
	for (kv = c->ext->meta; kv != NULL; kv = kv->next)
		md_line(c, ref, ":%s METADATA %s %s * :%s", conf->server_name,
		    c->nick, kv->key, kv->value);
	batch_end(c, ref);
	if (irc_sess(c)->x->mdsubs != NULL)
		for (mb = c->chans; mb != NULL; mb = mb->unext)
			chan_sync(c, mb->ch);
}

struct loaded {
	struct client	*c;
	unsigned	 n;
};

static void
load_one(void *arg, const char *key, const char *value)
{
	struct loaded *l = arg;
	bool full;
	char k[MD_KEY_MAX + 1];

	snprintf(k, sizeof(k), "%s", key);
	if (!key_norm(k) || irc_cx(l->c) == NULL ||
	    *kv_find(&l->c->ext->meta, k) != NULL)
		return;		/* set before the login: that one stands */
	if (kv_set(&l->c->ext->meta, &l->c->ext->nmeta, k, value,
	    conf->metadata.max_keys, &full) == 1)
		notify_client(l->c, NULL, k, value);
}

/*
 * c logged in: what it set before (before-connect, or before IDENTIFY)
 * goes to the account, then the account's other keys come to c.
 */
static void
md_logged_in(struct client *c)
{
	struct loaded l = { c, 0 };
	struct mdkv *kv;

	if (c->account_id == 0)
		return;
	for (kv = c->ext->meta; kv != NULL; kv = kv->next)
		(void)store_md_set(c->account_id, kv->key, kv->value);
	(void)store_md_list(c->account_id, load_one, &l);	/* logged */
}

/* JOIN: the joiner gets the channel's and its members' subscribed keys
 * (774 for a big channel: it asks with SYNC), and the members the
 * joiner's. */
static void
md_joined(struct client *c, struct chan *ch)
{
	struct member *o;
	struct mdkv *kv;

	if (!conf->metadata.enabled)
		return;
	if (irc_sess(c)->caps & CAP_METADATA)
		chan_sync(c, ch);
	for (kv = c->ext->meta; kv != NULL; kv = kv->next) {
		struct notice n = { c->nick, kv->key, kv->value, NULL };

		md_gen++;
		c->md_mark = md_gen;	/* not to itself */
		for (o = ch->members; o != NULL; o = o->cnext)
			notify_user(o->c, &n);
	}
}

static void
chan_load_one(void *arg, const char *key, const char *value)
{
	struct chan *ch = arg;
	char k[MD_KEY_MAX + 1];
	bool full;

	snprintf(k, sizeof(k), "%s", key);
	if (key_norm(k) && *kv_find(&ch->meta, k) == NULL)
		(void)kv_set(&ch->meta, &ch->nmeta, k, value,
		    conf->metadata.max_keys, &full);
}

/*
 * A registered channel's keys are its row's: once per registration (a
 * JOIN brought it back, or ChanServ REGISTER made it one), the keys it
 * has go to the row and the row's others come to it.
 */
static void
chan_load(struct chan *ch)
{
	struct mdkv *kv;

	if (ch->reg_id == 0 || ch->md_reg == ch->reg_id)
		return;
	ch->md_reg = ch->reg_id;
	for (kv = ch->meta; kv != NULL; kv = kv->next)
		(void)store_chan_md_set(ch->reg_id, kv->key, kv->value);
	(void)store_chan_md_list(ch->reg_id, chan_load_one, ch); /* logged */
}

/* The keys WHOIS shows (760), in this order: the spec asks for a subset
 * chosen for people to read (an avatar's URL is not). */
static const char *const whois_keys[] = {
	"display-name", "pronouns", "status", "homepage", "url",
};

static void
md_whois(struct client *c, struct client *u)
{
	struct mdkv *kv, *list = u->ext->meta;
	size_t i;

	if (!conf->metadata.enabled)
		return;
	for (i = 0; i < sizeof(whois_keys) / sizeof(whois_keys[0]); i++)
		if ((kv = *kv_find(&list, whois_keys[i])) != NULL)
			irc_numeric(c, RPL_WHOISKEYVALUE, "%s %s * :%s",
			    u->nick, kv->key, kv->value);
}

static void
md_client_free(struct client *c)
{
	if (c->ext != IRC_CX_NONE)
		kv_free(&c->ext->meta, &c->ext->nmeta);
}

static void
md_chan_free(struct chan *ch)
{
	kv_free(&ch->meta, &ch->nmeta);
}

void
irc_metadata_init(void)
{
	IRC_HOOK_ADD(logged_in, md_logged_in);
	IRC_HOOK_ADD(joined, md_joined);
	IRC_HOOK_ADD(client_free, md_client_free);
	IRC_HOOK_ADD(chan_free, md_chan_free);
	IRC_HOOK_ADD(whois, md_whois);
}
