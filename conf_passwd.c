/*
 * conf_passwd.c: password hashes for oper blocks and server.password
 * ("$pbkdf2-sha256$ITER$SALT$HASH"), PBKDF2-HMAC-SHA256 over BearSSL,
 * base64, and the system's random bytes. Knows nothing of the config file.
 */

/*
 * NEEDS-HEADER (ergo.h, conf.c section), for conf.c and later SASL/SCRAM:
 *
 * #define CONF_PASSWD_ITER_DEFAULT 32768
 * bool	 conf_passwd_check(const char *hash);	// well-formed hash?
 * void	 conf_passwd_pbkdf2(const void *pw, size_t pwlen, const void *salt,
 *	    size_t saltlen, unsigned iter, void *out, size_t outlen);
 * size_t conf_b64_encode(char *dst, size_t dstsz, const void *src,
 *	    size_t len, bool pad);		// (size_t)-1: dst too small
 * size_t conf_b64_decode(void *dst, size_t dstsz, const char *src,
 *	    size_t len);			// (size_t)-1: malformed/too big
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__linux__) && defined(__has_include)
#if __has_include(<sys/random.h>)
#include <sys/random.h>
#define HAVE_GETRANDOM 1
#endif
#endif

#include <bearssl.h>

#include "ergo.h"

/* Until ergo.h declares them (see NEEDS-HEADER above). */
#define CONF_PASSWD_ITER_DEFAULT 32768
bool	 conf_passwd_check(const char *hash);
void	 conf_passwd_pbkdf2(const void *pw, size_t pwlen, const void *salt,
	    size_t saltlen, unsigned iter, void *out, size_t outlen);
size_t	 conf_b64_encode(char *dst, size_t dstsz, const void *src,
	    size_t len, bool pad);
size_t	 conf_b64_decode(void *dst, size_t dstsz, const char *src,
	    size_t len);

#define PASSWD_PREFIX	"$pbkdf2-sha256$"
#define PASSWD_SALTLEN	16
#define PASSWD_SALTMAX	64		/* accepted when verifying */
#define PASSWD_HASHLEN	32		/* one SHA-256 block */
/* A hash in a config file cannot make every OPER take minutes. */
#define PASSWD_ITER_MAX	10000000U

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Wipes memory in a way the compiler may not drop as a dead store. */
static void
passwd_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n-- > 0)
		*v++ = 0;
}

/*
 * Standard base64 of src into dst, NUL-terminated, with or without '='
 * padding (hashes omit it; SASL wants it). Returns the length written
 * without the NUL, or (size_t)-1 if dst is too small.
 */
size_t
conf_b64_encode(char *dst, size_t dstsz, const void *src, size_t len,
    bool pad)
{
	const unsigned char *s = src;
	size_t need, i, o = 0;
	unsigned long v;

	if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
		return (size_t)-1;
	need = len / 3 * 4;
	if (len % 3 != 0)
		need += pad ? 4 : len % 3 + 1;
	if (dstsz < need + 1)
		return (size_t)-1;
	for (i = 0; i + 3 <= len; i += 3) {
		v = (unsigned long)s[i] << 16 | (unsigned long)s[i + 1] << 8 |
		    s[i + 2];
		dst[o++] = b64_alphabet[v >> 18 & 63];
		dst[o++] = b64_alphabet[v >> 12 & 63];
		dst[o++] = b64_alphabet[v >> 6 & 63];
		dst[o++] = b64_alphabet[v & 63];
	}
	if (len - i == 1) {
		v = (unsigned long)s[i] << 16;
		dst[o++] = b64_alphabet[v >> 18 & 63];
		dst[o++] = b64_alphabet[v >> 12 & 63];
		if (pad) {
			dst[o++] = '=';
			dst[o++] = '=';
		}
	} else if (len - i == 2) {
		v = (unsigned long)s[i] << 16 | (unsigned long)s[i + 1] << 8;
		dst[o++] = b64_alphabet[v >> 18 & 63];
		dst[o++] = b64_alphabet[v >> 12 & 63];
		dst[o++] = b64_alphabet[v >> 6 & 63];
		if (pad)
			dst[o++] = '=';
	}
	dst[o] = '\0';
	return o;
}

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decodes len bytes of standard base64 (padding optional but, if present,
 * exactly right) into dst. Strict: no whitespace, no stray characters, no
 * non-zero bits after the last byte, so every value has one spelling.
 * Returns the number of bytes decoded, or (size_t)-1.
 */
size_t
conf_b64_decode(void *dst, size_t dstsz, const char *src, size_t len)
{
	unsigned char *d = dst;
	size_t i, o = 0, npad = 0, rem;
	unsigned long v = 0;
	int x, bits = 0;

	while (npad < 2 && len > 0 && src[len - 1] == '=') {
		len--;
		npad++;
	}
	rem = len % 4;
	if (rem == 1 || (npad > 0 && npad != 4 - rem))
		return (size_t)-1;
	if (len / 4 * 3 + (rem ? rem - 1 : 0) > dstsz)
		return (size_t)-1;
	for (i = 0; i < len; i++) {
		if ((x = b64_value((unsigned char)src[i])) == -1)
			return (size_t)-1;
		v = (v << 6 | (unsigned long)x) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			d[o++] = (unsigned char)(v >> bits & 0xff);
		}
	}
	/* The leftover bits of a partial group must be zero. */
	if (bits > 0 && (v & ((1UL << bits) - 1)) != 0)
		return (size_t)-1;
	return o;
}

/*
 * PBKDF2 (RFC 8018) with HMAC-SHA256: outlen bytes derived from pw and
 * salt with iter iterations (0 is taken as 1). The HMAC key context is
 * computed once, so each iteration costs two SHA-256 compressions.
 */
void
conf_passwd_pbkdf2(const void *pw, size_t pwlen, const void *salt,
    size_t saltlen, unsigned iter, void *out, size_t outlen)
{
	br_hmac_key_context kc;
	br_hmac_context hc;
	unsigned char u[32], t[32], cnt[4], *o = out;
	uint32_t block;
	unsigned i;
	size_t j, n;

	br_hmac_key_init(&kc, &br_sha256_vtable, pw, pwlen);
	for (block = 1; outlen > 0; block++) {
		cnt[0] = (unsigned char)(block >> 24);
		cnt[1] = (unsigned char)(block >> 16);
		cnt[2] = (unsigned char)(block >> 8);
		cnt[3] = (unsigned char)block;
		br_hmac_init(&hc, &kc, 0);
		br_hmac_update(&hc, salt, saltlen);
		br_hmac_update(&hc, cnt, sizeof(cnt));
		br_hmac_out(&hc, u);
		memcpy(t, u, sizeof(t));
		for (i = 1; i < iter; i++) {
			br_hmac_init(&hc, &kc, 0);
			br_hmac_update(&hc, u, sizeof(u));
			br_hmac_out(&hc, u);
			for (j = 0; j < sizeof(t); j++)
				t[j] ^= u[j];
		}
		n = outlen < sizeof(t) ? outlen : sizeof(t);
		memcpy(o, t, n);
		o += n;
		outlen -= n;
	}
	passwd_wipe(u, sizeof(u));
	passwd_wipe(t, sizeof(t));
	passwd_wipe(&kc, sizeof(kc));
	passwd_wipe(&hc, sizeof(hc));
}

struct passwd_parsed {
	unsigned	 iter;
	unsigned char	 salt[PASSWD_SALTMAX];
	size_t		 saltlen;
	unsigned char	 hash[PASSWD_HASHLEN];
};

/* Splits a hash string into its parts; -1 if it is not well-formed. */
static int
passwd_parse(const char *s, struct passwd_parsed *pp)
{
	const char *p, *end;
	unsigned long iter = 0;

	if (s == NULL || strncmp(s, PASSWD_PREFIX, strlen(PASSWD_PREFIX)) != 0)
		return -1;
	p = s + strlen(PASSWD_PREFIX);
	/* iterations: decimal, no sign, no leading zero */
	if (*p < '1' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		iter = iter * 10 + (unsigned long)(*p - '0');
		if (iter > PASSWD_ITER_MAX)
			return -1;
	}
	if (*p++ != '$')
		return -1;
	if ((end = strchr(p, '$')) == NULL || end == p)
		return -1;
	if (memchr(p, '=', (size_t)(end - p)) != NULL)
		return -1;
	pp->saltlen = conf_b64_decode(pp->salt, sizeof(pp->salt), p,
	    (size_t)(end - p));
	if (pp->saltlen == (size_t)-1 || pp->saltlen == 0)
		return -1;
	p = end + 1;
	if (strchr(p, '$') != NULL || strchr(p, '=') != NULL ||
	    conf_b64_decode(pp->hash, sizeof(pp->hash), p, strlen(p)) !=
	    PASSWD_HASHLEN)
		return -1;
	pp->iter = (unsigned)iter;
	return 0;
}

/* Whether hash has the form conf_passwd_hash() produces. */
bool
conf_passwd_check(const char *hash)
{
	struct passwd_parsed pp;

	return passwd_parse(hash, &pp) == 0;
}

/*
 * "$pbkdf2-sha256$ITER$SALT$HASH" for pw, with a fresh 16-byte salt and
 * base64 without padding. iterations 0 means CONF_PASSWD_ITER_DEFAULT
 * (32768, eight times SCRAM's minimum of 4096: about 15 ms of one core
 * per OPER or connection password, see the README; older hashes keep
 * the count they name). Returns a malloc'd string, or NULL with errno
 * set.
 */
char *
conf_passwd_hash(const char *pw, unsigned iterations)
{
	unsigned char salt[PASSWD_SALTLEN], hash[PASSWD_HASHLEN];
	char salt64[32], hash64[48], *out;
	size_t sz;
	int n;

	if (iterations == 0)
		iterations = CONF_PASSWD_ITER_DEFAULT;
	if (pw == NULL || iterations > PASSWD_ITER_MAX) {
		errno = EINVAL;
		return NULL;
	}
	if (ergo_random(salt, sizeof(salt)) == -1)
		return NULL;
	conf_passwd_pbkdf2(pw, strlen(pw), salt, sizeof(salt), iterations,
	    hash, sizeof(hash));
	if (conf_b64_encode(salt64, sizeof(salt64), salt, sizeof(salt),
	    false) == (size_t)-1 ||
	    conf_b64_encode(hash64, sizeof(hash64), hash, sizeof(hash),
	    false) == (size_t)-1) {
		errno = EOVERFLOW;
		return NULL;
	}
	passwd_wipe(hash, sizeof(hash));
	sz = strlen(PASSWD_PREFIX) + 10 + 1 + strlen(salt64) + 1 +
	    strlen(hash64) + 1;
	if ((out = malloc(sz)) == NULL)
		return NULL;
	n = snprintf(out, sz, "%s%u$%s$%s", PASSWD_PREFIX, iterations,
	    salt64, hash64);
	if (n < 0 || (size_t)n >= sz) {
		free(out);
		errno = EOVERFLOW;
		return NULL;
	}
	return out;
}

/*
 * Whether pw matches hash. A malformed or NULL hash never matches; the
 * final comparison takes the same time wherever the bytes differ.
 */
bool
conf_passwd_verify(const char *hash, const char *pw)
{
	struct passwd_parsed pp;
	unsigned char got[PASSWD_HASHLEN];
	unsigned diff = 0;
	size_t i;

	if (pw == NULL || passwd_parse(hash, &pp) == -1)
		return false;
	conf_passwd_pbkdf2(pw, strlen(pw), pp.salt, pp.saltlen, pp.iter, got,
	    sizeof(got));
	for (i = 0; i < sizeof(got); i++)
		diff |= (unsigned)(got[i] ^ pp.hash[i]);
	passwd_wipe(got, sizeof(got));
	return diff == 0;
}

/* /dev/urandom, for systems (or kernels) without getrandom(). */
static int
random_urandom(unsigned char *p, size_t len)
{
	ssize_t n;
	int fd, saved;

	do
		fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	while (fd == -1 && errno == EINTR);
	if (fd == -1)
		return -1;
	while (len > 0) {
		if ((n = read(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		if (n == 0) {
			close(fd);
			errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	close(fd);
	return 0;
}

/*
 * len bytes from the system's CSPRNG. Returns 0, or -1 with errno set;
 * never returns predictable bytes.
 */
int
ergo_random(void *buf, size_t len)
{
	unsigned char *p = buf;
#ifdef HAVE_GETRANDOM
	ssize_t n;

	while (len > 0) {
		/* At most 256 bytes per call are never cut short. */
		n = getrandom(p, len > 256 ? 256 : len, 0);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == ENOSYS)	/* kernel older than 3.17 */
				return random_urandom(p, len);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
#else
	return random_urandom(p, len);
#endif
}
