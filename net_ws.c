/*
 * net_ws.c: WebSocket, server side (RFC 6455), for IRC as the IRCv3
 * WebSocket specification has it: the HTTP upgrade (subprotocols
 * text.ircv3.net and binary.ircv3.net, allowed-origins), client frames
 * decoded into lines (masking required, fragments put together within
 * a bound, UTF-8 checked in text messages, pings answered, the close
 * handshake), and output lines made frames. Bytes in, bytes out: net.c
 * owns the sockets and decides what to do when a connection ends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bearssl.h>

#include "net_ws.h"
#include "util.h"

#define WS_GUID	"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

enum {
	OP_CONT = 0x0, OP_TEXT = 0x1, OP_BINARY = 0x2,
	OP_CLOSE = 0x8, OP_PING = 0x9, OP_PONG = 0xa
};

struct ws {
	uint64_t	 left;		/* payload bytes of this frame to come */
	size_t		 msglen;	/* bytes of the message so far */
	unsigned char	 hdr[14], mask[4], ctl[125];
	uint8_t		 hlen;		/* header bytes so far */
	uint8_t		 op, fin, mpos, clen;
	uint8_t		 msgop;		/* the message being put together */
	uint8_t		 u_need, u_lo, u_hi;	/* UTF-8 across frames */
	bool		 inpayload;
	bool		 eol;		/* CR or LF seen in this message */
	bool		 binary;	/* binary.ircv3.net: binary frames */
	bool		 closed;	/* our close frame is sent */
};

/* ---- UTF-8 (RFC 3629: no overlongs, surrogates or > U+10FFFF) ---- */

/* One byte into the state; false if it cannot be UTF-8. */
static bool
utf8_step(uint8_t *need, uint8_t *lo, uint8_t *hi, unsigned char b)
{
	if (*need > 0) {
		if (b < *lo || b > *hi)
			return false;
		(*need)--;
		*lo = 0x80;
		*hi = 0xbf;
		return true;
	}
	*lo = 0x80;
	*hi = 0xbf;
	if (b < 0x80)
		return true;
	if (b >= 0xc2 && b <= 0xdf)
		*need = 1;
	else if (b >= 0xe0 && b <= 0xef) {
		*need = 2;
		if (b == 0xe0)
			*lo = 0xa0;
		else if (b == 0xed)
			*hi = 0x9f;
	} else if (b >= 0xf0 && b <= 0xf4) {
		*need = 3;
		if (b == 0xf0)
			*lo = 0x90;
		else if (b == 0xf4)
			*hi = 0x8f;
	} else
		return false;
	return true;
}

static bool
utf8_ok(const unsigned char *s, size_t len)
{
	uint8_t need = 0, lo = 0x80, hi = 0xbf;
	size_t i;

	for (i = 0; i < len; i++)
		if (!utf8_step(&need, &lo, &hi, s[i]))
			return false;
	return need == 0;
}

/* s into out, each byte that starts no valid sequence as U+FFFD. */
static size_t
utf8_fix(char *out, const unsigned char *s, size_t len)
{
	size_t i = 0, o = 0, j;
	uint8_t need, lo, hi;

	while (i < len) {
		need = 0;
		if (utf8_step(&need, &lo, &hi, s[i])) {
			for (j = 1; j <= need && i + j < len; j++)
				if (!utf8_step(&need, &lo, &hi, s[i + j]))
					break;
			if (need == 0) {
				memcpy(out + o, s + i, j);
				o += j;
				i += j;
				continue;
			}
		}
		memcpy(out + o, "\xef\xbf\xbd", 3);
		o += 3;
		i++;
	}
	return o;
}

/* ---- the handshake ---- */

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static bool
eq_nocase(const char *a, size_t an, const char *b)
{
	size_t i;

	if (an != strlen(b))
		return false;
	for (i = 0; i < an; i++)
		if (lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	return true;
}

/* Whether the comma-separated list v[0..n) has token t. */
static bool
has_token(const char *v, size_t n, const char *t)
{
	size_t i = 0, s, e;

	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e > s && eq_nocase(v + s, e - s, t))
			return true;
	}
	return false;
}

/* Glob with '*', case-insensitive: an origin against a pattern. */
static bool
glob(const char *p, size_t pn, const char *s, size_t sn)
{
	size_t pi = 0, si = 0, star = (size_t)-1, mark = 0;

	while (si < sn) {
		if (pi < pn && p[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (pi < pn && lower((unsigned char)p[pi]) ==
		    lower((unsigned char)s[si])) {
			pi++;
			si++;
		} else if (star != (size_t)-1) {
			pi = star + 1;
			si = ++mark;
		} else
			return false;
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

static bool
origin_allowed(const char *origins, const char *o, size_t on)
{
	size_t n;

	for (;;) {
		origins += strspn(origins, " \t");
		if (*origins == '\0')
			return false;
		n = strcspn(origins, " \t");
		if (glob(origins, n, o, on))
			return true;
		origins += n;
	}
}

static int
http_error(char *resp, size_t respsz, const char *status,
    const char *extra, const char *why, const char **whyp)
{
	snprintf(resp, respsz, "HTTP/1.1 %s\r\nConnection: close\r\n"
	    "Content-Type: text/plain\r\nContent-Length: %zu\r\n%s\r\n%s\n",
	    status, strlen(why) + 1, extra, why);
	*whyp = why;
	return -1;
}

int
ws_handshake(const char *req, size_t len, const char *origins, char *resp,
    size_t respsz, bool *binary, const char **why)
{
	const char *end = NULL, *p, *eol, *colon, *v;
	const char *key = NULL, *origin = NULL, *proto = NULL;
	size_t keyn = 0, originn = 0, vn, i;
	bool upgrade = false, connection = false, version = false;
	bool chosen = false;
	unsigned char keyraw[20], sha[20];
	char accept[32], hdrproto[64];
	br_sha1_context sc;

	*why = NULL;
	*binary = false;
	/* an IRC client on a WebSocket port is told at once, not at the
	 * registration timeout */
	if (memcmp(req, "GET ", len < 4 ? len : 4) != 0)
		return http_error(resp, respsz, "405 Method Not Allowed",
		    "Allow: GET\r\n", "not a GET request", why);
	for (i = 0; i + 3 < len; i++)
		if (memcmp(req + i, "\r\n\r\n", 4) == 0) {
			end = req + i + 2;	/* after the last header's CRLF */
			break;
		}
	if (end == NULL)
		return len >= WS_REQ_MAX ? http_error(resp, respsz,
		    "431 Request Header Fields Too Large", "",
		    "request too large", why) : 0;
	if ((eol = memchr(req, '\r', (size_t)(end - req))) == NULL ||
	    eol[1] != '\n')
		return http_error(resp, respsz, "400 Bad Request", "",
		    "malformed request", why);
	if ((size_t)(eol - req) < 4 || memcmp(req, "GET ", 4) != 0)
		return http_error(resp, respsz, "405 Method Not Allowed",
		    "Allow: GET\r\n", "not a GET request", why);
	if ((size_t)(eol - req) < 13 || memcmp(eol - 9, " HTTP/1.1", 9) != 0)
		return http_error(resp, respsz, "400 Bad Request", "",
		    "not HTTP/1.1", why);
	for (p = eol + 2; p < end; p = eol + 2) {
		if ((eol = memchr(p, '\r', (size_t)(end - p))) == NULL ||
		    eol[1] != '\n')
			return http_error(resp, respsz, "400 Bad Request", "",
			    "malformed header", why);
		if ((colon = memchr(p, ':', (size_t)(eol - p))) == NULL ||
		    colon == p)
			return http_error(resp, respsz, "400 Bad Request", "",
			    "malformed header", why);
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		for (vn = (size_t)(eol - v); vn > 0 && (v[vn - 1] == ' ' ||
		    v[vn - 1] == '\t'); vn--)
			;
		for (i = 0; i < vn; i++)
			if ((unsigned char)v[i] < 0x20 && v[i] != '\t')
				return http_error(resp, respsz,
				    "400 Bad Request", "", "malformed header",
				    why);
#define NAME(s)	eq_nocase(p, (size_t)(colon - p), s)
		if (NAME("upgrade"))
			upgrade = upgrade || has_token(v, vn, "websocket");
		else if (NAME("connection"))
			connection = connection || has_token(v, vn, "upgrade");
		else if (NAME("sec-websocket-version"))
			version = vn == 2 && memcmp(v, "13", 2) == 0;
		else if (NAME("sec-websocket-key")) {
			key = v;
			keyn = vn;
		} else if (NAME("origin")) {
			origin = v;
			originn = vn;
		} else if (NAME("sec-websocket-protocol") && !chosen) {
			/* the client's order is its preference */
			for (i = 0; i < vn && !chosen;) {
				size_t s, e;

				while (i < vn && (v[i] == ' ' || v[i] == ','))
					i++;
				s = i;
				while (i < vn && v[i] != ',')
					i++;
				for (e = i; e > s && v[e - 1] == ' '; e--)
					;
				if (eq_nocase(v + s, e - s,
				    "binary.ircv3.net")) {
					chosen = *binary = true;
					proto = "binary.ircv3.net";
				} else if (eq_nocase(v + s, e - s,
				    "text.ircv3.net")) {
					chosen = true;
					proto = "text.ircv3.net";
				}
			}
		}
#undef NAME
	}
	if (!upgrade || !connection)
		return http_error(resp, respsz, "400 Bad Request", "",
		    "not a WebSocket upgrade", why);
	if (!version)
		return http_error(resp, respsz, "426 Upgrade Required",
		    "Sec-WebSocket-Version: 13\r\n",
		    "WebSocket version 13 only", why);
	if (key == NULL || keyn != 24 ||
	    util_b64_decode(keyraw, sizeof(keyraw), key, keyn) != 16)
		return http_error(resp, respsz, "400 Bad Request", "",
		    "bad Sec-WebSocket-Key", why);
	if (origins != NULL && (origin == NULL ||
	    !origin_allowed(origins, origin, originn)))
		return http_error(resp, respsz, "403 Forbidden", "",
		    "origin not allowed", why);
	br_sha1_init(&sc);
	br_sha1_update(&sc, key, keyn);
	br_sha1_update(&sc, WS_GUID, strlen(WS_GUID));
	br_sha1_out(&sc, sha);
	if (util_b64_encode(accept, sizeof(accept), sha, sizeof(sha), true) ==
	    (size_t)-1)
		return http_error(resp, respsz, "500 Internal Server Error",
		    "", "internal error", why);
	hdrproto[0] = '\0';
	if (proto != NULL)
		snprintf(hdrproto, sizeof(hdrproto),
		    "Sec-WebSocket-Protocol: %s\r\n", proto);
	snprintf(resp, respsz, "HTTP/1.1 101 Switching Protocols\r\n"
	    "Upgrade: websocket\r\nConnection: Upgrade\r\n"
	    "Sec-WebSocket-Accept: %s\r\n%s\r\n", accept, hdrproto);
	return (int)(end - req) + 2;
}

/* ---- connections ---- */

struct ws *
ws_new(bool binary)
{
	struct ws *w = calloc(1, sizeof(*w));

	if (w != NULL)
		w->binary = binary;
	return w;
}

void
ws_free(struct ws *w)
{
	free(w);
}

size_t
ws_size(void)
{
	return sizeof(struct ws);
}

bool
ws_binary(const struct ws *w)
{
	return w->binary;
}

bool
ws_close_sent(const struct ws *w)
{
	return w->closed;
}

void
ws_set_close_sent(struct ws *w)
{
	w->closed = true;
}

size_t
ws_frame_close(char *out, unsigned code, const char *reason)
{
	size_t n = strlen(reason);

	if (n > 123)
		n = 123;
	out[0] = (char)(0x80 | OP_CLOSE);
	out[1] = (char)(n + 2);
	out[2] = (char)(code >> 8);
	out[3] = (char)(code & 0xff);
	memcpy(out + 4, reason, n);
	return n + 4;
}

static long
ws_fail(struct ws *w, unsigned code, const char *reason, ws_send_fn *send,
    void *arg, const char **why)
{
	char f[127];

	if (!w->closed) {
		send(arg, f, ws_frame_close(f, code, reason));
		w->closed = true;
	}
	*why = reason;
	return -1;
}

/* The header in w->hdr is whole: check it and start the frame. */
static long
frame_start(struct ws *w, size_t maxmsg, ws_send_fn *send, void *arg,
    const char **why)
{
	unsigned len7 = w->hdr[1] & 0x7f;
	uint64_t len = len7;
	size_t i, m = 2;

	w->fin = w->hdr[0] & 0x80;
	w->op = w->hdr[0] & 0x0f;
	if (w->hdr[0] & 0x70)
		return ws_fail(w, 1002, "WebSocket: reserved bits set", send,
		    arg, why);
	if (!(w->hdr[1] & 0x80))
		return ws_fail(w, 1002, "WebSocket: unmasked frame", send, arg,
		    why);
	if (len7 == 126) {
		len = (uint64_t)w->hdr[2] << 8 | w->hdr[3];
		m = 4;
	} else if (len7 == 127) {
		if (w->hdr[2] & 0x80)
			return ws_fail(w, 1002, "WebSocket: bad length", send,
			    arg, why);
		for (len = 0, i = 2; i < 10; i++)
			len = len << 8 | w->hdr[i];
		m = 10;
	}
	memcpy(w->mask, w->hdr + m, 4);
	if (w->op & 0x8) {
		if (w->op != OP_CLOSE && w->op != OP_PING && w->op != OP_PONG)
			return ws_fail(w, 1002, "WebSocket: unknown opcode",
			    send, arg, why);
		if (!w->fin)
			return ws_fail(w, 1002, "WebSocket: fragmented "
			    "control frame", send, arg, why);
		if (len > 125)
			return ws_fail(w, 1002, "WebSocket: control frame "
			    "over 125 bytes", send, arg, why);
	} else {
		if (w->op > OP_BINARY)
			return ws_fail(w, 1002, "WebSocket: unknown opcode",
			    send, arg, why);
		if (w->op == OP_CONT && w->msgop == 0)
			return ws_fail(w, 1002, "WebSocket: continuation "
			    "without a message", send, arg, why);
		if (w->op != OP_CONT && w->msgop != 0)
			return ws_fail(w, 1002, "WebSocket: a message before "
			    "the last one ended", send, arg, why);
		if (w->op != OP_CONT) {
			w->msgop = w->op;
			w->msglen = 0;
			w->eol = false;
			w->u_need = 0;
		}
		if (len > maxmsg || w->msglen + len > maxmsg)
			return ws_fail(w, 1009, "WebSocket: message too long",
			    send, arg, why);
	}
	w->left = len;
	w->mpos = 0;
	w->clen = 0;
	w->inpayload = true;
	return 0;
}

/* The frame's payload is all in: act on it. */
static long
frame_end(struct ws *w, char *out, size_t *o, ws_send_fn *send, void *arg,
    const char **why)
{
	char f[127 + 4];
	unsigned code;

	w->inpayload = false;
	w->hlen = 0;
	switch (w->op) {
	case OP_PING:
		if (!w->closed) {
			f[0] = (char)(0x80 | OP_PONG);
			f[1] = (char)w->clen;
			memcpy(f + 2, w->ctl, w->clen);
			send(arg, f, (size_t)w->clen + 2);
		}
		return 0;
	case OP_PONG:
		return 0;
	case OP_CLOSE:
		if (w->clen == 1)
			return ws_fail(w, 1002, "WebSocket: bad close frame",
			    send, arg, why);
		if (w->clen >= 2) {
			code = (unsigned)w->ctl[0] << 8 | w->ctl[1];
			if (code < 1000 || (code > 1003 && code < 1007) ||
			    (code > 1011 && code < 3000) || code > 4999)
				return ws_fail(w, 1002, "WebSocket: bad close "
				    "code", send, arg, why);
			if (!utf8_ok(w->ctl + 2, (size_t)w->clen - 2))
				return ws_fail(w, 1007, "WebSocket: close "
				    "reason not UTF-8", send, arg, why);
		}
		/* echo it, as the close handshake wants */
		if (!w->closed) {
			f[0] = (char)(0x80 | OP_CLOSE);
			f[1] = (char)(w->clen >= 2 ? 2 : 0);
			memcpy(f + 2, w->ctl, 2);
			send(arg, f, w->clen >= 2 ? 4 : 2);
			w->closed = true;
		}
		*why = "WebSocket closed by client";
		return -1;
	default:
		if (!w->fin)
			return 0;
		if (w->msgop == OP_TEXT && w->u_need != 0)
			return ws_fail(w, 1007, "WebSocket: text not UTF-8",
			    send, arg, why);
		out[(*o)++] = '\n';
		w->msgop = 0;
		return 0;
	}
}

long
ws_decode(struct ws *w, const unsigned char *in, size_t len, char *out,
    size_t maxmsg, ws_send_fn *send, void *arg, const char **why)
{
	size_t i = 0, o = 0, n, j, need;
	unsigned char b;

	*why = NULL;
	while (i < len) {
		if (!w->inpayload) {
			w->hdr[w->hlen++] = in[i++];
			if (w->hlen < 2)
				continue;
			need = 2 + 4 + ((w->hdr[1] & 0x7f) == 126 ? 2 :
			    (w->hdr[1] & 0x7f) == 127 ? 8 : 0);
			if (w->hlen < need)
				continue;
			if (frame_start(w, maxmsg, send, arg, why) == -1)
				return -1;
			if (w->left == 0 &&
			    frame_end(w, out, &o, send, arg, why) == -1)
				return -1;
			continue;
		}
		n = len - i < w->left ? len - i : (size_t)w->left;
		for (j = 0; j < n; j++) {
			b = in[i + j] ^ w->mask[w->mpos++ & 3];
			if (w->op & 0x8) {
				w->ctl[w->clen++] = b;
				continue;
			}
			if (w->msgop == OP_TEXT && !utf8_step(&w->u_need,
			    &w->u_lo, &w->u_hi, b))
				return ws_fail(w, 1007, "WebSocket: text not "
				    "UTF-8", send, arg, why);
			w->msglen++;
			if (b == '\r' || b == '\n') {
				w->eol = true;	/* only at the end */
				continue;
			}
			if (w->eol)
				return ws_fail(w, 1002, "WebSocket: more "
				    "than one line in a message", send, arg,
				    why);
			out[o++] = (char)b;
		}
		i += n;
		w->left -= n;
		if (w->left == 0 &&
		    frame_end(w, out, &o, send, arg, why) == -1)
			return -1;
	}
	return (long)o;
}

size_t
ws_frame_line(const struct ws *w, char *out, const char *line, size_t len)
{
	const unsigned char *s = (const unsigned char *)line;
	size_t n;
	char *p;

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	out[0] = (char)(0x80 | (w->binary ? OP_BINARY : OP_TEXT));
	if (w->binary || utf8_ok(s, len)) {
		n = len;
		p = out + (n <= 125 ? 2 : 4);
		memcpy(p, line, n);
	} else {
		/* rare: a line that is not UTF-8, in a text frame */
		n = utf8_fix(out + 4, s, len);
		if (n <= 125)
			memmove(out + 2, out + 4, n);
	}
	if (n <= 125) {
		out[1] = (char)n;
		return n + 2;
	}
	out[1] = 126;
	out[2] = (char)(n >> 8);
	out[3] = (char)(n & 0xff);
	return n + 4;
}
