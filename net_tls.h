/*
 * net_tls.h: the TLS layer under net.c (net_tls.c; the tls_cred_*
 * calls are net_tls_cred.c's). Private to net*.c: irc.c sees TLS only
 * as net_conn_tls() and net_conn_certfp().
 */
#ifndef NET_TLS_H
#define NET_TLS_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

struct tls_cred;	/* a certificate chain and its key, refcounted */
struct tls_conn;	/* one server engine */

/*
 * Loads and checks a PEM chain (leaf first) and its PEM key (RSA or EC;
 * PKCS#1, SEC1 or PKCS#8). On failure returns NULL with a message naming
 * the file in err. The result holds one reference.
 */
struct tls_cred	*tls_cred_load(const char *certfile, const char *keyfile,
		    char *err, size_t errsz);
void		 tls_cred_ref(struct tls_cred *);
void		 tls_cred_unref(struct tls_cred *);	/* NULL is fine */
const char	*tls_cred_fingerprint(const struct tls_cred *); /* leaf, hex */
/*
 * Gives cr a session cache of entries (rounded up to a power of two),
 * each resumable for lifetime seconds; 0 for either: no resumption.
 * Returns -1 when out of memory (cr is then without a cache).
 */
int		 tls_cred_set_cache(struct tls_cred *, unsigned entries,
		    unsigned lifetime);

/* TLS 1.0 .. 1.2 as BearSSL numbers them, for tls { min-version }. */
struct tls_conn	*tls_conn_new(struct tls_cred *, unsigned min_version,
		    char *err, size_t errsz);
/* A client engine (a server link we open), presenting cr (NULL: no
 * certificate); any server certificate is taken, its SHA-256 is
 * tls_conn_certfp's for the caller to pin. */
struct tls_conn	*tls_conn_new_client(struct tls_cred *cr, char *err,
		    size_t errsz);
void		 tls_conn_free(struct tls_conn *);

/*
 * read(2)s of what the engine wants, until one comes back short or a
 * record of data is decrypted, then every decrypted byte copied to out
 * (one record at most, so outsz >= 16384 never leaves any in the
 * engine). Returns the bytes copied (0: none yet, e.g. mid-handshake or
 * EAGAIN), or -1 when the connection is over, with *why a static string.
 */
ssize_t		 tls_conn_read(struct tls_conn *, int fd, char *out,
		    size_t outsz, const char **why);
/*
 * Encrypts as much of buf[0..len) as the engine takes (nothing before
 * the handshake is done), then writes records until the socket would
 * block. Returns the plaintext bytes taken, or -1 (*why set).
 */
ssize_t		 tls_conn_write(struct tls_conn *, int fd, const char *buf,
		    size_t len, const char **why);
bool		 tls_conn_want_write(struct tls_conn *); /* records pending */
bool		 tls_conn_ready(struct tls_conn *);	/* handshake done */
bool		 tls_conn_shook(const struct tls_conn *); /* ever done */
bool		 tls_conn_begun(const struct tls_conn *); /* bytes came */
/* Sends close_notify, best effort (one write, no waiting). */
void		 tls_conn_close(struct tls_conn *, int fd);
/* SHA-256 of the client certificate's DER, lowercase hex; or NULL. */
const char	*tls_conn_certfp(const struct tls_conn *);
size_t		 tls_conn_size(void);		/* bytes per connection */
/*
 * Once a second: gives back the pages of the record buffers of engines
 * that read and wrote nothing for idle seconds (0: never), past any
 * bytes still live in them; an idle connection then keeps only its
 * engine (~4.3 KiB) resident.
 */
void		 tls_conn_sweep(unsigned idle);

#endif
