/*
 * ergo_check.c: `ergo checkconfig`: the config, then what the server will
 * open (config, TLS certificates and keys, log files, the database and
 * their directories), checked as the user the server will run as. Opens
 * files only to close them again; creates nothing, binds nothing.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ergo.h"
#include "conf.h"
#include "log.h"
#include "net.h"
#include "ergo_priv.h"
#include "ergo_check.h"

#ifndef PATH_MAX
#define PATH_MAX	4096
#endif

static const char	*who;		/* "user ergo", or "you" */
static int		 problems;

static void
problem(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
problem(const char *fmt, ...)
{
	va_list ap;

	fputs("ergo: checkconfig: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	problems++;
}

/* path made absolute from the working directory, for messages */
const char *
ergo_check_abspath(const char *path, char *buf, size_t sz)
{
	char cwd[PATH_MAX];

	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return path;
	snprintf(buf, sz, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, path);
	return buf;
}

/* the directory part of path ("." for a bare name) */
static void
dir_of(const char *path, char *buf, size_t sz)
{
	const char *s = strrchr(path, '/');

	if (s == NULL)
		snprintf(buf, sz, ".");
	else if (s == path)
		snprintf(buf, sz, "/");
	else
		snprintf(buf, sz, "%.*s", (int)(s - path), path);
}

/* A file the server opens with flags, if it is there: 1 if it is. */
static int
check_open(const char *what, const char *path, int flags)
{
	char abuf[PATH_MAX + 2];
	int fd;

	if ((fd = open(path, flags | O_NOCTTY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		problem("%s %s: %s cannot %s it: %s", what,
		    ergo_check_abspath(path, abuf, sizeof(abuf)), who,
		    (flags & O_ACCMODE) == O_RDONLY ? "read" : "write",
		    strerror(errno));
		return -1;
	}
	close(fd);
	return 1;
}

/* The directory of path, where the server creates files. */
static void
check_dir(const char *what, const char *path, const char *why)
{
	char dir[PATH_MAX], abuf[PATH_MAX + 2], dbuf[PATH_MAX + 2];

	dir_of(path, dir, sizeof(dir));
	if (access(dir, W_OK | X_OK) == -1)
		problem("%s %s: %s cannot create files in %s (%s): %s", what,
		    ergo_check_abspath(path, abuf, sizeof(abuf)), who,
		    ergo_check_abspath(dir, dbuf, sizeof(dbuf)), why,
		    strerror(errno));
}

/* Everything but the parse, as the current (already switched) user. */
static void
check_files(const struct conf *c)
{
	static const char *const sidecars[] = { "-wal", "-shm", ".lock" };
	const struct log_conf *lg;
	char *errs = NULL, *line, *nl, side[PATH_MAX + 8];
	size_t i;

	/* a rehash rereads the config as this user */
	if (c->path != NULL)
		(void)check_open("config", c->path, O_RDONLY);
	if (net_listen_prepare(c, &errs) == -1) {
		for (line = errs; line != NULL && *line != '\0'; line = nl) {
			if ((nl = strchr(line, '\n')) != NULL)
				*nl++ = '\0';
			else
				nl = line + strlen(line);
			problem("as %s: %s", who, line);
		}
		if (errs == NULL)
			problem("as %s: certificate error", who);
		free(errs);
	}
	net_listen_unprepare();
	for (lg = c->logs; lg != NULL; lg = lg->next) {
		if (lg->method != LOGM_FILE || lg->path == NULL)
			continue;
		(void)check_open("logging path", lg->path,
		    O_WRONLY | O_APPEND);
		check_dir("logging path", lg->path, "it is created, and "
		    "created again after logrotate moves it");
	}
	if (check_open("datastore.path", c->datastore_path, O_RDWR) == 1)
		for (i = 0; i < sizeof(sidecars) / sizeof(sidecars[0]); i++) {
			snprintf(side, sizeof(side), "%s%s",
			    c->datastore_path, sidecars[i]);
			(void)check_open("datastore.path", side, O_RDWR);
		}
	check_dir("datastore.path", c->datastore_path, "the database, "
	    "its -wal and -shm files and its .lock live there");
}

/*
 * checkconfig: parse path (NULL: the built-in defaults) as the caller,
 * then, as the server's user, open what the server will open. That
 * user is as_user ("USER" or "USER:GROUP", as the init script runs the
 * server), else server { user group } when run as root, else the
 * caller. Returns the exit status.
 */
int
ergo_check(const char *path, const char *as_user)
{
	struct conf *c;
	char *errs = NULL, err[320], name[256], whobuf[300];
	const char *user = NULL, *group = NULL;
	char *colon;
	uid_t uid;
	gid_t gid;

	if ((c = conf_load(path, &errs)) == NULL) {
		fputs(errs ? errs : "config error\n", stderr);
		if (errs != NULL && errs[strlen(errs) - 1] != '\n')
			fputc('\n', stderr);
		free(errs);
		return 1;
	}
	who = "you";
	if (as_user != NULL) {
		snprintf(name, sizeof(name), "%s", as_user);
		user = name;
		if ((colon = strchr(name, ':')) != NULL) {
			*colon = '\0';
			group = colon[1] != '\0' ? colon + 1 : NULL;
		}
	} else if (geteuid() == 0 && c->user != NULL) {
		user = c->user;
		group = c->group;
	}
	if (user != NULL) {
		if (ergo_priv_lookup(user, group, &uid, &gid, err,
		    sizeof(err)) == -1) {
			if (as_user != NULL)	/* not the config's words */
				problem("--user %s: no such user or group",
				    as_user);
			else
				problem("%s", err);
			conf_free(c);
			return 1;
		}
		snprintf(whobuf, sizeof(whobuf), "user %s", user);
		who = whobuf;
		if (uid != geteuid() && geteuid() != 0) {
			problem("checking as %s needs root", who);
			conf_free(c);
			return 1;
		}
		if (geteuid() == 0 && uid != 0 &&
		    ergo_priv_become(uid, gid, err, sizeof(err)) == -1) {
			problem("%s", err);
			conf_free(c);
			return 1;
		}
	}
	check_files(c);
	conf_free(c);
	if (problems > 0) {
		fprintf(stderr, "ergo: checkconfig: %s: %d problem%s; the "
		    "server would not start or not reload\n",
		    path ? path : "built-in defaults", problems,
		    problems == 1 ? "" : "s");
		return 1;
	}
	if (user != NULL)
		printf("%s: ok (checked as %s)\n",
		    path ? path : "built-in defaults", who);
	else
		printf("%s: ok\n", path ? path : "built-in defaults");
	return 0;
}
