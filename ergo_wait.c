/*
 * ergo_wait.c: `ergo waitready`, for init scripts whose supervisor cannot
 * wait for readiness itself (OpenRC's supervise-daemon; a sysvinit start):
 * the other end of the sd_notify socket that `ergo run` speaks to. Knows
 * no protocol and opens nothing of the server's.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ergo.h"
#include "ergo_priv.h"
#include "ergo_wait.h"
#include "util.h"

/* The PID in file, or 0 (missing, empty, not a number). */
static long
pid_read(const char *file)
{
	char buf[32];
	FILE *f;
	long pid = 0;

	if (file == NULL || (f = fopen(file, "r")) == NULL)
		return 0;
	if (fgets(buf, sizeof(buf), f) != NULL)
		pid = strtol(buf, NULL, 10);
	fclose(f);
	return pid > 0 ? pid : 0;
}

/* Running: exists and, where /proc tells, is not a zombie. */
static int
pid_alive(long pid)
{
	char path[64], buf[512], *p;
	FILE *f;
	int alive = 1;

	if (kill((pid_t)pid, 0) == -1 && errno == ESRCH)
		return 0;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 1;
	if (fgets(buf, sizeof(buf), f) != NULL &&
	    (p = strrchr(buf, ')')) != NULL && p[1] == ' ' &&
	    (p[2] == 'Z' || p[2] == 'X'))
		alive = 0;
	fclose(f);
	return alive;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * waitready --socket PATH [--timeout S] [--user U[:G]] [--pid-file F]
 * [-- COMMAND ...]: binds the datagram socket PATH (owned by U, 0600, so
 * the server can write to it), runs COMMAND if given with NOTIFY_SOCKET
 * set (its failure is ours), then waits until a message with READY=1
 * arrives (exit 0), the PID in F (once it is another than F held at
 * the start) exits or changes, that is, the server died before it was
 * ready (exit 1, at once), or S seconds pass (exit 1). PATH is removed
 * at the end if it is still the socket bound here.
 */
int
ergo_waitready(int argc, char *argv[])
{
	const char *sock = NULL, *pidfile = NULL, *user = NULL;
	char **cmd = NULL, name[256], err[320], buf[512], *colon, *group;
	struct sockaddr_un sun;
	struct stat mine, sb;
	struct pollfd pfd;
	double timeout = 30, deadline;
	long pid, seen = 0, stale;
	ssize_t n;
	pid_t child;
	uid_t uid;
	gid_t gid;
	int fd, i, st, rc = 1;

	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			cmd = argv + i + 1;
			break;
		}
		if (i + 1 >= argc)
			goto usage;
		if (strcmp(argv[i], "--socket") == 0)
			sock = argv[++i];
		else if (strcmp(argv[i], "--timeout") == 0)
			timeout = util_milli(argv[++i]) / 1000.0;
		else if (strcmp(argv[i], "--user") == 0)
			user = argv[++i];
		else if (strcmp(argv[i], "--pid-file") == 0)
			pidfile = argv[++i];
		else
			goto usage;
	}
	if (sock == NULL || timeout <= 0 || (cmd != NULL && cmd[0] == NULL) ||
	    strlen(sock) >= sizeof(sun.sun_path))
		goto usage;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, sock, strlen(sock));
	(void)unlink(sock);	/* a stale one from a failed start */
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "ergo: waitready: %s: %s\n", sock,
		    strerror(errno));
		return 1;
	}
	if (stat(sock, &mine) == -1) {
		fprintf(stderr, "ergo: waitready: %s: %s\n", sock,
		    strerror(errno));
		close(fd);
		return 1;
	}
	if (user != NULL) {
		snprintf(name, sizeof(name), "%s", user);
		group = NULL;
		if ((colon = strchr(name, ':')) != NULL) {
			*colon = '\0';
			group = colon[1] != '\0' ? colon + 1 : NULL;
		}
		if (ergo_priv_lookup(name, group, &uid, &gid, err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "ergo: waitready: %s\n", err);
			goto out;
		}
		if (chown(sock, uid, gid) == -1) {
			fprintf(stderr, "ergo: waitready: %s: %s\n", sock,
			    strerror(errno));
			goto out;
		}
	}
	if (chmod(sock, 0600) == -1) {
		fprintf(stderr, "ergo: waitready: %s: %s\n", sock,
		    strerror(errno));
		goto out;
	}
	stale = pid_read(pidfile);	/* an earlier server's, if any */
	deadline = now_s() + timeout;
	if (cmd != NULL) {
		if ((child = fork()) == -1) {
			fprintf(stderr, "ergo: waitready: fork: %s\n",
			    strerror(errno));
			goto out;
		}
		if (child == 0) {
			close(fd);
			setenv("NOTIFY_SOCKET", sock, 1);
			execvp(cmd[0], cmd);
			fprintf(stderr, "ergo: waitready: %s: %s\n", cmd[0],
			    strerror(errno));
			_exit(127);
		}
		while (waitpid(child, &st, 0) == -1 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			rc = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
			goto out;	/* it said why */
		}
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if (poll(&pfd, 1, 100) > 0 &&
		    (n = recv(fd, buf, sizeof(buf) - 1, 0)) > 0) {
			buf[n] = '\0';
			if (strncmp(buf, "READY=1", 7) == 0 ||
			    strstr(buf, "\nREADY=1") != NULL) {
				rc = 0;
				break;
			}
		}
		if ((pid = pid_read(pidfile)) != 0 && pid != stale &&
		    seen == 0)
			seen = pid;
		if (seen != 0 && (pid != seen || !pid_alive(seen))) {
			fprintf(stderr, "ergo: the server (pid %ld) exited "
			    "before it was ready: see its log or stderr\n",
			    seen);
			break;
		}
		if (now_s() >= deadline) {
			fprintf(stderr, "ergo: the server was not ready after "
			    "%g s: see its log or stderr\n", timeout);
			break;
		}
	}
out:
	close(fd);
	/* only our own: a later waitready may have bound the name anew */
	if (stat(sock, &sb) == 0 && sb.st_dev == mine.st_dev &&
	    sb.st_ino == mine.st_ino)
		(void)unlink(sock);
	return rc;
usage:
	fprintf(stderr, "usage: ergo waitready --socket PATH [--timeout "
	    "SECONDS] [--user USER[:GROUP]] [--pid-file FILE] [-- COMMAND "
	    "...]\n");
	return 2;
}
