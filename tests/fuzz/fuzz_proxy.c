/*
 * fuzz_proxy.c: PROXY protocol headers (net_proxy.c) as a proxy, or
 * anyone, may send them. Parsing stays inside the input; a header found
 * is no longer than the input, every shorter prefix of it is "more to
 * come" (net reads a header split over any number of reads), and a v1
 * address given is the one written in the line.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../net_proxy.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct proxy_hdr h, h2;
	const char *why;
	char ip[INET6_ADDRSTRLEN], *copy;
	size_t i;
	int rc, rc2;

	fuzz_init();
	if (len > 4 * PROXY_HDR_MAX)
		return 0;
	/* an exact-size copy, so ASan sees a read past the end */
	copy = malloc(len ? len : 1);
	if (copy == NULL)
		abort();
	memcpy(copy, data, len);
	rc = proxy_parse((const unsigned char *)copy, len, &h, &why);
	if (rc == PROXY_BAD && why == NULL)
		abort();
	if (rc > 0) {
		if ((size_t)rc > len || (size_t)rc > PROXY_HDR_MAX)
			abort();
		for (i = 0; i < (size_t)rc; i++)
			if (proxy_parse((const unsigned char *)copy, i, &h2,
			    &why) != PROXY_MORE)
				abort();
		/* trailing bytes never change the header */
		rc2 = proxy_parse((const unsigned char *)copy, (size_t)rc, &h2,
		    &why);
		if (rc2 != rc || memcmp(&h, &h2, sizeof(h)) != 0)
			abort();
		if (copy[0] == 'P' && h.src.ss_family != AF_UNSPEC) {
			/* "PROXY TCPx SRC ...": SRC is what was parsed */
			char *line = fuzz_cstr(data, (size_t)rc), *src, *end;
			unsigned char want[16];
			const void *a = h.src.ss_family == AF_INET ?
			    (const void *)&((struct sockaddr_in *)&h.src)->sin_addr :
			    (const void *)&((struct sockaddr_in6 *)&h.src)->sin6_addr;

			if ((src = strchr(line + 6, ' ')) == NULL ||
			    (end = strchr(++src, ' ')) == NULL)
				abort();
			*end = '\0';
			if (inet_pton(h.src.ss_family, src, want) != 1 ||
			    memcmp(want, a, h.src.ss_family == AF_INET ? 4 :
			    16) != 0 ||
			    inet_ntop(h.src.ss_family, a, ip, sizeof(ip)) == NULL)
				abort();
			free(line);
		}
	}
	free(copy);
	return 0;
}
