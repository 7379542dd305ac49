/*
 * bench/load_tls.c: TLS for bench/load's clients (-t), BearSSL's client
 * engine with every suite and curve br_ssl_client_init_full offers; the
 * server's preference decides. The server's certificate chain is not
 * checked (a loopback benchmark against a self-signed key): a validator
 * of a few lines takes the leaf's public key and nothing else. Raw input
 * is read in 16 KiB gulps and fed to the engine from user space, not one
 * read(2) per record header and body, so a TLS client reads about as
 * many times as a plain one.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bearssl.h>

#include "load_tls.h"

#define RAW	16384

struct nocheck {
	const br_x509_class	*vtable;	/* first */
	br_x509_decoder_context	 dec;
	unsigned		 ncert;
};

struct ltls {
	br_ssl_client_context	 cc;
	struct nocheck		 x;
	size_t			 rlen, roff;	/* raw[roff..rlen): unfed */
	unsigned char		 raw[RAW];
	unsigned char		 io[BR_SSL_BUFSIZE_BIDI];
};

/* ---- the validator that takes any chain: the leaf's key only ---- */

static void
nc_start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct nocheck *x = (struct nocheck *)(void *)ctx;

	(void)server_name;
	x->ncert = 0;
	br_x509_decoder_init(&x->dec, NULL, NULL);
}

static void
nc_start_cert(const br_x509_class **ctx, uint32_t length)
{
	(void)length;
	((struct nocheck *)(void *)ctx)->ncert++;
}

static void
nc_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	struct nocheck *x = (struct nocheck *)(void *)ctx;

	if (x->ncert == 1)
		br_x509_decoder_push(&x->dec, buf, len);
}

static void
nc_end_cert(const br_x509_class **ctx)
{
	(void)ctx;
}

static unsigned
nc_end_chain(const br_x509_class **ctx)
{
	struct nocheck *x = (struct nocheck *)(void *)ctx;

	return br_x509_decoder_get_pkey(&x->dec) != NULL ? 0 :
	    BR_ERR_X509_INVALID_VALUE;
}

static const br_x509_pkey *
nc_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	struct nocheck *x = (struct nocheck *)(void *)(uintptr_t)ctx;

	if (usages != NULL)
		*usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	return br_x509_decoder_get_pkey(&x->dec);
}

static const br_x509_class nocheck_vtable = {
	sizeof(struct nocheck), nc_start_chain, nc_start_cert, nc_append,
	nc_end_cert, nc_end_chain, nc_get_pkey
};

/* ---- connections ---- */

struct ltls *
ltls_new(void)
{
	/* init_full wants a minimal validator; it is replaced at once */
	static br_x509_minimal_context unused;
	struct ltls *t;

	if ((t = malloc(sizeof(*t))) == NULL)
		return NULL;
	br_ssl_client_init_full(&t->cc, &unused, NULL, 0);
	t->x.vtable = &nocheck_vtable;
	br_ssl_engine_set_x509(&t->cc.eng, &t->x.vtable);
	br_ssl_engine_set_buffer(&t->cc.eng, t->io, sizeof(t->io), 1);
	t->rlen = t->roff = 0;
	if (!br_ssl_client_reset(&t->cc, NULL, 0)) {
		fprintf(stderr, "load: TLS engine reset failed (%d)\n",
		    br_ssl_engine_last_error(&t->cc.eng));
		free(t);
		return NULL;
	}
	return t;
}

void
ltls_free(struct ltls *t)
{
	free(t);
}

/* Writes pending records: 1 all gone, 0 fd would block, -1 error. */
static int
send_records(struct ltls *t, int fd)
{
	br_ssl_engine_context *eng = &t->cc.eng;
	unsigned char *b;
	size_t len;
	ssize_t n;

	while (br_ssl_engine_current_state(eng) & BR_SSL_SENDREC) {
		b = br_ssl_engine_sendrec_buf(eng, &len);
		if ((n = write(fd, b, len)) == -1)
			return errno == EAGAIN || errno == EINTR ? 0 : -1;
		br_ssl_engine_sendrec_ack(eng, (size_t)n);
	}
	return 1;
}

/* A closed engine as read/write report it: 0 (clean) or -1 EPROTO. */
static ssize_t
closed(struct ltls *t)
{
	int e = br_ssl_engine_last_error(&t->cc.eng);

	if (e == BR_ERR_OK)
		return 0;
	fprintf(stderr, "load: TLS error %d\n", e);
	errno = EPROTO;
	return -1;
}

ssize_t
ltls_read(struct ltls *t, int fd, char *out, size_t outsz)
{
	br_ssl_engine_context *eng = &t->cc.eng;
	unsigned char *b;
	size_t got = 0, len;
	ssize_t n;
	int eof = 0, drained = 0, wblocked = 0;
	unsigned st;

	for (;;) {
		st = br_ssl_engine_current_state(eng);
		if (st & BR_SSL_CLOSED)
			return got > 0 ? (ssize_t)got : closed(t);
		if ((st & BR_SSL_SENDREC) && !wblocked) {
			int rc = send_records(t, fd);

			if (rc == -1)
				return got > 0 ? (ssize_t)got : -1;
			wblocked = rc == 0;
			continue;
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
		if (!(st & BR_SSL_RECVREC))
			break;
		if (t->roff < t->rlen) {
			b = br_ssl_engine_recvrec_buf(eng, &len);
			if (len > t->rlen - t->roff)
				len = t->rlen - t->roff;
			memcpy(b, t->raw + t->roff, len);
			t->roff += len;
			br_ssl_engine_recvrec_ack(eng, len);
			continue;
		}
		/* read only what out has room to take once decrypted */
		if (eof || drained || outsz - got < LTLS_ROOM)
			break;
		n = read(fd, t->raw, RAW);
		if (n == 0) {
			eof = 1;
			continue;
		}
		if (n == -1) {
			if (errno != EAGAIN && errno != EINTR)
				return got > 0 ? (ssize_t)got : -1;
			drained = 1;
			continue;
		}
		t->rlen = (size_t)n;
		t->roff = 0;
		drained = n < RAW;
	}
	if (got > 0)
		return (ssize_t)got;
	if (eof)
		return 0;
	errno = EAGAIN;
	return -1;
}

ssize_t
ltls_write(struct ltls *t, int fd, const char *buf, size_t len)
{
	br_ssl_engine_context *eng = &t->cc.eng;
	unsigned char *b;
	size_t taken = 0, blen;
	unsigned st;
	int rc;

	for (;;) {
		st = br_ssl_engine_current_state(eng);
		if (st & BR_SSL_CLOSED)
			return taken > 0 ? (ssize_t)taken : closed(t) == 0 ?
			    (errno = EPIPE, -1) : -1;
		if (st & BR_SSL_SENDREC) {
			if ((rc = send_records(t, fd)) == -1)
				return -1;
			if (rc == 0)
				break;
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
		break;
	}
	if (taken == 0 && len > 0) {
		errno = EAGAIN;
		return -1;
	}
	return (ssize_t)taken;
}

int
ltls_want_write(struct ltls *t)
{
	return (br_ssl_engine_current_state(&t->cc.eng) & BR_SSL_SENDREC) != 0;
}

int
ltls_ready(struct ltls *t)
{
	return (br_ssl_engine_current_state(&t->cc.eng) & BR_SSL_SENDAPP) != 0;
}

const char *
ltls_suite(struct ltls *t)
{
	br_ssl_session_parameters pp;

	br_ssl_engine_get_session_parameters(&t->cc.eng, &pp);
	switch (pp.cipher_suite) {
	case BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:
		return "ECDHE-ECDSA-AES128-GCM-SHA256";
	case BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:
		return "ECDHE-ECDSA-AES256-GCM-SHA384";
	case BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256:
		return "ECDHE-ECDSA-CHACHA20-POLY1305";
	case BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:
		return "ECDHE-RSA-AES128-GCM-SHA256";
	case BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256:
		return "ECDHE-RSA-CHACHA20-POLY1305";
	default:
		return "other";
	}
}
