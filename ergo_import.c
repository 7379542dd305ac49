/*
 * ergo_import.c: `ergo importdb FILE`: accounts (with their password
 * hashes, certfps, nicks), registered channels (founder, topic, modes,
 * AMODEs), K/D-lines and the cloak secret, from Ergo's JSON import
 * format or Ergo's buntdb file, written through store.c. Reports on
 * stderr what it cannot keep; speaks no protocol and no SQL.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>

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
	const char	*dbpath;	/* opened once the file has parsed */
	unsigned	 accounts, channels, legacy, unsupported, bans;
	unsigned	 chan_masks;	/* +b +e +I entries of channels */
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
	if ((rc = store_account_create(fz, a)) != 0) {
		warn(im, "account %s: %s; skipped", a->name, rc == 1 ?
		    "the name is already an account or a reserved nick" :
		    store_error());
		im->skipped++;
		return -1;
	}
	im->accounts++;
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
		/* whole characters only: JSON strings are valid UTF-8 */
		snprintf(ch->topic, sizeof(ch->topic), "%s", in->topic);
		irc_utf8_trunc(ch->topic, conf->limits.topiclen);
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
 * An AMODE: Ergo, Atheme and Anope give q, a, o, h or v, and each is a
 * rank here too (PREFIX=(qaohv)~&@%+): kept as it is.
 */
static void
amode_add(struct imp *im, const struct store_chan *ch, const char *acct,
    int mode)
{
	char fz[NICKLEN_MAX + 1];
	struct store_account a;
	int m;

	switch (mode) {
	case 'q': case 'a': case 'o': case 'h': case 'v': m = mode; break;
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
	if ((l = json_get(u, "vhost")) != NULL && l->type == JSON_STR &&
	    l->s[0] != '\0')
		warn(im, "%s: vhost %s not imported: this ergo has no "
		    "per-account vhosts", where, l->s);
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
	if (store_open(im->dbpath) == -1 || store_bulk(true) == -1)
		goto fail;
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


/* ---- Ergo's own database: buntdb's append-only file ---- */

/*
 * buntdb writes each change as a RESP array: "*3\r\n$3\r\nset\r\n$N\r\n
 * KEY\r\n$N\r\nVALUE\r\n", with "ex"/"ae" and a TTL for expiring keys,
 * "*2 del KEY" and "*1 flushdb". Replayed here into a sorted table of
 * the keys alive at the end, each NUL-terminated in place.
 */
struct bkv {
	char		*key, *val;	/* val NULL: deleted */
	size_t		 seq;
};

struct bunt {
	struct bkv	*v;
	size_t		 n, cap;
};

static int
bkv_cmp(const void *a, const void *b)
{
	const struct bkv *x = a, *y = b;
	int c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* One RESP bulk string at *p: NUL-terminated in place, or NULL. */
static char *
resp_bulk(char **p, char *end)
{
	char *q = *p, *s;
	unsigned long n;

	if (q >= end || *q != '$')
		return NULL;
	errno = 0;
	n = strtoul(q + 1, &s, 10);
	if (errno != 0 || s == q + 1 || end - s < 4 || s[0] != '\r' ||
	    s[1] != '\n' || n > (size_t)(end - s) - 4 ||
	    s[2 + n] != '\r' || s[3 + n] != '\n')
		return NULL;
	s += 2;
	s[n] = '\0';
	if (memchr(s, '\0', n) != NULL)
		return NULL;	/* keys and values here are text */
	*p = s + n + 2;
	return s;
}

static int
bunt_load(struct imp *im, char *buf, size_t len, struct bunt *b)
{
	char *p = buf, *end = buf + len, *s, *a[5];
	unsigned long n, i;
	struct bkv *nv;
	size_t rec = 0, w, r;

	while (p < end) {
		rec++;
		if (*p != '*' || (n = strtoul(p + 1, &s, 10)) == 0 || n > 5 ||
		    end - s < 2 || s[0] != '\r' || s[1] != '\n')
			goto bad;
		p = s + 2;
		for (i = 0; i < n; i++)
			if ((a[i] = resp_bulk(&p, end)) == NULL)
				goto bad;
		if (strcasecmp(a[0], "flushdb") == 0 && n == 1) {
			b->n = 0;
			continue;
		}
		if (!((strcasecmp(a[0], "set") == 0 && (n == 3 || n == 5)) ||
		    (strcasecmp(a[0], "del") == 0 && n == 2)))
			goto bad;
		/* an absolute expiry ("ae") already past: as if deleted */
		if (n == 5 && strcasecmp(a[3], "ae") == 0 &&
		    strtoll(a[4], NULL, 10) <= (long long)ergo_now)
			n = 2;
		if (b->n == b->cap) {
			b->cap = b->cap == 0 ? 4096 : b->cap * 2;
			if ((nv = realloc(b->v, b->cap * sizeof(*nv))) == NULL) {
				fprintf(stderr, "ergo: importdb: %s: %s\n",
				    im->file, strerror(errno));
				return -1;
			}
			b->v = nv;
		}
		b->v[b->n].key = a[1];
		b->v[b->n].val = n >= 3 ? a[2] : NULL;
		b->v[b->n].seq = b->n;
		b->n++;
	}
	/* the last record of each key wins */
	qsort(b->v, b->n, sizeof(*b->v), bkv_cmp);
	for (r = 0, w = 0; r < b->n; r++) {
		if (r + 1 < b->n && strcmp(b->v[r].key, b->v[r + 1].key) == 0)
			continue;
		if (b->v[r].val != NULL)
			b->v[w++] = b->v[r];
	}
	b->n = w;
	return 0;
bad:
	fprintf(stderr, "ergo: importdb: %s: record %zu (byte %zu) is not a "
	    "buntdb SET or DEL record\n", im->file, rec, (size_t)(p - buf));
	return -1;
}

/* The value of key ("FORMAT" with one %s), or NULL. */
static const char *
bget(const struct bunt *b, const char *fmt, const char *arg)
{
	char key[512];
	size_t lo = 0, hi = b->n, mid;
	int c;

	snprintf(key, sizeof(key), fmt, arg);
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(key, b->v[mid].key)) == 0)
			return b->v[mid].val;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* Go's time.Time in JSON (RFC 3339) as Unix time; 0 if unreadable. */
static time_t
rfc3339(const char *s)
{
	int y, mo, d, h, mi, sec, oh = 0, om = 0;
	const char *z;
	int64_t t;

	if (s == NULL || strlen(s) < 19 || s[4] != '-' || s[7] != '-' ||
	    s[10] != 'T' || s[13] != ':' || s[16] != ':')
		return 0;
	y = util_digits(s, 4);
	mo = util_digits(s + 5, 2);
	d = util_digits(s + 8, 2);
	h = util_digits(s + 11, 2);
	mi = util_digits(s + 14, 2);
	sec = util_digits(s + 17, 2);
	if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 ||
	    mi < 0 || sec < 0)
		return 0;
	for (z = s + 19; *z == '.' || (*z >= '0' && *z <= '9'); z++)
		;
	if (*z == '+' || *z == '-') {
		oh = util_digits(z + 1, 2);
		om = util_digits(z + 4, 2);
		if (oh < 0 || z[3] != ':' || om < 0)
			return 0;
		if (*z == '-')
			oh = -oh, om = -om;
	} else if (*z != 'Z')
		return 0;
	if (y < 1971)
		return 0;	/* Go's zero time: unset */
	t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
	    h * 3600 + mi * 60 + sec - oh * 3600 - om * 60;
	return (time_t)t;
}

/* A JSON value of the database, parsed, or NULL (reported). */
static struct json *
bjson(struct imp *im, const char *what, const char *v)
{
	struct json *j;
	char err[160];

	if (v == NULL || *v == '\0')
		return NULL;
	if ((j = json_parse(v, strlen(v), err, sizeof(err))) == NULL)
		warn(im, "%s: not JSON (%s); ignored", what, err);
	return j;
}

static size_t
b64_field(const struct json *o, const char *key, unsigned char *dst,
    size_t sz)
{
	const struct json *j = json_get(o, key);

	if (j == NULL || j->type != JSON_STR)
		return 0;
	return util_b64_decode(dst, sz, j->s, strlen(j->s));
}

/* Ergo's account.credentials into a (SCRAM keys or a legacy hash). */
static void
bunt_creds(struct imp *im, const char *where, const struct json *cr,
    struct store_account *a)
{
	unsigned char hash[STORE_LEGACY_MAX];
	size_t n, sk, vk;
	int64_t version = 0, iters = 0;
	const char *pre;

	(void)json_int(json_get(cr, "Version"), &version);
	(void)json_int(json_get(cr, "Iters"), &iters);
	n = b64_field(cr, "Salt", a->salt, sizeof(a->salt));
	sk = b64_field(cr, "StoredKey", a->stored_key, sizeof(a->stored_key));
	vk = b64_field(cr, "ServerKey", a->server_key, sizeof(a->server_key));
	if (iters > 0 && iters <= 10000000 && n != (size_t)-1 && n > 0 &&
	    sk == STORE_KEYLEN && vk == STORE_KEYLEN) {
		/* exactly our credential: kept as it is */
		a->saltlen = n;
		a->iterations = (unsigned)iters;
		return;
	}
	memset(a->salt, 0, sizeof(a->salt));
	memset(a->stored_key, 0, sizeof(a->stored_key));
	memset(a->server_key, 0, sizeof(a->server_key));
	n = b64_field(cr, "PassphraseHash", hash, sizeof(hash) - 1);
	if (n == 0 || n == (size_t)-1) {
		warn(im, "%s: no password; it can log in only with a "
		    "certificate", where);
		return;
	}
	hash[n] = '\0';
	pre = version == 1 ? PWHASH_ERGO : version == -1 ? PWHASH_ATHEME :
	    version == -2 ? PWHASH_ANOPE : "ergo-v0:";
	if (strlen(pre) + n > STORE_LEGACY_MAX || strlen((char *)hash) != n) {
		warn(im, "%s: password hash not readable; not kept", where);
		return;
	}
	memcpy(a->legacy, pre, strlen(pre));
	memcpy(a->legacy + strlen(pre), hash, n + 1);
}

static void
bunt_account(struct imp *im, const struct bunt *b, const char *cf)
{
	struct store_account a;
	struct json *cr, *st, *e;
	const struct json *l;
	const char *v;
	char where[NICKLEN_MAX + 32], *nicks, *nick, *save;

	snprintf(where, sizeof(where), "account %s", cf);
	if (bget(b, "account.verified %s", cf) == NULL) {
		warn(im, "%s: never verified in Ergo; skipped", where);
		im->skipped++;
		return;
	}
	memset(&a, 0, sizeof(a));
	v = bget(b, "account.name %s", cf);
	snprintf(a.name, sizeof(a.name), "%s", v != NULL ? v : cf);
	if ((v = bget(b, "account.registered.time %s", cf)) != NULL)
		a.registered = ns_time(strtoll(v, NULL, 10));
	else
		a.registered = ergo_now;
	cr = bjson(im, where, bget(b, "account.credentials %s", cf));
	if (cr != NULL)
		bunt_creds(im, where, cr, &a);
	st = bjson(im, where, bget(b, "account.settings %s", cf));
	if ((l = json_get(st, "Email")) != NULL && l->type == JSON_STR &&
	    strlen(l->s) < sizeof(a.email))
		snprintf(a.email, sizeof(a.email), "%s", l->s);
	else if ((v = bget(b, "account.callback %s", cf)) != NULL &&
	    strncmp(v, "mailto:", 7) == 0 && strlen(v + 7) < sizeof(a.email))
		snprintf(a.email, sizeof(a.email), "%s", v + 7);
	json_free(st);
	if (bget(b, "account.suspended %s", cf) != NULL)
		warn(im, "%s: suspended in Ergo; imported, not suspended here "
		    "(no suspensions in this ergo)", where);
	if (account_add(im, &a) == -1) {
		json_free(cr);
		return;
	}
	if ((l = json_get(cr, "Certfps")) != NULL && l->type == JSON_ARR)
		for (e = l->child; e != NULL; e = e->next)
			if (e->type == JSON_STR)
				certfp_add(im, &a, e->s);
	json_free(cr);
	if ((v = bget(b, "account.additionalnicks %s", cf)) != NULL &&
	    (nicks = strdup(v)) != NULL) {
		for (nick = strtok_r(nicks, ",", &save); nick != NULL;
		    nick = strtok_r(NULL, ",", &save))
			nick_add(im, &a, nick);
		free(nicks);
	}
	if (bget(b, "account.vhost %s", cf) != NULL)
		warn(im, "%s: vhost not imported: this ergo has no per-account "
		    "vhosts", where);
}

/* AMODEs of a channel: {"account": mode}, the mode a number (a rune). */
static void
bunt_amodes(struct imp *im, const struct store_chan *ch,
    const struct json *m)
{
	const struct json *e;
	int64_t r;

	if (m == NULL || m->type != JSON_OBJ)
		return;
	for (e = m->child; e != NULL; e = e->next) {
		if (json_int(e, &r) == 0 && r > 0 && r < 128)
			amode_add(im, ch, e->key, (int)r);
		else if (e->type == JSON_STR && strlen(e->s) == 1)
			amode_add(im, ch, e->key, (unsigned char)e->s[0]);
	}
}

static unsigned
list_count(const struct json *j)
{
	unsigned n = 0;

	for (j = j != NULL ? j->child : NULL; j != NULL; j = j->next)
		n++;
	return n;
}

/*
 * Ergo's ban, exception and invite lists of a channel (each an object
 * of mask -> MaskInfo: TimeCreated, CreatorNickmask), kept as its +b +e
 * +I lists, each up to channels.max-list-entries.
 */
static void
chan_lists_add(struct imp *im, const struct store_chan *ch,
    const struct json *bans, const struct json *excepts,
    const struct json *invites)
{
	/* in the order store_chan_masks gives them back: I, b, e */
	const struct json *lists[3] = { invites, bans, excepts };
	static const char letters[] = "Ibe";
	const struct json *e, *w;
	struct store_mask *v;
	size_t n = 0, total = 0, k, in;
	int64_t t;

	for (k = 0; k < 3; k++)
		total += list_count(lists[k]);
	if (total == 0)
		return;
	if ((v = calloc(total, sizeof(*v))) == NULL) {
		warn(im, "channel %s: out of memory; its lists not imported",
		    ch->name);
		return;
	}
	for (k = 0; k < 3; k++) {
		if (lists[k] == NULL || lists[k]->type != JSON_OBJ)
			continue;
		for (in = 0, e = lists[k]->child; e != NULL; e = e->next) {
			if (e->key == NULL || !irc_mask_valid(e->key) ||
			    in >= conf->chan_max_list) {
				warn(im, "channel %s: +%c %s not imported",
				    ch->name, letters[k], e->key != NULL ?
				    e->key : "?");
				continue;
			}
			v[n].list = letters[k];
			v[n].mask = e->key;
			w = json_get(e, "CreatorNickmask");
			v[n].setter = w != NULL && w->type == JSON_STR &&
			    w->s[0] != '\0' ? w->s : "ergo-import";
			w = json_get(e, "TimeCreated");
			t = w != NULL && w->type == JSON_STR ? rfc3339(w->s) : 0;
			v[n].when = t > 0 ? (time_t)t : ergo_now;
			n++;
			in++;
		}
	}
	if (n > 0 && store_chan_masks_save(ch->id, v, n) == -1)
		warn(im, "channel %s: lists not kept: %s", ch->name,
		    store_error());
	else
		im->chan_masks += n;
	free(v);
}

/* The channel kept as "channel.FIELD CF" keys (Ergo before 2.12). */
static void
bunt_channel_old(struct imp *im, const struct bunt *b, const char *cf)
{
	struct chan_in in;
	struct store_chan ch;
	struct json *j, *e, *iv;
	const char *v;

	memset(&in, 0, sizeof(in));
	in.name = (v = bget(b, "channel.name %s", cf)) != NULL ? v : cf;
	in.founder = bget(b, "channel.founder %s", cf);
	if ((v = bget(b, "channel.registered.time %s", cf)) != NULL)
		in.registered = strtoll(v, NULL, 10);
	in.topic = bget(b, "channel.topic %s", cf);
	in.topic_by = bget(b, "channel.topic.setby %s", cf);
	if ((v = bget(b, "channel.topic.settime %s", cf)) != NULL)
		in.topic_at = strtoll(v, NULL, 10);
	in.modes = bget(b, "channel.modes %s", cf);
	in.key = bget(b, "channel.key %s", cf);
	if ((v = bget(b, "channel.userlimit %s", cf)) != NULL)
		in.limit = strtoll(v, NULL, 10);
	if (chan_add(im, &in, &ch) == -1)
		return;
	j = bjson(im, in.name, bget(b, "channel.accounttoumode %s", cf));
	bunt_amodes(im, &ch, j);
	json_free(j);
	j = bjson(im, in.name, bget(b, "channel.banlist %s", cf));
	e = bjson(im, in.name, bget(b, "channel.exceptlist %s", cf));
	iv = bjson(im, in.name, bget(b, "channel.invitelist %s", cf));
	chan_lists_add(im, &ch, j, e, iv);
	json_free(j);
	json_free(e);
	json_free(iv);
}

/* The channel as one JSON row of Ergo's datastore table 1 (2.12 on). */
static void
bunt_channel_new(struct imp *im, const char *uuid, const char *v)
{
	struct chan_in in;
	struct store_chan ch;
	struct json *j;
	const struct json *m, *e;
	char modes[64], what[80];
	size_t n = 0;
	int64_t r;

	snprintf(what, sizeof(what), "channel row %.40s", uuid);
	if ((j = bjson(im, what, v)) == NULL)
		return;
	memset(&in, 0, sizeof(in));
	in.name = jstr(im, what, j, "Name");
	in.founder = jstr(im, what, j, "Founder");
	in.registered = (int64_t)rfc3339(jstr(im, what, j, "RegisteredAt"));
	in.topic = jstr(im, what, j, "Topic");
	in.topic_by = jstr(im, what, j, "TopicSetBy");
	in.topic_at = (int64_t)rfc3339(jstr(im, what, j, "TopicSetTime"));
	in.key = jstr(im, what, j, "Key");
	in.limit = jint(im, what, j, "UserLimit");
	if ((m = json_get(j, "Modes")) != NULL && m->type == JSON_ARR)
		for (e = m->child; e != NULL; e = e->next)
			if (json_int(e, &r) == 0 && r > 32 && r < 127 &&
			    n + 1 < sizeof(modes))
				modes[n++] = (char)r;
	modes[n] = '\0';
	in.modes = modes;
	if (in.name == NULL) {
		warn(im, "%s: no Name; skipped", what);
		im->skipped++;
	} else if (chan_add(im, &in, &ch) == 0) {
		bunt_amodes(im, &ch, json_get(j, "AccountToUMode"));
		chan_lists_add(im, &ch, json_get(j, "Bans"),
		    json_get(j, "Excepts"), json_get(j, "Invites"));
	}
	json_free(j);
}

/* A D-line's network in irc_bans.c's canonical text, or -1. */
static int
dline_norm(const char *in, char *out, size_t sz)
{
	unsigned char a[16];
	char buf[INET6_ADDRSTRLEN + 8], ip[INET6_ADDRSTRLEN], *slash, *end;
	unsigned long bits;
	unsigned max, i;
	int fam;

	if (strlen(in) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", in);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	memset(a, 0, sizeof(a));
	if (inet_pton(AF_INET, buf, a) == 1)
		fam = AF_INET, max = 32;
	else if (inet_pton(AF_INET6, buf, a) == 1)
		fam = AF_INET6, max = 128;
	else
		return -1;
	bits = max;
	if (slash != NULL && ((bits = strtoul(slash, &end, 10)) > max ||
	    *end != '\0' || *slash == '\0'))
		return -1;
	for (i = 0; i < max / 8; i++)
		if (i * 8 >= bits)
			a[i] = 0;
		else if (i * 8 + 8 > bits)
			a[i] &= (unsigned char)(0xff << (8 - (bits - i * 8)));
	if (inet_ntop(fam, a, ip, sizeof(ip)) == NULL)
		return -1;
	if (bits == max)
		snprintf(out, sz, "%s", ip);
	else
		snprintf(out, sz, "%s/%lu", ip, bits);
	return 0;
}

/* "bans.dlinev2 NET" or "bans.klinev2 MASK": IPBanInfo as JSON. */
static void
bunt_ban(struct imp *im, int kind, const char *mask, const char *v)
{
	struct store_ban sb;
	struct json *j;
	const struct json *info;
	const char *reason, *oper, *at;
	char what[STORE_BAN_MASK_MAX + 32];
	int64_t dur = 0;

	snprintf(what, sizeof(what), "%s-line %.128s", kind == 'd' ? "D" : "K",
	    mask);
	if ((j = bjson(im, what, v)) == NULL)
		return;
	info = json_get(j, "Info") != NULL ? json_get(j, "Info") : j;
	memset(&sb, 0, sizeof(sb));
	sb.kind = (char)kind;
	if (kind == 'd') {
		if (dline_norm(mask, sb.mask, sizeof(sb.mask)) == -1) {
			warn(im, "%s: not an address or network; skipped", what);
			goto skip;
		}
	} else {
		/* Ergo's K-lines are nick!user@host masks; here user@host */
		const char *m = strncmp(mask, "*!", 2) == 0 ? mask + 2 : mask;
		size_t i;

		if (strchr(m, '!') != NULL || strchr(m, '@') == NULL ||
		    strlen(m) > STORE_BAN_MASK_MAX) {
			warn(im, "%s: not a user@host mask here; skipped", what);
			goto skip;
		}
		for (i = 0; m[i] != '\0'; i++)
			sb.mask[i] = (char)(m[i] >= 'A' && m[i] <= 'Z' ?
			    m[i] + 32 : m[i]);
		sb.mask[i] = '\0';
	}
	reason = jstr(im, what, info, "reason");
	oper = jstr(im, what, info, "oper_name");
	at = jstr(im, what, info, "TimeCreated");
	(void)json_int(json_get(info, "Duration"), &dur);
	snprintf(sb.reason, sizeof(sb.reason), "%s", reason != NULL &&
	    *reason != '\0' ? reason : "No reason given");
	snprintf(sb.setter, sizeof(sb.setter), "%s", oper != NULL &&
	    *oper != '\0' ? oper : "ergo-import");
	sb.set_at = rfc3339(at) != 0 ? rfc3339(at) : ergo_now;
	sb.expires = dur > 0 ? sb.set_at + (time_t)(dur / 1000000000) : 0;
	if (json_get(info, "RequireSASL") != NULL &&
	    json_get(info, "RequireSASL")->b)
		warn(im, "%s: a soft ban (SASL required) in Ergo; imported as "
		    "a full one", what);
	if (sb.expires != 0 && sb.expires < ergo_now)
		goto done;	/* expired meanwhile */
	if (store_ban_set(&sb) == -1)
		warn(im, "%s: not kept: %s", what, store_error());
	else
		im->bans++;
	goto done;
skip:
	im->skipped++;
done:
	json_free(j);
}

/* Key prefixes that are read, or knowingly left: not reported one by
 * one as unknown. */
static const char *const bunt_read[] = {
	"account.exists ", "account.verified ", "account.name ",
	"account.registered.time ", "account.credentials ",
	"account.settings ", "account.callback ", "account.additionalnicks ",
	"account.vhost ", "account.suspended ", "account.creds.certfp ",
	"account.channels ", "channel.", "bans.dlinev2 ", "bans.klinev2 ",
	"crypto.cloak_secret", "db.version", "1 ", NULL
};

static int
import_bunt(struct imp *im, char *text, size_t len)
{
	struct bunt b;
	const char *v;
	char prev[64] = "", pre[64], sec[257];
	size_t i, k, same = 0;
	bool known;

	memset(&b, 0, sizeof(b));
	if (bunt_load(im, text, len, &b) == -1) {
		free(b.v);
		return -1;
	}
	if (store_open(im->dbpath) == -1 || store_bulk(true) == -1) {
		free(b.v);
		return -1;
	}
	if ((v = bget(&b, "%sdb.version", "")) != NULL)
		fprintf(stderr, "ergo: importdb: %s: Ergo database, schema "
		    "version %s, %zu keys\n", im->file, v, b.n);
	else
		warn(im, "no db.version key: is this Ergo's database?");
	/* accounts first: channels name their founders and AMODEs */
	for (i = 0; i < b.n; i++)
		if (strncmp(b.v[i].key, "account.exists ", 15) == 0)
			bunt_account(im, &b, b.v[i].key + 15);
	for (i = 0; i < b.n; i++) {
		if (strncmp(b.v[i].key, "channel.exists ", 15) == 0)
			bunt_channel_old(im, &b, b.v[i].key + 15);
		else if (strncmp(b.v[i].key, "1 ", 2) == 0)
			bunt_channel_new(im, b.v[i].key + 2, b.v[i].val);
		else if (strncmp(b.v[i].key, "bans.dlinev2 ", 13) == 0)
			bunt_ban(im, 'd', b.v[i].key + 13, b.v[i].val);
		else if (strncmp(b.v[i].key, "bans.klinev2 ", 13) == 0)
			bunt_ban(im, 'k', b.v[i].key + 13, b.v[i].val);
	}
	if ((v = bget(&b, "%scrypto.cloak_secret", "")) != NULL && *v != '\0') {
		if (store_meta_get("cloak-secret", sec, sizeof(sec)) == 1 &&
		    sec[0] != '\0' && strcmp(sec, v) != 0)
			warn(im, "cloak secret not imported: this database has "
			    "its own already");
		else if (strlen(v) >= sizeof(sec) ||
		    store_meta_set("cloak-secret", v) == -1)
			warn(im, "cloak secret not imported");
		else
			fprintf(stderr, "ergo: importdb: %s: cloak secret "
			    "imported (cloaks still differ from Ergo's: the "
			    "cloak function is not the same)\n", im->file);
	}
	/* the rest, one line per kind of key (its prefix) */
	for (i = 0; i <= b.n; i++) {
		pre[0] = '\0';
		if (i < b.n) {
			for (k = 0, known = false; bunt_read[k] != NULL; k++)
				if (strncmp(b.v[i].key, bunt_read[k],
				    strlen(bunt_read[k])) == 0)
					known = true;
			if (!known)
				snprintf(pre, sizeof(pre), "%.*s", (int)strcspn(
				    b.v[i].key, " "), b.v[i].key);
		}
		if (strcmp(pre, prev) == 0) {
			same++;
			continue;
		}
		if (prev[0] != '\0')
			warn(im, "%zu \"%s\" keys not imported (not kept by "
			    "this ergo)", same, prev);
		snprintf(prev, sizeof(prev), "%s", pre);
		same = 1;
	}
	free(b.v);
	return 0;
}

int
ergo_import_db(const char *file, const char *dbpath)
{
	struct imp im;
	char *text;
	size_t len, i;
	int rc;

	memset(&im, 0, sizeof(im));
	im.file = file;
	im.dbpath = dbpath;
	ergo_clock();	/* ergo_now: "now" for missing times, expiries */
	if ((text = slurp(file, &len)) == NULL)
		return -1;
	for (i = 0; i < len && strchr(" \t\r\n", text[i]) != NULL; i++)
		;
	if (i < len && (text[i] == '{' || (len - i >= 3 &&
	    memcmp(text + i, "\xef\xbb\xbf", 3) == 0)))
		rc = import_json(&im, text, len);
	else if (i < len && text[i] == '*')
		rc = import_bunt(&im, text, len);
	else {
		fprintf(stderr, "ergo: importdb: %s: neither Ergo's JSON import "
		    "format nor its buntdb database\n", file);
		rc = -1;
	}
	free(text);
	if (rc == 0)
		fprintf(stderr, "ergo: importdb: %s: %u accounts (%u with an "
		    "imported password hash, %u of them of a scheme not "
		    "supported), %u channels, %u K/D-lines, %u channel list "
		    "entries imported; %u records skipped, %u warnings\n", file,
		    im.accounts, im.legacy, im.unsupported, im.channels, im.bans,
		    im.chan_masks, im.skipped, im.warnings);
	return rc;
}
