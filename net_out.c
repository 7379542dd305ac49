/*
 * net_out.c: the output queue of every connection: shared lines queued
 * by reference, each connection's own bytes, the kept empty buffers,
 * max-sendq, WebSocket framing of output, and the writes (plain, TLS,
 * gathered). It never reads, accepts or closes a socket (net.c does).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ergo.h"
#include "net.h"
#include "net_conn.h"
#include "net_int.h"
#include "util.h"
#include "net_tls.h"
#include "net_ws.h"

/*
 * An output buffer that empties is kept until the next once-a-second
 * sweep finds it still empty and unused: a busy client no longer pays a
 * malloc and a chain of reallocs every loop pass (half the instructions
 * of a channel fan-out in bench/profile.sh), and a client idle for a
 * second or two still holds no output memory. Only buffers up to
 * OBUF_KEEP_MAX are kept; a larger one (a burst) is freed at once. The
 * cap is above what a busy channel member gathers in one pass (a few
 * hundred lines when the socket took only part of the last write):
 * at 16 KiB such buffers were freed and regrown by doubling every few
 * passes, and those realloc copies were a third of a fan-out's
 * instructions. max-sendq still bounds every buffer.
 */
#define OBUF_KEEP_MAX	65536
static struct conn	*kept_head;	/* conns holding an empty buffer */

static void
kept_unlink(struct conn *c)
{
	struct cout *o;

	if (!(c->flags & CONN_KEPT))
		return;
	o = c->out;		/* kept: it has one */
	if (o->kprev != NULL)
		o->kprev->out->knext = o->knext;
	else
		kept_head = o->knext;
	if (o->knext != NULL)
		o->knext->out->kprev = o->kprev;
	o->kprev = o->knext = NULL;
	c->flags &= ~CONN_KEPT;
}

/* Drops every queued segment (the connection's output is discarded). */
static void
oq_clear(struct conn *c)
{
	struct cout *q = c->out;

	if (q == NULL)
		return;
	while (q->n > 0) {
		net_line_unref(q->seg[q->head].l);
		q->head = (q->head + 1) & (q->cap - 1);
		q->n--;
	}
	q->head = 0;
	q->off = q->bytes = 0;
}

/* c's output part, made if needed; NULL if out of memory. */
static struct cout *
out_get(struct conn *c)
{
	if (c->out == NULL)
		c->out = calloc(1, sizeof(*c->out));
	return c->out;
}

/* Appends a segment; false if out of memory. The part may move. */
static bool
oq_push(struct conn *c, struct net_line *l, size_t len)
{
	struct cout *q = c->out;
	unsigned ncap;

	if (q != NULL && q->n > 0) {
		struct oseg *t = &q->seg[(q->head + q->n - 1) & (q->cap - 1)];

		if (l == NULL && t->l == NULL) {	/* more of obuf */
			t->len += len;
			return true;
		}
	}
	if (q == NULL || q->n == q->cap) {
		ncap = q != NULL && q->cap > 0 ? q->cap * 2 : 16;
		if ((q = realloc(q, sizeof(*q) + ncap * sizeof(q->seg[0]))) ==
		    NULL)
			return false;
		if (c->out == NULL)
			memset(q, 0, sizeof(*q));
		else if (q->n > 0 && q->head + q->n > q->cap)	/* unwrapped */
			memcpy(&q->seg[q->cap], &q->seg[0],
			    (q->head + q->n - q->cap) * sizeof(q->seg[0]));
		q->cap = ncap;
		c->out = q;	/* the kept list links conns: nothing to fix */
	}
	q->seg[(q->head + q->n++) & (q->cap - 1)] = (struct oseg){ l, len };
	if (l != NULL) {
		l->refs++;
		q->bytes += len;
	}
	return true;
}

void
obuf_release(struct conn *c)
{
	kept_unlink(c);
	if (c->out == NULL)
		return;
	oq_clear(c);
	free(c->out->obuf);
	free(c->out);
	c->out = NULL;
}

/*
 * All output written: keep the buffer for now (see above), or free it.
 * Only a connection whose output also emptied a moment ago (within the
 * last second or the last OBUF_KEEP_PASSES loop passes) keeps it: a
 * welcome burst, or the odd reply to an idle client, frees its buffer
 * at once as before, so thousands of clients registering together do
 * not each hold one until the sweep (that fragmented the heap: 1.2 KB
 * of RSS per idle client at 10,000 instead of 0.8).
 */
#define OBUF_KEEP_PASSES	16
#define OQ_KEEP_MAX		4096	/* segments: 64 KiB, like obuf */
uint32_t		 flush_pass = 1;	/* net_flush calls, from 1 */

static void
obuf_emptied(struct conn *c)
{
	uint32_t now = (uint32_t)ergo_now_ms, ms = c->oempty_ms, pass;
	unsigned before = c->flags & CONN_EMPTIED;
	struct cout *o = c->out;

	c->oempty_ms = now;
	c->flags |= CONN_EMPTIED;
	if (o == NULL)
		return;
	/* the pass of the last emptying is known while the part lasted */
	pass = o->oempty_pass;
	o->oempty_pass = flush_pass;
	o->olen = o->ooff = 0;
	if (o->ocap > OBUF_KEEP_MAX || o->cap > OQ_KEEP_MAX ||
	    (c->flags & (CONN_CLOSING | CONN_DEAD)) || !before ||
	    (now - ms > 1000 && (pass == 0 ||
	    flush_pass - pass > OBUF_KEEP_PASSES))) {
		obuf_release(c);
		return;
	}
	if (!(c->flags & CONN_KEPT)) {
		c->flags |= CONN_KEPT;
		o->kprev = NULL;
		o->knext = kept_head;
		if (kept_head != NULL)
			kept_head->out->kprev = c;
		kept_head = c;
	}
}

/* Once a second: free the kept buffers nobody wrote to since last time. */
void
kept_sweep(void)
{
	struct conn *c, *next;

	for (c = kept_head; c != NULL; c = next) {
		next = c->out->knext;
		if (conn_pending(c) == 0 && !(c->flags & CONN_OUSED))
			obuf_release(c);
		else
			c->flags &= ~CONN_OUSED;
	}
}

/*
 * Makes room for len more bytes of output: 0, or -1 with c killed.
 * Apart from net_conn_send, which runs once per recipient of every line
 * and so stays small (this is its rare case).
 */
static __attribute__((noinline)) int
obuf_room(struct conn *c, size_t len)
{
	struct cout *o;
	size_t ncap;
	char *nb;

	if ((o = out_get(c)) == NULL) {
		conn_kill(c, "Out of memory");
		return -1;
	}
	ncap = o->ocap ? o->ocap : 512;
	if (o->ooff > 0) {
		memmove(o->obuf, o->obuf + o->ooff, o->olen - o->ooff);
		o->olen -= o->ooff;
		o->ooff = 0;
	}
	while (ncap < o->olen + len)
		ncap *= 2;
	if (ncap > o->ocap) {
		if (ncap > UINT32_MAX ||
		    (nb = realloc(o->obuf, ncap)) == NULL) {
			conn_kill(c, "Out of memory");
			return -1;
		}
		o->obuf = nb;
		o->ocap = (uint32_t)ncap;
	}
	return 0;
}

/*
 * WebSocket output: each line of buf a frame (net_ws.c's ws_frame_line,
 * the one place lines become frames), queued as raw bytes.
 */
static void
conn_send_ws(struct conn *c, const char *buf, size_t len)
{
	static char frame[WS_FRAME_HDR + 3 * (RECVQ_MAX + IRC_LINE_MAX)];
	const char *lf;
	size_t n;

	while (len > 0 && !(c->flags & CONN_DEAD)) {
		lf = memchr(buf, '\n', len);
		n = lf != NULL ? (size_t)(lf - buf) + 1 : len;
		if (n > RECVQ_MAX + IRC_LINE_MAX)	/* never from irc */
			n = RECVQ_MAX + IRC_LINE_MAX;
		conn_send_raw(c, frame, ws_frame_line(c->ws, frame, buf, n));
		buf += n;
		len -= n;
	}
}

void
net_conn_send(struct conn *c, const char *buf, size_t len)
{
	if (c->ws != NULL)
		conn_send_ws(c, buf, len);
	else
		conn_send_raw(c, buf, len);
}

static inline void
outq_add(struct conn *c)
{
	if (!(c->flags & CONN_OUTQ)) {
		c->flags |= CONN_OUTQ;
		c->outq = outq_head;
		outq_head = c;
		noutq++;
	}
}

/* Over max-sendq: what is queued is dropped, ERROR is all it gets. */
static __attribute__((noinline)) void
conn_sendq_exceeded(struct conn *c)
{
	char frame[64];
	const char *buf = "ERROR :SendQ exceeded\r\n";
	size_t len = strlen(buf);
	struct cout *o;

	if ((o = c->out) != NULL)
		o->olen = o->ooff = 0;
	oq_clear(c);
	c->flags |= CONN_DEAD;
	c->reason = "SendQ exceeded";
	pfd[c->slot].events = 0;
	goneq_add(c);
	if (c->ws != NULL) {
		len = ws_frame_line(c->ws, frame, buf, len);
		len += ws_frame_close(frame + len, 1008, "SendQ exceeded");
		ws_set_close_sent(c->ws);
		buf = frame;
	}
	if (((o = c->out) == NULL || o->olen + len > o->ocap) &&
	    obuf_room(c, len) == -1)
		return;
	o = c->out;
	memcpy(o->obuf + o->olen, buf, len);
	o->olen += len;
	outq_add(c);
}

void
conn_send_raw(struct conn *c, const char *buf, size_t len)
{
	struct cout *o;

	if (c->flags & CONN_DEAD)
		return;
	if (conn_pending(c) + len > (c->sendq ? c->sendq : net_lim.max_sendq) &&
	    !(c->flags & CONN_CLOSING)) {
		conn_sendq_exceeded(c);
		return;
	}
	c->flags |= CONN_OUSED;
	if (((o = c->out) == NULL || o->olen + len > o->ocap) &&
	    obuf_room(c, len) == -1)
		return;
	if (c->out->n > 0 && !oq_push(c, NULL, len)) {
		conn_kill(c, "Out of memory");
		return;
	}
	o = c->out;	/* oq_push may have moved it */
	memcpy(o->obuf + o->olen, buf, len);
	o->olen += len;
	outq_add(c);
}

void
net_conn_prefetch(const struct conn *c, unsigned step)
{
#if defined(__GNUC__) || defined(__clang__)
	const struct cout *q;

	if (step == 0) {
		/*
		 * What a delivery reads is the struct's first 24 bytes (40
		 * with CONN_OWNLINE): one cache line, or two when malloc's
		 * 16-byte alignment puts them across a boundary.
		 */
		__builtin_prefetch(c);
		__builtin_prefetch(&c->outq);
	} else if ((q = c->out) == NULL)
		return;
	else if (step == 1) {
		__builtin_prefetch(q);
		__builtin_prefetch(&q->ocap);	/* the line after, if across */
	}
	else
		__builtin_prefetch(&q->seg[(q->head + q->n) & (q->cap - 1)], 1);
#else
	(void)c;
	(void)step;
#endif
}

/*
 * A shared line, queued by reference on a plain TCP or TLS connection
 * (TLS: conn_writev hands the gathered lines to the engine, which copies
 * them into its record: one copy, not one into obuf and one more into
 * the engine); copied for WebSocket (framed per line).
 */
void
net_conn_send_line(struct conn *c, struct net_line *l)
{
	size_t cap = net_lim.max_sendq;
	const struct cout *o;

	/* A plain or TLS connection with the default sendq (the many
	 * members of a large channel) is answered from its flags and its
	 * output part alone. */
	if (c->flags & (CONN_OWNLINE | CONN_DEAD | CONN_CLOSING |
	    CONN_CONNECTING)) {
		if (c->ws != NULL ||
		    (c->flags & (CONN_DEAD | CONN_CLOSING | CONN_CONNECTING))) {
			net_conn_send(c, l->data, l->len);
			return;
		}
		if (c->sendq != 0)
			cap = c->sendq;
	}
	if (conn_pending(c) + l->len > cap) {
		conn_sendq_exceeded(c);
		return;
	}
	c->flags |= CONN_OUSED;
	/* what obuf holds so far goes first */
	if ((o = c->out) != NULL && o->n == 0 && o->olen > o->ooff &&
	    !oq_push(c, NULL, o->olen - o->ooff)) {
		conn_kill(c, "Out of memory");
		return;
	}
	if (!oq_push(c, l, l->len)) {
		conn_kill(c, "Out of memory");
		return;
	}
	outq_add(c);
}

/*
 * TLS: plaintext goes into the engine, records out to the socket. POLLOUT
 * only while records wait: plaintext the engine cannot take yet (before
 * the handshake ends) waits for a read to move the handshake on.
 */
static void
conn_write_tls(struct conn *c)
{
	struct cout *o = c->out;
	const char *why;
	ssize_t n;

	/* no output part when only handshake records are due */
	if (o != NULL && o->obuf != NULL)
		n = tls_conn_write(c->tls, CONN_FD(c), o->obuf + o->ooff,
		    o->olen - o->ooff, &why);
	else
		n = tls_conn_write(c->tls, CONN_FD(c), NULL, 0, &why);
	if (o == NULL)
		;
	else if (n == -1)
		o->olen = o->ooff = 0;
	else
		o->ooff += (uint32_t)n;
	if (n == -1)
		conn_kill_tls(c, why);
	if (o == NULL || o->ooff == o->olen)
		obuf_emptied(c);
	if (c->flags & (CONN_CLOSING | CONN_DEAD))
		return;
	if (n != -1 && tls_conn_want_write(c->tls))
		pfd[c->slot].events |= POLLOUT;
	else
		pfd[c->slot].events &= ~POLLOUT;
}

/*
 * Output with shared lines: the segments are gathered into one scratch
 * buffer, which stays in the cache from one connection to the next, and
 * sent with one send(2) (TLS: handed to the engine, whose records
 * net_tls.c sends). Handing the kernel the segments themselves
 * (sendmsg, an iovec each) cost as much again: it copies each short
 * line on its own, and a member gathers a hundred a pass.
 */
static char	 oq_scratch[65536];


static void
conn_writev(struct conn *c)
{
	struct cout *q = c->out;
	struct oseg *sg;
	size_t pos, want, rem, skip, len;
	ssize_t n;
	unsigned i;

	while (q->n > 0) {
		pos = q->ooff;
		want = 0;
		for (i = 0; i < q->n; i++) {
			sg = &q->seg[(q->head + i) & (q->cap - 1)];
			skip = i == 0 ? q->off : 0;
			len = sg->len - skip;
			if (want + len > sizeof(oq_scratch)) {
				if (want == 0)	/* never: lines are short */
					len = sizeof(oq_scratch);
				else
					break;
			}
			if (sg->l == NULL) {
				memcpy(oq_scratch + want, q->obuf + pos, len);
				pos += sg->len - skip;
			} else
				memcpy(oq_scratch + want, sg->l->data + skip, len);
			want += len;
		}
		if (c->tls != NULL) {
			const char *why;

			if ((n = tls_conn_write(c->tls, CONN_FD(c), oq_scratch,
			    want, &why)) == -1) {
				q->olen = q->ooff = 0;
				oq_clear(c);
				conn_kill_tls(c, why);
				break;
			}
		} else
			n = send(CONN_FD(c), oq_scratch, want, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR) {
				pfd[c->slot].events |= POLLOUT;
				return;
			}
			q->olen = q->ooff = 0;
			oq_clear(c);
			conn_kill(c, "Write error");
			break;
		}
		/* what was sent leaves the queue */
		for (rem = (size_t)n; rem > 0 && q->n > 0;) {
			sg = &q->seg[q->head];
			if (rem < sg->len - q->off) {
				q->off += rem;
				if (sg->l == NULL)
					q->ooff += rem;
				else
					q->bytes -= rem;
				break;
			}
			rem -= sg->len - q->off;
			if (sg->l == NULL)
				q->ooff += sg->len - q->off;
			else {
				q->bytes -= sg->len - q->off;
				net_line_unref(sg->l);
			}
			q->off = 0;
			q->head = (q->head + 1) & (q->cap - 1);
			q->n--;
		}
		if ((size_t)n < want) {
			if (!(c->flags & (CONN_CLOSING | CONN_DEAD)) &&
			    (c->tls == NULL || tls_conn_want_write(c->tls)))
				pfd[c->slot].events |= POLLOUT;
			return;
		}
	}
	/* obuf's bytes all went with the segments */
	q->head = 0;
	obuf_emptied(c);
	if (!(c->flags & (CONN_CLOSING | CONN_DEAD))) {
		if (c->tls != NULL && tls_conn_want_write(c->tls))
			pfd[c->slot].events |= POLLOUT;
		else
			pfd[c->slot].events &= ~POLLOUT;
	}
}

void
conn_write(struct conn *c)
{
	struct cout *o = c->out;
	ssize_t n;

	if (c->flags & CONN_CONNECTING) {	/* written once connected */
		pfd[c->slot].events |= POLLOUT;
		return;
	}
	if (o != NULL && o->n > 0) {
		conn_writev(c);
		return;
	}
	if (c->tls != NULL) {
		conn_write_tls(c);
		return;
	}
	if (o == NULL || o->olen == o->ooff)
		goto empty;
	n = send(CONN_FD(c), o->obuf + o->ooff, o->olen - o->ooff, MSG_NOSIGNAL);
	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
			pfd[c->slot].events |= POLLOUT;
			return;
		}
		o->olen = o->ooff = 0;
		conn_kill(c, "Write error");
		goto empty;
	}
	o->ooff += (uint32_t)n;
	if (o->ooff < o->olen) {
		if (!(c->flags & (CONN_CLOSING | CONN_DEAD)))
			pfd[c->slot].events |= POLLOUT;
		return;
	}
empty:
	/* An idle connection soon holds no output memory. */
	obuf_emptied(c);
	if (!(c->flags & (CONN_CLOSING | CONN_DEAD)))
		pfd[c->slot].events &= ~POLLOUT;
}
