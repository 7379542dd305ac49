/*
 * irc_link_ban.c: K-lines and D-lines across links, as ratbox and
 * charybdis carry them: ENCAP target KLINE secs user host :reason,
 * ENCAP target UNKLINE user host, ENCAP target DLINE secs host :reason,
 * ENCAP target UNDLINE host (and KLINE/UNKLINE without ENCAP, which
 * peers with KLN/UNKLN such as ircd-hybrid send, and the only form
 * ircd-hybrid takes: it ignores ENCAP KLINE). An oper's here go out
 * through irc_hooks.ban_set/ban_unset (UBAN's bans of masks and
 * addresses are K- and D-lines too); a peer's are kept and applied to
 * this server's users through irc_hooks.ban_remote (the bans family's)
 * when its target matches us. Each server applies a ban to its own
 * users only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc_link_int.h"
#include "irc_link.h"
#include "ergo.h"
#include "log.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"

/* A target that names only us: nothing to pass on. */
static bool
only_us(const char *target)
{
	return strpbrk(target, "*?") == NULL &&
	    irc_match(target, lk_me.name);
}

static const char *
source_of(struct client *by)
{
	return by != NULL && !lk_is_remote(by) && lk_uid_of(by) != NULL ?
	    by->lk->uid : lk_me.sid;
}

/*
 * sub (KLINE UNKLINE DLINE UNDLINE) for target, with the rest of its
 * parameters, from src to every link up but except: a K-line without
 * ENCAP to a peer of another kind that says KLN, as ratbox's and
 * hybrid's KLN servers take it; as ENCAP to ours and the rest.
 */
/* 'k' (KLINE, UNKLINE), 'd' (DLINE, UNDLINE), or 0. */
static int
ban_kind(const char *sub)
{
	if (strncmp(sub, "UN", 2) == 0)
		sub += 2;
	return strcmp(sub, "KLINE") == 0 ? 'k' : strcmp(sub, "DLINE") == 0 ?
	    'd' : 0;
}

static void
ban_out(struct link *except, const char *src, const char *target,
    const char *sub, const char *rest)
{
	bool k = ban_kind(sub) == 'k';
	struct link *l;

	for (l = lk_links; l != NULL; l = l->next) {
		if (l == except || l->state != LS_UP || l->dead)
			continue;
		if (k && (l->caps & LKCAP_KLN) && !(l->caps & LKCAP_ERGO))
			lk_send(l, ":%s %s %s %s", src, sub, target, rest);
		else
			lk_send(l, ":%s ENCAP %s %s %s", src, target, sub, rest);
	}
}

/* p[0..n) as a line's last parameters (the last after ':'). */
static bool
params(char *buf, size_t sz, char **p, int n)
{
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		len += (size_t)snprintf(buf + len, sz - len, "%s%s%s",
		    i > 0 ? " " : "", i == n - 1 ? ":" : "", p[i]);
		if (len >= sz)
			return false;
	}
	return true;
}

/*
 * An oper's K- or D-line here (reason NULL: its removal) to the links:
 * the mask as user and host for a K-line.
 */
static void
ban_send(struct client *by, int kind, const char *mask, long long secs,
    const char *reason, const char *target)
{
	static const char *const subs[] = { "KLINE", "UNKLINE", "DLINE",
	    "UNDLINE" };
	char rest[IRC_LINE_MAX], when[32];
	const char *at = NULL;
	int n;

	if (lk_links == NULL || lk_cur != NULL || only_us(target) ||
	    (kind != 'k' && kind != 'd') ||	/* UBAN REQUIRE-SASL: ours */
	    (kind == 'k' && (at = strchr(mask, '@')) == NULL))
		return;
	when[0] = '\0';
	if (reason != NULL)
		snprintf(when, sizeof(when), "%lld ", secs);
	n = at != NULL ? (int)(at - mask) : (int)strlen(mask);
	snprintf(rest, sizeof(rest), "%s%.*s%s%s%s%s", when, n, mask,
	    at != NULL ? " " : "", at != NULL ? at + 1 : "",
	    reason != NULL ? " :" : "", reason != NULL ? reason : "");
	ban_out(NULL, source_of(by), target,
	    subs[(kind == 'd') * 2 + (reason == NULL)], rest);
}

static void
on_ban_set(struct client *by, int kind, const char *mask, long long secs,
    const char *reason, const char *target)
{
	ban_send(by, kind, mask, secs, reason != NULL ? reason : "", target);
}

static void
on_ban_unset(struct client *by, int kind, const char *mask,
    const char *target)
{
	ban_send(by, kind, mask, 0, NULL, target);
}

/*
 * sub (KLINE UNKLINE DLINE UNDLINE) with its parameters p[0..n), from u
 * or the server from: applied here. true if sub is one of them.
 */
static bool
ban_in(struct link *l, struct server *from, struct client *u,
    const char *sub, char **p, int n)
{
	char mask[IRC_LINE_MAX], setter[IRC_LINE_MAX];
	const char *reason = "";
	long long secs = 0;
	bool add;
	int kind;

	if ((kind = ban_kind(sub)) == 0)
		return false;
	add = sub[0] != 'U';
	if (n < (add ? 2 : 0) + (kind == 'k' ? 2 : 1)) {
		log_info("link", "%s sent %s with too few parameters: ignored",
		    l->name, sub);
		return true;
	}
	if (add) {
		secs = strtoll(p[0], NULL, 10);
		p++;
		n--;
	}
	if (kind == 'k') {
		snprintf(mask, sizeof(mask), "%s@%s", p[0], p[1]);
		if (add && n > 2)
			reason = p[2];
	} else {
		snprintf(mask, sizeof(mask), "%s", p[0]);
		if (add && n > 1)
			reason = p[1];
	}
	snprintf(setter, sizeof(setter), "%s", u != NULL ? irc_prefix(u) :
	    from != NULL ? from->name : l->name);
	if (irc_hooks.ban_remote != NULL)
		(void)irc_hooks.ban_remote(kind, add, mask, secs, reason,
		    setter);
	return true;
}

/* ENCAP's: passed on (each peer in its form), applied if it is for us. */
static bool
lk_encap_ban(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	char rest[IRC_LINE_MAX];

	if (m->nparam < 2 || ban_kind(m->param[1]) == 0)
		return false;
	if (params(rest, sizeof(rest), m->param + 2, m->nparam - 2))
		ban_out(l, u != NULL ? u->lk->uid : from->sid, m->param[0],
		    m->param[1], rest);
	if (irc_match(m->param[0], lk_me.name))
		(void)ban_in(l, from, u, m->param[1], m->param + 2,
		    m->nparam - 2);
	return true;
}

/* :src KLINE target secs user host :reason, :src UNKLINE target user
 * host (KLN, UNKLN): passed on, applied if for us. */
static void
kline_plain(struct link *l, struct server *from, struct client *u,
    struct msg *m, const char *cmd)
{
	char rest[IRC_LINE_MAX];

	if (params(rest, sizeof(rest), m->param + 1, m->nparam - 1))
		ban_out(l, u != NULL ? u->lk->uid : from->sid, m->param[0], cmd,
		    rest);
	if (irc_match(m->param[0], lk_me.name))
		(void)ban_in(l, from, u, cmd, m->param + 1, m->nparam - 1);
}

static void
lk_kline(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	kline_plain(l, from, u, m, "KLINE");
}

static void
lk_unkline(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	kline_plain(l, from, u, m, "UNKLINE");
}

static const struct lk_cmd ban_cmds[] = {
	{ "KLINE",	lk_kline,	5, LK_UP },
	{ "UNKLINE",	lk_unkline,	3, LK_UP },
};

void
irc_link_ban_init(void)
{
	lk_hooks.encap_relay = lk_encap_ban;
	lk_cmds_add(ban_cmds, sizeof(ban_cmds) / sizeof(ban_cmds[0]));
	IRC_HOOK_ADD(ban_set, on_ban_set);
	IRC_HOOK_ADD(ban_unset, on_ban_unset);
}
