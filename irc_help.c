/*
 * irc_help.c: every help text in one table: the commands (HELP and
 * HELPOP, Ergo's 704/705/706 and 524) and the services' subcommands (a
 * service's HELP lists what the caller may use). Below the command
 * families: calls irc_out and irc_oper only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "irc_help.h"
#include "conf.h"
#include "log.h"
#include "irc_num.h"
#include "irc_oper.h"
#include "irc_out.h"

/*
 * One entry: a command ("KILL") or a service's subcommand ("NICKSERV
 * REGISTER"). cap: NULL for everyone, "" for any operator, else the
 * oper capability it needs. brief: a service subcommand's line in its
 * HELP listing. text: lines separated by '\n', the first the syntax.
 */
struct help {
	const char	*topic;
	const char	*cap;
	const char	*brief;
	const char	*text;
};

/* Sorted by topic (bsearch; irc_help_init checks). */
static const struct help helps[] = {
	{ "ACCEPT", NULL, NULL,
	  "ACCEPT <nick>[,nick...] | ACCEPT -<nick>\n"
	  "Lets nicks message you while you have user mode +R (only "
	  "logged-in users); -nick takes one off the list." },
	{ "ADMIN", NULL, NULL,
	  "ADMIN [server]\n"
	  "Shows who runs this server and how to reach them." },
	{ "AUTHENTICATE", NULL, NULL,
	  "AUTHENTICATE <mechanism|data>\n"
	  "SASL login (PLAIN, EXTERNAL, SCRAM-SHA-256), after CAP REQ sasl." },
	{ "AWAY", NULL, NULL,
	  "AWAY [message]\n"
	  "With a message, marks you away; without, back." },
	{ "BATCH", NULL, NULL,
	  "BATCH <+ref|-ref> [type params]\n"
	  "Opens or closes a client batch (draft/multiline)." },
	{ "CAP", NULL, NULL,
	  "CAP <LS|LIST|REQ|END> [302|capabilities]\n"
	  "Negotiates IRCv3 capabilities." },
	{ "CHANSERV", NULL, NULL,
	  "CHANSERV <subcommand> [params]\n"
	  "Talks to ChanServ, which registers channels. /CS HELP lists its "
	  "commands." },
	{ "CHANSERV AMODE", NULL, "Modes given to accounts on join",
	  "AMODE <#channel> [+mode|-mode <account>]\n"
	  "Lists, or changes, the ranks (q a o h v) ChanServ gives accounts "
	  "when they join. The founder and opers change any; others only "
	  "ranks their own AMODE is over; halfops and up list them." },
	{ "CHANSERV CLEAR", NULL, "Kicks everyone, or resets access",
	  "CLEAR <#channel> <users|access>\n"
	  "users kicks everyone but you; access empties the ban, exception "
	  "and invite lists and the AMODEs. The founder or an oper." },
	{ "CHANSERV DEOP", NULL, "Removes +o",
	  "DEOP <#channel> [nick]\n"
	  "Removes channel operator status from you or nick." },
	{ "CHANSERV DEVOICE", NULL, "Removes +v",
	  "DEVOICE <#channel> [nick]\n"
	  "Removes voice from you or nick." },
	{ "CHANSERV DROP", NULL, "Unregisters a channel",
	  "DROP <#channel> [code]\n"
	  "The same as UNREGISTER." },
	{ "CHANSERV GET", NULL, "Shows a channel setting",
	  "GET <#channel> <history|query-cutoff>\n"
	  "Shows a setting as stored and as in effect." },
	{ "CHANSERV HELP", NULL, "Shows this help",
	  "HELP [command]\n"
	  "Lists ChanServ's commands you may use, or explains one." },
	{ "CHANSERV HOWTOBAN", NULL, "Suggests how to ban a user",
	  "HOWTOBAN <#channel> <nick>\n"
	  "Suggests the ban (by account, by host) that keeps nick out, and "
	  "who else it would hit. Channel operators and opers." },
	{ "CHANSERV INFO", NULL, "Shows a registered channel",
	  "INFO <#channel>\n"
	  "Shows a registered channel's founder and registration time, and "
	  "whether it was purged." },
	{ "CHANSERV LIST", "chanreg", "Lists registered channels",
	  "LIST [mask]\n"
	  "Lists the registered channels matching a mask (* and ?)." },
	{ "CHANSERV OP", NULL, "Gives +o",
	  "OP <#channel> [nick]\n"
	  "Gives channel operator status to you or nick." },
	{ "CHANSERV PURGE", "chanreg", "Closes a channel",
	  "PURGE <ADD|DEL|LIST> [#channel] [code] [reason]\n"
	  "ADD empties a channel and lets no one join it (run it twice: the "
	  "first answer gives the code); DEL lifts it; LIST shows them." },
	{ "CHANSERV REGISTER", NULL, "Registers a channel",
	  "REGISTER <#channel>\n"
	  "Registers a channel you are an operator of, with you as its "
	  "founder (+q)." },
	{ "CHANSERV SET", NULL, "Changes a channel setting",
	  "SET <#channel> <history|query-cutoff> <value>\n"
	  "history: off, ephemeral, on or default; query-cutoff: none, "
	  "registration-time, join-time or default. The founder or an oper." },
	{ "CHANSERV TRANSFER", NULL, "Transfers a channel",
	  "TRANSFER [ACCEPT] <#channel> <account> [code]\n"
	  "Offers a channel you founded to another account (the first answer "
	  "gives the code), which takes it with TRANSFER ACCEPT #channel; an "
	  "oper's transfer is done at once; to yourself cancels an offer." },
	{ "CHANSERV UNREGISTER", NULL, "Unregisters a channel",
	  "UNREGISTER <#channel> [code]\n"
	  "Unregisters a channel (the founder or an oper); the first answer "
	  "gives the code to send with it." },
	{ "CHANSERV VOICE", NULL, "Gives +v",
	  "VOICE <#channel> [nick]\n"
	  "Gives voice to you or nick." },
	{ "CHATHISTORY", NULL, NULL,
	  "CHATHISTORY <LATEST|BEFORE|AFTER|AROUND|BETWEEN|TARGETS> <target> "
	  "...\n"
	  "Fetches message history (draft/chathistory)." },
	{ "CHGHOST", "vhosts", NULL,
	  "CHGHOST <nick> <user> <host>\n"
	  "Changes a user's shown user and host. Needs the vhosts "
	  "capability." },
	{ "CONNECT", "", NULL,
	  "CONNECT <server>\n"
	  "Links a server of a link block now." },
	{ "CS", NULL, NULL,
	  "CS <subcommand> [params]\n"
	  "An alias for CHANSERV." },
	{ "DEFCON", "defcon", NULL,
	  "DEFCON [level]\n"
	  "Shows or sets the DEFCON level, 5 (normal) to 1; each includes "
	  "those above it.\n"
	  "4: no new accounts. 3: every user +R (only logged-in users may "
	  "message them), no CHGHOST.\n"
	  "2: no unauthenticated connections, no new channels but by "
	  "operators. 1: no connections but from loopback.\n"
	  "Needs the defcon capability." },
	{ "DEOPER", "", NULL,
	  "DEOPER\n"
	  "Drops your operator status, as MODE <yournick> -o." },
	{ "DIE", "die", NULL,
	  "DIE\n"
	  "Shuts the server down. Needs the die capability." },
	{ "DLINE", "ban", NULL,
	  "DLINE [ANDKILL] [duration] <ip|cidr> [ON <server>] [reason]\n"
	  "Bans an address or network from connecting. Needs the ban "
	  "capability." },
	{ "HELP", NULL, NULL,
	  "HELP [topic]\n"
	  "Explains a command; HELP INDEX lists the topics. HELPOP is the "
	  "same." },
	{ "HELPOP", NULL, NULL,
	  "HELPOP [topic]\n"
	  "Explains a command; HELPOP INDEX lists the topics." },
	{ "HISTSERV", NULL, NULL,
	  "HISTSERV <subcommand> [params]\n"
	  "Talks to HistServ, which plays and manages message history. "
	  "/HISTSERV HELP lists its commands." },
	{ "HISTSERV DELETE", "history", "Deletes a message",
	  "DELETE <target> <msgid>\n"
	  "Deletes one message from a channel's (or a user's) history." },
	{ "HISTSERV FORGET", "history", "Forgets an account's messages",
	  "FORGET <account>\n"
	  "Deletes every message an account sent, kept and saved." },
	{ "HISTSERV HELP", NULL, "Shows this help",
	  "HELP [command]\n"
	  "Lists HistServ's commands you may use, or explains one." },
	{ "HISTSERV PLAY", NULL, "Plays back history",
	  "PLAY <target> [limit]\n"
	  "Plays a channel's history, or your direct messages with a nick, "
	  "as notices." },
	{ "HOSTSERV", NULL, NULL,
	  "HOSTSERV <subcommand> [params]\n"
	  "Talks to HostServ, which manages vhosts. /HS HELP lists its "
	  "commands." },
	{ "HOSTSERV DEL", "vhosts", "Deletes a vhost",
	  "DEL <account>\n"
	  "Deletes an account's vhost." },
	{ "HOSTSERV HELP", NULL, "Shows this help",
	  "HELP [command]\n"
	  "Lists HostServ's commands you may use, or explains one." },
	{ "HOSTSERV OFF", NULL, "Disables your vhost",
	  "OFF\n"
	  "Shows your real host again." },
	{ "HOSTSERV ON", NULL, "Enables your vhost",
	  "ON\n"
	  "Shows your approved vhost in place of your host." },
	{ "HOSTSERV SET", "vhosts", "Sets a vhost",
	  "SET <account> <vhost>\n"
	  "Approves a vhost for an account and turns it on." },
	{ "HOSTSERV STATUS", NULL, "Shows your vhost",
	  "STATUS [account]\n"
	  "Shows your vhost and whether it is on (an oper's: anyone's)." },
	{ "HS", NULL, NULL,
	  "HS <subcommand> [params]\n"
	  "An alias for HOSTSERV." },
	{ "INFO", NULL, NULL,
	  "INFO\n"
	  "Shows what this server is." },
	{ "INVITE", NULL, NULL,
	  "INVITE <nick> <#channel>\n"
	  "Invites nick to a channel: it may then join past +i, +b and\n"
	  "+l (not +k). INVITE alone lists your pending invites." },
	{ "ISON", NULL, NULL,
	  "ISON <nick> [nick ...]\n"
	  "Says which of the nicks are online." },
	{ "ISUPPORT", NULL, NULL,
	  "ISUPPORT\n"
	  "Sends the server's 005 (ISUPPORT) lines again." },
	{ "JOIN", NULL, NULL,
	  "JOIN <#channel>[,#channel...] [key[,key...]]\n"
	  "Joins channels; JOIN 0 parts every channel." },
	{ "KICK", NULL, NULL,
	  "KICK <#channel> <nick>[,nick...] [reason]\n"
	  "Removes users from a channel you are an operator of." },
	{ "KILL", "kill", NULL,
	  "KILL <nick> [reason]\n"
	  "Disconnects a user. Needs the kill capability." },
	{ "KLINE", "ban", NULL,
	  "KLINE [ANDKILL] [duration] <user@host> [ON <server>] [reason]\n"
	  "Bans a user@host mask from connecting. Needs the ban capability." },
	{ "LINKS", NULL, NULL,
	  "LINKS\n"
	  "Lists the servers of the network." },
	{ "LIST", NULL, NULL,
	  "LIST [#channel[,...]|>n|<n|C<n|C>n|T<n|T>n]\n"
	  "Lists channels with their user counts and topics; C and T\n"
	  "filter by creation and topic time, in minutes ago." },
	{ "LUSERS", NULL, NULL,
	  "LUSERS\n"
	  "Counts users, operators and channels." },
	{ "MARKREAD", NULL, NULL,
	  "MARKREAD <target> [timestamp=...]\n"
	  "Reads or sets your read marker of a target (draft/read-marker)." },
	{ "METADATA", NULL, NULL,
	  "METADATA <target> <GET|LIST|SET|CLEAR|SUB|UNSUB|SUBS|SYNC> "
	  "[key [value]]\n"
	  "Reads or sets metadata (avatar, display-name...) of users and "
	  "channels (draft/metadata-2)." },
	{ "MODE", NULL, NULL,
	  "MODE <#channel|nick> [modes [params]]\n"
	  "Shows or changes a channel's modes or your own. User modes: +i "
	  "invisible, +w wallops, +B bot, +s snomasks (operators with the "
	  "snomasks capability: MODE nick +s +cjknoqux)." },
	{ "MONITOR", NULL, NULL,
	  "MONITOR <+|-> <nick>[,nick...] | MONITOR <C|L|S>\n"
	  "Tells you when nicks come online or leave." },
	{ "MOTD", NULL, NULL,
	  "MOTD\n"
	  "Shows the message of the day." },
	{ "NAMES", NULL, NULL,
	  "NAMES [#channel]\n"
	  "Lists a channel's members." },
	{ "NICK", NULL, NULL,
	  "NICK <nickname>\n"
	  "Changes your nick." },
	{ "NICKSERV", NULL, NULL,
	  "NICKSERV <subcommand> [params]\n"
	  "Talks to NickServ, which registers accounts. /NS HELP lists its "
	  "commands." },
	{ "NICKSERV CERT", NULL, "Manages your certificate fingerprints",
	  "CERT <LIST | ADD [fingerprint] | DEL <fingerprint>>\n"
	  "The TLS client certificates that log you in (SASL EXTERNAL)." },
	{ "NICKSERV CLIENTS", NULL, "Lists your connections",
	  "CLIENTS <LIST | LOGOUT <n | all>>\n"
	  "The connections attached to your nick." },
	{ "NICKSERV DROP", NULL, "Deletes your account",
	  "DROP <password>\n"
	  "Deletes your account." },
	{ "NICKSERV ERASE", "accreg", "Erases all records of an account",
	  "ERASE <account> [code]\n"
	  "Deletes an account and forgets its name, so it may be registered "
	  "again (UNREGISTER keeps the name reserved). Without the code, "
	  "says the command that carries it. Needs the accreg capability." },
	{ "NICKSERV GET", NULL, "Shows one of your account's settings",
	  "GET <setting>\n"
	  "Shows a setting of your account (see HELP SET) as stored and as "
	  "in effect under the server's settings." },
	{ "NICKSERV GHOST", NULL, "Disconnects a session using your nick",
	  "GHOST <nick>\n"
	  "Disconnects the client using your account's nick." },
	{ "NICKSERV HELP", NULL, "Shows this help",
	  "HELP [command]\n"
	  "Lists NickServ's commands you may use, or explains one." },
	{ "NICKSERV IDENTIFY", NULL, "Logs you in",
	  "IDENTIFY [account] <password>\n"
	  "Logs you in to an account." },
	{ "NICKSERV INFO", NULL, "Shows an account",
	  "INFO [account]\n"
	  "Shows an account's registration time and suspension; its owner "
	  "and operators with accreg also see its details and certificate "
	  "fingerprints." },
	{ "NICKSERV LIST", "accreg", "Lists registered accounts",
	  "LIST [mask]\n"
	  "Lists the registered accounts, or those matching a mask with * "
	  "and ? (Ergo takes a regular expression). Needs the accreg "
	  "capability." },
	{ "NICKSERV PASSWD", NULL, "Changes your password",
	  "PASSWD <current> <new> [new again] | PASSWD <account> <new>\n"
	  "Changes your password. An operator with the accreg capability "
	  "sets another account's password with the second form." },
	{ "NICKSERV REGISTER", NULL, "Registers your nick",
	  "REGISTER <password> [email]\n"
	  "Registers your current nick as an account." },
	{ "NICKSERV RENAME", "accreg", "Renames an account",
	  "RENAME <account> <newname>\n"
	  "Changes how an account's name is written; only its casing may "
	  "change (Alice to alice). Needs the accreg capability." },
	{ "NICKSERV SADROP", "accreg", "Deletes another's account",
	  "SADROP <account>\n"
	  "Deletes an account, as its owner's DROP does, and disconnects "
	  "its users (always-on ones too). Needs the accreg capability." },
	{ "NICKSERV SAGET", "accreg", "Shows another account's settings",
	  "SAGET <account> <setting>\n"
	  "GET for someone else's account. Needs the accreg capability." },
	{ "NICKSERV SAREGISTER", "accreg", "Registers an account for someone",
	  "SAREGISTER <account> <password>\n"
	  "Registers an account on someone else's behalf. Needs the accreg "
	  "capability." },
	{ "NICKSERV SASET", "accreg", "Changes another account's settings",
	  "SASET <account> <setting> <value>\n"
	  "SET for someone else's account; SASET <account> PASSWORD <new> "
	  "sets its password. Needs the accreg capability." },
	{ "NICKSERV SET", NULL, "Changes your account's settings",
	  "SET <ENFORCE <none|timeout|strict|default> | MULTICLIENT "
	  "<on|off|default> | ALWAYS-ON <on|off|default> | AUTO-AWAY "
	  "<on|off|default> | AUTOREPLAY-MISSED <on|off> | AUTOREPLAY-LINES "
	  "<n|default> | REPLAY-JOINS <commands-only|always|never> | "
	  "DM-HISTORY <off|ephemeral|on|default>>\n"
	  "How your nick is protected; whether more clients may attach to "
	  "it; whether it stays online with no client (always-on) and is "
	  "away then; what a client attaching to it is sent of what it "
	  "missed; where your direct messages are kept (nowhere, in memory, "
	  "or also on disk)." },
	{ "NICKSERV SUSPEND", "ban", "Manages account suspensions",
	  "SUSPEND ADD <account> [DURATION <duration>] [reason] | SUSPEND "
	  "DEL <account> | SUSPEND LIST\n"
	  "A suspended account cannot log in by any means, and its users "
	  "(always-on ones too) are disconnected. DEL lifts a suspension. "
	  "Needs the ban capability." },
	{ "NICKSERV UNREGISTER", NULL, "Deletes an account for good",
	  "UNREGISTER <account> [code]\n"
	  "Deletes your account (or anyone's, for an operator with accreg); "
	  "its name stays reserved. Without the code, says the command "
	  "that carries it." },
	{ "NOTICE", NULL, NULL,
	  "NOTICE <target>[,target...] <text>\n"
	  "Sends a notice, which no automatic reply may answer." },
	{ "NS", NULL, NULL,
	  "NS <subcommand> [params]\n"
	  "An alias for NICKSERV." },
	{ "OPER", NULL, NULL,
	  "OPER <name> [password]\n"
	  "Makes you an operator of an oper block of the config." },
	{ "PART", NULL, NULL,
	  "PART <#channel>[,#channel...] [reason]\n"
	  "Leaves channels." },
	{ "PASS", NULL, NULL,
	  "PASS <password>\n"
	  "The server password, before registration." },
	{ "PERSISTENCE", NULL, NULL,
	  "PERSISTENCE <GET | SET <ON|OFF|DEFAULT>>\n"
	  "Whether your account's user stays online with no client "
	  "(always-on, draft/persistence): your setting and whether it is "
	  "in effect." },
	{ "PING", NULL, NULL,
	  "PING <token>\n"
	  "The server answers PONG with the token." },
	{ "PONG", NULL, NULL,
	  "PONG <token>\n"
	  "The answer to the server's PING." },
	{ "PRIVMSG", NULL, NULL,
	  "PRIVMSG <target>[,target...] <text>\n"
	  "Sends a message to users or channels." },
	{ "QUIT", NULL, NULL,
	  "QUIT [reason]\n"
	  "Disconnects you." },
	{ "REDACT", NULL, NULL,
	  "REDACT <target> <msgid> [reason]\n"
	  "Deletes a message you sent (draft/message-redaction)." },
	{ "REGISTER", NULL, NULL,
	  "REGISTER <account|*> <email|*> <password>\n"
	  "Registers an account (draft/account-registration)." },
	{ "REHASH", "rehash", NULL,
	  "REHASH\n"
	  "Reloads the config. Needs the rehash capability." },
	{ "RENAME", NULL, NULL,
	  "RENAME <#old> <#new> [reason]\n"
	  "Renames a channel you are an operator of (its founder's, if "
	  "registered); it keeps its members, modes and history "
	  "(draft/channel-rename)." },
	{ "SAJOIN", "sajoin", NULL,
	  "SAJOIN [nick] #channel{,#channel}\n"
	  "Forcibly joins a user to a channel, ignoring restrictions like "
	  "bans, user limits and channel keys. If [nick] is omitted, it "
	  "defaults to the operator. Needs the sajoin capability." },
	{ "SAMODE", "samode", NULL,
	  "SAMODE <target> [<modestring> [<mode arguments>...]]\n"
	  "Forcibly sets and removes modes from the given target, a channel "
	  "(regardless of your channel privileges) or a user. Needs the "
	  "samode capability." },
	{ "SANICK", "samode", NULL,
	  "SANICK <nick> <newnick>\n"
	  "Changes another user's nick. Needs the samode capability." },
	{ "SETNAME", NULL, NULL,
	  "SETNAME <realname>\n"
	  "Changes your realname." },
	{ "SQUIT", "", NULL,
	  "SQUIT <server> [reason]\n"
	  "Ends a server link." },
	{ "STATS", NULL, NULL,
	  "STATS <letter>\n"
	  "u: uptime; operators: k K-lines, d D-lines, z memory." },
	{ "TAGMSG", NULL, NULL,
	  "TAGMSG <target>\n"
	  "Sends only tags (message-tags)." },
	{ "TIME", NULL, NULL,
	  "TIME\n"
	  "Shows the server's time." },
	{ "TOPIC", NULL, NULL,
	  "TOPIC <#channel> [topic]\n"
	  "Shows or sets a channel's topic." },
	{ "UBAN", "ban", NULL,
	  "UBAN <ADD|DEL|LIST|INFO> [target] [DURATION <duration>] [reason]\n"
	  "Unified bans: a target that is an IP or a CIDR is a D-line, a "
	  "mask with ! or @ a K-line.\n"
	  "UBAN ADD 192.0.2.0/24 DURATION 1h spam; UBAN DEL <target>; UBAN "
	  "LIST; UBAN INFO <target> (what it would hit).\n"
	  "Needs the ban capability." },
	{ "UNDLINE", "ban", NULL,
	  "UNDLINE <ip|cidr>\n"
	  "Removes a D-line. Needs the ban capability." },
	{ "UNKLINE", "ban", NULL,
	  "UNKLINE <user@host>\n"
	  "Removes a K-line. Needs the ban capability." },
	{ "USER", NULL, NULL,
	  "USER <username> 0 * <realname>\n"
	  "Your username and realname, at registration." },
	{ "USERHOST", NULL, NULL,
	  "USERHOST <nick> [nick ...]\n"
	  "Shows users' user@host." },
	{ "VERIFY", NULL, NULL,
	  "VERIFY <account> <code>\n"
	  "Completes an account registration with the code you were sent." },
	{ "VERSION", NULL, NULL,
	  "VERSION\n"
	  "Shows the server's version and ISUPPORT." },
	{ "WALLOPS", "", NULL,
	  "WALLOPS <text>\n"
	  "Sends text to every user with +w." },
	{ "WEBIRC", NULL, NULL,
	  "WEBIRC <password> <gateway> <hostname> <ip> [:secure]\n"
	  "For a web gateway of a webirc block, before registration: the\n"
	  "user's real address and hostname." },
	{ "WHO", NULL, NULL,
	  "WHO <mask|#channel> [o][%fields]\n"
	  "Lists users matching a mask or on a channel (WHOX with %)." },
	{ "WHOIS", NULL, NULL,
	  "WHOIS [server] <nick>\n"
	  "Shows a user's details." },
	{ "WHOWAS", NULL, NULL,
	  "WHOWAS <nick> [count]\n"
	  "Shows users who had a nick." },
};
#define NHELPS	(sizeof(helps) / sizeof(helps[0]))

static int
help_cmp(const void *key, const void *elem)
{
	return strcasecmp(key, ((const struct help *)elem)->topic);
}

static const struct help *
help_find(const char *topic)
{
	return bsearch(topic, helps, NHELPS, sizeof(helps[0]), help_cmp);
}

void
irc_help_init(void)
{
	size_t i;

	for (i = 1; i < NHELPS; i++)
		if (strcasecmp(helps[i - 1].topic, helps[i].topic) >= 0)
			fatalx("help table: %s before %s: bsearch needs it "
			    "sorted", helps[i - 1].topic, helps[i].topic);
}

bool
irc_help_exists(const char *topic)
{
	return help_find(topic) != NULL;
}

/* Whether c may use what entry h describes. */
static bool
help_allowed(const struct client *c, const struct help *h)
{
	if (h->cap == NULL)
		return true;
	if (!(c->umodes & UMODE_OPER))
		return false;
	return h->cap[0] == '\0' || irc_oper_can(c, h->cap);
}

/* One line of text at p up to '\n' or its end; n its length. */
static size_t
line_len(const char *p)
{
	return strcspn(p, "\n");
}

static void
help_index(struct client *c, const char *topic)
{
	char line[400];
	size_t i, n = 0, w;

	irc_numeric(c, RPL_HELPSTART, "%s :Help topics (HELP <topic>):",
	    topic);
	for (i = 0; i < NHELPS; i++) {
		if (strchr(helps[i].topic, ' ') != NULL ||
		    !help_allowed(c, &helps[i]))
			continue;
		w = strlen(helps[i].topic);
		if (n > 0 && n + 1 + w >= sizeof(line) - 1) {
			irc_numeric(c, RPL_HELPTXT, "%s :%s", topic, line);
			n = 0;
		}
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%s",
		    n > 0 ? " " : "", helps[i].topic);
	}
	if (n > 0)
		irc_numeric(c, RPL_HELPTXT, "%s :%s", topic, line);
	irc_numeric(c, RPL_ENDOFHELP, "%s :End of /HELPOP", topic);
}

/*
 * HELP [topic], HELPOP [topic]: Ergo's 704 (the first line), 705 (the
 * others), 706; 524 for a topic that does not exist or is for operators
 * (of a capability) the caller is not.
 */
void
h_help(struct client *c, struct msg *m)
{
	const struct help *h;
	const char *p, *topic;
	char up[64];
	size_t i, n;

	if (m->nparam < 1 || m->param[0][0] == '\0') {
		topic = "HELPOP";
		h = help_find("HELP");
	} else {
		for (i = 0; m->param[0][i] != '\0' && i + 1 < sizeof(up) &&
		    m->param[0][i] != ' '; i++)
			up[i] = (char)(m->param[0][i] >= 'a' &&
			    m->param[0][i] <= 'z' ? m->param[0][i] - 32 :
			    m->param[0][i]);
		up[i] = '\0';
		topic = up;
		if (strcmp(up, "INDEX") == 0) {
			help_index(c, up);
			return;
		}
		h = up[0] != '\0' && up[0] != ':' ? help_find(up) : NULL;
		if (h == NULL || strchr(h->topic, ' ') != NULL ||
		    !help_allowed(c, h)) {
			irc_numeric(c, ERR_HELPNOTFOUND, "%s :Help not found",
			    up[0] != '\0' && up[0] != ':' ? up : "*");
			return;
		}
	}
	for (p = h->text, i = 0; *p != '\0'; i++) {
		n = line_len(p);
		irc_numeric(c, i == 0 ? RPL_HELPSTART : RPL_HELPTXT,
		    "%s :%.*s", topic, (int)n, p);
		p += n;
		if (*p == '\n')
			p++;
	}
	irc_numeric(c, RPL_ENDOFHELP, "%s :End of /HELPOP", topic);
}

static void
svc_notice(struct client *c, const char *svc, const char *text, size_t n)
{
	irc_send(c, ":%s!%s@localhost NOTICE %s :%.*s", svc, svc,
	    c->nick[0] ? c->nick : "*", (int)n, text);
}

bool
irc_help_service(struct client *c, const char *svc, const char *sub)
{
	char key[80], line[IRC_LINE_MAX];
	const struct help *h;
	const char *p;
	size_t i, plen, n;

	snprintf(key, sizeof(key), "%s ", svc);
	for (i = 0; key[i] != '\0'; i++)
		if (key[i] >= 'a' && key[i] <= 'z')
			key[i] = (char)(key[i] - 32);
	plen = strlen(key);
	if (sub != NULL) {
		snprintf(key + plen, sizeof(key) - plen, "%s", sub);
		if ((h = help_find(key)) == NULL || !help_allowed(c, h))
			return false;
		n = (size_t)snprintf(line, sizeof(line), "*** \002Help for %s"
		    "\002 ***", h->topic + plen);
		svc_notice(c, svc, line, n);
		for (p = h->text; *p != '\0';) {
			n = line_len(p);
			svc_notice(c, svc, p, n);
			p += n;
			if (*p == '\n')
				p++;
		}
		n = (size_t)snprintf(line, sizeof(line), "*** \002End of Help "
		    "for %s\002 ***", h->topic + plen);
		svc_notice(c, svc, line, n);
		return true;
	}
	n = (size_t)snprintf(line, sizeof(line), "*** \002%s HELP\002 ***",
	    svc);
	svc_notice(c, svc, line, n);
	n = (size_t)snprintf(line, sizeof(line), "To see in-depth help for a "
	    "specific %s command, try: \002/%s HELP <command>\002", svc,
	    strcmp(svc, "NickServ") == 0 ? "NS" : strcmp(svc, "ChanServ") ==
	    0 ? "CS" : strcmp(svc, "HostServ") == 0 ? "HS" : svc);
	svc_notice(c, svc, line, n);
	svc_notice(c, svc, "Here are the commands you can use:", 34);
	for (i = 0; i < NHELPS; i++) {
		if (strncmp(helps[i].topic, key, plen) != 0 ||
		    !help_allowed(c, &helps[i]))
			continue;
		n = (size_t)snprintf(line, sizeof(line), "    \002%s\002    %s",
		    helps[i].topic + plen, helps[i].brief != NULL ?
		    helps[i].brief : "");
		svc_notice(c, svc, line, n);
	}
	n = (size_t)snprintf(line, sizeof(line), "*** \002End of %s HELP\002 "
	    "***", svc);
	svc_notice(c, svc, line, n);
	return true;
}
