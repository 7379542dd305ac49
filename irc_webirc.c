/*
 * irc_webirc.c: WEBIRC, a web gateway's line before registration that
 * passes on its user's real address and hostname (server { webirc NAME
 * { password certfp hosts } }). A gateway is trusted only when its
 * address, its password and its certificate all match one block; a
 * refusal is logged and ends the connection. Calls down only: net for
 * the address, the throttle and the cloak.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ergo.h"
#include "conf.h"
#include "log.h"
#include "net.h"
#include "util.h"
#include "irc_cloak.h"
#include "irc_num.h"
#include "irc_out.h"
#include "irc_state.h"
#include "irc_throttle.h"
#include "irc_user.h"
#include "irc_util.h"
#include "irc_webirc.h"

/* Whether the gateway's address is in g's hosts. */
static bool
host_ok(const struct webirc_conf *g, const char *ip)
{
	struct util_net nets[UTIL_NETS_MAX];
	const char *bad;
	int n = util_nets_parse(g->hosts, nets, UTIL_NETS_MAX, &bad);

	return n > 0 && util_nets_contain(nets, (size_t)n, ip);
}

/* A hostname the gateway may give: letters, digits, '-', '.'. */
static bool
hostname_ok(const char *h)
{
	size_t n = strlen(h);

	return n > 0 && n < 64 && h[0] != '-' && h[0] != '.' &&
	    strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-.") == n && strchr(h, '.') != NULL &&
	    strspn(h, "0123456789.") != n;	/* not an IPv4 address */
}

static void
refuse(struct client *c, const char *gw, const char *why)
{
	char err[128];

	log_warnx("connect", "WEBIRC from %s refused: %s", gw, why);
	snprintf(err, sizeof(err), "WEBIRC refused: %s", why);
	irc_user_kill(c, err, err);
}

/* WEBIRC password gateway hostname ip [:flags] */
void
h_webirc(struct client *c, struct msg *m)
{
	struct session *s = irc_sess(c);
	const struct webirc_conf *g;
	const char *fp, *ip = m->param[3], *why = NULL;
	unsigned char a[16];
	char gw[64];
	char host[IRC_HOST_CLOAK], key[NET_ADDRKEY_LEN + 3];
	bool secure = false;

	if (c->flags & CF_REG) {
		irc_numeric(c, ERR_ALREADYREGISTERED,
		    ":You may not reregister");
		return;
	}
	if (s == NULL || s->conn == NULL)
		return;
	snprintf(gw, sizeof(gw), "%s", net_conn_ip(s->conn));
	fp = net_conn_certfp(s->conn);
	for (g = conf->webircs; g != NULL; g = g->next) {
		if (!host_ok(g, gw)) {
			why = why != NULL ? why : "not a gateway's address";
			continue;
		}
		if (g->password != NULL &&
		    !conf_passwd_verify(g->password, m->param[0])) {
			why = "wrong password";
			continue;
		}
		if (g->certfp != NULL && (fp == NULL ||
		    strcmp(g->certfp, fp) != 0)) {
			why = "wrong certificate";
			continue;
		}
		break;
	}
	if (g == NULL) {
		refuse(c, gw, why != NULL ? why : "no webirc blocks");
		return;
	}
	if (inet_pton(AF_INET, ip, a) != 1 && inet_pton(AF_INET6, ip, a) != 1) {
		refuse(c, gw, "not an IP address");
		return;
	}
	/* the user's address from here on: per-IP limits, throttle, D-lines
	 * at registration, WHOIS */
	if (net_conn_set_ip(s->conn, ip) == -1) {
		log_info("connect", "refused %s (WEBIRC %s): too many "
		    "connections from it", ip, g->name);
		irc_user_kill(c, "Too many connections from your IP",
		    "Too many connections from your IP");
		return;
	}
	ip = net_conn_ip(s->conn);	/* as net spells it (v4-mapped: v4) */
	if (conf->conn_throttle && strcmp(ip, "127.0.0.1") != 0 &&
	    strcmp(ip, "::1") != 0) {
		memcpy(key, "ip:", 3);
		net_ip_key(ip, key + 3, sizeof(key) - 3);
		if (irc_throttle_full(THROTTLE_CONN, key,
		    conf->conn_throttle_max,
		    (uint64_t)conf->conn_throttle_secs * 1000)) {
			irc_user_kill(c, "Throttled", "Too many connection "
			    "attempts from your IP; wait a while and try "
			    "again");
			return;
		}
	}
	if (irc_cloak_on())
		irc_cloak(ip, host, sizeof(host));
	else if (hostname_ok(m->param[2]))
		snprintf(host, sizeof(host), "%s", m->param[2]);
	else
		snprintf(host, sizeof(host), "%s%s", ip[0] == ':' ? "0" : "",
		    ip);
	(void)irc_user_set_names(c, NULL, NULL, host, NULL);
	/* "secure" is believed only from a gateway that came over TLS */
	if (m->nparam > 4) {
		const char *f = m->param[4];
		size_t n;

		while (*f != '\0') {
			n = strcspn(f, " ");
			if (n == 6 && strncmp(f, "secure", 6) == 0)
				secure = true;
			f += n;
			f += strspn(f, " ");
		}
	}
	if (secure && net_conn_tls(s->conn))
		c->umodes |= UMODE_TLS;
	else
		c->umodes &= ~UMODE_TLS;
	log_info("connect", "WEBIRC %s: %s is %s (%s)%s", g->name, gw, ip,
	    host, c->umodes & UMODE_TLS ? ", secure" : "");
}
