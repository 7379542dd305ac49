/*
 * net_tls_cred.c: TLS credentials for net_tls.c: a PEM certificate
 * chain and its key read and checked (the key must match the leaf),
 * refcounted so a rehash never pulls them from under a live engine, and
 * the leaf's fingerprint. Reads files only; no engine, no socket.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bearssl.h>

#include "ergo.h"
#include "net_tls.h"
#include "net_tls_int.h"

#define PEM_FILE_MAX	(1024 * 1024)	/* no chain or key is this big */

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
	cache_free(cr->cache);
	free(cr);
}

const char *
tls_cred_fingerprint(const struct tls_cred *cr)
{
	return cr->fp;
}
