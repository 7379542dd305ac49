/*
 * irc_mail.c: e-mail verification of new accounts and password reset by
 * mail (Ergo's accounts.registration.email-verification), with no SMTP
 * client of our own: the message is piped to a sendmail-compatible
 * program (`sendmail -t`), the Unix way, so OpenSMTPD, msmtp, Postfix or
 * busybox deliver it. Owns the codes (kept in the datastore as SHA-256
 * hashes, through store.c), the programs it runs and the replies that
 * wait for them: REGISTER and NickServ REGISTER with an address,
 * VERIFY, NickServ VERIFY, SENDPASS and RESETPASS.
 *
 * The loop never waits for a program: the message goes down a
 * non-blocking pipe to its standard input, fed from irc_mail_tick; the
 * child is reaped there with WNOHANG, and one still running after
 * email-verification.timeout is killed (its whole process group). Only
 * then is the user told: a registration's code was sent, or it was not
 * (the waiting registration is dropped, the failure logged once and
 * answered FAIL ... TEMPORARILY_UNAVAILABLE or NickServ's notice).
 *
 * Below the command families, beside irc_account.c: irc_register.c and
 * irc_serv.c call it; it calls irc_account.c, irc_out.c and store.c.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bearssl.h>

#include "irc_mail.h"
#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "net.h"
#include "store.h"
#include "irc_util.h"
#include "irc_state.h"
#include "irc_out.h"
#include "irc_account.h"
#include "irc_throttle.h"

#define MAIL_CODE_BYTES		16	/* 128 random bits, 32 hex digits */
#define MAIL_TICK_MS		50	/* how often a running job is looked at */
#define MAIL_EXPIRE_SECS	600	/* expired codes deleted this often */
#define MAIL_FD_CLOSE_MAX	65536	/* the child closes fds up to this */

enum { JOB_REGISTER, JOB_RESET };

/* One sendmail program running, and whom to tell when it is done. */
struct mail_job {
	struct mail_job	*next;
	pid_t		 pid;
	int		 fd;		/* its stdin, -1 once all is written */
	char		*msg;
	size_t		 len, off;
	bool		 write_failed;
	uint64_t	 deadline_ms;
	bool		 killed;
	int		 kind;		/* JOB_* */
	bool		 ircv3;		/* REGISTER's replies, else NickServ's */
	struct session	*s;		/* who asked; NULL once it is gone */
	char		 name[NICKLEN_MAX + 1];
	char		 folded[NICKLEN_MAX + 1];
	char		 email[STORE_EMAIL_MAX + 1];
};

static struct mail_job	*jobs;
static unsigned		 njobs;
static time_t		 expire_last;

bool
irc_mail_verifying(void)
{
	return conf->accounts.ev_enabled;
}

/* ---- replies ---- */

static void ns_notice(struct client *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* A NOTICE from NickServ, as irc_serv.c's. */
static void
ns_notice(struct client *c, const char *fmt, ...)
{
	char text[IRC_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	irc_send(c, ":NickServ!NickServ@localhost NOTICE %s :%s",
	    c->nick[0] ? c->nick : "*", text);
}

/* Why a registration cannot go on, in either command's words. */
static void
reg_refused(struct client *c, bool ircv3, const char *name,
    const char *code, const char *text)
{
	if (ircv3)
		irc_fail(c, "FAIL", "REGISTER", code, "%s :%s", name, text);
	else
		ns_notice(c, "%s", text);
}

static void
verify_refused(struct client *c, bool ircv3, const char *name,
    const char *code, const char *text)
{
	if (ircv3)
		irc_fail(c, "FAIL", "VERIFY", code, "%s :%s", name, text);
	else
		ns_notice(c, "%s", text);
}

/* ---- codes ---- */

static void
hex(char *dst, const unsigned char *src, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		dst[2 * i] = digits[src[i] >> 4];
		dst[2 * i + 1] = digits[src[i] & 15];
	}
	dst[2 * n] = '\0';
}

/* A fresh code (MAIL_CODE_BYTES * 2 + 1 bytes); -1 without randomness. */
static int
code_make(char *code)
{
	unsigned char r[MAIL_CODE_BYTES];

	if (ergo_random(r, sizeof(r)) == -1) {
		log_warn("accounts", "no random bytes for a mailed code");
		return -1;
	}
	hex(code, r, sizeof(r));
	return 0;
}

/* What the datastore keeps of a code: its SHA-256, in hex. */
static void
code_hash(const char *code, char out[STORE_CODE_MAX + 1])
{
	br_sha256_context sc;
	unsigned char d[32];

	br_sha256_init(&sc);
	br_sha256_update(&sc, code, strlen(code));
	br_sha256_out(&sc, d);
	hex(out, d, sizeof(d));
}

/* A code given against the stored hash, in constant time. */
static bool
code_matches(const char *given, const char *stored)
{
	char h[STORE_CODE_MAX + 1];
	unsigned char diff = 0;
	size_t i;

	if (strlen(stored) != STORE_CODE_MAX)
		return false;
	code_hash(given, h);
	for (i = 0; i < STORE_CODE_MAX; i++)
		diff |= (unsigned char)(h[i] ^ stored[i]);
	return diff == 0;
}

/*
 * An address fit for the To: header of `sendmail -t`: one mailbox,
 * local@domain, no spaces or controls, nothing that would make it two
 * recipients or a display name (, ; < > " ( ) \ [ ]).
 */
static bool
address_ok(const char *s)
{
	const char *at = strrchr(s, '@');
	const unsigned char *p;

	if (at == NULL || at == s || at[1] == '\0' ||
	    strlen(s) > STORE_EMAIL_MAX || s[0] == '-')
		return false;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p <= 0x20 || *p == 0x7f || strchr(",;<>\"()\\[]:", *p))
			return false;
	return true;
}

/* ---- the program ---- */

#define MAIL_FORMAT \
	"From: %s\nTo: %s\nSubject: %s\nDate: %s\n" \
	"Message-ID: <%s.%lld@%s>\nMIME-Version: 1.0\n" \
	"Content-Type: text/plain; charset=UTF-8\n" \
	"Content-Transfer-Encoding: 8bit\n" \
	"Auto-Submitted: auto-generated\n\n%s"
#define MAIL_ARGS \
	conf->accounts.ev_sender, to, subject, date, id, \
	(long long)ergo_now, conf->server_name, body

/* The message: RFC 5322 headers, then the body (LF line ends, as a
 * local sendmail takes them). NULL if out of memory. */
static char *
message_make(const char *to, const char *subject, const char *body,
    size_t *len)
{
	char date[64], id[2 * 8 + 1], *m;
	unsigned char r[8];
	struct tm tm;
	int n;

	gmtime_r(&ergo_now, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	if (ergo_random(r, sizeof(r)) == -1)
		memset(r, 0, sizeof(r));
	hex(id, r, sizeof(r));
	n = snprintf(NULL, 0, MAIL_FORMAT, MAIL_ARGS);
	if (n < 0 || (m = malloc((size_t)n + 1)) == NULL)
		return NULL;
	(void)snprintf(m, (size_t)n + 1, MAIL_FORMAT, MAIL_ARGS);
	*len = (size_t)n;
	return m;
}

/* Runs in the child: stdin from the pipe, nothing else of ours. */
static void
child_exec(int in, int devnull)
{
	char *argv[] = { conf->accounts.ev_sendmail, "-t", NULL };
	sigset_t none;
	long max = sysconf(_SC_OPEN_MAX);
	int fd;

	(void)setpgid(0, 0);	/* a timeout kills its children too */
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)signal(SIGPIPE, SIG_DFL);	/* ignored ones survive exec */
	(void)signal(SIGXFSZ, SIG_DFL);
	if (dup2(in, 0) == -1 || dup2(devnull, 1) == -1)
		_exit(127);
	if (max < 0 || max > MAIL_FD_CLOSE_MAX)
		max = MAIL_FD_CLOSE_MAX;
	for (fd = 3; fd < max; fd++)	/* ours are close-on-exec; in case */
		(void)close(fd);
	execv(argv[0], argv);
	_exit(127);
}

/* Writes what the pipe takes now; closes it when all is in. */
static void
job_feed(struct mail_job *j)
{
	ssize_t n;

	while (j->fd != -1 && j->off < j->len) {
		n = write(j->fd, j->msg + j->off, j->len - j->off);
		if (n > 0) {
			j->off += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		j->write_failed = true;	/* EPIPE: it stopped reading */
		break;
	}
	if (j->fd != -1) {
		(void)close(j->fd);
		j->fd = -1;
	}
}

/*
 * Starts sendmail with the message for to: the job, or NULL (logged,
 * *why says what to tell the user) if it could not be started.
 */
static struct mail_job *
job_start(const char *to, const char *subject, const char *body,
    const char **why)
{
	const char *path = conf->accounts.ev_sendmail;
	struct mail_job *j;
	int p[2] = { -1, -1 }, devnull = -1, fl;

	*why = "the mail program cannot be run";
	if (njobs >= conf->accounts.ev_max_running) {
		log_warnx("accounts", "%u mail programs running "
		    "(email-verification.max-concurrency): a mail to %s is "
		    "refused", njobs, to);
		*why = "too many mails are being sent";
		return NULL;
	}
	if (access(path, X_OK) == -1) {
		log_warn("accounts", "email-verification.sendmail %s: the "
		    "mail to %s was not sent", path, to);
		return NULL;
	}
	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->msg = message_make(to, subject, body, &j->len)) == NULL) {
		log_warnx("accounts", "out of memory: the mail to %s was not "
		    "sent", to);
		goto fail;
	}
	if (pipe(p) == -1 ||
	    (devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1 ||
	    fcntl(p[0], F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(p[1], F_SETFD, FD_CLOEXEC) == -1 ||
	    (fl = fcntl(p[1], F_GETFL)) == -1 ||
	    fcntl(p[1], F_SETFL, fl | O_NONBLOCK) == -1) {
		log_warn("accounts", "mail to %s: pipe", to);
		goto fail;
	}
	if ((j->pid = fork()) == -1) {
		log_warn("accounts", "mail to %s: fork", to);
		goto fail;
	}
	if (j->pid == 0)
		child_exec(p[0], devnull);
	(void)setpgid(j->pid, j->pid);	/* both sides: no race */
	(void)close(p[0]);
	(void)close(devnull);
	j->fd = p[1];
	j->deadline_ms = ergo_now_ms + conf->accounts.ev_timeout * 1000ULL;
	j->next = jobs;
	jobs = j;
	njobs++;
	job_feed(j);
	return j;
fail:
	if (p[0] != -1) {
		(void)close(p[0]);
		(void)close(p[1]);
	}
	if (devnull != -1)
		(void)close(devnull);
	if (j != NULL)
		free(j->msg);
	free(j);
	return NULL;
}

/* The job's session, made the one replies go to; NULL if gone. */
static struct client *
job_client(struct mail_job *j)
{
	if (j->s == NULL || (j->s->flags & SF_CLOSING) || j->s->user == NULL)
		return NULL;
	j->s->user->cur = j->s;
	return j->s->user;
}

/* The program is done: ok, or why not (logged here, once). */
static void
job_done(struct mail_job *j, bool ok, const char *why)
{
	struct client *c;
	struct session *prev = NULL;

	if (!ok) {
		log_warnx("accounts", "email-verification.sendmail %s: %s: "
		    "the mail to %s for account %s was not sent",
		    conf->accounts.ev_sendmail, why, j->email, j->name);
		/* no code that was never sent stays: the name is free, and
		 * the reset cooldown does not hold back a retry */
		(void)store_code_del(j->kind == JOB_REGISTER ? 'v' : 'r',
		    j->folded);
	} else
		log_info("accounts", "%s mail for account %s sent to %s",
		    j->kind == JOB_REGISTER ? "verification" : "password reset",
		    j->name, j->email);
	if (j->s != NULL && j->s->user != NULL)
		prev = j->s->user->cur;
	if ((c = job_client(j)) == NULL)
		return;
	if (j->kind == JOB_REGISTER && ok && j->ircv3)
		irc_send(c, ":%s REGISTER VERIFICATION_REQUIRED %s :Account "
		    "created, pending verification; verification code has "
		    "been sent to %s", conf->server_name, j->name, j->email);
	else if (j->kind == JOB_REGISTER && ok)
		ns_notice(c, "Account created, pending verification; "
		    "verification code has been sent to %s", j->email);
	else if (j->kind == JOB_REGISTER)
		reg_refused(c, j->ircv3, j->name, "TEMPORARILY_UNAVAILABLE",
		    "Could not dispatch registration e-mail");
	else if (ok)
		ns_notice(c, "Successfully sent password reset email");
	else
		ns_notice(c, "Could not dispatch password reset e-mail");
	c->cur = prev;
}

/* Whether the job's program has ended: reaped, *why set on failure. */
static bool
job_reap(struct mail_job *j, bool *ok, char *why, size_t sz)
{
	pid_t r;
	int st;

	while ((r = waitpid(j->pid, &st, WNOHANG)) == -1 && errno == EINTR)
		;
	if (r == 0)
		return false;
	*ok = false;
	if (r == -1)
		snprintf(why, sz, "waitpid: %s", strerror(errno));
	else if (j->killed)
		snprintf(why, sz, "still running after %us: killed",
		    conf->accounts.ev_timeout);
	else if (WIFSIGNALED(st))
		snprintf(why, sz, "killed by signal %d", WTERMSIG(st));
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		snprintf(why, sz, "exit status 127 (it could not be run)");
	else if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
		snprintf(why, sz, "exit status %d", WEXITSTATUS(st));
	else if (j->write_failed || j->off < j->len)
		snprintf(why, sz, "it did not read the whole message");
	else
		*ok = true;
	return true;
}

void
irc_mail_tick(void)
{
	struct mail_job **jp, *j;
	char why[128];
	bool ok;

	if (conf->accounts.ev_enabled &&
	    ergo_now - expire_last >= MAIL_EXPIRE_SECS) {
		expire_last = ergo_now;
		(void)store_code_expire(ergo_now);	/* logged */
	}
	for (jp = &jobs; (j = *jp) != NULL; ) {
		if (j->fd != -1)
			job_feed(j);
		if (!j->killed && ergo_now_ms >= j->deadline_ms) {
			(void)kill(-j->pid, SIGKILL);
			(void)kill(j->pid, SIGKILL);
			j->killed = true;
		}
		if (!job_reap(j, &ok, why, sizeof(why))) {
			jp = &j->next;
			continue;
		}
		*jp = j->next;
		njobs--;
		if (j->killed)	/* what it left behind in its group */
			(void)kill(-j->pid, SIGKILL);
		if (j->fd != -1)
			(void)close(j->fd);
		job_done(j, ok, why);
		free(j->msg);
		free(j);
	}
}

/*
 * Shutdown: a program still running is killed with what it started, as
 * at its timeout (it would outlive us, and nobody would hear of it);
 * its registration's code is dropped, so its name is free again.
 */
void
irc_mail_shutdown(void)
{
	struct mail_job *j;

	while ((j = jobs) != NULL) {
		jobs = j->next;
		njobs--;
		(void)kill(-j->pid, SIGKILL);
		(void)kill(j->pid, SIGKILL);
		while (waitpid(j->pid, NULL, 0) == -1 && errno == EINTR)
			;
		if (j->fd != -1)
			(void)close(j->fd);
		j->s = NULL;
		job_done(j, false, "the server is shutting down: killed");
		free(j->msg);
		free(j);
	}
}

int
irc_mail_next_ms(void)
{
	return jobs != NULL ? MAIL_TICK_MS : -1;
}

/* session_free: a job's reply has nobody to go to any more. */
static void
mail_session_free(struct session *s)
{
	struct mail_job *j;

	for (j = jobs; j != NULL; j = j->next)
		if (j->s == s)
			j->s = NULL;
}

void
irc_mail_init(void)
{
	IRC_HOOK_ADD(session_free, mail_session_free);
}

/* ---- registration and VERIFY ---- */

void
irc_mail_register(struct client *c, bool ircv3, const char *name,
    const char *email, const char *pw)
{
	struct store_account a;
	struct mail_job *j;
	char fz[NICKLEN_MAX + 1], code[MAIL_CODE_BYTES * 2 + 1];
	char hash[STORE_CODE_MAX + 1], subject[256], body[1024];
	const char *why;
	int rc;

	if (!address_ok(email)) {
		if (ircv3)
			reg_refused(c, true, name, "INVALID_EMAIL",
			    "A valid e-mail address is required");
		else
			ns_notice(c, "Registration requires a valid e-mail "
			    "address");
		return;
	}
	irc_fold(fz, name, sizeof(fz));
	switch (irc_account_reg_admit(c, fz)) {
	case REG_OK:
		break;
	case REG_EXISTS:
		reg_refused(c, ircv3, name, "ACCOUNT_EXISTS",
		    "Account already exists");
		return;
	case REG_THROTTLED:
		reg_refused(c, ircv3, name, "TEMPORARILY_UNAVAILABLE",
		    "Too many accounts were registered from your address; "
		    "try again later");
		return;
	case REG_DEFCON:
		reg_refused(c, ircv3, name, "TEMPORARILY_UNAVAILABLE",
		    "Account registration is temporarily disabled");
		return;
	default:
		reg_refused(c, ircv3, name, "TEMPORARILY_UNAVAILABLE",
		    "The account database failed; nothing was saved");
		return;
	}
	if (njobs >= conf->accounts.ev_max_running || code_make(code) == -1) {
		reg_refused(c, ircv3, name, "TEMPORARILY_UNAVAILABLE",
		    "Could not dispatch registration e-mail; try again later");
		return;
	}
	code_hash(code, hash);
	memset(&a, 0, sizeof(a));
	snprintf(a.name, sizeof(a.name), "%s", name);
	snprintf(a.email, sizeof(a.email), "%s", email);
	irc_account_creds(&a, pw);
	rc = store_code_put('v', fz, &a, hash, ergo_now,
	    ergo_now + (time_t)conf->accounts.verify_timeout);
	if (rc != 0) {
		reg_refused(c, ircv3, name, rc == 1 ? "ACCOUNT_EXISTS" :
		    "TEMPORARILY_UNAVAILABLE", rc == 1 ? "Account already "
		    "exists" : "The account database failed; nothing was "
		    "saved");
		return;
	}
	if (conf->accounts.ev_subject[0] != '\0')
		snprintf(subject, sizeof(subject), "%s",
		    conf->accounts.ev_subject);
	else
		snprintf(subject, sizeof(subject), "Verify your account on %s",
		    conf->server_name);
	snprintf(body, sizeof(body), "Account: %s\nVerification code: %s\n\n"
	    "To verify your account, issue the following command:\n"
	    "/MSG NickServ VERIFY %s %s\n", name, code, name, code);
	if ((j = job_start(email, subject, body, &why)) == NULL) {
		(void)store_code_del('v', fz);
		reg_refused(c, ircv3, name, "TEMPORARILY_UNAVAILABLE",
		    "Could not dispatch registration e-mail");
		return;
	}
	j->kind = JOB_REGISTER;
	j->ircv3 = ircv3;
	j->s = c->cur;
	snprintf(j->name, sizeof(j->name), "%s", name);
	snprintf(j->folded, sizeof(j->folded), "%s", fz);
	snprintf(j->email, sizeof(j->email), "%s", email);
	log_info("accounts", "%s registered account %s, pending verification",
	    irc_prefix(c), name);
}

void
irc_mail_verify(struct client *c, bool ircv3, const char *account,
    const char *code)
{
	struct store_account a, o;
	char fz[NICKLEN_MAX + 1], stored[STORE_CODE_MAX + 1];
	time_t created;
	int rc;

	if (c->account != NULL) {
		verify_refused(c, ircv3, c->account, "ALREADY_AUTHENTICATED",
		    "You're already logged into an account");
		return;
	}
	if (!irc_nick_valid(account)) {
		verify_refused(c, ircv3, "*", "INVALID_CODE",
		    "Invalid account verification code");
		return;
	}
	irc_fold(fz, account, sizeof(fz));
	if (irc_auth_throttled(c, fz)) {
		verify_refused(c, ircv3, account, "TEMPORARILY_UNAVAILABLE",
		    "Too many failed attempts; try again later");
		return;
	}
	rc = store_code_get('v', fz, ergo_now, &a, stored, sizeof(stored),
	    &created);
	if (rc == -1) {
		verify_refused(c, ircv3, account, "TEMPORARILY_UNAVAILABLE",
		    "The account database failed; try again later");
		return;
	}
	if (rc == 0 && store_account_get(fz, &o) == 1) {
		verify_refused(c, ircv3, o.name, "INVALID_CODE",
		    "Account is already verified");
		return;
	}
	if (rc == 0 || !code_matches(code, stored)) {
		irc_auth_failed(c, fz);
		verify_refused(c, ircv3, account, "INVALID_CODE",
		    "Invalid account verification code");
		return;
	}
	a.registered = ergo_now;
	switch (store_account_create(fz, &a)) {
	case 0:
		break;
	case 1:
		(void)store_code_del('v', fz);
		verify_refused(c, ircv3, a.name, "ACCOUNT_EXISTS",
		    "Account already exists");
		return;
	default:
		verify_refused(c, ircv3, a.name, "TEMPORARILY_UNAVAILABLE",
		    "The account database failed; nothing was saved");
		return;
	}
	(void)store_code_del('v', fz);	/* logged; it expires anyway */
	log_info("accounts", "%s verified account %s", irc_prefix(c), a.name);
	if (ircv3) {
		irc_send(c, ":%s VERIFY SUCCESS %s :Account successfully "
		    "registered", conf->server_name, a.name);
		irc_account_login(c, &a);
	} else {
		ns_notice(c, "Account created");
		irc_account_login(c, &a);
		ns_notice(c, "You're now logged in as %s", a.name);
	}
}

/* ---- NickServ ---- */

/* VERIFY <account> <code> */
void
irc_mail_ns_verify(struct client *c, int argc, char **argv)
{
	if (!conf->accounts.registration) {
		ns_notice(c, "Account registration is disabled");
		return;
	}
	if (argc < 2) {
		ns_notice(c, "Syntax: VERIFY <username> <code>");
		return;
	}
	irc_mail_verify(c, false, argv[0], argv[1]);
}

static bool
reset_enabled(struct client *c)
{
	if (conf->accounts.ev_enabled && conf->accounts.pr_enabled)
		return true;
	ns_notice(c, "This command has been disabled by the server "
	    "administrators");
	return false;
}

/* SENDPASS <account> */
void
irc_mail_ns_sendpass(struct client *c, int argc, char **argv)
{
	uint64_t window = (uint64_t)conf->accounts.login_throttle_secs * 1000;
	struct store_account a, r;
	struct mail_job *j;
	char fz[NICKLEN_MAX + 1], ak[NET_ADDRKEY_LEN], key[80];
	char code[MAIL_CODE_BYTES * 2 + 1], hash[STORE_CODE_MAX + 1];
	char subject[256], body[1024];
	const char *why;
	time_t created;
	int rc;

	if (!reset_enabled(c))
		return;
	if (argc < 1) {
		ns_notice(c, "Syntax: SENDPASS <account>");
		return;
	}
	/* each request counts against the address, found or not, so a
	 * flood of them sends no flood of mail */
	net_ip_key(irc_client_ip(c) != NULL ? irc_client_ip(c) : c->host, ak,
	    sizeof(ak));
	snprintf(key, sizeof(key), "sendpass:%s", ak);
	if (irc_throttle_full(THROTTLE_AUTH, key,
	    conf->accounts.login_throttle_max, window)) {
		ns_notice(c, "Try again later");
		return;
	}
	irc_throttle_count(THROTTLE_AUTH, key, window);
	irc_fold(fz, argv[0], sizeof(fz));
	if (!irc_nick_valid(argv[0]) ||
	    (rc = store_account_get(fz, &a)) == 0) {
		ns_notice(c, "Account does not exist");
		return;
	}
	if (rc == -1) {
		ns_notice(c, "An error occurred");
		return;
	}
	if (irc_account_suspended(&a)) {
		ns_notice(c, "Account has been suspended");
		return;
	}
	if (a.email[0] == '\0' || !address_ok(a.email)) {
		ns_notice(c, "That account is not associated with an email "
		    "address");
		return;
	}
	rc = store_code_get('r', fz, ergo_now, &r, hash, sizeof(hash),
	    &created);
	if (rc == -1 || (rc == 1 && r.id == a.id && created +
	    (time_t)conf->accounts.pr_cooldown > ergo_now) ||
	    njobs >= conf->accounts.ev_max_running ||
	    code_make(code) == -1) {
		ns_notice(c, "Try again later");
		return;
	}
	code_hash(code, hash);
	(void)store_code_del('r', fz);
	if (store_code_put('r', fz, &a, hash, ergo_now,
	    ergo_now + (time_t)conf->accounts.pr_timeout) != 0) {
		ns_notice(c, "An error occurred");
		return;
	}
	snprintf(subject, sizeof(subject), "Reset your password on %s",
	    conf->server_name);
	snprintf(body, sizeof(body), "We received a request to reset your "
	    "password on %s for account: %s\nIf you did not initiate this "
	    "request, you can safely ignore this message.\n\nOtherwise, to "
	    "reset your password, issue the following command (replace "
	    "`new_password` with your desired password):\n"
	    "/MSG NickServ RESETPASS %s %s new_password\n",
	    conf->server_name, a.name, a.name, code);
	if ((j = job_start(a.email, subject, body, &why)) == NULL) {
		(void)store_code_del('r', fz);
		ns_notice(c, "Could not dispatch password reset e-mail");
		return;
	}
	j->kind = JOB_RESET;
	j->s = c->cur;
	snprintf(j->name, sizeof(j->name), "%s", a.name);
	snprintf(j->folded, sizeof(j->folded), "%s", fz);
	snprintf(j->email, sizeof(j->email), "%s", a.email);
	log_info("accounts", "%s asked for a password reset of account %s",
	    irc_prefix(c), a.name);
}

/* RESETPASS <account> <code> <password> */
void
irc_mail_ns_resetpass(struct client *c, int argc, char **argv)
{
	struct store_account a, r;
	char fz[NICKLEN_MAX + 1], stored[STORE_CODE_MAX + 1];
	const char *bad;
	time_t created;
	bool weak;
	int rc;

	if (!reset_enabled(c))
		return;
	if (argc < 3) {
		ns_notice(c, "Syntax: RESETPASS <account> <code> <password>");
		return;
	}
	if (!irc_nick_valid(argv[0])) {
		ns_notice(c, "Account does not exist");
		return;
	}
	irc_fold(fz, argv[0], sizeof(fz));
	if (irc_auth_throttled(c, fz)) {
		ns_notice(c, "Too many failed login attempts; try again later");
		return;
	}
	if ((bad = irc_account_password_bad(argv[0], argv[2], &weak)) != NULL) {
		ns_notice(c, "Invalid password: %s", bad);
		return;
	}
	if ((rc = store_account_get(fz, &a)) != 1) {
		ns_notice(c, rc == 0 ? "Account does not exist" :
		    "An error occurred");
		return;
	}
	if (irc_account_suspended(&a)) {
		ns_notice(c, "Account has been suspended");
		return;
	}
	rc = store_code_get('r', fz, ergo_now, &r, stored, sizeof(stored),
	    &created);
	if (rc == -1) {
		ns_notice(c, "An error occurred");
		return;
	}
	if (rc == 0 || r.id != a.id || !code_matches(argv[1], stored)) {
		irc_auth_failed(c, fz);
		ns_notice(c, "Code did not match");
		return;
	}
	irc_account_creds(&a, argv[2]);
	if (store_account_passwd(&a) == -1) {
		ns_notice(c, "An error occurred");
		return;
	}
	(void)store_code_del('r', fz);	/* logged; it expires anyway */
	log_info("accounts", "%s reset the password of account %s by mail",
	    irc_prefix(c), a.name);
	ns_notice(c, "Successfully reset account password");
}
