/*
 * unit_conf.c: the config parser (every value type, blocks, labels,
 * quoting, comments, each error with its exact LINE:COL, error
 * collection, ERGO__ overrides, defaults) and conf_passwd.c (PBKDF2
 * vectors, base64, hash and verify). Prints "ok NAME" or "FAIL NAME: why".
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ergo.h"
#include "log.h"
#include "conf.h"
#include "util.h"
#include "store.h"

#include "unit.h"

/* conf_passwd.c, until ergo.h declares them (NEEDS-HEADER there). */
bool	 conf_passwd_check(const char *hash);
void	 conf_passwd_pbkdf2(const void *pw, size_t pwlen, const void *salt,
	    size_t saltlen, unsigned iter, void *out, size_t outlen);
size_t	 util_b64_encode(char *dst, size_t dstsz, const void *src,
	    size_t len, bool pad);
size_t	 util_b64_decode(void *dst, size_t dstsz, const char *src,
	    size_t len);

extern char **environ;

static char	 dir[] = "/tmp/unit_conf.XXXXXX";
static char	*hash_pw;	/* conf_passwd_hash("secret", 1) */

static void
write_file(const char *name, const char *text)
{
	FILE *f;

	if ((f = fopen(name, "w")) == NULL) {
		perror(name);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
}

/* text as t.conf (relative, so messages say "t.conf:L:C"). */
static struct conf *
load(const char *text, char **errs)
{
	write_file("t.conf", text);
	return conf_load("t.conf", errs);
}

/* The whole error output of text must be exactly want. */
static void
expect_errs(const char *name, const char *text, const char *want)
{
	struct conf *c;
	char *errs = NULL;

	c = load(text, &errs);
	if (c != NULL) {
		conf_free(c);
		result(name, "config accepted");
	} else if (errs == NULL)
		result(name, "NULL errs");
	else if (strcmp(errs, want) != 0) {
		snprintf(why, sizeof(why), "got\n%s---- want\n%s", errs,
		    want);
		result(name, why);
	} else
		result(name, NULL);
	free(errs);
}

/* The config must load; returns it (or NULL, reported). */
static struct conf *
expect_ok(const char *name, const char *text)
{
	struct conf *c;
	char *errs = NULL;

	if ((c = load(text, &errs)) == NULL) {
		snprintf(why, sizeof(why), "rejected:\n%s",
		    errs ? errs : "(NULL errs)");
		result(name, why);
	}
	free(errs);
	return c;
}

static bool
streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* NULL if a and b hold the same settings (path aside), else why not. */
static const char *
conf_diff(const struct conf *a, const struct conf *b)
{
	const struct listen_conf *la, *lb;
	const struct oper_conf *oa, *ob;

	REQUIRE(streq(a->network_name, b->network_name));
	REQUIRE(streq(a->server_name, b->server_name));
	REQUIRE(streq(a->server_info, b->server_info));
	REQUIRE(streq(a->motd, b->motd));
	REQUIRE(streq(a->password, b->password));
	REQUIRE(a->casemapping == b->casemapping);
	REQUIRE(a->max_sendq == b->max_sendq);
	REQUIRE(a->max_clients == b->max_clients);
	REQUIRE(a->max_per_ip == b->max_per_ip);
	REQUIRE(a->reg_timeout == b->reg_timeout);
	REQUIRE(a->idle_timeout == b->idle_timeout);
	REQUIRE(a->ping_timeout == b->ping_timeout);
	REQUIRE(a->fakelag.enabled == b->fakelag.enabled);
	REQUIRE(a->fakelag.window_ms == b->fakelag.window_ms);
	REQUIRE(a->fakelag.burst_limit == b->fakelag.burst_limit);
	REQUIRE(a->fakelag.messages_per_window ==
	    b->fakelag.messages_per_window);
	REQUIRE(a->fakelag.cooldown_ms == b->fakelag.cooldown_ms);
	REQUIRE(a->fakelag.max_recvq == b->fakelag.max_recvq);
	REQUIRE(streq(a->default_modes, b->default_modes));
	REQUIRE(a->chan_max_per_user == b->chan_max_per_user);
	REQUIRE(a->chan_max_list == b->chan_max_list);
	REQUIRE(memcmp(&a->limits, &b->limits, sizeof(a->limits)) == 0);
	REQUIRE(a->logs->method == b->logs->method);
	REQUIRE(streq(a->logs->path, b->logs->path));
	REQUIRE(a->logs->level == b->logs->level);
	REQUIRE(streq(a->datastore_path, b->datastore_path));
	REQUIRE(streq(a->admin_loc1, b->admin_loc1));
	REQUIRE(streq(a->admin_loc2, b->admin_loc2));
	REQUIRE(streq(a->admin_email, b->admin_email));
	for (la = a->listens, lb = b->listens; la && lb;
	    la = la->next, lb = lb->next) {
		REQUIRE(streq(la->text, lb->text));
		REQUIRE(la->sslen == lb->sslen);
		REQUIRE(memcmp(&la->ss, &lb->ss, la->sslen) == 0);
		REQUIRE(la->tls == lb->tls);
		REQUIRE(streq(la->cert, lb->cert));
		REQUIRE(streq(la->key, lb->key));
	}
	REQUIRE(la == NULL && lb == NULL);
	for (oa = a->opers, ob = b->opers; oa && ob;
	    oa = oa->next, ob = ob->next) {
		REQUIRE(streq(oa->name, ob->name));
		REQUIRE(streq(oa->class, ob->class));
		REQUIRE(streq(oa->password, ob->password));
	}
	REQUIRE(oa == NULL && ob == NULL);
	return NULL;
}

static unsigned
nlisten(const struct conf *c)
{
	const struct listen_conf *l;
	unsigned n = 0;

	for (l = c->listens; l != NULL; l = l->next)
		n++;
	return n;
}

static const struct listen_conf *
listen_nth(const struct conf *c, unsigned i)
{
	const struct listen_conf *l = c->listens;

	while (l != NULL && i-- > 0)
		l = l->next;
	return l;
}

/* ---- defaults ---- */

static const char *
check_builtin_defaults(const struct conf *c)
{
	REQUIRE(c->path == NULL);
	REQUIRE(streq(c->network_name, "ErgoNet"));
	REQUIRE(streq(c->server_name, "ergo.test"));
	REQUIRE(streq(c->server_info, "ergo IRC server"));
	REQUIRE(nlisten(c) == 2);
	REQUIRE(streq(listen_nth(c, 0)->text, "127.0.0.1:6667"));
	REQUIRE(listen_nth(c, 0)->ss.ss_family == AF_INET);
	REQUIRE(streq(listen_nth(c, 1)->text, "[::1]:6667"));
	REQUIRE(listen_nth(c, 1)->ss.ss_family == AF_INET6);
	REQUIRE(!listen_nth(c, 0)->tls && !listen_nth(c, 1)->tls);
	REQUIRE(c->motd == NULL && c->password == NULL);
	REQUIRE(c->casemapping == CASEMAP_ASCII);
	REQUIRE(c->max_sendq == 96 * 1024);
	REQUIRE(c->max_clients == 10000 && c->max_per_ip == 16);
	REQUIRE(c->reg_timeout == 60 && c->idle_timeout == 90 &&
	    c->ping_timeout == 60);
	REQUIRE(c->fakelag.enabled && c->fakelag.window_ms == 1000 &&
	    c->fakelag.burst_limit == 5 &&
	    c->fakelag.messages_per_window == 2 &&
	    c->fakelag.cooldown_ms == 2000 &&
	    c->fakelag.max_recvq == 16 * 1024);
	REQUIRE(streq(c->default_modes, "+nt"));
	REQUIRE(c->chan_max_per_user == 100 && c->chan_max_list == 100);
	REQUIRE(c->limits.nicklen == 32 && c->limits.identlen == 20 &&
	    c->limits.channellen == 64 && c->limits.topiclen == 390 &&
	    c->limits.awaylen == 390 && c->limits.kicklen == 390 &&
	    c->limits.realnamelen == 150 && c->limits.whowas == 100 &&
	    c->limits.targmax == 4);
	REQUIRE(c->opers == NULL);
	REQUIRE(c->logs->method == LOGM_STDERR && c->logs->path == NULL &&
	    c->logs->level == LL_INFO);
	REQUIRE(streq(c->datastore_path, "ircd.db"));
	REQUIRE(streq(c->admin_loc1, "ergo server"));
	REQUIRE(streq(c->admin_loc2, ""));
	REQUIRE(streq(c->admin_email, "root@localhost"));
	return NULL;
}

static void
test_defaults(void)
{
	struct conf *d, *t;
	char *errs = NULL;
	const char *text = conf_default_text(), *w;
	size_t n = strlen(text);

	if ((d = conf_load(NULL, &errs)) == NULL) {
		result("builtin_defaults", errs);
		free(errs);
		return;
	}
	result("builtin_defaults", check_builtin_defaults(d));
	result("default_text_is_stable", text == conf_default_text() &&
	    strlen(conf_default_text()) == n ? NULL : "changed");
	result("default_text_not_truncated", n > 1000 && n < 32000 &&
	    strcmp(text + n - 4, "# }\n") == 0 ? NULL : "bad ending");
	{
		static const char *keys[] = { "name ErgoNet", "name ergo.test",
		    "info \"ergo IRC server\"", "listen 127.0.0.1:6667",
		    "listen [::1]:6667", "# listen :6697 { tls {",
		    "# motd ergo.motd", "casemapping ascii", "max-sendq 96k",
		    "max-clients 10000", "max-per-ip 16", "registration 60s",
		    "idle 90s", "ping 60s", "enabled yes", "window 1s",
		    "burst-limit 5", "messages-per-window 2", "cooldown 2s",
		    "max-recvq 16k", "location1 \"ergo server\"",
		    "location2 \"\"", "email root@localhost", "path ircd.db",
		    "method stderr", "# path ergo.log", "level info",
		    "# logging { method file", "default-modes +nt",
		    "max-per-user 100", "max-list-entries 100", "nicklen 32",
		    "identlen 20", "channellen 64", "topiclen 390",
		    "awaylen 390", "kicklen 390", "realnamelen 150",
		    "whowas-entries 100", "targmax 4", "# oper admin {",
		    "# \tpassword \"$pbkdf2-sha256$", NULL };
		const char **k;

		w = NULL;
		for (k = keys; *k != NULL; k++)
			if (strstr(text, *k) == NULL) {
				snprintf(why, sizeof(why), "missing %s", *k);
				w = why;
				break;
			}
		result("default_text_documents_every_key", w);
	}
	if ((t = load(text, &errs)) == NULL) {
		result("default_text_parses_to_defaults", errs);
		free(errs);
	} else {
		result("default_text_parses_to_defaults", conf_diff(d, t));
		result("conf_path_kept", streq(t->path, "t.conf") ? NULL :
		    t->path);
		conf_free(t);
	}
	conf_free(d);
	/* an empty file is the defaults too */
	if ((t = load("", &errs)) == NULL) {
		result("empty_file_is_defaults", errs);
		free(errs);
	} else {
		d = conf_load(NULL, NULL);
		result("empty_file_is_defaults", conf_diff(d, t));
		conf_free(d);
		conf_free(t);
	}
}

/* ---- values, blocks, labels ---- */

static const char *
check_every_type(const struct conf *c)
{
	const struct listen_conf *l;
	const struct oper_conf *o;

	REQUIRE(streq(c->network_name, "TestNet"));
	REQUIRE(streq(c->server_name, "irc.example.org"));
	REQUIRE(streq(c->server_info, "My \"best\" server \\ # here"));
	REQUIRE(nlisten(c) == 5);
	l = listen_nth(c, 0);
	REQUIRE(streq(l->text, "127.0.0.1:0") && l->ss.ss_family == AF_INET);
	l = listen_nth(c, 1);
	REQUIRE(streq(l->text, "[::1]:7000") && l->ss.ss_family == AF_INET6);
	l = listen_nth(c, 2);
	REQUIRE(streq(l->text, "0.0.0.0:7001") && l->ss.ss_family == AF_INET);
	l = listen_nth(c, 3);
	REQUIRE(streq(l->text, "[::]:7001") && l->ss.ss_family == AF_INET6);
	l = listen_nth(c, 4);
	REQUIRE(streq(l->text, "127.0.0.1:6697") && l->tls);
	REQUIRE(streq(l->cert, "sub/certs/full.pem"));
	REQUIRE(streq(l->key, "/abs/key.pem"));
	REQUIRE(!listen_nth(c, 0)->tls && listen_nth(c, 0)->cert == NULL);
	REQUIRE(streq(c->motd, "sub/ergo.motd"));
	REQUIRE(streq(c->password, hash_pw));
	REQUIRE(c->casemapping == CASEMAP_RFC1459);
	REQUIRE(c->max_sendq == 1024 * 1024);
	REQUIRE(c->max_clients == 0 && c->max_per_ip == 0);
	REQUIRE(c->reg_timeout == 90 && c->idle_timeout == 7200 &&
	    c->ping_timeout == 45);
	REQUIRE(!c->fakelag.enabled && c->fakelag.window_ms == 500 &&
	    c->fakelag.burst_limit == 10 &&
	    c->fakelag.messages_per_window == 3 &&
	    c->fakelag.cooldown_ms == 60000 &&
	    c->fakelag.max_recvq == 2048);
	REQUIRE(streq(c->admin_loc1, "Somewhere"));
	REQUIRE(streq(c->admin_loc2, ""));
	REQUIRE(streq(c->admin_email, "ops@example.org"));
	REQUIRE(streq(c->datastore_path, "data/ircd.db"));	/* cwd-relative */
	REQUIRE(c->logs->method == LOGM_FILE && c->logs->level == LL_DEBUG);
	REQUIRE(streq(c->logs->path, "log/ergo.log"));		/* cwd-relative */
	REQUIRE(streq(c->default_modes, "+nst"));
	REQUIRE(c->chan_max_per_user == 20 && c->chan_max_list == 50);
	REQUIRE(c->limits.nicklen == 30 && c->limits.identlen == 10 &&
	    c->limits.channellen == 50 && c->limits.topiclen == 300 &&
	    c->limits.awaylen == 200 && c->limits.kicklen == 250 &&
	    c->limits.realnamelen == 100 && c->limits.whowas == 0 &&
	    c->limits.targmax == 8);
	o = c->opers;
	REQUIRE(o != NULL && streq(o->name, "admin") &&
	    streq(o->class, "server-admin") && streq(o->password, hash_pw));
	o = o->next;
	REQUIRE(o != NULL && streq(o->name, "root") &&
	    streq(o->class, "netadmin") && streq(o->password, hash_pw));
	REQUIRE(o->next == NULL);
	return NULL;
}

static void
test_every_type(void)
{
	char text[4096], *errs = NULL;
	struct conf *c;

	snprintf(text, sizeof(text),
	    "# a full-line comment\n"
	    "network { name TestNet }   # a trailing comment\n"
	    "server {\n"
	    "    name irc.example.org\n"
	    "    info \"My \\\"best\\\" server \\\\ # here\"\n"
	    "    listen 127.0.0.1:0\n"
	    "    listen [::1]:7000\n"
	    "    listen :7001\n"
	    "    listen 127.0.0.1:6697 { tls { cert certs/full.pem  key "
	    "/abs/key.pem } }\n"
	    "    motd ergo.motd\n"
	    "    password \"%s\"\n"
	    "    casemapping RFC1459\n"
	    "    max-sendq 1M\n"
	    "    max-clients 0\n"
	    "    connection-limits { max-per-ip 0 }\n"
	    "    timeouts { registration 1m30s  idle 2h  ping 45 }\n"
	    "    fakelag {\n"
	    "        enabled no  window 500ms  burst-limit 10\n"
	    "        messages-per-window 3  cooldown 1m  max-recvq 2048\n"
	    "    }\n"
	    "}\n"
	    "admin { location1 Somewhere  location2 \"\"  email "
	    "ops@example.org }\n"
	    "datastore { path data/ircd.db }\n"
	    "logging { method file  path log/ergo.log  level debug }\n"
	    "channels { default-modes +nst  max-per-user 20  "
	    "max-list-entries 50 }\n"
	    "limits { nicklen 30  identlen 10  channellen 50  topiclen 300 "
	    " awaylen 200  kicklen 250  realnamelen 100  whowas-entries 0  "
	    "targmax 8 }\n"
	    "oper admin { class server-admin  password \"%s\" }\n"
	    "oper \"root\" {\n"
	    "\tclass netadmin\n"
	    "\tpassword %s\n"
	    "}\n", hash_pw, hash_pw, hash_pw);
	(void)mkdir("sub", 0755);
	write_file("sub/t.conf", text);
	if ((c = conf_load("sub/t.conf", &errs)) == NULL) {
		snprintf(why, sizeof(why), "rejected:\n%s", errs);
		result("every_type", why);
	} else {
		result("every_type", check_every_type(c));
		conf_free(c);
	}
	free(errs);
}

static void
test_values(void)
{
	struct conf *c;
	size_t i;
	static const struct {
		const char *v;
		bool b;
	} bools[] = { { "yes", true }, { "no", false }, { "true", true },
	    { "false", false }, { "on", true }, { "off", false },
	    { "YES", true }, { "No", false } };
	static const struct {
		const char *v;
		unsigned secs;
	} durs[] = { { "90", 90 }, { "30s", 30 }, { "2m", 120 },
	    { "1h30m", 5400 }, { "1d", 86400 }, { "1m30s", 90 },
	    { "1000ms", 1 }, { "0h5s", 5 } };
	static const struct {
		const char *v;
		size_t n;
	} sizes[] = { { "1024", 1024 }, { "96k", 98304 }, { "96K", 98304 },
	    { "1m", 1048576 }, { "64m", 67108864 }, { "2000", 2000 } };
	char text[256], name[64];

	for (i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		snprintf(text, sizeof(text), "server { fakelag { enabled %s }"
		    " }\n", bools[i].v);
		snprintf(name, sizeof(name), "bool_%s", bools[i].v);
		if ((c = expect_ok(name, text)) != NULL) {
			result(name, c->fakelag.enabled == bools[i].b ? NULL :
			    "wrong value");
			conf_free(c);
		}
	}
	for (i = 0; i < sizeof(durs) / sizeof(durs[0]); i++) {
		snprintf(text, sizeof(text), "server { timeouts { ping %s } }"
		    "\n", durs[i].v);
		snprintf(name, sizeof(name), "duration_%s", durs[i].v);
		if ((c = expect_ok(name, text)) != NULL) {
			result(name, c->ping_timeout == durs[i].secs ? NULL :
			    "wrong value");
			conf_free(c);
		}
	}
	if ((c = expect_ok("duration_ms", "server { fakelag { window 250ms "
	    " cooldown 1m1s } }\n")) != NULL) {
		result("duration_ms", c->fakelag.window_ms == 250 &&
		    c->fakelag.cooldown_ms == 61000 ? NULL : "wrong value");
		conf_free(c);
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		snprintf(text, sizeof(text), "server { max-sendq %s }\n",
		    sizes[i].v);
		snprintf(name, sizeof(name), "size_%s", sizes[i].v);
		if ((c = expect_ok(name, text)) != NULL) {
			result(name, c->max_sendq == sizes[i].n ? NULL :
			    "wrong value");
			conf_free(c);
		}
	}
	if ((c = expect_ok("crlf_line_endings", "server {\r\n  name a.b\r\n"
	    "  info \"x y\"\r\n}\r\n")) != NULL) {
		result("crlf_line_endings", streq(c->server_name, "a.b") &&
		    streq(c->server_info, "x y") ? NULL : "wrong value");
		conf_free(c);
	}
	if ((c = expect_ok("hash_inside_word_is_not_a_comment",
	    "admin { email a#b  location1 \"#x\" }  #c\n")) != NULL) {
		result("hash_inside_word_is_not_a_comment",
		    streq(c->admin_email, "a#b") &&
		    streq(c->admin_loc1, "#x") ? NULL : "wrong value");
		conf_free(c);
	}
	if ((c = expect_ok("block_brace_on_later_statement_line",
	    "server { name a.b\n  info x }\nlimits {\n}\n")) != NULL) {
		result("block_brace_on_later_statement_line",
		    streq(c->server_info, "x") ? NULL : "wrong value");
		conf_free(c);
	}
	if ((c = expect_ok("brace_on_next_line",
	    "server\n{\n  name a.b\n}\noper x\n{\n class c\n password "
	    "\"$pbkdf2-sha256$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAA"
	    "AAAAAAAAAAAAAAAAAAAAAA\"\n}\n")) != NULL) {
		result("brace_on_next_line", streq(c->server_name, "a.b") &&
		    c->opers != NULL ? NULL : "wrong value");
		conf_free(c);
	}
	if ((c = expect_ok("listen_port_zero_may_repeat",
	    "server { listen 127.0.0.1:0\n listen 127.0.0.1:0 }\n")) != NULL) {
		result("listen_port_zero_may_repeat", nlisten(c) == 2 ? NULL :
		    "not two");
		conf_free(c);
	}
	if ((c = expect_ok("listen_replaces_defaults",
	    "server { listen [::1]:7 }\n")) != NULL) {
		result("listen_replaces_defaults", nlisten(c) == 1 &&
		    streq(c->listens->text, "[::1]:7") ? NULL : "wrong list");
		conf_free(c);
	}
	if ((c = expect_ok("quoted_values", "network { name \"Q\" }\n"
	    "server { listen \"127.0.0.1:1\"  casemapping \"ascii\" }\n"))
	    != NULL) {
		result("quoted_values", streq(c->network_name, "Q") &&
		    nlisten(c) == 1 ? NULL : "wrong value");
		conf_free(c);
	}
	if ((c = expect_ok("oper_label_quoted", "oper \"x\" { class c "
	    " password \"$pbkdf2-sha256$1$AAAAAAAAAAAAAAAAAAAAAA$"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\" }\n")) != NULL) {
		result("oper_label_quoted", c->opers != NULL &&
		    streq(c->opers->name, "x") ? NULL : "no oper");
		conf_free(c);
	}
	if ((c = expect_ok("utf8_in_strings", "admin { location1 "
	    "\"K\xc3\xb8" "benhavn\" }\n")) != NULL) {
		result("utf8_in_strings", streq(c->admin_loc1,
		    "K\xc3\xb8" "benhavn") ? NULL : "wrong value");
		conf_free(c);
	}
}

/* ---- errors, each with its exact position ---- */

static void
test_errors(void)
{
	expect_errs("err_unknown_key",
	    "server {\n    foo bar\n}\n",
	    "t.conf:2:5: unknown key \"foo\" in block server\n");
	expect_errs("err_unknown_key_suggests",
	    "server {\n    nmae a.b\n}\n",
	    "t.conf:2:5: unknown key \"nmae\" in block server; did you mean "
	    "\"name\"?\n");
	expect_errs("err_unknown_top_level",
	    "bogus-block { registration yes }\n",
	    "t.conf:1:1: unknown key \"bogus-block\" at top level\n");
	expect_errs("err_unknown_nested",
	    "server {\n  fakelag { enabled no  bogus 1 }\n}\n",
	    "t.conf:2:25: unknown key \"bogus\" in block server.fakelag\n");
	expect_errs("err_bad_size",
	    "server {\n    max-sendq 96q\n}\n",
	    "t.conf:2:15: expected a size like 96k\n");
	expect_errs("err_size_range",
	    "server { max-sendq 512 }\n",
	    "t.conf:1:20: max-sendq must be between 1k and 64m\n");
	expect_errs("err_bad_duration",
	    "server { timeouts { ping 10x } }\n",
	    "t.conf:1:26: expected a duration like 30s, 2m or 1h30m\n");
	expect_errs("err_duration_whole_seconds",
	    "server { timeouts { idle 1500ms } }\n",
	    "t.conf:1:26: idle takes whole seconds, like 60s\n");
	expect_errs("err_duration_range",
	    "server { timeouts { registration 2d } }\n",
	    "t.conf:1:34: registration must be between 1s and 24h\n");
	expect_errs("err_bad_bool",
	    "server {\n\tfakelag {\n\t\tenabled maybe\n\t}\n}\n",
	    "t.conf:3:11: expected yes or no\n");
	expect_errs("err_bad_number",
	    "limits { nicklen 3x }\n",
	    "t.conf:1:18: expected a whole number\n");
	expect_errs("err_number_range",
	    "limits { nicklen 0 }\n",
	    "t.conf:1:18: nicklen must be between 1 and 64\n");
	expect_errs("err_negative_number",
	    "limits { targmax -1 }\n",
	    "t.conf:1:18: expected a whole number\n");
	expect_errs("err_bad_casemapping",
	    "server { casemapping utf8 }\n",
	    "t.conf:1:22: expected one of: ascii, rfc1459, precis\n");
	expect_errs("err_bad_level",
	    "logging { level loud }\n",
	    "t.conf:1:17: expected one of: debug, info, warn, error\n");
	expect_errs("err_unterminated_string",
	    "server {\n  info \"abc\n}\n",
	    "t.conf:2:8: unterminated string: the closing '\"' must be on "
	    "the same line\n");
	expect_errs("err_unterminated_string_at_eof",
	    "admin { email \"abc",
	    "t.conf:1:1: unterminated block \"admin\" opened here: missing "
	    "'}'\n"
	    "t.conf:1:15: unterminated string: the closing '\"' must be on "
	    "the same line\n");
	expect_errs("err_bad_escape",
	    "admin { email \"a\\nb\" }\n",
	    "t.conf:1:17: unknown escape \\n in a string: only \\\" and \\\\ "
	    "are allowed\n");
	expect_errs("err_missing_brace",
	    "network { name X }\nserver {\n  name a.b\n",
	    "t.conf:2:1: unterminated block \"server\" opened here: missing "
	    "'}'\n");
	expect_errs("err_missing_brace_nested",
	    "server {\n  fakelag {\n    enabled no\n}\n",
	    "t.conf:1:1: unterminated block \"server\" opened here: missing "
	    "'}'\n");
	expect_errs("err_stray_close_brace",
	    "limits { nicklen 9 }\n}\n",
	    "t.conf:2:1: unexpected '}': no block is open\n");
	expect_errs("err_duplicate_key",
	    "server {\n  name a.b\n  name c.d\n}\n",
	    "t.conf:3:3: duplicate key \"name\" in block server (first at "
	    "line 2)\n");
	expect_errs("err_duplicate_block",
	    "limits { nicklen 9 }\nlimits { topiclen 9 }\n",
	    "t.conf:2:1: duplicate block \"limits\" at top level (first at "
	    "line 1)\n");
	expect_errs("err_duplicate_listen",
	    "server {\n  listen 127.0.0.1:6667\n  listen 127.0.0.1:6667\n}\n",
	    "t.conf:3:10: duplicate listen address 127.0.0.1:6667 (first at "
	    "line 2)\n");
	expect_errs("err_duplicate_listen_any",
	    "server {\n  listen :7000\n  listen [::]:7000\n}\n",
	    "t.conf:3:10: duplicate listen address [::]:7000 (first at "
	    "line 2)\n");
	expect_errs("err_listen_hostname",
	    "server { listen localhost:6667 }\n",
	    "t.conf:1:17: expected a numeric address, not a hostname: "
	    "localhost\n");
	expect_errs("err_listen_no_port",
	    "server { listen 127.0.0.1 }\n",
	    "t.conf:1:17: expected host:port, like 127.0.0.1:6667 or :6667\n");
	expect_errs("err_listen_bad_port",
	    "server { listen 127.0.0.1:65536 }\n",
	    "t.conf:1:17: expected a port number (0-65535) after ':' in "
	    "127.0.0.1:65536\n");
	expect_errs("err_listen_v6_needs_brackets",
	    "server { listen ::1:6667 }\n",
	    "t.conf:1:17: an IPv6 address needs brackets, like [::1]:6667\n");
	expect_errs("err_listen_bad_v6",
	    "server { listen [::g]:6667 }\n",
	    "t.conf:1:17: expected a numeric IPv6 address, not ::g\n");
	expect_errs("err_listen_bad_v4",
	    "server { listen 1.2.3.256:6667 }\n",
	    "t.conf:1:17: expected a numeric IPv4 address, not 1.2.3.256\n");
	expect_errs("err_tls_needs_key",
	    "server {\n  listen :6697 { tls { cert a.pem } }\n}\n",
	    "t.conf:2:18: tls needs both cert and key, like: tls { cert "
	    "fullchain.pem  key privkey.pem }\n");
	expect_errs("err_listen_unknown_in_block",
	    "server { listen :6697 { ssl yes } }\n",
	    "t.conf:1:25: unknown key \"ssl\" in block server.listen\n");
	expect_errs("err_oper_without_password",
	    "oper admin {\n  class server-admin\n}\n",
	    "t.conf:1:1: oper \"admin\" needs a password (a hash from "
	    "`ergo genpasswd`) or a certfp\n");
	expect_errs("err_oper_without_class",
	    "oper admin { password \"$pbkdf2-sha256$1$AAAAAAAAAAAAAAAAAAAAAA"
	    "$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\" }\n",
	    "t.conf:1:1: oper \"admin\" needs a class, like: class "
	    "server-admin\n");
	expect_errs("err_oper_bad_hash",
	    "oper admin { class a  password hunter2 }\n",
	    "t.conf:1:32: expected a password hash from `ergo genpasswd`, like"
	    " \"$pbkdf2-sha256$32768$...\"\n");
	expect_errs("err_oper_without_name",
	    "oper { class a }\n",
	    "t.conf:1:6: expected a name after oper, like: oper admin { class "
	    "server-admin  password \"...\" }\n");
	expect_errs("err_named_blocks_without_name",
	    "link { host 127.0.0.1 }\nserver { webirc { hosts localhost } }\n"
	    "oper-class { capabilities kill }\n",
	    "t.conf:1:6: expected a server name after link, like: link "
	    "hub.example.org { host 192.0.2.1 ... }\n"
	    "t.conf:2:17: expected a name after webirc, like: webirc gamja { "
	    "password \"...\"  hosts localhost }\n"
	    "t.conf:3:12: expected a name after oper-class, like: oper-class "
	    "server-admin { capabilities \"kill ban\" }\n");
	expect_errs("err_oper_duplicate",
	    "oper a { class c  password \"$pbkdf2-sha256$1$AAAAAAAAAAAAAAAAAAA"
	    "AAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\" }\n"
	    "oper a { class c  password \"$pbkdf2-sha256$1$AAAAAAAAAAAAAAAAAAA"
	    "AAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\" }\n",
	    "t.conf:2:6: duplicate oper \"a\" (first at line 1)\n");
	expect_errs("err_label_on_plain_block",
	    "server main { name a.b }\n",
	    "t.conf:1:8: block server takes no label\n");
	expect_errs("err_block_needs_brace",
	    "server\n  name a.b\n",
	    "t.conf:2:3: expected '{' after server\n");
	expect_errs("err_block_needs_brace_at_eof",
	    "limits",
	    "t.conf:1:7: expected '{' after limits\n");
	expect_errs("err_missing_value",
	    "server {\n  name\n}\n",
	    "t.conf:2:7: expected a value after name\n");
	expect_errs("err_value_with_spaces",
	    "server { info ergo IRC server }\n",
	    "t.conf:1:20: unexpected \"IRC\" after the value of info; quote a "
	    "value that contains spaces\n");
	expect_errs("err_key_takes_no_block",
	    "server { name a.b { } }\n",
	    "t.conf:1:19: name takes no block\n");
	expect_errs("err_quoted_key",
	    "\"server\" { }\n",
	    "t.conf:1:1: expected a key, not a quoted string\n");
	expect_errs("err_control_character",
	    "limits {\x01 }\n",
	    "t.conf:1:9: unexpected control character 0x01\n");
	expect_errs("err_server_name_no_dot",
	    "server { name irc }\n",
	    "t.conf:1:15: expected a hostname with a dot, like irc.example.org"
	    " (letters, digits, '-' and '.'; at most 63 characters)\n");
	expect_errs("err_network_name_spaces",
	    "network { name \"Ergo Net\" }\n",
	    "t.conf:1:16: name must be one word, without spaces\n");
	expect_errs("err_empty_datastore",
	    "datastore { path \"\" }\n",
	    "t.conf:1:18: path must not be empty\n");
	expect_errs("err_default_modes",
	    "channels { default-modes +ntk }\n",
	    "t.conf:1:26: expected channel modes like +nt: a '+' then letters"
	    " from imnpst\n");
	expect_errs("err_logging_file_needs_path",
	    "logging {\n  method file\n}\n",
	    "t.conf:2:10: logging method file needs a path, like: logging { "
	    "method file  path ergo.log }\n");
	expect_errs("err_columns_count_characters",
	    "admin { location1 \"\xc3\xa9\xc3\xa9\" bogus }\n",
	    "t.conf:1:24: unexpected \"bogus\" after the value of location1; "
	    "quote a value that contains spaces\n");
}

static void
test_error_collection(void)
{
	struct conf *c;
	char *errs = NULL, *text;
	size_t i, n, sz = 200 * 32;
	int lines;

	expect_errs("errors_all_collected",
	    "server {\n"
	    "  name irc\n"
	    "  foo bar\n"
	    "  max-sendq 1q\n"
	    "  listen host:1\n"
	    "}\n"
	    "limits { nicklen 0  bogus 1 }\n"
	    "oper x { class y }\n"
	    "logging { method file }\n",
	    "t.conf:2:8: expected a hostname with a dot, like irc.example.org"
	    " (letters, digits, '-' and '.'; at most 63 characters)\n"
	    "t.conf:3:3: unknown key \"foo\" in block server\n"
	    "t.conf:4:13: expected a size like 96k\n"
	    "t.conf:5:10: expected a numeric address, not a hostname: host\n"
	    "t.conf:7:18: nicklen must be between 1 and 64\n"
	    "t.conf:7:21: unknown key \"bogus\" in block limits\n"
	    "t.conf:8:1: oper \"x\" needs a password (a hash from "
	    "`ergo genpasswd`) or a certfp\n"
	    "t.conf:9:18: logging method file needs a path, like: logging { "
	    "method file  path ergo.log }\n");
	/* a runaway file is cut off after 100 lines of errors */
	if ((text = malloc(sz)) == NULL)
		exit(1);
	text[0] = '\0';
	for (i = 0; i < 200; i++) {
		n = strlen(text);
		snprintf(text + n, sz - n, "bogus%zu 1\n", i);
	}
	c = load(text, &errs);
	lines = 0;
	for (i = 0; errs != NULL && errs[i] != '\0'; i++)
		lines += errs[i] == '\n';
	result("errors_capped", c == NULL && lines == 100 &&
	    strstr(errs, "t.conf:100:1: too many errors") != NULL ? NULL :
	    "not capped at 100");
	conf_free(c);
	free(errs);
	free(text);
	errs = NULL;
	c = conf_load("does-not-exist.conf", &errs);
	result("err_missing_file", c == NULL && errs != NULL &&
	    strcmp(errs, "does-not-exist.conf: cannot open: No such file or "
	    "directory\n") == 0 ? NULL : errs ? errs : "no error");
	free(errs);
	/* NULL errs is allowed */
	result("errs_may_be_null", load("bogus 1\n", NULL) == NULL ? NULL :
	    "accepted");
}

/* ---- environment overrides ---- */

static void
clear_ergo_env(void)
{
	char name[256], **e;
	size_t n;

	for (;;) {
		for (e = environ; *e != NULL; e++)
			if (strncmp(*e, "ERGO__", 6) == 0)
				break;
		if (*e == NULL)
			return;
		n = strcspn(*e, "=");
		if (n >= sizeof(name))
			n = sizeof(name) - 1;
		memcpy(name, *e, n);
		name[n] = '\0';
		unsetenv(name);
	}
}

static void
test_env(void)
{
	struct conf *c;
	char *errs = NULL;

	clear_ergo_env();
	setenv("ERGO__SERVER__NAME", "env.example", 1);
	setenv("ERGO__SERVER__MAX_SENDQ", "1m", 1);
	setenv("ERGO__SERVER__FAKELAG__ENABLED", "no", 1);
	setenv("ERGO__SERVER__TIMEOUTS__PING", "2m", 1);
	setenv("ERGO__SERVER__INFO", "with spaces \"and quotes\"", 1);
	setenv("ERGO__LIMITS__WHOWAS_ENTRIES", "7", 1);
	setenv("ERGO__logging__level", "debug", 1);	/* any case */
	c = load("server {\n  name file.example\n  max-sendq 2m\n}\n", &errs);
	if (c == NULL)
		result("env_overrides_file", errs);
	else {
		result("env_overrides_file",
		    streq(c->server_name, "env.example") &&
		    c->max_sendq == 1024 * 1024 && !c->fakelag.enabled &&
		    c->ping_timeout == 120 &&
		    streq(c->server_info, "with spaces \"and quotes\"") &&
		    c->limits.whowas == 7 && c->logs->level == LL_DEBUG ?
		    NULL : "not applied");
		conf_free(c);
	}
	free(errs);
	errs = NULL;
	if ((c = conf_load(NULL, &errs)) == NULL)
		result("env_overrides_defaults", errs);
	else {
		result("env_overrides_defaults",
		    streq(c->server_name, "env.example") &&
		    c->max_sendq == 1024 * 1024 ? NULL : "not applied");
		conf_free(c);
	}
	free(errs);
	clear_ergo_env();

	setenv("ERGO__SERVER__LISTEN", "127.0.0.1:7100, [::1]:7101 :7102", 1);
	if ((c = load("server { listen 127.0.0.1:6667 }\n", &errs)) == NULL)
		result("env_listen_replaces_list", errs);
	else {
		result("env_listen_replaces_list", nlisten(c) == 4 &&
		    streq(listen_nth(c, 0)->text, "127.0.0.1:7100") &&
		    streq(listen_nth(c, 1)->text, "[::1]:7101") &&
		    streq(listen_nth(c, 2)->text, "0.0.0.0:7102") &&
		    streq(listen_nth(c, 3)->text, "[::]:7102") ? NULL :
		    "wrong list");
		conf_free(c);
	}
	free(errs);
	errs = NULL;
	clear_ergo_env();

	setenv("ERGO__SERVER__MAX_SENDQ", "lots", 1);
	c = conf_load(NULL, &errs);
	result("env_error_names_variable", c == NULL && errs != NULL &&
	    strcmp(errs, "ERGO__SERVER__MAX_SENDQ: expected a size like 96k\n")
	    == 0 ? NULL : errs ? errs : "accepted");
	free(errs);
	errs = NULL;
	clear_ergo_env();

	setenv("ERGO__SERVER__NOPE", "1", 1);
	c = conf_load(NULL, &errs);
	result("env_unknown_key", c == NULL && errs != NULL &&
	    strcmp(errs, "ERGO__SERVER__NOPE: unknown key NOPE in block "
	    "server\n") == 0 ? NULL : errs ? errs : "accepted");
	free(errs);
	errs = NULL;
	clear_ergo_env();

	setenv("ERGO__SERVER__FAKELAG", "no", 1);
	c = conf_load(NULL, &errs);
	result("env_block_needs_key", c == NULL && errs != NULL &&
	    strcmp(errs, "ERGO__SERVER__FAKELAG: fakelag is a block: name one "
	    "of its keys, like ERGO__SERVER__FAKELAG__ENABLED\n") == 0 ?
	    NULL : errs ? errs : "accepted");
	free(errs);
	errs = NULL;
	clear_ergo_env();

	setenv("ERGO__SERVER__LISTEN", "", 1);
	c = conf_load(NULL, &errs);
	result("env_empty_listen", c == NULL && errs != NULL &&
	    strcmp(errs, "ERGO__SERVER__LISTEN: expected at least one listen "
	    "address, like 127.0.0.1:6667\n") == 0 ? NULL : errs ? errs :
	    "accepted");
	free(errs);
	errs = NULL;
	clear_ergo_env();

	setenv("ERGO__SERVER__INFO", "line\r\nbreak", 1);
	c = conf_load(NULL, &errs);
	result("env_rejects_control_characters", c == NULL && errs != NULL &&
	    strcmp(errs, "ERGO__SERVER__INFO: control characters are not "
	    "allowed in info\n") == 0 ? NULL : errs ? errs : "accepted");
	free(errs);
	errs = NULL;
	clear_ergo_env();

	setenv("ERGO__OPER__ADMIN__CLASS", "x", 1);
	c = conf_load(NULL, &errs);
	result("env_oper_refused", c == NULL && errs != NULL &&
	    strcmp(errs, "ERGO__OPER__ADMIN__CLASS: oper blocks cannot be set "
	    "from the environment\n") == 0 ? NULL : errs ? errs : "accepted");
	free(errs);
	errs = NULL;
	clear_ergo_env();

	/* ERGO_BIN and friends (one underscore) are not overrides */
	setenv("ERGO_BIN", "/nonexistent", 1);
	c = conf_load(NULL, &errs);
	result("env_single_underscore_ignored", c != NULL ? NULL : errs);
	conf_free(c);
	free(errs);
	unsetenv("ERGO_BIN");
}

/* ---- conf_passwd.c ---- */

static bool
hexeq(const unsigned char *b, size_t n, const char *hex)
{
	char buf[3];
	size_t i;

	if (strlen(hex) != n * 2)
		return false;
	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%02x", b[i]);
		if (memcmp(buf, hex + 2 * i, 2) != 0)
			return false;
	}
	return true;
}

static void
test_pbkdf2(void)
{
	unsigned char out[64];

	/* RFC 7914, section 11 */
	conf_passwd_pbkdf2("passwd", 6, "salt", 4, 1, out, 64);
	result("pbkdf2_rfc7914_vector", hexeq(out, 64,
	    "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
	    "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
	    ? NULL : "wrong output");
	conf_passwd_pbkdf2("password", 8, "salt", 4, 2, out, 32);
	result("pbkdf2_two_iterations", hexeq(out, 32,
	    "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43")
	    ? NULL : "wrong output");
	conf_passwd_pbkdf2("password", 8, "salt", 4, 4096, out, 32);
	result("pbkdf2_4096_iterations", hexeq(out, 32,
	    "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a")
	    ? NULL : "wrong output");
	conf_passwd_pbkdf2("passwordPASSWORDpassword", 24,
	    "saltSALTsaltSALTsaltSALTsaltSALTsalt", 36, 4096, out, 40);
	result("pbkdf2_long_inputs_partial_block", hexeq(out, 40,
	    "348c89dbcbd32b2f32d814b8116e84cf2b17347ebc1800181c4e2a1fb8dd53e1"
	    "c635518c7dac47e9") ? NULL : "wrong output");
}

static void
test_b64(void)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob",
	    "fooba", "foobar" };
	static const char *const padded[] = { "", "Zg==", "Zm8=", "Zm9v",
	    "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
	static const char *const bare[] = { "", "Zg", "Zm8", "Zm9v",
	    "Zm9vYg", "Zm9vYmE", "Zm9vYmFy" };
	char enc[32];
	unsigned char dec[32];
	const char *w = NULL;
	size_t i, n;

	for (i = 0; i < 7 && w == NULL; i++) {
		n = strlen(plain[i]);
		if (util_b64_encode(enc, sizeof(enc), plain[i], n, true) !=
		    strlen(padded[i]) || strcmp(enc, padded[i]) != 0)
			w = padded[i];
		else if (util_b64_encode(enc, sizeof(enc), plain[i], n,
		    false) != strlen(bare[i]) || strcmp(enc, bare[i]) != 0)
			w = bare[i];
		else if (util_b64_decode(dec, sizeof(dec), padded[i],
		    strlen(padded[i])) != n || memcmp(dec, plain[i], n) != 0)
			w = padded[i];
		else if (util_b64_decode(dec, sizeof(dec), bare[i],
		    strlen(bare[i])) != n || memcmp(dec, plain[i], n) != 0)
			w = bare[i];
	}
	result("b64_rfc4648_vectors", w);
	result("b64_encode_too_small", util_b64_encode(enc, 4, "foo", 3,
	    false) == (size_t)-1 && util_b64_encode(enc, 5, "foo", 3, false)
	    == 4 ? NULL : "wrong");
	result("b64_decode_rejects", util_b64_decode(dec, 32, "Zm9v!", 5) ==
	    (size_t)-1 && util_b64_decode(dec, 32, "Z", 1) == (size_t)-1 &&
	    util_b64_decode(dec, 32, "Zh", 2) == (size_t)-1 &&	/* bits */
	    util_b64_decode(dec, 32, "Zg=", 3) == (size_t)-1 &&
	    util_b64_decode(dec, 32, "Zm9v=", 5) == (size_t)-1 &&
	    util_b64_decode(dec, 32, "Zm 9v", 5) == (size_t)-1 &&
	    util_b64_decode(dec, 2, "Zm9v", 4) == (size_t)-1 ? NULL :
	    "accepted bad input");
}

static void
test_passwd(void)
{
	char *h, *h2, bad[256];
	const char *w = NULL;
	size_t i, n;
	static const char *const malformed[] = {
		"", "x", "$pbkdf2-sha256$",
		"$pbkdf2-sha1$4096$AAAAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$pbkdf2-sha256$0$AAAAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$pbkdf2-sha256$04096$AAAAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$pbkdf2-sha256$-1$AAAAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$pbkdf2-sha256$99999999999$AAAAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$pbkdf2-sha256$4096$$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$pbkdf2-sha256$4096$AAAAAAAAAAAAAAAAAAAAAA$",
		"$pbkdf2-sha256$4096$AAAAAAAAAAAAAAAAAAAAAA$AAAA",
		"$pbkdf2-sha256$4096$AAAAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"$pbkdf2-sha256$4096$AAAAAAAAAAAAAAAAAAAAAA==$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"$pbkdf2-sha256$4096$AAAAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!",
		"$pbkdf2-sha256$4096$AAAAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA$",
		"$pbkdf2-sha256$4096$AAAAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		" $pbkdf2-sha256$4096$AAAAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		NULL
	};

	if ((h = conf_passwd_hash("secret", 0)) == NULL) {
		result("passwd_hash_default_iterations", strerror(errno));
		return;
	}
	result("passwd_hash_default_iterations",
	    strncmp(h, "$pbkdf2-sha256$32768$", 21) == 0 &&
	    strlen(h) == 21 + 22 + 1 + 43 ? NULL : h);
	result("passwd_hash_is_well_formed", conf_passwd_check(h) ? NULL : h);
	result("passwd_verify_right", conf_passwd_verify(h, "secret") ? NULL :
	    "rejected");
	result("passwd_verify_wrong", !conf_passwd_verify(h, "Secret") &&
	    !conf_passwd_verify(h, "") && !conf_passwd_verify(h, "secret ") &&
	    !conf_passwd_verify(h, NULL) ? NULL : "accepted");
	h2 = conf_passwd_hash("secret", 0);
	result("passwd_hash_salted", h2 != NULL && strcmp(h, h2) != 0 ? NULL :
	    "same hash twice");
	free(h2);
	/* every single-character change of the hash is rejected */
	n = strlen(h);
	for (i = 0; i < n && w == NULL; i++) {
		snprintf(bad, sizeof(bad), "%s", h);
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		if (conf_passwd_verify(bad, "secret"))
			w = bad;
	}
	result("passwd_verify_tampered", w);
	free(h);
	w = NULL;
	for (i = 0; malformed[i] != NULL && w == NULL; i++)
		if (conf_passwd_check(malformed[i]) ||
		    conf_passwd_verify(malformed[i], ""))
			w = malformed[i];
	result("passwd_malformed_rejected", w);
	result("passwd_verify_null_hash", !conf_passwd_verify(NULL, "x") ?
	    NULL : "accepted");
	if ((h = conf_passwd_hash("p\xc3\xa4ss word", 3)) == NULL)
		result("passwd_custom_iterations", strerror(errno));
	else {
		result("passwd_custom_iterations",
		    strncmp(h, "$pbkdf2-sha256$3$", 17) == 0 &&
		    conf_passwd_verify(h, "p\xc3\xa4ss word") ? NULL : h);
		free(h);
	}
	/* a hash made by another PBKDF2 (Python's hashlib) verifies */
	result("passwd_verify_foreign_hash", conf_passwd_verify(
	    "$pbkdf2-sha256$2$c2FsdA$rk0Mla9rRtMtCt/5KPBt0CowP47zwlHf1uLYWpVHTEM",
	    "password") ? NULL : "rejected");
}

static void
test_random(void)
{
	unsigned char a[32], b[32];

	result("random_fills", ergo_random(a, sizeof(a)) == 0 &&
	    ergo_random(b, sizeof(b)) == 0 && memcmp(a, b, sizeof(a)) != 0 ?
	    NULL : "same bytes twice");
	result("random_zero_length", ergo_random(a, 0) == 0 ? NULL : "failed");
	{
		static unsigned char big[4096];
		size_t i, zero = 0;

		if (ergo_random(big, sizeof(big)) == -1)
			result("random_large", strerror(errno));
		else {
			for (i = 0; i < sizeof(big); i++)
				zero += big[i] == 0;
			result("random_large", zero < 64 ? NULL :
			    "too many zero bytes");
		}
	}
}

/* accounts.registration: `registration no`, or a block of its own keys. */
static void
test_switch(void)
{
	struct conf *c;
	char *errs = NULL;

	if ((c = expect_ok("switch_defaults", "")) != NULL) {
		result("switch_defaults", c->accounts.registration &&
		    c->accounts.reg_before_connect &&
		    c->accounts.reg_min_password == 0 &&
		    c->accounts.reg_throttle &&
		    c->accounts.reg_throttle_secs == 600 &&
		    c->accounts.reg_throttle_max == 30 ? NULL : "wrong");
		conf_free(c);
	}
	if ((c = expect_ok("switch_short_form",
	    "accounts { registration no }\n")) != NULL) {
		result("switch_short_form", !c->accounts.registration &&
		    c->accounts.reg_before_connect ? NULL : "wrong");
		conf_free(c);
	}
	if ((c = expect_ok("switch_block_form", "accounts {\n registration"
	    "\n {\n  allow-before-connect no\n  min-password-length 8\n"
	    "  throttling { max-attempts 3  duration 1h }\n }\n}\n")) !=
	    NULL) {
		result("switch_block_form", c->accounts.registration &&
		    !c->accounts.reg_before_connect &&
		    c->accounts.reg_min_password == 8 &&
		    c->accounts.reg_throttle_max == 3 &&
		    c->accounts.reg_throttle_secs == 3600 ? NULL : "wrong");
		conf_free(c);
	}
	expect_errs("switch_bad_value", "accounts { registration maybe }\n",
	    "t.conf:1:25: expected yes or no\n");
	expect_errs("switch_both_forms", "accounts {\n registration no\n"
	    " registration { enabled yes }\n}\n", "t.conf:3:2: duplicate "
	    "block \"registration\" in block accounts (first at line 2)\n");
	clear_ergo_env();
	setenv("ERGO__ACCOUNTS__REGISTRATION", "no", 1);
	setenv("ERGO__ACCOUNTS__REGISTRATION__THROTTLING__MAX_ATTEMPTS", "4",
	    1);
	if ((c = conf_load(NULL, &errs)) == NULL)
		result("switch_env", errs);
	else {
		result("switch_env", !c->accounts.registration &&
		    c->accounts.reg_throttle_max == 4 ? NULL : "not applied");
		conf_free(c);
	}
	free(errs);
	clear_ergo_env();
}

int
main(void)
{
	char cwd[4096];

	if (mkdtemp(dir) == NULL || getcwd(cwd, sizeof(cwd)) == NULL ||
	    chdir(dir) == -1) {
		perror("unit_conf");
		return 1;
	}
	clear_ergo_env();
	if ((hash_pw = conf_passwd_hash("secret", 1)) == NULL) {
		perror("conf_passwd_hash");
		return 1;
	}
	test_pbkdf2();
	test_b64();
	test_passwd();
	test_random();
	test_defaults();
	test_every_type();
	test_values();
	test_errors();
	test_error_collection();
	test_env();
	test_switch();
	free(hash_pw);
	(void)unlink("t.conf");
	(void)unlink("sub/t.conf");
	(void)rmdir("sub");
	(void)chdir(cwd);
	(void)rmdir(dir);
	return nfail != 0;
}
