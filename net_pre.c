/*
 * net_pre.c: a connection before irc hears of it: its PROXY header read
 * from the socket (net_proxy.c parses it), then its WebSocket upgrade
 * (net_ws.c answers it), each with a deadline; and the refusal of a
 * PROXY header from an address that may not send one. It reads only
 * what comes before the first line; net.c owns the socket and the rest.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ergo.h"
#include "net.h"
#include "net_conn.h"
#include "net_int.h"
#include "log.h"
#include "util.h"
#include "net_proxy.h"
#include "net_ws.h"

/* ---- before irc hears of a connection: the PROXY header ---- */

static struct conn	*pre_head;

int
pre_start(struct conn *c, int step, bool ws)
{
	struct conn_pre *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -1;
	p->step = step;
	p->ws = ws;
	p->deadline = ergo_now + (time_t)net_lim.reg_timeout;
	p->next = pre_head;
	if (pre_head != NULL)
		pre_head->pre->prev = c;
	pre_head = c;
	c->pre = p;
	return 0;
}

void
pre_end(struct conn *c)
{
	struct conn_pre *p = c->pre;

	if (p == NULL)
		return;
	if (p->prev != NULL)
		p->prev->pre->next = p->next;
	else
		pre_head = p->next;
	if (p->next != NULL)
		p->next->pre->prev = p->prev;
	free(p->req);
	free(p->buf);
	free(p);
	c->pre = NULL;
}

/* Refused before irc knew of it: logged, ERROR if plain text, closed. */
static void
pre_refuse(struct conn *c, const char *why, const char *error)
{
	log_info("connect", "refused %s: %s", c->ip, why);
	/* what was only peeked, taken: unread input would turn our close
	 * into a reset that can discard the ERROR before it is read */
	if (c->tls == NULL) {
		if (recv(CONN_FD(c), rbuf, READ_CHUNK, 0) < 0) {
			/* nothing was left: fine */
		}
		conn_kill_error(c, error);
	} else
		conn_kill(c, why);
}

/*
 * Reads the PROXY header straight from the socket (a TLS client's
 * records come after it): what is peeked is taken only up to the
 * header's end, the rest left for the TLS engine or the line reader.
 */
void
pre_proxy(struct conn *c)
{
	struct conn_pre *p = c->pre;
	unsigned char buf[PROXY_HDR_MAX], *nb;
	struct proxy_hdr h;
	const char *why;
	char ip[INET6_ADDRSTRLEN];
	ssize_t n;
	size_t take;
	int rc;

	if (p->len > 0)
		memcpy(buf, p->buf, p->len);
	n = recv(CONN_FD(c), buf + p->len, sizeof(buf) - p->len, MSG_PEEK);
	if (n == 0) {
		conn_kill(c, "Connection closed");
		return;
	}
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			conn_kill(c, "Read error");
		return;
	}
	rc = proxy_parse(buf, p->len + (size_t)n, &h, &why);
	if (rc == PROXY_NONE && p->step == PRE_PROXY_OPT && (p->len == 0 ||
	    c->tls == NULL)) {
		/* an ordinary client from that address; what looked like
		 * the start of a header ("PR") is its first line's */
		if (p->len > 0) {
			if ((c->ibuf = malloc(p->len)) == NULL) {
				conn_kill(c, "Out of memory");
				return;
			}
			memcpy(c->ibuf, p->buf, p->len);
			c->ilen = p->len;
		}
		conn_open(c);
		return;
	}
	if (rc == PROXY_NONE || rc == PROXY_BAD) {
		pre_refuse(c, why != NULL ? why : "no PROXY header",
		    "Bad PROXY header");
		return;
	}
	/* all of it is header, or the header ends within it */
	take = rc == PROXY_MORE ? (size_t)n : (size_t)rc - p->len;
	if ((nb = realloc(p->buf, p->len + take)) == NULL) {
		conn_kill(c, "Out of memory");
		return;
	}
	p->buf = nb;
	if ((n = recv(CONN_FD(c), p->buf + p->len, take, 0)) <= 0) {
		conn_kill(c, "Read error");
		return;
	}
	p->len += (size_t)n;
	if (rc == PROXY_MORE || (size_t)n < take)
		return;
	if (h.src.ss_family != AF_UNSPEC) {
		net_sa_ntop(&h.src, ip, sizeof(ip));
		if (conn_readdr(c, ip) == -1) {
			log_info("connect", "refused %s (through %s): too "
			    "many connections from it", ip, c->ip);
			conn_kill_error(c, "Too many connections from your IP");
			return;
		}
	}
	if (h.tls)
		c->flags |= CONN_PTLS;
	if (p->ws) {
		p->len = 0;
		p->step = PRE_WS;	/* the upgrade comes next */
		return;
	}
	conn_open(c);
}

/*
 * The WebSocket upgrade: the HTTP request is gathered (bounded by
 * WS_REQ_MAX) and answered; an error answer ends the connection. Bytes
 * a client sent after its request, without waiting, are frames.
 */
void
pre_ws(struct conn *c)
{
	struct conn_pre *p = c->pre;
	char resp[WS_RESP_MAX], *nr;
	const char *why;
	bool binary;
	ssize_t n;
	int rc;

	n = conn_recv_raw(c, rbuf, READ_CHUNK, &why);
	if (n <= 0) {
		if (why != NULL)
			conn_kill(c, why);
		else if (n == 0)
			conn_kill(c, "Connection closed");
		else if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			conn_kill(c, "Read error");
		return;
	}
	if (p->reqlen + (size_t)n > WS_REQ_MAX + READ_CHUNK ||
	    (nr = realloc(p->req, p->reqlen + (size_t)n)) == NULL) {
		conn_kill(c, "Out of memory");
		return;
	}
	memcpy(nr + p->reqlen, rbuf, (size_t)n);
	p->req = nr;
	p->reqlen += (size_t)n;
	rc = ws_handshake(p->req, p->reqlen > WS_REQ_MAX ? WS_REQ_MAX :
	    p->reqlen, net_lim.ws_origins, resp, sizeof(resp), &binary, &why);
	if (rc == 0)
		return;
	conn_send_raw(c, resp, strlen(resp));
	if (rc < 0) {
		log_info("connect", "refused %s: WebSocket upgrade: %s", c->ip,
		    why);
		conn_kill(c, why);
		return;
	}
	c->flags |= CONN_OWNLINE;
	if ((c->ws = ws_new(binary)) == NULL) {
		conn_kill(c, "Out of memory");
		return;
	}
	if (p->reqlen > (size_t)rc) {
		/* frames right behind the request: decoded into ibuf */
		size_t extra = p->reqlen - (size_t)rc;

		if ((c->ibuf = malloc(extra + 1)) == NULL) {
			conn_kill(c, "Out of memory");
			return;
		}
		if ((n = conn_ws_input(c, p->req + rc, extra, c->ibuf)) < 0)
			return;
		c->ilen = (size_t)n;
		if (n == 0) {
			free(c->ibuf);
			c->ibuf = NULL;
		}
	}
	conn_open(c);
	if (c->ilen > 0)
		net_conn_resume(c);	/* onto the input list */
}

/* Once a second: connections whose header is overdue. */
void
pre_sweep(void)
{
	struct conn *c, *next;

	for (c = pre_head; c != NULL; c = next) {
		next = c->pre->next;
		if (ergo_now < c->pre->deadline ||
		    (c->flags & (CONN_CLOSING | CONN_DEAD)))
			continue;
		if (c->pre->step == PRE_PROXY_OPT)	/* a silent client */
			conn_kill_error(c, "Registration timed out");
		else if (c->pre->step == PRE_WS) {
			log_info("connect", "refused %s: no WebSocket upgrade "
			    "in time", c->ip);
			conn_kill(c, "Registration timed out");
		}
		else
			pre_refuse(c, "no PROXY header in time",
			    "Registration timed out");
	}
}

/*
 * The first bytes of an ordinary connection: a PROXY header from an
 * address proxy-allowed-from does not list is refused, and logged.
 */
bool
conn_proxy_refused(struct conn *c, const char *buf, size_t len)
{
	static const char v2sig[] = "\r\n\r\n\0\r\nQUIT\n";

	if ((len >= 6 && memcmp(buf, "PROXY ", 6) == 0) ||
	    (len >= 12 && memcmp(buf, v2sig, 12) == 0)) {
		log_info("connect", "refused %s: a PROXY header, and the "
		    "address is not in proxy-allowed-from", c->ip);
		conn_kill_error(c, "Your address may not send a PROXY header");
		return true;
	}
	return false;
}
