/*
 * net.c: connections, the dense pollfd array and the poll() pass,
 * per-connection input buffers and per-IP counts (net_out.c queues and
 * writes output; net_pre.c reads a PROXY header and a WebSocket upgrade
 * before irc hears of a connection), and where WebSocket frames meet
 * lines. It splits input into lines and hands them to irc.c; it never
 * parses IRC. Listeners and accept are net_listen.c's, which hands
 * sockets to net_accepted.
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE	/* accept4: glibc declares it only so */
#endif
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netdb.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ergo.h"
#include "net.h"
#include "net_conn.h"
#include "net_int.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "net_tls.h"
#include "net_ws.h"
#include "pool.h"

/*
 * Lines handed to irc per connection per pass, so no client starves
 * others: LINES_PER_PASS always, up to LINES_PER_PASS_MAX while the
 * pass has run less than PASS_BUSY_US. Fakelag holds an ordinary client
 * to a few lines long before this; it bounds those exempt (opers with
 * nofakelag, `fakelag no`). A pass's lines share its writes: at 16,
 * four busy senders gave a pass at most 64 lines to fan out, and
 * channels (1,000 clients in 100 channels) paid one send(2) per 13
 * deliveries; at 64, one per 20, with a third less CPU per delivery
 * (bench/RESULTS.md). The time bound keeps dear lines (a database write
 * each, ~10 ms on a busy disk) at 16 a pass, as before.
 */
#define LINES_PER_PASS		16
#define LINES_PER_PASS_MAX	64
#define PASS_BUSY_US		5000
#define IPTAB_SIZE	4096

enum { PE_LISTENER, PE_CONN, PE_FD };

/* A server link's burst is thousands of lines: taken in larger bites. */
#define LINES_PER_PASS_SERVER	512

struct ipcount {
	struct ipcount	*next;
	unsigned	 n;
	char		 ip[NET_ADDRKEY_LEN];	/* net_addr_key's */
};

/* irc's calls, given at net_init: net never names them */
static const struct net_handlers *up, *srv;
struct net_lim		 net_lim;

/* lives as long as its client: not between registrations' short-lived
 * memory in malloc's heap (pool.h) */
static struct pool conn_pool = POOL_INIT(sizeof(struct conn));

/* 16 bytes a descriptor: a PE_FD's callback is in its struct lslot */
struct pent {
	void	*p;
	int	 type;
	unsigned act;		/* pollseq when it was last ready (hot part) */
};

/*
 * The hot part. A poll() costs ~0.5 us for each descriptor it is given,
 * asleep or not, so with thousands of quiet clients one poll over every
 * slot in every pass was most of a busy server's CPU (bench/RESULTS.md,
 * connect CPU per registration). Slots [0, nhot) are the listeners, the
 * server's own descriptors, new connections and those ready in the last
 * HOT_POLLS polls or waiting to write; the others are quiet. For
 * FULL_GAP_NS a slot after a poll over all of them, passes poll the hot
 * part only (asleep too); then all again. So a quiet client's input
 * waits at most ~1 us a descriptor (15 ms with 15,000), and the polls
 * over every slot cost at most about a third of the CPU however busy
 * the server is: a registration or a line no longer pays for one over
 * thousands of quiet clients. Below HOT_MIN slots every poll is over
 * all of them.
 */
#define HOT_MIN		1024
#define HOT_POLLS	4
#define FULL_GAP_NS	1000

struct pollfd		*pfd;
#define CONN_H(c)	((c)->flags & CONN_SRV ? srv : up)
static struct pent	*pent;
static unsigned		 npfd, cappfd;
static unsigned		 nhot, pollseq;
static uint64_t		 full_due_us;	/* a poll over all from then on */
static bool		 in_dispatch;	/* poll_once's walk: no slot moves */
static struct conn	*retry_head;	/* on the inq link: net_conn_retry */
static struct ipcount	*iptab[IPTAB_SIZE];
static struct conn	*inq_head, *goneq_head;
struct conn		*outq_head;
unsigned		 noutq;		/* connections on outq */
static unsigned		 nconns;
/* + 1: a WebSocket chunk decodes to at most its length and one LF */
char			 rbuf[READ_CHUNK + RECVQ_MAX + 1];

/* ---- pollfd array: dense, O(1) add and swap-removal ---- */

/* A listener's slot (net_listen.c's struct is not ours to look in), or
 * a PE_FD's callback (slotp NULL: net_del_fd finds it by its fd). */
struct lslot {
	void	(*ready)(int, void *);
	void	*arg;
	unsigned *slotp;
};

/* The slot's owner learns where it moved. */
static void
slot_fix(unsigned s)
{
	if (pent[s].type == PE_CONN)
		((struct conn *)pent[s].p)->slot = s;
	else if (pent[s].type == PE_LISTENER)
		*((struct lslot *)pent[s].p)->slotp = s;
}

static void
slot_move(unsigned to, unsigned from)
{
	pfd[to] = pfd[from];
	pent[to] = pent[from];
	slot_fix(to);
}

static void
slot_swap(unsigned a, unsigned b)
{
	struct pollfd tp = pfd[a];
	struct pent te = pent[a];

	slot_move(a, b);
	pfd[b] = tp;
	pent[b] = te;
	slot_fix(b);
}

/* s joins the hot part (it may move: its owner is told). */
static void
slot_heat(unsigned s)
{
	pent[s].act = pollseq;
	if (s < nhot)
		return;
	if (s != nhot)
		slot_swap(s, nhot);
	nhot++;
}

static int
slot_add(int fd, short events, int type, void *p, unsigned *slotp)
{
	if (npfd == cappfd) {
		unsigned ncap = cappfd ? cappfd * 2 : 64;
		struct pollfd *np = realloc(pfd, ncap * sizeof(*np));
		struct pent *ne;

		if (np == NULL)
			return -1;
		pfd = np;
		if ((ne = realloc(pent, ncap * sizeof(*ne))) == NULL)
			return -1;
		pent = ne;
		cappfd = ncap;
	}
	pfd[npfd].fd = fd;
	pfd[npfd].events = events;
	pfd[npfd].revents = 0;
	pent[npfd].type = type;
	pent[npfd].p = p;
	pent[npfd].act = pollseq;
	*slotp = npfd++;
	/* not while poll_once walks the slots: then at its end */
	if (!in_dispatch)
		slot_heat(*slotp);
	return 0;
}

static struct lslot	**lready;	/* ready in this pass */
static unsigned		 nlisten, nlready;

static void
slot_del(unsigned slot)
{
	unsigned last = --npfd;

	if (pent[slot].type == PE_LISTENER) {
		free(pent[slot].p);
		nlisten--;
	}
	/* the hot part's last fills a hot hole, the array's last that */
	if (slot < nhot) {
		if (slot != --nhot)
			slot_move(slot, nhot);
		slot = nhot;
	}
	if (slot != last)
		slot_move(slot, last);
}

void
net_slot_del(unsigned slot)
{
	slot_del(slot);
}

void
net_slot_events(unsigned slot, short events)
{
	pfd[slot].events = events;
}

int
net_slot_add_listener(int fd, void (*ready)(int, void *), void *arg,
    unsigned *slot)
{
	struct lslot *ls, **nr;

	if ((nr = realloc(lready, (nlisten + 1) * sizeof(*nr))) == NULL)
		return -1;
	lready = nr;
	if ((ls = malloc(sizeof(*ls))) == NULL)
		return -1;
	ls->ready = ready;
	ls->arg = arg;
	ls->slotp = slot;
	if (slot_add(fd, POLLIN, PE_LISTENER, ls, slot) == -1) {
		free(ls);
		return -1;
	}
	nlisten++;
	return 0;
}

int
net_set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl == -1 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return -1;
	return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

int
net_add_fd(int fd, void (*cb)(int, void *), void *arg)
{
	struct lslot *f;
	unsigned slot;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	f->ready = cb;
	f->arg = arg;
	if (slot_add(fd, POLLIN, PE_FD, f, &slot) == -1) {
		free(f);
		return -1;
	}
	return 0;
}

/* The slot that takes this one's place was dispatched already (net_poll
 * goes from the end). */
void
net_del_fd(int fd)
{
	unsigned i;

	for (i = 0; i < npfd; i++)
		if (pent[i].type == PE_FD && pfd[i].fd == fd) {
			free(pent[i].p);
			slot_del(i);
			return;
		}
}

/*
 * ---- per-IP counts: max-per-ip ----
 * Keyed by net_addr_key, so cidr-len groups them. An entry lives exactly
 * as long as a connection holds it, so none is ever evicted and memory
 * is bounded by the connections. A connection keeps the entry it took:
 * a rehash that changes cidr-len applies to new connections.
 */

static struct ipcount *
ip_get(const char *ip, bool create)
{
	size_t h = 5381;
	const char *s;
	struct ipcount *e;

	for (s = ip; *s != '\0'; s++)
		h = h * 33 + (unsigned char)*s;
	h %= IPTAB_SIZE;
	for (e = iptab[h]; e != NULL; e = e->next)
		if (strcmp(e->ip, ip) == 0)
			return e;
	if (!create || (e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	snprintf(e->ip, sizeof(e->ip), "%s", ip);
	e->next = iptab[h];
	iptab[h] = e;
	return e;
}

static void
ip_put(struct ipcount *e)
{
	struct ipcount **pp;
	size_t h = 5381;
	const char *s;

	if (--e->n > 0)
		return;
	for (s = e->ip; *s != '\0'; s++)
		h = h * 33 + (unsigned char)*s;
	for (pp = &iptab[h % IPTAB_SIZE]; *pp != NULL; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			free(e);
			return;
		}
}

unsigned
net_ip_count(const char *key)
{
	struct ipcount *e = ip_get(key, false);

	return e != NULL ? e->n : 0;
}

const char *
net_sa_ntop(const struct sockaddr_storage *ss, char *buf, size_t sz)
{
	const void *a;

	if (ss->ss_family == AF_UNIX) {	/* a local client or gateway */
		snprintf(buf, sz, "127.0.0.1");
		return buf;
	}
	a = ss->ss_family == AF_INET6 ?
	    (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr :
	    (const void *)&((const struct sockaddr_in *)ss)->sin_addr;

	if (inet_ntop(ss->ss_family, a, buf, sz) == NULL)
		snprintf(buf, sz, "?");
	/* v4-mapped v6 addresses are shown as plain v4 */
	if (strncmp(buf, "::ffff:", 7) == 0 && strchr(buf + 7, '.') != NULL)
		memmove(buf, buf + 7, strlen(buf + 7) + 1);
	return buf;
}

/* Best-effort refusal line on a socket we will not keep. */
void
net_refuse(int fd, const char *msg)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "ERROR :%s\r\n", msg);

	if (n > 0 && write(fd, line, (size_t)n) < 0) {
		/* nothing to do: the socket is closed right after */
	}
	close(fd);
}

static void conn_read(struct conn *);
static void goneq_tell(void);

void
net_accepted(int fd, const char *ip, const char *key, struct tls_conn *tls,
    bool server, int step, bool ws)
{
	struct conn *c;

	if ((c = pool_alloc(&conn_pool)) == NULL ||
	    (c->ipc = ip_get(key, true)) == NULL) {
		log_warn("connect", "accept %s", ip);
		pool_free(&conn_pool, c);
		tls_conn_free(tls);
		net_refuse(fd, "Server out of memory");
		return;
	}
	snprintf(c->ip, sizeof(c->ip), "%s", ip);
	c->ipc->n++;
	if (slot_add(fd, POLLIN, PE_CONN, c, &c->slot) == -1) {
		ip_put(c->ipc);
		pool_free(&conn_pool, c);
		tls_conn_free(tls);
		net_refuse(fd, "Server out of memory");
		return;
	}
	c->tls = tls;
	nconns++;
	if (server)
		c->flags |= CONN_SRV;
	if (step != -1) {
		if (pre_start(c, step, ws) == -1)
			conn_kill(c, "Out of memory");
		else
			conn_read(c);	/* the header may be in */
		return;
	}
	c->flags |= CONN_FRESH;
	if ((c->client = CONN_H(c)->open(c)) == NULL) {
		conn_kill(c, "Connection refused");
		return;
	}
	/* A client often sent NICK and USER before we got here: read them
	 * now, and its welcome leaves in this pass, not after another
	 * poll() over every connection. */
	conn_read(c);
}

/* ---- connections ---- */

void
goneq_add(struct conn *c)
{
	if (c->flags & CONN_GONEQ)
		return;
	c->flags |= CONN_GONEQ;
	c->goneq = goneq_head;
	goneq_head = c;
}

/* irc hears of the connections that died since it was last told. */
static void
goneq_tell(void)
{
	struct conn *c;

	for (c = goneq_head; c != NULL; c = c->goneq)
		if (c->client != NULL) {
			void *cl = c->client;

			c->client = NULL;
			CONN_H(c)->closed(cl, c->reason);
		}
}

/* The connection failed under us: irc is told at the end of the pass. */
void
conn_kill(struct conn *c, const char *reason)
{
	if (c->flags & (CONN_CLOSING | CONN_DEAD))
		return;
	c->flags |= CONN_DEAD;
	c->reason = reason;
	pfd[c->slot].events = 0;
	goneq_add(c);
}

/*
 * conn_kill for a TLS connection that the read or the write path found
 * over: if its handshake never finished, logged once with the reason
 * (a scan, plaintext, an old or TLS 1.3-only client), whichever path
 * finds it first.
 */
void
conn_kill_tls(struct conn *c, const char *why)
{
	if (!(c->flags & (CONN_CLOSING | CONN_DEAD)) &&
	    !tls_conn_shook(c->tls))
		log_info("tls", "handshake with %s failed: %s", c->ip, why);
	conn_kill(c, why);
}

/* conn_kill, with "ERROR :reason" written first: the client did this. */
void
conn_kill_error(struct conn *c, const char *reason)
{
	char line[128];
	int n;

	n = snprintf(line, sizeof(line), "ERROR :%s\r\n", reason);
	if (n > 0 && (size_t)n < sizeof(line))
		net_conn_send(c, line, (size_t)n);
	conn_kill(c, reason);
}

/* irc hears of c now: its address is final. */
void
conn_open(struct conn *c)
{
	pre_end(c);
	if (c->ws == NULL)
		c->flags |= CONN_FRESH;
	if ((c->client = CONN_H(c)->open(c)) == NULL)
		conn_kill(c, "Connection refused");
}

/*
 * c's address becomes ip (a PROXY header, WEBIRC): the per-IP count
 * moves to it. -1 if that address has max-per-ip connections already.
 */
int
conn_readdr(struct conn *c, const char *ip)
{
	char key[NET_ADDRKEY_LEN];
	struct ipcount *e;

	net_ip_key(ip, key, sizeof(key));
	e = ip_get(key, false);
	if (e != c->ipc && e != NULL && net_lim.max_per_ip &&
	    e->n >= net_lim.max_per_ip)
		return -1;
	if (e == NULL && (e = ip_get(key, true)) == NULL)
		return -1;
	e->n++;
	ip_put(c->ipc);
	c->ipc = e;
	snprintf(c->ip, sizeof(c->ip), "%s", ip);
	return 0;
}

void
net_conn_close(struct conn *c, const char *error)
{
	char line[IRC_LINE_MAX];
	int n;

	if (c->flags & (CONN_CLOSING | CONN_DEAD)) {
		c->client = NULL;
		return;
	}
	/* a begun handshake timed out; not a refusal at accept (D-line,
	 * throttle), which is logged where it is decided, or not per
	 * connection at all */
	if (c->tls != NULL && tls_conn_begun(c->tls) &&
	    !tls_conn_shook(c->tls))
		log_info("tls", "handshake with %s failed: %s", c->ip,
		    error != NULL ? error : "closed by the server");
	if (error != NULL) {
		/* A long reason (KILL) is cut, but the line keeps its CRLF. */
		n = snprintf(line, sizeof(line), "ERROR :%s", error);
		if (n > 0) {
			size_t len = (size_t)n < sizeof(line) - 2 ? (size_t)n :
			    sizeof(line) - 2;

			line[len++] = '\r';
			line[len++] = '\n';
			net_conn_send(c, line, len);
		}
	}
	if (c->ws != NULL && !ws_close_sent(c->ws)) {
		char f[127];

		conn_send_raw(c, f, ws_frame_close(f, 1000, ""));
		ws_set_close_sent(c->ws);
	}
	c->flags |= CONN_CLOSING;
	c->client = NULL;
	pfd[c->slot].events = 0;
	goneq_add(c);
}

void
net_conn_resume(struct conn *c)
{
	if (c->flags & (CONN_CLOSING | CONN_DEAD | CONN_RETRY))
		return;		/* a retry is resumed by its full poll */
	c->flags &= ~CONN_PAUSED;
	if (c->ilen > 0 && !(c->flags & CONN_INQ)) {
		c->flags |= CONN_INQ;
		c->inq = inq_head;
		inq_head = c;
	}
}

const char *
net_conn_ip(const struct conn *c)
{
	return c->ip;
}

int
net_conn_set_ip(struct conn *c, const char *ip)
{
	char buf[INET6_ADDRSTRLEN];

	/* "::ffff:192.0.2.7" is 192.0.2.7, as an accepted one would be */
	snprintf(buf, sizeof(buf), "%s", strncmp(ip, "::ffff:", 7) == 0 &&
	    strchr(ip + 7, '.') != NULL ? ip + 7 : ip);
	return conn_readdr(c, buf);
}

bool
net_conn_tls(const struct conn *c)
{
	return c->tls != NULL || (c->flags & CONN_PTLS);
}

const char *
net_conn_certfp(const struct conn *c)
{
	return c->tls != NULL ? tls_conn_certfp(c->tls) : NULL;
}

const char *
net_conn_peer_certfp(const struct conn *c)
{
	return c->tls != NULL && tls_conn_shook(c->tls) ?
	    tls_conn_certfp(c->tls) : NULL;
}

size_t
net_conn_sendq(const struct conn *c)
{
	return conn_pending(c);
}

unsigned
net_nconns(void)
{
	return nconns;
}

/* First CR or LF in buf[0..len): both end a line (RFC 1459 2.3). */
static char *
find_eol(char *buf, size_t len)
{
	char *lf = memchr(buf, '\n', len), *cr;

	cr = memchr(buf, '\r', lf ? (size_t)(lf - buf) : len);
	return cr ? cr : lf;
}

/*
 * A line past READQ_MAX with no end: the client is fed on no longer
 * (Ergo's readq). Like SendQ exceeded: ERROR, then irc hears of it.
 */
static void
conn_readq(struct conn *c)
{
	static const char err[] = "ERROR :Input line too long\r\n";

	if (c->flags & (CONN_CLOSING | CONN_DEAD))
		return;
	net_conn_send(c, err, sizeof(err) - 1);
	c->flags |= CONN_DEAD;
	c->reason = "Input line too long";
	pfd[c->slot].events = 0;
	goneq_add(c);
}

static uint64_t	 pass_t0_us;	/* when this pass's poll returned */

static uint64_t
mono_us(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Whether the pass has time for more lines of one connection. */
static bool
pass_young(void)
{
	return mono_us() - pass_t0_us < PASS_BUSY_US;
}

/*
 * Hands complete lines in buf to irc, as many as the pass allows (see
 * LINES_PER_PASS), stopping early if irc pauses. Returns the bytes
 * consumed. An overlong line is 417 once and skipped to its end; one past
 * READQ_MAX ends the client.
 */
static size_t
conn_lines(struct conn *c, char *buf, size_t len)
{
	size_t off = 0, n, maxlen;
	char *eol, saved;
	int lines = 0, rc;

	while (off < len && (lines < LINES_PER_PASS || ((c->flags & CONN_SRV) ?
	    lines < LINES_PER_PASS_SERVER : lines < LINES_PER_PASS_MAX &&
	    pass_young())) &&
	    !(c->flags & (CONN_PAUSED | CONN_CLOSING | CONN_DEAD))) {
		if ((eol = find_eol(buf + off, len - off)) == NULL)
			break;
		n = (size_t)(eol - (buf + off));
		if (c->flags & CONN_SKIP) {
			c->flags &= ~CONN_SKIP;
			if (c->skipped + n >= READQ_MAX) {
				conn_readq(c);
				return len;
			}
			c->skipped = 0;
			off += n + 1;
			continue;
		}
		if (n == 0) {		/* the LF of a CRLF, or an empty line */
			off++;
			continue;
		}
		saved = *eol;
		*eol = '\0';
		maxlen = buf[off] == '@' ? RECVQ_MAX - 1 : IRC_LINE_MAX - 2;
		lines++;
		if (n >= READQ_MAX) {
			conn_readq(c);
			return len;
		} else if (n > maxlen)
			CONN_H(c)->toolong(c->client);
		else if ((rc = CONN_H(c)->line(c->client, buf + off, n)) ==
		    NET_DEFER) {
			*eol = saved;	/* offered again after resume */
			c->flags |= CONN_PAUSED;
			break;
		} else if (rc == NET_STOP)
			c->flags |= CONN_PAUSED;
		off += n + 1;
	}
	/* A partial line that can never be valid: say so once, skip to EOL. */
	if (c->flags & (CONN_CLOSING | CONN_DEAD))
		return off;
	if (!(c->flags & CONN_SKIP) && len - off >= RECVQ_MAX &&
	    find_eol(buf + off, len - off) == NULL) {
		if (len - off >= READQ_MAX) {
			conn_readq(c);
			return len;
		}
		CONN_H(c)->toolong(c->client);
		c->flags |= CONN_SKIP;
		c->skipped = len - off;
		off = len;
	} else if ((c->flags & CONN_SKIP) && off < len &&
	    find_eol(buf + off, len - off) == NULL) {
		c->skipped += len - off;
		off = len;
		if (c->skipped >= READQ_MAX)
			conn_readq(c);
	}
	return off;
}

/* Keeps buf[off..len) as the connection's pending input. */
static void
conn_keep(struct conn *c, const char *buf, size_t off, size_t len)
{
	size_t rest = len - off;
	char *nb;

	if (rest == 0) {
		free(c->ibuf);
		c->ibuf = NULL;
		c->ilen = 0;
		return;
	}
	if (buf == c->ibuf) {
		memmove(c->ibuf, c->ibuf + off, rest);
		c->ilen = rest;
		return;
	}
	if ((nb = realloc(c->ibuf, rest)) == NULL) {
		conn_kill(c, "Out of memory");
		return;
	}
	memcpy(nb, buf + off, rest);
	c->ibuf = nb;
	c->ilen = rest;
}

static bool
has_line(const struct conn *c)
{
	return c->ilen > 0 && find_eol(c->ibuf, c->ilen) != NULL;
}

static void
conn_want_input(struct conn *c)
{
	if (c->flags & (CONN_CLOSING | CONN_DEAD))
		return;
	/*
	 * Lines still queued and not held by fakelag: stop reading until they
	 * are processed, so TCP pushes back instead of our memory growing.
	 * Held by fakelag: keep reading so an overflow is seen (Excess Flood).
	 */
	if (has_line(c) && !(c->flags & CONN_PAUSED)) {
		pfd[c->slot].events &= ~POLLIN;
		if (!(c->flags & CONN_INQ)) {
			c->flags |= CONN_INQ;
			c->inq = inq_head;
			inq_head = c;
		}
	} else
		pfd[c->slot].events |= POLLIN;
}

/*
 * read(2), or for TLS what the engine decrypted. -1 with errno EAGAIN
 * means nothing yet (a TLS record may be half in); 0 or -1 with *why set
 * means the connection is over.
 */
ssize_t
conn_recv_raw(struct conn *c, char *buf, size_t len, const char **why)
{
	ssize_t n;

	*why = NULL;
	if (c->tls == NULL)
		return recv(CONN_FD(c), buf, len, 0);
	n = tls_conn_read(c->tls, CONN_FD(c), buf, len, why);
	/* The engine may owe the client handshake records, or may just
	 * have become able to take the output queued before it was. */
	if (!(c->flags & CONN_OUTQ) && (tls_conn_want_write(c->tls) ||
	    (conn_pending(c) > 0 && tls_conn_ready(c->tls)))) {
		c->flags |= CONN_OUTQ;
		c->outq = outq_head;
		outq_head = c;
		noutq++;
	}
	if (n == 0) {
		errno = EAGAIN;
		return -1;
	}
	if (n == -1 && *why == NULL)
		*why = "Read error";
	return n;
}

static void
ws_send_cb(void *arg, const char *frame, size_t len)
{
	conn_send_raw(arg, frame, len);
}

/*
 * Frames in[0..len) into out (len + 1 bytes): the lines they carry.
 * -1: the connection is over (its close frame queued, c killed).
 */
ssize_t
conn_ws_input(struct conn *c, const char *in, size_t len, char *out)
{
	const char *why;
	long n;

	n = ws_decode(c->ws, (const unsigned char *)in, len, out,
	    RECVQ_MAX - 1, ws_send_cb, c, &why);
	if (n < 0) {
		log_debug("connect", "%s: %s", c->ip, why);
		conn_kill(c, why);
		return -1;
	}
	return n;
}

/*
 * What conn_read reads: conn_recv_raw's bytes, or for a WebSocket the
 * lines its frames carry (buf needs len + 1 bytes then).
 */
static ssize_t
conn_recv(struct conn *c, char *buf, size_t len, const char **why)
{
	static char raw[READ_CHUNK];
	ssize_t n;

	if (c->ws == NULL)
		return conn_recv_raw(c, buf, len, why);
	n = conn_recv_raw(c, raw, len < sizeof(raw) ? len : sizeof(raw), why);
	if (n <= 0)
		return n;
	if ((n = conn_ws_input(c, raw, (size_t)n, buf)) < 0) {
		*why = c->reason;
		return -1;
	}
	if (n == 0) {
		errno = EAGAIN;
		return -1;
	}
	return n;
}

static void
conn_read(struct conn *c)
{
	size_t have = 0, off;
	ssize_t n;
	char *buf = rbuf;
	const char *why;

	while (c->pre != NULL) {
		int step = c->pre->step;

		if (step == PRE_WS)
			pre_ws(c);
		else
			pre_proxy(c);
		if (c->flags & (CONN_CLOSING | CONN_DEAD))
			return;
		if (c->pre != NULL && c->pre->step == step)
			return;		/* more to come */
	}
	/*
	 * Fakelag holds its lines, or has just released a backlog larger
	 * than the scratch buffer's room for leftovers: queue behind them,
	 * bounded by max-recvq; process_inq works through them.
	 */
	if ((c->flags & CONN_PAUSED) || c->ilen > sizeof(rbuf) - READ_CHUNK) {
		/* rbuf is free here: a whole TLS record always fits. */
		char *tmp = rbuf, *nb;

		n = conn_recv(c, tmp, READ_CHUNK, &why);
		if (n > 0) {
			if (c->ilen + (size_t)n > net_lim.max_recvq) {
				conn_kill_error(c, "Excess Flood");
				return;
			}
			if ((nb = realloc(c->ibuf, c->ilen + (size_t)n)) ==
			    NULL) {
				conn_kill(c, "Out of memory");
				return;
			}
			memcpy(nb + c->ilen, tmp, (size_t)n);
			c->ibuf = nb;
			c->ilen += (size_t)n;
			if (!(c->flags & CONN_PAUSED))
				net_conn_resume(c);	/* onto the input list */
			conn_want_input(c);
			return;
		}
	} else {
		if (c->ilen > 0) {
			have = c->ilen;
			memcpy(rbuf, c->ibuf, have);
		}
		n = conn_recv(c, rbuf + have, READ_CHUNK, &why);
		if (n > 0 && (c->flags & CONN_FRESH)) {
			c->flags &= ~CONN_FRESH;
			if (conn_proxy_refused(c, rbuf + have, (size_t)n))
				return;
		}
		if (n > 0) {
			have += (size_t)n;
			off = conn_lines(c, buf, have);
			/* Held back by fakelag beyond the cap: same as above. */
			if ((c->flags & CONN_PAUSED) &&
			    have - off > net_lim.max_recvq) {
				conn_kill_error(c, "Excess Flood");
				return;
			}
			conn_keep(c, buf, off, have);
			conn_want_input(c);
			return;
		}
	}
	if (why != NULL) {
		if (c->tls != NULL)
			conn_kill_tls(c, why);
		else
			conn_kill(c, why);
	} else if (n == 0)
		conn_kill(c, "Connection closed");
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		conn_kill(c, errno == ECONNRESET ? "Connection reset by peer" :
		    "Read error");
}

/* Lines left over from an earlier pass (LINES_PER_PASS or fakelag). */
static void
process_inq(void)
{
	struct conn *c, *list = inq_head;
	size_t off;

	inq_head = NULL;
	while ((c = list) != NULL) {
		list = c->inq;
		c->flags &= ~CONN_INQ;
		if (c->flags & (CONN_CLOSING | CONN_DEAD | CONN_PAUSED) ||
		    c->ilen == 0)
			continue;
		off = conn_lines(c, c->ibuf, c->ilen);
		conn_keep(c, c->ibuf, off, c->ilen);
		conn_want_input(c);
	}
}

/*
 * An outgoing connection (net_connect) finished connect(2): it becomes
 * like any other, or dies with the reason (irc told as usual).
 */
static void
conn_connected(struct conn *c)
{
	int err = 0;
	socklen_t el = sizeof(err);

	if (getsockopt(CONN_FD(c), SOL_SOCKET, SO_ERROR, &err, &el) == -1)
		err = errno;
	if (err == EINPROGRESS || err == EALREADY)
		return;
	if (err != 0) {
		log_info("connect", "connecting to %s: %s", c->ip,
		    strerror(err));
		conn_kill(c, err == ECONNREFUSED ? "Connection refused" :
		    err == ETIMEDOUT ? "Connection timed out" :
		    "Connection failed");
		return;
	}
	c->flags &= ~CONN_CONNECTING;
	pfd[c->slot].events = POLLIN;
	/* a TLS link's ClientHello waits in the engine */
	if ((conn_pending(c) > 0 || (c->tls != NULL &&
	    tls_conn_want_write(c->tls))) && !(c->flags & CONN_OUTQ)) {
		c->flags |= CONN_OUTQ;
		c->outq = outq_head;
		outq_head = c;
		noutq++;
	}
}

/* Our certificate for TLS links we open (net_listen.c picks it), held. */
static struct tls_cred	*link_cred_held;

void
net_set_link_cred(struct tls_cred *cr)
{
	if (cr != NULL)
		tls_cred_ref(cr);
	tls_cred_unref(link_cred_held);
	link_cred_held = cr;
}

struct conn *
net_connect(const char *host, unsigned port, bool tls, void *handle)
{
	struct addrinfo hints, *res;
	struct conn *c;
	char ps[8], key[NET_ADDRKEY_LEN];
	int fd, one = 1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(ps, sizeof(ps), "%u", port);
	if (getaddrinfo(host, ps, &hints, &res) != 0) {
		log_warnx("connect", "connect to %s: not a numeric address",
		    host);
		return NULL;
	}
	if ((fd = socket(res->ai_family, SOCK_STREAM, 0)) == -1 ||
	    net_set_nonblock(fd) == -1) {
		log_warn("connect", "connect to %s port %u", host, port);
		if (fd != -1)
			close(fd);
		freeaddrinfo(res);
		return NULL;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, res->ai_addr, res->ai_addrlen) == -1 &&
	    errno != EINPROGRESS) {
		log_warn("connect", "connect to %s port %u", host, port);
		close(fd);
		freeaddrinfo(res);
		return NULL;
	}
	net_addr_key(res->ai_addr, 128, 128, key, sizeof(key));
	freeaddrinfo(res);
	if ((c = pool_alloc(&conn_pool)) == NULL ||
	    (c->ipc = ip_get(key, true)) == NULL) {
		log_warn("connect", "connect to %s", host);
		pool_free(&conn_pool, c);
		close(fd);
		return NULL;
	}
	if (tls) {
		struct tls_cred *cr = link_cred_held;
		char err[128];

		if (cr == NULL)
			log_warnx("link", "TLS link to %s: no TLS listener, so "
			    "no certificate of ours to show", host);
		if ((c->tls = tls_conn_new_client(cr, err, sizeof(err))) ==
		    NULL) {
			log_warnx("link", "TLS link to %s: %s", host, err);
			c->ipc->n++;	/* ip_put's count */
			ip_put(c->ipc);
			pool_free(&conn_pool, c);
			close(fd);
			return NULL;
		}
	}
	c->ipc->n++;
	snprintf(c->ip, sizeof(c->ip), "%s", host);
	c->flags = CONN_CONNECTING | CONN_SRV;
	c->client = handle;
	if (slot_add(fd, POLLOUT, PE_CONN, c, &c->slot) == -1) {
		ip_put(c->ipc);
		tls_conn_free(c->tls);
		pool_free(&conn_pool, c);
		close(fd);
		return NULL;
	}
	nconns++;
	return c;
}

void
net_conn_set_sendq(struct conn *c, size_t max)
{
	c->sendq = (uint32_t)max;	/* at most 1 GiB (conf.c) */
	if (max != 0)
		c->flags |= CONN_OWNLINE;
}

/*
 * A poll over every slot found quiet ones ready: they join the hot part
 * before poll_once's walk, which must not see slots move.
 */
static void
slots_heat_ready(int rc)
{
	unsigned i;

	for (i = 0; i < nhot; i++)
		if (pfd[i].revents != 0)
			rc--;
	for (i = nhot; rc > 0 && i < npfd; i++)
		if (pfd[i].revents != 0) {
			slot_heat(i);
			rc--;
		}
}

/* Connections not ready for HOT_POLLS polls nor waiting to write cool. */
static void
slots_cool(void)
{
	unsigned i;

	if (npfd < HOT_MIN) {
		nhot = npfd;
		return;
	}
	for (i = nhot; i-- > 0;)
		if (pent[i].type == PE_CONN &&
		    pollseq - pent[i].act > HOT_POLLS &&
		    !(pfd[i].events & POLLOUT) && i != --nhot)
			slot_swap(i, nhot);
}

/* The retries of the passes before this one, after its ends were told. */
static void
retry_resume(struct conn *list)
{
	struct conn *c;

	if (list == NULL)
		return;
	goneq_tell();
	while ((c = list) != NULL) {
		list = c->inq;
		c->inq = NULL;
		c->flags &= ~CONN_RETRY;
		net_conn_resume(c);
	}
}

/*
 * One poll(2) over every slot (all) or the hot part, and its events;
 * poll's count, -1 if it failed.
 */
static int
poll_once(bool all, int timeout_ms)
{
	struct conn *retry = NULL;
	unsigned i, n = all ? npfd : nhot;
	int rc, ready;

	if (all) {
		retry = retry_head;
		retry_head = NULL;	/* deferred in this pass: the next */
	}
	pollseq++;
	if ((rc = poll(pfd, n, timeout_ms)) == -1) {
		retry_head = retry;
		if (errno != EINTR)
			log_warn("server", "poll");
		return -1;
	}
	ergo_clock();
	pass_t0_us = mono_us();
	if (all) {
		full_due_us = pass_t0_us + (uint64_t)npfd * FULL_GAP_NS / 1000;
		if (rc > 0 && nhot < npfd)
			slots_heat_ready(rc);
		n = nhot;	/* every ready slot is hot now */
	}
	in_dispatch = true;
	for (i = n, ready = rc; ready > 0 && i-- > 0;) {
		short re;

		if (i >= npfd || (re = pfd[i].revents) == 0)
			continue;
		pfd[i].revents = 0;
		pent[i].act = pollseq;
		ready--;
		switch (pent[i].type) {
		case PE_LISTENER:
			lready[nlready++] = pent[i].p;
			break;
		case PE_FD: {
			struct lslot *f = pent[i].p;

			f->ready(pfd[i].fd, f->arg);
			break;
		}
		case PE_CONN: {
			struct conn *c = pent[i].p;

			if (c->flags & (CONN_CLOSING | CONN_DEAD))
				break;
			if (c->flags & CONN_CONNECTING) {
				conn_connected(c);
				break;
			}
			if (re & (POLLIN | POLLHUP | POLLERR))
				conn_read(c);
			if ((re & POLLOUT) && !(c->flags & CONN_OUTQ) &&
			    (conn_pending(c) > 0 || (c->tls != NULL &&
			    tls_conn_want_write(c->tls)))) {
				c->flags |= CONN_OUTQ;
				c->outq = outq_head;
				outq_head = c;
				noutq++;
			}
			break;
		}
		}
	}
	in_dispatch = false;
	/*
	 * New connections last: a client that closed and at once reconnects
	 * (a bouncer on the same host) has its old connection's end seen, and
	 * irc told so its nick is free, before the new one's NICK is read.
	 */
	if (nlready > 0) {
		goneq_tell();
		for (i = 0; i < nlready; i++)
			lready[i]->ready(pfd[*lready[i]->slotp].fd,
			    lready[i]->arg);
		nlready = 0;
	}
	retry_resume(retry);
	process_inq();
	slots_cool();
	return rc;
}

/*
 * Most of a busy pass goes to send(2), a fixed cost per write however
 * few lines it carries. The first event of a pass wakes us, so a pass
 * often holds the input of one or two senders; one more poll, without
 * waiting, takes what arrived since then into the same writes. It scans
 * the slots again, so only when that is small next to the writes
 * it can save: at least one connection in OUTQ_PER_REPOLL has output.
 */
#define OUTQ_PER_REPOLL	64

void
net_poll(int timeout_ms)
{
	uint64_t now;
	bool all = true;
	int left, rc;

	if (inq_head != NULL || goneq_head != NULL)
		timeout_ms = 0;
	/* the hot part until the gap ends (a retry waits for a full poll) */
	if (npfd >= HOT_MIN && retry_head == NULL &&
	    (now = mono_us()) < full_due_us) {
		left = (int)((full_due_us - now + 999) / 1000);
		if (timeout_ms >= 0 && timeout_ms <= left) {
			rc = poll_once(false, timeout_ms);
			all = false;
		} else if ((rc = poll_once(false, left)) != 0)
			all = false;
		else if (timeout_ms > 0)
			timeout_ms -= left;
	}
	if (all)
		rc = poll_once(true, timeout_ms);
	if (rc >= 0 && noutq > 0 &&
	    noutq * OUTQ_PER_REPOLL >= (all ? npfd : nhot))
		(void)poll_once(all, 0);
}

/*
 * Whether c's socket holds input or its end that net has not read yet:
 * a poll() of it alone, without waiting.
 */
bool
net_conn_unread(const struct conn *c)
{
	struct pollfd p;

	if (c->flags & (CONN_CLOSING | CONN_DEAD | CONN_CONNECTING))
		return false;
	p.fd = CONN_FD(c);
	p.events = POLLIN;
	p.revents = 0;
	return poll(&p, 1, 0) == 1;
}

/*
 * The line irc is about to answer NET_DEFER to is offered again after
 * the next poll over every slot, once per connection (false if it was
 * already: answer it now). A registering NICK that a client holds whose
 * socket has unread input, perhaps its end, waits for it: a bouncer that
 * closes and at once reconnects gets its nick back though its old, quiet
 * connection was outside the hot part when the new one came.
 */
bool
net_conn_retry(struct conn *c)
{
	if (c->flags & (CONN_RETRIED | CONN_CLOSING | CONN_DEAD | CONN_INQ))
		return false;
	c->flags |= CONN_RETRY | CONN_RETRIED;
	c->inq = retry_head;
	retry_head = c;
	return true;
}

static void
conn_free(struct conn *c)
{
	int fd = CONN_FD(c);	/* the slot goes first */
	struct conn **pp;

	if (c->flags & CONN_RETRY)	/* gone before its retry */
		for (pp = &retry_head; *pp != NULL; pp = &(*pp)->inq)
			if (*pp == c) {
				*pp = c->inq;
				break;
			}

	if (c->tls != NULL) {
		tls_conn_close(c->tls, fd);	/* close_notify, best effort */
		tls_conn_free(c->tls);
	}
	pre_end(c);
	ws_free(c->ws);
	slot_del(c->slot);
	close(fd);
	ip_put(c->ipc);
	free(c->ibuf);
	obuf_release(c);
	pool_free(&conn_pool, c);
	nconns--;
}

void
net_flush(void)
{
	struct conn *c, *list;

	if (++flush_pass == 0)
		flush_pass = 1;
	/* Tell irc first: the QUITs it sends are flushed below. */
	goneq_tell();
	list = outq_head;
	outq_head = NULL;
	noutq = 0;
	while ((c = list) != NULL) {
		list = c->outq;
		/*
		 * The next connection and its queue, asked for while this one's
		 * send(2) runs: the list visits hundreds of connections a pass,
		 * each two cache misses otherwise. list was fetched a step ago.
		 */
		if (list != NULL) {
			PREFETCH(list->out);
			PREFETCH(list->outq);
		}
		c->flags &= ~CONN_OUTQ;
		conn_write(c);
		/* a quiet slot waiting to write is polled in every pass */
		if (c->slot >= nhot && (pfd[c->slot].events & POLLOUT))
			slot_heat(c->slot);
	}
	list = goneq_head;
	goneq_head = NULL;
	while ((c = list) != NULL) {
		list = c->goneq;
		if (c->client != NULL) {
			/* Died writing, after irc was told of the others:
			 * irc hears of it (and its QUIT goes out) next pass. */
			c->goneq = goneq_head;
			goneq_head = c;
			continue;
		}
		conn_free(c);
	}
}

void
net_conn_tick(void)
{
	kept_sweep();
	pre_sweep();
	tls_conn_sweep(net_lim.tls_idle);
}

void
net_conn_close_all(const char *line)
{
	unsigned i;

	for (i = 0; i < npfd; i++)
		if (pent[i].type == PE_CONN)
			net_conn_close(pent[i].p, line);
	net_flush();
}

void
net_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("server", "setrlimit(RLIMIT_NOFILE)");
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	log_info("server", "file descriptor limit %llu: room for about %llu "
	    "clients", (unsigned long long)rl.rlim_cur,
	    (unsigned long long)(rl.rlim_cur > 16 ? rl.rlim_cur - 16 : 0));
}

void
net_init(const struct net_handlers *h, const struct net_handlers *servers)
{
	up = h;
	srv = servers;
	memset(iptab, 0, sizeof(iptab));
}
