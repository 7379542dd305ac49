/*
 * net_tls.c: TLS for net.c on BearSSL's engine API. Owns certificate
 * chains and keys (loaded, checked, refcounted so a rehash never pulls
 * them from under a live engine), one server engine per connection and
 * the client certificate's fingerprint. Touches a socket only to move
 * records for net.c; never parses IRC.
 *
 * The engine's state flags map onto poll: RECVREC wants POLLIN, SENDREC
 * wants POLLOUT. Session resumption is off: a resumed session would not
 * carry the client certificate, and CertFP must never silently vanish.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bearssl.h>

#include "ergo.h"
#include "util.h"
#include "net_tls.h"

#define PEM_FILE_MAX	(1024 * 1024)	/* no chain or key is this big */
#define CHAIN_MAX	16
/*
 * Input must hold a whole 16 KiB record; output records may be small.
 * 2 KiB of output keeps an idle client near 22 KiB and costs ~1.5% in
 * record overhead on bulk output.
 */
#define TLS_IBUF	BR_SSL_BUFSIZE_INPUT
#define TLS_OBUF	(2048 + 85)

struct tls_cred {
	unsigned		 refs;
	br_x509_certificate	 chain[CHAIN_MAX];
	size_t			 nchain;
	br_skey_decoder_context	 sk;		/* holds the key's bytes */
	int			 key_type;	/* BR_KEYTYPE_RSA or _EC */
	unsigned		 issuer_type;	/* key type that signed the leaf */
	char			 fp[65];
};

/*
 * An X.509 "validator" that accepts any chain (self-signed client
 * certificates are the norm on IRC) and keeps the leaf's key, for the
 * CertificateVerify check, and its SHA-256.
 */
struct anycert {
	const br_x509_class	*vtable;
	struct tls_conn		*t;
	br_x509_decoder_context	 dec;
	br_sha256_context	 sha;
	unsigned		 ncert;
	bool			 leaf_done;
};

struct tls_conn {
	br_ssl_server_context	 sc;
	struct anycert		*x;		/* freed after the handshake */
	struct tls_cred		*cred;
	bool			 have_fp;
	bool			 shook;		/* the handshake was done */
	int			 first;		/* first byte read, or -1 */
	char			 fp[65];
	unsigned char		 buf[TLS_IBUF + TLS_OBUF];
};

/* CN=ergo: BearSSL requests a client certificate only if it has names. */
static const unsigned char ta_dn[] = {
	0x30, 0x0f, 0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x04, 0x03,
	0x0c, 0x04, 'e', 'r', 'g', 'o'
};
static const br_x500_name ta_names[] = {
	{ (unsigned char *)(uintptr_t)ta_dn, sizeof(ta_dn) }
};

/* ECDHE only (forward secrecy), AEAD first; the server's order wins. */
static const uint16_t suites[] = {
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
	BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
};

/* Zeroes secrets in a way the compiler may not drop as a dead store. */
static void
explicit_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n-- > 0)
		*v++ = 0;
}

static void
hex(char *out, const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ---- PEM files ---- */

struct blob {
	unsigned char	*p;
	size_t		 len, cap;
};

static void
blob_append(void *ctx, const void *buf, size_t len)
{
	struct blob *b = ctx;
	unsigned char *np;
	size_t ncap;

	if (b->cap == (size_t)-1)
		return;			/* an earlier append failed */
	if (b->len + len > b->cap) {
		ncap = b->cap ? b->cap : 1024;
		while (ncap < b->len + len)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL) {
			free(b->p);
			b->p = NULL;
			b->len = 0;
			b->cap = (size_t)-1;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, buf, len);
	b->len += len;
}

static int
file_slurp(const char *path, struct blob *out, char *err, size_t errsz)
{
	unsigned char buf[4096];
	struct stat st;
	ssize_t n;
	int fd;

	memset(out, 0, sizeof(*out));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > PEM_FILE_MAX) {
		snprintf(err, errsz, "%s: %s", path, !S_ISREG(st.st_mode) ?
		    "not a regular file" : "too large for a PEM file");
		close(fd);
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		blob_append(out, buf, (size_t)n);
	close(fd);
	if (n == -1 || out->cap == (size_t)-1) {
		snprintf(err, errsz, "%s: %s", path, n == -1 ?
		    strerror(errno) : "out of memory");
		free(out->p);
		return -1;
	}
	return 0;
}

/*
 * Calls each(ctx, name, der, len) for every PEM object of the file.
 * Returns the number of objects, or -1 (err set).
 */
static int
pem_each(const char *path, void (*each)(void *, const char *,
    struct blob *), void *ctx, char *err, size_t errsz)
{
	br_pem_decoder_context pc;
	struct blob file, obj;
	const unsigned char *p;
	char name[128];
	size_t left, n;
	int count = 0;
	bool inobj = false;

	if (file_slurp(path, &file, err, errsz) == -1)
		return -1;
	memset(&obj, 0, sizeof(obj));
	br_pem_decoder_init(&pc);
	/* A final newline lets a file without one end its last object. */
	blob_append(&file, "\n", 1);
	if (file.cap == (size_t)-1) {
		snprintf(err, errsz, "%s: out of memory", path);
		return -1;
	}
	p = file.p;
	left = file.len;
	while (left > 0) {
		n = br_pem_decoder_push(&pc, p, left);
		p += n;
		left -= n;
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			snprintf(name, sizeof(name), "%s",
			    br_pem_decoder_name(&pc));
			free(obj.p);
			memset(&obj, 0, sizeof(obj));
			br_pem_decoder_setdest(&pc, blob_append, &obj);
			inobj = true;
			break;
		case BR_PEM_END_OBJ:
			inobj = false;
			if (obj.cap == (size_t)-1) {
				snprintf(err, errsz, "%s: out of memory", path);
				goto fail;
			}
			each(ctx, name, &obj);	/* may take obj.p */
			free(obj.p);
			memset(&obj, 0, sizeof(obj));
			count++;
			break;
		case BR_PEM_ERROR:
			snprintf(err, errsz, "%s: not a valid PEM file", path);
			goto fail;
		default:
			break;
		}
	}
	if (inobj) {
		snprintf(err, errsz, "%s: PEM object without its END line",
		    path);
		goto fail;
	}
	free(obj.p);
	free(file.p);
	return count;
fail:
	free(obj.p);
	free(file.p);
	return -1;
}

struct chain_load {
	struct tls_cred	*cred;
	unsigned	 others;	/* objects that are not certificates */
	bool		 toomany;
};

static void
chain_each(void *ctx, const char *name, struct blob *der)
{
	struct chain_load *cl = ctx;
	br_x509_certificate *xc;

	if (strcmp(name, "CERTIFICATE") != 0 &&
	    strcmp(name, "X509 CERTIFICATE") != 0) {
		cl->others++;
		return;
	}
	if (cl->cred->nchain == CHAIN_MAX) {
		cl->toomany = true;
		return;
	}
	xc = &cl->cred->chain[cl->cred->nchain++];
	xc->data = der->p;		/* taken */
	xc->data_len = der->len;
	der->p = NULL;
}

struct key_load {
	br_skey_decoder_context	*sk;
	int			 nkeys;
	int			 err;
};

static void
key_each(void *ctx, const char *name, struct blob *der)
{
	struct key_load *kl = ctx;

	if (strcmp(name, "RSA PRIVATE KEY") != 0 &&
	    strcmp(name, "EC PRIVATE KEY") != 0 &&
	    strcmp(name, "PRIVATE KEY") != 0)
		return;		/* e.g. "EC PARAMETERS" from openssl ecparam */
	if (kl->nkeys++ > 0)
		return;
	br_skey_decoder_init(kl->sk);
	br_skey_decoder_push(kl->sk, der->p, der->len);
	kl->err = br_skey_decoder_last_error(kl->sk);
	explicit_wipe(der->p, der->len);
}

/* Whether the private key sk is the one whose public half is in pk. */
static bool
key_matches(const struct tls_cred *cr, const br_x509_pkey *pk)
{
	unsigned char buf[BR_EC_KBUF_PUB_MAX_SIZE], *n;
	const unsigned char *cn;
	br_ec_public_key pub;
	size_t len, clen;
	bool ok;

	if (cr->key_type == BR_KEYTYPE_EC) {
		const br_ec_private_key *ek = br_skey_decoder_get_ec(&cr->sk);

		if (pk->key_type != BR_KEYTYPE_EC ||
		    pk->key.ec.curve != ek->curve ||
		    br_ec_compute_pub(br_ec_get_default(), &pub, buf, ek) == 0)
			return false;
		return pub.qlen == pk->key.ec.qlen &&
		    memcmp(pub.q, pk->key.ec.q, pub.qlen) == 0;
	}
	if (pk->key_type != BR_KEYTYPE_RSA)
		return false;
	{
		const br_rsa_private_key *rk = br_skey_decoder_get_rsa(&cr->sk);
		br_rsa_compute_modulus cm = br_rsa_compute_modulus_get_default();

		if ((len = cm(NULL, rk)) == 0 || (n = malloc(len)) == NULL)
			return false;
		cm(n, rk);
		cn = pk->key.rsa.n;
		clen = pk->key.rsa.nlen;
		while (clen > 0 && *cn == 0) {
			cn++;
			clen--;
		}
		ok = clen == len && memcmp(n, cn, len) == 0;
		free(n);
		return ok;
	}
}

struct tls_cred *
tls_cred_load(const char *certfile, const char *keyfile, char *err,
    size_t errsz)
{
	struct chain_load cl;
	struct key_load kl;
	struct tls_cred *cr;
	br_x509_decoder_context xd;
	br_sha256_context sha;
	unsigned char digest[32];
	const br_x509_pkey *pk;

	if ((cr = calloc(1, sizeof(*cr))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	cr->refs = 1;
	memset(&cl, 0, sizeof(cl));
	cl.cred = cr;
	if (pem_each(certfile, chain_each, &cl, err, errsz) == -1)
		goto fail;
	if (cl.toomany) {
		snprintf(err, errsz, "%s: more than %d certificates", certfile,
		    CHAIN_MAX);
		goto fail;
	}
	if (cr->nchain == 0) {
		snprintf(err, errsz, "%s: no CERTIFICATE in it%s", certfile,
		    cl.others ? " (is it the key?)" : "");
		goto fail;
	}
	br_x509_decoder_init(&xd, NULL, NULL);
	br_x509_decoder_push(&xd, cr->chain[0].data, cr->chain[0].data_len);
	if ((pk = br_x509_decoder_get_pkey(&xd)) == NULL) {
		snprintf(err, errsz, "%s: the first certificate cannot be "
		    "decoded (BearSSL error %d)", certfile,
		    br_x509_decoder_last_error(&xd));
		goto fail;
	}
	cr->issuer_type = br_x509_decoder_get_signer_key_type(&xd);

	memset(&kl, 0, sizeof(kl));
	kl.sk = &cr->sk;
	if (pem_each(keyfile, key_each, &kl, err, errsz) == -1)
		goto fail;
	if (kl.nkeys == 0) {
		snprintf(err, errsz, "%s: no private key in it (expected RSA "
		    "PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY)", keyfile);
		goto fail;
	}
	if (kl.err != 0 || (cr->key_type = br_skey_decoder_key_type(&cr->sk))
	    == 0) {
		snprintf(err, errsz, "%s: the private key cannot be decoded "
		    "(BearSSL error %d)", keyfile, kl.err);
		goto fail;
	}
	if (!key_matches(cr, pk)) {
		snprintf(err, errsz, "%s does not match the certificate in %s",
		    keyfile, certfile);
		goto fail;
	}
	br_sha256_init(&sha);
	br_sha256_update(&sha, cr->chain[0].data, cr->chain[0].data_len);
	br_sha256_out(&sha, digest);
	hex(cr->fp, digest, sizeof(digest));
	return cr;
fail:
	cr->refs = 1;
	tls_cred_unref(cr);
	return NULL;
}

void
tls_cred_ref(struct tls_cred *cr)
{
	cr->refs++;
}

void
tls_cred_unref(struct tls_cred *cr)
{
	size_t i;

	if (cr == NULL || --cr->refs > 0)
		return;
	for (i = 0; i < cr->nchain; i++)
		free(cr->chain[i].data);
	explicit_wipe(&cr->sk, sizeof(cr->sk));
	free(cr);
}

const char *
tls_cred_fingerprint(const struct tls_cred *cr)
{
	return cr->fp;
}

/* ---- the accept-anything client certificate validator ---- */

static void
any_start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct anycert *a = (struct anycert *)(void *)ctx;

	(void)server_name;
	a->ncert = 0;
	a->leaf_done = false;
	br_x509_decoder_init(&a->dec, NULL, NULL);
	br_sha256_init(&a->sha);
}

static void
any_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct anycert *a = (struct anycert *)(void *)ctx;

	(void)length;
	a->ncert++;
}

static void
any_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	struct anycert *a = (struct anycert *)(void *)ctx;

	if (a->ncert != 1)
		return;		/* only the leaf matters */
	br_x509_decoder_push(&a->dec, buf, len);
	br_sha256_update(&a->sha, buf, len);
}

static void
any_end_cert(const br_x509_class **ctx)
{
	struct anycert *a = (struct anycert *)(void *)ctx;

	if (a->ncert == 1)
		a->leaf_done = true;
}

static unsigned
any_end_chain(const br_x509_class **ctx)
{
	struct anycert *a = (struct anycert *)(void *)ctx;
	struct tls_conn *t = a->t;
	unsigned char digest[32];

	if (!a->leaf_done || br_x509_decoder_get_pkey(&a->dec) == NULL)
		return BR_ERR_X509_INVALID_VALUE;	/* undecodable leaf */
	br_sha256_out(&a->sha, digest);
	hex(t->fp, digest, sizeof(digest));
	t->have_fp = true;
	return 0;
}

static const br_x509_pkey *
any_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	struct anycert *a = (struct anycert *)(void *)(uintptr_t)ctx;

	if (usages != NULL)
		*usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	return br_x509_decoder_get_pkey(&a->dec);
}

static const br_x509_class anycert_vtable = {
	sizeof(struct anycert),
	any_start_chain,
	any_start_cert,
	any_append,
	any_end_cert,
	any_end_chain,
	any_get_pkey
};

/* ---- engines ---- */

struct tls_conn *
tls_conn_new(struct tls_cred *cr, unsigned min_version, char *err,
    size_t errsz)
{
	struct tls_conn *t;
	br_ssl_engine_context *eng;
	unsigned char seed[32];

	if (ergo_random(seed, sizeof(seed)) == -1) {
		/* Never run an engine unseeded. */
		snprintf(err, errsz, "no entropy source for TLS: %s",
		    strerror(errno));
		return NULL;
	}
	if ((t = malloc(sizeof(*t))) == NULL ||
	    (t->x = calloc(1, sizeof(*t->x))) == NULL) {
		free(t);
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	memset(&t->sc, 0, sizeof(t->sc));
	t->have_fp = false;
	t->shook = false;
	t->first = -1;
	t->fp[0] = '\0';
	t->cred = cr;
	tls_cred_ref(cr);
	if (cr->key_type == BR_KEYTYPE_RSA)
		br_ssl_server_init_full_rsa(&t->sc, cr->chain, cr->nchain,
		    br_skey_decoder_get_rsa(&cr->sk));
	else
		br_ssl_server_init_full_ec(&t->sc, cr->chain, cr->nchain,
		    cr->issuer_type, br_skey_decoder_get_ec(&cr->sk));
	eng = &t->sc.eng;
	br_ssl_engine_set_versions(eng, min_version, BR_TLS12);
	br_ssl_engine_set_suites(eng, suites, sizeof(suites) /
	    sizeof(suites[0]));
	br_ssl_engine_add_flags(eng, BR_OPT_ENFORCE_SERVER_PREFERENCES |
	    BR_OPT_NO_RENEGOTIATION | BR_OPT_TOLERATE_NO_CLIENT_AUTH);
	/* Client certificates: asked for, optional, any accepted. */
	t->x->vtable = &anycert_vtable;
	t->x->t = t;
	br_ssl_engine_set_x509(eng, &t->x->vtable);
	br_ssl_server_set_trust_anchor_names(&t->sc, ta_names, 1);
	br_ssl_engine_set_default_rsavrfy(eng);
	br_ssl_engine_set_default_ecdsa(eng);
	br_ssl_engine_set_buffers_bidi(eng, t->buf, TLS_IBUF,
	    t->buf + TLS_IBUF, TLS_OBUF);
	br_ssl_engine_inject_entropy(eng, seed, sizeof(seed));
	explicit_wipe(seed, sizeof(seed));
	if (!br_ssl_server_reset(&t->sc)) {
		snprintf(err, errsz, "TLS engine reset failed (BearSSL error "
		    "%d)", br_ssl_engine_last_error(eng));
		tls_conn_free(t);
		return NULL;
	}
	return t;
}

void
tls_conn_free(struct tls_conn *t)
{
	if (t == NULL)
		return;
	tls_cred_unref(t->cred);
	free(t->x);
	explicit_wipe(t, sizeof(*t));	/* session keys */
	free(t);
}

size_t
tls_conn_size(void)
{
	return sizeof(struct tls_conn);
}

/*
 * Once the handshake is done (renegotiation is off) the validator is
 * never used again: give its 1.3 KiB back.
 */
static void
x509_release(struct tls_conn *t, unsigned st)
{
	if (t->x != NULL && (st & BR_SSL_SENDAPP)) {
		free(t->x);
		t->x = NULL;
	}
}

/* A static reason for a closed engine, for the QUIT and the log. */
static const char *
closed_why(struct tls_conn *t, br_ssl_engine_context *eng)
{
	int e = br_ssl_engine_last_error(eng);

	/* not a handshake record (22): plaintext, a scan, another protocol */
	if (e != BR_ERR_OK && !t->shook && t->first != -1 && t->first != 22)
		return "TLS error: not a TLS client";
	switch (e) {
	case BR_ERR_OK:
		return "Connection closed";
	case BR_ERR_BAD_VERSION:
	case BR_ERR_UNSUPPORTED_VERSION:
		return "TLS error: unsupported protocol version";
	case BR_ERR_BAD_CIPHER_SUITE:
		return "TLS error: no shared cipher suite";
	case BR_ERR_BAD_MAC:
		return "TLS error: bad record MAC";
	case BR_ERR_IO:
		return "TLS error: I/O";
	default:
		if (e >= BR_ERR_RECV_FATAL_ALERT &&
		    e < BR_ERR_RECV_FATAL_ALERT + 256)
			return "TLS error: the client sent an alert";
		/* our alert: a client offering only versions below
		 * min-version, or only TLS 1.3's suites (BearSSL has none) */
		if (e == BR_ERR_SEND_FATAL_ALERT + BR_ALERT_PROTOCOL_VERSION)
			return "TLS error: unsupported protocol version";
		if (e == BR_ERR_SEND_FATAL_ALERT + BR_ALERT_HANDSHAKE_FAILURE)
			return "TLS error: no shared cipher suite or curve "
			    "(a TLS 1.3-only client?)";
		if (e >= BR_ERR_SEND_FATAL_ALERT &&
		    e < BR_ERR_SEND_FATAL_ALERT + 256)
			return "TLS error: handshake failed";
		return "TLS error: not a TLS client";
	}
}

ssize_t
tls_conn_read(struct tls_conn *t, int fd, char *out, size_t outsz,
    const char **why)
{
	br_ssl_engine_context *eng = &t->sc.eng;
	unsigned st;
	unsigned char *b;
	size_t got = 0, len;
	ssize_t n;
	bool did_read = false;

	for (;;) {
		st = br_ssl_engine_current_state(eng);
		t->shook |= (st & BR_SSL_SENDAPP) != 0;
		if (st & BR_SSL_CLOSED) {
			if (got > 0)
				return (ssize_t)got;	/* the rest next time */
			*why = closed_why(t, eng);
			return -1;
		}
		if ((st & BR_SSL_RECVAPP) && got < outsz) {
			b = br_ssl_engine_recvapp_buf(eng, &len);
			if (len > outsz - got)
				len = outsz - got;
			memcpy(out + got, b, len);
			br_ssl_engine_recvapp_ack(eng, len);
			got += len;
			continue;
		}
		if (got > 0 || did_read || !(st & BR_SSL_RECVREC)) {
			x509_release(t, st);
			return (ssize_t)got;
		}
		b = br_ssl_engine_recvrec_buf(eng, &len);
		n = read(fd, b, len);
		if (n == 0) {
			*why = "Connection closed";
			return -1;
		}
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return 0;
			*why = errno == ECONNRESET ?
			    "Connection reset by peer" : "Read error";
			return -1;
		}
		if (t->first == -1)
			t->first = b[0];
		br_ssl_engine_recvrec_ack(eng, (size_t)n);
		did_read = true;
	}
}

ssize_t
tls_conn_write(struct tls_conn *t, int fd, const char *buf, size_t len,
    const char **why)
{
	br_ssl_engine_context *eng = &t->sc.eng;
	unsigned char *b;
	size_t taken = 0, blen;
	unsigned st;
	ssize_t n;

	for (;;) {
		st = br_ssl_engine_current_state(eng);
		t->shook |= (st & BR_SSL_SENDAPP) != 0;
		if (st & BR_SSL_CLOSED) {
			*why = closed_why(t, eng);
			return -1;
		}
		if (st & BR_SSL_SENDREC) {
			b = br_ssl_engine_sendrec_buf(eng, &blen);
			n = write(fd, b, blen);
			if (n == -1) {
				if (errno == EAGAIN || errno == EWOULDBLOCK ||
				    errno == EINTR)
					return (ssize_t)taken;
				*why = errno == EPIPE || errno == ECONNRESET ?
				    "Connection reset by peer" : "Write error";
				return -1;
			}
			br_ssl_engine_sendrec_ack(eng, (size_t)n);
			continue;
		}
		if ((st & BR_SSL_SENDAPP) && taken < len) {
			b = br_ssl_engine_sendapp_buf(eng, &blen);
			if (blen > len - taken)
				blen = len - taken;
			memcpy(b, buf + taken, blen);
			br_ssl_engine_sendapp_ack(eng, blen);
			taken += blen;
			if (taken == len)
				br_ssl_engine_flush(eng, 0);
			continue;
		}
		return (ssize_t)taken;
	}
}

bool
tls_conn_want_write(struct tls_conn *t)
{
	return (br_ssl_engine_current_state(&t->sc.eng) & BR_SSL_SENDREC) !=
	    0;
}

bool
tls_conn_ready(struct tls_conn *t)
{
	return (br_ssl_engine_current_state(&t->sc.eng) & BR_SSL_SENDAPP) !=
	    0;
}

/* Whether the handshake was ever done (it may be closed since). */
bool
tls_conn_shook(const struct tls_conn *t)
{
	return t->shook;
}

/* Whether the client sent anything yet (a handshake was begun). */
bool
tls_conn_begun(const struct tls_conn *t)
{
	return t->first != -1;
}

void
tls_conn_close(struct tls_conn *t, int fd)
{
	const char *why;

	if (br_ssl_engine_current_state(&t->sc.eng) & BR_SSL_CLOSED)
		return;
	br_ssl_engine_close(&t->sc.eng);
	(void)tls_conn_write(t, fd, NULL, 0, &why);
}

const char *
tls_conn_certfp(const struct tls_conn *t)
{
	return t->have_fp ? t->fp : NULL;
}
