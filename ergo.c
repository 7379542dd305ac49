/*
 * ergo.c: main, the subcommands, signals through a self-pipe, the poll
 * loop and its timers, rehash and orderly shutdown. Knows no protocol.
 */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "pool.h"
#include "net.h"
#include "store.h"
#include "store_ckpt.h"
#include "ergo_priv.h"
#include "ergo_check.h"
#include "ergo_wait.h"
#include "irc.h"
#ifndef ERGO_NO_IMPORT
#include "ergo_import.h"
#include "conf_yaml.h"
#else
/*
 * ergo-static leaves Ergo's importers out (scripts/static.sh): with them
 * the binary would not fit its 1 MiB. They read files a regular build
 * reads as well, and what they write (a database, a config) is the same.
 */
static int
no_import(const char *cmd)
{
	fprintf(stderr, "ergo: %s is not in this build (ergo-static leaves "
	    "Ergo's importers out); run `ergo %s` from a regular build and "
	    "copy what it writes\n", cmd, cmd);
	return -1;
}

static int
ergo_import_db(const char *src, const char *db)
{
	(void)src, (void)db;
	return no_import("importdb");
}

static int
conf_yaml_convert(const char *path, FILE *out)
{
	(void)path, (void)out;
	return no_import("importconf");
}
#endif

static int	 sigpipe_fd[2] = { -1, -1 };
static volatile sig_atomic_t got_sig;	/* only for the pipe-full case */
static bool	 want_hup, want_term, want_usr1;
static bool	 notify_off;		/* NOTIFY_SOCKET went away */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: ergo run [--config FILE] [--allow-root]\n"
	    "                                    run the server in the foreground\n"
	    "       ergo checkconfig [--config FILE] [--user USER[:GROUP]]\n"
	    "                                    validate a config file and, as the\n"
	    "                                    server's user, the files it opens\n"
	    "       ergo defaultconfig           print the annotated default config\n"
	    "       ergo genpasswd               hash a password for an oper block\n"
	    "       ergo initdb [--config FILE]  create the database\n"
	    "       ergo upgradedb [--config FILE]\n"
	    "                                    back up, then migrate the database\n"
	    "       ergo backupdb FILE [--config FILE]\n"
	    "                                    copy the live database to FILE\n"
	    "       ergo importdb FILE [--config FILE]\n"
	    "                                    import accounts and channels from\n"
	    "                                    Ergo (its ircd.db or JSON from Anope\n"
	    "                                    or Atheme)\n"
	    "       ergo importconf FILE         print Ergo's ircd.yaml FILE as an\n"
	    "                                    ergo.conf\n"
	    "       ergo mkcerts [--cert FILE] [--key FILE] [--host NAME]\n"
	    "                                    write a self-signed certificate and key\n"
	    "       ergo waitready --socket PATH [--timeout S] [--user U[:G]]\n"
	    "                [--pid-file F] [-- COMMAND ...]\n"
	    "                                    for init scripts: wait for READY=1\n"
	    "       ergo version                 print the version\n"
	    "       ergo help                    print this help\n");
}

/*
 * sd_notify's datagram protocol, spoken directly so a systemd host can use
 * Type=notify without libsystemd. A no-op unless NOTIFY_SOCKET is set.
 */
static void
notify(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	size_t n;
	int fd;

	if (notify_off || path == NULL || (path[0] != '/' && path[0] != '@') ||
	    (n = strlen(path)) >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';	/* Linux abstract namespace */
	if ((fd = socket(AF_UNIX, SOCK_DGRAM, 0)) == -1) {
		log_warn("server", "NOTIFY_SOCKET");
		return;
	}
	if (sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n)) == -1) {
		/* The listener is gone for good (start-stop-daemon removes
		 * its socket once READY=1 arrived): say so once, then stop. */
		if (errno == ENOENT || errno == ECONNREFUSED) {
			log_info("server", "NOTIFY_SOCKET %s is gone; no more "
			    "readiness messages", path);
			notify_off = true;
		} else
			log_warn("server", "NOTIFY_SOCKET %s", path);
	}
	close(fd);
}

/* ---- signals: the handler only writes a byte ---- */

static void
sig_handler(int sig)
{
	int saved = errno;
	char ch = sig == SIGHUP ? 'H' : sig == SIGUSR1 ? 'U' : 'T';

	if (write(sigpipe_fd[1], &ch, 1) == -1)
		got_sig = 1;	/* pipe full: a byte is already waiting */
	errno = saved;
}

static void
sig_read(int fd, void *arg)
{
	char buf[64];
	ssize_t n, i;

	(void)arg;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (i = 0; i < n; i++) {
			if (buf[i] == 'H')
				want_hup = true;
			else if (buf[i] == 'U')
				want_usr1 = true;
			else
				want_term = true;
		}
}

static void
sig_setup(void)
{
	struct sigaction sa;
	int i;

	if (pipe(sigpipe_fd) == -1)
		fatal("pipe");
	for (i = 0; i < 2; i++)
		if (fcntl(sigpipe_fd[i], F_SETFL, O_NONBLOCK) == -1 ||
		    fcntl(sigpipe_fd[i], F_SETFD, FD_CLOEXEC) == -1)
			fatal("fcntl");
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = sig_handler;
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGHUP, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGUSR1, &sa, NULL) == -1)
		fatal("sigaction");
	sa.sa_handler = SIG_IGN;
	/* SIGXFSZ: past a file size limit a write must fail with EFBIG (a
	 * full disk, for the log and the database), not kill the server. */
	if (sigaction(SIGPIPE, &sa, NULL) == -1 ||
	    sigaction(SIGXFSZ, &sa, NULL) == -1)
		fatal("sigaction");
	if (net_add_fd(sigpipe_fd[0], sig_read, NULL) == -1)
		fatal("self-pipe");
}

/* ---- rehash ---- */

/* Each line of a multi-line error text as its own log line. */
static void
log_lines(const char *cat, const char *text)
{
	const char *p, *nl;

	for (p = text; p != NULL && *p != '\0'; p = *nl ? nl + 1 : nl) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		log_error(cat, "%.*s", (int)(nl - p), p);
	}
}

/* The old config stays: say so, hand the errors to REHASH's caller. */
static int
rehash_failed(struct conf *nc, char *e, bool log_them, char **errs)
{
	if (log_them)
		log_lines("rehash", e);
	log_error("rehash", "config not reloaded; still running on the "
	    "previous one");
	notify("READY=1\nSTATUS=config reload failed; running on the "
	    "previous config");
	conf_free(nc);
	*errs = e;
	return -1;
}

/*
 * SIGHUP and REHASH alike: reopen the log files (logrotate moved them),
 * then parse and validate the whole file; only a valid config, whose log
 * targets all open, is swapped in. Keys that cannot change while running
 * are reported and keep their running value.
 */
static int
ergo_rehash(char **errs)
{
	struct conf *nc, *old = conf;
	char *e = NULL;

	*errs = NULL;
	(void)log_reopen();	/* a failure is logged; the old file stays */
	{
		char msg[64];

		snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		    (unsigned long long)ergo_now_ms * 1000ULL);
		notify(msg);
	}
	if ((nc = conf_load(conf->path, &e)) == NULL)
		return rehash_failed(NULL, e ? e : strdup("config error"),
		    true, errs);
	if (ergo_priv_paths(nc, old, &e) == -1)	/* chrooted: from inside */
		return rehash_failed(nc, e, true, errs);
	/* Certificates and log files are part of the config too. */
	if (net_listen_prepare(nc, &e) == -1)
		return rehash_failed(nc, e, true, errs);
	if (log_configure(nc->logs) == -1) {
		net_listen_unprepare();
		return rehash_failed(nc, strdup(log_configure_error()), false,
		    errs);	/* log.c said why */
	}
	if (strcmp(nc->datastore_path, old->datastore_path) != 0) {
		log_warnx("rehash", "datastore.path cannot change while running;"
		    " still using %s", old->datastore_path);
		free(nc->datastore_path);
		nc->datastore_path = strdup(old->datastore_path);
	}
	if ((nc->chroot == NULL) != (old->chroot == NULL) ||
	    (nc->chroot != NULL && strcmp(nc->chroot, old->chroot) != 0)) {
		log_warnx("rehash", "server.chroot cannot change while "
		    "running; restart to apply it");
		free(nc->chroot);
		nc->chroot = old->chroot != NULL ? strdup(old->chroot) : NULL;
	}
	if (nc->datastore_ckpt != old->datastore_ckpt) {
		log_warnx("rehash", "datastore.checkpoint-process cannot change "
		    "while running; restart to apply it");
		nc->datastore_ckpt = old->datastore_ckpt;
	}
	if (nc->casemapping != old->casemapping) {
		log_warnx("rehash", "server.casemapping cannot change while "
		    "running; restart to apply it");
		nc->casemapping = old->casemapping;
	}
	conf = nc;
	(void)net_listen_apply(conf);
	irc_rehashed(old);
	conf_free(old);
	log_info("rehash", "configuration reloaded from %s",
	    conf->path ? conf->path : "built-in defaults");
	notify("READY=1\nSTATUS=config reloaded");
	return 0;
}

/* ---- the loop ---- */

/* The checkpoint process answered, or is gone. */
static void
ckpt_ready(int fd, void *arg)
{
	(void)arg;
	if (store_ckpt_read() == -1)
		net_del_fd(fd);
}

/* A fatal start-up error, at level error (so on stderr too): exit 1. */
static int
not_started(const char *fmt, ...)
{
	char msg[4400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("server", "not started: %s", msg);
	return 1;
}

static int
run(const char *path, bool allow_root)
{
	char *errs = NULL, db[4096 + 2];
	const char *dbp;
	uint64_t last_tick;
	int timeout, t;

	log_init(LL_INFO);
	/* until it serves, every error reaches stderr too (init scripts
	 * keep it), whatever the logging blocks say */
	log_errors_to_stderr(true);
	ergo_clock();
	if ((conf = conf_load(path, &errs)) == NULL) {
		fputs(errs ? errs : "config error\n", stderr);
		if (errs != NULL && errs[strlen(errs) - 1] != '\n')
			fputc('\n', stderr);
		free(errs);
		return 1;
	}
	if (log_configure(conf->logs) == -1)
		return not_started("%s", log_configure_error());
	/* what root creates (ircd.db, log files) a later unprivileged
	 * start could not open */
	if (geteuid() == 0 && conf->user == NULL && !allow_root)
		return not_started("running as root without server { user "
		    "NAME }: the files it creates would be root's; set server "
		    "{ user NAME } to drop privileges after binding, or pass "
		    "--allow-root to run as root all the same");
	if (net_listen_prepare(conf, &errs) == -1) {
		log_lines("tls", errs);
		free(errs);
		return not_started("a TLS certificate or key cannot be "
		    "loaded");
	}
	net_init(&irc_net_handlers, &irc_link_net_handlers);
	net_raise_nofile();
	sig_setup();
	if (net_listen_apply(conf) == -1)
		return not_started("could not open every listener");
	/* Bound and opened as root; the database is the new user's. */
	if (ergo_priv_drop(conf) == -1)
		return not_started("%s", "see the error above");
	/* absolute in every message (the path stays as written in conf,
	 * which a rehash compares) */
	dbp = ergo_check_abspath(conf->datastore_path, db, sizeof(db));
	/* as the server's user, in its chroot, before SQLite is used */
	if (conf->datastore_ckpt && (t = store_ckpt_start(dbp)) != -1 &&
	    net_add_fd(t, ckpt_ready, NULL) == -1)
		return not_started("out of memory");
	if (store_open(dbp) == -1)
		return not_started("the database %s cannot be used", dbp);
	irc_init(ergo_rehash);
	log_info("server", "%s ready: %s", ERGO_VERSION, conf->server_name);
	notify("READY=1\nSTATUS=accepting connections");
	log_errors_to_stderr(false);
	last_tick = ergo_now_ms;
	while (!want_term) {
		timeout = 1000 - (int)(ergo_now_ms - last_tick);
		if (timeout < 0)
			timeout = 0;
		if ((t = irc_next_timer_ms()) >= 0 && t < timeout)
			timeout = t;
		net_poll(timeout);
		ergo_clock();
		if (got_sig) {
			got_sig = 0;
			sig_read(sigpipe_fd[0], NULL);
		}
		if (want_hup) {
			want_hup = false;
			log_info("rehash", "SIGHUP: reopening logs and "
			    "reloading config");
			if (ergo_rehash(&errs) == -1)
				free(errs);
		}
		if (want_usr1) {
			want_usr1 = false;
			log_info("server", "%u connections", net_nconns());
		}
		irc_tick();
		if (ergo_now_ms - last_tick >= 1000) {
			last_tick = ergo_now_ms;
			net_tick();
			pool_heap_tick();
		}
		net_flush();
		irc_tick_late();
	}
	log_info("server", "shutting down");
	notify("STOPPING=1");
	irc_shutdown();
	net_shutdown("Server shutting down");
	store_close();
	conf_free(conf);
	return 0;
}

/* ---- genpasswd ---- */

static int
read_line(char *buf, size_t sz, bool noecho)
{
	struct termios t, saved;
	size_t n;
	bool tty = noecho && tcgetattr(STDIN_FILENO, &saved) == 0;

	if (tty) {
		t = saved;
		t.c_lflag &= ~(tcflag_t)ECHO;
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
	}
	if (fgets(buf, (int)sz, stdin) == NULL)
		buf[0] = '\0';
	if (tty) {
		(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fputc('\n', stderr);
	}
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return n > 0 ? 0 : -1;
}

static int
genpasswd(void)
{
	char a[512], b[512], *h;
	bool tty = isatty(STDIN_FILENO);

	if (tty)
		fputs("Enter Password: ", stderr);
	if (read_line(a, sizeof(a), tty) == -1) {
		fputs("ergo: empty password\n", stderr);
		return 1;
	}
	if (tty) {
		fputs("Reenter Password: ", stderr);
		if (read_line(b, sizeof(b), true) == -1 || strcmp(a, b) != 0) {
			fputs("ergo: passwords do not match\n", stderr);
			return 1;
		}
	}
	if ((h = conf_passwd_hash(a, 0)) == NULL) {
		perror("ergo: genpasswd");
		return 1;
	}
	puts(h);
	free(h);
	return 0;
}

/* argv[*i] is "name VALUE" or "name=VALUE": the value, else NULL. */
static const char *
opt_value(int argc, char *argv[], int *i, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] == '\0' && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

/*
 * mkcerts [--cert FILE] [--key FILE] [--host NAME], argv past "mkcerts":
 * parsed here because main's loop takes only --config.
 */
static int
mkcerts(int argc, char *argv[])
{
	const char *cert = "fullchain.pem", *key = "privkey.pem", *host = NULL;
	const char *v;
	char name[256];
	int i;

	for (i = 0; i < argc; i++) {
		if ((v = opt_value(argc, argv, &i, "--cert")) != NULL)
			cert = v;
		else if ((v = opt_value(argc, argv, &i, "--key")) != NULL)
			key = v;
		else if ((v = opt_value(argc, argv, &i, "--host")) != NULL)
			host = v;
		else {
			fprintf(stderr, "ergo: mkcerts: unknown option or "
			    "missing value: %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (host == NULL) {
		/* gethostname() need not terminate a truncated name. */
		if (gethostname(name, sizeof(name)) == 0 && name[0] != '\0') {
			name[sizeof(name) - 1] = '\0';
			host = name;
		} else
			host = "localhost";
	}
	return net_mkcert_write(cert, key, host) == 0 ? 0 : 1;
}

/*
 * initdb, upgradedb, backupdb and importdb: the datastore of the config
 * at path (NULL: built-in defaults), messages on stderr.
 */
static int
dbcmd(const char *cmd, const char *path, const char *dest)
{
	char *errs = NULL;
	int rc;

	log_init(LL_INFO);
	if ((conf = conf_load(path, &errs)) == NULL) {
		fputs(errs ? errs : "config error\n", stderr);
		if (errs != NULL && errs[strlen(errs) - 1] != '\n')
			fputc('\n', stderr);
		free(errs);
		return 1;
	}
	if (strcmp(cmd, "initdb") == 0)
		rc = store_init(conf->datastore_path);
	else if (strcmp(cmd, "upgradedb") == 0)
		rc = store_upgrade(conf->datastore_path);
	else if (strcmp(cmd, "importdb") == 0)
		rc = ergo_import_db(dest, conf->datastore_path);
	else
		rc = store_backup(conf->datastore_path, dest);
	store_close();
	conf_free(conf);
	conf = NULL;
	return rc == 0 ? 0 : 1;
}

/* backupdb or importdb FILE [--config FILE], argv past cmd */
static int
filecmd(const char *cmd, int argc, char *argv[])
{
	const char *dest = NULL, *path = NULL, *v;
	int i;

	for (i = 0; i < argc; i++) {
		if ((v = opt_value(argc, argv, &i, "--config")) != NULL)
			path = v;
		else if (dest == NULL && argv[i][0] != '-')
			dest = argv[i];
		else
			break;
	}
	if (dest == NULL || i < argc) {
		fprintf(stderr, "ergo: %s needs one FILE\n", cmd);
		usage(stderr);
		return 2;
	}
	return dbcmd(cmd, path, dest);
}

int
main(int argc, char *argv[])
{
	const char *cmd, *path = NULL, *as_user = NULL, *v;
	bool allow_root = false;
	int i;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (strcmp(cmd, "mkcerts") == 0)
		return mkcerts(argc - 2, argv + 2);
	if (strcmp(cmd, "backupdb") == 0 || strcmp(cmd, "importdb") == 0)
		return filecmd(cmd, argc - 2, argv + 2);
	if (strcmp(cmd, "importconf") == 0) {
		if (argc != 3 || argv[2][0] == '-') {
			fprintf(stderr, "ergo: importconf needs one FILE\n");
			usage(stderr);
			return 2;
		}
		log_init(LL_INFO);
		return conf_yaml_convert(argv[2], stdout) == 0 ? 0 : 1;
	}
	if (strcmp(cmd, "waitready") == 0)
		return ergo_waitready(argc - 2, argv + 2);
	for (i = 2; i < argc; i++) {
		if ((strcmp(argv[i], "--config") == 0 ||
		    strcmp(argv[i], "-c") == 0) && i + 1 < argc)
			path = argv[++i];
		else if (strncmp(argv[i], "--config=", 9) == 0)
			path = argv[i] + 9;
		else if (strcmp(cmd, "checkconfig") == 0 &&
		    (v = opt_value(argc, argv, &i, "--user")) != NULL)
			as_user = v;
		else if (strcmp(cmd, "run") == 0 &&
		    strcmp(argv[i], "--allow-root") == 0)
			allow_root = true;
		else {
			fprintf(stderr, "ergo: unknown option %s\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (strcmp(cmd, "run") == 0)
		return run(path, allow_root);
	if (strcmp(cmd, "initdb") == 0 || strcmp(cmd, "upgradedb") == 0)
		return dbcmd(cmd, path, NULL);
	if (path != NULL && strcmp(cmd, "checkconfig") != 0) {
		fprintf(stderr, "ergo: %s takes no --config\n", cmd);
		usage(stderr);
		return 2;
	}
	if (strcmp(cmd, "checkconfig") == 0)
		return ergo_check(path, as_user);
	if (strcmp(cmd, "defaultconfig") == 0) {
		fputs(conf_default_text(), stdout);
		return 0;
	}
	if (strcmp(cmd, "genpasswd") == 0)
		return genpasswd();
	if (strcmp(cmd, "version") == 0) {
		puts(ERGO_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
	    strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "ergo: unknown command %s\n", cmd);
	usage(stderr);
	return 2;
}
