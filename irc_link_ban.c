/*
 * irc_link_ban.c: K-lines and D-lines across links, as ratbox and
 * charybdis carry them: ENCAP target KLINE secs user host :reason,
 * ENCAP target UNKLINE user host, ENCAP target DLINE secs host :reason,
 * ENCAP target UNDLINE host (and KLINE/UNKLINE without ENCAP, which
 * peers with KLN/UNKLN such as ircd-hybrid send). An oper's here go out
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

static void
on_ban_set(struct client *by, int kind, const char *mask, long long secs,
    const char *reason, const char *target)
{
	const char *at;

	if (lk_links == NULL || lk_cur != NULL || only_us(target) ||
	    (kind != 'k' && kind != 'd'))	/* UBAN REQUIRE-SASL: ours */
		return;
	if (kind == 'k') {
		if ((at = strchr(mask, '@')) == NULL)
			return;
		lk_send_all(NULL, ":%s ENCAP %s KLINE %lld %.*s %s :%s",
		    source_of(by), target, secs, (int)(at - mask), mask,
		    at + 1, reason);
	} else
		lk_send_all(NULL, ":%s ENCAP %s DLINE %lld %s :%s",
		    source_of(by), target, secs, mask, reason);
}

static void
on_ban_unset(struct client *by, int kind, const char *mask,
    const char *target)
{
	const char *at;

	if (lk_links == NULL || lk_cur != NULL || only_us(target) ||
	    (kind != 'k' && kind != 'd'))
		return;
	if (kind == 'k') {
		if ((at = strchr(mask, '@')) == NULL)
			return;
		lk_send_all(NULL, ":%s ENCAP %s UNKLINE %.*s %s",
		    source_of(by), target, (int)(at - mask), mask, at + 1);
	} else
		lk_send_all(NULL, ":%s ENCAP %s UNDLINE %s", source_of(by),
		    target, mask);
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

	if (strcmp(sub, "KLINE") == 0 || strcmp(sub, "UNKLINE") == 0)
		kind = 'k';
	else if (strcmp(sub, "DLINE") == 0 || strcmp(sub, "UNDLINE") == 0)
		kind = 'd';
	else
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

/* ENCAP's: lk_encap passed it on already; applied if it is for us. */
bool
lk_encap_ban(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	if (m->nparam < 2 || !irc_match(m->param[0], lk_me.name))
		return strcmp(m->param[1], "KLINE") == 0 ||
		    strcmp(m->param[1], "UNKLINE") == 0 ||
		    strcmp(m->param[1], "DLINE") == 0 ||
		    strcmp(m->param[1], "UNDLINE") == 0;
	return ban_in(l, from, u, m->param[1], m->param + 2, m->nparam - 2);
}

/* :src KLINE target secs user host :reason, :src UNKLINE target user
 * host (KLN, UNKLN): passed on as ENCAP, applied if for us. */
static void
kline_plain(struct link *l, struct server *from, struct client *u,
    struct msg *m, const char *cmd)
{
	char fwd[IRC_LINE_MAX];
	size_t n;
	int i;

	n = (size_t)snprintf(fwd, sizeof(fwd), ":%s ENCAP %s %s", u != NULL ?
	    u->lk->uid : from->sid, m->param[0], cmd);
	for (i = 1; i < m->nparam && n < sizeof(fwd); i++)
		n += (size_t)snprintf(fwd + n, sizeof(fwd) - n, " %s%s",
		    i == m->nparam - 1 ? ":" : "", m->param[i]);
	if (n < sizeof(fwd))
		lk_send_all(l, "%s", fwd);
	if (irc_match(m->param[0], lk_me.name))
		(void)ban_in(l, from, u, cmd, m->param + 1, m->nparam - 1);
}

void
lk_kline(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	kline_plain(l, from, u, m, "KLINE");
}

void
lk_unkline(struct link *l, struct server *from, struct client *u,
    struct msg *m)
{
	kline_plain(l, from, u, m, "UNKLINE");
}

void
lk_ban_init(void)
{
	IRC_HOOK_ADD(ban_set, on_ban_set);
	IRC_HOOK_ADD(ban_unset, on_ban_unset);
}
