/*
 * net_ws.h: WebSocket (RFC 6455, server side, as the IRCv3 WebSocket
 * specification uses it) in net_ws.c: the HTTP upgrade, the frame
 * decoder and the one place output lines become frames. Private to
 * net*.c; knows no socket, so it can be fuzzed.
 */
#ifndef NET_WS_H
#define NET_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WS_REQ_MAX	8192	/* the upgrade request, headers and all */
#define WS_RESP_MAX	512	/* our answer to it */
#define WS_FRAME_HDR	4	/* a server frame's header: lines < 64 KiB */

struct ws;

/*
 * req[0..len) is the HTTP request so far. origins: allowed-origins
 * (space-separated patterns with *), or NULL for any. Returns the
 * request's length once it is whole, with resp the 101 answer and
 * *binary whether binary.ircv3.net was chosen; 0 while it is not whole;
 * -1 with resp an HTTP error answer and *why (static) for the log.
 */
int	 ws_handshake(const char *req, size_t len, const char *origins,
	    char *resp, size_t respsz, bool *binary, const char **why);

struct ws *ws_new(bool binary);		/* NULL on ENOMEM */
void	 ws_free(struct ws *);
size_t	 ws_size(void);			/* bytes per connection */
bool	 ws_binary(const struct ws *);

/*
 * Client frames in[0..len) into out: each whole message's payload (one
 * IRC line, a trailing CR LF dropped) and then '\n'; a message still
 * coming is written as far as it came. out needs len + 1 bytes. Pings
 * are answered and a close is echoed through send(arg, frame, n).
 * maxmsg bounds a message, fragments together. Returns the bytes
 * written; or -1 when the connection is over, the close frame with its
 * status already sent, and *why (static) saying why.
 */
typedef void	 ws_send_fn(void *arg, const char *frame, size_t len);
long	 ws_decode(struct ws *, const unsigned char *in, size_t len,
	    char *out, size_t maxmsg, ws_send_fn *send, void *arg,
	    const char **why);

/*
 * The one place an output line becomes a frame: line[0..len) without
 * its CR LF as one text (invalid UTF-8 replaced by U+FFFD) or binary
 * message. out needs WS_FRAME_HDR + 3 * len bytes. Returns its length.
 */
size_t	 ws_frame_line(const struct ws *, char *out, const char *line,
	    size_t len);
/* A close frame with status code and reason, into out (>= 127 bytes). */
size_t	 ws_frame_close(char *out, unsigned code, const char *reason);
bool	 ws_close_sent(const struct ws *);
void	 ws_set_close_sent(struct ws *);

#endif
