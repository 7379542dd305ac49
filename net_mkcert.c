/*
 * net_mkcert.c: `ergo mkcerts`, a self-signed P-256 certificate and its
 * PKCS#8 key for first setups on systems without openssl. Writes two new
 * files; never touches a running server's listeners or TLS state.
 */

#include <arpa/inet.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bearssl.h>

#include "ergo.h"
#include "util.h"
#include "net.h"

#define MKCERT_DER_MAX	2048	/* a CN and two SANs of 253 bytes fit */
#define MKCERT_PEM_MAX	4096	/* base64 of MKCERT_DER_MAX, lines, banners */
#define MKCERT_KEY_MAX	256	/* PKCS#8 P-256 key with its public point */
#define MKCERT_SEED	48	/* bytes of OS randomness for the DRBG */
#define MKCERT_SERIAL	16
#define MKCERT_HOST_MAX	253	/* longest DNS name */
#define MKCERT_CN_MAX	64	/* RFC 5280 ub-common-name */
#define MKCERT_DAYS	3653	/* at least ten years, whatever the leap days */
#define MKCERT_BACKDATE	3600	/* a client clock a little behind still works */

/* DER tags. */
#define DER_BOOLEAN	0x01
#define DER_INTEGER	0x02
#define DER_BITSTRING	0x03
#define DER_OCTETSTRING	0x04
#define DER_OID		0x06
#define DER_UTF8STRING	0x0c
#define DER_UTCTIME	0x17
#define DER_GENTIME	0x18
#define DER_SEQUENCE	0x30
#define DER_SET		0x31
#define DER_CTX_CONS(n)	(0xa0 | (n))	/* [n] EXPLICIT */
#define DER_CTX_PRIM(n)	(0x80 | (n))	/* [n] IMPLICIT, primitive */

/* Object identifiers, content octets only; the dotted form beside each. */
static const unsigned char oid_ecdsa_sha256[] =	/* 1.2.840.10045.4.3.2 */
    { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
static const unsigned char oid_ec_pubkey[] =	/* 1.2.840.10045.2.1 */
    { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
static const unsigned char oid_prime256v1[] =	/* 1.2.840.10045.3.1.7 */
    { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const unsigned char oid_cn[] = { 0x55, 0x04, 0x03 };	/* 2.5.4.3 */
static const unsigned char oid_org[] = { 0x55, 0x04, 0x0a };	/* 2.5.4.10 */
static const unsigned char oid_ski[] = { 0x55, 0x1d, 0x0e };	/* 2.5.29.14 */
static const unsigned char oid_ku[] = { 0x55, 0x1d, 0x0f };	/* 2.5.29.15 */
static const unsigned char oid_san[] = { 0x55, 0x1d, 0x11 };	/* 2.5.29.17 */
static const unsigned char oid_bc[] = { 0x55, 0x1d, 0x13 };	/* 2.5.29.19 */
static const unsigned char oid_eku[] = { 0x55, 0x1d, 0x25 };	/* 2.5.29.37 */
static const unsigned char oid_server_auth[] =	/* 1.3.6.1.5.5.7.3.1 */
    { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01 };
static const unsigned char oid_client_auth[] =	/* 1.3.6.1.5.5.7.3.2 */
    { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02 };

/*
 * A DER writer over a caller's buffer. Constructed values are written
 * front to back with a one-byte length placeholder that der_close()
 * widens once the content length is known. Running out of room only sets
 * full, so a builder checks once at the end.
 */
struct der {
	unsigned char	*buf;
	size_t		 len, cap;
	bool		 full;
};

#define der_oid(d, o)	der_tlv((d), DER_OID, (o), sizeof(o))

/* Wipes memory in a way the compiler may not drop as a dead store. */
static void
mkcert_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n-- > 0)
		*v++ = 0;
}

static void
der_raw(struct der *d, const void *p, size_t n)
{
	if (d->full || n > d->cap - d->len) {
		d->full = true;
		return;
	}
	memcpy(d->buf + d->len, p, n);
	d->len += n;
}

static void
der_byte(struct der *d, unsigned char c)
{
	der_raw(d, &c, 1);
}

/*
 * Starts a constructed value; returns where its content begins, for
 * der_close().
 */
static size_t
der_open(struct der *d, unsigned char tag)
{
	der_byte(d, tag);
	der_byte(d, 0);
	return d->len;
}

/* Ends the value der_open() began at start: writes its real length. */
static void
der_close(struct der *d, size_t start)
{
	size_t n, k, i;

	if (d->full)
		return;
	n = d->len - start;
	if (n < 0x80) {
		d->buf[start - 1] = (unsigned char)n;
		return;
	}
	for (k = 0, i = n; i > 0; i >>= 8)
		k++;
	if (k > d->cap - d->len) {
		d->full = true;
		return;
	}
	memmove(d->buf + start + k, d->buf + start, n);
	d->buf[start - 1] = (unsigned char)(0x80 | k);
	for (i = 0; i < k; i++)
		d->buf[start + i] = (unsigned char)(n >> (8 * (k - 1 - i)));
	d->len += k;
}

/* A primitive value: tag, length, content. */
static void
der_tlv(struct der *d, unsigned char tag, const void *p, size_t n)
{
	size_t start;

	start = der_open(d, tag);
	der_raw(d, p, n);
	der_close(d, start);
}

/* A BIT STRING of whole bytes (no unused bits). */
static void
der_bits(struct der *d, const void *p, size_t n)
{
	size_t start;

	start = der_open(d, DER_BITSTRING);
	der_byte(d, 0);
	der_raw(d, p, n);
	der_close(d, start);
}

/*
 * Civil date of a day count since 1970-01-01 (proleptic Gregorian), by
 * Howard Hinnant's days_from_civil inverse: works for any int64_t, where
 * gmtime() would fail past 2038 on a 32-bit time_t.
 */
static void
mkcert_civil(int64_t z, int64_t *y, unsigned *m, unsigned *dd)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*dd = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/*
 * t (seconds since the epoch, UTC) as RFC 5280 wants it: UTCTime for
 * 1950 through 2049, GeneralizedTime otherwise, always in Zulu with
 * seconds. Returns -1 for a year that needs more than four digits.
 */
static int
der_time(struct der *d, int64_t t)
{
	int64_t days, secs, y;
	unsigned m, dd;
	char s[16];
	bool utc;
	int n;

	days = t / 86400;
	secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	mkcert_civil(days, &y, &m, &dd);
	if (y < 0 || y > 9999)
		return -1;
	utc = y >= 1950 && y < 2050;
	if (utc)
		n = snprintf(s, sizeof(s), "%02u%02u%02u%02u%02u%02uZ",
		    (unsigned)(y % 100), m, dd, (unsigned)(secs / 3600),
		    (unsigned)(secs / 60 % 60), (unsigned)(secs % 60));
	else
		n = snprintf(s, sizeof(s), "%04u%02u%02u%02u%02u%02uZ",
		    (unsigned)y, m, dd, (unsigned)(secs / 3600),
		    (unsigned)(secs / 60 % 60), (unsigned)(secs % 60));
	if (n < 0 || (size_t)n >= sizeof(s))
		return -1;
	der_tlv(d, utc ? DER_UTCTIME : DER_GENTIME, s, (size_t)n);
	return 0;
}

/* O=ergo, CN=host: the same Name serves as issuer and subject. */
static void
der_name(struct der *d, const char *host)
{
	size_t name, set, atv;

	name = der_open(d, DER_SEQUENCE);
	set = der_open(d, DER_SET);
	atv = der_open(d, DER_SEQUENCE);
	der_oid(d, oid_org);
	der_tlv(d, DER_UTF8STRING, "ergo", 4);
	der_close(d, atv);
	der_close(d, set);
	/* A longer name would break the X.520 bound; the SAN still has it. */
	if (strlen(host) <= MKCERT_CN_MAX) {
		set = der_open(d, DER_SET);
		atv = der_open(d, DER_SEQUENCE);
		der_oid(d, oid_cn);
		der_tlv(d, DER_UTF8STRING, host, strlen(host));
		der_close(d, atv);
		der_close(d, set);
	}
	der_close(d, name);
}

/*
 * Starts an Extension: extnID, critical (only when true: DER omits a
 * DEFAULT), and the OCTET STRING that wraps the value. pos[] is for
 * ext_close().
 */
static void
ext_open(struct der *d, size_t pos[2], const unsigned char *oid,
    size_t oidlen, bool critical)
{
	static const unsigned char yes = 0xff;

	pos[0] = der_open(d, DER_SEQUENCE);
	der_tlv(d, DER_OID, oid, oidlen);
	if (critical)
		der_tlv(d, DER_BOOLEAN, &yes, 1);
	pos[1] = der_open(d, DER_OCTETSTRING);
}

static void
ext_close(struct der *d, const size_t pos[2])
{
	der_close(d, pos[1]);
	der_close(d, pos[0]);
}

/*
 * The v3 extensions a TLS server (and a client presenting a certfp) is
 * checked for: not a CA, signs only, serverAuth and clientAuth, the host
 * as a DNS name (and as an address when it is one), and the RFC 5280
 * method-1 key identifier (SHA-1 of the public point).
 */
static void
der_extensions(struct der *d, const char *host, const unsigned char *ip,
    size_t iplen, const br_ec_public_key *pk)
{
	static const unsigned char ku_sign[] = { 0x07, 0x80 };
	unsigned char ski[br_sha1_SIZE];
	br_sha1_context sha1;
	size_t tag, exts, pos[2], seq;

	tag = der_open(d, DER_CTX_CONS(3));
	exts = der_open(d, DER_SEQUENCE);

	ext_open(d, pos, oid_bc, sizeof(oid_bc), true);
	seq = der_open(d, DER_SEQUENCE);	/* cA FALSE is the DEFAULT */
	der_close(d, seq);
	ext_close(d, pos);

	ext_open(d, pos, oid_ku, sizeof(oid_ku), true);
	der_tlv(d, DER_BITSTRING, ku_sign, sizeof(ku_sign));
	ext_close(d, pos);

	ext_open(d, pos, oid_eku, sizeof(oid_eku), false);
	seq = der_open(d, DER_SEQUENCE);
	der_oid(d, oid_server_auth);
	der_oid(d, oid_client_auth);
	der_close(d, seq);
	ext_close(d, pos);

	ext_open(d, pos, oid_san, sizeof(oid_san), false);
	seq = der_open(d, DER_SEQUENCE);
	der_tlv(d, DER_CTX_PRIM(2), host, strlen(host));	/* dNSName */
	if (iplen > 0)
		der_tlv(d, DER_CTX_PRIM(7), ip, iplen);		/* iPAddress */
	der_close(d, seq);
	ext_close(d, pos);

	br_sha1_init(&sha1);
	br_sha1_update(&sha1, pk->q, pk->qlen);
	br_sha1_out(&sha1, ski);
	ext_open(d, pos, oid_ski, sizeof(oid_ski), false);
	der_tlv(d, DER_OCTETSTRING, ski, sizeof(ski));
	ext_close(d, pos);

	der_close(d, exts);
	der_close(d, tag);
}

/* AlgorithmIdentifier ecdsa-with-SHA256: no parameters (RFC 5758). */
static void
der_sigalg(struct der *d)
{
	size_t seq;

	seq = der_open(d, DER_SEQUENCE);
	der_oid(d, oid_ecdsa_sha256);
	der_close(d, seq);
}

/*
 * The whole Certificate: TBSCertificate, its algorithm, and the ECDSA
 * signature over the SHA-256 of the TBSCertificate's DER. now is a
 * parameter so the unit test can cross the 2050 UTCTime limit. Returns
 * the DER length, or 0.
 */
static size_t
mkcert_build(unsigned char *out, size_t outsz, const char *host,
    const unsigned char *ip, size_t iplen,
    const unsigned char serial[MKCERT_SERIAL], const br_ec_private_key *sk,
    const br_ec_public_key *pk, int64_t now)
{
	static const unsigned char v3 = 2;
	unsigned char hash[br_sha256_SIZE], sig[80];
	br_sha256_context sha;
	struct der d = { out, 0, outsz, false };
	size_t cert, tbs, tbspos, seq, ver, alg, siglen;

	cert = der_open(&d, DER_SEQUENCE);
	tbspos = d.len;
	tbs = der_open(&d, DER_SEQUENCE);
	ver = der_open(&d, DER_CTX_CONS(0));
	der_tlv(&d, DER_INTEGER, &v3, 1);
	der_close(&d, ver);
	der_tlv(&d, DER_INTEGER, serial, MKCERT_SERIAL);
	der_sigalg(&d);
	der_name(&d, host);
	seq = der_open(&d, DER_SEQUENCE);
	if (der_time(&d, now - MKCERT_BACKDATE) == -1 ||
	    der_time(&d, now + (int64_t)MKCERT_DAYS * 86400) == -1)
		return 0;
	der_close(&d, seq);
	der_name(&d, host);
	seq = der_open(&d, DER_SEQUENCE);
	alg = der_open(&d, DER_SEQUENCE);
	der_oid(&d, oid_ec_pubkey);
	der_oid(&d, oid_prime256v1);
	der_close(&d, alg);
	der_bits(&d, pk->q, pk->qlen);
	der_close(&d, seq);
	der_extensions(&d, host, ip, iplen, pk);
	der_close(&d, tbs);
	if (d.full)
		return 0;

	br_sha256_init(&sha);
	br_sha256_update(&sha, out + tbspos, d.len - tbspos);
	br_sha256_out(&sha, hash);
	siglen = br_ecdsa_sign_asn1_get_default()(br_ec_get_default(),
	    &br_sha256_vtable, hash, sk, sig);
	if (siglen == 0 || siglen > sizeof(sig))
		return 0;
	der_sigalg(&d);
	der_bits(&d, sig, siglen);
	der_close(&d, cert);
	return d.full ? 0 : d.len;
}

/*
 * A host we can put in a certificate: an IPv4/IPv6 literal (its address
 * goes in *ip), or a DNS name of letters, digits, '-', '.', '_' and a
 * wildcard '*'. Anything else would make a dNSName no client matches.
 */
static bool
mkcert_host_parse(const char *host, unsigned char ip[16], size_t *iplen)
{
	const char *p;
	size_t n = strlen(host);

	*iplen = 0;
	if (n == 0 || n > MKCERT_HOST_MAX)
		return false;
	if (inet_pton(AF_INET, host, ip) == 1) {
		*iplen = 4;
		return true;
	}
	if (inet_pton(AF_INET6, host, ip) == 1) {
		*iplen = 16;
		return true;
	}
	for (p = host; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '*'))
			return false;
	return true;
}

/* New file only: an existing certificate or key is never replaced. */
static int
mkcert_create(const char *path, mode_t mode)
{
	int fd;

	do
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	while (fd == -1 && errno == EINTR);
	if (fd == -1) {
		if (errno == EEXIST)
			fprintf(stderr, "ergo: %s already exists; not "
			    "overwriting it (remove it first)\n", path);
		else
			fprintf(stderr, "ergo: %s: %s\n", path,
			    strerror(errno));
	}
	return fd;
}

/* All of buf, then close; reports a failure naming path. */
static int
mkcert_finish(int fd, const char *path, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		buf += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1 && errno != EINVAL)
		goto fail;
	if (close(fd) == -1)
		goto fail_closed;
	return 0;
fail:
	(void)close(fd);
fail_closed:
	fprintf(stderr, "ergo: %s: %s\n", path, strerror(errno));
	return -1;
}

/*
 * Writes a new self-signed certificate for host to certpath (PEM,
 * mode 0644 before umask) and its private key to keypath (PEM PKCS#8,
 * mode 0600). Neither file is written if either exists or anything
 * fails. Prints both paths and the certificate's SHA-256 fingerprint
 * (the certfp clients are matched by) to stdout, errors to stderr.
 * Returns 0, or -1.
 */
int
net_mkcert_write(const char *certpath, const char *keypath, const char *host)
{
	const br_ec_impl *ec = br_ec_get_default();
	unsigned char seed[MKCERT_SEED], serial[MKCERT_SERIAL], ip[16];
	unsigned char kbuf[BR_EC_KBUF_PRIV_MAX_SIZE];
	unsigned char pbuf[BR_EC_KBUF_PUB_MAX_SIZE];
	unsigned char der[MKCERT_DER_MAX], keyder[MKCERT_KEY_MAX];
	unsigned char fp[br_sha256_SIZE];
	char certpem[MKCERT_PEM_MAX], keypem[MKCERT_PEM_MAX];
	br_hmac_drbg_context rng;
	br_ec_private_key sk;
	br_ec_public_key pk;
	br_sha256_context sha;
	size_t iplen, derlen, keylen, certpemlen, keypemlen, i;
	int certfd, keyfd, rc = -1;

	if (!mkcert_host_parse(host, ip, &iplen)) {
		fprintf(stderr, "ergo: %s: not a host name or IP address\n",
		    host);
		return -1;
	}
	if (strcmp(certpath, keypath) == 0) {
		fprintf(stderr, "ergo: certificate and key would both be "
		    "%s\n", certpath);
		return -1;
	}
	if (ergo_random(seed, sizeof(seed)) == -1 ||
	    ergo_random(serial, sizeof(serial)) == -1) {
		fprintf(stderr, "ergo: no random bytes: %s\n",
		    strerror(errno));
		goto done;
	}
	/* Positive and exactly MKCERT_SERIAL bytes long in DER. */
	serial[0] = (serial[0] & 0x7f) | 0x40;
	br_hmac_drbg_init(&rng, &br_sha256_vtable, seed, sizeof(seed));
	if (br_ec_keygen(&rng.vtable, ec, &sk, kbuf, BR_EC_secp256r1) == 0 ||
	    br_ec_compute_pub(ec, &pk, pbuf, &sk) == 0) {
		fputs("ergo: P-256 key generation failed\n", stderr);
		goto done;
	}
	if ((derlen = mkcert_build(der, sizeof(der), host, ip, iplen, serial,
	    &sk, &pk, (int64_t)time(NULL))) == 0) {
		fputs("ergo: could not build the certificate\n", stderr);
		goto done;
	}
	if ((keylen = br_encode_ec_pkcs8_der(NULL, &sk, &pk)) == 0 ||
	    keylen > sizeof(keyder) ||
	    br_encode_ec_pkcs8_der(keyder, &sk, &pk) != keylen ||
	    br_pem_encode(NULL, der, derlen, "CERTIFICATE", BR_PEM_LINE64) >=
	    sizeof(certpem) ||
	    br_pem_encode(NULL, keyder, keylen, BR_ENCODE_PEM_PKCS8,
	    BR_PEM_LINE64) >= sizeof(keypem)) {
		fputs("ergo: could not encode the certificate or key\n",
		    stderr);
		goto done;
	}
	certpemlen = br_pem_encode(certpem, der, derlen, "CERTIFICATE",
	    BR_PEM_LINE64);
	keypemlen = br_pem_encode(keypem, keyder, keylen, BR_ENCODE_PEM_PKCS8,
	    BR_PEM_LINE64);

	if ((keyfd = mkcert_create(keypath, 0600)) == -1)
		goto done;
	if ((certfd = mkcert_create(certpath, 0644)) == -1) {
		(void)close(keyfd);
		goto unlink_key;
	}
	if (mkcert_finish(keyfd, keypath, keypem, keypemlen) == -1) {
		(void)close(certfd);
		goto unlink_both;
	}
	if (mkcert_finish(certfd, certpath, certpem, certpemlen) == -1)
		goto unlink_both;

	br_sha256_init(&sha);
	br_sha256_update(&sha, der, derlen);
	br_sha256_out(&sha, fp);
	printf("wrote certificate %s\nwrote private key %s\n"
	    "SHA-256 fingerprint (certfp): ", certpath, keypath);
	for (i = 0; i < sizeof(fp); i++)
		printf("%02x", fp[i]);
	putchar('\n');
	rc = 0;
	goto done;

unlink_both:
	(void)unlink(certpath);
unlink_key:
	(void)unlink(keypath);
done:
	mkcert_wipe(seed, sizeof(seed));
	mkcert_wipe(&rng, sizeof(rng));
	mkcert_wipe(kbuf, sizeof(kbuf));
	mkcert_wipe(keyder, sizeof(keyder));
	mkcert_wipe(keypem, sizeof(keypem));
	mkcert_wipe(&sk, sizeof(sk));
	return rc;
}
