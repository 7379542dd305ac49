/*
 * unit_log.c: log.c's line format, escaping, levels, targets, reopen and
 * lost-line accounting. Prints "ok NAME" or "FAIL NAME: why" per case.
 */

#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "store.h"

#include "unit.h"

static char	 dir[] = "/tmp/unit_log.XXXXXX";
static char	 buf[65536];

static const char *
path(const char *name)
{
	static char	 p[4][256];
	static int	 i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

/* Whole file into buf (NUL-terminated); "" if missing. */
/* One sink, every category: what most cases need. */
static int
configure(int method, const char *file, int level)
{
	struct log_conf lc;

	memset(&lc, 0, sizeof(lc));
	lc.method = method;
	lc.path = (char *)(uintptr_t)file;
	lc.level = level;
	lc.types = LOG_TYPES_ALL;
	return log_configure(&lc);
}

static const char *
slurp(const char *file)
{
	ssize_t	 n;
	size_t	 len = 0;
	int	 fd;

	buf[0] = '\0';
	if ((fd = open(file, O_RDONLY)) == -1)
		return buf;
	while (len < sizeof(buf) - 1 &&
	    (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(fd);
	return buf;
}

static int
nlines(const char *s)
{
	int	 n = 0;

	for (; *s != '\0'; s++)
		if (*s == '\n')
			n++;
	return n;
}

static bool
matches(const char *s, const char *re)
{
	regex_t	 r;
	bool	 m;

	if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB | REG_NEWLINE) != 0)
		return false;
	m = regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	return m;
}

static const char *
test_format(void)
{
	const char *f = path("format.log");

	if (configure(LOGM_FILE, f, LL_DEBUG) != 0)
		return "log_configure failed";
	log_info("server", "hello %d", 42);
	slurp(f);
	if (!matches(buf, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
	    "[0-9]{2}\\.[0-9]{3}Z info server hello 42$"))
		return buf;
	if (nlines(buf) != 1)
		return "not exactly one line";
	return NULL;
}

static const char *
test_levels(void)
{
	const char *f = path("levels.log");

	if (configure(LOGM_FILE, f, LL_WARN) != 0)
		return "log_configure failed";
	log_debug("c", "d");
	log_info("c", "i");
	log_warnx("c", "w");
	log_error("c", "e");
	slurp(f);
	if (strstr(buf, " debug ") || strstr(buf, " info "))
		return "lines below the level written";
	if (!matches(buf, "Z warn c w$") || !matches(buf, "Z error c e$"))
		return buf;
	configure(LOGM_FILE, f, LL_DEBUG);
	log_debug("c", "dd");
	if (!matches(slurp(f), "Z debug c dd$"))
		return "debug not written at level debug";
	return NULL;
}

static const char *
test_warn_errno(void)
{
	const char	*f = path("errno.log");
	char		 want[256];

	configure(LOGM_FILE, f, LL_INFO);
	errno = ENOENT;
	log_warn("conf", "open %s", "x.conf");
	if (errno != ENOENT)
		return "errno not preserved";
	snprintf(want, sizeof(want), " warn conf open x.conf: %s\n",
	    strerror(ENOENT));
	if (strstr(slurp(f), want) == NULL)
		return buf;
	errno = EACCES;
	log_warnx("conf", "no errno");
	if (!matches(slurp(f), "warn conf no errno$"))
		return "log_warnx appended something";
	return NULL;
}

static const char *
test_escape(void)
{
	const char *f = path("escape.log");

	configure(LOGM_FILE, f, LL_INFO);
	log_info("irc", "a\r\nfake 2026 error x\tb\x1b[31m\x7f\xc3\xa9");
	slurp(f);
	if (nlines(buf) != 1)
		return "control bytes split the line";
	if (strstr(buf, "info irc a\\x0d\\x0afake 2026 error x\\x09b\\x1b[31m"
	    "\\x7f\xc3\xa9\n") == NULL)
		return buf;
	return NULL;
}

static const char *
test_truncate(void)
{
	const char	*f = path("long.log");
	static char	 big[20000];

	memset(big, 'a', sizeof(big) - 1);
	big[1000] = '\n';		/* escaped to four bytes */
	configure(LOGM_FILE, f, LL_INFO);
	log_info("c", "%s", big);
	slurp(f);
	if (nlines(buf) != 1)
		return "not one line";
	if (!matches(buf, "a\\[\\.\\.\\.\\]$"))
		return "no truncation marker at the end";
	if (strlen(buf) > 20000)
		return "line not truncated";
	return NULL;
}

static const char *
test_configure_fail_keeps_target(void)
{
	const char	*f = path("keep.log");
	mode_t		 old;
	struct stat	 st;

	old = umask(0);
	configure(LOGM_FILE, f, LL_INFO);
	umask(old);
	if (stat(f, &st) == -1 || (st.st_mode & 0777) != 0640)
		return "mode not 0640";
	if (configure(LOGM_FILE, path("nodir/x.log"), LL_DEBUG) != -1)
		return "configure to a missing directory succeeded";
	if (configure(LOGM_FILE, NULL, LL_DEBUG) != -1)
		return "configure without path succeeded";
	log_debug("c", "not at debug");
	log_info("c", "still here");
	slurp(f);
	if (!matches(buf, "warn log .*nodir/x.log: No such file") ||
	    !matches(buf, "info c still here$") || strstr(buf, "not at debug"))
		return buf;
	return NULL;
}

static const char *
test_reopen(void)
{
	const char	*f = path("rot.log"), *f1 = path("rot.log.1");

	configure(LOGM_FILE, f, LL_INFO);
	log_info("c", "before");
	if (rename(f, f1) == -1)
		return "rename";
	log_info("c", "after rename");
	if (log_reopen() != 0)
		return "log_reopen failed";
	log_info("c", "after reopen");
	if (!matches(slurp(f1), "c before$") ||
	    !matches(buf, "c after rename$") || strstr(buf, "after reopen"))
		return "rotated file content wrong";
	if (!matches(slurp(f), "c after reopen$") || nlines(buf) != 1)
		return "new file content wrong";

	/* path unusable now: keep writing to the old file */
	if (rename(f, path("rot.log.2")) == -1 || mkdir(f, 0700) == -1)
		return "setup";
	if (log_reopen() != -1)
		return "reopen onto a directory succeeded";
	log_info("c", "kept");
	if (!matches(slurp(path("rot.log.2")), "warn log reopen .*rot.log") ||
	    !matches(buf, "c kept$"))
		return "old file not kept on failure";
	rmdir(f);
	return NULL;
}

static const char *
test_lost_lines(void)
{
	const char	*l = path("full.log"), *real = path("real.log");

	if (access("/dev/full", W_OK) == -1)
		return NULL;	/* nothing to test on */
	if (symlink("/dev/full", l) == -1)
		return "symlink";
	if (configure(LOGM_FILE, l, LL_INFO) != 0)
		return "configure /dev/full";
	log_info("c", "lost 1");
	log_info("c", "lost 2");
	log_warnx("c", "lost 3");
	/* the disk has room again */
	unlink(l);
	if (symlink(real, l) == -1 || log_reopen() != 0)
		return "reopen";
	log_info("c", "back");
	log_info("c", "again");
	slurp(real);
	if (!matches(buf, "^[0-9T:.-]+Z warn log 3 log lines lost "
	    "\\(write errors\\)\n[0-9T:.-]+Z info c back\n[0-9T:.-]+Z info c "
	    "again\n$"))
		return buf;
	return NULL;
}

static const char *
test_level_parse(void)
{
	if (log_level_parse("debug") != LL_DEBUG ||
	    log_level_parse("info") != LL_INFO ||
	    log_level_parse("warn") != LL_WARN ||
	    log_level_parse("error") != LL_ERROR ||
	    log_level_parse("warning") != -1 || log_level_parse("") != -1 ||
	    log_level_parse("INFO") != -1)
		return "wrong mapping";
	return NULL;
}

static const char *
test_fatal(void)
{
	const char	*f = path("fatal.log");
	pid_t		 pid;
	int		 st;

	configure(LOGM_FILE, f, LL_ERROR);
	fflush(stdout);
	if ((pid = fork()) == -1)
		return "fork";
	if (pid == 0) {
		errno = EPERM;
		fatal("cannot %s", "bind");
	}
	if (waitpid(pid, &st, 0) == -1 || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 1)
		return "fatal did not exit(1)";
	if ((pid = fork()) == -1)
		return "fork";
	if (pid == 0)
		fatalx("bad %d", 7);
	if (waitpid(pid, &st, 0) == -1 || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 1)
		return "fatalx did not exit(1)";
	slurp(f);
	if (!matches(buf, "Z error fatal cannot bind: Operation not permitted$")
	    || !matches(buf, "Z error fatal bad 7$"))
		return buf;
	return NULL;
}

static const char *
test_stderr(void)
{
	const char	*f = path("stderr.log");
	int		 fd, saved;

	if ((fd = open(f, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    (saved = dup(STDERR_FILENO)) == -1)
		return "setup";
	dup2(fd, STDERR_FILENO);
	close(fd);
	configure(LOGM_STDERR, NULL, LL_INFO);
	log_info("c", "to stderr");
	dup2(saved, STDERR_FILENO);
	close(saved);
	if (!matches(slurp(f), "Z info c to stderr$"))
		return buf;
	return NULL;
}

static int
rm_rf(const char *d)
{
	char	 cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	return system(cmd);
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		printf("FAIL setup: mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	log_init(LL_INFO);
	result("format", test_format());
	result("levels", test_levels());
	result("warn_errno", test_warn_errno());
	result("escape", test_escape());
	result("truncate", test_truncate());
	result("configure_fail_keeps_target", test_configure_fail_keeps_target());
	result("reopen", test_reopen());
	result("lost_lines", test_lost_lines());
	result("level_parse", test_level_parse());
	result("fatal", test_fatal());
	result("stderr", test_stderr());
	log_init(LL_INFO);
	rm_rf(dir);
	return nfail != 0;
}
