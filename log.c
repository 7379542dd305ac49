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

#define LOG_MSG_MAX	4096	/* formatted message before escaping */
#define LOG_LINE_MAX	(LOG_MSG_MAX * 4 + 256)	/* escaped: \xNN is 4 */
#define LOG_TRUNC	"[...]"

static int	 log_level = LL_INFO;
static int	 log_method = LOGM_STDERR;
static int	 log_fd = STDERR_FILENO;
static char	*log_path;		/* LOGM_FILE only */
static unsigned long log_lost;		/* lines dropped by failed writes */

static const char *const log_words[] = { "debug", "info", "warn", "error" };

static void	 vlog(int, const char *, int, const char *, va_list);
static size_t	 log_escape(char *, size_t, const char *);
static void	 log_write_line(const char *, size_t, size_t);
static int	 log_open_file(const char *);
static void	 log_close_target(void);

void
log_init(int level)
{
	log_close_target();
	log_method = LOGM_STDERR;
	log_fd = STDERR_FILENO;
	if (level >= LL_DEBUG && level <= LL_ERROR)
		log_level = level;
}

/*
 * Switches to a new target. On failure (file cannot be opened, path
 * missing, unknown method) the previous target and level stay in force
 * and the reason is logged there.
 */
int
log_configure(int method, const char *path, int level)
{
	char	*p = NULL;
	int	 fd = -1;

	if (level < LL_DEBUG || level > LL_ERROR) {
		log_warnx("log", "unknown log level %d", level);
		return -1;
	}
	switch (method) {
	case LOGM_STDERR:
	case LOGM_SYSLOG:
		break;
	case LOGM_FILE:
		if (path == NULL || *path == '\0') {
			log_warnx("log", "method file needs a path");
			return -1;
		}
		if ((p = strdup(path)) == NULL) {
			log_warn("log", "%s", path);
			return -1;
		}
		if ((fd = log_open_file(path)) == -1) {
			log_warn("log", "%s", path);
			free(p);
			return -1;
		}
		break;
	default:
		log_warnx("log", "unknown log method %d", method);
		return -1;
	}

	log_close_target();
	log_method = method;
	log_level = level;
	switch (method) {
	case LOGM_STDERR:
		log_fd = STDERR_FILENO;
		break;
	case LOGM_FILE:
		log_fd = fd;
		log_path = p;
		break;
	case LOGM_SYSLOG:
		log_fd = -1;
		openlog("ergo", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		break;
	}
	return 0;
}

/*
 * After logrotate moved the file away: open the path anew and swap. If the
 * new file cannot be opened, go on writing to the old one (the line lands
 * in the rotated file, which beats losing it) and say so.
 */
int
log_reopen(void)
{
	int	 fd;

	if (log_method != LOGM_FILE)
		return 0;
	if ((fd = log_open_file(log_path)) == -1) {
		log_warn("log", "reopen %s, keeping the old file", log_path);
		return -1;
	}
	close(log_fd);
	log_fd = fd;
	return 0;
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

	if (log_level > LL_DEBUG)
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
	struct timespec	 ts;
	struct tm	 tm;
	size_t		 n, len, stamp_len;
	int		 r;

	if (level < log_level)
		return;

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

	if (log_method == LOGM_SYSLOG) {
		/* syslog stamps the time and the level itself */
		len = log_escape(line, sizeof(line) - 1, cat);
		line[len++] = ' ';
		log_escape(line + len, sizeof(line) - len, msg);
		syslog(prio[level], "%s", line);
		return;
	}

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1 ||
	    gmtime_r(&ts.tv_sec, &tm) == NULL) {
		memset(&tm, 0, sizeof(tm));
		ts.tv_nsec = 0;
	}
	len = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + len, sizeof(line) - len, ".%03ldZ ",
	    ts.tv_nsec / 1000000L);
	len += r < 0 ? 0 : (size_t)r;
	stamp_len = len;
	r = snprintf(line + len, sizeof(line) - len, "%s ", log_words[level]);
	len += r < 0 ? 0 : (size_t)r;
	/* reserve room for the ' ' and the '\n' */
	len += log_escape(line + len, sizeof(line) - len - 2, cat);
	line[len++] = ' ';
	len += log_escape(line + len, sizeof(line) - len - 1, msg);
	line[len++] = '\n';
	log_write_line(line, stamp_len, len);
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
log_write_line(const char *line, size_t stamp_len, size_t len)
{
	char	 note[128];
	int	 r;

	if (log_fd == -1)
		return;
	if (log_lost > 0) {
		r = snprintf(note, sizeof(note), "%.*swarn log %lu log lines "
		    "lost (write errors)\n", (int)stamp_len, line, log_lost);
		if (r < 0 || (size_t)r >= sizeof(note) ||
		    write(log_fd, note, (size_t)r) == -1) {
			log_lost++;
			return;
		}
		log_lost = 0;
	}
	while (write(log_fd, line, len) == -1) {
		if (errno != EINTR) {
			log_lost++;
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

static void
log_close_target(void)
{
	if (log_method == LOGM_FILE && log_fd != -1 &&
	    log_fd != STDERR_FILENO)
		close(log_fd);
	if (log_method == LOGM_SYSLOG)
		closelog();
	free(log_path);
	log_path = NULL;
}
