/*
 * fuzz_ws.c: the WebSocket parsers (net_ws.c) on what a client may send.
 * The first byte picks the subprotocol and how the rest is cut into
 * reads; the rest is frames. The decoder must stay inside its buffers
 * (out gets exactly len + 1 bytes, as net gives it), give the same lines
 * and the same end however the input is cut, answer with well-formed
 * frames, and every line it gives must frame back (ws_frame_line) to a
 * valid server frame: text frames valid UTF-8. The same input is also
 * an upgrade request for ws_handshake.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../net_ws.h"

#define MAXMSG	(RECVQ_MAX - 1)

struct sink {
	char	 buf[65536];
	size_t	 len;
};

static void
sink_send(void *arg, const char *frame, size_t len)
{
	struct sink *s = arg;
	unsigned op = (unsigned char)frame[0] & 0x0f;

	/* our answers: FIN, unmasked, a control frame under 126 bytes */
	if (len < 2 || (unsigned char)frame[0] < 0x80 || (frame[1] & 0x80) ||
	    (op != 0x8 && op != 0xa) || (size_t)(frame[1] & 0x7f) + 2 != len)
		abort();
	if (s->len + len <= sizeof(s->buf)) {
		memcpy(s->buf + s->len, frame, len);
		s->len += len;
	}
}

/* Decodes data in reads of the sizes cut gives; the lines out, -1 end. */
static long
run(bool binary, const uint8_t *data, size_t len, unsigned cut, char *lines,
    size_t linesz, struct sink *sink)
{
	struct ws *w = ws_new(binary);
	size_t off = 0, n, have = 0;
	const char *why;
	char *out;
	long r = 0;

	if (w == NULL)
		abort();
	while (off < len) {
		n = cut == 0 ? len - off : 1 + (cut * (off + 7)) % 23;
		if (n > len - off)
			n = len - off;
		if ((out = malloc(n + 1)) == NULL)
			abort();
		r = ws_decode(w, data + off, n, out, MAXMSG, sink_send, sink,
		    &why);
		if (r < 0) {
			if (why == NULL)
				abort();
			free(out);
			break;
		}
		if ((size_t)r > n + 1 || have + (size_t)r > linesz)
			abort();
		memcpy(lines + have, out, (size_t)r);
		have += (size_t)r;
		free(out);
		off += n;
	}
	ws_free(w);
	return r < 0 ? -(long)have - 1 : (long)have;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static char a[70000], b[70000], frame[WS_FRAME_HDR + 3 * 70000];
	static struct sink sa, sb;
	char resp[WS_RESP_MAX];
	const char *why, *p, *lf;
	bool binary, bin2;
	long ra, rb;
	size_t n, fl, plen, hl;
	struct ws *w;

	fuzz_init();
	if (len < 1 || len > 60000)
		return 0;
	binary = data[0] & 1;
	sa.len = sb.len = 0;
	ra = run(binary, data + 1, len - 1, 0, a, sizeof(a), &sa);
	rb = run(binary, data + 1, len - 1, data[0] >> 1 | 1, b, sizeof(b),
	    &sb);
	/* a cut into reads never changes what the client said (the lines
	 * of the read that ended it are dropped: not comparable then) */
	if ((ra < 0) != (rb < 0) || (ra >= 0 && (ra != rb ||
	    memcmp(a, b, (size_t)ra) != 0)))
		abort();
	/* each whole line frames back into one valid server frame */
	if ((w = ws_new(binary)) == NULL)
		abort();
	n = (size_t)(ra < 0 ? -ra - 1 : ra);
	for (p = a; (lf = memchr(p, '\n', n - (size_t)(p - a))) != NULL;
	    p = lf + 1) {
		fl = ws_frame_line(w, frame, p, (size_t)(lf - p));
		hl = (frame[1] & 0x7f) == 126 ? 4 : 2;
		plen = hl == 4 ? (size_t)(unsigned char)frame[2] << 8 |
		    (unsigned char)frame[3] : (size_t)(frame[1] & 0x7f);
		if (fl != hl + plen || memchr(frame + hl, '\n', plen) != NULL ||
		    (unsigned char)frame[0] != (binary ? 0x82 : 0x81))
			abort();
		if (!binary && !irc_utf8_valid(frame + hl, plen))
			abort();
	}
	ws_free(w);
	/* and the input as an upgrade request */
	(void)ws_handshake((const char *)data, len, data[0] & 2 ?
	    "https://*.example.org" : NULL, resp, sizeof(resp), &bin2, &why);
	return 0;
}
