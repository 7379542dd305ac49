/*
 * unit_net.c: the per-address limits' pure parts: the address key
 * (net_addr.c: cidr-len grouping, v4-mapped addresses) and the throttle
 * tables (irc_throttle.c: no flood of new keys resets a live count).
 * Prints "ok NAME" or "FAIL NAME: why" per case; links against libergo.a.
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "net.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_throttle.h"

#include "unit.h"

/* The key of address text a (v4 or v6) at v4len/v6len, from a sockaddr. */
static const char *
key(const char *a, unsigned v4len, unsigned v6len)
{
	static char buf[NET_ADDRKEY_LEN];
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;

	memset(&sin, 0, sizeof(sin));
	memset(&sin6, 0, sizeof(sin6));
	if (inet_pton(AF_INET, a, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		net_addr_key((struct sockaddr *)&sin, v4len, v6len, buf,
		    sizeof(buf));
	} else if (inet_pton(AF_INET6, a, &sin6.sin6_addr) == 1) {
		sin6.sin6_family = AF_INET6;
		net_addr_key((struct sockaddr *)&sin6, v4len, v6len, buf,
		    sizeof(buf));
	} else
		snprintf(buf, sizeof(buf), "(not an address)");
	return buf;
}

static void
check_key(const char *a, unsigned v4len, unsigned v6len, const char *want)
{
	const char *got = key(a, v4len, v6len);

	if (strcmp(got, want) != 0)
		bad("%s at /%u,/%u: got \"%s\", want \"%s\"", a, v4len, v6len,
		    got, want);
}

static void
t_key_ipv6_grouped_by_64(void)
{
	check_key("2001:db8:1:2::1", 32, 64, "2001:db8:1:2::/64");
	check_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd", 32, 64,
	    "2001:db8:1:2::/64");
	check_key("2001:db8:1:3::1", 32, 64, "2001:db8:1:3::/64");
	report("key_ipv6_grouped_by_64");
}

static void
t_key_exact_at_full_length(void)
{
	check_key("2001:db8:1:2::1", 32, 128, "2001:db8:1:2::1");
	check_key("2001:db8:1:2::2", 32, 128, "2001:db8:1:2::2");
	check_key("192.0.2.7", 32, 64, "192.0.2.7");
	check_key("::1", 32, 128, "::1");
	report("key_exact_at_full_length");
}

static void
t_key_odd_prefixes(void)
{
	check_key("2001:db8:0:f::1", 32, 61, "2001:db8:0:8::/61");
	check_key("2001:db8:ffff::1", 32, 33, "2001:db8:8000::/33");
	check_key("2001:db8::1", 32, 0, "::/0");
	check_key("192.0.3.200", 23, 64, "192.0.2.0/23");
	check_key("192.0.2.200", 25, 64, "192.0.2.128/25");
	check_key("192.0.2.200", 0, 64, "0.0.0.0/0");
	check_key("192.0.2.200", 33, 64, "192.0.2.200");	/* clamped */
	report("key_odd_prefixes");
}

static void
t_key_v4_mapped_is_ipv4(void)
{
	/* a dual-stack listener's IPv4 client keys like the same client
	 * on an IPv4 listener, by the IPv4 prefix, not the IPv6 one */
	check_key("::ffff:192.0.2.7", 32, 64, "192.0.2.7");
	check_key("::ffff:192.0.2.7", 24, 128, "192.0.2.0/24");
	check_key("::ffff:192.0.2.7", 32, 0, "192.0.2.7");
	report("key_v4_mapped_is_ipv4");
}

static void
t_ip_key_by_config(void)
{
	char buf[NET_ADDRKEY_LEN];

	net_ip_key("2001:db8:1:2::99", buf, sizeof(buf));
	CHECK(strcmp(buf, "2001:db8:1:2::/64") == 0, "default v6: %s", buf);
	net_ip_key("198.51.100.3", buf, sizeof(buf));
	CHECK(strcmp(buf, "198.51.100.3") == 0, "default v4: %s", buf);
	net_ip_key("services.", buf, sizeof(buf));
	CHECK(strcmp(buf, "services.") == 0, "not an address: %s", buf);
	report("ip_key_by_config");
}

/* ---- throttle tables ---- */

#define WIN	600000		/* 10 minutes, in ms */
#define FLOOD	60000		/* keys: far more than a table holds */

static void
flood_key(char *buf, size_t sz, const char *tag, unsigned i)
{
	snprintf(buf, sz, "ip:%s:%u", tag, i);
}

static void
t_throttle_flood_does_not_reset_a_live_count(void)
{
	char k[64];
	unsigned i, low = 0;

	ergo_now_ms = 1000000;
	for (i = 0; i < 5; i++)
		irc_throttle_count(THROTTLE_CONN, "ip:abuser", WIN);
	CHECK(irc_throttle_full(THROTTLE_CONN, "ip:abuser", 5, WIN),
	    "abuser not full before the flood");
	for (i = 0; i < FLOOD; i++) {
		flood_key(k, sizeof(k), "a", i);
		irc_throttle_count(THROTTLE_CONN, k, WIN);
		ergo_now_ms++;
	}
	CHECK(irc_throttle_full(THROTTLE_CONN, "ip:abuser", 5, WIN),
	    "a flood of %u new keys reset the abuser's count", FLOOD);
	/* never counted lower than really: every flood key was seen once */
	for (i = 0; i < FLOOD; i++) {
		flood_key(k, sizeof(k), "a", i);
		if (!irc_throttle_full(THROTTLE_CONN, k, 1, WIN))
			low++;
	}
	CHECK(low == 0, "%u of %u flood keys counted below 1", low, FLOOD);
	/* a newcomer is let in: it inherits a low count, not the limit */
	CHECK(!irc_throttle_full(THROTTLE_CONN, "ip:newcomer", 5, WIN),
	    "a newcomer is refused after a flood of single connections");
	report("throttle_flood_does_not_reset_a_live_count");
}

static void
t_throttle_windows_end(void)
{
	ergo_now_ms += WIN + 1;
	CHECK(!irc_throttle_full(THROTTLE_CONN, "ip:abuser", 5, WIN),
	    "the abuser's count outlived its window");
	irc_throttle_count(THROTTLE_CONN, "ip:abuser", WIN);
	CHECK(!irc_throttle_full(THROTTLE_CONN, "ip:abuser", 2, WIN),
	    "a new window does not start at 1");
	CHECK(irc_throttle_full(THROTTLE_CONN, "ip:abuser", 1, WIN),
	    "the new window's connection is not counted");
	report("throttle_windows_end");
}

static void
t_throttle_flood_at_the_limit_refuses_until_windows_end(void)
{
	char k[64];
	unsigned i, j, in = 0;

	ergo_now_ms += 2 * WIN;
	for (i = 0; i < FLOOD; i++) {
		flood_key(k, sizeof(k), "b", i);
		for (j = 0; j < 3; j++)
			irc_throttle_count(THROTTLE_REG, k, WIN);
	}
	/* every slot at the limit: newcomers wait, nobody is reset */
	for (i = 0; i < 100; i++) {
		flood_key(k, sizeof(k), "c", i);
		if (!irc_throttle_full(THROTTLE_REG, k, 3, WIN))
			in++;
	}
	CHECK(in == 0, "%u of 100 newcomers admitted past a table at the limit",
	    in);
	ergo_now_ms += WIN + 1;
	for (i = 0, in = 0; i < 100; i++) {
		flood_key(k, sizeof(k), "c", i);
		if (!irc_throttle_full(THROTTLE_REG, k, 3, WIN))
			in++;
	}
	CHECK(in == 100, "%u of 100 newcomers admitted after the windows "
	    "ended", in);
	/* the other tables are untouched by this one's flood */
	CHECK(!irc_throttle_full(THROTTLE_AUTH, "ip:c:1", 1, WIN),
	    "one table's flood counted in another");
	report("throttle_flood_at_the_limit_refuses_until_windows_end");
}

int
main(void)
{
	char *errs = NULL;

	if ((conf = conf_load(NULL, &errs)) == NULL) {
		printf("FAIL conf_load_defaults: %s\n", errs ? errs : "?");
		return 1;
	}
	t_key_ipv6_grouped_by_64();
	t_key_exact_at_full_length();
	t_key_odd_prefixes();
	t_key_v4_mapped_is_ipv4();
	t_ip_key_by_config();
	t_throttle_flood_does_not_reset_a_live_count();
	t_throttle_windows_end();
	t_throttle_flood_at_the_limit_refuses_until_windows_end();
	conf_free(conf);
	return nfail ? 1 : 0;
}
