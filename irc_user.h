/*
 * irc_user.h: what irc_user.c exports: the changes to a user that others
 * are told of, shared by the roof and the command families.
 */
#ifndef IRC_USER_H
#define IRC_USER_H

#include "irc_state.h"

/* Renames registered c (nick checked by the caller); 0, or -1 ENOMEM. */
int	 irc_user_rename(struct client *, const char *nick);
/* Marks c dead; irc.c ends it after the command (QUIT, then ERROR). */
void	 irc_user_kill(struct client *, const char *quitmsg,
	    const char *error);
/* Ends session s of its user: alone if the user has others, else the
 * user (irc_user_kill). */
void	 irc_session_kill(struct session *, const char *quitmsg,
	    const char *error);
/* account-notify: c logged in or out (call after c->account changed) */
void	 irc_user_account_notify(struct client *);
/* chghost: c's user or host changed; peers are told (CHGHOST, or a
 * QUIT and JOIN for those without the cap). Takes copies. */
void	 irc_user_chghost(struct client *, const char *user,
	    const char *host);
/* c joined ch: its JOIN (extended-join, away) to the members and c. */
void	 irc_user_join_send(struct client *, struct chan *);

#endif
