/*
 * irc_nsadmin.c: NickServ's commands for operators, with Ergo's names,
 * syntax and wording: SAREGISTER, SADROP, ERASE, UNREGISTER, SASET,
 * SAGET (and GET), SUSPEND, RENAME, LIST, PASSWD for another account.
 * Each checks the oper capability Ergo's does (accreg; ban for SUSPEND)
 * and says "Command restricted" without it. Part of the services
 * (irc_serv_int.h); rows come from store.c, logins from irc_account.c.
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
#include "irc_account.h"
#include "irc_alwayson.h"
#include "irc_oper.h"
#include "irc_user.h"
#include "irc_serv_int.h"
#include "irc_nsadmin.h"

/* What an account's users are told when it is deleted (Ergo's). */
#define NSA_GONE	"You are no longer authorized to be on this server"

/* The oper capability cap, or "Command restricted" (Ergo's). */
static bool
nsa_can(struct client *c, const char *cap)
{
	if (irc_oper_can(c, cap))
		return true;
	ns_reply(c, "Command restricted");
	return false;
}

/* Ergo's confirmation code, as NickServ writes it (hex). */
static void
nsa_code(char *buf, size_t sz, const char *name, time_t t)
{
	snprintf(buf, sz, "%08x", (unsigned)serv_confirm_code(name, t));
}

/*
 * Deletes account a for oper (or owner) c: the rows queued for it go
 * first (the dropping hook), as NickServ DROP does. 0, or -1 (told).
 * The caller replies, then ends its users (nsa_end): c may be one.
 */
static int
nsa_delete(struct client *c, const struct store_account *a)
{
	IRC_HOOK_RUN(dropping, 0, a->id);
	if (store_account_delete(a->id) == -1) {
		ns_store_failed(c, "Unregistration");
		return -1;
	}
	IRC_HOOK_RUN(dropped, 0, a->id);
	return 0;
}

/* Ends the users of a deleted account, always-on ones included. */
static void
nsa_end(const struct store_account *a)
{
	irc_account_end_users(a->id, NSA_GONE);
}

/* SAREGISTER <account> <password>: an account on someone's behalf. */
static void
ns_saregister(struct client *c, int argc, char **argv)
{
	struct store_account a;
	const char *why;
	bool weak;

	if (!nsa_can(c, "accreg"))
		return;
	if (argc < 2) {
		ns_reply(c, "Syntax: SAREGISTER <account> <password>");
		return;
	}
	if (!irc_account_name_ok(argv[0])) {
		ns_reply(c, "Erroneous nickname");
		return;
	}
	if ((why = irc_account_password_bad(argv[0], argv[1], &weak)) !=
	    NULL) {
		ns_reply(c, "Passphrase contains forbidden characters or is "
		    "otherwise invalid (%s)", why);
		return;
	}
	switch (irc_account_register(c, argv[0], "", argv[1], &a)) {
	case REG_OK:
		ns_reply(c, "Successfully registered account %s", a.name);
		irc_sno('u', "Operator %s registered account %s with "
		    "SAREGISTER", irc_oper_name_or(c, c->nick),
		    a.name);
		break;
	case REG_EXISTS:
		ns_reply(c, "Account already exists");
		break;
	default:
		ns_store_failed(c, "Registration");
		break;
	}
}

/* SADROP <account>: an oper's DROP: the account is deleted. */
static void
ns_sadrop(struct client *c, int argc, char **argv)
{
	struct store_account a;

	if (!nsa_can(c, "accreg"))
		return;
	if (argc < 1) {
		ns_reply(c, "Syntax: SADROP <account>");
		return;
	}
	if (ns_account_named(c, argv[0], &a, "Account does not exist") != 1 ||
	    nsa_delete(c, &a) == -1)
		return;
	log_info("accounts", "%s dropped account %s (SADROP)", irc_prefix(c),
	    a.name);
	irc_sno('u', "Operator %s dropped account %s with SADROP",
	    irc_oper_name_or(c, c->nick), a.name);
	ns_reply(c, "Successfully unregistered account %s", a.name);
	nsa_end(&a);
}

/*
 * UNREGISTER <account> [code] (the owner, or an oper with accreg) and
 * ERASE <account> [code] (accreg): without the code, Ergo's warnings and
 * the command that carries it. UNREGISTER keeps the name reserved (it
 * cannot be registered again); ERASE forgets it too.
 */
static void
nsa_unregister(struct client *c, int argc, char **argv, bool erase)
{
	const char *cmd = erase ? "ERASE" : "UNREGISTER";
	struct store_account a;
	char fz[NICKLEN_MAX + 1], code[16], name[NICKLEN_MAX + 1];
	int rc = 0, gone;

	if (erase && !nsa_can(c, "accreg"))
		return;
	if (argc < 1 || !irc_nick_valid(argv[0])) {
		ns_reply(c, "You must specify an account");
		return;
	}
	irc_fold(fz, argv[0], sizeof(fz));
	if ((rc = store_account_get(fz, &a)) == -1) {
		ns_store_failed(c, "Lookup");
		return;
	}
	if (rc == 0 && !erase) {
		ns_reply(c, "Invalid account name");
		return;
	}
	snprintf(name, sizeof(name), "%s", rc == 1 ? a.name : argv[0]);
	if (!erase && c->account_id != a.id && !irc_oper_can(c, "accreg")) {
		ns_reply(c, "Insufficient oper privs");
		return;
	}
	/* ERASE's code changes at each start, as Ergo's */
	nsa_code(code, sizeof(code), name, erase ? irc.started : a.registered);
	if (argc < 2 || strcmp(argv[1], code) != 0) {
		if (erase)
			ns_reply(c, "\002Warning: erasing this account will "
			    "allow it to be re-registered; consider UNREGISTER "
			    "instead.\002");
		else {
			ns_reply(c, "\002Warning: unregistering this account "
			    "will remove its stored privileges.\002");
			ns_reply(c, "\002Note that an unregistered account "
			    "name remains reserved and cannot be "
			    "re-registered.\002");
			ns_reply(c, "\002If you are having problems with your "
			    "account, contact an administrator.\002");
			ns_reply(c, "\002Unregistering your account will "
			    "unregister all channels you founded.\002");
			ns_reply(c, "\002To prevent this, transfer your "
			    "channels first with CS TRANSFER.\002");
		}
		ns_reply(c, "To confirm, run this command: /NS %s %s %s", cmd,
		    name, code);
		return;
	}
	if (erase) {
		if ((gone = store_unregistered_del(fz)) == -1) {
			ns_store_failed(c, "Unregistration");
			return;
		}
		if (rc == 0 && gone == 1) {
			ns_reply(c, "Account does not exist");
			return;
		}
	} else if (store_unregistered_add(fz, a.name, ergo_now) == -1) {
		ns_store_failed(c, "Unregistration");
		return;
	}
	if (rc == 1 && nsa_delete(c, &a) == -1)
		return;
	ns_reply(c, "Successfully unregistered account %s", name);
	log_info("accounts", "%s %s account %s", irc_prefix(c), erase ?
	    "erased" : "unregistered", name);
	irc_sno('u', "Client %s %s account %s", irc_prefix(c), erase ?
	    "erased" : "unregistered", name);
	if (rc == 1)
		nsa_end(&a);
}

static void
ns_unregister(struct client *c, int argc, char **argv)
{
	nsa_unregister(c, argc, argv, false);
}

static void
ns_erase(struct client *c, int argc, char **argv)
{
	nsa_unregister(c, argc, argv, true);
}


/* SASET <account> <setting> <value>: SET on another's account. */
static void
ns_saset(struct client *c, int argc, char **argv)
{
	struct store_account a;

	if (!nsa_can(c, "accreg"))
		return;
	if (argc < 3) {
		ns_reply(c, "Syntax: SASET <account> <setting> <value>");
		return;
	}
	if (ns_account_named(c, argv[0], &a, "No such account") != 1)
		return;
	/* ours: an oper resets a forgotten password with SASET too */
	if (strcasecmp(argv[1], "PASSWORD") == 0 ||
	    strcasecmp(argv[1], "PASS") == 0) {
		ns_sapasswd(c, a.name, argv[2]);
		return;
	}
	ns_set_account(c, &a, argc - 1, argv + 1);
}

/* The persistence of a SET_* under the policy (Ergo's words). */
static const char *
nsa_persist_name(int v)
{
	return v == SET_ON ? "enabled" : v == SET_OFF ? "disabled" :
	    "default";
}

/* GET/SAGET: one setting of a, as stored and as in effect (Ergo's). */
static void
nsa_show(struct client *c, const struct store_account *a, const char *key)
{
	bool ao = irc_account_always_on(a->set.always_on);
	int eff;

	if (strcasecmp(key, "ENFORCE") == 0) {
		ns_reply(c, "Your stored nickname enforcement setting is: %s",
		    enforce_name(a->enforce));
		eff = conf->accounts.nr_method == NICKRES_STRICT ?
		    ENFORCE_STRICT : a->enforce == ENFORCE_DEFAULT ?
		    ENFORCE_NONE : a->enforce;
		ns_reply(c, "Given current server settings, your nickname is "
		    "enforced with: %s", enforce_name(eff));
	} else if (strcasecmp(key, "AUTOREPLAY-LINES") == 0) {
		if (a->set.autoreplay_lines < 0)
			ns_reply(c, "You will receive the server default of "
			    "%u lines of autoreplayed history",
			    conf->history.autoreplay);
		else
			ns_reply(c, "You will receive %d lines of "
			    "autoreplayed history", a->set.autoreplay_lines);
	} else if (strcasecmp(key, "REPLAY-JOINS") == 0) {
		ns_reply(c, a->set.replay_joins == RJ_ALWAYS ? "You will see JOINs "
		    "and PARTs in /HISTORY output and in autoreplay" :
		    a->set.replay_joins == RJ_NEVER ? "You will not see JOINs and "
		    "PARTs in autoreplay" : "You will see JOINs and PARTs in "
		    "/HISTORY output, but not in autoreplay");
	} else if (strcasecmp(key, "MULTICLIENT") == 0) {
		if (!conf->accounts.mc_enabled)
			ns_reply(c, "This feature has been disabled by the "
			    "server administrators");
		else if (a->set.multiclient == MC_DEFAULT)
			ns_reply(c, "Multiclient functionality is currently "
			    "%s for your account, but you can opt %s",
			    conf->accounts.mc_default ? "enabled" : "disabled",
			    conf->accounts.mc_default ? "out" : "in");
		else
			ns_reply(c, "Multiclient functionality is currently "
			    "%s for your account", a->set.multiclient == MC_ON ?
			    "enabled" : "disabled");
	} else if (strcasecmp(key, "ALWAYS-ON") == 0) {
		ns_reply(c, "Your stored always-on setting is: %s",
		    nsa_persist_name(a->set.always_on));
		ns_reply(c, "Given current server settings, your client is %s"
		    "always-on", ao ? "" : "not ");
	} else if (strcasecmp(key, "AUTOREPLAY-MISSED") == 0) {
		if (a->set.autoreplay_missed != SET_ON)
			ns_reply(c, "Your account is not configured to receive "
			    "autoreplayed missed messages");
		else if (ao)
			ns_reply(c, "Autoreplay of missed messages is enabled");
		else
			ns_reply(c, "You have enabled autoreplay of missed "
			    "messages, but you can't receive them because your "
			    "client isn't set to always-on");
	} else if (strcasecmp(key, "AUTO-AWAY") == 0) {
		ns_reply(c, "Your stored auto-away setting is: %s",
		    nsa_persist_name(a->set.auto_away));
		if (!irc_account_auto_away(a->set.auto_away))
			ns_reply(c, "Given current server settings, auto-away "
			    "is disabled for your client");
		else if (!ao)
			ns_reply(c, "Because your client is not always-on, "
			    "auto-away is disabled");
		else
			ns_reply(c, "Given current server settings, auto-away "
			    "is enabled for your client");
	} else if (strcasecmp(key, "DM-HISTORY") == 0) {
		ns_reply(c, "Your stored direct message history setting is: "
		    "%s", ns_dmh_name(a->set.dm_history));
		ns_reply(c, "Given current server settings, your direct "
		    "message history setting is: %s",
		    ns_dmh_name(irc_account_dm_history(a->set.dm_history)));
	} else if (strcasecmp(key, "EMAIL") == 0) {
		if (a->email[0] != '\0')
			ns_reply(c, "Your stored e-mail address is: %s",
			    a->email);
		else
			ns_reply(c, "You have no stored e-mail address");
	} else
		ns_reply(c, "No such setting");
}

/* GET <setting>: one's own account's. */
static void
ns_get(struct client *c, int argc, char **argv)
{
	struct store_account a;

	if (c->account == NULL) {
		ns_reply(c, "You're not logged into an account");
		return;
	}
	if (argc < 1) {
		ns_reply(c, "Syntax: GET <setting>");
		return;
	}
	if (ns_account_named(c, c->account, &a, "No such account") == 1)
		nsa_show(c, &a, argv[0]);
}

/* SAGET <account> <setting>: another's. */
static void
ns_saget(struct client *c, int argc, char **argv)
{
	struct store_account a;

	if (!nsa_can(c, "accreg"))
		return;
	if (argc < 2) {
		ns_reply(c, "Syntax: SAGET <account> <setting>");
		return;
	}
	if (ns_account_named(c, argv[0], &a, "No such account") == 1)
		nsa_show(c, &a, argv[1]);
}

/* One suspension of a listing (kind 'a'), in Ergo's words. */
static void
nsa_suspension_line(void *arg, const struct store_ban *b)
{
	struct client *c = arg;
	struct store_account a;
	char text[IRC_LINE_MAX];

	if (b->kind != 'a')
		return;
	/* its display name; the folded one if the lookup fails */
	irc_account_suspension_text(text, sizeof(text),
	    store_account_get(b->mask, &a) == 1 ? a.name : b->mask, b);
	ns_reply(c, "%s", text);
}

static void
nsa_suspension_count(void *arg, const struct store_ban *b)
{
	*(unsigned *)arg += b->kind == 'a';
}

/*
 * SUSPEND ADD <account> [DURATION <duration>] [reason] | DEL <account> |
 * LIST: Ergo's, with the ban capability. A suspended account cannot log
 * in by any means and its users (always-on ones too) end at once.
 */
static void
ns_suspend(struct client *c, int argc, char **argv)
{
	struct store_account a;
	char reason[STORE_BAN_REASON_MAX + 1];
	long long secs = 0;
	size_t off = 0;
	unsigned n = 0;
	int i, rc, w;

	if (!nsa_can(c, "ban"))
		return;
	if (argc >= 1 && strcasecmp(argv[0], "LIST") == 0) {
		if (store_ban_list(ergo_now, nsa_suspension_count, &n) == -1) {
			ns_store_failed(c, "Lookup");
			return;
		}
		ns_reply(c, "There are %u active account suspensions.", n);
		(void)store_ban_list(ergo_now, nsa_suspension_line, c);
		return;
	}
	if (argc < 2) {
		ns_reply(c, "Invalid parameters");
		return;
	}
	if (strcasecmp(argv[0], "DEL") == 0 ||
	    strcasecmp(argv[0], "DELETE") == 0 ||
	    strcasecmp(argv[0], "REMOVE") == 0) {
		if (ns_account_named(c, argv[1], &a, "No such account") != 1)
			return;
		if ((rc = irc_account_unsuspend(&a)) == -1)
			ns_store_failed(c, "Unsuspension");
		else if (rc == 1)
			ns_reply(c, "Account was not suspended");
		else {
			log_info("accounts", "%s unsuspended account %s",
			    irc_prefix(c), a.name);
			ns_reply(c, "Successfully un-suspended account %s",
			    a.name);
		}
		return;
	}
	if (strcasecmp(argv[0], "ADD") != 0) {
		ns_reply(c, "Invalid parameters");
		return;
	}
	i = 2;
	if (argc >= 4 && strcasecmp(argv[2], "DURATION") == 0) {
		if ((secs = irc_duration_parse(argv[3])) < 0) {
			ns_reply(c, "Invalid time duration for NS SUSPEND");
			return;
		}
		i = 4;
	}
	reason[0] = '\0';
	for (; i < argc; i++) {
		w = snprintf(reason + off, sizeof(reason) - off, "%s%s",
		    off > 0 ? " " : "", argv[i]);
		if (w < 0 || (size_t)w >= sizeof(reason) - off)
			break;
		off += (size_t)w;
	}
	if (ns_account_named(c, argv[1], &a, "No such account") != 1)
		return;
	if (irc_account_suspend(c, &a, secs, reason) == -1) {
		ns_store_failed(c, "Suspension");
		return;
	}
	irc_sno('u', "Operator %s suspended account %s",
	    irc_oper_name_or(c, c->nick), a.name);
	ns_reply(c, "Successfully suspended account %s", a.name);
}


/*
 * RENAME <account> <newname>: as Ergo, only the casing may change
 * ("Alice" to "alice"); the users logged in to it take the new name.
 */
static void
ns_rename(struct client *c, int argc, char **argv)
{
	struct store_account a;
	struct client *u;
	char *name;

	if (!nsa_can(c, "accreg"))
		return;
	if (argc < 2) {
		ns_reply(c, "Syntax: RENAME <account> <newname>");
		return;
	}
	if (ns_account_named(c, argv[0], &a, "Couldn't rename account: Account "
	    "does not exist") != 1)
		return;
	if (!irc_nick_valid(argv[1]) || irc_casecmp(a.name, argv[1]) != 0) {
		ns_reply(c, "Couldn't rename account: Account renames can only "
		    "change the casefolding of the account name");
		return;
	}
	if (store_account_rename(a.id, argv[1]) == -1) {
		ns_store_failed(c, "Rename");
		return;
	}
	for (u = irc_account_sessions(a.id); u != NULL; u = u->ext->acnext)
		if ((name = xstrdup(argv[1])) != NULL) {
			free(u->account);
			u->account = name;
		}
	log_info("accounts", "%s renamed account %s to %s", irc_prefix(c),
	    a.name, argv[1]);
	ns_reply(c, "Successfully renamed account");
}

struct nsa_list {
	struct client	*c;
	const char	*mask;
};

static void
nsa_list_one(void *arg, const char *name)
{
	struct nsa_list *l = arg;

	if (l->mask == NULL || irc_match(l->mask, name))
		ns_reply(l->c, "    %s", name);
}

/* LIST [mask]: the registered accounts (a glob, not Ergo's regexp). */
static void
ns_list(struct client *c, int argc, char **argv)
{
	struct nsa_list l = { c, argc > 0 ? argv[0] : NULL };

	if (!nsa_can(c, "accreg"))
		return;
	ns_reply(c, "*** \002NickServ LIST\002 ***");
	if (store_account_list(nsa_list_one, &l) == -1)
		ns_store_failed(c, "Lookup");
	ns_reply(c, "*** \002End of NickServ LIST\002 ***");
}

/* NickServ's oper commands, besides its own (irc_serv.c). */
static const struct ns_cmd nsa_cmds[] = {
	{ "ERASE", ns_erase },
	{ "GET", ns_get },
	{ "LIST", ns_list },
	{ "RENAME", ns_rename },
	{ "SADROP", ns_sadrop },
	{ "SAGET", ns_saget },
	{ "SAREGISTER", ns_saregister },
	{ "SASET", ns_saset },
	{ "SUSPEND", ns_suspend },
	{ "UNREGISTER", ns_unregister },
};

void
irc_nsadmin_init(void)
{
	serv_extend("NickServ", nsa_cmds, sizeof(nsa_cmds) / sizeof(nsa_cmds[0]));
}
