/*
 * irc.h: what irc.c, the protocol's roof, exports to ergo.c: its start,
 * timers, rehash and shutdown, and the calls net hands lines up through.
 * No irc_*.c family includes this: they call downward only.
 */
#ifndef IRC_H
#define IRC_H

struct conf;
struct net_handlers;

/* net_init's argument: new connections, their lines, their ends. */
extern const struct net_handlers irc_net_handlers;
/* The same for server links (listen { server yes }, outgoing links). */
extern const struct net_handlers irc_link_net_handlers;

/* rehash: ergo.c's, for the REHASH command (0, or -1 with *errs). */
void	 irc_init(int (*rehash)(char **errs));
void	 irc_tick(void);		/* timers; called at least once a second */
void	 irc_tick_late(void);	/* after net_flush: disk writes */
int	 irc_next_timer_ms(void);	/* -1: nothing sooner than the sweep */
void	 irc_rehashed(const struct conf *old);	/* conf swapped */
void	 irc_shutdown(void);

#endif
