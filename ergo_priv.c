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
#include <sys/stat.h>

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ergo.h"
#include "ergo_priv.h"
#include "log.h"
#include "conf.h"

#ifndef PATH_MAX
#define PATH_MAX	4096
#endif

/* The chroot directory (resolved), set just before chroot(2); "" without. */
static char	root[PATH_MAX];
static size_t	rootlen;
/* The same directory as the config names it, if that differs (a link). */
static char	root_as_written[PATH_MAX];

/*
 * Each directory a path named at start-up, resolved by realpath(3) then,
 * while the names outside could still be followed: a rehash finds the
 * same directories through the same names (a symlink included).
 */
struct dir_seen {
	struct dir_seen	*next;
	char		*as_written;
	char		*resolved;
};
static struct dir_seen	*dirs_seen;

/* p without the directory prefix r (length n), or NULL if not under it. */
static const char *
under(const char *p, const char *r, size_t n)
{
	if (n == 0 || strncmp(p, r, n) != 0 ||
	    (p[n] != '\0' && p[n] != '/'))
		return NULL;
	return p + n;
}

/* Remembers what dir resolved to; failure only forgets (logged). */
static void
dir_seen_add(const char *dir, const char *resolved)
{
	struct dir_seen *d;

	for (d = dirs_seen; d != NULL; d = d->next)
		if (strcmp(d->as_written, dir) == 0)
			return;
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->as_written = strdup(dir)) == NULL ||
	    (d->resolved = strdup(resolved)) == NULL) {
		log_warn("server", "server.chroot: %s", dir);
		if (d != NULL)
			free(d->as_written);
		free(d);
		return;
	}
	d->next = dirs_seen;
	dirs_seen = d;
}

/*
 * *pp as seen from inside the chroot: an absolute path whose directory
 * lies under it loses that prefix (as in unbound), reallocated. Before
 * the chroot (resolve) the directory is resolved with realpath(3), not
 * the file, which may not exist yet (the database on first launch), so
 * a path written through a symlink to the chroot directory, or to one
 * under it, is found inside too; after it (a rehash) the directories
 * resolved then, and the chroot's own two spellings, are all it knows,
 * and a path it cannot map is left alone if its directory is there
 * inside (a relative value made absolute from the config's own path,
 * which is the inside one by then). A relative path is left alone: the
 * working directory stays the same place inside (or is the top, as
 * warned). Returns 0 (inside, or relative), 1 (outside, or nowhere
 * inside: left as it is) or -1 (no memory, logged).
 */
static int
chroot_path(char **pp, bool resolve)
{
	char dir[PATH_MAX], real[PATH_MAX], *n;
	const char *p = *pp, *d, *in, *base;
	struct dir_seen *s;
	struct stat sb;
	size_t dl, il;

	if (p == NULL || p[0] != '/' || rootlen == 0)
		return 0;
	base = strrchr(p, '/') + 1;
	dl = base - p > 1 ? (size_t)(base - p) - 1 : 1;
	if (dl >= sizeof(dir))
		return 1;
	memcpy(dir, p, dl);
	dir[dl] = '\0';
	d = dir;
	if (resolve && realpath(dir, real) != NULL) {
		dir_seen_add(dir, real);
		d = real;
	} else if (!resolve) {
		for (s = dirs_seen; s != NULL; s = s->next)
			if (strcmp(s->as_written, dir) == 0) {
				d = s->resolved;
				break;
			}
	}
	if ((in = under(d, root, rootlen)) == NULL &&
	    (in = under(d, root_as_written, strlen(root_as_written))) == NULL)
		return !resolve && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode) ?
		    0 : 1;
	il = strlen(in);
	if ((n = malloc(il + 1 + strlen(base) + 1)) == NULL) {
		log_warn("server", "server.chroot: %s", p);
		return -1;
	}
	memcpy(n, in, il);
	n[il] = '/';
	memcpy(n + il + 1, base, strlen(base) + 1);
	free(*pp);
	*pp = n;
	return 0;
}

/* A log file path that the running server already has open. */
static bool
log_open_already(const struct conf *old, const char *path)
{
	const struct log_conf *lg;

	for (lg = old != NULL ? old->logs : NULL; lg != NULL; lg = lg->next)
		if (lg->path != NULL && strcmp(lg->path, path) == 0)
			return true;
	return false;
}

/*
 * The paths of c as seen inside the chroot (c->path, the config's own,
 * is rewritten once, at the chroot); a no-op outside one. For each
 * config loaded after the chroot (old: the running one), before it is
 * used. A certificate, key or new log file outside the chroot cannot be
 * opened from inside: -1 with *err naming it (the rehash fails, the old
 * config stays). A MOTD outside is said (it keeps the old one); a log
 * file outside that is already open keeps its file.
 */
int
ergo_priv_paths(struct conf *c, const struct conf *old, char **err)
{
	char msg[PATH_MAX + 160];
	struct listen_conf *l;
	struct log_conf *lg;
	const char *what = NULL, *path = NULL;
	int r;

	*err = NULL;
	if (rootlen == 0)
		return 0;
	if (chroot_path(&c->datastore_path, false) == -1)
		goto nomem;
	if ((r = chroot_path(&c->motd, false)) == -1)
		goto nomem;
	if (r == 1)
		log_warnx("rehash", "server.motd %s cannot be reached inside "
		    "server.chroot %s, where it is read: move it under it",
		    c->motd, root);
	for (l = c->listens; l != NULL && what == NULL; l = l->next) {
		if ((r = chroot_path(&l->cert, false)) == -1)
			goto nomem;
		if (r == 1) {
			what = "tls cert", path = l->cert;
			break;
		}
		if ((r = chroot_path(&l->key, false)) == -1)
			goto nomem;
		if (r == 1)
			what = "tls key", path = l->key;
	}
	for (lg = c->logs; lg != NULL && what == NULL; lg = lg->next) {
		if ((r = chroot_path(&lg->path, false)) == -1)
			goto nomem;
		if (r == 1 && !log_open_already(old, lg->path))
			what = "logging path", path = lg->path;
	}
	if (what == NULL)
		return 0;
	snprintf(msg, sizeof(msg), "%s %s cannot be reached inside "
	    "server.chroot %s, so it cannot be opened now: move it under it",
	    what, path, root);
	*err = strdup(msg);
	return -1;
nomem:
	*err = strdup("out of memory");
	return -1;
}

/*
 * Before chroot(2): every path of c as it will be seen inside. The
 * database, opened inside, must lie under the directory; certificates,
 * keys, log files and the config outside it are open or read now but
 * cannot be at a rehash or log reopen, which is said, once, here.
 */
static int
chroot_paths_enter(struct conf *c)
{
	struct listen_conf *l;
	struct log_conf *lg;
	int r;

	if ((r = chroot_path(&c->datastore_path, true)) != 0) {
		if (r == 1)
			log_error("server", "datastore.path %s lies outside "
			    "server.chroot %s, where the database is opened: "
			    "move it under it", c->datastore_path, root);
		return -1;
	}
	if ((r = chroot_path(&c->path, true)) == -1)
		return -1;
	if (r == 1)
		log_warnx("server", "the config %s lies outside server.chroot "
		    "%s: a rehash cannot read it", c->path, root);
	if ((r = chroot_path(&c->motd, true)) == -1)
		return -1;
	if (r == 1)
		log_warnx("server", "server.motd %s lies outside server.chroot "
		    "%s, where it is read: move it under it", c->motd, root);
	for (l = c->listens; l != NULL; l = l->next) {
		if ((r = chroot_path(&l->cert, true)) == -1)
			return -1;
		if (r == 1)
			log_warnx("server", "tls cert %s lies outside "
			    "server.chroot %s: a rehash cannot read it",
			    l->cert, root);
		if ((r = chroot_path(&l->key, true)) == -1)
			return -1;
		if (r == 1)
			log_warnx("server", "tls key %s lies outside "
			    "server.chroot %s: a rehash cannot read it",
			    l->key, root);
	}
	for (lg = c->logs; lg != NULL; lg = lg->next) {
		if ((r = chroot_path(&lg->path, true)) == -1)
			return -1;
		if (r == 1)
			log_warnx("server", "logging path %s lies outside "
			    "server.chroot %s: it stays open, but is not "
			    "reopened after logrotate", lg->path, root);
	}
	return 0;
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
	size_t n, w;

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
	if (n > 1) {		/* chroot / changes no path */
		memcpy(root, dir, n + 1);
		rootlen = n;
		w = strlen(c->chroot);
		while (w > 1 && c->chroot[w - 1] == '/')
			w--;
		if (c->chroot[0] == '/' && w < sizeof(root_as_written) &&
		    (w != n || strncmp(c->chroot, dir, n) != 0)) {
			memcpy(root_as_written, c->chroot, w);
			root_as_written[w] = '\0';
		}
		if (chroot_paths_enter(c) == -1)
			return -1;	/* logged */
	}
	if (chroot(dir) == -1) {
		log_error("server", "server.chroot %s: %s", dir,
		    strerror(errno));
		return -1;
	}
	if (chdir(in) == -1 && chdir("/") == -1) {
		log_error("server", "server.chroot %s: chdir: %s", dir,
		    strerror(errno));
		return -1;
	}
	/* the same log files by their paths inside, for HUP (still root) */
	(void)log_configure(c->logs);	/* failed: the old fds stay */
	log_info("server", "chrooted to %s", dir);
	return 0;
}

/*
 * The uid and primary gid of user (group: that group's instead), as
 * server { user group } or checkconfig --user USER:GROUP name them;
 * -1 with err saying which name is unknown.
 */
int
ergo_priv_lookup(const char *user, const char *group, uid_t *uid,
    gid_t *gid, char *err, size_t errsz)
{
	struct passwd *pw;
	struct group *gr;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errsz, "server.user %s: %s", user, errno ?
		    strerror(errno) : "no such user");
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (group != NULL) {
		errno = 0;
		if ((gr = getgrnam(group)) == NULL) {
			snprintf(err, errsz, "server.group %s: %s", group,
			    errno ? strerror(errno) : "no such group");
			return -1;
		}
		*gid = gr->gr_gid;
	}
	return 0;
}

/*
 * checkconfig: become uid/gid for good, with gid as the only group, as
 * ergo_priv_drop leaves the server and `chpst -u USER:GROUP` a service
 * (stricter than a supervisor's initgroups: what passes here passes
 * there). -1 with err.
 */
int
ergo_priv_become(uid_t uid, gid_t gid, char *err, size_t errsz)
{
	if (setgroups(1, &gid) == -1 || setgid(gid) == -1 ||
	    setuid(uid) == -1) {
		snprintf(err, errsz, "switching to uid %ld: %s", (long)uid,
		    strerror(errno));
		return -1;
	}
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
	char err[256];
	gid_t gid;
	uid_t uid;

	if (geteuid() != 0) {
		if (c->chroot != NULL) {
			log_error("server", "server.chroot %s: only root can "
			    "chroot; start ergo as root or remove it",
			    c->chroot);
			return -1;
		}
		/* as that user already (an init script's switch): fine */
		if (c->user != NULL && (ergo_priv_lookup(c->user, c->group,
		    &uid, &gid, err, sizeof(err)) == -1 || uid != geteuid()))
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
	if (ergo_priv_lookup(c->user, c->group, &uid, &gid, err,
	    sizeof(err)) == -1) {
		log_error("server", "%s", err);
		return -1;
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
