/*
 * irc_help.h: what irc_help.c exports: the help texts of every command
 * and service subcommand in one table, HELP/HELPOP, and the listing a
 * service's HELP shows (only what the caller may use).
 */
#ifndef IRC_HELP_H
#define IRC_HELP_H

#include <stdbool.h>

#include "irc_state.h"

/* HELP [topic] and HELPOP [topic]: 704, 705..., 706; 524 if unknown. */
cmd_fn	h_help;

/*
 * HELP for service svc ("NickServ", "ChanServ"): with sub NULL, the
 * subcommands c may use, one line each; else that subcommand's text.
 * Sent as NOTICEs from svc. Returns false if sub has no entry (the
 * caller says "Unknown command").
 */
bool	 irc_help_service(struct client *, const char *svc, const char *sub);
/* Checks the table is sorted (fatalx if not: a build mistake). */
void	 irc_help_init(void);
/* Whether topic ("KILL", "NICKSERV REGISTER") has an entry. */
bool	 irc_help_exists(const char *topic);

#endif
