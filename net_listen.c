/*
 * net_listen.c: the listeners (TCP, TLS, Unix) and what happens when
 * one is ready: accept, the checks made before a connection exists
 * (max-clients, max-per-ip, who may send a PROXY header), and the TLS
 * certificate each listener hands new handshakes, reloaded on SIGHUP or
 * by reload-interval. net.c owns the connection from net_accepted on;
 * this file never touches a connection's buffers.
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE	/* accept4: glibc declares it only so */
#endif
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ergo.h"
#include "net.h"
#include "net_conn.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "net_tls.h"

#define ACCEPT_PAUSE_S	1

struct listener {
	struct listener	*next;
	int		 fd;
	unsigned	 slot;
	bool		 keep;		/* mark during net_listen_apply */
	bool		 ready;		/* poll_once: connections to accept */
	bool		 server;	/* for server links: srv's handlers */
	int		 nodelay;	/* accepted sockets inherit TCP_NODELAY:
					 * 1 yes, -1 no, 0 not known yet */
	char		*text;
	bool		 proxy;		/* a PROXY header first, always */
	bool		 websocket;	/* then a WebSocket upgrade */
	struct sockaddr_storage ss;
	socklen_t	 sslen;
	/* TLS only: the pair in use, where it came from, when to look again */
	struct tls_cred	*cred;
	char		*cert, *key;
	int		 tls_min;
	unsigned	 reload_s;
	unsigned	 sess_cache, sess_life;	/* for a reloaded pair */
	time_t		 next_check;
	/* mtime to the nanosecond, size and inode: a same-size renewal
	 * written within one second, or renamed into place, still shows */
	struct filestamp {
		long long	 sec, nsec, size, ino;
	} cstamp, kstamp;
};

/* Certificates loaded by net_listen_prepare for the next apply. */
static struct staged {
	const struct listen_conf *lc;
	struct tls_cred		 *cred;
} staged[64];

static size_t		 nstaged;
static struct listener	*listeners;
static time_t		 accept_paused_until;
static bool		 accept_logged;

static void	 listener_ready(int fd, void *l);

/* ---- listeners ---- */

/* Our certificate for a TLS link we open: a server listener's, else any
 * TLS listener's; NULL if none (the peer then cannot pin us). */
static struct tls_cred *
link_cred(void)
{
	struct listener *l, *any = NULL;

	for (l = listeners; l != NULL; l = l->next)
		if (l->cred != NULL) {
			if (l->server)
				return l->cred;
			if (any == NULL)
				any = l;
		}
	return any != NULL ? any->cred : NULL;
}

/*
 * A Unix socket: a stale file left by a server that died is replaced;
 * one a live server answers on is not. Mode unix-bind-mode.
 */
static int
listener_open_unix(struct listener *l)
{
	const struct sockaddr_un *sun = (const void *)&l->ss;
	struct stat sb;
	int fd;

	if (lstat(sun->sun_path, &sb) == 0 && S_ISSOCK(sb.st_mode)) {
		if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) != -1) {
			if (connect(fd, (const struct sockaddr *)sun,
			    l->sslen) == 0) {
				log_warnx("server", "listen %s: a server is "
				    "listening there already", l->text);
				close(fd);
				return -1;
			}
			close(fd);
		}
		(void)unlink(sun->sun_path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1) {
		log_warn("server", "listen %s: socket", l->text);
		return -1;
	}
	if (net_set_nonblock(fd) == -1 ||
	    bind(fd, (const struct sockaddr *)sun, l->sslen) == -1) {
		log_warn("server", "listen %s", l->text);
		close(fd);
		return -1;
	}
	if (chmod(sun->sun_path, (mode_t)net_lim.unix_mode) == -1 ||
	    listen(fd, SOMAXCONN) == -1 ||
	    net_slot_add_listener(fd, listener_ready, l, &l->slot) == -1) {
		log_warn("server", "listen %s", l->text);
		(void)unlink(sun->sun_path);
		close(fd);
		return -1;
	}
	l->fd = fd;
	l->nodelay = 1;		/* no TCP options to set */
	log_info("server", "listening on %s (mode %04o)", l->text,
	    net_lim.unix_mode);
	return 0;
}

static int
listener_open(struct listener *l)
{
	int fd, one = 1;

	if (l->ss.ss_family == AF_UNIX)
		return listener_open_unix(l);
	if ((fd = socket(l->ss.ss_family, SOCK_STREAM, 0)) == -1) {
		log_warn("server", "listen %s: socket", l->text);
		return -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Linux hands this on to accepted sockets: one call less for each
	 * (conn_accept checks the first and sets it itself if not). */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	l->nodelay = 0;
#ifdef TCP_DEFER_ACCEPT
	/* Linux: a connection is accepted once its first bytes are in
	 * (IRC and TLS clients speak first), so accept, read and the
	 * welcome take one wake-up, not two polls over every connection;
	 * one that stays silent is accepted after a second all the same. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &one, sizeof(one));
#endif
	if (l->ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one,
		    sizeof(one));
	if (net_set_nonblock(fd) == -1 ||
	    bind(fd, (struct sockaddr *)&l->ss, l->sslen) == -1 ||
	    listen(fd, SOMAXCONN) == -1) {
		log_warn("server", "listen %s", l->text);
		close(fd);
		return -1;
	}
	if (net_slot_add_listener(fd, listener_ready, l, &l->slot) == -1) {
		log_warn("server", "listen %s", l->text);
		close(fd);
		return -1;
	}
	l->fd = fd;
	log_info("server", "listening on %s", l->text);
	return 0;
}

static void
listener_close(struct listener *l)
{
	log_info("server", "no longer listening on %s", l->text);
	net_slot_del(l->slot);
	close(l->fd);
	if (l->ss.ss_family == AF_UNIX)
		(void)unlink(((const struct sockaddr_un *)(void *)&l->ss)->
		    sun_path);
	free(l->text);
	free(l->cert);
	free(l->key);
	tls_cred_unref(l->cred);	/* live engines keep their own ref */
	free(l);
}

static void
stamp_of(const char *path, struct filestamp *st)
{
	struct stat sb;

	if (stat(path, &sb) == 0) {
		st->sec = (long long)sb.st_mtim.tv_sec;
		st->nsec = (long long)sb.st_mtim.tv_nsec;
		st->size = (long long)sb.st_size;
		st->ino = (long long)sb.st_ino;
	} else
		st->sec = st->nsec = st->size = st->ino = -1;
}

/* Swaps cr in as l's pair for new handshakes (takes the reference). */
static int
listener_set_tls(struct listener *l, const struct listen_conf *lc,
    struct tls_cred *cr)
{
	char *cert = strdup(lc->cert), *key = strdup(lc->key);

	if (cert == NULL || key == NULL) {
		free(cert);
		free(key);
		tls_cred_unref(cr);
		log_warn("tls", "listen %s", lc->text);
		return -1;
	}
	free(l->cert);
	free(l->key);
	tls_cred_unref(l->cred);
	l->cert = cert;
	l->key = key;
	l->cred = cr;
	l->tls_min = lc->tls_min;
	l->reload_s = lc->reload_s;
	l->sess_cache = lc->sess_cache;
	l->sess_life = lc->sess_life;
	l->next_check = ergo_now + (time_t)lc->reload_s;
	stamp_of(cert, &l->cstamp);
	stamp_of(key, &l->kstamp);
	return 0;
}

static void
staged_clear(void)
{
	while (nstaged > 0)
		tls_cred_unref(staged[--nstaged].cred);
}

/* Appends one line to a malloc'd error text. */
static void
errs_add(char **errs, const char *line)
{
	size_t have = *errs ? strlen(*errs) : 0, n = strlen(line);
	char *ne;

	if ((ne = realloc(*errs, have + n + 2)) == NULL)
		return;
	memcpy(ne + have, line, n);
	ne[have + n] = '\n';
	ne[have + n + 1] = '\0';
	*errs = ne;
}

/* A private key any local user can read is worth a warning, each load. */
static void
key_mode_check(const char *path)
{
	struct stat sb;

	if (stat(path, &sb) == 0 && (sb.st_mode & S_IROTH))
		log_warnx("tls", "%s is readable by every user (mode %03o): "
		    "chmod o-r it", path, (unsigned)(sb.st_mode & 0777));
}

int
net_listen_prepare(const struct conf *c, char **errs)
{
	const struct listen_conf *lc;
	struct tls_cred *cr;
	char err[600], line[700 + 4096];
	int rc = 0;

	*errs = NULL;
	staged_clear();
	for (lc = c->listens; lc != NULL; lc = lc->next) {
		if (!lc->tls)
			continue;
		if (nstaged == sizeof(staged) / sizeof(staged[0])) {
			errs_add(errs, "too many TLS listeners");
			rc = -1;
			break;
		}
		if ((cr = tls_cred_load(lc->cert, lc->key, err,
		    sizeof(err))) == NULL) {
			/* FILE:LINE of the listen that names it */
			if (lc->line != 0 && c->path != NULL)
				snprintf(line, sizeof(line), "%s:%u: listen %s: "
				    "%s", c->path, lc->line, lc->text, err);
			else
				snprintf(line, sizeof(line), "listen %s: %s",
				    lc->text, err);
			errs_add(errs, line);
			rc = -1;
			continue;
		}
		key_mode_check(lc->key);
		if (tls_cred_set_cache(cr, lc->sess_cache, lc->sess_life) == -1)
			log_warn("tls", "listen %s: no session cache", lc->text);
		staged[nstaged].lc = lc;
		staged[nstaged++].cred = cr;
	}
	if (rc == -1)
		staged_clear();
	return rc;
}

void
net_listen_unprepare(void)
{
	staged_clear();
}

static struct tls_cred *
staged_take(const struct listen_conf *lc)
{
	struct tls_cred *cr;
	size_t i;

	for (i = 0; i < nstaged; i++)
		if (staged[i].lc == lc) {
			cr = staged[i].cred;
			staged[i] = staged[--nstaged];
			return cr;
		}
	return NULL;
}

/*
 * Opens the listeners of c that are not open yet and closes those no longer
 * configured; connections accepted on a closed listener stay. Returns -1
 * if any listener could not be opened (each failure logged).
 */
/* Where l is linked from, to unlink it. */
static struct listener **
pp_of(struct listener *l)
{
	struct listener **pp;

	for (pp = &listeners; *pp != l; pp = &(*pp)->next)
		;
	return pp;
}

int
net_listen_apply(const struct conf *c)
{
	const struct listen_conf *lc;
	struct listener *l, **pp;
	int rc = 0;

	/* the connection limits net enforces, from the config being applied */
	net_lim.max_clients = c->max_clients;
	net_lim.max_per_ip = c->max_per_ip;
	net_lim.cidr_v4 = c->cidr_v4;
	net_lim.cidr_v6 = c->cidr_v6;
	net_lim.max_sendq = c->max_sendq;
	net_lim.max_recvq = c->fakelag.max_recvq;
	net_lim.reg_timeout = c->reg_timeout;
	net_lim.tls_idle = c->tls_idle;
	net_lim.unix_mode = c->unix_mode;
	free(net_lim.ws_origins);
	net_lim.ws_origins = c->ws_origins != NULL ? strdup(c->ws_origins) : NULL;
	net_lim.nproxy_from = 0;
	if (c->proxy_allowed_from != NULL) {
		const char *bad;
		int n = util_nets_parse(c->proxy_allowed_from, net_lim.proxy_from,
		    UTIL_NETS_MAX, &bad);

		net_lim.nproxy_from = n > 0 ? (size_t)n : 0;	/* conf checked */
	}
	net_addr_cidr(c->cidr_v4, c->cidr_v6);

	for (l = listeners; l != NULL; l = l->next)
		l->keep = false;
	for (lc = c->listens; lc != NULL; lc = lc->next) {
		struct tls_cred *cr = NULL;

		if (lc->tls && (cr = staged_take(lc)) == NULL) {
			log_warnx("tls", "listen %s: no certificate loaded",
			    lc->text);
			rc = -1;
			continue;
		}
		for (l = listeners; l != NULL; l = l->next)
			if (l->sslen == lc->sslen &&
			    memcmp(&l->ss, &lc->ss, lc->sslen) == 0)
				break;
		if (l != NULL) {
			/* Same address: plain stays plain; TLS gets the new
			 * pair for new handshakes. A listener switching
			 * between plain and TLS is reopened. */
			if ((l->cred != NULL) == lc->tls) {
				l->keep = true;
				l->proxy = lc->proxy;	/* for new connections */
				l->websocket = lc->websocket;
				l->server = lc->server;
				if (cr != NULL)
					(void)listener_set_tls(l, lc, cr);
				continue;
			}
			l->keep = false;
			*pp_of(l) = l->next;
			listener_close(l);
		}
		if ((l = calloc(1, sizeof(*l))) == NULL ||
		    (l->text = strdup(lc->text)) == NULL) {
			free(l);
			log_warn("server", "listen %s", lc->text);
			rc = -1;
			continue;
		}
		l->ss = lc->ss;
		l->sslen = lc->sslen;
		l->server = lc->server;
		l->keep = true;
		l->proxy = lc->proxy;
		l->websocket = lc->websocket;
		if (cr != NULL && listener_set_tls(l, lc, cr) == -1) {
			free(l->text);
			free(l);
			rc = -1;
			continue;
		}
		if (listener_open(l) == -1) {
			free(l->text);
			free(l->cert);
			free(l->key);
			tls_cred_unref(l->cred);
			free(l);
			rc = -1;
			continue;
		}
		l->next = listeners;
		listeners = l;
	}
	for (pp = &listeners; *pp != NULL;) {
		l = *pp;
		if (l->keep)
			pp = &l->next;
		else {
			*pp = l->next;
			listener_close(l);
		}
	}
	staged_clear();
	net_set_link_cred(link_cred());
	return rc;
}

static void
accept_pause(bool pause)
{
	struct listener *l;

	for (l = listeners; l != NULL; l = l->next)
		net_slot_events(l->slot, pause ? 0 : POLLIN);
}

/*
 * accept(2) of a non-blocking, close-on-exec socket: one system call
 * where accept4 exists, else three.
 */
static int
accept_nb(int lfd, struct sockaddr_storage *ss, socklen_t *sl)
{
	int fd;

#ifdef SOCK_NONBLOCK
	fd = accept4(lfd, (struct sockaddr *)ss, sl, SOCK_NONBLOCK |
	    SOCK_CLOEXEC);
#else
	if ((fd = accept(lfd, (struct sockaddr *)ss, sl)) != -1 &&
	    net_set_nonblock(fd) == -1) {
		close(fd);
		errno = ECONNABORTED;	/* taken as "try the next one" */
		fd = -1;
	}
#endif
	return fd;
}

/*
 * A listener is ready (net_poll calls this after every other event of
 * the pass): accept every connection waiting and hand each to net.c.
 */
static void
listener_ready(int lfd, void *arg)
{
	struct listener *l = arg;
	struct sockaddr_storage ss;
	socklen_t sl;
	struct tls_conn *tls;
	char ip[INET6_ADDRSTRLEN], key[NET_ADDRKEY_LEN];
	int fd, one = 1, step;

	for (;;) {
		sl = sizeof(ss);
		if ((fd = accept_nb(lfd, &ss, &sl)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE ||
			    errno == ENOBUFS || errno == ENOMEM) {
				/* Stop polling listeners for a moment so a
				 * full fd table doesn't spin the loop. */
				if (!accept_logged)
					log_warn("server", "accept (pausing "
					    "new connections for %ds)",
					    ACCEPT_PAUSE_S);
				accept_logged = true;
				accept_pause(true);
				accept_paused_until = ergo_now + ACCEPT_PAUSE_S;
			} else if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("server", "accept on %s", l->text);
			return;
		}
		accept_logged = false;
		if (l->nodelay == 0) {
			int v = 0;
			socklen_t vl = sizeof(v);

			l->nodelay = getsockopt(fd, IPPROTO_TCP, TCP_NODELAY,
			    &v, &vl) == 0 && v != 0 ? 1 : -1;
		}
		if (l->nodelay < 0)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
			    sizeof(one));
		net_sa_ntop(&ss, ip, sizeof(ip));
		if (net_lim.max_clients && net_nconns() >= net_lim.max_clients) {
			log_info("connect", "refused %s: server full", ip);
			net_refuse(fd, "Too many connections");
			continue;
		}
		/* A proxy's connections count under the address its header
		 * gives (the PROXY step), not the proxy's own. */
		step = -1;
		if (net_lim.nproxy_from > 0 && util_nets_contain(
		    net_lim.proxy_from, net_lim.nproxy_from, ip))
			step = l->proxy ? PRE_PROXY : PRE_PROXY_OPT;
		else if (l->proxy && net_lim.nproxy_from == 0)
			step = PRE_PROXY;
		else if (l->proxy) {
			log_info("connect", "refused %s on %s: not in "
			    "proxy-allowed-from", ip, l->text);
			net_refuse(fd,
			    "Your address may not send a PROXY header");
			continue;
		} else if (l->websocket)
			step = PRE_WS;
		net_ip_key(ip, key, sizeof(key));
		if (net_lim.max_per_ip && step == -1 &&
		    net_ip_count(key) >= net_lim.max_per_ip) {
			log_info("connect", "refused %s: too many "
			    "connections from %s", ip, key);
			net_refuse(fd, "Too many connections from your IP");
			continue;
		}
		tls = NULL;
		if (l->cred != NULL) {
			char err[200];

			if ((tls = tls_conn_new(l->cred, (unsigned)l->tls_min,
			    err, sizeof(err))) == NULL) {
				log_warnx("tls", "refused %s: %s", ip, err);
				net_refuse(fd, "TLS is not available");
				continue;
			}
		}
		log_debug("connect", "accepted %s on %s", ip, l->text);
		net_accepted(fd, ip, key, tls, l->server, step, l->websocket);
	}
}

/*
 * tls { reload-interval }: a renewed pair on disk (another container's
 * certbot, say, which cannot signal us) is loaded for new handshakes.
 * Only a pair that loads and matches is swapped in; a half-written one
 * is retried when the files change again.
 */
static void
tls_reload_check(struct listener *l)
{
	struct filestamp cs, ks;
	struct tls_cred *cr;
	char err[600];

	l->next_check = ergo_now + (time_t)l->reload_s;
	stamp_of(l->cert, &cs);
	stamp_of(l->key, &ks);
	if (memcmp(&cs, &l->cstamp, sizeof(cs)) == 0 &&
	    memcmp(&ks, &l->kstamp, sizeof(ks)) == 0)
		return;
	l->cstamp = cs;
	l->kstamp = ks;
	if ((cr = tls_cred_load(l->cert, l->key, err, sizeof(err))) == NULL) {
		log_warnx("tls", "listen %s: renewed certificate not loaded, "
		    "keeping the old one: %s", l->text, err);
		return;
	}
	if (tls_cred_set_cache(cr, l->sess_cache, l->sess_life) == -1)
		log_warn("tls", "listen %s: no session cache", l->text);
	tls_cred_unref(l->cred);
	l->cred = cr;
	log_info("tls", "%s: reloaded for %s (fingerprint %s)", l->cert,
	    l->text, tls_cred_fingerprint(cr));
	net_set_link_cred(link_cred());
}

void
net_tick(void)
{
	struct listener *l;

	net_conn_tick();
	for (l = listeners; l != NULL; l = l->next)
		if (l->cred != NULL && l->reload_s > 0 &&
		    ergo_now >= l->next_check)
			tls_reload_check(l);
	if (accept_paused_until != 0 && ergo_now >= accept_paused_until) {
		accept_paused_until = 0;
		accept_pause(false);
	}
}

void
net_shutdown(const char *line)
{
	net_conn_close_all(line);
	net_set_link_cred(NULL);
	while (listeners != NULL) {
		struct listener *l = listeners;
		listeners = l->next;
		listener_close(l);
	}
}

