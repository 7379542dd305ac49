/*
 * irc_throttle.c: the throttles: fixed-window counters by key (an
 * address key from net_addr_key, or "acct:NAME"), one table each for
 * failed logins, registrations and connections. Counts only; callers
 * decide what a full count means and what the client is told.
 *
 * A table that can be made to forget is no limit: if a flood of new
 * keys could push out the counter of an address at its limit, that
 * address would start again at zero. So a live counter (one whose
 * window has not ended) is never dropped to make room:
 *
 *  - an ended window's slot is reused first, and the table grows
 *    (doubling, at half load) from THROTTLE_MIN up to THROTTLE_MAX
 *    slots, so an ordinary server never meets the next case;
 *  - at THROTTLE_MAX with every slot of a key's probe run live, the
 *    newcomer takes the slot of the run's lowest count and INHERITS
 *    that count (Metwally et al.'s "Space-Saving" counting). No key is
 *    ever counted lower than it really is: the one pushed out had the
 *    least, and if it comes back it inherits a count at least as high
 *    from the run it left. A flood of fresh addresses, each at a low
 *    count, is thus let in (not everyone is locked out) while the
 *    abuser at its limit stays refused (not everyone is let through).
 *    Only a flood that brings a whole run to the limit refuses
 *    newcomers, and only until those windows end.
 *
 * Keys are stored as a 128-bit digest under a random secret: 32 bytes
 * a slot (512 KiB a table at most, 8 KiB while small), and no client
 * can choose addresses that crowd one run of slots.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bearssl.h>

#include "irc_throttle.h"
#include "log.h"
#include "util.h"

#define THROTTLE_MIN	256		/* slots; powers of two */
#define THROTTLE_MAX	16384
#define THROTTLE_PROBE	8		/* slots a key may live in */
#define THROTTLE_SAY_MS	(10 * 60 * 1000)	/* "table full" at most */
#define THROTTLE_COMPACT_MS	(60 * 1000)	/* at MAX: ended windows out */

struct tslot {
	unsigned char	 id[16];	/* digest of the key */
	uint32_t	 n;
	uint64_t	 end_ms;	/* window ends; 0: never used */
};

struct ttab {
	struct tslot	*s;
	size_t		 size;
	size_t		 used;		/* slots with end_ms != 0 */
	uint64_t	 next_compact_ms;	/* at THROTTLE_MAX */
	uint64_t	 said_ms;	/* "full" logged until then */
};

static struct ttab	 ttabs[THROTTLE_NTABS];
static unsigned char	 secret[32];
static bool		 have_secret;
static const char *const tnames[THROTTLE_NTABS] = {
	"failed-login", "registration", "connection"
};

static void
digest(const char *key, unsigned char id[16])
{
	br_sha256_context sc;
	unsigned char h[32];

	if (!have_secret) {
		/* without randomness the counts still hold; only crowding
		 * one run of slots becomes possible */
		if (ergo_random(secret, sizeof(secret)) == -1)
			log_warn("server", "throttle secret");
		have_secret = true;
	}
	br_sha256_init(&sc);
	br_sha256_update(&sc, secret, sizeof(secret));
	br_sha256_update(&sc, key, strlen(key));
	br_sha256_out(&sc, h);
	memcpy(id, h, 16);
}

static size_t
home(const struct ttab *t, const unsigned char id[16])
{
	size_t h = 0;
	int i;

	for (i = 0; i < 8; i++)
		h = h << 8 | id[i];
	return h & (t->size - 1);
}

static bool
live(const struct tslot *s)
{
	return s->end_ms > ergo_now_ms;
}

/*
 * The slot holding id in its probe run, or NULL; *fr gets the run's
 * first dead (free or ended) slot and *least its live slot with the
 * lowest count (NULL if none).
 */
static struct tslot *
probe(struct ttab *t, const unsigned char id[16], struct tslot **fr,
    struct tslot **least)
{
	size_t h = home(t, id), i;

	*fr = *least = NULL;
	for (i = 0; i < THROTTLE_PROBE; i++) {
		struct tslot *s = &t->s[(h + i) & (t->size - 1)];

		if (!live(s)) {
			if (*fr == NULL)
				*fr = s;
		} else if (memcmp(s->id, id, 16) == 0)
			return s;
		else if (*least == NULL || s->n < (*least)->n)
			*least = s;
	}
	return NULL;
}

/* Puts live slot e into t (being rebuilt, so e is not in it yet). */
static void
place(struct ttab *t, const struct tslot *e)
{
	struct tslot *fr, *least;

	(void)probe(t, e->id, &fr, &least);
	if (fr != NULL) {
		if (fr->end_ms == 0)
			t->used++;
		*fr = *e;
	} else if (least->n < e->n)	/* Space-Saving: keep the higher */
		*least = *e;
}

/*
 * Rebuilds t with only its live slots, at the smallest size (at least
 * min, within THROTTLE_MIN..MAX) that leaves it at most a quarter full,
 * so the next rebuild is that many new keys away. Also how a table
 * shrinks after a flood. On no memory, t stays as it is.
 */
static void
rebuild(struct ttab *t, size_t min)
{
	struct ttab n = *t;
	size_t i, nlive = 0;

	for (i = 0; i < t->size; i++)
		if (live(&t->s[i]))
			nlive++;
	for (n.size = THROTTLE_MIN; n.size < THROTTLE_MAX &&
	    ((nlive + 1) * 4 > n.size || n.size < min); n.size *= 2)
		;
	if ((n.s = calloc(n.size, sizeof(*n.s))) == NULL) {
		log_warn("server", "throttle table of %zu", n.size);
		t->next_compact_ms = ergo_now_ms + THROTTLE_COMPACT_MS;
		return;
	}
	n.used = 0;
	for (i = 0; i < t->size; i++)
		if (live(&t->s[i]))
			place(&n, &t->s[i]);
	free(t->s);
	*t = n;
	if (t->size == THROTTLE_MAX)	/* O(size): not on every key */
		t->next_compact_ms = ergo_now_ms + THROTTLE_COMPACT_MS;
}

/*
 * The slot counting key, if with create one is made for it; *would gets
 * the count the key has, or would start with (0, or an inherited one).
 */
static struct tslot *
slot(int tab, const char *key, uint64_t window_ms, bool create,
    unsigned *would)
{
	struct ttab *t = &ttabs[tab];
	struct tslot *s, *fr, *least;
	unsigned char id[16];

	*would = 0;
	if (t->s == NULL) {
		if (!create)
			return NULL;
		if ((t->s = calloc(THROTTLE_MIN, sizeof(*t->s))) == NULL) {
			log_warn("server", "throttle table");
			return NULL;
		}
		t->size = THROTTLE_MIN;
	}
	digest(key, id);
	if ((s = probe(t, id, &fr, &least)) != NULL) {
		*would = s->n;
		return s;
	}
	/* half full: grow (or at THROTTLE_MAX, now and then, compact),
	 * which leaves room; a peek needs no room to know the count is 0 */
	if (t->used * 2 >= t->size && t->size < THROTTLE_MAX && !create)
		return NULL;
	if (create && t->used * 2 >= t->size && (t->size < THROTTLE_MAX ||
	    ergo_now_ms >= t->next_compact_ms)) {
		rebuild(t, 0);
		(void)probe(t, id, &fr, &least);
	}
	if (fr == NULL && t->size < THROTTLE_MAX) {
		if (!create)
			return NULL;
		rebuild(t, t->size * 2);	/* an unlucky run: room is cheap */
		(void)probe(t, id, &fr, &least);
	}
	if (fr != NULL) {
		if (!create)
			return NULL;
		if (fr->end_ms == 0)
			t->used++;
		s = fr;
		s->n = 0;
	} else {
		*would = least->n;
		if (!create)
			return NULL;
		if (ergo_now_ms >= t->said_ms) {
			log_warnx("server", "%s throttle table full at %zu "
			    "keys: a new key inherits the lowest live count "
			    "of its slots", tnames[tab], t->size);
			t->said_ms = ergo_now_ms + THROTTLE_SAY_MS;
		}
		s = least;
	}
	memcpy(s->id, id, 16);
	s->end_ms = ergo_now_ms + window_ms;
	return s;
}

bool
irc_throttle_full(int tab, const char *key, unsigned max,
    uint64_t window_ms)
{
	unsigned n;

	(void)slot(tab, key, window_ms, false, &n);
	return n >= max;
}

unsigned
irc_throttle_count(int tab, const char *key, uint64_t window_ms)
{
	unsigned n;
	struct tslot *s = slot(tab, key, window_ms, true, &n);

	if (s == NULL)
		return n;
	if (s->n < UINT32_MAX)
		s->n++;
	return s->n;
}
