/*
 * ergo_priv.c: dropping root after the listeners are bound and the log
 * files, certificates and keys are open. Owns the one non-POSIX call
 * ergo needs (setgroups(2), on Linux, the BSDs and musl alike), so only
 * this file asks for more than POSIX.1-2008.
 */
#define _DEFAULT_SOURCE		/* setgroups() on glibc */
#define _BSD_SOURCE

#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "ergo.h"

/*
 * As root with server { user NAME [group NAME] }: become that user for
 * good (supplementary groups too) and check that root cannot come back.
 * As root without it: say loudly that it runs as root. Returns 0, or -1
 * (logged): the server must not serve then.
 */
int
ergo_priv_drop(const struct conf *c)
{
	struct passwd *pw;
	struct group *gr;
	gid_t gid;
	uid_t uid;

	if (geteuid() != 0) {
		if (c->user != NULL)
			log_warnx("server", "server.user %s: not started as "
			    "root, so already running unprivileged", c->user);
		return 0;
	}
	if (c->user == NULL) {
		log_warnx("server", "running as root: set server { user NAME "
		    "} to drop privileges once the listeners are bound");
		return 0;
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
