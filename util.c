/*
 * util.c: small helpers that serve every part and belong to none: the
 * program's clock, the system's random bytes, base64, xstrdup and
 * address lists.
 * Knows no protocol, config or socket.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#if defined(__linux__) && defined(__has_include)
#if __has_include(<sys/random.h>)
#include <sys/random.h>
#define HAVE_GETRANDOM 1
#endif
#endif

#include "util.h"

time_t		 ergo_now;
uint64_t	 ergo_now_ms;

void
ergo_clock(void)
{
	struct timespec ts;

	ergo_now = time(NULL);
	if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
		ergo_now_ms = (uint64_t)ts.tv_sec * 1000 +
		    (uint64_t)ts.tv_nsec / 1000000;
}

char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = malloc(n);

	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";


/*
 * Standard base64 of src into dst, NUL-terminated, with or without '='
 * padding (hashes omit it; SASL wants it). Returns the length written
 * without the NUL, or (size_t)-1 if dst is too small.
 */
size_t
util_b64_encode(char *dst, size_t dstsz, const void *src, size_t len,
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
util_b64_decode(void *dst, size_t dstsz, const char *src, size_t len)
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

/* One word of an address list into n[0] (and n[1]): how many, or -1. */
static int
net_word(const char *w, struct util_net *n, size_t room)
{
	char buf[64], *slash;
	unsigned long bits;
	char *end;

	if (strcmp(w, "localhost") == 0) {
		if (room < 2)
			return -1;
		memset(n, 0, 2 * sizeof(*n));
		n[0].family = AF_INET;
		n[0].bits = 8;
		n[0].addr[0] = 127;
		n[1].family = AF_INET6;
		n[1].bits = 128;
		n[1].addr[15] = 1;
		return 2;
	}
	if (strlen(w) >= sizeof(buf) || room < 1)
		return -1;
	memcpy(buf, w, strlen(w) + 1);
	memset(n, 0, sizeof(*n));
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (inet_pton(AF_INET, buf, n->addr) == 1) {
		n->family = AF_INET;
		n->bits = 32;
	} else if (inet_pton(AF_INET6, buf, n->addr) == 1) {
		n->family = AF_INET6;
		n->bits = 128;
	} else
		return -1;
	if (slash != NULL) {
		if (*slash < '0' || *slash > '9')
			return -1;
		bits = strtoul(slash, &end, 10);
		if (*end != '\0' || bits > n->bits)
			return -1;
		n->bits = (unsigned)bits;
	}
	return 1;
}

int
util_nets_parse(const char *list, struct util_net *out, size_t max,
    const char **bad)
{
	char w[64];
	size_t len, cnt = 0;
	int k;

	*bad = NULL;
	for (;;) {
		list += strspn(list, " \t,");
		if (*list == '\0')
			break;
		len = strcspn(list, " \t,");
		if (len >= sizeof(w)) {
			*bad = list;
			return -1;
		}
		memcpy(w, list, len);
		w[len] = '\0';
		if ((k = net_word(w, out + cnt, max - cnt)) == -1) {
			*bad = list;
			return -1;
		}
		cnt += (size_t)k;
		list += len;
	}
	return (int)cnt;
}

bool
util_nets_contain(const struct util_net *n, size_t cnt, const char *ip)
{
	unsigned char a[16];
	int fam;
	size_t i;
	unsigned full, rest;

	if (inet_pton(AF_INET, ip, a) == 1)
		fam = AF_INET;
	else if (inet_pton(AF_INET6, ip, a) == 1) {
		fam = AF_INET6;
		/* ::ffff:192.0.2.7 is 192.0.2.7 */
		if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
			memmove(a, a + 12, 4);
			fam = AF_INET;
		}
	} else
		return false;
	for (i = 0; i < cnt; i++) {
		if (n[i].family != fam)
			continue;
		full = n[i].bits / 8;
		rest = n[i].bits % 8;
		if (memcmp(a, n[i].addr, full) != 0)
			continue;
		if (rest != 0 && ((a[full] ^ n[i].addr[full]) &
		    (unsigned char)(0xff << (8 - rest))) != 0)
			continue;
		return true;
	}
	return false;
}

int64_t
util_milli(const char *s)
{
	int64_t v = 0;
	int frac = -1, any = 0;

	for (; *s != '\0'; s++) {
		if (*s == '.' && frac == -1) {
			frac = 0;
			continue;
		}
		if (*s < '0' || *s > '9')
			return -1;
		any = 1;
		if (frac >= 3)
			continue;
		if (v >= INT64_C(100000000000000000))
			return -1;
		v = v * 10 + (*s - '0');
		if (frac >= 0)
			frac++;
	}
	if (!any)
		return -1;
	for (frac = frac < 0 ? 0 : frac; frac < 3; frac++) {
		if (v >= INT64_C(100000000000000000))
			return -1;
		v *= 10;
	}
	return v < INT64_C(1000000000000000000) ? v : -1;
}

int
util_digits(const char *s, int n)
{
	int v = 0;

	while (n-- > 0) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s++ - '0');
	}
	return v;
}

int
util_hexbyte(const char *s)
{
	int i, v = 0, d;

	for (i = 0; i < 2; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else if (s[i] >= 'A' && s[i] <= 'F')
			d = s[i] - 'A' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	return v;
}
