/*
 * irc_mail.h: what irc_mail.c exports: e-mail verification of new
 * accounts and password reset by mail, through a sendmail program.
 * Below the command families (REGISTER/VERIFY in irc_register.c,
 * NickServ in irc_serv.c call it), beside irc_account.c.
 */
#ifndef IRC_MAIL_H
#define IRC_MAIL_H

#include <stdbool.h>

#include "irc_state.h"

/* Whether a new account with an e-mail address must be verified. */
bool	 irc_mail_verifying(void);
/*
 * A registration that waits for its code: name (c's nick for NickServ)
 * with password pw, the code mailed to email ("" for none: refused).
 * ircv3: REGISTER's standard replies (REGISTER VERIFICATION_REQUIRED,
 * FAIL REGISTER ...), else NickServ's notices. The caller has checked
 * the name and the password; the reply may come once sendmail is done.
 */
void	 irc_mail_register(struct client *, bool ircv3, const char *name,
	    const char *email, const char *pw);
/* VERIFY <account> <code> (ircv3) and NickServ VERIFY: the account is
 * made and c logged in to it, or c is told why not. */
void	 irc_mail_verify(struct client *, bool ircv3, const char *account,
	    const char *code);
/* NickServ VERIFY, SENDPASS and RESETPASS (irc_serv.c's table) */
void	 irc_mail_ns_verify(struct client *, int argc, char **argv);
void	 irc_mail_ns_sendpass(struct client *, int argc, char **argv);
void	 irc_mail_ns_resetpass(struct client *, int argc, char **argv);
/* The sendmail programs running: fed, reaped, timed out; the replies
 * of those that ended. next_ms: until the next look (-1: none runs). */
void	 irc_mail_tick(void);
int	 irc_mail_next_ms(void);
void	 irc_mail_init(void);		/* its hook */
void	 irc_mail_shutdown(void);	/* the programs still running killed */

#endif
