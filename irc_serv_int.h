/*
 * irc_serv_int.h: what irc_serv.c, the services' core, gives the other
 * services' files (irc_chanserv.c, irc_hostserv.c, irc_histserv.c,
 * irc_nsadmin.c): a service's command table, its replies, its dispatch
 * and the registry PRIVMSG reaches them through. Calls go from those
 * files to irc_serv.c only, never back: each registers itself from its
 * _init. Nothing outside the services includes it.
 */
#ifndef IRC_SERV_INT_H
#define IRC_SERV_INT_H

#include <stdarg.h>
#include <stdint.h>
#include <time.h>

#include "irc_state.h"

#define SERV_ARGS_MAX	16	/* words after a service command */

/* A service's subcommand; its help text is irc_help.c's
 * "SERVICE NAME" entry. */
struct ns_cmd {
	const char	*name;
	void		(*fn)(struct client *, int, char **);
};

/* A service: its nick, the alias users are told of, its commands, and
 * more commands another file added (serv_extend). */
struct service {
	const char		*nick;
	const char		*alias;
	const struct ns_cmd	*cmds;
	size_t			 ncmds;
	const struct ns_cmd	*xcmds;
	size_t			 nxcmds;
};

/* sv answers PRIVMSG/NOTICE to its nick from now on (at _init). */
void	 serv_register(struct service *sv);
/* Registered service nick (a constant) takes cmds besides its own. */
void	 serv_extend(const char *nick, const struct ns_cmd *cmds, size_t n);

/* A NOTICE from NickServ to c; "<what>: the account database failed" */
void	 ns_reply(struct client *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	 ns_store_failed(struct client *, const char *what);
/* Account name's row: 1, or 0/-1 after NickServ said none (a text such
 * as "No such account") or the failure. */
struct store_account;
int	 ns_account_named(struct client *, const char *name,
	    struct store_account *, const char *none);
/* A NOTICE from service svc (a nick) to c. */
void	 serv_vreply(struct client *, const char *svc, const char *fmt,
	    va_list) __attribute__((format(printf, 3, 0)));
void	 serv_reply(struct client *, const struct service *,
	    const char *, ...) __attribute__((format(printf, 3, 4)));
/* HELP [subcommand]: the texts are irc_help.c's. */
void	 serv_help(struct client *, const struct service *, int argc,
	    char **argv);
/* One command line to a service: words separated by spaces. */
void	 serv_command(struct client *, const struct service *,
	    const char *text);
/* The parameters of m joined by spaces, as a PRIVMSG's text. */
void	 serv_words(const struct msg *, char *text, size_t sz);

/* NickServ (irc_serv.c) for its oper commands: SET on account a, the
 * names of SET ENFORCE and DM-HISTORY values */
void	 ns_set_account(struct client *, const struct store_account *a,
	    int argc, char **argv);
/* destructive commands' confirmation code (FNV-1a of name and t) */
uint32_t serv_confirm_code(const char *name, time_t t);
const char *enforce_name(int);
const char *ns_dmh_name(int);
/* PASSWD <account> <new> by an oper with accreg */
void	 ns_sapasswd(struct client *, const char *name, const char *pw);
/* INFO: the suspension line of a, if it is suspended */
void	 ns_info_suspension(struct client *, const struct store_account *a);

#endif
