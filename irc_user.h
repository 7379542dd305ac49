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
/* c leaves ch (PART, with reason or NULL): told to the members (only to
 * the ranks under +u for a plain member), then the membership goes. */
void	 irc_user_part(struct client *, struct chan *, const char *reason);
/*
 * Whether c may send text (NULL: a TAGMSG) to channel ch (Ergo's
 * CanSpeak, then +C), or to user to (+T drops CTCP silently, +R wants
 * an account or an ACCEPT). A refusal gets its numeric unless notice.
 * *need (a channel): the ranks the message reaches, 0 for everyone; in
 * a STATUSMSG's ranks, widened by +U for a plain member.
 */
bool	 irc_user_may_send_chan(struct client *, struct chan *,
	    const char *text, bool notice, unsigned char *need);
bool	 irc_user_may_send_user(struct client *, struct client *to,
	    const char *text, bool notice);

#endif
