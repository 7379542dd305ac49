/*
 * net_int.h: what net.c, net_out.c and net_pre.c share and nothing else
 * includes: struct conn and its flags, the output part's layout and a
 * connection's state before irc hears of it, the poll slots' array, the
 * pending-output list, and the calls each makes of the others.
 */
#ifndef NET_INT_H
#define NET_INT_H

#include <sys/types.h>

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct tls_conn;
struct ws;
struct ipcount;

#define CONN_CLOSING	0x01	/* flush, then close (irc already told) */
#define CONN_DEAD	0x02	/* close; irc not yet told */
#define CONN_PAUSED	0x04	/* irc asked us to hold its lines */
#define CONN_INQ	0x08	/* on the pending-input list */
#define CONN_OUTQ	0x10	/* on the pending-output list */
#define CONN_GONEQ	0x20	/* on the close list */
#define CONN_SKIP	0x40	/* discarding an overlong line up to LF */
#define CONN_KEPT	0x80	/* empty output buffer kept, on kept list */
#define CONN_OUSED	0x100	/* output queued since the last sweep */
#define CONN_CONNECTING	0x200	/* net_connect: waiting for connect(2) */
#define CONN_FRESH	0x400	/* nothing read yet (irc has it) */
#define CONN_PTLS	0x800	/* the PROXY header said: client spoke TLS */
#define CONN_SRV	0x1000	/* a server link's: irc's srv handlers */
#define CONN_EMPTIED	0x2000	/* its output has emptied once (oempty_ms) */
#define CONN_OWNLINE	0x4000	/* WebSocket or its own sendq: a shared line
				 * looks at ws and sendq (else it need not
				 * read that part of the struct) */
#define CONN_RETRY	0x8000	/* a line offered again after a full poll */
#define CONN_RETRIED	0x10000	/* once: net_conn_retry says no after */
/* An address's text and its NUL: 8 groups of 4 hex digits and 7 colons
 * (inet_ntop writes an IPv4 inside IPv6 as ::ffff:a.b.c.d, shorter) */
#define CONN_IP_LEN	40

/*
 * One per client: 152 bytes (a 160-byte malloc chunk), every one of
 * them held by an idle client, so the counts are 32 bits (input is
 * bounded by max-recvq, a skipped line by READQ_MAX, a sendq by 1 GiB),
 * the address is as long as an address's text gets, and the output
 * state is a part of its own (struct cout) only while output is pending
 * or kept; its descriptor is its poll slot's and its handlers are
 * irc's up or srv (CONN_SRV). What a fan-out delivery reads comes first
 * (net_conn_send_line, net_conn_prefetch, net_flush's walk).
 */
struct conn {
	unsigned	 flags;
	uint32_t	 sendq;		/* its cap; 0: max-sendq */
	struct cout	*out;		/* output, or NULL (see below) */
	struct conn	*outq;		/* on outq_head's list (CONN_OUTQ) */
	struct tls_conn	*tls;		/* NULL: plain text */
	struct ws	*ws;		/* a WebSocket: lines are frames */
	unsigned	 slot;		/* its socket is pfd[slot].fd */
	uint32_t	 oempty_ms;	/* ergo_now_ms when output last emptied */
	void		*client;
	struct ipcount	*ipc;
	char		*ibuf;		/* pending input, only while non-empty */
	uint32_t	 ilen;		/* bytes in ibuf */
	uint32_t	 skipped;	/* of an overlong line (CONN_SKIP) */
	struct conn	*inq, *goneq;
	struct conn_pre	*pre;		/* irc not told yet: a header to come */
	const char	*reason;	/* why it died (static string) */
	char		 ip[CONN_IP_LEN];
};

/*
 * Shared lines: a line fanned out to many connections (a channel
 * message) is made once (net_line_new) and queued on each by reference;
 * writev sends it from that one copy, which stays in the cache, instead
 * of a copy into every member's buffer (those copies, and the kernel
 * reading them back from cold buffers, were a third of a fan-out).
 * While a connection's ring holds segments, they describe all its
 * pending output in order: a segment is a shared line, or (l NULL) the
 * next len bytes of its own obuf, which stays the FIFO of the bytes it
 * was given by copy. With no segments, obuf alone is the output.
 */
struct net_line {
	unsigned	 refs;
	unsigned	 len;
	char		 data[];
};

struct oseg {
	struct net_line	*l;		/* NULL: bytes of obuf */
	size_t		 len;
};

/*
 * A connection's output, made when output is first queued and freed
 * once it is all written (or, kept, at the sweep): an idle client holds
 * none. What a delivery reads is the first 32 bytes (32-bit counts: a
 * sendq is at most 64 MiB, conf.c).
 */
struct cout {
	unsigned	 head, n, cap;	/* a ring of cap (0 or a power of 2) */
	uint32_t	 off;		/* of the head segment, sent */
	uint32_t	 bytes;		/* shared bytes not yet sent */
	uint32_t	 olen, ooff, ocap;	/* obuf's */
	uint32_t	 oempty_pass;	/* flush_pass when it last emptied */
	char		*obuf;		/* the bytes given by copy, or NULL */
	struct conn	*kprev, *knext;	/* on kept_head's list (CONN_KEPT) */
	struct oseg	 seg[];
};

static inline size_t
conn_pending(const struct conn *c)
{
	const struct cout *o = c->out;

	return o != NULL ? o->olen - o->ooff + o->bytes : 0;
}

/*
 * A connection irc has not heard of yet: its PROXY header is still to
 * come. Only while it lasts; on pre_head's list for the deadline sweep.
 */
struct conn_pre {
	struct conn	*prev, *next;
	time_t		 deadline;
	int		 step;		/* PRE_* */
	bool		 ws;		/* a WebSocket upgrade after the header */
	size_t		 len;		/* header bytes taken so far */
	unsigned char	*buf;		/* those bytes, only while some came */
	char		*req;		/* the upgrade request so far */
	size_t		 reqlen;
};

#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(p)	__builtin_prefetch(p)
#else
#define PREFETCH(p)	((void)(p))
#endif

/* net.c's */
extern struct pollfd	*pfd;
#define CONN_FD(c)	(pfd[(c)->slot].fd)
extern struct conn	*outq_head;	/* the pending-output list */
extern unsigned		 noutq;		/* connections on outq */
void	 goneq_add(struct conn *);
void	 conn_kill(struct conn *, const char *reason);
void	 conn_kill_tls(struct conn *, const char *why);
void	 conn_kill_error(struct conn *, const char *reason);
extern char		 rbuf[];	/* the read scratch buffer */
void	 conn_open(struct conn *);
int	 conn_readdr(struct conn *, const char *ip);
ssize_t	 conn_recv_raw(struct conn *, char *, size_t, const char **);
ssize_t	 conn_ws_input(struct conn *, const char *, size_t, char *);

/* net_out.c's: the output queue */
extern uint32_t		 flush_pass;	/* net_flush calls, from 1 */
void	 obuf_release(struct conn *);
void	 kept_sweep(void);
void	 conn_send_raw(struct conn *, const char *, size_t);
void	 conn_write(struct conn *);

/* net_pre.c's: before irc hears of a connection */
int	 pre_start(struct conn *, int step, bool ws);
void	 pre_end(struct conn *);
void	 pre_proxy(struct conn *);
void	 pre_ws(struct conn *);
void	 pre_sweep(void);
bool	 conn_proxy_refused(struct conn *, const char *, size_t);

#endif
