/*
 * bench/load.c: the load generator of `make bench` (issue 7). One process,
 * non-blocking sockets and poll(), loopback only; every run is bounded in
 * client count and in time (-T). It drives any RFC 1459 server and prints
 * one "RESULT key=value ..." line for bench/run.sh to collect.
 *
 *   load -p PORT -P SERVERPID -s SCENARIO [options]
 *
 * Scenarios:
 *   connect   -n clients (2000), -f in flight (50): registrations/s,
 *             connect-to-001 latency p50/p99, server CPU per registration,
 *             how many got 001. -b N registers N idle clients first (not
 *             measured): what a registration costs with N connected;
 *             they stay connected but this process does not poll them
 *             while the others register (see pump_from).
 *   idle      -n list of steps ("1000,5000,10000"): registers up to each
 *             step, lets the server settle, reads its VmRSS; bytes per
 *             client against the RSS before the first connection.
 *   fanout    -c clients (200) in one channel, -S senders (4) x -m
 *             messages (2000), closed loop (-w 64 undelivered per sender);
 *             with -r RATE the senders are paced at RATE msg/s each for
 *             -d seconds instead. -W N (closed loop): the first N
 *             messages of each sender are a warm-up, not measured: CPU,
 *             deliveries and latency are taken from the moment every
 *             sender has N acknowledged (all delivered) to the end, so a
 *             run measures the steady state and not the first window,
 *             which leaves every sender at once (bench/run.sh's sweeps).
 *   channels  -c clients (1000) each in -k (10) of -C channels (100),
 *             -S senders each sending round-robin to its own channels.
 *
 * -q PORT2 connects the senders to a second server (a linked one:
 * bench/link.py) and -Q PID2 gives its PID: RESULT adds its CPU
 * (cpu2_s_per_M) beside the first's.
 *
 * -O NAME:PASSWORD has the senders of fanout and channels OPER up before
 * they send (ergo: an oper block with nofakelag lifts fakelag for them
 * alone, so the server runs with flood control on for everyone else).
 *
 * -t speaks TLS to the port (bench/load_tls.c, BearSSL's client engine,
 * the server's certificate not checked): the same scenarios over TLS.
 * Every client reads and writes through its own engine; what is measured
 * is still the server's CPU.
 *
 * -A pins the server (each of its threads) to one CPU and this process
 * to another (Linux; elsewhere, or with one CPU, it does nothing): on a
 * small machine the two otherwise meet on one core now and then, and a
 * latency percentile measures the scheduler. RESULT says pinned=0|1.
 *
 * Every delivered PRIVMSG carries "sender seq send-time" and is checked:
 * per receiver and sender the sequence must rise, and the total must be
 * what the channel memberships call for (no loss, no duplicate, no
 * reordering). Server CPU comes from /proc/PID/task/tid/schedstat (ns; the
 * same clock as utime+stime, not rounded to ticks), utime+stime from
 * /proc/PID/stat printed beside it.
 */

#define _GNU_SOURCE	/* IP_BIND_ADDRESS_NO_PORT when the libc has it */

#include <sys/resource.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#ifdef __linux__
#include <sched.h>
#endif
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "load_tls.h"

#define INCAP		4096	/* unparsed input kept per connection */
#define MAXSEND		16	/* senders */
#define RING		8192	/* in-flight message slots per sender */
#define MAXSTEPS	8	/* idle steps */

enum { C_FREE, C_CONNECTING, C_REGISTERING, C_REGISTERED, C_JOINING,
    C_JOINED, C_SYNCING, C_READY, C_DEAD };

struct conn {
	int		 fd;
	int		 state;
	int		 id;
	int		 joins_left;
	int64_t		 t0;		/* connect() time, us */
	char		*in;
	size_t		 inlen;
	char		*out;
	size_t		 olen, ocap;
	int32_t		 last[MAXSEND];	/* last seq seen from each sender */
	uint16_t	*chans;		/* channels scenario: its channels */
	struct ltls	*tls;		/* -t: its engine */
};

static struct conn	*conns;
static struct pollfd	*pfds;
static int		 nconns;	/* slots used */
static struct sockaddr_in srv, srv2;	/* srv2: -q, the senders' */
static int have_srv2;
static pid_t spid2;			/* -Q */
static int		 nsrc = 100;	/* source addresses 127.0.0.2.. */
static char		 scratch[65536];
static char		 nickpfx = 'b';

/* counters */
static long	 n_registered, n_failed, n_errors, n_joined, n_synced;
static long	 n_opered;
static long	 n_deliv, n_reorder, n_unexpected;

/* latency samples, us */
static uint32_t	*lat;
static size_t	 nlat, caplat;

/* messaging state */
static int	 nsenders = 4;
static int	 window = 64;
static int	 warm;		/* -W: messages per sender not measured */
static int32_t	 sent[MAXSEND], acked[MAXSEND];
static int32_t	 pending[MAXSEND][RING];	/* receivers still to get it */
static int	*chan_members;			/* channels scenario */
static int	 nchan = -1, kper = -1;
static int	 msglen = 100;			/* padded text length */
static int	 is_channels;

static int64_t	 deadline;
static const char *hook;	/* -H: shell command run before measuring */
static pid_t	 spid;
static int	 pinned;	/* -A took effect */
static const char *oper;	/* -O name:password for the senders */
static int	 use_tls;	/* -t */

static int64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("load: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static int64_t	cpu_ns_of(pid_t);

/* Server CPU in ns: schedstat of every thread, else utime+stime. */
static int64_t
cpu_ns(void)
{
	return cpu_ns_of(spid);
}

static int64_t
cpu_ns_of(pid_t spid)
{
	char path[64], buf[512];
	DIR *d;
	struct dirent *de;
	int64_t sum = 0;
	int any = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)spid);
	if ((d = opendir(path)) != NULL) {
		while ((de = readdir(d)) != NULL) {
			unsigned long long v;

			if (de->d_name[0] == '.')
				continue;
			snprintf(buf, sizeof(buf), "%s/%s/schedstat", path,
			    de->d_name);
			if ((f = fopen(buf, "r")) == NULL)
				continue;
			if (fscanf(f, "%llu", &v) == 1) {
				sum += (int64_t)v;
				any = 1;
			}
			fclose(f);
		}
		closedir(d);
	}
	if (any && sum > 0)
		return sum;
	return -1;
}

/*
 * -A: the server's threads on the first CPU this process may use, this
 * process on the last. Sets pinned when both took.
 */
static void
pin_cpus(void)
{
#ifdef __linux__
	cpu_set_t mine, one;
	int first = -1, last = -1, ok = 1;
	char path[64];
	DIR *d;
	struct dirent *de;

	if (sched_getaffinity(0, sizeof(mine), &mine) == -1)
		return;
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &mine)) {
			if (first < 0)
				first = i;
			last = i;
		}
	if (first < 0 || first == last || spid <= 0) {
		fprintf(stderr, "load: -A needs two CPUs and -P; not pinned\n");
		return;
	}
	CPU_ZERO(&one);
	CPU_SET(first, &one);
	snprintf(path, sizeof(path), "/proc/%d/task", (int)spid);
	if ((d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' &&
		    sched_setaffinity((pid_t)atoi(de->d_name), sizeof(one),
		    &one) == -1)
			ok = 0;
	closedir(d);
	CPU_ZERO(&one);
	CPU_SET(last, &one);
	if (sched_setaffinity(0, sizeof(one), &one) == -1)
		ok = 0;
	if (!ok)
		fprintf(stderr, "load: -A: sched_setaffinity: %s\n",
		    strerror(errno));
	pinned = ok;
#else
	fprintf(stderr, "load: -A is Linux-only; not pinned\n");
#endif
}

/* utime+stime from /proc/PID/stat, in ns. */
static int64_t
cpu_stat_ns(void)
{
	char path[64], buf[1024], *p;
	FILE *f;
	unsigned long long ut, st;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)spid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	/* after ")": state ppid pgrp session tty tpgid flags minflt
	 * cminflt majflt cmajflt utime stime */
	if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu", &ut, &st) != 2)
		return -1;
	return (int64_t)((ut + st) * (1000000000ULL /
	    (unsigned long long)sysconf(_SC_CLK_TCK)));
}

static long
rss_kib(void)
{
	char path[64], line[256];
	FILE *f;
	long v = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)spid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0) {
			v = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static int
server_alive(void)
{
	return spid <= 0 || kill(spid, 0) == 0;
}

static void
lat_add(int64_t us)
{
	if (nlat == caplat) {
		size_t nc = caplat ? caplat * 2 : 65536;
		uint32_t *n = realloc(lat, nc * sizeof(*n));

		if (n == NULL)
			die("out of memory");
		lat = n;
		caplat = nc;
	}
	lat[nlat++] = us < 0 ? 0 : (uint32_t)us;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Percentile p (0..100) of the samples, in ms; sorts them. */
static double
lat_pct(double p)
{
	size_t i;

	if (nlat == 0)
		return -1;
	qsort(lat, nlat, sizeof(*lat), cmp_u32);
	i = (size_t)(p / 100.0 * (double)(nlat - 1) + 0.5);
	return lat[i] / 1000.0;
}

static void
conn_queue(struct conn *c, const char *s, size_t n)
{
	if (c->state == C_DEAD)
		return;
	if (c->olen + n > c->ocap) {
		size_t nc = c->ocap ? c->ocap : 512;
		char *b;

		while (nc < c->olen + n)
			nc *= 2;
		if ((b = realloc(c->out, nc)) == NULL)
			die("out of memory");
		c->out = b;
		c->ocap = nc;
	}
	memcpy(c->out + c->olen, s, n);
	c->olen += n;
	pfds[c - conns].events |= POLLOUT;
}

static void
conn_printf(struct conn *c, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(buf))
		conn_queue(c, buf, (size_t)n);
}

static void
conn_kill(struct conn *c)
{
	if (c->state == C_DEAD || c->state == C_FREE)
		return;
	if (c->state == C_CONNECTING || c->state == C_REGISTERING)
		n_failed++;
	else
		n_errors++;
	c->state = C_DEAD;
	close(c->fd);
	ltls_free(c->tls);
	c->tls = NULL;
	pfds[c - conns].fd = -1;
	free(c->out);
	c->out = NULL;
	c->olen = c->ocap = 0;
}

/* Opens connection number id; returns its slot or -1. */
static int
conn_open(int id)
{
	struct sockaddr_in src;
	struct conn *c = &conns[nconns];
	int fd, one = 1;

	memset(c, 0, sizeof(*c));
	c->id = id;
	c->fd = -1;
	c->state = C_DEAD;
	pfds[nconns].fd = -1;
	nconns++;		/* a failed open still uses its slot */
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1) {
		n_failed++;
		return -1;
	}
	fcntl(fd, F_SETFL, O_NONBLOCK);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (nsrc > 0) {
#ifdef IP_BIND_ADDRESS_NO_PORT
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
#endif
		memset(&src, 0, sizeof(src));
		src.sin_family = AF_INET;
		src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(id % nsrc));
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) == -1) {
			close(fd);
			n_failed++;
			return -1;
		}
	}
	c->fd = fd;
	if (use_tls && (c->tls = ltls_new()) == NULL)
		die("out of memory");
	c->t0 = now_us();
	c->state = C_CONNECTING;
	if ((c->in = malloc(INCAP)) == NULL)
		die("out of memory");
	for (int i = 0; i < MAXSEND; i++)
		c->last[i] = -1;
	pfds[c - conns].fd = fd;
	pfds[c - conns].events = POLLIN | POLLOUT;
	pfds[c - conns].revents = 0;
	if (connect(fd, (struct sockaddr *)(have_srv2 && id < nsenders ?
	    &srv2 : &srv), sizeof(srv)) == -1 &&
	    errno != EINPROGRESS) {
		conn_kill(c);
		return -1;
	}
	conn_printf(c, "NICK %c%d\r\nUSER u%d 0 * :bench %d\r\n", nickpfx, id,
	    id, id);
	return nconns - 1;
}

/* Advances a sender's acknowledged mark over fully delivered messages. */
static void
sender_advance(int s)
{
	while (acked[s] < sent[s] && pending[s][acked[s] % RING] == 0)
		acked[s]++;
}

static void
on_privmsg(struct conn *c, const char *text)
{
	long s, q;
	long long t;
	char *e;

	if (text[0] != 'x') {
		n_unexpected++;
		return;
	}
	s = strtol(text + 1, &e, 10);
	q = strtol(e, &e, 10);
	t = strtoll(e, &e, 10);
	if (s < 0 || s >= nsenders || q < 0 || q >= sent[s] ||
	    q < acked[s]) {
		n_unexpected++;
		return;
	}
	if (q <= c->last[s]) {
		n_reorder++;
		return;
	}
	c->last[s] = (int32_t)q;
	n_deliv++;
	lat_add(now_us() - t);
	if (--pending[s][q % RING] == 0)
		sender_advance((int)s);
}

static void
handle_line(struct conn *c, char *line)
{
	char *p = line, *cmd, *rest;

	if (*p == '@')			/* tags: skip */
		if ((p = strchr(p, ' ')) == NULL)
			return;
	while (*p == ' ')
		p++;
	if (*p == ':')
		if ((p = strchr(p, ' ')) == NULL)
			return;
	while (*p == ' ')
		p++;
	cmd = p;
	if ((rest = strchr(p, ' ')) != NULL)
		*rest++ = '\0';
	else
		rest = p + strlen(p);

	if (strcmp(cmd, "PRIVMSG") == 0) {
		char *t = strstr(rest, " :");

		if (t != NULL)
			on_privmsg(c, t + 2);
	} else if (strcmp(cmd, "PING") == 0) {
		conn_printf(c, "PONG %s\r\n", rest);
	} else if (strcmp(cmd, "001") == 0) {
		if (c->state == C_REGISTERING || c->state == C_CONNECTING) {
			c->state = C_REGISTERED;
			n_registered++;
			lat_add(now_us() - c->t0);
		}
	} else if (strcmp(cmd, "381") == 0) {
		n_opered++;
	} else if (strcmp(cmd, "366") == 0) {
		if (c->state == C_JOINING && --c->joins_left == 0) {
			c->state = C_JOINED;
			n_joined++;
		}
	} else if (strcmp(cmd, "PONG") == 0) {
		if (c->state == C_SYNCING) {
			c->state = C_READY;
			n_synced++;
		}
	} else if (strcmp(cmd, "ERROR") == 0 || strcmp(cmd, "432") == 0 ||
	    strcmp(cmd, "433") == 0 || strcmp(cmd, "465") == 0 ||
	    strcmp(cmd, "403") == 0 || strcmp(cmd, "405") == 0 ||
	    strcmp(cmd, "471") == 0 || strcmp(cmd, "404") == 0 ||
	    strcmp(cmd, "464") == 0 || strcmp(cmd, "491") == 0) {
		fprintf(stderr, "load: client %d: %s %.100s\n", c->id, cmd,
		    rest);
		if (strcmp(cmd, "404") == 0)
			n_errors++;
		else
			conn_kill(c);
	}
}

/*
 * -t: POLLOUT while the engine has records the socket did not take, or
 * has lines to encrypt once its handshake is done; never while it waits
 * for the server's handshake (poll would spin).
 */
static void
tls_events(struct conn *c)
{
	if (c->state == C_DEAD)
		return;
	pfds[c - conns].events = POLLIN | (ltls_want_write(c->tls) ||
	    (c->olen > 0 && ltls_ready(c->tls)) ? POLLOUT : 0);
}

static void
conn_read(struct conn *c)
{
	ssize_t n;
	size_t off = 0, have;
	char *nl;

	memcpy(scratch, c->in, c->inlen);
	if (c->tls != NULL)
		n = ltls_read(c->tls, c->fd, scratch + c->inlen,
		    sizeof(scratch) - c->inlen - 1);
	else
		n = read(c->fd, scratch + c->inlen,
		    sizeof(scratch) - c->inlen - 1);
	if (c->tls != NULL)
		tls_events(c);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR)) {
		conn_kill(c);
		return;
	}
	if (n < 0)
		return;
	have = c->inlen + (size_t)n;
	scratch[have] = '\0';
	while (c->state != C_DEAD &&
	    (nl = memchr(scratch + off, '\n', have - off)) != NULL) {
		char *line = scratch + off;

		*nl = '\0';
		if (nl > line && nl[-1] == '\r')
			nl[-1] = '\0';
		off = (size_t)(nl - scratch) + 1;
		handle_line(c, line);
	}
	have -= off;
	if (have >= INCAP) {
		fprintf(stderr, "load: client %d: line too long\n", c->id);
		conn_kill(c);
		return;
	}
	memmove(c->in, scratch + off, have);
	c->inlen = have;
}

static void
conn_flush(struct conn *c)
{
	ssize_t n;

	if (c->state == C_CONNECTING) {
		int err = 0;
		socklen_t len = sizeof(err);

		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err != 0) {
			conn_kill(c);
			return;
		}
		c->state = C_REGISTERING;
	}
	while (c->olen > 0) {
		n = c->tls != NULL ? ltls_write(c->tls, c->fd, c->out, c->olen) :
		    write(c->fd, c->out, c->olen);
		if (n == -1) {
			if (errno == EAGAIN || errno == EINTR) {
				if (c->tls != NULL)
					tls_events(c);
				return;
			}
			conn_kill(c);
			return;
		}
		memmove(c->out, c->out + n, c->olen - (size_t)n);
		c->olen -= (size_t)n;
	}
	if (c->tls != NULL) {	/* records still waiting for the socket */
		if (ltls_write(c->tls, c->fd, NULL, 0) == -1)
			conn_kill(c);
		tls_events(c);
		return;
	}
	pfds[c - conns].events &= ~POLLOUT;
}

/*
 * connect -b: the clients below pump_from are connected and idle, not
 * polled while the measured ones register. A poll() over 15,000 of them
 * took this process ~10 ms, so it answered the server in one batch per
 * such poll, and the run measured its loop as much as the server's.
 */
static int	 pump_from;

/* One poll() and the work it reports; at most timeout ms. */
static void
pump(int timeout)
{
	int n, i;

	for (i = pump_from; i < nconns; i++)	/* write what handlers queued */
		if (conns[i].olen > 0 && conns[i].state != C_CONNECTING &&
		    conns[i].state != C_DEAD)
			conn_flush(&conns[i]);
	n = poll(pfds + pump_from, (nfds_t)(nconns - pump_from), timeout);
	if (n <= 0)
		return;
	for (i = pump_from; i < nconns && n > 0; i++) {
		struct conn *c = &conns[i];
		short r = pfds[i].revents;

		if (r == 0)
			continue;
		n--;
		if (r & POLLOUT)
			conn_flush(c);
		if (c->state != C_DEAD && (r & (POLLIN | POLLHUP | POLLERR)))
			conn_read(c);
	}
}

static int
timed_out(void)
{
	if (now_us() > deadline) {
		fprintf(stderr, "load: time limit reached\n");
		return 1;
	}
	if (!server_alive()) {
		fprintf(stderr, "load: server %d is gone\n", (int)spid);
		deadline = 0;
		return 1;
	}
	return 0;
}

/*
 * Opens clients until `total` exist, `inflight` at most registering at
 * once; returns when all have registered or failed (or time is up).
 */
static void
fill(int total, int inflight)
{
	while (n_registered + n_failed < total && !timed_out()) {
		while (nconns < total &&
		    nconns - n_registered - n_failed < inflight)
			conn_open(nconns);
		pump(50);
	}
}

/* Keeps reading for ms milliseconds. */
/*
 * Registers nick on fd, a connected blocking socket, and reads until its
 * 001 (at most 20 s): 0 when it came, else -1.
 */
static int
register_wait(int fd, const char *nick)
{
	char buf[4096];
	int len;
	size_t have = 0;
	ssize_t n;
	struct timeval tv = { 20, 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	len = snprintf(buf, sizeof(buf), "NICK %s\r\nUSER s 0 * :s\r\n", nick);
	if (write(fd, buf, (size_t)len) != len)
		return -1;
	while ((n = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0) {
		have += (size_t)n;
		buf[have] = '\0';
		if (strstr(buf, " 001 ") != NULL)
			return 0;
		if (have > sizeof(buf) / 2) {
			memmove(buf, buf + have / 2, have - have / 2);
			have -= have / 2;
		}
	}
	return -1;
}

/*
 * The idle scenario's base: a server that has served a client. Servers
 * listen before they open and read their database (ergo: the store),
 * so memory taken as soon as the port answers may miss what starting
 * still adds (ergo: 0 to ~650 KB, by the race: 0 to 130 bytes per
 * client at 5,000); and the first registration faults in code and
 * prepares statements once. A probe, from the clients' first source
 * address, registers, quits and is gone before the base is read.
 */
static void
probe_client(void)
{
	char buf[4096];
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		die("socket: %s", strerror(errno));
	if (nsrc > 0) {		/* from where the clients will come */
		struct sockaddr_in src;

		memset(&src, 0, sizeof(src));
		src.sin_family = AF_INET;
		src.sin_addr.s_addr = htonl(0x7f000002u);
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) == -1)
			die("probe client: bind: %s", strerror(errno));
	}
	if (connect(fd, (struct sockaddr *)&srv, sizeof(srv)) == -1 ||
	    register_wait(fd, "probe") == -1)
		die("probe client: not registered");
	if (write(fd, "QUIT\r\n", 6) == 6)
		while (read(fd, buf, sizeof(buf)) > 0)
			;	/* until the server closes */
	close(fd);
}

static void
settle(int ms)
{
	int64_t end = now_us() + (int64_t)ms * 1000;

	while (now_us() < end && !timed_out())
		pump(20);
}

static void
free_all(void)
{
	for (int i = 0; i < nconns; i++)
		if (conns[i].state != C_DEAD && conns[i].state != C_FREE) {
			close(conns[i].fd);
			ltls_free(conns[i].tls);
			conns[i].tls = NULL;
			conns[i].state = C_FREE;
		}
}

static void
raise_nofile(int need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur >= (rlim_t)need)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >=
	    (rlim_t)need ? (rlim_t)need : rl.rlim_max;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < (rlim_t)need) {
		rl.rlim_max = (rlim_t)need;	/* root may raise the hard one */
		rl.rlim_cur = (rlim_t)need;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			return;
		getrlimit(RLIMIT_NOFILE, &rl);
		rl.rlim_cur = rl.rlim_max;
	}
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur < (rlim_t)need)
		die("cannot raise RLIMIT_NOFILE to %d (have %llu)", need,
		    (unsigned long long)rl.rlim_cur);
}

static void
alloc_conns(int n)
{
	conns = calloc((size_t)n, sizeof(*conns));
	pfds = calloc((size_t)n, sizeof(*pfds));
	if (conns == NULL || pfds == NULL)
		die("out of memory");
	raise_nofile(n + 64);
}

static void
scen_connect(int n, int inflight, int bg)
{
	int64_t t0, t1, c0, c1, s0, s1;
	double dt;

	alloc_conns(n + bg);
	nickpfx = 'c';
	if (bg > 0) {	/* -b: clients already connected, not measured */
		fill(bg, 500);
		settle(500);
		if (n_registered != bg)
			die("only %ld of %d background clients registered",
			    n_registered, bg);
		nlat = 0;	/* latency of the measured ones only */
		n += bg;
		pump_from = bg;	/* see pump_from */
	}
	if (hook != NULL && system(hook) != 0)
		fprintf(stderr, "load: hook failed: %s\n", hook);
	c0 = cpu_ns();
	s0 = cpu_stat_ns();
	t0 = now_us();
	fill(n, inflight);
	t1 = now_us();
	c1 = cpu_ns();
	s1 = cpu_stat_ns();
	dt = (double)(t1 - t0) / 1e6;
	n -= bg;
	n_registered -= bg;
	pump_from = 0;
	printf("RESULT scenario=connect clients=%d background=%d inflight=%d "
	    "registered=%ld failed=%ld regs_per_s=%.0f p50_ms=%.2f "
	    "p99_ms=%.2f cpu_us_per_reg=%.1f stat_cpu_us_per_reg=%.1f "
	    "wall_s=%.3f pinned=%d ok=%d\n", n, bg, inflight, n_registered,
	    n_failed, n_registered / dt, lat_pct(50), lat_pct(99),
	    c0 >= 0 ? (double)(c1 - c0) / 1000.0 / n : -1.0,
	    (double)(s1 - s0) / 1000.0 / n, dt, pinned,
	    n_registered == n && n_failed == 0 && n_errors == 0);
	free_all();
}

static void
scen_idle(const char *steps, int inflight)
{
	int st[MAXSTEPS], ns = 0, i;
	long base, rss[MAXSTEPS];
	char *e;
	const char *p = steps;

	while (*p != '\0' && ns < MAXSTEPS) {
		st[ns++] = (int)strtol(p, &e, 10);
		if (e == p || st[ns - 1] <= 0)
			die("bad idle steps: %s", steps);
		p = *e == ',' ? e + 1 : e;
	}
	alloc_conns(st[ns - 1]);
	nickpfx = 'i';
	probe_client();
	settle(1500);	/* the probe's user freed, a once-a-second tick run */
	base = rss_kib();
	for (i = 0; i < ns; i++) {
		fill(st[i], inflight);
		settle(1000);	/* the welcome burst read, buffers released */
		rss[i] = rss_kib();
	}
	/* -H: e.g. a look at the server's heap with every client still on */
	if (hook != NULL && system(hook) != 0)
		fprintf(stderr, "load: hook failed: %s\n", hook);
	printf("RESULT scenario=idle base_kib=%ld", base);
	for (i = 0; i < ns; i++)
		printf(" rss_%d_kib=%ld bytes_per_client_%d=%.0f", st[i],
		    rss[i], st[i], (double)(rss[i] - base) * 1024.0 / st[i]);
	printf(" registered=%ld failed=%ld errors=%ld ok=%d\n", n_registered,
	    n_failed, n_errors, n_registered == st[ns - 1] && n_failed == 0 &&
	    n_errors == 0);
	free_all();
}

static uint32_t rng = 2463534242u;

static uint32_t
xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* Sends sender s's next message; returns 0 when its ring is full. */
static int
send_one(int s)
{
	struct conn *c = &conns[s];
	char buf[600], chan[32];
	int q = sent[s], n, ch;

	if (q - acked[s] >= RING)
		return 0;
	if (is_channels) {
		ch = c->chans[q % kper];
		snprintf(chan, sizeof(chan), "#c%d", ch);
		pending[s][q % RING] = chan_members[ch] - 1;
	} else {
		snprintf(chan, sizeof(chan), "#bench");
		pending[s][q % RING] = nconns - 1;
	}
	n = snprintf(buf, sizeof(buf), "PRIVMSG %s :x%d %d %lld ", chan, s, q,
	    (long long)now_us());
	while (n < msglen + 10 && n < (int)sizeof(buf) - 3)
		buf[n] = (char)('a' + n % 26), n++;
	buf[n++] = '\r';
	buf[n++] = '\n';
	sent[s]++;
	conn_queue(c, buf, (size_t)n);
	sender_advance(s);	/* a channel with no one else in it */
	return 1;
}

/*
 * fanout and channels: registers nclients, joins them, syncs every
 * client with a PING so no JOIN is still in flight, then runs the senders
 * closed-loop (msgs each, window undelivered) or paced (rate msg/s for
 * dur seconds).
 */
static void
scen_msgs(const char *name, int nclients, int msgs, int rate, double dur,
    int inflight)
{
	int64_t t0, t1, c0, c1, s0, s1, d0 = 0, d1 = 0, expected = 0;
	long nd0 = 0, nd;
	int i, k, s, warming = rate <= 0 && warm > 0;
	double dt;

	alloc_conns(nclients);
	nickpfx = is_channels ? 'h' : 'f';
	if (is_channels) {
		chan_members = calloc((size_t)nchan, sizeof(int));
		if (chan_members == NULL)
			die("out of memory");
	}
	fill(nclients, inflight);
	if (n_registered != nclients)
		goto report;
	if (oper != NULL) {
		const char *colon = strchr(oper, ':');

		for (s = 0; s < nsenders; s++)
			conn_printf(&conns[s], "OPER %.*s %s\r\n",
			    (int)(colon - oper), oper, colon + 1);
		while (n_opered < nsenders && !timed_out() && n_errors == 0 &&
		    conns[0].state != C_DEAD)
			pump(50);
		if (n_opered < nsenders)
			goto report;
	}
	/* join: one JOIN line per client, at most 200 clients joining at once */
	for (i = 0; i < nclients; i++) {
		struct conn *c = &conns[i];
		char line[2048];
		size_t len;

		c->state = C_JOINING;
		if (!is_channels) {
			c->joins_left = 1;
			conn_printf(c, "JOIN #bench\r\n");
		} else {
			c->chans = calloc((size_t)kper, sizeof(uint16_t));
			if (c->chans == NULL)
				die("out of memory");
			len = (size_t)snprintf(line, sizeof(line), "JOIN ");
			for (k = 0; k < kper; k++) {
				int ch, dup;

				do {
					ch = (int)(xorshift() % (uint32_t)nchan);
					dup = 0;
					for (int j = 0; j < k; j++)
						dup |= c->chans[j] == ch;
				} while (dup);
				c->chans[k] = (uint16_t)ch;
				chan_members[ch]++;
				len += (size_t)snprintf(line + len,
				    sizeof(line) - len, "%s#c%d",
				    k ? "," : "", ch);
			}
			c->joins_left = kper;
			conn_printf(c, "%s\r\n", line);
		}
		while (i + 1 - n_joined >= 200 && !timed_out())
			pump(50);
	}
	while (n_joined < nclients && !timed_out() && n_errors == 0)
		pump(50);
	if (n_joined != nclients)
		goto report;
	for (i = 0; i < nclients; i++) {
		conns[i].state = C_SYNCING;
		conn_printf(&conns[i], "PING :sync\r\n");
	}
	while (n_synced < nclients && !timed_out())
		pump(50);
	if (n_synced != nclients)
		goto report;

	if (hook != NULL && system(hook) != 0)
		fprintf(stderr, "load: hook failed: %s\n", hook);
	if (use_tls)
		fprintf(stderr, "load: TLS, %s\n", ltls_suite(conns[0].tls));
	nlat = 0;		/* registration latencies are not wanted */
	c0 = cpu_ns();
	if (spid2 > 0)
		d0 = cpu_ns_of(spid2);
	s0 = cpu_stat_ns();
	t0 = now_us();
	if (rate <= 0) {
		while (!timed_out()) {
			int more = 0;

			for (s = 0; s < nsenders; s++) {
				while (sent[s] < msgs &&
				    sent[s] - acked[s] < window)
					send_one(s);
				more |= acked[s] < msgs;
			}
			if (!more)
				break;
			pump(100);
			for (s = 0; warming && s < nsenders; s++)
				warming = acked[s] < warm;
			if (warm > 0 && !warming && nd0 == 0) {
				/* warmed up: the measurement starts here */
				nd0 = n_deliv;
				nlat = 0;
				c0 = cpu_ns();
				if (spid2 > 0)
					d0 = cpu_ns_of(spid2);
				s0 = cpu_stat_ns();
				t0 = now_us();
			}
		}
	} else {
		int64_t gap = 1000000 / rate, next = t0;
		int64_t end = t0 + (int64_t)(dur * 1e6);

		while (!timed_out()) {
			int64_t t = now_us();
			int more = 0;

			if (t >= next && next < end) {
				for (s = 0; s < nsenders; s++)
					send_one(s);
				next += gap;
			}
			for (s = 0; s < nsenders; s++)
				more |= acked[s] < sent[s];
			if (!more && next >= end)
				break;
			t = now_us();
			pump(next > t && next < end ?
			    (int)((next - t + 999) / 1000) : 20);
		}
	}
	t1 = now_us();
	c1 = cpu_ns();
	if (spid2 > 0)
		d1 = cpu_ns_of(spid2);
	s1 = cpu_stat_ns();
	settle(200);	/* late or duplicate lines are counted too */
	/* what every message sent should have reached, as in send_one() */
	for (s = 0; s < nsenders; s++)
		for (k = 0; k < sent[s]; k++)
			expected += is_channels ?
			    chan_members[conns[s].chans[k % kper]] - 1 :
			    nclients - 1;
	dt = (double)(t1 - t0) / 1e6;
	/* deliveries measured: those after the warm-up (-W), else all */
	nd = n_deliv - nd0;
	printf("RESULT scenario=%s clients=%d senders=%d sent=%d "
	    "deliveries=%ld expected=%lld lost=%lld reordered=%ld "
	    "unexpected=%ld warm=%d measured=%ld deliv_per_s=%.0f "
	    "p50_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f "
	    "cpu_s_per_M=%.3f stat_cpu_s_per_M=%.3f cpu2_s_per_M=%.3f "
	    "wall_s=%.3f pinned=%d tls=%d ok=%d\n",
	    name, nclients, nsenders, sent[0] + sent[1] + sent[2] + sent[3],
	    n_deliv, (long long)expected, (long long)expected - n_deliv,
	    n_reorder, n_unexpected, nd0 > 0 ? warm : 0, nd, nd / dt,
	    lat_pct(50), lat_pct(99), lat_pct(99.9), lat_pct(100),
	    nd ? (double)(c1 - c0) / 1e9 / (nd / 1e6) : -1.0,
	    nd ? (double)(s1 - s0) / 1e9 / (nd / 1e6) : -1.0,
	    nd && spid2 > 0 ? (double)(d1 - d0) / 1e9 /
	    (nd / 1e6) : -1.0, dt,
	    pinned, use_tls,
	    n_deliv == expected && n_reorder == 0 && n_unexpected == 0 &&
	    n_errors == 0 && n_deliv > 0);
	free_all();
	return;
report:
	printf("RESULT scenario=%s clients=%d registered=%ld joined=%ld "
	    "synced=%ld opered=%ld failed=%ld errors=%ld ok=0\n", name,
	    nclients, n_registered, n_joined, n_synced, n_opered, n_failed,
	    n_errors);
	free_all();
}

/*
 * startup: runs the server given after "--" and measures the time from
 * fork() to the first successful connect() to its port, then stops it
 * (SIGTERM, then SIGKILL after 5 s) by its own PID.
 */
static void
scen_startup(char **argv)
{
	int64_t t0, t1 = -1, t2 = -1, cpu = -1, end;
	pid_t pid;
	int st, fd = -1;

	t0 = now_us();
	if ((pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	end = t0 + 20000000;
	while (now_us() < end) {
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
			die("socket: %s", strerror(errno));
		if (connect(fd, (struct sockaddr *)&srv, sizeof(srv)) == 0) {
			t1 = now_us();
			break;
		}
		close(fd);
		fd = -1;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			pid = -1;
			break;
		}
		sleep_us(200);
	}
	/*
	 * Listening comes before the database is opened and read: ready is
	 * the first client's 001, after all of that.
	 */
	if (fd != -1) {
		if (register_wait(fd, "startup") == 0) {
			t2 = now_us();
			spid = pid;
			cpu = cpu_ns();
		}
		close(fd);
	}
	if (pid > 0) {
		kill(pid, SIGTERM);
		for (int i = 0; i < 500 && waitpid(pid, &st, WNOHANG) == 0; i++)
			sleep_us(10000);
		if (waitpid(pid, &st, WNOHANG) == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
		}
	}
	printf("RESULT scenario=startup startup_ms=%.2f ready_ms=%.2f "
	    "ready_cpu_ms=%.2f ok=%d\n", t1 < 0 ? -1.0 : (t1 - t0) / 1000.0,
	    t2 < 0 ? -1.0 : (t2 - t0) / 1000.0, cpu < 0 ? -1.0 : cpu / 1e6,
	    t1 >= 0 && t2 >= 0);
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: load -p port [-h 127.0.0.1] [-P server-pid] [-A] [-t] -s scenario\n"
	    "  connect:  -n clients(2000) -f inflight(50) [-b connected-first]\n"
	    "  idle:     -n steps(1000,5000,10000)\n"
	    "  fanout:   -c clients(200) -S senders(4) -m msgs(2000) -w window(64)\n"
	    "            [-W warm-up msgs per sender] [-r msg/s per sender -d seconds]\n"
	    "  channels: -c clients(1000) -C channels(100) -k per-client(10)\n"
	    "            -S -m -w as fanout\n"
	    "  fanout, channels: -q port2 (the senders') -Q server2-pid\n"
	    "  common:   -T time-limit-s(120) -a source-addresses(100) -l textlen(100)\n"
	    "            -A pin the server and this process to two CPUs\n"
	    "            -t TLS (BearSSL; the certificate is not checked)\n"
	    "            -O name:password  senders OPER before sending\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *scen = NULL, *host = "127.0.0.1", *nstr = NULL;
	int port = 0, port2 = 0, inflight = 50, bgn = 0, clients = -1, msgs = 2000, rate = 0;
	double dur = 10, tlimit = 120;
	int o, pin = 0;

	signal(SIGPIPE, SIG_IGN);
	while ((o = getopt(argc, argv, "AtO:p:q:Q:h:P:s:n:f:c:S:m:w:W:r:d:C:k:T:a:l:H:b:"))
	    != -1) {
		switch (o) {
		case 'A': pin = 1; break;
		case 't': use_tls = 1; break;
		case 'O': oper = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'q': port2 = atoi(optarg); break;
		case 'Q': spid2 = (pid_t)atoi(optarg); break;
		case 'h': host = optarg; break;
		case 'P': spid = (pid_t)atoi(optarg); break;
		case 's': scen = optarg; break;
		case 'n': nstr = optarg; break;
		case 'f': inflight = atoi(optarg); break;
		case 'c': clients = atoi(optarg); break;
		case 'S': nsenders = atoi(optarg); break;
		case 'm': msgs = atoi(optarg); break;
		case 'w': window = atoi(optarg); break;
		case 'W': warm = atoi(optarg); break;
		case 'r': rate = atoi(optarg); break;
		case 'd': dur = atof(optarg); break;
		case 'C': nchan = atoi(optarg); break;
		case 'k': kper = atoi(optarg); break;
		case 'T': tlimit = atof(optarg); break;
		case 'a': nsrc = atoi(optarg); break;
		case 'l': msglen = atoi(optarg); break;
		case 'H': hook = optarg; break;
		case 'b': bgn = atoi(optarg); break;
		default: usage();
		}
	}
	if (scen == NULL || port <= 0 || port > 65535)
		usage();
	memset(&srv, 0, sizeof(srv));
	srv.sin_family = AF_INET;
	srv.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &srv.sin_addr) != 1 ||
	    (ntohl(srv.sin_addr.s_addr) >> 24) != 127)
		die("host must be an address in 127.0.0.0/8");
	if (port2 > 0 && port2 <= 65535) {
		srv2 = srv;
		srv2.sin_port = htons((uint16_t)port2);
		have_srv2 = 1;
	}
	if (nsrc < 0 || nsrc > 250)
		die("-a: 0..250 source addresses");
	if (oper != NULL && (strchr(oper, ':') == NULL || oper[0] == ':' ||
	    strpbrk(oper, " \r\n") != NULL))
		die("-O: NAME:PASSWORD, no spaces");
	if (nsenders < 1 || nsenders > 4)
		die("-S: 1..4 senders");
	if (window < 1 || window > RING || msgs < 1 || msgs > 10000000 ||
	    warm < 0 || (warm > 0 && warm >= msgs) ||
	    msglen < 0 || msglen > 400 || tlimit <= 0 || tlimit > 3600 ||
	    dur <= 0 || dur > 600 || rate < 0 || rate > 100000)
		die("an option is out of range");
	deadline = now_us() + (int64_t)(tlimit * 1e6);
	if (pin)
		pin_cpus();

	if (strcmp(scen, "startup") == 0) {
		if (optind >= argc)
			usage();
		scen_startup(argv + optind);
	} else if (strcmp(scen, "connect") == 0) {
		int n = nstr ? atoi(nstr) : 2000;

		if (n < 1 || n > 100000 || inflight < 1 || bgn < 0 ||
		    bgn > 100000)
			die("-n: 1..100000 clients, -b: 0..100000");
		scen_connect(n, inflight, bgn);
	} else if (strcmp(scen, "idle") == 0) {
		scen_idle(nstr ? nstr : "1000,5000,10000", inflight);
	} else if (strcmp(scen, "fanout") == 0) {
		if (clients < 0)
			clients = 200;
		if (clients <= nsenders || clients > 100000)
			die("-c: more clients than senders");
		scen_msgs("fanout", clients, msgs, rate, dur, inflight);
	} else if (strcmp(scen, "channels") == 0) {
		if (clients < 0)
			clients = 1000;
		if (nchan < 0)
			nchan = 100;
		if (kper < 0)
			kper = 10;
		if (clients <= nsenders || clients > 100000 || nchan < 1 ||
		    nchan > 65535 || kper < 1 || kper > nchan || kper > 100)
			die("channels: bad -c/-C/-k");
		is_channels = 1;
		scen_msgs("channels", clients, msgs, rate, dur, inflight);
	} else
		usage();
	return 0;
}
