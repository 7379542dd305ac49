/*
 * irc_cap.c: IRCv3 capability negotiation (CAP LS/LIST/REQ/END, 302
 * values and continuation lines, STS, cap-notify after a rehash), part
 * of the roof: it asks the families what they offer (sasl, metadata,
 * multiline, account registration) as irc.c may. Only irc.c calls it;
 * it sends through irc_out and never ends a client.
 */

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "irc_cap.h"
#include "ergo.h"
#include "conf.h"
#include "net.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_num.h"
#include "irc_metadata.h"
#include "irc_multiline.h"
#include "irc_register.h"
#include "irc_sasl.h"

static const struct {
	const char	*name;
	uint64_t	 bit;
	const char	*value;		/* CAP LS 302 shows name=value */
} caps[] = {
	{ "account-notify",	CAP_ACCOUNT_NOTIFY,	NULL },
	{ "account-tag",	CAP_ACCOUNT_TAG,	NULL },
	{ "away-notify",	CAP_AWAY_NOTIFY,	NULL },
	{ "batch",		CAP_BATCH,		NULL },
	{ "cap-notify",		CAP_CAP_NOTIFY,		NULL },
	{ "chghost",		CAP_CHGHOST,		NULL },
	{ "draft/account-registration", CAP_ACCOUNT_REGISTRATION, NULL },
	{ "draft/channel-rename", CAP_CHANNEL_RENAME,	NULL },
	{ "draft/chathistory",	CAP_CHATHISTORY,	NULL },
	{ "draft/event-playback", CAP_EVENT_PLAYBACK,	NULL },
	{ "draft/read-marker",	CAP_READ_MARKER,	NULL },
	{ "draft/message-redaction", CAP_REDACTION,	NULL },
	{ "draft/metadata-2",	CAP_METADATA,		NULL },	/* limits */
	{ "draft/multiline",	CAP_MULTILINE,		NULL },	/* limits */
	{ "draft/persistence",	CAP_PERSISTENCE,	NULL },
	{ "draft/pre-away",	CAP_PRE_AWAY,		NULL },
	{ "echo-message",	CAP_ECHO_MESSAGE,	NULL },
	{ "extended-join",	CAP_EXTENDED_JOIN,	NULL },
	{ "extended-monitor",	CAP_EXTENDED_MONITOR,	NULL },
	{ "invite-notify",	CAP_INVITE_NOTIFY,	NULL },
	{ "labeled-response",	CAP_LABELED,		NULL },
	{ "message-tags",	CAP_MESSAGE_TAGS,	NULL },
	{ "multi-prefix",	CAP_MULTI_PREFIX,	NULL },
	{ "no-implicit-names",	CAP_NO_IMPLICIT_NAMES,	NULL },
	{ "sasl",		CAP_SASL,		SASL_MECHS },
	{ "server-time",	CAP_SERVER_TIME,	NULL },
	{ "setname",		CAP_SETNAME,		NULL },
	{ "standard-replies",	CAP_STANDARD_REPLIES,	NULL },
	{ "userhost-in-names",	CAP_USERHOST_NAMES,	NULL },
	{ "znc.in/playback",	CAP_ZNC_PLAYBACK,	NULL },
	/* every session gets what the others send (multiclient) */
	{ "znc.in/self-message", CAP_ZNC_SELF,		NULL },
};
#define NCAPS	(sizeof(caps) / sizeof(caps[0]))
/* a set of caps is a uint64_t (irc_state.h): one bit each */
_Static_assert(NCAPS <= sizeof(uint64_t) * CHAR_BIT,
    "more caps than bits in a uint64_t");

/*
 * Bytes of cap list per CAP LS/LIST line before a 302 continuation:
 * well inside 512, and short enough that today's list (about 310 bytes
 * with values) already takes two lines, so the path is exercised.
 */
#define CAP_LINE_ROOM	256

/*
 * IRCv3 STS: the policy is a cap value, so 302 clients only; it is
 * advertised, never requested. False when k offers none.
 */
static bool
sts_value(const struct conf *k, bool tls, char *buf, size_t sz)
{
	if (!k->sts.enabled)
		return false;
	if (tls)
		snprintf(buf, sz, "duration=%u%s", k->sts.duration,
		    k->sts.preload ? ",preload" : "");
	else
		snprintf(buf, sz, "port=%u%s", k->sts.port,
		    k->sts.preload ? ",preload" : "");
	return true;
}

/*
 * Whether k offers caps[i] (sasl only while authentication is enabled,
 * draft/chathistory and draft/event-playback only while history is, as
 * Ergo does: a client that sees the cap will send CHATHISTORY), and its
 * value (*v, NULL if none; buf holds one made from k). A rehash may
 * start, stop or change an offer: cap_notify_rehash says so.
 */
static bool
cap_offer(const struct conf *k, size_t i, const char **v, char *buf,
    size_t sz)
{
	*v = caps[i].value;
	switch (caps[i].bit) {
	case CAP_SASL:
		/* the services elsewhere: the mechanisms they announced */
		if (!k->services.enabled && irc_hooks.sasl_mechs != NULL &&
		    irc_hooks.sasl_mechs() != NULL)
			*v = irc_hooks.sasl_mechs();
		return k->accounts.auth_enabled;
	case CAP_CHATHISTORY:
	case CAP_EVENT_PLAYBACK:
	case CAP_ZNC_PLAYBACK:
		return k->history.enabled;
	case CAP_ACCOUNT_REGISTRATION:
		return irc_register_cap(k, buf, sz, v);
	case CAP_METADATA:
		return irc_metadata_cap(k, buf, sz, v);
	case CAP_MULTILINE: {
		unsigned mb, ml;

		irc_ml_limits(k, &mb, &ml);
		snprintf(buf, sz, "max-bytes=%u,max-lines=%u", mb, ml);
		*v = buf;
		return true;
	}
	}
	return true;
}

/* Appends one "name[=value]" to a CAP reply, flushing full lines. */
static void
cap_add(struct client *c, const char *sub, char *buf, size_t *n,
    const char *name, const char *v)
{
	size_t l = strlen(name) + (v != NULL ? strlen(v) + 1 : 0);

	if (*n > 0 && *n + l + 1 > CAP_LINE_ROOM && irc_sess(c)->capver >= 302) {
		irc_send(c, ":%s CAP %s %s * :%s", conf->server_name,
		    c->nick[0] ? c->nick : "*", sub, buf);
		*n = 0;
	}
	if (*n + l + 2 > IRC_LINE_MAX)
		return;		/* a 301 client's single line is full */
	*n += (size_t)snprintf(buf + *n, IRC_LINE_MAX - *n, "%s%s%s%s",
	    *n ? " " : "", name, v ? "=" : "", v ? v : "");
}

static void
cap_ls(struct client *c, bool enabled_only, const char *sub)
{
	char buf[IRC_LINE_MAX], sts[96], vb[96];
	const char *v;
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < NCAPS; i++) {
		if (enabled_only ? !(irc_sess(c)->caps & caps[i].bit) :
		    !cap_offer(conf, i, &v, vb, sizeof(vb)))
			continue;
		cap_add(c, sub, buf, &n, caps[i].name, irc_sess(c)->capver >= 302 &&
		    !enabled_only ? v : NULL);
	}
	if (irc_sess(c)->capver >= 302 && !enabled_only && sts_value(conf,
	    irc_sess(c)->conn != NULL && net_conn_tls(irc_sess(c)->conn), sts,
	    sizeof(sts)))
		cap_add(c, sub, buf, &n, "sts", sts);
	irc_send(c, ":%s CAP %s %s :%s", conf->server_name,
	    c->nick[0] ? c->nick : "*", sub, buf);
}

static void
cap_req(struct client *c, char *list)
{
	char copy[IRC_LINE_MAX], *tok, *save = NULL, vb[96];
	uint64_t add = 0, del = 0;
	const char *v;
	size_t i;

	snprintf(copy, sizeof(copy), "%s", list);
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		bool neg = *tok == '-';

		if (neg)
			tok++;
		for (i = 0; i < NCAPS; i++)
			if (strcmp(tok, caps[i].name) == 0)
				break;
		/* One unknown cap NAKs the whole request (IRCv3). */
		if (i == NCAPS || (neg && caps[i].bit == CAP_CAP_NOTIFY &&
		    irc_sess(c)->capver >= 302) ||
		    (!neg && !cap_offer(conf, i, &v, vb, sizeof(vb)))) {
			irc_send(c, ":%s CAP %s NAK :%s", conf->server_name,
			    c->nick[0] ? c->nick : "*", list);
			return;
		}
		if (neg)
			del |= caps[i].bit;
		else
			add |= caps[i].bit;
	}
	add &= ~irc_sess(c)->caps;		/* newly enabled */
	irc_sess(c)->caps = (irc_sess(c)->caps | add) & ~del;
	irc_user_dv_stale(c);
	irc_send(c, ":%s CAP %s ACK :%s", conf->server_name,
	    c->nick[0] ? c->nick : "*", list);
	/* draft/metadata-2 after 001: its keys now, as at 001 */
	if ((c->flags & CF_REG) && (add & CAP_METADATA))
		irc_metadata_registered(c);
}

/* Appends " word" (or "word") to a CAP NEW/DEL list, if it fits. */
static void
cap_list_add(char *buf, size_t sz, size_t *n, const char *name,
    const char *v)
{
	int w = snprintf(buf + *n, sz - *n, "%s%s%s%s", *n ? " " : "", name,
	    v != NULL ? "=" : "", v != NULL ? v : "");

	if (w > 0 && (size_t)w < sz - *n)
		*n += (size_t)w;
	else
		buf[*n] = '\0';
}

/*
 * cap-notify: a rehash that starts, stops or changes what is offered
 * (sasl with authentication-enabled, draft/chathistory and
 * draft/event-playback with history.enabled, draft/multiline's limits,
 * an STS policy) says CAP NEW (with values for 302 clients) or CAP DEL to every
 * session that asked to be told; 302 clients have cap-notify implied,
 * and only they see sts at all. A deleted cap is disabled for the
 * session (IRCv3 cap-notify). Each session of a user negotiated on its
 * own, so each is told what changed for it; a user with no session is
 * told nothing.
 */
static void
cap_notify_session(struct client *c, struct session *s,
    const struct conf *old)
{
	char ov[96], nv[96], nb[IRC_LINE_MAX], db[IRC_LINE_MAX];
	const char *o, *v;
	bool tls = s->conn != NULL && net_conn_tls(s->conn);
	bool v302 = s->capver >= 302, had, has;
	size_t j, nn = 0, dn = 0;

	if (!(s->caps & CAP_CAP_NOTIFY) || (s->flags & SF_CLOSING))
		return;
	nb[0] = db[0] = '\0';
	for (j = 0; j < NCAPS; j++) {
		had = cap_offer(old, j, &o, ov, sizeof(ov));
		has = cap_offer(conf, j, &v, nv, sizeof(nv));
		if (has && (!had || (v302 && v != NULL &&
		    (o == NULL || strcmp(o, v) != 0))))
			cap_list_add(nb, sizeof(nb), &nn, caps[j].name,
			    v302 ? v : NULL);
		else if (had && !has) {
			cap_list_add(db, sizeof(db), &dn, caps[j].name, NULL);
			s->caps &= ~caps[j].bit;
			irc_user_dv_stale(c);
		}
	}
	had = sts_value(old, tls, ov, sizeof(ov));
	has = sts_value(conf, tls, nv, sizeof(nv));
	if (v302 && has && (!had || strcmp(ov, nv) != 0))
		cap_list_add(nb, sizeof(nb), &nn, "sts", nv);
	else if (v302 && had && !has)
		cap_list_add(db, sizeof(db), &dn, "sts", NULL);
	if (dn > 0)
		irc_send_session(s, ":%s CAP %s DEL :%s", conf->server_name,
		    c->nick, db);
	if (nn > 0)
		irc_send_session(s, ":%s CAP %s NEW :%s", conf->server_name,
		    c->nick, nb);
}

/* After a rehash that swapped old for conf: cap-notify, to every user. */
void
irc_cap_notify_rehash(const struct conf *old)
{
	struct session *s;
	struct hent *e;
	size_t i;

	for (i = 0; i < irc.nicks.nb; i++)
		for (e = irc.nicks.b[i]; e != NULL; e = e->next) {
			struct client *c = (struct client *)(void *)
			    ((char *)e - offsetof(struct client, h));

			if (c->flags & CF_CLOSING)
				continue;
			for (s = c->sess; s != NULL; s = s->next)
				cap_notify_session(c, s, old);
		}
}

void
h_cap(struct client *c, struct msg *m)
{
	const char *sub = m->param[0];

	if (strcasecmp(sub, "LS") == 0) {
		if (!(c->flags & CF_REG))
			irc_sess(c)->flags |= SF_CAPNEG;
		if (m->nparam > 1 && atoi(m->param[1]) >= 302) {
			irc_sess(c)->capver = 302;
			irc_sess(c)->caps |= CAP_CAP_NOTIFY; /* implied by 302 */
			irc_user_dv_stale(c);
		}
		cap_ls(c, false, "LS");
	} else if (strcasecmp(sub, "LIST") == 0)
		cap_ls(c, true, "LIST");
	else if (strcasecmp(sub, "REQ") == 0) {
		if (!(c->flags & CF_REG))
			irc_sess(c)->flags |= SF_CAPNEG;
		cap_req(c, m->nparam > 1 ? m->param[1] : "");
	} else if (strcasecmp(sub, "END") == 0) {
		irc_sess(c)->flags &= ~SF_CAPNEG;	/* registers after this */
	} else
		irc_numeric(c, ERR_INVALIDCAPCMD, "%s :Invalid CAP command",
		    sub);
}
