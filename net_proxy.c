/*
 * net_proxy.c: the PROXY protocol header (HAProxy's proxy-protocol.txt),
 * version 1 ("PROXY TCP4 src dst sport dport\r\n") and version 2 (a
 * binary signature, addresses and TLVs). Parses bytes only: net.c reads
 * them, decides who may send one and what the address then drives.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net_proxy.h"

static const unsigned char v2sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

#define PP2_TYPE_SSL	0x20
#define PP2_CLIENT_SSL	0x01

/* A port: 1 to 5 digits, no sign, at most 65535. */
static bool
v1_port(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 5 && strspn(s, "0123456789") == n &&
	    strtoul(s, NULL, 10) <= 65535;
}

static int
v1_parse(const unsigned char *buf, size_t len, struct proxy_hdr *h,
    const char **why)
{
	char line[PROXY_V1_MAX + 1], *f[6], *p;
	const unsigned char *lf;
	size_t n, i;
	int fam;

	lf = memchr(buf, '\n', len < PROXY_V1_MAX ? len : PROXY_V1_MAX);
	if (lf == NULL) {
		if (len >= PROXY_V1_MAX) {
			*why = "PROXY header too long";
			return PROXY_BAD;
		}
		return PROXY_MORE;
	}
	n = (size_t)(lf - buf);
	if (n == 0 || buf[n - 1] != '\r') {
		*why = "PROXY header not ended by CRLF";
		return PROXY_BAD;
	}
	memcpy(line, buf, n - 1);
	line[n - 1] = '\0';
	for (i = 0; i < n - 1; i++)
		if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f) {
			*why = "PROXY header with a control character";
			return PROXY_BAD;
		}
	/* single spaces between fields, as the specification writes them */
	for (i = 0, p = line; i < 6; i++) {
		f[i] = p;
		if ((p = strchr(p, ' ')) == NULL) {
			i++;
			break;
		}
		*p++ = '\0';
	}
	memset(h, 0, sizeof(*h));
	if (i >= 2 && strcmp(f[1], "UNKNOWN") == 0)
		return (int)n + 1;	/* the rest is to be ignored */
	if (i != 6 || p != NULL || strcmp(f[0], "PROXY") != 0) {
		*why = "malformed PROXY header";
		return PROXY_BAD;
	}
	if (strcmp(f[1], "TCP4") == 0)
		fam = AF_INET;
	else if (strcmp(f[1], "TCP6") == 0)
		fam = AF_INET6;
	else {
		*why = "PROXY header with an unknown protocol";
		return PROXY_BAD;
	}
	if (!v1_port(f[4]) || !v1_port(f[5])) {
		*why = "PROXY header with a bad port";
		return PROXY_BAD;
	}
	if (fam == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&h->src;
		struct in_addr dst;

		if (inet_pton(AF_INET, f[2], &sin->sin_addr) != 1 ||
		    inet_pton(AF_INET, f[3], &dst) != 1)
			goto badaddr;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)strtoul(f[4], NULL, 10));
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&h->src;
		struct in6_addr dst;

		if (inet_pton(AF_INET6, f[2], &sin6->sin6_addr) != 1 ||
		    inet_pton(AF_INET6, f[3], &dst) != 1)
			goto badaddr;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)strtoul(f[4], NULL, 10));
	}
	return (int)n + 1;
badaddr:
	memset(h, 0, sizeof(*h));
	*why = "PROXY header with a bad address";
	return PROXY_BAD;
}

/* The TLVs after v2's addresses: only whether the client spoke TLS. */
static int
v2_tlvs(const unsigned char *p, size_t n, struct proxy_hdr *h,
    const char **why)
{
	size_t l;

	while (n > 0) {
		if (n < 3 || (l = (size_t)p[1] << 8 | p[2]) > n - 3) {
			*why = "PROXY v2 header with a malformed TLV";
			return -1;
		}
		if (p[0] == PP2_TYPE_SSL && l >= 1 && (p[3] & PP2_CLIENT_SSL))
			h->tls = true;
		p += 3 + l;
		n -= 3 + l;
	}
	return 0;
}

static int
v2_parse(const unsigned char *buf, size_t len, struct proxy_hdr *h,
    const char **why)
{
	size_t total, alen;
	const unsigned char *a = buf + 16;

	if (len < 16)
		return PROXY_MORE;
	if ((buf[12] & 0xf0) != 0x20) {
		*why = "PROXY v2 header of an unknown version";
		return PROXY_BAD;
	}
	total = 16 + ((size_t)buf[14] << 8 | buf[15]);
	if (total > PROXY_HDR_MAX) {
		*why = "PROXY header too long";
		return PROXY_BAD;
	}
	if (len < total)
		return PROXY_MORE;
	memset(h, 0, sizeof(*h));
	switch (buf[12] & 0x0f) {
	case 0:			/* LOCAL: the proxy's own health check */
		return (int)total;
	case 1:			/* PROXY */
		break;
	default:
		*why = "PROXY v2 header with an unknown command";
		return PROXY_BAD;
	}
	alen = total - 16;
	switch (buf[13]) {
	case 0x11:		/* TCP over IPv4 */
	case 0x12: {		/* UDP: same addresses; the stream is ours */
		struct sockaddr_in *sin = (struct sockaddr_in *)&h->src;

		if (alen < 12)
			goto short_;
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, a, 4);
		memcpy(&sin->sin_port, a + 8, 2);
		return v2_tlvs(a + 12, alen - 12, h, why) == 0 ? (int)total :
		    PROXY_BAD;
	}
	case 0x21:		/* TCP over IPv6 */
	case 0x22: {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&h->src;

		if (alen < 36)
			goto short_;
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, a, 16);
		memcpy(&sin6->sin6_port, a + 32, 2);
		return v2_tlvs(a + 36, alen - 36, h, why) == 0 ? (int)total :
		    PROXY_BAD;
	}
	case 0x00:		/* UNSPEC */
	case 0x31:		/* a Unix socket: no address to show */
	case 0x32:
		return (int)total;
	default:
		*why = "PROXY v2 header with an unknown address family";
		return PROXY_BAD;
	}
short_:
	memset(h, 0, sizeof(*h));
	*why = "PROXY v2 header shorter than its addresses";
	return PROXY_BAD;
}

int
proxy_parse(const unsigned char *buf, size_t len, struct proxy_hdr *h,
    const char **why)
{
	static const char v1sig[] = "PROXY ";
	size_t n;

	*why = NULL;
	memset(h, 0, sizeof(*h));
	if (len == 0)
		return PROXY_MORE;
	n = len < 6 ? len : 6;
	if (memcmp(buf, v1sig, n) == 0)
		return n < 6 ? PROXY_MORE : v1_parse(buf, len, h, why);
	n = len < 12 ? len : 12;
	if (memcmp(buf, v2sig, n) == 0)
		return n < 12 ? PROXY_MORE : v2_parse(buf, len, h, why);
	return PROXY_NONE;
}
