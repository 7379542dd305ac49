/*
 * ergo_priv.c: dropping root after the listeners are bound and the log
 * files, certificates and keys are open, and the optional chroot(2)
 * before it. Owns the non-POSIX calls ergo needs (setgroups(2) and
 * chroot(2), on Linux, the BSDs and musl alike), so only this file asks
 * for more than POSIX.1-2008.
 */
#define _DEFAULT_SOURCE		/* setgroups() on glibc */
#define _BSD_SOURCE

#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ergo.h"

#ifndef PATH_MAX
#define PATH_MAX	4096
#endif

/* The chroot directory (resolved) once inside it; "" before or without. */
static char	root[PATH_MAX];
static size_t	rootlen;

/*
 * p as seen from inside the chroot: an absolute path under the
 * directory loses that prefix, in place (as unbound does); any other
 * path is left alone, and reaches what it names inside the chroot.
 */
static void
chroot_path(char *p)
{
	if (p == NULL || rootlen == 0 || strncmp(p, root, rootlen) != 0)
		return;
	if (p[rootlen] == '\0')
		memcpy(p, "/", 2);
	else if (p[rootlen] == '/')
		memmove(p, p + rootlen, strlen(p + rootlen) + 1);
}

/*
 * The paths of c (but its own: the config file's path is rewritten once,
 * at the chroot) as seen inside the chroot; a no-op outside one. For
 * each config loaded after the chroot, before it is used.
 */
void
ergo_priv_paths(struct conf *c)
{
	struct listen_conf *l;
	struct log_conf *lg;

	chroot_path(c->datastore_path);
	chroot_path(c->motd);
	for (l = c->listens; l != NULL; l = l->next) {
		chroot_path(l->cert);
		chroot_path(l->key);
	}
	for (lg = c->logs; lg != NULL; lg = lg->next)
		chroot_path(lg->path);
}

/*
 * chroot(2) into c->chroot, keeping the working directory if it is
 * inside (so relative paths name the same files), else "/" inside.
 */
static int
chroot_enter(struct conf *c)
{
	char dir[PATH_MAX], cwd[PATH_MAX];
	const char *in = "/";
	size_t n;

	if (realpath(c->chroot, dir) == NULL) {
		log_error("server", "server.chroot %s: %s", c->chroot,
		    strerror(errno));
		return -1;
	}
	n = strlen(dir);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		cwd[0] = '\0';
	if (n == 1 && cwd[0] == '/')
		in = cwd;		/* chroot /: nothing moves */
	else if (n > 1 && strncmp(cwd, dir, n) == 0 && cwd[n] == '/')
		in = cwd + n;		/* the same place, seen from inside */
	else if (n == 1 || strcmp(cwd, dir) != 0)
		log_warnx("server", "server.chroot %s: the working directory "
		    "is outside it; relative paths now start from its top",
		    dir);
	if (chroot(dir) == -1) {
		log_error("server", "server.chroot %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (n > 1) {		/* chroot / changes no path */
		memcpy(root, dir, n + 1);
		rootlen = n;
	}
	if (chdir(in) == -1 && chdir("/") == -1) {
		log_error("server", "server.chroot %s: chdir: %s", dir,
		    strerror(errno));
		return -1;
	}
	chroot_path(c->path);
	ergo_priv_paths(c);
	/* the same log files by their paths inside, for HUP (still root) */
	(void)log_configure(c->logs);	/* failed: the old fds stay */
	log_info("server", "chrooted to %s", dir);
	return 0;
}

/*
 * As root with server { user NAME [group NAME] }: become that user for
 * good (supplementary groups too) and check that root cannot come back.
 * As root without it: say loudly that it runs as root. With server {
 * chroot DIR } (root only), chroot(2) first, after the user and group
 * are looked up (the password database is outside). Returns 0, or -1
 * (logged): the server must not serve then.
 */
int
ergo_priv_drop(struct conf *c)
{
	struct passwd *pw;
	struct group *gr;
	gid_t gid;
	uid_t uid;

	if (geteuid() != 0) {
		if (c->chroot != NULL) {
			log_error("server", "server.chroot %s: only root can "
			    "chroot; start ergo as root or remove it",
			    c->chroot);
			return -1;
		}
		if (c->user != NULL)
			log_warnx("server", "server.user %s: not started as "
			    "root, so already running unprivileged", c->user);
		return 0;
	}
	if (c->user == NULL) {
		log_warnx("server", "running as root: set server { user NAME "
		    "} to drop privileges once the listeners are bound%s",
		    c->chroot != NULL ? " (root can leave a chroot)" : "");
		return c->chroot != NULL ? chroot_enter(c) : 0;
	}
	errno = 0;
	if ((pw = getpwnam(c->user)) == NULL) {
		log_error("server", "server.user %s: %s", c->user, errno ?
		    strerror(errno) : "no such user");
		return -1;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (c->group != NULL) {
		errno = 0;
		if ((gr = getgrnam(c->group)) == NULL) {
			log_error("server", "server.group %s: %s", c->group,
			    errno ? strerror(errno) : "no such group");
			return -1;
		}
		gid = gr->gr_gid;
	}
	if (uid == 0) {
		log_error("server", "server.user %s is root; name an "
		    "unprivileged user", c->user);
		return -1;
	}
	if (c->chroot != NULL && chroot_enter(c) == -1)
		return -1;
	if (setgroups(1, &gid) == -1 || setgid(gid) == -1 ||
	    setuid(uid) == -1) {
		log_error("server", "dropping privileges to %s: %s", c->user,
		    strerror(errno));
		return -1;
	}
	/* Verified, not assumed: a kernel or a bug that kept root fails. */
	if (setuid(0) != -1 || seteuid(0) != -1 || getuid() != uid ||
	    geteuid() != uid || getgid() != gid || getegid() != gid) {
		log_error("server", "privileges were not dropped to %s",
		    c->user);
		return -1;
	}
	log_info("server", "running as %s (uid %ld, gid %ld)", c->user,
	    (long)uid, (long)gid);
	return 0;
}
