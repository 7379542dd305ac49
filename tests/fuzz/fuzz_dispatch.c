/*
 * fuzz_dispatch.c: the whole protocol, line by line, as several clients
 * drive it: registration, CAP, labels and batches, channels and MODE,
 * multiline, CHATHISTORY, MONITOR, WHO/WHOX, the services' words,
 * fakelag and the timers. It enters irc only through irc_net_handlers
 * and irc_tick, as net.c does, and gives irc a fake net: this file
 * defines struct conn and every net_conn_* irc calls, so the linker
 * never takes net.o from the library (if some new net symbol made it,
 * the duplicate definitions would fail the link, not pass silently).
 *
 * The input is one operation a line ('\n'; a '\r' ends a line too):
 *
 *	0..7<line>	<line> from client N % NCLIENTS (opened if need be)
 *	x<digit>	client N's connection drops (EOF)
 *	t<ms>		time goes on by ms (at most 10 minutes), timers run
 *	other<line>	<line> from client (byte % NCLIENTS)
 *
 * Clients 0 and 1 are plain from 127.0.0.1 and 192.0.2.1, 2 is TLS from
 * 2001:db8::2, 3 is TLS from 192.0.2.1 with a client certificate.
 * Every line irc sends is checked: CRLF-terminated, no NUL, CR or LF
 * inside, UTF-8 (a client's text was), within 512 bytes after at most
 * 8191 of tags, no empty parameter, and no tag the
 * client did not enable the cap of (time: server-time, label:
 * labeled-response, ...; the caps as irc's CAP ACK lines said). At the end the
 * held lines are let through (time moves to each next timer), then
 * every client goes, so whatever a client owned and irc did not free
 * shows up as a leak. FUZZ_ECHO=1 in the environment prints the
 * session (lines in, lines out) on stderr.
 *
 * State outside the clients (accounts and channels in the store,
 * WHOWAS, history) stays from one input to the next; time moves a day
 * between inputs so throttles and expiries forget the last one. No
 * oper is configured: a permanent K-line would outlive its input and
 * DIE would stop the fuzzer.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"
#include "../../net.h"
#include "../../irc.h"
#include "../../store.h"

#define NCLIENTS	4
#define TIME_MAX_MS	(10 * 60 * 1000)
#define DRAIN_PASSES	2000	/* held lines let through at the end */
#define CERTFP	"4f9ec1e0a0c7e2b4a3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0"

/* A line held while irc defers (fakelag), as net keeps pending input. */
struct held {
	struct held	*next;
	size_t		 len;
	char		 line[];
};

struct conn {
	void		*client;	/* irc's handle; NULL once irc is done */
	const char	*ip;
	char		 ipbuf[64];	/* net_conn_set_ip's */
	const char	*certfp;
	bool		 tls;
	bool		 closing;	/* net_conn_close: irc ended it */
	bool		 dead;		/* dropped under irc: it is told */
	bool		 paused;	/* NET_DEFER/NET_STOP until resume */
	const char	*reason;
	size_t		 sendq;		/* bytes since the last pass */
	unsigned	 caps;		/* TC_*: as irc's CAP ACKs said */
	size_t		 heldbytes;
	struct held	*held, **heldtail;
};

static const struct {
	const char	*ip;
	bool		 tls;
	const char	*certfp;
} kinds[NCLIENTS] = {
	{ "127.0.0.1", false, NULL },
	{ "192.0.2.1", false, NULL },
	{ "2001:db8::2", true, NULL },
	{ "192.0.2.1", true, CERTFP },
};

/*
 * The caps a tag in irc's output needs: a client that did not ask for
 * it must never see it (an old client mis-parses a line with tags).
 */
enum { TC_TAGS = 1, TC_TIME = 2, TC_ACCOUNT = 4, TC_BATCH = 8,
    TC_LABEL = 16, TC_ML = 32 };
static const struct {
	const char	*name;
	unsigned	 bit;
} tagcaps[] = {
	{ "message-tags", TC_TAGS }, { "server-time", TC_TIME },
	{ "account-tag", TC_ACCOUNT }, { "batch", TC_BATCH },
	{ "labeled-response", TC_LABEL }, { "draft/multiline", TC_ML },
};

static struct conn *conns[NCLIENTS];
static bool	 echo;		/* FUZZ_ECHO set: the session on stderr */
static char	 dir[64], dbpath[96], confpath[96];

/* ---- the fake net: what irc calls ---- */

static void	 rm_dir(void);

static void
bad_output(const char *why, const char *buf, size_t len)
{
	fprintf(stderr, "fuzz_dispatch: irc sent %s: %.*s\n", why,
	    (int)(len > 600 ? 600 : len), buf);
	rm_dir();	/* abort() runs no atexit */
	abort();
}

static unsigned
tagcap_bit(const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(tagcaps) / sizeof(tagcaps[0]); i++)
		if (strlen(tagcaps[i].name) == n &&
		    memcmp(tagcaps[i].name, name, n) == 0)
			return tagcaps[i].bit;
	return 0;
}

/* The cap a tag key needs; anything but these is message-tags'. */
static unsigned
tag_needs(const char *k, size_t n)
{
#define IS(s)	(n == sizeof(s) - 1 && memcmp(k, s, n) == 0)
	if (IS("time"))
		return TC_TIME;
	if (IS("account"))
		return TC_ACCOUNT;
	if (IS("batch"))
		return TC_BATCH;
	if (IS("label"))
		return TC_LABEL;
	if (IS("draft/multiline-concat"))
		return TC_ML;
	return TC_TAGS;
#undef IS
}

/*
 * "CAP <who> ACK|DEL :<caps>" in body[0..n): the caps it turns on go in
 * before the line's own tags are checked (the ACK of server-time has
 * one), those it turns off after.
 */
static void
caps_seen(struct conn *c, const char *body, size_t n, bool on)
{
	const char *p = body, *end = body + n, *w;
	char sub[8];
	int i;

	if (p < end && *p == ':' && (p = memchr(p, ' ', n)) == NULL)
		return;
	for (i = 0; i < 3 && p != NULL && p < end; i++) {
		while (p < end && *p == ' ')
			p++;
		w = p;
		if ((p = memchr(p, ' ', (size_t)(end - p))) == NULL)
			return;
		if (i == 0 && ((size_t)(p - w) != 3 || memcmp(w, "CAP", 3)))
			return;
		if (i == 2)
			snprintf(sub, sizeof(sub), "%.*s", (int)(p - w), w);
	}
	if (p == NULL || (strcmp(sub, "ACK") != 0 && strcmp(sub, "DEL") != 0))
		return;
	while (p < end && (*p == ' ' || *p == ':'))
		p++;
	while (p < end) {
		bool minus = *p == '-' || strcmp(sub, "DEL") == 0;

		p += *p == '-';
		for (w = p; p < end && *p != ' ' && *p != '\r'; p++)
			;
		if (minus != on) {
			if (on)
				c->caps |= tagcap_bit(w, (size_t)(p - w));
			else
				c->caps &= ~tagcap_bit(w, (size_t)(p - w));
		}
		while (p < end && (*p == ' ' || *p == '\r'))
			p++;
	}
}

/* Each tag of the section tags[0..n) is one c asked for. */
static void
tags_check(const struct conn *c, const char *tags, size_t n)
{
	const char *p = tags, *end = tags + n, *e, *k;
	unsigned need;

	while (p < end) {
		if ((e = memchr(p, ';', (size_t)(end - p))) == NULL)
			e = end;
		for (k = p; k < e && *k != '='; k++)
			;
		need = tag_needs(p, (size_t)(k - p));
		if (!(c->caps & need))
			bad_output("a tag the client did not ask for", tags, n);
		p = e + 1;
	}
}

/*
 * Before the trailing parameter (" :"), single spaces between non-empty
 * words: an empty middle parameter, or a space at the end, is no
 * parameter a client can parse (RFC 1459's <middle> is never empty).
 */
static void
params_check(const char *body, const char *end)
{
	const char *p, *mid = end;

	for (p = body + 1; p + 1 < end; p++)
		if (p[0] == ' ' && p[1] == ':') {
			mid = p;
			break;
		}
	for (p = body; p < mid; p++)
		if (*p == ' ' && (p + 1 == end || p[1] == ' '))
			bad_output("an empty parameter", body,
			    (size_t)(end - body));
}

/* Each line of buf: CRLF at its end only, no NUL, sane lengths. */
static void
output_check(struct conn *c, const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len, *eol, *body;

	if (len == 0)
		bad_output("nothing", buf, len);
	while (p < end) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			bad_output("a line without LF", p, (size_t)(end - p));
		if (eol == p || eol[-1] != '\r')
			bad_output("a line without CRLF", p,
			    (size_t)(eol - p + 1));
		if (memchr(p, '\0', (size_t)(eol - p)) != NULL ||
		    memchr(p, '\r', (size_t)(eol - 1 - p)) != NULL)
			bad_output("a NUL or CR inside a line", p,
			    (size_t)(eol - p + 1));
		body = p;
		if (*p == '@') {
			if ((body = memchr(p, ' ', (size_t)(eol - p))) == NULL)
				bad_output("tags and no command", p,
				    (size_t)(eol - p + 1));
			body++;
			if ((size_t)(body - p) > IRC_TAGS_MAX)
				bad_output("too many tags", p,
				    (size_t)(eol - p + 1));
		}
		if ((size_t)(eol + 1 - body) > IRC_LINE_MAX)
			bad_output("a line over 512 bytes", p,
			    (size_t)(eol - p + 1));
		params_check(body, eol - 1);
		if (!irc_utf8_valid(p, (size_t)(eol - 1 - p)))
			bad_output("invalid UTF-8", p, (size_t)(eol - p + 1));
		caps_seen(c, body, (size_t)(eol - body), true);
		if (body > p)
			tags_check(c, p + 1, (size_t)(body - p - 2));
		caps_seen(c, body, (size_t)(eol - body), false);
		p = eol + 1;
	}
}

void
net_conn_send(struct conn *c, const char *buf, size_t len)
{
	if (c->dead)
		return;
	output_check(c, buf, len);
	if (echo)
		fprintf(stderr, "%s <- %.*s", c->ip, (int)len, buf);
	if (c->sendq + len > conf->max_sendq && !c->closing) {
		c->dead = true;		/* as net: ERROR, irc told at the end */
		c->reason = "SendQ exceeded";
		return;
	}
	c->sendq += len;
}

/* Shared lines: a counted copy, sent through net_conn_send's checks. */
struct net_line {
	unsigned	 refs;
	size_t		 len;
	char		 data[];
};

struct net_line *
net_line_new(const char *buf, size_t len)
{
	struct net_line *l = malloc(sizeof(*l) + len);

	if (l == NULL)
		return NULL;
	l->refs = 1;
	l->len = len;
	memcpy(l->data, buf, len);
	return l;
}

struct net_line *
net_line_ref(struct net_line *l)
{
	l->refs++;
	return l;
}

void
net_line_unref(struct net_line *l)
{
	if (l != NULL && --l->refs == 0)
		free(l);
}

const char *
net_line_data(const struct net_line *l, size_t *len)
{
	*len = l->len;
	return l->data;
}

void
net_conn_prefetch(const struct conn *c, unsigned step)
{
	(void)c;
	(void)step;
}

void
net_conn_send_line(struct conn *c, struct net_line *l)
{
	net_conn_send(c, l->data, l->len);
}

void
net_conn_close(struct conn *c, const char *error)
{
	char line[IRC_LINE_MAX];
	int n;

	c->client = NULL;
	if (c->closing || c->dead)
		return;
	if (error != NULL) {
		n = snprintf(line, sizeof(line) - 2, "ERROR :%s", error);
		if (n > 0) {
			size_t l = (size_t)n < sizeof(line) - 2 ? (size_t)n :
			    sizeof(line) - 3;

			line[l++] = '\r';
			line[l++] = '\n';
			net_conn_send(c, line, l);
		}
	}
	c->closing = true;
}

void
net_conn_resume(struct conn *c)
{
	if (!c->closing && !c->dead)
		c->paused = false;
}

/* one process: no socket ever has input the harness has not handed up */
bool
net_conn_unread(const struct conn *c)
{
	(void)c;
	return false;
}

bool
net_conn_retry(struct conn *c)
{
	(void)c;
	return false;
}

const char *
net_conn_ip(const struct conn *c)
{
	return c->ip;
}

/* WEBIRC: the new address lives in the conn (one per fake connection). */
int
net_conn_set_ip(struct conn *c, const char *ip)
{
	snprintf(c->ipbuf, sizeof(c->ipbuf), "%s", ip);
	c->ip = c->ipbuf;
	return 0;
}

bool
net_conn_tls(const struct conn *c)
{
	return c->tls;
}

const char *
net_conn_certfp(const struct conn *c)
{
	return c->certfp;
}

size_t
net_conn_sendq(const struct conn *c)
{
	return c->sendq;
}

/* server links (irc_link.c): no outgoing connections here */
struct conn *
net_connect(const char *host, unsigned port, bool tls, void *handle)
{
	(void)host;
	(void)port;
	(void)tls;
	(void)handle;
	return NULL;
}

const char *
net_conn_peer_certfp(const struct conn *c)
{
	return c->certfp;
}

void
net_conn_set_sendq(struct conn *c, size_t max)
{
	(void)c;
	(void)max;
}

/* ---- connections: what net does with them ---- */

static struct conn *
conn_open(unsigned k)
{
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		abort();
	c->ip = kinds[k].ip;
	c->tls = kinds[k].tls;
	c->certfp = kinds[k].certfp;
	c->heldtail = &c->held;
	conns[k] = c;
	if ((c->client = irc_net_handlers.open(c)) == NULL && !c->closing) {
		c->dead = true;
		c->reason = "Connection refused";
	}
	return c;
}

static void
conn_free(unsigned k)
{
	struct conn *c = conns[k];
	struct held *h;

	while ((h = c->held) != NULL) {
		c->held = h->next;
		free(h);
	}
	free(c);
	conns[k] = NULL;
}

static void
hold(struct conn *c, const char *line, size_t len, bool front)
{
	struct held *h;

	if (c->heldbytes + len > conf->fakelag.max_recvq) {
		net_conn_send(c, "ERROR :Excess Flood\r\n", 21);
		c->dead = true;
		c->reason = "Excess Flood";
		return;
	}
	if ((h = malloc(sizeof(*h) + len)) == NULL)
		abort();
	memcpy(h->line, line, len);
	h->len = len;
	c->heldbytes += len;
	if (front) {
		if ((h->next = c->held) == NULL)
			c->heldtail = &h->next;
		c->held = h;
	} else {
		h->next = NULL;
		*c->heldtail = h;
		c->heldtail = &h->next;
	}
}

/* One line up to irc, as net's conn_lines hands it (a copy irc may cut). */
static void
feed(struct conn *c, const char *line, size_t len)
{
	size_t maxlen;
	char *buf;
	int rc;

	if (c->client == NULL || c->closing || c->dead)
		return;
	maxlen = line[0] == '@' ? RECVQ_MAX - 1 : IRC_LINE_MAX - 2;
	if (len > maxlen) {
		irc_net_handlers.toolong(c->client);
		return;
	}
	/* exactly its size: a read past the line is an ASan report */
	if ((buf = malloc(len + 1)) == NULL)
		abort();
	memcpy(buf, line, len);
	buf[len] = '\0';
	if (echo)
		fprintf(stderr, "%s -> %.*s\n", c->ip, (int)len, line);
	rc = irc_net_handlers.line(c->client, buf, len);
	free(buf);
	if (rc == NET_DEFER) {
		hold(c, line, len, true);
		c->paused = true;
	} else if (rc == NET_STOP)
		c->paused = true;
}

/* The lines c holds, while irc takes them. */
static void
drain(struct conn *c)
{
	struct held *h;

	while ((h = c->held) != NULL && !c->paused && !c->closing &&
	    !c->dead && c->client != NULL) {
		if ((c->held = h->next) == NULL)
			c->heldtail = &c->held;
		c->heldbytes -= h->len;
		feed(c, h->line, h->len);
		free(h);
	}
}

/*
 * The end of a loop pass: timers, then (net_flush) irc hears of the
 * connections that died under it, output is "written", the ended
 * connections are freed.
 */
static void
pass(void)
{
	unsigned k;
	void *cl;

	irc_tick();
	for (k = 0; k < NCLIENTS; k++)
		if (conns[k] != NULL && conns[k]->dead &&
		    (cl = conns[k]->client) != NULL) {
			conns[k]->client = NULL;
			irc_net_handlers.closed(cl, conns[k]->reason);
		}
	for (k = 0; k < NCLIENTS; k++)
		if (conns[k] != NULL) {
			conns[k]->sendq = 0;
			if (conns[k]->closing || conns[k]->dead)
				conn_free(k);
		}
}

/* A line from client k: now, or after the ones it already holds. */
static void
client_line(unsigned k, const char *line, size_t len)
{
	struct conn *c = conns[k];

	if (len == 0)
		return;
	if (c == NULL)
		c = conn_open(k);
	if (c->closing || c->dead)
		return;
	if (c->paused || c->held != NULL)
		hold(c, line, len, false);
	else
		feed(c, line, len);
}

static bool
any_held(void)
{
	unsigned k;

	for (k = 0; k < NCLIENTS; k++)
		if (conns[k] != NULL && conns[k]->held != NULL)
			return true;
	return false;
}

/* Both clocks on by ms: the monotonic one and the wall clock. */
static void
time_on(uint64_t ms)
{
	static uint64_t wall_ms;	/* of ergo_now: its milliseconds */

	if (wall_ms == 0)
		wall_ms = (uint64_t)ergo_now * 1000;
	ergo_now_ms += ms;
	wall_ms += ms;
	ergo_now = (time_t)(wall_ms / 1000);
}

/* ---- setup ---- */

static int
no_rehash(char **errs)
{
	*errs = NULL;
	return -1;
}

static void
rm_dir(void)
{
	char p[400];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

static void
cleanup(void)
{
	irc_shutdown();
	store_close();
	rm_dir();
}

static void
setup(void)
{
	struct stat st;
	char *errs = NULL;
	FILE *f;

	log_init(LL_ERROR);
	echo = getenv("FUZZ_ECHO") != NULL;
	/* tmpfs where there is one: the store syncs every commit */
	snprintf(dir, sizeof(dir), "%s/ergo-fuzz-dispatch.XXXXXX",
	    stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(dbpath, sizeof(dbpath), "%s/ircd.db", dir);
	snprintf(confpath, sizeof(confpath), "%s/ergo.conf", dir);
	/* the defaults, with what reaches more code at less cost */
	if ((f = fopen(confpath, "w")) == NULL)
		abort();
	fprintf(f,
	    "server { name ergo.fuzz }\n"
	    "datastore { path \"%s\" }\n"
	    "accounts { password-iterations 4096 }\n"
	    "history { autoreplay-on-join 5  persistent yes }\n"
	    "limits { monitor-entries 8  multiline-max-lines 8 }\n",
	    dbpath);
	if (fclose(f) == EOF)
		abort();
	if ((conf = conf_load(confpath, &errs)) == NULL) {
		fprintf(stderr, "fuzz_dispatch: config: %s\n", errs ? errs :
		    "?");
		abort();
	}
	ergo_clock();
	if (store_open(dbpath) == -1)
		abort();
	atexit(cleanup);
	irc_init(no_rehash);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const char *p = (const char *)data, *end = p + len, *eol, *cr;
	unsigned k, n;
	size_t l;

	if (conf == NULL)
		setup();
	time_on(86400 * 1000ULL);	/* the last input is forgotten */
	pass();
	for (; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		l = (size_t)(eol - p);
		if (l == 0)
			continue;
		if (p[0] == 't') {
			for (n = 0, cr = p + 1; cr < eol && *cr >= '0' &&
			    *cr <= '9' && n <= TIME_MAX_MS; cr++)
				n = n * 10 + (unsigned)(*cr - '0');
			time_on(n < TIME_MAX_MS ? n : TIME_MAX_MS);
		} else if (p[0] == 'x') {
			k = l > 1 ? (unsigned char)p[1] % NCLIENTS : 0;
			if (conns[k] != NULL && !conns[k]->closing &&
			    !conns[k]->dead) {
				conns[k]->dead = true;
				conns[k]->reason = "Connection closed";
			}
		} else {
			k = (unsigned char)p[0] % NCLIENTS;	/* '0' is 48 */
			/* net ends a line at a CR as at a LF */
			for (p++; p < eol; p = cr + 1) {
				if ((cr = memchr(p, '\r', (size_t)(eol - p))) ==
				    NULL)
					cr = eol;
				client_line(k, p, (size_t)(cr - p));
			}
		}
		for (k = 0; k < NCLIENTS; k++)
			if (conns[k] != NULL)
				drain(conns[k]);
		pass();
		if (eol == end)
			break;
	}
	/* the held lines, each when fakelag lets it through */
	for (n = 0; n < DRAIN_PASSES && any_held(); n++) {
		int t = irc_next_timer_ms();

		time_on(t > 0 ? (uint64_t)t : 1000);
		pass();
		for (k = 0; k < NCLIENTS; k++)
			if (conns[k] != NULL)
				drain(conns[k]);
		pass();
	}
	for (k = 0; k < NCLIENTS; k++)
		if (conns[k] != NULL && !conns[k]->closing && !conns[k]->dead) {
			conns[k]->dead = true;
			conns[k]->reason = "Connection closed";
		}
	pass();
	pass();		/* the graveyard */
	return 0;
}
