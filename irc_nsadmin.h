/*
 * irc_nsadmin.h: what irc_nsadmin.c exports: NickServ's oper commands,
 * added to NickServ's own at start.
 */
#ifndef IRC_NSADMIN_H
#define IRC_NSADMIN_H

void	 irc_nsadmin_init(void);

#endif
