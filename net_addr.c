/*
 * net_addr.c: the key that max-per-ip and the throttles count a client
 * under: its address masked to a prefix, as Ergo's ip-limits cidr-len.
 * Pure functions of an address; no sockets, no tables.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "ergo.h"
#include "net.h"

/* Zero every bit of a (len bytes) past the first bits. */
static void
mask(unsigned char *a, size_t len, unsigned bits)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (bits >= 8)
			bits -= 8;
		else {
			a[i] &= (unsigned char)(0xff00u >> bits);
			bits = 0;
		}
	}
}

/*
 * One IPv6 user holds a /64 or more and picks any address in it, so
 * counting exact addresses would limit nothing: the default key is the
 * /64. A v4-mapped address (a dual-stack listener's IPv4 client) is
 * IPv4, so it shares the key of the same client on an IPv4 listener.
 * The prefix is shown only when it hides something: at 32 or 128 the
 * key is the address as net_conn_ip() prints it.
 */
void
net_addr_key(const struct sockaddr *sa, unsigned v4len, unsigned v6len,
    char *buf, size_t sz)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	unsigned char a[16];
	char text[INET6_ADDRSTRLEN];
	int af;
	unsigned bits;

	if (sa->sa_family == AF_INET6) {
		memcpy(a, &((const struct sockaddr_in6 *)(const void *)sa)->
		    sin6_addr, 16);
		if (memcmp(a, mapped, sizeof(mapped)) == 0) {
			memmove(a, a + 12, 4);
			af = AF_INET;
		} else
			af = AF_INET6;
	} else if (sa->sa_family == AF_INET) {
		memcpy(a, &((const struct sockaddr_in *)(const void *)sa)->
		    sin_addr, 4);
		af = AF_INET;
	} else {
		snprintf(buf, sz, "?");
		return;
	}
	bits = af == AF_INET ? (v4len > 32 ? 32 : v4len) :
	    (v6len > 128 ? 128 : v6len);
	mask(a, af == AF_INET ? 4 : 16, bits);
	if (inet_ntop(af, a, text, sizeof(text)) == NULL)
		snprintf(text, sizeof(text), "?");
	if (bits == (af == AF_INET ? 32u : 128u))
		snprintf(buf, sz, "%s", text);
	else
		snprintf(buf, sz, "%s/%u", text, bits);
}

/* The key for an address in text (net_conn_ip's), by the running config. */
/* cidr-len-ipv4/-ipv6 of the running config (net_listen_apply sets them). */
static unsigned	 cidr_v4 = 32, cidr_v6 = 64;

void
net_addr_cidr(unsigned v4len, unsigned v6len)
{
	cidr_v4 = v4len;
	cidr_v6 = v6len;
}

void
net_ip_key(const char *ip, char *buf, size_t sz)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, ip, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		net_addr_key((struct sockaddr *)&sin, cidr_v4, cidr_v6, buf,
		    sz);
	} else if (inet_pton(AF_INET6, ip, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		net_addr_key((struct sockaddr *)&sin6, cidr_v4, cidr_v6, buf,
		    sz);
	} else
		snprintf(buf, sz, "%s", ip);
}
