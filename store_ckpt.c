/*
 * store_ckpt.c: SQLite's WAL checkpoints in a child process with its own
 * connection, so the loop never waits for their syncs of the WAL and the
 * database; the server's connection only asks, through a socket read in
 * the loop. Part of the store; the child never logs (the server does).
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ergo.h"
#include "store.h"
#include "store_ckpt.h"
#include "log.h"
#include "store_int.h"

#define CKPT_PAGES	1000	/* WAL pages that ask for one: SQLite's own */
#define CKPT_CEILING	(4 * CKPT_PAGES) /* the server checkpoints too */
#define CKPT_STOP_MS	5000	/* shutdown waits this long for the child */
#define CKPT_FD_MAX	65536	/* the child closes descriptors below it */

/* The child's answer to a request byte. */
struct ckpt_reply {
	int32_t	 rc;		/* SQLite's result code */
	int32_t	 log, done;	/* pages in the WAL, and checkpointed */
	int32_t	 ms;		/* how long it took */
};

static int		 ckpt_fd = -1;	/* the server's end; -1: no child */
static long		 ckpt_pid;
static bool		 ckpt_asked;	/* a request is outstanding */
static bool		 ckpt_over;	/* the ceiling was said */
static struct ckpt_reply ckpt_r;
static size_t		 ckpt_have;	/* of ckpt_r */

static int64_t
ms_now(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The child: a checkpoint (PASSIVE: never waits for the server's writes)
 * per request byte, until EOF. It holds none of the server's descriptors
 * (listeners, logs, its self-pipe), and the signals a terminal or an init
 * script sends the process group reach it only as the server's exit.
 */
static void
ckpt_child(int fd, const char *path)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGTERM, SIGUSR1,
	    SIGPIPE };
	struct ckpt_reply r;
	sqlite3 *db = NULL;
	long max = sysconf(_SC_OPEN_MAX);
	int64_t t0;
	ssize_t n;
	size_t i;
	int d;
	char c;

	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		(void)signal(sigs[i], SIG_IGN);
	if (max < 0 || max > CKPT_FD_MAX)
		max = CKPT_FD_MAX;
	for (d = 3; d < max; d++)
		if (d != fd)
			(void)close(d);
	while ((n = read(fd, &c, 1)) == 1 || (n == -1 && errno == EINTR)) {
		if (n != 1)
			continue;
		t0 = ms_now();
		r.log = r.done = -1;
		/* opened at the first request: the server made the file */
		if (db == NULL && (r.rc = sqlite3_open_v2(path, &db,
		    SQLITE_OPEN_READWRITE, NULL)) == SQLITE_OK)
			r.rc = sqlite3_exec(db, "PRAGMA cache_size=8; "
			    "PRAGMA user_version", NULL, NULL, NULL);
		if (db != NULL && r.rc == SQLITE_OK)
			r.rc = sqlite3_wal_checkpoint_v2(db, NULL,
			    SQLITE_CHECKPOINT_PASSIVE, &r.log, &r.done);
		else if (db != NULL) {
			sqlite3_close(db);	/* again at the next request */
			db = NULL;
		}
		r.ms = (int32_t)(ms_now() - t0);
		if (write(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
			break;
	}
	sqlite3_close(db);
	_exit(0);
}

int
store_ckpt_start(const char *path)
{
	int sv[2], fl;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1) {
		log_warn("store", "checkpoint process: socketpair "
		    "(checkpoints stay in the server)");
		return -1;
	}
	if ((fl = fcntl(sv[0], F_GETFL)) == -1 ||
	    fcntl(sv[0], F_SETFL, fl | O_NONBLOCK) == -1 ||
	    fcntl(sv[0], F_SETFD, FD_CLOEXEC) == -1 ||
	    (pid = fork()) == -1) {
		log_warn("store", "checkpoint process: fork "
		    "(checkpoints stay in the server)");
		(void)close(sv[0]);
		(void)close(sv[1]);
		return -1;
	}
	if (pid == 0) {
		(void)close(sv[0]);
		ckpt_child(sv[1], path);
	}
	(void)close(sv[1]);
	ckpt_fd = sv[0];
	ckpt_pid = (long)pid;
	log_info("store", "checkpoint process pid %ld started", ckpt_pid);
	return ckpt_fd;
}

/* Reaps the child; its end, said in buf. */
static void
ckpt_reap(char *buf, size_t sz)
{
	int st;

	while (waitpid((pid_t)ckpt_pid, &st, 0) == -1)
		if (errno != EINTR) {
			snprintf(buf, sz, "waitpid: %s", strerror(errno));
			return;
		}
	if (WIFSIGNALED(st))
		snprintf(buf, sz, "killed by signal %d", WTERMSIG(st));
	else
		snprintf(buf, sz, "exit status %d", WEXITSTATUS(st));
}

int
store_ckpt_read(void)
{
	char why[64];
	ssize_t n;

	while ((n = read(ckpt_fd, (char *)&ckpt_r + ckpt_have,
	    sizeof(ckpt_r) - ckpt_have)) > 0) {
		if ((ckpt_have += (size_t)n) < sizeof(ckpt_r))
			continue;
		ckpt_have = 0;
		ckpt_asked = ckpt_over = false;
		if (ckpt_r.rc == SQLITE_OK || ckpt_r.rc == SQLITE_BUSY)
			log_debug("store", "checkpoint process pid %ld: %d of "
			    "%d WAL pages in %d ms%s", ckpt_pid, ckpt_r.done,
			    ckpt_r.log, ckpt_r.ms, ckpt_r.rc == SQLITE_BUSY ?
			    " (busy)" : "");
		else
			log_warnx("store", "checkpoint process pid %ld: %s",
			    ckpt_pid, sqlite3_errstr(ckpt_r.rc));
	}
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return 0;
	ckpt_asked = false;
	if (n == -1)	/* EOF is its exit; a broken socket, its end */
		(void)kill((pid_t)ckpt_pid, SIGKILL);
	ckpt_reap(why, sizeof(why));
	log_warnx("store", "checkpoint process pid %ld ended (%s); "
	    "checkpointing in the server from now on", ckpt_pid, why);
	(void)close(ckpt_fd);
	ckpt_fd = -1;
	return -1;
}

/*
 * History batches wait while the child checkpoints (no longer than their
 * oldest row may): written after it, the first restarts the WAL from its
 * start, which a write in the middle of a checkpoint prevents.
 */
bool
store_ckpt_busy(void)
{
	return ckpt_asked;
}

/*
 * At shutdown, before the server's connection closes (the last one
 * checkpoints and removes the WAL): EOF to the child, which finishes
 * its checkpoint and exits; one stuck past CKPT_STOP_MS is killed.
 */
void
store_ckpt_stop(void)
{
	struct pollfd pfd;
	char buf[64];
	ssize_t n;
	int r;

	if (ckpt_fd == -1)
		return;
	(void)shutdown(ckpt_fd, SHUT_WR);
	pfd.fd = ckpt_fd;
	pfd.events = POLLIN;
	for (;;) {
		if ((r = poll(&pfd, 1, CKPT_STOP_MS)) == -1 && errno == EINTR)
			continue;
		if (r < 1) {
			log_warnx("store", "checkpoint process pid %ld did not "
			    "stop within %d ms; killed", ckpt_pid,
			    CKPT_STOP_MS);
			(void)kill((pid_t)ckpt_pid, SIGKILL);
			break;
		}
		if ((n = read(ckpt_fd, buf, sizeof(buf))) == 0 ||
		    (n == -1 && errno != EAGAIN && errno != EINTR))
			break;
	}
	ckpt_reap(buf, sizeof(buf));
	(void)close(ckpt_fd);
	ckpt_fd = -1;
}

/*
 * sqlite3_wal_hook, after each commit of the server's connection (it
 * replaces SQLite's automatic checkpoint): past CKPT_PAGES, one request
 * to the child at a time; without a child, or past CKPT_CEILING while
 * it is busy, a checkpoint here, as SQLite's own hook would.
 */
static int
ckpt_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	(void)arg;
	if (pages < CKPT_PAGES)
		return SQLITE_OK;
	if (ckpt_fd != -1 && (ckpt_asked || write(ckpt_fd, "c", 1) == 1)) {
		ckpt_asked = true;
		if (pages < CKPT_CEILING)
			return SQLITE_OK;
		if (!ckpt_over)
			log_info("store", "the WAL has %d pages while "
			    "checkpoint process pid %ld is busy; checkpointing "
			    "in the server too", pages, ckpt_pid);
		ckpt_over = true;
	}
	/* a failure is the next commit's or checkpoint's to report */
	(void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE,
	    NULL, NULL);
	return SQLITE_OK;
}

/*
 * The server's connection: checkpoints through ckpt_hook, and a WAL
 * grown past the ceiling (CKPT_CEILING pages of 4 KiB) in a burst cut
 * back to it at its next restart.
 */
int
store_ckpt_attach(sqlite3 *db)
{
	sqlite3_wal_hook(db, ckpt_hook, NULL);
	return store_exec("PRAGMA journal_size_limit=16777216");
}
