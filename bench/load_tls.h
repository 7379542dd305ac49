/*
 * bench/load_tls.h: the TLS client of bench/load (load -t), on BearSSL's
 * client engine. A benchmark tool's, not the server's: the server's
 * certificate is taken unchecked (loopback only).
 */
#ifndef LOAD_TLS_H
#define LOAD_TLS_H

#include <sys/types.h>

#include <stddef.h>

struct ltls;

struct ltls	*ltls_new(void);		/* NULL: out of memory */
void		 ltls_free(struct ltls *);	/* NULL is fine */
/*
 * Like read(2) of plaintext: moves records between fd and the engine
 * (handshake replies included) and returns the decrypted bytes copied
 * to out; 0 when the server closed; -1 with errno EAGAIN when none yet,
 * EPROTO on a TLS error. Reads fd only while out has room for all it
 * could decrypt (outsz >= LTLS_ROOM reads at least once), so nothing is
 * left behind in user space for poll() not to see.
 */
#define LTLS_ROOM	(16384 + 16384 + 325)
ssize_t		 ltls_read(struct ltls *, int fd, char *out, size_t outsz);
/*
 * Like write(2) of plaintext: hands buf to the engine as far as it
 * takes it (nothing before the handshake is done), flushes it into a
 * record and writes records until fd would block. Returns the bytes
 * taken, or -1 with errno EAGAIN (len > 0 and none taken) or EPROTO /
 * write's errno. len 0 only writes pending records.
 */
ssize_t		 ltls_write(struct ltls *, int fd, const char *buf,
		    size_t len);
int		 ltls_want_write(struct ltls *);	/* records wait */
int		 ltls_ready(struct ltls *);		/* handshake done */
const char	*ltls_suite(struct ltls *);	/* the negotiated suite */

#endif
