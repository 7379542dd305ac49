/*
 * irc_serv_int.h: what the services' files (irc_serv.c, irc_chanserv.c,
 * irc_hostserv.c, irc_histserv.c, irc_nsadmin.c) share among themselves: a service's command table, its replies and
 * its dispatch. Nothing outside the services includes it.
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

/* A service: its nick, the alias users are told of, its commands. */
struct service {
	const char		*nick;
	const char		*alias;
	const struct ns_cmd	*cmds;
	size_t			 ncmds;
};

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
/* ChanServ (irc_chanserv.c), HostServ (irc_hostserv.c): a command line */
void	 cs_command(struct client *, const char *text);
void	 hs_command(struct client *, const char *text);
void	 hist_command(struct client *, const char *text);	/* HistServ */

struct store_account;
/* NickServ (irc_serv.c) for its oper commands: SET on account a, the
 * names of SET ENFORCE and DM-HISTORY values */
void	 ns_set_account(struct client *, const struct store_account *a,
	    int argc, char **argv);
/* destructive commands' confirmation code (FNV-1a of name and t) */
uint32_t serv_confirm_code(const char *name, time_t t);
const char *enforce_name(int);
const char *ns_dmh_name(int);
/* NickServ's oper commands (irc_nsadmin.c), Ergo's */
void	 ns_saregister(struct client *, int, char **);
void	 ns_sadrop(struct client *, int, char **);
void	 ns_unregister(struct client *, int, char **);
void	 ns_erase(struct client *, int, char **);
void	 ns_saset(struct client *, int, char **);
void	 ns_saget(struct client *, int, char **);
void	 ns_get(struct client *, int, char **);
void	 ns_suspend(struct client *, int, char **);
void	 ns_rename(struct client *, int, char **);
void	 ns_list(struct client *, int, char **);
/* PASSWD <account> <new> by an oper with accreg */
void	 ns_sapasswd(struct client *, const char *name, const char *pw);
/* INFO: the suspension line of a, if it is suspended */
void	 ns_info_suspension(struct client *, const struct store_account *a);

#endif
