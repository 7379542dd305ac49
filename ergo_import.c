/*
 * ergo_import.c: `ergo importdb FILE`: accounts (with their password
 * hashes, certfps, nicks), registered channels (founder, topic, modes,
 * AMODEs), K/D-lines and the cloak secret, from Ergo's JSON import
 * format or Ergo's buntdb file, written through store.c. Reports on
 * stderr what it cannot keep; speaks no protocol and no SQL.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ergo.h"
#include "conf.h"
#include "util.h"
#include "store.h"
#include "json.h"
#include "pwhash.h"
#include "irc_util.h"
#include "ergo_import.h"

struct imp {
	const char	*file;
	unsigned	 accounts, channels, legacy, unsupported, bans;
	unsigned	 warnings, skipped;
};

static void
warn(struct imp *im, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ergo: importdb: %s: ", im->file);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	im->warnings++;
}

/* The whole file, NUL-terminated, in a malloc'd buffer; NULL logged. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f;
	char *buf = NULL, *nb;
	size_t n = 0, cap = 0, r;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "ergo: importdb: %s: %s\n", path,
		    strerror(errno));
		return NULL;
	}
	for (;;) {
		if (cap - n < 65536) {
			if (cap >= IMPORT_FILE_MAX) {
				fprintf(stderr, "ergo: importdb: %s: larger than "
				    "%u MiB\n", path, IMPORT_FILE_MAX >> 20);
				goto fail;
			}
			cap = cap == 0 ? 1 << 20 : cap * 2;
			if ((nb = realloc(buf, cap + 1)) == NULL) {
				fprintf(stderr, "ergo: importdb: %s: %s\n", path,
				    strerror(errno));
				goto fail;
			}
			buf = nb;
		}
		if ((r = fread(buf + n, 1, cap - n, f)) == 0)
			break;
		n += r;
	}
	if (ferror(f)) {
		fprintf(stderr, "ergo: importdb: %s: read error\n", path);
		goto fail;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	fclose(f);
	free(buf);
	return NULL;
}

/* A certfp as we keep it (64 lowercase hex digits, no colons), or -1. */
static int
certfp_norm(const char *in, char out[STORE_CERTFP_LEN + 1])
{
	size_t n = 0;

	for (; *in != '\0'; in++) {
		if (*in == ':')
			continue;
		if (n == STORE_CERTFP_LEN || strchr("0123456789abcdefABCDEF",
		    *in) == NULL)
			return -1;
		out[n++] = (char)(*in >= 'A' && *in <= 'F' ? *in + 32 : *in);
	}
	out[n] = '\0';
	return n == STORE_CERTFP_LEN ? 0 : -1;
}

/* Unix time from Ergo's nanoseconds (or seconds, if it is that small). */
static time_t
ns_time(int64_t v)
{
	if (v <= 0)
		return ergo_now;
	return v > 100000000000LL ? (time_t)(v / 1000000000) : (time_t)v;
}

/* ---- the pieces both formats share ---- */

/*
 * Creates account name with legacy hash (or SCRAM credentials in a)
 * and reserves its nicks; 0, or -1 (reported) if it was not created.
 */
static int
account_add(struct imp *im, struct store_account *a)
{
	char fz[NICKLEN_MAX + 1];
	int rc;

	if (!irc_nick_valid(a->name) || irc_nick_reserved(a->name)) {
		warn(im, "account %s: not a valid account name here; skipped",
		    a->name);
		im->skipped++;
		return -1;
	}
	irc_fold(fz, a->name, sizeof(fz));
	if (a->legacy[0] != '\0') {
		im->legacy++;
		if (!pwhash_legacy_supported(a->legacy)) {
			im->unsupported++;
			warn(im, "account %s: password hash of a scheme this "
			    "ergo cannot check (%.24s...): kept, but the account "
			    "can log in only with a certificate until it is "
			    "given a new password", a->name, a->legacy);
		}
	}
	if ((rc = store_account_create(fz, a)) != 0) {
		warn(im, "account %s: %s; skipped", a->name, rc == 1 ?
		    "the name is already an account or a reserved nick" :
		    store_error());
		im->skipped++;
		return -1;
	}
	im->accounts++;
	return 0;
}

static void
nick_add(struct imp *im, const struct store_account *a, const char *nick)
{
	char fz[NICKLEN_MAX + 1];
	int rc;

	if (!irc_nick_valid(nick) || irc_nick_reserved(nick)) {
		warn(im, "account %s: nick %s is not valid here; not reserved",
		    a->name, nick);
		return;
	}
	irc_fold(fz, nick, sizeof(fz));
	if ((rc = store_nick_reserve(a->id, fz, a->registered)) != 0)
		warn(im, "account %s: nick %s not reserved: %s", a->name, nick,
		    rc == 1 ? "another account has it" : store_error());
}

static void
certfp_add(struct imp *im, const struct store_account *a, const char *fp)
{
	char n[STORE_CERTFP_LEN + 1];
	int rc;

	if (certfp_norm(fp, n) == -1) {
		warn(im, "account %s: certfp %s is not a SHA-256 fingerprint; "
		    "not kept", a->name, fp);
		return;
	}
	if ((rc = store_certfp_add(a->id, n)) != 0)
		warn(im, "account %s: certfp %s not kept: %s", a->name, n,
		    rc == 1 ? "another account has it" : store_error());
}

/* The channel modes a registered channel keeps here (irc_serv.c). */
#define CHAN_KEPT_MODES	"imnpst"

struct chan_in {
	const char	*name, *founder, *modes, *key, *topic, *topic_by;
	int64_t		 registered, topic_at, limit;
};

/* 0 and *ch filled (its id set), or -1 (reported). */
static int
chan_add(struct imp *im, const struct chan_in *in, struct store_chan *ch)
{
	char fz[CHANLEN_MAX + 1], ffz[NICKLEN_MAX + 1], dropped[64];
	struct store_account fa;
	const char *p;
	size_t n = 0, nd = 0;
	int rc;

	memset(ch, 0, sizeof(*ch));
	if (!irc_chan_valid(in->name)) {
		warn(im, "channel %s: not a valid channel name here; skipped",
		    in->name);
		im->skipped++;
		return -1;
	}
	irc_fold(ffz, in->founder != NULL ? in->founder : "", sizeof(ffz));
	if (in->founder == NULL || (rc = store_account_get(ffz, &fa)) != 1) {
		warn(im, "channel %s: founder %s is not an account; skipped",
		    in->name, in->founder != NULL ? in->founder : "(none)");
		im->skipped++;
		return -1;
	}
	irc_fold(fz, in->name, sizeof(fz));
	snprintf(ch->name, sizeof(ch->name), "%s", in->name);
	ch->founder = fa.id;
	ch->registered = ns_time(in->registered);
	if ((rc = store_chan_create(fz, ch)) != 0) {
		warn(im, "channel %s: %s; skipped", in->name, rc == 1 ?
		    "already registered" : store_error());
		im->skipped++;
		return -1;
	}
	for (p = in->modes != NULL ? in->modes : ""; *p != '\0'; p++) {
		if (strchr(CHAN_KEPT_MODES, *p) != NULL && *p != '\0') {
			if (strchr(ch->modes, *p) == NULL &&
			    n + 1 < sizeof(ch->modes))
				ch->modes[n++] = *p;
		} else if (*p != '+' && nd + 1 < sizeof(dropped))
			dropped[nd++] = *p;
	}
	ch->modes[n] = '\0';
	dropped[nd] = '\0';
	if (nd > 0)
		warn(im, "channel %s: modes +%s are not kept for registered "
		    "channels here; dropped", in->name, dropped);
	if (in->key != NULL && *in->key != '\0') {
		if (strlen(in->key) >= sizeof(ch->key) ||
		    strpbrk(in->key, " ,:") != NULL)
			warn(im, "channel %s: key not valid here; dropped",
			    in->name);
		else
			snprintf(ch->key, sizeof(ch->key), "%s", in->key);
	}
	if (in->limit > 0 && in->limit <= 1000000)
		ch->limit = (unsigned)in->limit;
	if (in->topic != NULL && *in->topic != '\0') {
		if (strlen(in->topic) > conf->limits.topiclen)
			warn(im, "channel %s: topic longer than topiclen %u; "
			    "cut", in->name, conf->limits.topiclen);
		snprintf(ch->topic, sizeof(ch->topic), "%.*s",
		    (int)conf->limits.topiclen, in->topic);
		irc_utf8_trunc(ch->topic, strlen(ch->topic));
		snprintf(ch->topic_by, sizeof(ch->topic_by), "%s",
		    in->topic_by != NULL && *in->topic_by != '\0' ?
		    in->topic_by : "ChanServ");
		ch->topic_time = ns_time(in->topic_at);
	}
	if (store_chan_state(ch) == -1)
		warn(im, "channel %s: modes and topic not kept: %s", in->name,
		    store_error());
	im->channels++;
	return 0;
}

/*
 * An AMODE: Atheme and Anope give q, a, o, h or v; here only o and v
 * exist. q and a (founder-like and admin) become o, h becomes v: never
 * more than the account had.
 */
static void
amode_add(struct imp *im, const struct store_chan *ch, const char *acct,
    int mode)
{
	char fz[NICKLEN_MAX + 1];
	struct store_account a;
	int m;

	switch (mode) {
	case 'q': case 'a': case 'o': m = 'o'; break;
	case 'h': case 'v': m = 'v'; break;
	default:
		warn(im, "channel %s: AMODE +%c for %s is not a mode here; "
		    "dropped", ch->name, mode, acct);
		return;
	}
	irc_fold(fz, acct, sizeof(fz));
	if (store_account_get(fz, &a) != 1) {
		warn(im, "channel %s: AMODE for %s, who is not an account; "
		    "dropped", ch->name, acct);
		return;
	}
	if (a.id == ch->founder)
		return;		/* the founder is op by being founder */
	if (m != mode)
		warn(im, "channel %s: AMODE +%c of %s kept as +%c", ch->name,
		    mode, acct, m);
	if (store_amode_set(ch->id, a.id, m) == -1)
		warn(im, "channel %s: AMODE of %s not kept: %s", ch->name, acct,
		    store_error());
}

/* ---- Ergo's JSON import format (irc/import.go), version 1 ---- */

static const char *
jstr(struct imp *im, const char *where, const struct json *o,
    const char *key)
{
	const struct json *j = json_get(o, key);

	if (j == NULL || j->type == JSON_NULL)
		return NULL;
	if (j->type != JSON_STR) {
		warn(im, "%s: %s is %s, not a string; ignored", where, key,
		    json_type_name(j->type));
		return NULL;
	}
	return j->s;
}

static int64_t
jint(struct imp *im, const char *where, const struct json *o,
    const char *key)
{
	const struct json *j = json_get(o, key);
	int64_t v;

	if (j == NULL || j->type == JSON_NULL)
		return 0;
	if (json_int(j, &v) == -1) {
		warn(im, "%s: %s is not an integer; ignored", where, key);
		return 0;
	}
	return v;
}

/* Every member of o whose name is not in known is reported. */
static void
unknown_fields(struct imp *im, const char *where, const struct json *o,
    const char *const *known, const char *const *unkept)
{
	const struct json *j;
	size_t i;

	for (j = o->child; j != NULL; j = j->next) {
		for (i = 0; known[i] != NULL; i++)
			if (strcasecmp(j->key, known[i]) == 0)
				break;
		if (known[i] != NULL)
			continue;
		for (i = 0; unkept != NULL && unkept[i] != NULL; i++)
			if (strcasecmp(j->key, unkept[i]) == 0)
				break;
		if (unkept != NULL && unkept[i] != NULL)
			warn(im, "%s: %s is not supported here; not imported",
			    where, j->key);
		else
			warn(im, "%s: unknown field %s; not imported", where,
			    j->key);
	}
}

static void
json_user(struct imp *im, const char *source, const struct json *u)
{
	static const char *const known[] = { "name", "hash", "email",
	    "registeredAt", "additionalNicks", "certfps", "vhost", NULL };
	struct store_account a;
	const struct json *l, *e;
	const char *name, *hash, *email;
	char where[NICKLEN_MAX + 64];

	snprintf(where, sizeof(where), "users.%s", u->key);
	if (u->type != JSON_OBJ) {
		warn(im, "%s: %s, not an object; skipped", where,
		    json_type_name(u->type));
		im->skipped++;
		return;
	}
	unknown_fields(im, where, u, known, NULL);
	memset(&a, 0, sizeof(a));
	if ((name = jstr(im, where, u, "name")) == NULL || *name == '\0')
		name = u->key;
	if (strlen(name) >= sizeof(a.name)) {
		warn(im, "%s: name longer than nicklen; skipped", where);
		im->skipped++;
		return;
	}
	snprintf(a.name, sizeof(a.name), "%s", name);
	if ((email = jstr(im, where, u, "email")) != NULL &&
	    strlen(email) < sizeof(a.email) && strchr(email, '@') != NULL)
		snprintf(a.email, sizeof(a.email), "%s", email);
	a.registered = ns_time(jint(im, where, u, "registeredAt"));
	if ((hash = jstr(im, where, u, "hash")) != NULL && *hash != '\0') {
		if (strlen(source) + 1 + strlen(hash) > STORE_LEGACY_MAX)
			warn(im, "%s: password hash too long; not kept", where);
		else {
			/* "anope:" or "atheme:" (pwhash.h), then the hash */
			size_t n = strlen(source);

			memcpy(a.legacy, source, n);
			a.legacy[n] = ':';
			memcpy(a.legacy + n + 1, hash, strlen(hash) + 1);
		}
	} else
		warn(im, "%s: no password hash; it can log in only with a "
		    "certificate", where);
	if (account_add(im, &a) == -1)
		return;
	if ((l = json_get(u, "additionalNicks")) != NULL &&
	    l->type == JSON_ARR)
		for (e = l->child; e != NULL; e = e->next)
			if (e->type == JSON_STR)
				nick_add(im, &a, e->s);
	if ((l = json_get(u, "certfps")) != NULL && l->type == JSON_ARR)
		for (e = l->child; e != NULL; e = e->next)
			if (e->type == JSON_STR)
				certfp_add(im, &a, e->s);
	if (jstr(im, where, u, "vhost") != NULL)
		warn(im, "%s: vhost %s not imported: this ergo has no "
		    "per-account vhosts", where, jstr(im, where, u, "vhost"));
}

static void
json_channel(struct imp *im, const struct json *c)
{
	static const char *const known[] = { "name", "founder",
	    "registeredAt", "topic", "topicSetBy", "topicSetAt", "amode",
	    "modes", "key", "limit", NULL };
	static const char *const unkept[] = { "forward", "successor", NULL };
	struct chan_in in;
	struct store_chan ch;
	const struct json *am, *e;
	char where[CHANLEN_MAX + 64];

	snprintf(where, sizeof(where), "channels.%s", c->key);
	if (c->type != JSON_OBJ) {
		warn(im, "%s: %s, not an object; skipped", where,
		    json_type_name(c->type));
		im->skipped++;
		return;
	}
	unknown_fields(im, where, c, known, unkept);
	memset(&in, 0, sizeof(in));
	if ((in.name = jstr(im, where, c, "name")) == NULL || *in.name == '\0')
		in.name = c->key;
	if (strlen(in.name) > CHANLEN_MAX) {
		warn(im, "%s: name too long; skipped", where);
		im->skipped++;
		return;
	}
	in.founder = jstr(im, where, c, "founder");
	in.registered = jint(im, where, c, "registeredAt");
	in.topic = jstr(im, where, c, "topic");
	in.topic_by = jstr(im, where, c, "topicSetBy");
	in.topic_at = jint(im, where, c, "topicSetAt");
	in.modes = jstr(im, where, c, "modes");
	in.key = jstr(im, where, c, "key");
	in.limit = jint(im, where, c, "limit");
	if (chan_add(im, &in, &ch) == -1)
		return;
	if ((am = json_get(c, "amode")) != NULL && am->type == JSON_OBJ)
		for (e = am->child; e != NULL; e = e->next) {
			if (e->type != JSON_STR || strlen(e->s) != 1) {
				warn(im, "%s: amode of %s is not one mode "
				    "letter; dropped", where, e->key);
				continue;
			}
			amode_add(im, &ch, e->key, (unsigned char)e->s[0]);
		}
}

static int
import_json(struct imp *im, const char *text, size_t len)
{
	static const char *const known[] = { "version", "source", "users",
	    "channels", NULL };
	struct json *root, *users, *chans, *e;
	const char *source;
	char err[160];
	int64_t version;

	if ((root = json_parse(text, len, err, sizeof(err))) == NULL) {
		fprintf(stderr, "ergo: importdb: %s: %s\n", im->file, err);
		return -1;
	}
	if (root->type != JSON_OBJ) {
		fprintf(stderr, "ergo: importdb: %s: not a JSON object\n",
		    im->file);
		goto fail;
	}
	if (json_int(json_get(root, "version"), &version) == -1 ||
	    version != 1) {
		fprintf(stderr, "ergo: importdb: %s: version 1 of Ergo's "
		    "import format is required\n", im->file);
		goto fail;
	}
	source = jstr(im, "(top)", root, "source");
	if (source == NULL || (strcmp(source, "anope") != 0 &&
	    strcmp(source, "atheme") != 0)) {
		fprintf(stderr, "ergo: importdb: %s: source must be \"anope\" "
		    "or \"atheme\"\n", im->file);
		goto fail;
	}
	unknown_fields(im, "(top)", root, known, NULL);
	/* accounts first: channels name their founders and AMODEs */
	if ((users = json_get(root, "users")) != NULL) {
		if (users->type == JSON_OBJ)
			for (e = users->child; e != NULL; e = e->next)
				json_user(im, source, e);
		else if (users->type != JSON_NULL)
			warn(im, "users is %s, not an object; ignored",
			    json_type_name(users->type));
	}
	if ((chans = json_get(root, "channels")) != NULL) {
		if (chans->type == JSON_OBJ)
			for (e = chans->child; e != NULL; e = e->next)
				json_channel(im, e);
		else if (chans->type != JSON_NULL)
			warn(im, "channels is %s, not an object; ignored",
			    json_type_name(chans->type));
	}
	json_free(root);
	return 0;
fail:
	json_free(root);
	return -1;
}

int
ergo_import_db(const char *file)
{
	struct imp im;
	char *text;
	size_t len, i;
	int rc;

	memset(&im, 0, sizeof(im));
	im.file = file;
	if ((text = slurp(file, &len)) == NULL)
		return -1;
	for (i = 0; i < len && strchr(" \t\r\n", text[i]) != NULL; i++)
		;
	if (i < len && (text[i] == '{' || (len - i >= 3 &&
	    memcmp(text + i, "\xef\xbb\xbf", 3) == 0)))
		rc = import_json(&im, text, len);
	else {
		fprintf(stderr, "ergo: importdb: %s: neither Ergo's JSON import "
		    "format nor its buntdb database\n", file);
		rc = -1;
	}
	free(text);
	if (rc == 0)
		fprintf(stderr, "ergo: importdb: %s: %u accounts (%u with an "
		    "imported password hash, %u of them of a scheme not "
		    "supported), %u channels, %u K/D-lines imported; %u "
		    "records skipped, %u warnings\n", file, im.accounts,
		    im.legacy, im.unsupported, im.channels, im.bans, im.skipped,
		    im.warnings);
	return rc;
}
