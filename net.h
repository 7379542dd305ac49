/*
 * net.h: what net.c (listeners, connections, buffers), net_addr.c
 * (address keys) and net_mkcert.c (`ergo mkcerts`) export.
 */
#ifndef NET_H
#define NET_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct conn;
struct conf;

/*
 * What net hands up, given at net_init (irc.c's irc_net_handlers): a new
 * connection (returns the protocol's handle, or NULL to refuse); one
 * line (no CR/LF, NUL-terminated, may be modified) returning NET_MORE to
 * get the next line now, NET_STOP (line taken) or NET_DEFER (not taken:
 * offer it again), both holding input until net_conn_resume() (fakelag);
 * a line over the limits; the end of a connection.
 */
enum { NET_DEFER = -1, NET_STOP = 0, NET_MORE = 1 };
struct net_handlers {
	void	*(*open)(struct conn *);
	int	 (*line)(void *handle, char *line, size_t len);
	void	 (*toolong)(void *handle);		/* over 512 / 8191 */
	void	 (*closed)(void *handle, const char *reason);
};

/*
 * Loads the certificate and key of every TLS listener of c for the next
 * net_listen_apply; 0, or -1 with *errs (malloc'd lines) and nothing kept.
 */
int	 net_listen_prepare(const struct conf *c, char **errs);
void	 net_listen_unprepare(void);	/* drop what prepare loaded */
/* Opens listeners new in c, closes those gone; first call opens all. */
int	 net_listen_apply(const struct conf *c);
/* h: clients' connections; servers: server links (listen { server yes }
 * and net_connect). */
void	 net_init(const struct net_handlers *h,
	    const struct net_handlers *servers);
void	 net_shutdown(const char *line);	/* send line to all, flush, close */
int	 net_add_fd(int fd, void (*cb)(int fd, void *arg), void *arg);
void	 net_del_fd(int fd);	/* out of the poll set; its cb may call it */
void	 net_poll(int timeout_ms);	/* one poll() and its dispatch */
/*
 * End of a loop pass: tell irc about connections that died, write once to
 * every connection with pending output, then close the dead ones.
 */
void	 net_flush(void);
void	 net_tick(void);		/* once a second: resume accepting */
void	 net_raise_nofile(void);

/* For irc.c: */
void	 net_conn_send(struct conn *, const char *buf, size_t len);
/*
 * A line many connections are sent (a channel message): made once with a
 * reference for its maker, queued on each connection by reference and
 * written from this one copy; freed when the last reference goes.
 */
struct net_line;
struct net_line *net_line_new(const char *buf, size_t len);	/* or NULL */
void	 net_line_unref(struct net_line *);
struct net_line *net_line_ref(struct net_line *);	/* one more holder */
const char *net_line_data(const struct net_line *, size_t *len);
void	 net_conn_send_line(struct conn *, struct net_line *);
/* Fan-out asks for a connection's memory ahead of sending to it, in
 * steps each needing the one before in the cache: 0 the connection,
 * 1 its queue of lines, 2 the queue's next free slot. */
void	 net_conn_prefetch(const struct conn *, unsigned step);
void	 net_conn_close(struct conn *, const char *error);	/* ERROR :error */
void	 net_conn_resume(struct conn *);	/* irc may take lines again */
bool	 net_conn_retry(struct conn *);	/* NET_DEFER till a full poll */
bool	 net_conn_unread(const struct conn *);	/* input or end not read */
/*
 * An outgoing server link to a numeric host: its lines go to the
 * servers' handlers with handle (open is not called); NULL, logged, if
 * it cannot start. A failed connect ends like any connection (closed).
 * tls: over TLS, showing a TLS listener's certificate (a server one's
 * first); the peer's is net_conn_peer_certfp's once the handshake is done.
 */
struct conn *net_connect(const char *host, unsigned port, bool tls,
	    void *handle);
void	 net_conn_set_sendq(struct conn *, size_t max);	/* its own cap */
const char *net_conn_ip(const struct conn *);
/* WEBIRC: the connection's address becomes ip (the per-IP count moves);
 * -1 if that address has max-per-ip connections already. */
int	 net_conn_set_ip(struct conn *, const char *ip);
/*
 * net_addr.c: the key every per-address limit counts under: the address
 * masked to cidr-len-ipv4/-ipv6 bits ("192.0.2.7", "2001:db8:1:2::/64");
 * a v4-mapped IPv6 address is IPv4. Text that is no address is copied.
 */
#define NET_ADDRKEY_LEN	52	/* INET6_ADDRSTRLEN + "/128" */
void	 net_addr_key(const struct sockaddr *, unsigned v4len, unsigned v6len,
	    char *buf, size_t sz);
void	 net_ip_key(const char *ip, char *buf, size_t sz);	/* by cidr */
void	 net_addr_cidr(unsigned v4len, unsigned v6len);	/* the prefixes */
bool	 net_conn_tls(const struct conn *);
const char *net_conn_certfp(const struct conn *); /* client cert, or NULL */
/* The peer's certificate (either end) once the TLS handshake is done. */
const char *net_conn_peer_certfp(const struct conn *);
size_t	 net_conn_sendq(const struct conn *);
unsigned net_nconns(void);

/* net_mkcert.c */
/*
 * `ergo mkcerts`: a new self-signed P-256 certificate for host and its
 * key (mode 0600), neither written if either file exists. Prints the
 * paths and the SHA-256 certfp, errors to stderr. Returns 0, or -1.
 */
int	 net_mkcert_write(const char *certpath, const char *keypath,
	    const char *host);

#endif
