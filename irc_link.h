/*
 * irc_link.h: what the link family (irc_link*.c) exports to the roof:
 * TS6 server links' connections and lines, their timers, the
 * operators' CONNECT, SQUIT and LINKS, and each file's init.
 */
#ifndef IRC_LINK_H
#define IRC_LINK_H

#include "irc_state.h"

struct conn;

/* net's calls for server connections, through the roof */
void	*irc_link_open(struct conn *);		/* NULL: refused */
int	 irc_link_line(void *handle, char *line, size_t len);
void	 irc_link_toolong(void *handle);
void	 irc_link_closed(void *handle, const char *reason);

cmd_fn	 h_connect, h_links, h_squit;
/* Each file's commands and hooks, in this order (the order the hooks
 * run and the burst goes): the core first. */
void	 irc_link_init(void);		/* the core: handshake, servers */
void	 irc_link_user_init(void);
void	 irc_link_chan_init(void);
void	 irc_link_msg_init(void);
void	 irc_link_ban_init(void);
void	 irc_link_svc_init(void);
void	 irc_link_tick(void);		/* PINGs, timeouts, autoconnect */
void	 irc_link_rehashed(void);	/* links added or gone */

#endif
