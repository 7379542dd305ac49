/*
 * log.c: levelled, categorised log lines to stderr, a file or syslog.
 * Owns the log target and its reopening; never allocates on the hot path.
 *
 * A line is "2026-11-24T08:50:42.123Z info server message\n", written with
 * one write(2) so concurrent writers (logrotate's copytruncate, a second
 * process on the same file) never interleave inside a line. Control bytes
 * in the message are escaped as \xNN, so client data can neither break a
 * line nor hide one.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "ergo.h"
#include "log.h"

#define LOG_MSG_MAX	4096	/* formatted message before escaping */
#define LOG_LINE_MAX	(LOG_MSG_MAX * 4 + 256)	/* escaped: \xNN is 4 */
#define LOG_TRUNC	"[...]"

/* One target. A file sink owns its fd and path; stderr's fd is borrowed. */
struct sink {
	int		 method;
	int		 fd;
	char		*path;
	int		 level;
	uint32_t	 types;
	unsigned long	 lost;		/* lines dropped by failed writes */
};

static struct sink	 sinks[LOG_SINKS_MAX];
static size_t		 nsinks;
static int		 min_level = LL_INFO;	/* least level any sink takes */
static bool		 syslog_open;
static char		 why[320 + 4096];	/* log_configure's last failure */
static bool		 echo_errors;	/* start-up: errors to stderr too */

/*
 * Categories for `types`, as Ergo names them where Ergo has one. A
 * category the code uses but this table lacks maps to "other", which
 * only `*` selects.
 */
static const char *const log_cats[] = {
	"server", "connect", "channels", "opers", "rehash", "store",
	"userinput", "useroutput", "log", "irc", "accounts", "tls", "link",
	"other", NULL
};
#define CAT_OTHER	13

static const char *const log_words[] = { "debug", "info", "warn", "error" };

static void	 vlog(int, const char *, int, const char *, va_list);
static size_t	 log_escape(char *, size_t, const char *);
static void	 log_write_line(struct sink *, const char *, size_t, size_t);
static size_t	 log_format(char *, size_t, int, const char *, const char *,
		    size_t *);
static int	 log_open_file(const char *);
static void	 sinks_close(struct sink *, size_t, const struct sink *,
		    size_t);

uint32_t
log_category(const char *name, size_t len)
{
	size_t	 i;

	for (i = 0; log_cats[i] != NULL; i++)
		if (strlen(log_cats[i]) == len &&
		    memcmp(log_cats[i], name, len) == 0)
			return 1U << i;
	return 0;
}

uint32_t
log_types_default(void)
{
	return LOG_TYPES_ALL & ~log_category("userinput", 9) &
	    ~log_category("useroutput", 10);
}

static uint32_t
cat_bit(const char *cat)
{
	uint32_t b = log_category(cat, strlen(cat));

	return b != 0 ? b : 1U << CAT_OTHER;
}

static void
min_level_update(void)
{
	size_t	 i;

	min_level = LL_ERROR + 1;
	for (i = 0; i < nsinks; i++)
		if (sinks[i].level < min_level)
			min_level = sinks[i].level;
}

void
log_init(int level)
{
	sinks_close(sinks, nsinks, NULL, 0);
	memset(&sinks[0], 0, sizeof(sinks[0]));
	sinks[0].method = LOGM_STDERR;
	sinks[0].fd = STDERR_FILENO;
	sinks[0].level = level >= LL_DEBUG && level <= LL_ERROR ? level :
	    LL_INFO;
	sinks[0].types = LOG_TYPES_ALL;
	nsinks = 1;
	min_level_update();
}

/*
 * Closes what the sinks s[0..n) own, except the fds that keep[0..nk)
 * took over (a file kept open across a rehash).
 */
static void
sinks_close(struct sink *s, size_t n, const struct sink *keep, size_t nk)
{
	size_t	 i, j;

	for (i = 0; i < n; i++) {
		if (s[i].method == LOGM_FILE && s[i].fd != -1) {
			for (j = 0; j < nk; j++)
				if (keep[j].method == LOGM_FILE &&
				    keep[j].fd == s[i].fd)
					break;
			if (j == nk)
				close(s[i].fd);
		}
		free(s[i].path);
		s[i].path = NULL;
		s[i].fd = -1;
	}
}

int
log_configure(const struct log_conf *list)
{
	struct sink		 ns[LOG_SINKS_MAX];
	const struct log_conf	*lc;
	bool			 taken[LOG_SINKS_MAX] = { false };
	bool			 want_syslog = false;
	size_t			 n = 0, i, j;

	memset(ns, 0, sizeof(ns));
	for (lc = list; lc != NULL; lc = lc->next) {
		struct sink *s = &ns[n];

		if (n == LOG_SINKS_MAX) {
			snprintf(why, sizeof(why), "more than %d logging "
			    "blocks", LOG_SINKS_MAX);
			goto fail;
		}
		if (lc->level < LL_DEBUG || lc->level > LL_ERROR) {
			snprintf(why, sizeof(why), "unknown log level %d",
			    lc->level);
			goto fail;
		}
		s->method = lc->method;
		s->level = lc->level;
		s->types = lc->types;
		s->fd = -1;
		n++;
		switch (lc->method) {
		case LOGM_STDERR:
			s->fd = STDERR_FILENO;
			break;
		case LOGM_SYSLOG:
			want_syslog = true;
			break;
		case LOGM_FILE:
			if (lc->path == NULL || *lc->path == '\0') {
				snprintf(why, sizeof(why), "method file needs "
				    "a path");
				goto fail;
			}
			if ((s->path = strdup(lc->path)) == NULL) {
				snprintf(why, sizeof(why), "%s: %s", lc->path,
				    strerror(errno));
				goto fail;
			}
			/* The same file as now: keep its fd (no reopen). */
			for (j = 0; j < nsinks; j++)
				if (!taken[j] && sinks[j].method == LOGM_FILE &&
				    strcmp(sinks[j].path, lc->path) == 0)
					break;
			if (j < nsinks) {
				taken[j] = true;
				s->fd = sinks[j].fd;
				s->lost = sinks[j].lost;
			} else if ((s->fd = log_open_file(lc->path)) == -1) {
				int e = errno;
				char cwd[4096];

				/* absolute: the reader of a start-up failure
				 * may not know the server's directory */
				if (lc->path[0] == '/' ||
				    getcwd(cwd, sizeof(cwd)) == NULL)
					cwd[0] = '\0';
				snprintf(why, sizeof(why), "cannot open log "
				    "file %s%s%s: %s", cwd, cwd[0] != '\0' &&
				    strcmp(cwd, "/") != 0 ? "/" : "", lc->path,
				    strerror(e));
				goto fail;
			}
			break;
		default:
			snprintf(why, sizeof(why), "unknown log method %d",
			    lc->method);
			goto fail;
		}
	}
	if (want_syslog && !syslog_open) {
		openlog("ergo", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		syslog_open = true;
	} else if (!want_syslog && syslog_open) {
		closelog();
		syslog_open = false;
	}
	sinks_close(sinks, nsinks, ns, n);
	memcpy(sinks, ns, sizeof(ns));
	nsinks = n;
	min_level_update();
	return 0;

fail:
	log_warnx("log", "%s", why);
	/* Close only what this call opened: kept fds still belong to sinks. */
	for (i = 0; i < n; i++) {
		if (ns[i].method == LOGM_FILE && ns[i].fd != -1) {
			for (j = 0; j < nsinks; j++)
				if (sinks[j].method == LOGM_FILE &&
				    sinks[j].fd == ns[i].fd)
					break;
			if (j == nsinks)
				close(ns[i].fd);
		}
		free(ns[i].path);
	}
	return -1;
}

/*
 * After logrotate moved the files away: open each path anew and swap. If
 * a new file cannot be opened, go on writing to the old one (the line
 * lands in the rotated file, which beats losing it) and say so.
 */
int
log_reopen(void)
{
	size_t	 i;
	int	 fd, rc = 0;

	for (i = 0; i < nsinks; i++) {
		if (sinks[i].method != LOGM_FILE)
			continue;
		if ((fd = log_open_file(sinks[i].path)) == -1) {
			log_warn("log", "reopen %s, keeping the old file",
			    sinks[i].path);
			rc = -1;
			continue;
		}
		close(sinks[i].fd);
		sinks[i].fd = fd;
	}
	return rc;
}

const char *
log_configure_error(void)
{
	return why;
}

/*
 * While on (ergo run, until it serves), a line at level error goes to
 * stderr as well when no stderr target took it: a server that cannot
 * start says why where its supervisor looks, whatever the config says.
 */
void
log_errors_to_stderr(bool on)
{
	echo_errors = on;
}

bool
log_wants(int level, const char *cat)
{
	uint32_t b;
	size_t	 i;

	if (level < min_level)
		return false;
	b = cat_bit(cat);
	for (i = 0; i < nsinks; i++)
		if (level >= sinks[i].level && (sinks[i].types & b))
			return true;
	return false;
}

int
log_level_parse(const char *s)
{
	size_t	 i;

	for (i = 0; i < sizeof(log_words) / sizeof(log_words[0]); i++)
		if (strcmp(s, log_words[i]) == 0)
			return (int)i;
	return -1;
}

void
log_debug(const char *cat, const char *fmt, ...)
{
	va_list	 ap;

	if (min_level > LL_DEBUG)
		return;
	va_start(ap, fmt);
	vlog(LL_DEBUG, cat, 0, fmt, ap);
	va_end(ap);
}

void
log_info(const char *cat, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LL_INFO, cat, 0, fmt, ap);
	va_end(ap);
}

void
log_warn(const char *cat, const char *fmt, ...)
{
	va_list	 ap;
	int	 e = errno;

	va_start(ap, fmt);
	vlog(LL_WARN, cat, e, fmt, ap);
	va_end(ap);
	errno = e;
}

void
log_warnx(const char *cat, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LL_WARN, cat, 0, fmt, ap);
	va_end(ap);
}

void
log_error(const char *cat, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LL_ERROR, cat, 0, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	 ap;
	int	 e = errno;

	va_start(ap, fmt);
	vlog(LL_ERROR, "fatal", e, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(LL_ERROR, "fatal", 0, fmt, ap);
	va_end(ap);
	exit(1);
}

/* err != 0: append ": strerror(err)" as log_warn and fatal do. */
static void
vlog(int level, const char *cat, int err, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_DEBUG, LOG_INFO, LOG_WARNING,
				    LOG_ERR };
	char		 msg[LOG_MSG_MAX], line[LOG_LINE_MAX];
	size_t		 n, len = 0, stamp_len = 0, i;
	uint32_t	 b;
	bool		 formatted = false, echo;
	int		 r;

	echo = echo_errors && level >= LL_ERROR;
	if (!log_wants(level, cat) && !echo)
		return;
	b = cat_bit(cat);

	r = vsnprintf(msg, sizeof(msg), fmt, ap);
	n = r < 0 ? 0 : (size_t)r;
	if (r < 0)
		msg[0] = '\0';
	if (err != 0 && n < sizeof(msg)) {
		r = snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(err));
		n += r < 0 ? 0 : (size_t)r;
	}
	if (n >= sizeof(msg))	/* mark the cut so nobody trusts the tail */
		memcpy(msg + sizeof(msg) - sizeof(LOG_TRUNC), LOG_TRUNC,
		    sizeof(LOG_TRUNC));

	for (i = 0; i < nsinks; i++) {
		struct sink *s = &sinks[i];

		if (level < s->level || !(s->types & b))
			continue;
		if (s->method == LOGM_SYSLOG) {
			char sl[LOG_LINE_MAX];
			size_t sn;

			/* syslog stamps the time and the level itself */
			sn = log_escape(sl, sizeof(sl) - 1, cat);
			sl[sn++] = ' ';
			log_escape(sl + sn, sizeof(sl) - sn, msg);
			syslog(prio[level], "%s", sl);
			continue;
		}
		if (s->method == LOGM_STDERR)
			echo = false;	/* it goes there anyway */
		if (!formatted) {
			formatted = true;
			len = log_format(line, sizeof(line), level, cat, msg,
			    &stamp_len);
		}
		log_write_line(s, line, stamp_len, len);
	}
	if (echo) {
		struct sink err = { .method = LOGM_STDERR,
				    .fd = STDERR_FILENO };

		if (!formatted)
			len = log_format(line, sizeof(line), level, cat, msg,
			    &stamp_len);
		log_write_line(&err, line, stamp_len, len);
	}
}

/* "STAMP LEVEL CAT MSG\n" into line; its length, the stamp's in *stamp */
static size_t
log_format(char *line, size_t sz, int level, const char *cat,
    const char *msg, size_t *stamp)
{
	struct timespec	 ts;
	struct tm	 tm;
	size_t		 len;
	int		 r;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1 ||
	    gmtime_r(&ts.tv_sec, &tm) == NULL) {
		memset(&tm, 0, sizeof(tm));
		ts.tv_nsec = 0;
	}
	len = strftime(line, sz, "%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + len, sz - len, ".%03ldZ ", ts.tv_nsec / 1000000L);
	len += r < 0 ? 0 : (size_t)r;
	*stamp = len;
	r = snprintf(line + len, sz - len, "%s ", log_words[level]);
	len += r < 0 ? 0 : (size_t)r;
	/* reserve room for the ' ' and the '\n' */
	len += log_escape(line + len, sz - len - 2, cat);
	line[len++] = ' ';
	len += log_escape(line + len, sz - len - 1, msg);
	line[len++] = '\n';
	return len;
}

/*
 * Copies s into dst (NUL-terminated, at most dstsz - 1 bytes) with bytes
 * below 0x20 and 0x7f written as \xNN; never splits an escape. Returns
 * the length written.
 */
static size_t
log_escape(char *dst, size_t dstsz, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	size_t		 n = 0;

	if (dstsz == 0)
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			if (dstsz - n < 5)
				break;
			dst[n++] = '\\';
			dst[n++] = 'x';
			dst[n++] = hex[*p >> 4];
			dst[n++] = hex[*p & 0xf];
		} else {
			if (dstsz - n < 2)
				break;
			dst[n++] = (char)*p;
		}
	}
	dst[n] = '\0';
	return n;
}

/*
 * One write(2) per line. A full disk or a dead pipe must not stop the
 * server: count what was lost and, once writing works again, say how much
 * before going on. The note borrows the line's timestamp (its first
 * stamp_len bytes).
 */
static void
log_write_line(struct sink *s, const char *line, size_t stamp_len,
    size_t len)
{
	char	 note[128];
	int	 r;

	if (s->fd == -1)
		return;
	if (s->lost > 0) {
		r = snprintf(note, sizeof(note), "%.*swarn log %lu log lines "
		    "lost (write errors)\n", (int)stamp_len, line, s->lost);
		if (r < 0 || (size_t)r >= sizeof(note) ||
		    write(s->fd, note, (size_t)r) == -1) {
			s->lost++;
			return;
		}
		s->lost = 0;
	}
	while (write(s->fd, line, len) == -1) {
		if (errno != EINTR) {
			s->lost++;
			return;
		}
	}
}

static int
log_open_file(const char *path)
{
	int	 fd;

	do {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
		    O_NOCTTY, 0640);
	} while (fd == -1 && errno == EINTR);
	return fd;
}
