/*
 * net_conn.h: what net.c gives the other files of the net part
 * (net_listen.c), never irc: the limits net enforces, the pollfd
 * slots, and the hand-over of an accepted socket. Calls go from
 * net_listen.c down to net.c only.
 */
#ifndef NET_CONN_H
#define NET_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include "util.h"

struct tls_conn;
struct tls_cred;

/* Limits net enforces, copied by net_listen_apply from the config it
 * applies: net reads no config of its own. */
struct net_lim {
	unsigned	 max_clients, max_per_ip, cidr_v4, cidr_v6;
	unsigned	 reg_timeout, unix_mode;
	unsigned	 tls_idle;	/* tls_conn_sweep's */
	size_t		 max_sendq, max_recvq;
	size_t		 nproxy_from;
	struct util_net	 proxy_from[UTIL_NETS_MAX];	/* proxy-allowed-from */
	char		*ws_origins;	/* allowed-origins, or NULL: any */
};
extern struct net_lim net_lim;

/* What comes before irc hears of a connection (net_accepted's step). */
enum { PRE_PROXY, PRE_PROXY_OPT, PRE_WS };

/*
 * A listening socket's slot: ready(fd, arg) runs when connections wait,
 * after every other event of the pass (so a client that closed and at
 * once reconnects has its old connection's end seen first).
 */
int	 net_slot_add_listener(int fd, void (*ready)(int, void *), void *arg,
	    unsigned *slot);
void	 net_slot_del(unsigned slot);
void	 net_slot_events(unsigned slot, short events);
int	 net_set_nonblock(int fd);	/* and close-on-exec */
const char *net_sa_ntop(const struct sockaddr_storage *, char *, size_t);
unsigned net_ip_count(const char *key);	/* connections under key */
void	 net_refuse(int fd, const char *msg);	/* ERROR :msg, close */
/*
 * An accepted socket becomes a connection (fd, tls taken in every case):
 * step -1 tells irc at once, else PRE_* first (a PROXY header, then a
 * WebSocket upgrade if ws); server: a server link's listener.
 */
void	 net_accepted(int fd, const char *ip, const char *key,
	    struct tls_conn *tls, bool server, int step, bool ws);
void	 net_conn_tick(void);	/* once a second: buffers, deadlines */
/* The certificate TLS links we open show (NULL: none); net holds a ref. */
void	 net_set_link_cred(struct tls_cred *);
void	 net_conn_close_all(const char *line);	/* net_shutdown's first half */

#endif
