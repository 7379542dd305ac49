/*
 * net_proxy.h: the PROXY protocol header parser (net_proxy.c), v1 text
 * and v2 binary. Private to net*.c; free of state, so it can be fuzzed.
 */
#ifndef NET_PROXY_H
#define NET_PROXY_H

#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>

/* A v1 header is at most 107 bytes; a v2 one 16 plus its length, which
 * we bound: HAProxy's own headers, TLVs included, are far below it. */
#define PROXY_V1_MAX	107
#define PROXY_HDR_MAX	1040

struct proxy_hdr {
	/* AF_UNSPEC: a LOCAL or UNKNOWN header: keep the peer's address */
	struct sockaddr_storage	 src;
	bool			 tls;	/* v2 PP2_TYPE_SSL: client spoke TLS */
};

enum { PROXY_NONE = -2, PROXY_BAD = -1, PROXY_MORE = 0 };

/*
 * buf[0..len) is what the connection sent so far. Returns the header's
 * length (> 0) with *h filled; PROXY_MORE if buf may still become a
 * header; PROXY_NONE if it cannot be one (no header sent); PROXY_BAD
 * with *why (a static string) for a malformed one.
 */
int	 proxy_parse(const unsigned char *buf, size_t len,
	    struct proxy_hdr *h, const char **why);

#endif
