/*
 * irc_chanserv.c: ChanServ (PRIVMSG ChanServ, CHANSERV, CS) with Ergo's
 * syntax and wording: registration, AMODEs, ranks at JOIN, a registered
 * channel's saved state, transfers, CLEAR, PURGE, LIST. Part of the
 * services (irc_serv_int.h); rows come from store.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "store.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_user.h"
#include "irc_account.h"
#include "irc_oper.h"
#include "irc_serv_int.h"
#include "irc_chanserv.h"

static void cs_chan_changed(struct chan *);

static void cs_reply(struct client *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
cs_reply(struct client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	serv_vreply(c, "ChanServ", fmt, ap);
	va_end(ap);
}

static void
cs_store_failed(struct client *c, const char *what)
{
	cs_reply(c, "%s: the database failed (%s); nothing was saved", what,
	    store_error());
}

/* ---- ChanServ ---- */


/* The registered channel argv names, or a reply saying why not. */
static bool
cs_chan(struct client *c, const char *name, struct store_chan *rc_ch)
{
	char fz[CHANLEN_MAX + 1];
	int rc;

	if (!irc_chan_valid(name)) {
		cs_reply(c, "Invalid channel name");
		return false;
	}
	irc_fold(fz, name, sizeof(fz));
	if ((rc = store_chan_get(fz, rc_ch)) == -1) {
		cs_store_failed(c, "Lookup");
		return false;
	}
	if (rc == 0) {
		cs_reply(c, "Channel %s is not registered", name);
		return false;
	}
	return true;
}

/* An oper whose class has Ergo's chanreg capability. */
static bool
cs_oper(const struct client *c)
{
	return irc_oper_can(c, "chanreg");
}

/* Ergo's csPrivsCheck: an oper, or the founder's account. */
static bool
cs_privs(struct client *c, const struct store_chan *sc)
{
	if (cs_oper(c) || (c->account != NULL && c->account_id == sc->founder))
		return true;
	cs_reply(c, "Insufficient privileges");
	return false;
}

/* The confirmation code (serv_confirm_code), as ChanServ writes it. */
static void
cs_code(char *buf, size_t sz, const char *name, time_t t)
{
	snprintf(buf, sz, "%u", (unsigned)serv_confirm_code(name, t));
}

/* Every member but keep KICKed by c: CLEAR users, PURGE ADD. */
static void
cs_kick_all(struct client *c, struct chan *ch, const struct client *keep)
{
	struct member *m, *next;
	char name[CHANLEN_MAX + 1];

	snprintf(name, sizeof(name), "%s", ch->name);
	for (m = ch->members; m != NULL; m = next) {
		next = m->cnext;
		if (m->c == keep)
			continue;
		irc_chan_event(ch, c, NULL, ":%s KICK %s %s :Cleared by ChanServ",
		    irc_prefix(c), name, m->c->nick);
		irc_member_del(m);	/* the last one takes ch with it */
	}
}

/* Sets or clears a member's rank as ChanServ, told to the channel's
 * members here and to the other servers (not a channel event: history
 * keeps none). */
static void
cs_member_mode(struct chan *ch, struct client *t, int mode, bool on)
{
	struct member *m;
	unsigned char bit = irc_memb_letter((char)mode);

	if ((m = irc_member_find(ch, t)) == NULL ||
	    ((m->modes & bit) != 0) == on)
		return;
	if (on)
		m->modes |= bit;
	else
		m->modes &= (unsigned char)~bit;
	irc_user_changed(t);
	irc_chan_send(ch, NULL, ":ChanServ!ChanServ@localhost MODE %s %c%c %s",
	    ch->name, on ? '+' : '-', mode, t->nick);
	IRC_HOOK_RUN(member_ranked, ch, t, (char)mode, on);	/* the links */
}

/* REGISTER #chan: a chanop logged in to an account becomes founder. */
static void
cs_register(struct client *c, int argc, char **argv)
{
	struct store_chan sc;
	struct chan *ch;
	struct member *m;
	char fz[CHANLEN_MAX + 1];
	int rc;

	if (argc < 1) {
		cs_reply(c, "Syntax: REGISTER <#channel>");
		return;
	}
	if (!conf->chan_reg_enabled) {	/* channels { registration no } */
		cs_reply(c, "Channel registration is not enabled");
		return;
	}
	if (c->account == NULL) {
		cs_reply(c, "You must be logged in to register a channel");
		return;
	}
	if ((ch = irc_chan_find(argv[0])) == NULL ||
	    (m = irc_member_find(ch, c)) == NULL ||
	    !irc_chan_is_at_least(ch, c, MEMB_OP)) {
		cs_reply(c, "You must be an operator in %s to register it",
		    argv[0]);
		return;
	}
	/* Ergo's checkChanLimit: opers with chanreg are exempt */
	if (!cs_oper(c)) {
		if ((rc = store_chan_count(c->account_id)) == -1) {
			cs_store_failed(c, "Registration");
			return;
		}
		if ((unsigned)rc >= conf->chan_max_reg) {
			cs_reply(c, "You have already registered the maximum "
			    "number of channels; try dropping some with "
			    "/CS UNREGISTER");
			return;
		}
	}
	memset(&sc, 0, sizeof(sc));
	snprintf(sc.name, sizeof(sc.name), "%s", ch->name);
	sc.founder = c->account_id;
	sc.registered = ergo_now;
	irc_fold(fz, ch->name, sizeof(fz));
	if ((rc = store_chan_create(fz, &sc)) == -1) {
		cs_store_failed(c, "Registration");
		return;
	}
	if (rc == 1) {
		cs_reply(c, "Channel %s is already registered", ch->name);
		return;
	}
	ch->reg_id = sc.id;
	ch->founder = c->account_id;
	log_info("accounts", "%s registered channel %s", irc_prefix(c),
	    ch->name);
	cs_reply(c, "Channel %s successfully registered", ch->name);
	cs_member_mode(ch, c, 'q', true);	/* Ergo: founder privs */
	cs_chan_changed(ch);	/* its topic and modes as they are */
}

/* INFO #chan: whether it is registered, by whom, since when; purges. */
static void
cs_info(struct client *c, int argc, char **argv)
{
	struct store_chan sc;
	struct store_purge pr;
	char when[64], fz[CHANLEN_MAX + 1];
	struct tm tm;

	if (argc < 1) {
		cs_reply(c, "Syntax: INFO <#channel>");
		return;
	}
	if (!irc_chan_valid(argv[0])) {
		cs_reply(c, "Invalid channel name");
		return;
	}
	irc_fold(fz, argv[0], sizeof(fz));
	if (store_purge_get(fz, &pr) == 1) {
		cs_reply(c, "Channel %s was purged by the server operators and "
		    "cannot be used", fz);
		if (cs_oper(c)) {
			gmtime_r(&pr.when, &tm);
			strftime(when, sizeof(when), "%a, %d %b %Y %H:%M:%S UTC",
			    &tm);
			cs_reply(c, "Purged by operator: %s", pr.oper);
			cs_reply(c, "Purged at: %s", when);
			if (pr.reason[0] != '\0')
				cs_reply(c, "Purge reason: %s", pr.reason);
		}
	}
	if (!cs_chan(c, argv[0], &sc))
		return;
	gmtime_r(&sc.registered, &tm);
	strftime(when, sizeof(when), "%a, %d %b %Y %H:%M:%S UTC", &tm);
	cs_reply(c, "Channel %s is registered", sc.name);
	cs_reply(c, "Founder: %s", sc.founder_name);
	cs_reply(c, "Registered at: %s", when);
}

/* Pending TRANSFERs: the channel's row offered to an account (Ergo keeps
 * them with the channel; here until accepted, cancelled or a restart). */
struct cs_offer {
	struct cs_offer	*next;
	int64_t		 chan, account;
};
static struct cs_offer	*offers;

static struct cs_offer **
cs_offer_find(int64_t chan)
{
	struct cs_offer **pp;

	for (pp = &offers; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->chan == chan)
			break;
	return pp;
}

static void
cs_offer_drop(int64_t chan)
{
	struct cs_offer **pp = cs_offer_find(chan), *o;

	if ((o = *pp) != NULL) {
		*pp = o->next;
		free(o);
	}
}

/*
 * UNREGISTER (DROP) #chan [code]: the founder or an oper; without the
 * code, the warning and the command that carries it (Ergo's flow).
 */
static void
cs_drop(struct client *c, int argc, char **argv)
{
	struct store_chan sc;
	struct chan *ch;
	char code[16], fz[CHANLEN_MAX + 1];

	if (argc < 1) {
		cs_reply(c, "Syntax: UNREGISTER <#channel> [code]");
		return;
	}
	if (!cs_chan(c, argv[0], &sc) || !cs_privs(c, &sc))
		return;
	cs_code(code, sizeof(code), sc.name, sc.registered);
	irc_fold(fz, sc.name, sizeof(fz));
	if (argc < 2 || strcmp(argv[1], code) != 0) {
		cs_reply(c, "\002Warning: unregistering this channel will remove "
		    "all stored channel attributes.\002");
		cs_reply(c, "To confirm, run this command: /CS UNREGISTER %s %s",
		    fz, code);
		return;
	}
	IRC_HOOK_RUN(dropping, sc.id, 0);	/* as NickServ DROP: ids reused */
	if (store_chan_delete(sc.id) == -1) {
		cs_store_failed(c, "Unregistration");
		return;
	}
	cs_offer_drop(sc.id);
	/* its saved history went with the row; the live ring stays */
	if ((ch = irc_chan_find(sc.name)) != NULL) {
		ch->reg_id = 0;
		ch->founder = 0;
		ch->history = CHAN_HIST_DEFAULT;
		ch->query_cutoff = CHAN_CUTOFF_DEFAULT;
	}
	IRC_HOOK_RUN(dropped, sc.id, 0);
	log_info("accounts", "%s unregistered channel %s", irc_prefix(c),
	    sc.name);
	cs_reply(c, "Channel %s is now unregistered", fz);
}

/* OP/DEOP/VOICE/DEVOICE #chan [nick]: founder, or one's own AMODE. */
static void
cs_opcmd(struct client *c, int argc, char **argv, int mode, bool on)
{
	struct store_chan sc;
	struct chan *ch;
	struct client *t = c;
	int have;

	if (argc < 1) {
		cs_reply(c, "Syntax: %s <#channel> [nick]", on ?
		    (mode == 'o' ? "OP" : "VOICE") :
		    (mode == 'o' ? "DEOP" : "DEVOICE"));
		return;
	}
	if (!cs_chan(c, argv[0], &sc))
		return;
	if (c->account == NULL) {
		cs_reply(c, "You're not logged into an account");
		return;
	}
	if (c->account_id != sc.founder) {
		/* without founder rights, only one's own AMODE, on oneself */
		have = store_amode_get(sc.id, c->account_id);
		if (have == -1) {
			cs_store_failed(c, "Lookup");
			return;
		}
		if ((argc > 1 && irc_casecmp(argv[1], c->nick) != 0) ||
		    (on && have != mode && !(mode == 'v' && have == 'o'))) {
			cs_reply(c, "Insufficient privileges");
			return;
		}
	}
	if (argc > 1 && (t = irc_client_find(argv[1])) == NULL) {
		cs_reply(c, "No such nick");
		return;
	}
	if ((ch = irc_chan_find(sc.name)) == NULL ||
	    irc_member_find(ch, t) == NULL) {
		cs_reply(c, "%s is not in %s", t->nick, sc.name);
		return;
	}
	cs_member_mode(ch, t, mode, on);
}

static void
cs_op(struct client *c, int argc, char **argv)
{
	cs_opcmd(c, argc, argv, 'o', true);
}

static void
cs_deop(struct client *c, int argc, char **argv)
{
	cs_opcmd(c, argc, argv, 'o', false);
}

static void
cs_voice(struct client *c, int argc, char **argv)
{
	cs_opcmd(c, argc, argv, 'v', true);
}

static void
cs_devoice(struct client *c, int argc, char **argv)
{
	cs_opcmd(c, argc, argv, 'v', false);
}

struct amode_walk {
	struct client	*c;
	int		 mode;
};

static void
amode_line(void *arg, const char *name, int mode)
{
	struct amode_walk *w = arg;

	if (mode == w->mode)
		cs_reply(w->c, "Account %s receives mode +%c", name, mode);
}

static void
amode_count(void *arg, const char *name, int mode)
{
	(void)name;
	(void)mode;
	(*(int *)arg)++;
}

/*
 * AMODE #chan [+mode|-mode account]: persistent ranks (q a o h v) for
 * accounts, as Ergo's ProcessAccountToUmodeChange: the founder and opers
 * change any; halfops and up (by their own AMODE) list; others change
 * what their AMODE is over, before and after; anyone removes their own.
 */
static void
cs_amode(struct client *c, int argc, char **argv)
{
	struct store_chan sc;
	struct store_account a;
	struct amode_walk w;
	struct chan *ch;
	struct member *m;
	char fz[NICKLEN_MAX + 1];
	const char *op;
	unsigned char mine = 0, now, after;
	int rc, mode, n = 0;
	bool privs;
	size_t i;

	if (argc < 1) {
		cs_reply(c, "Syntax: AMODE <#channel> [mode change] [account]");
		return;
	}
	if (!cs_chan(c, argv[0], &sc))
		return;
	privs = cs_oper(c) || (c->account != NULL &&
	    c->account_id == sc.founder);
	if (c->account != NULL && !privs) {
		if ((rc = store_amode_get(sc.id, c->account_id)) == -1) {
			cs_store_failed(c, "Lookup");
			return;
		}
		mine = irc_memb_letter((char)rc);
	}
	if (argc < 2) {
		if (!privs && mine < MEMB_HALFOP) {
			cs_reply(c, "Insufficient privileges");
			return;
		}
		if (store_amode_list(sc.id, amode_count, &n) == -1) {
			cs_store_failed(c, "Lookup");
			return;
		}
		cs_reply(c, "Channel %s has %d persistent modes set", sc.name,
		    n);
		w.c = c;
		for (i = 0; i < 5; i++) {
			w.mode = "qaohv"[i];
			(void)store_amode_list(sc.id, amode_line, &w);
		}
		return;
	}
	op = argv[1];
	if ((op[0] != '+' && op[0] != '-') || irc_memb_letter(op[1]) == 0 ||
	    op[2] != '\0') {
		cs_reply(c, "Invalid mode change");
		return;
	}
	mode = op[1];
	if (argc < 3 || !irc_nick_valid(argv[2])) {
		cs_reply(c, "Account does not exist");
		return;
	}
	irc_fold(fz, argv[2], sizeof(fz));
	if ((rc = store_account_get(fz, &a)) != 1) {
		if (rc == -1)
			cs_store_failed(c, "Lookup");
		else
			cs_reply(c, "Account does not exist");
		return;
	}
	if ((rc = store_amode_get(sc.id, a.id)) == -1) {
		cs_store_failed(c, "Lookup");
		return;
	}
	now = irc_memb_letter((char)rc);
	after = op[0] == '+' ? irc_memb_letter((char)mode) : 0;
	if (!privs && !(irc_rank_over(mine, now) && irc_rank_over(mine, after))
	    && !(op[0] == '-' && c->account_id == a.id)) {
		cs_reply(c, "Insufficient privileges");
		return;
	}
	if (op[0] == '+' ? now == after : now != irc_memb_letter((char)mode)) {
		cs_reply(c, "No changes were made");
		return;
	}
	if (store_amode_set(sc.id, a.id, op[0] == '+' ? mode : 0) == -1) {
		cs_store_failed(c, "Mode change");
		return;
	}
	cs_reply(c, "Successfully set persistent mode %s on %s", op, a.name);
	/* Ergo #729: members logged in to the account get it now */
	if ((ch = irc_chan_find(sc.name)) != NULL)
		for (m = ch->members; m != NULL; m = m->cnext)
			if (m->c->account_id == a.id)
				cs_member_mode(ch, m->c, mode, op[0] == '+');
}

/* The offer of a channel to account a, told to its logged-in users. */
static void
cs_offer_tell(int64_t account, const char *chname)
{
	struct client *u;

	for (u = irc_account_sessions(account); u != NULL; u = u->ext->acnext)
		cs_reply(u, "You have been offered ownership of channel %s. To "
		    "accept, /CS TRANSFER ACCEPT %s", chname, chname);
}

/* The founder becomes account a: the row, the live channel, its +q. */
static bool
cs_set_founder(struct client *c, const struct store_chan *sc, int64_t a)
{
	struct chan *ch;
	struct member *m;

	if (store_chan_founder(sc->id, a) == -1) {
		cs_store_failed(c, "Transfer");
		return false;
	}
	cs_offer_drop(sc->id);
	if ((ch = irc_chan_find(sc->name)) != NULL) {
		ch->founder = a;
		for (m = ch->members; m != NULL; m = m->cnext)
			if (m->c->account_id == a)
				cs_member_mode(ch, m->c, 'q', true);
	}
	return true;
}

/*
 * TRANSFER #chan account [code] | TRANSFER ACCEPT #chan: Ergo's flow.
 * The founder offers the channel (with the code), the account accepts;
 * an oper transfers at once; transferring to oneself cancels an offer.
 */
static void
cs_transfer(struct client *c, int argc, char **argv)
{
	struct store_chan sc;
	struct store_account a;
	struct cs_offer **pp, *o;
	char fz[NICKLEN_MAX + 1], code[16];
	bool founder;
	int rc;

	if (argc < 2) {
		cs_reply(c, "Syntax: TRANSFER [accept] <#channel> <account> "
		    "[code]");
		return;
	}
	if (strcasecmp(argv[0], "accept") == 0) {
		if (!cs_chan(c, argv[1], &sc))
			return;
		o = *(pp = cs_offer_find(sc.id));
		if (o == NULL || c->account == NULL ||
		    o->account != c->account_id) {
			cs_reply(c, "You weren't offered ownership of channel %s",
			    sc.name);
			return;
		}
		if (!cs_oper(c) && (rc = store_chan_count(c->account_id)) >= 0 &&
		    (unsigned)rc >= conf->chan_max_reg) {
			cs_reply(c, "You have already registered the maximum "
			    "number of channels; try dropping some with "
			    "/CS UNREGISTER");
			return;
		}
		if (cs_set_founder(c, &sc, c->account_id))
			cs_reply(c, "Successfully accepted ownership of channel "
			    "%s", sc.name);
		return;
	}
	if (!cs_chan(c, argv[0], &sc))
		return;
	founder = c->account != NULL && c->account_id == sc.founder;
	if (!founder && !cs_oper(c)) {
		cs_reply(c, "Insufficient privileges");
		return;
	}
	if (!irc_nick_valid(argv[1])) {
		cs_reply(c, "Account does not exist");
		return;
	}
	irc_fold(fz, argv[1], sizeof(fz));
	if ((rc = store_account_get(fz, &a)) != 1) {
		if (rc == -1)
			cs_store_failed(c, "Lookup");
		else
			cs_reply(c, "Account does not exist");
		return;
	}
	if (a.id == c->account_id) {
		cs_offer_drop(sc.id);
		cs_reply(c, "Cancelled pending transfer of channel %s", sc.name);
		return;
	}
	cs_code(code, sizeof(code), sc.name, sc.registered);
	if (argc < 3 || strcmp(argv[2], code) != 0) {
		cs_reply(c, "\002Warning: you are about to transfer control of "
		    "your channel to another user.\002");
		cs_reply(c, "To confirm your channel transfer, type: /CS "
		    "TRANSFER %s %s %s", sc.name, argv[1], code);
		return;
	}
	if (!founder) {
		log_info("opers", "Operator %s ran CS TRANSFER on %s to account "
		    "%s", c->nick, sc.name, a.name);
		if (cs_set_founder(c, &sc, a.id))
			cs_reply(c, "Successfully transferred channel %s to "
			    "account %s", sc.name, a.name);
		return;
	}
	if ((o = *(pp = cs_offer_find(sc.id))) == NULL) {
		if ((o = calloc(1, sizeof(*o))) == NULL) {
			log_warnx("accounts", "out of memory: transfer of %s",
			    sc.name);
			cs_reply(c, "Could not transfer channel");
			return;
		}
		o->chan = sc.id;
		*pp = o;
	}
	o->account = a.id;
	cs_offer_tell(a.id, sc.name);
	cs_reply(c, "Transfer of channel %s to account %s succeeded, pending "
	    "acceptance", sc.name, a.name);
}

static void	cs_masks_sync(const struct chan *, int64_t);

/* CLEAR #chan users|access: the founder or an oper (Ergo). */
static void
cs_clear(struct client *c, int argc, char **argv)
{
	struct store_chan sc;
	struct chan *ch;

	if (argc < 2) {
		cs_reply(c, "Syntax: CLEAR <#channel> <users|access>");
		return;
	}
	if ((ch = irc_chan_find(argv[0])) == NULL) {
		cs_reply(c, "Channel does not exist");
		return;
	}
	if (!cs_chan(c, ch->name, &sc) || !cs_privs(c, &sc))
		return;
	if (strcasecmp(argv[1], "access") == 0) {
		if (store_amode_clear(sc.id) == -1) {
			cs_store_failed(c, "Reset");
			return;
		}
		irc_masks_free(ch->bans);
		irc_masks_free(ch->excepts);
		irc_masks_free(ch->invex);
		ch->bans = ch->excepts = ch->invex = NULL;
		ch->nbans = ch->nexcepts = ch->ninvex = 0;
		cs_masks_sync(ch, sc.id);
		cs_reply(c, "Successfully reset channel access");
	} else if (strcasecmp(argv[1], "users") == 0)
		cs_kick_all(c, ch, c);
	else
		cs_reply(c, "Invalid parameters");
}

struct cs_list_walk {
	struct client	*c;
	const char	*mask;		/* NULL: every channel */
};

static void
cs_list_line(void *arg, const char *name)
{
	struct cs_list_walk *w = arg;

	if (w->mask == NULL || irc_match(w->mask, name))
		cs_reply(w->c, "    %s", name);
}

/* LIST [mask]: registered channels (opers). Ergo takes a regex; a glob
 * (* and ?) here, which needs no regex engine in the binary. */
static void
cs_list(struct client *c, int argc, char **argv)
{
	struct cs_list_walk w = { c, argc > 0 ? argv[0] : NULL };

	if (!cs_oper(c)) {
		cs_reply(c, "Insufficient privileges");
		return;
	}
	cs_reply(c, "*** \002ChanServ LIST\002 ***");
	if (store_chan_list(cs_list_line, &w) == -1)
		cs_store_failed(c, "Lookup");
	cs_reply(c, "*** \002End of ChanServ LIST\002 ***");
}

/* HOWTOBAN #chan nick: the ban that keeps nick out (ops and opers). */
static void
cs_howtoban(struct client *c, int argc, char **argv)
{
	struct chan *ch;
	struct client *t;
	const struct whowas *ww = NULL;
	struct store_chan sc;
	struct member *m;
	char ban[IRC_LINE_MAX], others[IRC_LINE_MAX], fz[NICKLEN_MAX + 1];
	const char *nick, *host, *account = NULL;
	size_t n = 0;
	int k = 0, rc;

	if (argc < 2) {
		cs_reply(c, "Syntax: HOWTOBAN <#channel> <nick>");
		return;
	}
	if ((ch = irc_chan_find(argv[0])) == NULL) {
		cs_reply(c, "No such channel");
		return;
	}
	if (!irc_chan_is_at_least(ch, c, MEMB_OP) &&
	    !irc_oper_can(c, "samode")) {
		cs_reply(c, "Insufficient privileges");
		return;
	}
	if ((t = irc_client_find(argv[1])) != NULL && (t->flags & CF_REG)) {
		nick = t->nick;
		host = t->host != NULL ? t->host : "*";
		account = t->account;
	} else {
		irc_fold(fz, argv[1], sizeof(fz));
		for (ww = irc_whowas_first(); ww != NULL; ww = ww->next)
			if (irc_casecmp(ww->nick, argv[1]) == 0)
				break;
		if (ww == NULL) {
			cs_reply(c, "No such nick");
			return;
		}
		cs_reply(c, "Warning: %s is not currently connected to the "
		    "server. Using WHOWAS data, which may be inaccurate:",
		    argv[1]);
		nick = ww->nick;
		host = ww->host;
		t = NULL;
	}
	if (account != NULL && ch->reg_id != 0 &&
	    cs_chan(c, ch->name, &sc)) {
		if ((rc = store_amode_get(sc.id, t->account_id)) > 0) {
			cs_reply(c, "Warning: account %s currently has a "
			    "persistent channel privilege granted with CS "
			    "AMODE. If this mode is not removed, bans will not "
			    "be respected", account);
			return;
		}
		if (t->account_id == sc.founder) {
			cs_reply(c, "Warning: account %s is the channel founder "
			    "and cannot be banned", account);
			return;
		}
	}
	if (account != NULL)
		cs_reply(c, "User %s is authenticated and can be banned by "
		    "account: /MODE %s +b a:%s", nick, ch->name, account);
	snprintf(ban, sizeof(ban), "*!*@%s", host);
	others[0] = '\0';
	for (m = ch->members; m != NULL; m = m->cnext)
		if (m->c != t && irc_mask_matches(ban, m->c)) {
			k++;
			if (n + strlen(m->c->nick) + 2 < sizeof(others) - 20)
				n += (size_t)snprintf(others + n,
				    sizeof(others) - n, "%s%s", n ? " " : "",
				    m->c->nick);
		}
	cs_reply(c, "User %s can be banned by hostname: /MODE %s +b %s", nick,
	    ch->name, ban);
	if (k != 0) {
		cs_reply(c, "Warning: this ban will affect %d other users:", k);
		cs_reply(c, "%s", others);
	}
	cs_reply(c, "Note that if the user is currently in the channel, you "
	    "must /KICK them after you ban them");
}

static void
cs_purge_line(void *arg, const char *name)
{
	struct {
		struct client	*c;
		int		 i;
	} *w = arg;

	cs_reply(w->c, "%d: %s", ++w->i, name);
}

static void
cs_purge_count(void *arg, const char *name)
{
	(void)name;
	(*(int *)arg)++;
}

/*
 * PURGE ADD #chan [code] [reason] | PURGE DEL #chan | PURGE LIST: a
 * channel no one may use, its members kicked (opers, Ergo's chanreg).
 */
static void
cs_purge(struct client *c, int argc, char **argv)
{
	struct store_purge pr;
	struct chan *ch;
	char fz[CHANLEN_MAX + 1], code[16];
	struct {
		struct client	*c;
		int		 i;
	} w = { c, 0 };
	int n = 0, rc;

	if (!cs_oper(c)) {
		cs_reply(c, "Insufficient privileges");
		return;
	}
	if (argc >= 1 && strcasecmp(argv[0], "list") == 0) {
		if (store_purge_list(cs_purge_count, &n) == -1) {
			cs_store_failed(c, "Lookup");
			return;
		}
		cs_reply(c, "There are %d purged channel(s).", n);
		(void)store_purge_list(cs_purge_line, &w);
		return;
	}
	if (argc < 2 || !irc_chan_valid(argv[1])) {
		cs_reply(c, "Invalid parameters");
		return;
	}
	irc_fold(fz, argv[1], sizeof(fz));
	if (strcasecmp(argv[0], "del") == 0 ||
	    strcasecmp(argv[0], "remove") == 0) {
		if ((rc = store_purge_del(fz)) == -1)
			cs_store_failed(c, "Unpurge");
		else if (rc == 0)
			cs_reply(c, "Channel %s wasn't previously purged from "
			    "the server", argv[1]);
		else {
			log_info("opers", "Operator %s removed purge of channel "
			    "%s", c->nick, argv[1]);
			cs_reply(c, "Successfully unpurged channel %s from the "
			    "server", argv[1]);
		}
		return;
	}
	if (strcasecmp(argv[0], "add") != 0) {
		cs_reply(c, "Invalid parameters");
		return;
	}
	ch = irc_chan_find(argv[1]);
	memset(&pr, 0, sizeof(pr));
	snprintf(pr.name, sizeof(pr.name), "%s", ch != NULL ? ch->name :
	    argv[1]);
	cs_code(code, sizeof(code), pr.name, ch != NULL ? ch->created : 0);
	if (argc < 3 || strcmp(argv[2], code) != 0) {
		cs_reply(c, "\002Warning: you are about to empty this channel and "
		    "remove it from the server.\002");
		cs_reply(c, "To confirm, run this command: /CS PURGE ADD %s %s",
		    pr.name, code);
		return;
	}
	snprintf(pr.oper, sizeof(pr.oper), "%s", c->nick);
	snprintf(pr.reason, sizeof(pr.reason), "%s", argc > 3 ? argv[3] : "");
	pr.when = ergo_now;
	if (store_purge_add(fz, &pr) == -1) {
		cs_store_failed(c, "Purge");
		return;
	}
	if (ch != NULL)
		cs_kick_all(c, ch, NULL);
	log_info("opers", "Operator %s purged channel %s [reason: %s]",
	    c->nick, pr.name, pr.reason);
	cs_reply(c, "Successfully purged channel %s from the server", pr.name);
}

static const char *const hist_names[] = { "default", "off", "ephemeral",
    "on" };
static const char *const cutoff_names[] = { "default", "none",
    "registration-time", "join-time" };

static int
cs_setting_parse(const char *const *names, const char *v)
{
	int i;

	for (i = 0; i < 4; i++)
		if (strcasecmp(names[i], v) == 0)
			return i;
	return -1;
}

/* Ergo's displayChannelSetting: stored, then in effect. */
static void
cs_setting_show(struct client *c, const char *name,
    const struct store_chan *sc)
{
	int eff;

	if (strcasecmp(name, "history") == 0) {
		eff = sc->history;
		if (!conf->history.enabled)
			eff = CHAN_HIST_OFF;
		else if (eff == CHAN_HIST_DEFAULT ||
		    (eff == CHAN_HIST_ON && !conf->history.persistent))
			eff = conf->history.persistent ? CHAN_HIST_ON :
			    CHAN_HIST_EPHEMERAL;
		cs_reply(c, "The stored channel history setting is: %s",
		    hist_names[sc->history & 3]);
		cs_reply(c, "Given current server settings, the channel "
		    "history setting is: %s", hist_names[eff]);
	} else if (strcasecmp(name, "query-cutoff") == 0) {
		eff = sc->query_cutoff == CHAN_CUTOFF_DEFAULT ?
		    conf->history.query_cutoff : sc->query_cutoff;
		cs_reply(c, "The stored channel history query cutoff setting "
		    "is: %s", cutoff_names[sc->query_cutoff & 3]);
		cs_reply(c, "Given current server settings, the channel "
		    "history query cutoff setting is: %s", cutoff_names[eff]);
	} else
		cs_reply(c, "Invalid params");
}

/* GET #chan <setting> */
static void
cs_get(struct client *c, int argc, char **argv)
{
	struct store_chan sc;

	if (argc < 2) {
		cs_reply(c, "Syntax: GET <#channel> <setting>");
		return;
	}
	if (!cs_chan(c, argv[0], &sc) || !cs_privs(c, &sc))
		return;
	cs_setting_show(c, argv[1], &sc);
}

/* SET #chan history|query-cutoff <value> (the founder or an oper) */
static void
cs_set(struct client *c, int argc, char **argv)
{
	struct store_chan sc;
	struct chan *ch;
	int v = -1;

	if (argc < 3) {
		cs_reply(c, "Syntax: SET <#channel> <setting> <value>");
		return;
	}
	if (!cs_chan(c, argv[0], &sc) || !cs_privs(c, &sc))
		return;
	if (strcasecmp(argv[1], "history") == 0 &&
	    (v = cs_setting_parse(hist_names, argv[2])) >= 0)
		sc.history = v;
	else if (strcasecmp(argv[1], "query-cutoff") == 0 &&
	    (v = cs_setting_parse(cutoff_names, argv[2])) >= 0)
		sc.query_cutoff = v;
	if (v < 0) {
		cs_reply(c, "Invalid parameters");
		return;
	}
	if (store_chan_settings(sc.id, sc.history, sc.query_cutoff) == -1) {
		cs_store_failed(c, "Settings");
		return;
	}
	if ((ch = irc_chan_find(sc.name)) != NULL) {
		ch->history = (unsigned char)sc.history;
		ch->query_cutoff = (unsigned char)sc.query_cutoff;
	}
	cs_reply(c, "Successfully changed the channel settings");
	cs_setting_show(c, argv[1], &sc);
}

/*
 * c has joined ch: the founder gets +q, an account's AMODE its mode.
 * For irc_chan.c's JOIN, after the JOIN and NAMES lines went out, and
 * for another server's user's JOIN (remote_joined).
 */
static void
cs_joined(struct client *c, struct chan *ch)
{
	struct store_chan sc;
	char fz[CHANLEN_MAX + 1];
	int mode;

	/* account_id 0: an account known by its name only (the services
	 * are on another server), none of ours */
	if (c->account == NULL || c->account_id == 0)
		return;
	irc_fold(fz, ch->name, sizeof(fz));
	if (store_chan_get(fz, &sc) != 1)
		return;
	if (sc.founder == c->account_id)
		mode = 'q';
	else if ((mode = store_amode_get(sc.id, c->account_id)) <= 0)
		return;
	cs_member_mode(ch, c, mode, true);
}

/* The simple channel modes kept for a registered channel. */
static const struct {
	char		 letter;
	unsigned	 bit;
} cs_modes[] = {
	{ 'C', CMODE_NOCTCP }, { 'M', CMODE_REGSPEAK }, { 'R', CMODE_REGONLY },
	{ 'U', CMODE_OPMOD }, { 'i', CMODE_INVITE }, { 'm', CMODE_MODERATED },
	{ 'n', CMODE_NOEXT }, { 'p', CMODE_PRIVATE }, { 's', CMODE_SECRET },
	{ 't', CMODE_TOPIC }, { 'u', CMODE_AUDITORIUM },
};
#define CS_NMODES	(sizeof(cs_modes) / sizeof(cs_modes[0]))

/* ch's modes, key, limit and topic into sc (its id and names kept). */
static void
cs_state_of(const struct chan *ch, struct store_chan *sc)
{
	size_t i, n = 0;

	for (i = 0; i < CS_NMODES; i++)
		if (ch->modes & cs_modes[i].bit)
			sc->modes[n++] = cs_modes[i].letter;
	sc->modes[n] = '\0';
	snprintf(sc->key, sizeof(sc->key), "%s", ch->key != NULL ?
	    ch->key : "");
	sc->limit = ch->limit;
	snprintf(sc->topic, sizeof(sc->topic), "%s", ch->topic != NULL ?
	    ch->topic : "");
	snprintf(sc->topic_by, sizeof(sc->topic_by), "%s",
	    ch->topic != NULL && ch->topic_by != NULL ? ch->topic_by : "");
	sc->topic_time = ch->topic != NULL ? ch->topic_time : 0;
	snprintf(sc->forward, sizeof(sc->forward), "%s",
	    ch->forward != NULL ? ch->forward : "");
}

/* The lists kept, in the order store_chan_masks gives them back. */
static const char cs_lists[] = "Ibe";

static struct mask *
cs_list_head(const struct chan *ch, char list)
{
	return list == 'b' ? ch->bans : list == 'e' ? ch->excepts : ch->invex;
}

/* ch's +I +b +e entries as store_chan_masks_save takes them (pointing
 * into ch's lists), in a malloc'd array; NULL with *np 0 when none or
 * out of memory (*oom). */
static struct store_mask *
cs_masks_of(const struct chan *ch, size_t *np, bool *oom)
{
	struct store_mask *v;
	const struct mask *mk;
	size_t n = ch->nbans + ch->nexcepts + ch->ninvex, i = 0;
	const char *l;

	*np = 0;
	*oom = false;
	if (n == 0)
		return NULL;
	if ((v = calloc(n, sizeof(*v))) == NULL) {
		*oom = true;
		return NULL;
	}
	for (l = cs_lists; *l != '\0'; l++)
		for (mk = cs_list_head(ch, *l); mk != NULL && i < n;
		    mk = mk->next) {
			v[i].list = *l;
			v[i].mask = mk->mask;
			v[i].setter = mk->setter != NULL ? mk->setter : "";
			v[i].when = mk->when;
			i++;
		}
	*np = i;
	return v;
}

struct cs_masks_cmp {
	const struct store_mask	*v;
	size_t			 n, i;
	bool			 differ;
};

static void
cs_masks_cmp_one(void *arg, char list, const char *mask, const char *setter,
    time_t when)
{
	struct cs_masks_cmp *w = arg;

	if (w->i >= w->n || w->v[w->i].list != list ||
	    strcmp(w->v[w->i].mask, mask) != 0 ||
	    strcmp(w->v[w->i].setter, setter) != 0 || w->v[w->i].when != when)
		w->differ = true;
	w->i++;
}

/* A registered channel's lists follow ch's, written only if they differ
 * from what is kept (a failure is logged). */
static void
cs_masks_sync(const struct chan *ch, int64_t id)
{
	struct cs_masks_cmp w;
	bool oom;

	memset(&w, 0, sizeof(w));
	w.v = cs_masks_of(ch, &w.n, &oom);
	if (oom) {
		log_warnx("channels", "out of memory saving the lists of %s",
		    ch->name);
		return;
	}
	if (store_chan_masks(id, cs_masks_cmp_one, &w) == 0 &&
	    (w.differ || w.i != w.n))
		(void)store_chan_masks_save(id, w.v, w.n);
	free((void *)w.v);
}

/* One kept entry back on a re-created channel's list (at its end). */
static void
cs_masks_restore_one(void *arg, char list, const char *mask,
    const char *setter, time_t when)
{
	struct chan *ch = arg;
	struct mask **pp, *mk;
	unsigned *n;

	pp = list == 'b' ? &ch->bans : list == 'e' ? &ch->excepts : &ch->invex;
	n = list == 'b' ? &ch->nbans : list == 'e' ? &ch->nexcepts :
	    &ch->ninvex;
	if (list != 'b' && list != 'e' && list != 'I')
		return;
	while (*pp != NULL)
		pp = &(*pp)->next;
	if ((mk = calloc(1, sizeof(*mk))) == NULL ||
	    (mk->mask = xstrdup(mask)) == NULL ||
	    (mk->setter = xstrdup(setter)) == NULL) {
		irc_masks_free(mk);
		log_warnx("channels", "out of memory restoring the lists of %s",
		    ch->name);
		return;
	}
	mk->when = when;
	*pp = mk;
	(*n)++;
}

/*
 * ch's topic or modes may have changed (TOPIC, MODE in irc_chan.c): a
 * registered channel's row follows, written only when it differs.
 */
static void
cs_chan_changed(struct chan *ch)
{
	struct store_chan sc, now;
	char fz[CHANLEN_MAX + 1];

	irc_fold(fz, ch->name, sizeof(fz));
	if (store_chan_get(fz, &sc) != 1)
		return;		/* not registered; an error is logged */
	now = sc;
	cs_state_of(ch, &now);
	cs_masks_sync(ch, sc.id);
	if (strcmp(now.modes, sc.modes) == 0 && strcmp(now.key, sc.key) == 0 &&
	    now.limit == sc.limit && strcmp(now.topic, sc.topic) == 0 &&
	    strcmp(now.topic_by, sc.topic_by) == 0 &&
	    now.topic_time == sc.topic_time &&
	    strcmp(now.forward, sc.forward) == 0)
		return;
	(void)store_chan_state(&now);	/* a failure is logged */
}

/*
 * ch was just created by c's JOIN: a registered channel comes back with
 * its saved modes, key, limit and topic. Returns 0 if ch is not
 * registered, 1 if c is its founder, 2 if c is someone else (who gets no
 * ops for creating it and must pass its +k/+l/+i).
 */
static int
cs_chan_restore(struct chan *ch, struct client *c)
{
	struct store_chan sc;
	char fz[CHANLEN_MAX + 1], *k = NULL, *t = NULL, *by = NULL, *f = NULL;
	const char *p;
	size_t i;

	struct store_purge pr;

	irc_fold(fz, ch->name, sizeof(fz));
	if (store_purge_get(fz, &pr) == 1)
		return 3;
	if (store_chan_get(fz, &sc) != 1)
		return 0;
	ch->reg_id = sc.id;	/* its history is kept (irc_hist.c) */
	ch->founder = sc.founder;
	ch->history = (unsigned char)sc.history;
	ch->query_cutoff = (unsigned char)sc.query_cutoff;
	if ((sc.key[0] != '\0' && (k = xstrdup(sc.key)) == NULL) ||
	    (sc.forward[0] != '\0' && (f = xstrdup(sc.forward)) == NULL) ||
	    (sc.topic[0] != '\0' && ((t = xstrdup(sc.topic)) == NULL ||
	    (by = xstrdup(sc.topic_by[0] != '\0' ? sc.topic_by :
	    "ChanServ")) == NULL))) {
		free(k);
		free(f);
		free(t);
		log_warnx("channels", "out of memory restoring %s", ch->name);
		goto done;
	}
	ch->modes = 0;
	for (p = sc.modes; *p != '\0'; p++)
		for (i = 0; i < CS_NMODES; i++)
			if (cs_modes[i].letter == *p)
				ch->modes |= cs_modes[i].bit;
	free(ch->key);
	ch->key = k;
	ch->limit = sc.limit;
	free(ch->topic);
	free(ch->topic_by);
	ch->topic = t;
	ch->topic_by = by;
	ch->topic_time = t != NULL ? sc.topic_time : 0;
	free(ch->forward);
	ch->forward = f;
	irc_masks_free(ch->bans);
	irc_masks_free(ch->excepts);
	irc_masks_free(ch->invex);
	ch->bans = ch->excepts = ch->invex = NULL;
	ch->nbans = ch->nexcepts = ch->ninvex = 0;
	(void)store_chan_masks(sc.id, cs_masks_restore_one, ch);
done:
	return c->account != NULL && c->account_id == sc.founder ? 1 : 2;
}

static void cs_help(struct client *, int, char **);

static const struct ns_cmd cs_cmds[] = {
	{ "AMODE", cs_amode },
	{ "CLEAR", cs_clear },
	{ "DEOP", cs_deop },
	{ "DEVOICE", cs_devoice },
	{ "DROP", cs_drop },
	{ "GET", cs_get },
	{ "HELP", cs_help },
	{ "HOWTOBAN", cs_howtoban },
	{ "INFO", cs_info },
	{ "LIST", cs_list },
	{ "OP", cs_op },
	{ "PURGE", cs_purge },
	{ "REGISTER", cs_register },
	{ "SET", cs_set },
	{ "TRANSFER", cs_transfer },
	{ "UNREGISTER", cs_drop },
	{ "VOICE", cs_voice },
};
#define CS_NCMDS	(sizeof(cs_cmds) / sizeof(cs_cmds[0]))

static struct service chanserv = {
	"ChanServ", "CS", cs_cmds, CS_NCMDS, NULL, 0
};

static void
cs_help(struct client *c, int argc, char **argv)
{
	serv_help(c, &chanserv, argc, argv);
}


/* CHANSERV / CS */
void
h_chanserv(struct client *c, struct msg *m)
{
	char text[IRC_LINE_MAX];

	serv_words(m, text, sizeof(text));
	serv_command(c, &chanserv, text);
}

void
irc_chanserv_init(void)
{
	irc_hooks.chan_restore = cs_chan_restore;
	IRC_HOOK_ADD(joined, cs_joined);
	IRC_HOOK_ADD(remote_joined, cs_joined);
	IRC_HOOK_ADD(chan_changed, cs_chan_changed);
	serv_register(&chanserv);
}
