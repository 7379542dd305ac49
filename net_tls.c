/*
 * net_tls.c: TLS for net.c on BearSSL's engine API. Owns one server
 * engine per connection (net_tls_cred.c loads the certificate chains and
 * keys they present), the session cache and the client certificate's
 * fingerprint. Touches a socket only to move records for net.c; never
 * parses IRC.
 *
 * The engine's state flags map onto poll: RECVREC wants POLLIN, SENDREC
 * wants POLLOUT. Sessions are resumed from a small per-certificate LRU
 * cache (session IDs); the cache keeps each session's client certificate
 * fingerprint beside it, and a session whose fingerprint is not there is
 * not resumed, so CertFP never silently vanishes.
 */
#if !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE	/* MAP_ANONYMOUS, madvise: glibc and musl declare
			 * them only so */
#endif
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bearssl.h>

#include "ergo.h"
#include "log.h"
#include "util.h"
#include "net_tls.h"
#include "net_tls_int.h"

/*
 * Input must hold a whole 16 KiB record. The engine's own output buffer
 * takes the handshake's records and alerts: application data is sealed
 * in the shared gather (see out_at), in records of up to 16 KiB.
 */
#define TLS_IBUF	BR_SSL_BUFSIZE_INPUT
#define TLS_OBUF	(2048 + 85)
#define PAGE		4096

/* One resumable session's client certificate, beside BearSSL's cache. */
struct sess_fp {
	unsigned char	 id[32];	/* session ID; all zero: free */
	time_t		 at;		/* when the full handshake was done */
	bool		 have_fp;
	char		 fp[65];	/* the client's certfp, as tls_conn's */
};

/*
 * Session cache: BearSSL's LRU (session ID -> master secret) wrapped so
 * that a save also records the connection's client certificate and a
 * load succeeds only while that record is there and young enough. The
 * side table is direct-mapped by session ID (random bytes): a collision
 * only costs one later full handshake.
 */
struct sess_cache {
	const br_ssl_session_cache_class *vtable;	/* first */
	br_ssl_session_cache_lru	 lru;
	unsigned char			*store;
	struct sess_fp			*fps;
	size_t				 mask;		/* fps has mask+1 */
	unsigned			 lifetime;	/* seconds */
};

/*
 * An X.509 "validator" that accepts any chain (self-signed client
 * certificates are the norm on IRC) and keeps the leaf's key, for the
 * CertificateVerify check, and its SHA-256.
 */
struct anycert {
	const br_x509_class	*vtable;
	struct tls_conn		*t;
	br_x509_decoder_context	 dec;
	br_sha256_context	 sha;
	unsigned		 ncert;
	bool			 leaf_done;
};

/*
 * One connection: the engine and these fields, ~4.3 KiB, packed in
 * slots of one pool, every byte of them resident while it lives; its
 * record buffers apart (bufs: the output buffer, then the input one),
 * in page-aligned slots of another, so that the pages of an idle
 * connection's buffers can be given back (see tls_conn_sweep).
 */
struct tls_conn {
	br_ssl_server_context	 sc;		/* first: the cache casts */
	struct slab		*slab, *bslab;	/* where it and bufs were carved */
	struct slab		*xslab;		/* and x */
	unsigned char		*bufs;		/* TLS_OBUF, then TLS_IBUF */
	struct tls_conn		*bprev, *bnext;	/* the busy list (busy) */
	uint32_t		 last;		/* second of the last read/write */
	uint16_t		 ihi;		/* input bytes read into bufs'
						 * resident pages (wiped at close) */
	bool			 busy;		/* on the busy list */
	bool			 have_fp;
	bool			 shook;		/* the handshake was done */
	bool			 from_cache;	/* fp from the session cache */
	bool			 client;	/* a client engine (see out_at) */
	int			 first;		/* first byte read, or -1 */
	struct anycert		*x;		/* freed after the handshake */
	struct tls_cred		*cred;
	unsigned char		*pend;		/* records the socket did not */
	size_t			 plen, poff;	/* take yet (see gather) */
	char			 fp[65];
};
#define TLS_CONN_SLOT	((sizeof(struct tls_conn) + 63) / 64 * 64)
#define TLS_BUFS_SLOT	((TLS_OBUF + TLS_IBUF + PAGE - 1) / PAGE * PAGE)
#define ANYCERT_SLOT	((sizeof(struct anycert) + 63) / 64 * 64)

/*
 * Both kinds are carved from slabs of slots, each slab a mapping of its
 * own (from the heap, page-aligned slots left a ~4 KiB hole before
 * each, which small allocations then spread over: a third resident page
 * per client; and only pages ergo mapped itself may be replaced, below).
 * A free slot's index waits on its slab's stack, not in the slot (whose
 * pages may have been given back). A slab whose slots are all free is
 * unmapped, unless it is the only one with room.
 */
#define SLAB_SLOTS	64

struct pool {
	size_t		 size;		/* of a slot */
	struct slab	*room;		/* slabs with a free slot */
};

struct slab {
	struct slab	*next, *prev;	/* on its pool's room list */
	struct pool	*pool;
	unsigned char	*mem;
	unsigned	 nfree;
	unsigned char	 freeidx[SLAB_SLOTS];
};

static struct pool	 conns = { TLS_CONN_SLOT, NULL };
static struct pool	 bufs = { TLS_BUFS_SLOT, NULL };
/* validators too: from the heap, each handshake's 1.3 KiB, freed as the
 * client's own allocations came, left holes (~0.25 KiB per TLS client) */
static struct pool	 certs = { ANYCERT_SLOT, NULL };

static size_t
slab_len(const struct pool *p)
{
	return (p->size * SLAB_SLOTS + PAGE - 1) / PAGE * PAGE;
}

static void
slab_unlink(struct slab *sl)
{
	if (sl->prev != NULL)
		sl->prev->next = sl->next;
	else
		sl->pool->room = sl->next;
	if (sl->next != NULL)
		sl->next->prev = sl->prev;
	sl->next = sl->prev = NULL;
}

static void
slab_link(struct slab *sl)
{
	sl->prev = NULL;
	sl->next = sl->pool->room;
	if (sl->pool->room != NULL)
		sl->pool->room->prev = sl;
	sl->pool->room = sl;
}

/*
 * Gives back the pages of [p, p+len), ours: the memory reads as zeros
 * again and no longer counts as resident. Linux: MADV_DONTNEED, which
 * defines exactly that for private anonymous memory; elsewhere fresh
 * pages mapped over them (MAP_FIXED, on a mapping of our own). Only
 * Linux's way was run here.
 */
static bool
pages_drop(void *p, size_t len)
{
#if defined(__linux__) && defined(MADV_DONTNEED)
	return madvise(p, len, MADV_DONTNEED) == 0;
#else
	return mmap(p, len, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED;
#endif
}

static void *
slot_get(struct pool *p, struct slab **slp)
{
	struct slab *sl = p->room;
	void *mem;
	unsigned i;

	if (sl == NULL) {
		if ((sl = calloc(1, sizeof(*sl))) == NULL)
			return NULL;
		if ((mem = mmap(NULL, slab_len(p), PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED) {
			free(sl);
			return NULL;
		}
		sl->mem = mem;
		sl->pool = p;
		for (i = 0; i < SLAB_SLOTS; i++)	/* slot 0 first */
			sl->freeidx[i] = (unsigned char)(SLAB_SLOTS - 1 - i);
		sl->nfree = SLAB_SLOTS;
		slab_link(sl);
	}
	i = sl->freeidx[--sl->nfree];
	if (sl->nfree == 0)
		slab_unlink(sl);
	*slp = sl;
	return sl->mem + (size_t)i * p->size;
}

static void
slot_put(struct slab *sl, void *slot)
{
	struct pool *p = sl->pool;

	if (sl->nfree == 0)
		slab_link(sl);
	sl->freeidx[sl->nfree++] = (unsigned char)(((unsigned char *)slot -
	    sl->mem) / p->size);
	if (sl->nfree == SLAB_SLOTS && (sl->next != NULL ||
	    sl->prev != NULL)) {
		slab_unlink(sl);
		munmap(sl->mem, slab_len(p));
		free(sl);
	}
}

/*
 * The busy list: connections whose buffers may hold resident pages,
 * oldest read or write first (moved to the end at most once a second
 * each). tls_conn_sweep gives back the buffers of those idle long
 * enough.
 */
static struct tls_conn	*busy_head, *busy_tail;

static uint32_t
now_s(void)
{
	return (uint32_t)(ergo_now_ms / 1000);
}

static void
busy_unlink(struct tls_conn *t)
{
	if (t->bprev != NULL)
		t->bprev->bnext = t->bnext;
	else
		busy_head = t->bnext;
	if (t->bnext != NULL)
		t->bnext->bprev = t->bprev;
	else
		busy_tail = t->bprev;
	t->bprev = t->bnext = NULL;
	t->busy = false;
}

/* Before the engine touches its buffers: t is busy as of now. */
static void
busy_touch(struct tls_conn *t)
{
	uint32_t now = now_s();

	if (t->busy) {
		if (t->last == now || busy_tail == t) {
			t->last = now;
			return;
		}
		busy_unlink(t);
	}
	t->last = now;
	t->busy = true;
	t->bnext = NULL;
	t->bprev = busy_tail;
	if (busy_tail != NULL)
		busy_tail->bnext = t;
	else
		busy_head = t;
	busy_tail = t;
}

/* CN=ergo: BearSSL requests a client certificate only if it has names. */
static const unsigned char ta_dn[] = {
	0x30, 0x0f, 0x31, 0x0d, 0x30, 0x0b, 0x06, 0x03, 0x55, 0x04, 0x03,
	0x0c, 0x04, 'e', 'r', 'g', 'o'
};
static const br_x500_name ta_names[] = {
	{ (unsigned char *)(uintptr_t)ta_dn, sizeof(ta_dn) }
};

/*
 * ECDHE only (forward secrecy), AEAD first; the server's order wins.
 * ChaCha20 first, unless the CPU has AES and carry-less multiply
 * instructions (impl_init swaps the first four): BearSSL's AES-GCM on
 * them costs less per byte than its ChaCha20-Poly1305, and every
 * channel line is encrypted once per TLS member.
 */
static uint16_t suites[] = {
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
	BR_TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
};

/*
 * Zeroes secrets in a way the compiler may not drop as a dead store: a
 * call through a volatile pointer it cannot see through, at memset's
 * speed (a byte loop through a volatile pointer was 5 instructions a
 * byte, over the whole 23 KiB of an engine at every disconnect).
 */
static void *(*const volatile wipe_fn)(void *, int, size_t) = memset;

void
explicit_wipe(void *p, size_t n)
{
	(void)wipe_fn(p, 0, n);
}

void
hex(char *out, const unsigned char *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ---- the session cache ---- */

/*
 * BearSSL's LRU entry is 100 bytes (the session ID, the master secret,
 * version, suite and tree links); ours beside it ~110.
 */
#define LRU_ENTRY	100

static struct sess_fp *
cache_slot(struct sess_cache *sc, const unsigned char *id)
{
	size_t h = (size_t)id[0] | (size_t)id[1] << 8 | (size_t)id[2] << 16 |
	    (size_t)id[3] << 24;

	return &sc->fps[h & sc->mask];
}

/* After a full handshake: BearSSL saves it; we note its certificate. */
static void
cache_save(const br_ssl_session_cache_class **ctx,
    br_ssl_server_context *server_ctx, const br_ssl_session_parameters *params)
{
	struct sess_cache *sc = (struct sess_cache *)(void *)ctx;
	struct tls_conn *t = (struct tls_conn *)(void *)server_ctx;
	struct sess_fp *e;

	if (t->from_cache) {
		/* a load whose resumption BearSSL then declined, and the
		 * full handshake brought no certificate */
		t->from_cache = false;
		t->have_fp = false;
		t->fp[0] = '\0';
	}
	if (params->session_id_len != 32)
		return;
	sc->lru.vtable->save(&sc->lru.vtable, server_ctx, params);
	e = cache_slot(sc, params->session_id);
	memcpy(e->id, params->session_id, 32);
	e->have_fp = t->have_fp;
	memcpy(e->fp, t->fp, sizeof(e->fp));
	e->at = ergo_now;
}

/*
 * A ClientHello offers a session ID: resumed only while its certificate
 * record is there and young. BearSSL may still go on to a full
 * handshake after a load (the client no longer offers the session's
 * suite, say): then the fingerprint set here is replaced by the chain
 * the client sends (any_start_chain) or cleared at the save.
 */
static int
cache_load(const br_ssl_session_cache_class **ctx,
    br_ssl_server_context *server_ctx, br_ssl_session_parameters *params)
{
	struct sess_cache *sc = (struct sess_cache *)(void *)ctx;
	struct tls_conn *t = (struct tls_conn *)(void *)server_ctx;
	struct sess_fp *e;

	if (params->session_id_len != 32)
		return 0;
	e = cache_slot(sc, params->session_id);
	if (memcmp(e->id, params->session_id, 32) != 0 ||
	    ergo_now < e->at || ergo_now - e->at >= (time_t)sc->lifetime ||
	    !sc->lru.vtable->load(&sc->lru.vtable, server_ctx, params))
		return 0;
	t->have_fp = e->have_fp;
	memcpy(t->fp, e->fp, sizeof(t->fp));
	t->from_cache = true;
	return 1;
}

static const br_ssl_session_cache_class cache_vtable = {
	sizeof(struct sess_cache),
	cache_save,
	cache_load
};

void
cache_free(struct sess_cache *sc)
{
	if (sc == NULL)
		return;
	explicit_wipe(sc->store, (size_t)(sc->mask + 1) * LRU_ENTRY);
	free(sc->store);
	free(sc->fps);
	free(sc);
}

int
tls_cred_set_cache(struct tls_cred *cr, unsigned entries, unsigned lifetime)
{
	struct sess_cache *sc;
	size_t n = 1;

	cache_free(cr->cache);
	cr->cache = NULL;
	if (entries == 0 || lifetime == 0)
		return 0;
	while (n < entries)
		n <<= 1;
	if ((sc = calloc(1, sizeof(*sc))) == NULL ||
	    (sc->store = malloc(n * LRU_ENTRY)) == NULL ||
	    (sc->fps = calloc(n, sizeof(*sc->fps))) == NULL) {
		if (sc != NULL)
			free(sc->store);
		free(sc);
		return -1;
	}
	sc->vtable = &cache_vtable;
	sc->mask = n - 1;
	sc->lifetime = lifetime;
	br_ssl_session_cache_lru_init(&sc->lru, sc->store, n * LRU_ENTRY);
	cr->cache = sc;
	return 0;
}

/* ---- the accept-anything client certificate validator ---- */

static void
any_start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct anycert *a = (struct anycert *)(void *)ctx;

	(void)server_name;
	a->t->from_cache = false;	/* a full handshake after all */
	a->t->have_fp = false;
	a->ncert = 0;
	a->leaf_done = false;
	br_x509_decoder_init(&a->dec, NULL, NULL);
	br_sha256_init(&a->sha);
}

static void
any_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct anycert *a = (struct anycert *)(void *)ctx;

	(void)length;
	a->ncert++;
}

static void
any_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	struct anycert *a = (struct anycert *)(void *)ctx;

	if (a->ncert != 1)
		return;		/* only the leaf matters */
	br_x509_decoder_push(&a->dec, buf, len);
	br_sha256_update(&a->sha, buf, len);
}

static void
any_end_cert(const br_x509_class **ctx)
{
	struct anycert *a = (struct anycert *)(void *)ctx;

	if (a->ncert == 1)
		a->leaf_done = true;
}

static unsigned
any_end_chain(const br_x509_class **ctx)
{
	struct anycert *a = (struct anycert *)(void *)ctx;
	struct tls_conn *t = a->t;
	unsigned char digest[32];

	if (!a->leaf_done || br_x509_decoder_get_pkey(&a->dec) == NULL)
		return BR_ERR_X509_INVALID_VALUE;	/* undecodable leaf */
	br_sha256_out(&a->sha, digest);
	hex(t->fp, digest, sizeof(digest));
	t->have_fp = true;
	return 0;
}

static const br_x509_pkey *
any_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	struct anycert *a = (struct anycert *)(void *)(uintptr_t)ctx;

	if (usages != NULL)
		*usages = BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN;
	return br_x509_decoder_get_pkey(&a->dec);
}

static const br_x509_class anycert_vtable = {
	sizeof(struct anycert),
	any_start_chain,
	any_start_cert,
	any_append,
	any_end_cert,
	any_end_chain,
	any_get_pkey
};

/* ---- engines ---- */

/*
 * The implementations br_ssl_server_init_full_* would pick, found once:
 * picking them asks the CPU (cpuid) three or four times, and in a
 * virtual machine each ask is a trap to the hypervisor (8 us each on
 * the bench machine), at every connection.
 */
static struct {
	bool				 done;
	const br_block_cbcenc_class	*aes_cbcenc;
	const br_block_cbcdec_class	*aes_cbcdec;
	const br_block_ctr_class	*aes_ctr;
	br_ghash			 ghash;
	br_chacha20_run			 chacha;
	br_poly1305_run			 poly;
	const br_ec_impl		*ec;
	br_ecdsa_vrfy			 ecdsa_vrfy;
	br_rsa_pkcs1_vrfy		 rsa_vrfy;
	br_ecdsa_sign			 ecdsa_sign;
	br_rsa_private			 rsa_priv;
	br_rsa_pkcs1_sign		 rsa_sign;
} impl;

static void
impl_init(void)
{
	static br_ssl_engine_context tmp;
	br_ssl_engine_context *eng = &tmp;

	/* one by one, not br_ssl_server_init_full_ec: that one links in
	 * 3DES and every other suite's code (8 KiB in the static build) */
	br_ssl_engine_set_default_aes_cbc(eng);
	br_ssl_engine_set_default_aes_gcm(eng);
	br_ssl_engine_set_default_chapol(eng);
	impl.aes_cbcenc = eng->iaes_cbcenc;
	impl.aes_cbcdec = eng->iaes_cbcdec;
	impl.aes_ctr = eng->iaes_ctr;
	impl.ghash = eng->ighash;
	impl.chacha = eng->ichacha;
	impl.poly = eng->ipoly;
	if (impl.aes_ctr != NULL && impl.aes_ctr == br_aes_x86ni_ctr_get_vtable()
	    && impl.ghash == br_ghash_pclmul_get()) {
		uint16_t a = suites[0], b = suites[1];

		suites[0] = suites[2];
		suites[1] = suites[3];
		suites[2] = a;
		suites[3] = b;
	}
	impl.ec = br_ec_get_default();
	impl.ecdsa_vrfy = br_ecdsa_vrfy_asn1_get_default();
	impl.rsa_vrfy = br_rsa_pkcs1_vrfy_get_default();
	impl.ecdsa_sign = br_ecdsa_sign_asn1_get_default();
	impl.rsa_priv = br_rsa_private_get_default();
	impl.rsa_sign = br_rsa_pkcs1_sign_get_default();
	impl.done = true;
}

/*
 * What br_ssl_server_init_full_* sets, for our suites only: the record
 * layers of ChaCha20-Poly1305, AES-GCM and AES-CBC; PRFs and hashes of
 * TLS 1.2 (MD5 and the 1.0/1.1 PRF only when min-version allows those);
 * SHA-1 for the CBC suites' HMAC.
 */
static void
engine_common(br_ssl_engine_context *eng, unsigned min_version)
{
	br_ssl_engine_set_versions(eng, min_version, BR_TLS12);
	br_ssl_engine_set_suites(eng, suites, sizeof(suites) /
	    sizeof(suites[0]));
	br_ssl_engine_set_hash(eng, br_sha1_ID, &br_sha1_vtable);
	br_ssl_engine_set_hash(eng, br_sha256_ID, &br_sha256_vtable);
	br_ssl_engine_set_hash(eng, br_sha384_ID, &br_sha384_vtable);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	if (min_version < BR_TLS12) {
		br_ssl_engine_set_hash(eng, br_md5_ID, &br_md5_vtable);
		br_ssl_engine_set_prf10(eng, &br_tls10_prf);
	}
	br_ssl_engine_set_cbc(eng, &br_sslrec_in_cbc_vtable,
	    &br_sslrec_out_cbc_vtable);
	br_ssl_engine_set_aes_cbc(eng, impl.aes_cbcenc, impl.aes_cbcdec);
	br_ssl_engine_set_gcm(eng, &br_sslrec_in_gcm_vtable,
	    &br_sslrec_out_gcm_vtable);
	br_ssl_engine_set_aes_ctr(eng, impl.aes_ctr);
	br_ssl_engine_set_ghash(eng, impl.ghash);
	br_ssl_engine_set_chapol(eng, &br_sslrec_in_chapol_vtable,
	    &br_sslrec_out_chapol_vtable);
	br_ssl_engine_set_chacha20(eng, impl.chacha);
	br_ssl_engine_set_poly1305(eng, impl.poly);
	/* X25519 first when offered, then P-256 (BearSSL's own order) */
	br_ssl_engine_set_ec(eng, impl.ec);
	br_ssl_engine_set_ecdsa(eng, impl.ecdsa_vrfy);
	br_ssl_engine_set_rsavrfy(eng, impl.rsa_vrfy);
}

static void
engine_setup(struct tls_conn *t, const struct tls_cred *cr,
    unsigned min_version)
{
	br_ssl_server_zero(&t->sc);
	engine_common(&t->sc.eng, min_version);
	if (cr->key_type == BR_KEYTYPE_RSA)
		br_ssl_server_set_single_rsa(&t->sc, cr->chain, cr->nchain,
		    br_skey_decoder_get_rsa(&cr->sk), BR_KEYTYPE_SIGN,
		    impl.rsa_priv, impl.rsa_sign);
	else
		br_ssl_server_set_single_ec(&t->sc, cr->chain, cr->nchain,
		    br_skey_decoder_get_ec(&cr->sk), BR_KEYTYPE_SIGN,
		    cr->issuer_type, impl.ec, impl.ecdsa_sign);
}

/*
 * A connection's slot, seeded: seed gets 32 random bytes for its engine
 * (never run an engine unseeded). NULL after writing err.
 */
static struct tls_conn *
conn_alloc(unsigned char seed[32], char *err, size_t errsz)
{
	struct tls_conn *t;
	struct slab *sl, *bsl = NULL, *xsl;
	unsigned char *b = NULL;

	if (ergo_random(seed, 32) == -1) {
		snprintf(err, errsz, "no entropy source for TLS: %s",
		    strerror(errno));
		return NULL;
	}
	if (!impl.done)
		impl_init();
	if ((t = slot_get(&conns, &sl)) == NULL ||
	    (b = slot_get(&bufs, &bsl)) == NULL ||
	    (t->x = slot_get(&certs, &xsl)) == NULL) {
		if (b != NULL)
			slot_put(bsl, b);
		if (t != NULL)
			slot_put(sl, t);
		explicit_wipe(seed, 32);
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	memset(t->x, 0, sizeof(*t->x));
	t->slab = sl;
	t->bslab = bsl;
	t->xslab = xsl;
	t->bufs = b;
	t->bprev = t->bnext = NULL;
	t->busy = false;
	t->client = false;
	t->last = 0;
	t->ihi = 0;
	return t;
}

/*
 * What server and client engines share once set up: cr held, any
 * certificate accepted (checked by the caller: certfp), the buffers,
 * and the seed, after which BearSSL's own OS seeding at reset (cpuid
 * and rdrand, traps in a virtual machine) is skipped.
 */
static void
conn_common(struct tls_conn *t, br_ssl_engine_context *eng,
    struct tls_cred *cr, unsigned char seed[32])
{
	t->have_fp = false;
	t->shook = false;
	t->pend = NULL;
	t->plen = t->poff = 0;
	t->from_cache = false;
	t->first = -1;
	t->fp[0] = '\0';
	t->cred = cr;
	if (cr != NULL)
		tls_cred_ref(cr);
	t->x->vtable = &anycert_vtable;
	t->x->t = t;
	br_ssl_engine_set_x509(eng, &t->x->vtable);
	br_ssl_engine_set_buffers_bidi(eng, t->bufs + TLS_OBUF, TLS_IBUF,
	    t->bufs, TLS_OBUF);
	br_ssl_engine_inject_entropy(eng, seed, 32);
	explicit_wipe(seed, 32);
	eng->rng_os_rand_done = 1;
}

/* reset's result: t, or NULL (t freed) after writing err */
static struct tls_conn *
conn_reset_done(struct tls_conn *t, int ok, char *err, size_t errsz)
{
	if (ok)
		return t;
	snprintf(err, errsz, "TLS engine reset failed (BearSSL error %d)",
	    br_ssl_engine_last_error(&t->sc.eng));
	tls_conn_free(t);
	return NULL;
}

struct tls_conn *
tls_conn_new(struct tls_cred *cr, unsigned min_version, char *err,
    size_t errsz)
{
	struct tls_conn *t;
	unsigned char seed[32];

	if ((t = conn_alloc(seed, err, errsz)) == NULL)
		return NULL;
	engine_setup(t, cr, min_version);	/* zeroes sc, not slab */
	br_ssl_engine_add_flags(&t->sc.eng, BR_OPT_ENFORCE_SERVER_PREFERENCES |
	    BR_OPT_NO_RENEGOTIATION | BR_OPT_TOLERATE_NO_CLIENT_AUTH);
	/* Client certificates: asked for, optional, any accepted. */
	conn_common(t, &t->sc.eng, cr, seed);
	br_ssl_server_set_trust_anchor_names(&t->sc, ta_names, 1);
	if (cr->cache != NULL)
		br_ssl_server_set_cache(&t->sc, &cr->cache->vtable);
	return conn_reset_done(t, br_ssl_server_reset(&t->sc), err, errsz);
}

/*
 * A client engine (server links we open) lives where a server engine
 * would: both begin with the engine context, which is all that the
 * reading and writing below touch.
 */
#ifndef ERGO_NO_TLS_LINKS
_Static_assert(sizeof(br_ssl_client_context) <= sizeof(br_ssl_server_context),
    "a client engine fits in a tls_conn");

struct tls_conn *
tls_conn_new_client(struct tls_cred *cr, char *err, size_t errsz)
{
	struct tls_conn *t;
	br_ssl_client_context *cc;
	unsigned char seed[32];

	if ((t = conn_alloc(seed, err, errsz)) == NULL)
		return NULL;
	cc = (br_ssl_client_context *)(void *)&t->sc;
	br_ssl_client_zero(cc);
	t->client = true;
	engine_common(&cc->eng, BR_TLS12);
	br_ssl_client_set_rsapub(cc, br_rsa_public_get_default());
	/* our certificate, for the peer to pin (its certfp of us) */
	if (cr != NULL && cr->key_type == BR_KEYTYPE_RSA)
		br_ssl_client_set_single_rsa(cc, cr->chain, cr->nchain,
		    br_skey_decoder_get_rsa(&cr->sk), impl.rsa_sign);
	else if (cr != NULL)
		br_ssl_client_set_single_ec(cc, cr->chain, cr->nchain,
		    br_skey_decoder_get_ec(&cr->sk), BR_KEYTYPE_SIGN,
		    cr->issuer_type, impl.ec, impl.ecdsa_sign);
	br_ssl_engine_add_flags(&cc->eng, BR_OPT_NO_RENEGOTIATION);
	/* the peer's chain is not checked against authorities: the link's
	 * certfp pins its leaf (checked by the caller) */
	conn_common(t, &cc->eng, cr, seed);
	return conn_reset_done(t, br_ssl_client_reset(cc, NULL, 0), err,
	    errsz);
}
#else
/* a build with -DERGO_NO_TLS_LINKS leaves BearSSL's client out (size) */
struct tls_conn *
tls_conn_new_client(struct tls_cred *cr, char *err, size_t errsz)
{
	(void)cr;
	snprintf(err, errsz, "this binary has no TLS links (built with "
	    "ERGO_NO_TLS_LINKS)");
	return NULL;
}
#endif

/*
 * The engine holds the keys: wiped. The buffers hold only records and
 * lines net.c has copied out, but records are decrypted in place, so
 * the input buffer holds the client's last lines (a NickServ password,
 * say) in the clear: wiped as far as reads reached into pages still
 * resident (ihi), and the output buffer if used since the last sweep.
 * The pages stay for the next connection (giving them back and
 * faulting them in again costs ~30 us of CPU on the bench VM, a
 * resumed handshake ~150), as wiping all 20 KiB would touch pages a
 * connection never used.
 */
void
tls_conn_free(struct tls_conn *t)
{
	if (t == NULL)
		return;
	if (t->busy) {
		busy_unlink(t);
		explicit_wipe(t->bufs, TLS_OBUF);
	}	/* else swept since: given back, or closed or mid-handshake */
	explicit_wipe(t->bufs + TLS_OBUF, t->ihi);
	tls_cred_unref(t->cred);
	if (t->x != NULL)
		slot_put(t->xslab, t->x);
	free(t->pend);
	explicit_wipe(&t->sc, sizeof(t->sc));
	slot_put(t->bslab, t->bufs);
	slot_put(t->slab, t);
}

size_t
tls_conn_size(void)
{
	return TLS_CONN_SLOT + TLS_BUFS_SLOT;
}

/*
 * Where the live bytes of t's buffers end (an offset in bufs; 0: none),
 * from the engine's registers (ssl_engine.c, BearSSL 0.6; the public
 * API's state flags cannot tell a record part-way from none). Input:
 * ibuf[0, ixb) holds a record's header and body received so far, or
 * decrypted data not yet taken (ixa..ixb); ixb is 0 only between
 * records. Output: oxa == oxc < oxb means an empty record being
 * gathered; otherwise obuf holds payload bytes not yet sealed (oxc..
 * oxa) or a record not yet sent (oxa..oxc).
 */
static size_t
bufs_live(const struct tls_conn *t)
{
	const br_ssl_engine_context *eng = &t->sc.eng;
	size_t in = 0, out = 0;

	if (eng->ixb > 0)
		in = (size_t)(eng->ibuf - t->bufs) + eng->ixb;
	if (eng->oxa != eng->oxc || eng->oxa >= eng->oxb)
		out = (size_t)(eng->obuf - t->bufs) +
		    (eng->oxa > eng->oxc ? eng->oxa : eng->oxc);
	return in > out ? in : out;
}

/*
 * The pages of t's buffers past their live bytes, [*p, *p + *len), to
 * be given back; false if none. Only once the handshake is done (with
 * renegotiation off the engine then keeps nothing else in them: the
 * handshake code's pointers into them are set afresh each time it
 * runs) and while the engine is open. The engine keeps its pointers:
 * the next record's bytes land in fresh zero pages, whose old content
 * was dead anyway.
 */
static bool
bufs_idle(struct tls_conn *t, unsigned char **p, size_t *len)
{
	size_t from;

	if (!t->shook ||
	    (br_ssl_engine_current_state(&t->sc.eng) & BR_SSL_CLOSED))
		return false;
	from = (bufs_live(t) + PAGE - 1) / PAGE * PAGE;
	if (from >= TLS_BUFS_SLOT)
		return false;
	/* what is left of the input buffer below from is all that can
	 * still hold its plaintext */
	if (t->ihi > (from > TLS_OBUF ? from - TLS_OBUF : 0))
		t->ihi = (uint16_t)(from > TLS_OBUF ? from - TLS_OBUF : 0);
	*p = t->bufs + from;
	*len = TLS_BUFS_SLOT - from;
	return true;
}

/*
 * Once a second: the buffers of connections without a read or a write
 * for idle seconds (whole seconds of ergo_now_ms, so idle to idle + 1)
 * are given back (0: never), at most SWEEP_MAX a call so that a crowd
 * gone quiet together costs no long pause. Ranges that meet (whole
 * slots side by side in a slab) go in one call: on the bench VM each
 * madvise costs ~20 us beyond 0.4 us a page.
 */
#define SWEEP_MAX	1024

struct run {
	unsigned char	*p;
	size_t		 len;
};
static struct run	 runs[SWEEP_MAX];

static int
run_cmp(const void *a, const void *b)
{
	const unsigned char *x = ((const struct run *)a)->p;
	const unsigned char *y = ((const struct run *)b)->p;

	return x < y ? -1 : x > y;
}

void
tls_conn_sweep(unsigned idle)
{
	struct tls_conn *t;
	uint32_t now = now_s();
	unsigned n = 0, nrun = 0, i, j, calls = 0;
	size_t len, pages = 0;

	if (idle == 0)
		return;
	while ((t = busy_head) != NULL && now - t->last > idle &&
	    n++ < SWEEP_MAX) {
		busy_unlink(t);
		if (bufs_idle(t, &runs[nrun].p, &runs[nrun].len))
			nrun++;
	}
	if (nrun == 0)
		return;
	qsort(runs, nrun, sizeof(runs[0]), run_cmp);
	for (i = 0; i < nrun; i = j) {
		len = runs[i].len;
		for (j = i + 1; j < nrun && runs[j].p == runs[i].p + len; j++)
			len += runs[j].len;
		calls++;
		if (pages_drop(runs[i].p, len))
			pages += len / PAGE;
	}
	log_debug("tls", "gave back %zu pages of the record buffers of %u "
	    "idle connections (%u calls)", pages, nrun, calls);
}

/*
 * Once the handshake is done (renegotiation is off) the validator is
 * never used again: give its 1.3 KiB back.
 */
static void
x509_release(struct tls_conn *t, unsigned st)
{
	if (t->x != NULL && (st & BR_SSL_SENDAPP)) {
		slot_put(t->xslab, t->x);
		t->x = NULL;
	}
}

/* A static reason for a closed engine, for the QUIT and the log. */
static const char *
closed_why(struct tls_conn *t, br_ssl_engine_context *eng)
{
	int e = br_ssl_engine_last_error(eng);

	/* not a handshake record (22): plaintext, a scan, another protocol */
	if (e != BR_ERR_OK && !t->shook && t->first != -1 && t->first != 22)
		return "TLS error: not a TLS client";
	switch (e) {
	case BR_ERR_OK:
		return "Connection closed";
	case BR_ERR_BAD_VERSION:
	case BR_ERR_UNSUPPORTED_VERSION:
		return "TLS error: unsupported protocol version";
	case BR_ERR_BAD_CIPHER_SUITE:
		return "TLS error: no shared cipher suite";
	case BR_ERR_BAD_MAC:
		return "TLS error: bad record MAC";
	case BR_ERR_IO:
		return "TLS error: I/O";
	default:
		if (e >= BR_ERR_RECV_FATAL_ALERT &&
		    e < BR_ERR_RECV_FATAL_ALERT + 256)
			return "TLS error: the client sent an alert";
		/* our alert: a client offering only versions below
		 * min-version, or only TLS 1.3's suites (BearSSL has none) */
		if (e == BR_ERR_SEND_FATAL_ALERT + BR_ALERT_PROTOCOL_VERSION)
			return "TLS error: unsupported protocol version";
		if (e == BR_ERR_SEND_FATAL_ALERT + BR_ALERT_HANDSHAKE_FAILURE)
			return "TLS error: no shared cipher suite or curve "
			    "(a TLS 1.3-only client?)";
		if (e >= BR_ERR_SEND_FATAL_ALERT &&
		    e < BR_ERR_SEND_FATAL_ALERT + 256)
			return "TLS error: handshake failed";
		return "TLS error: not a TLS client";
	}
}

ssize_t
tls_conn_read(struct tls_conn *t, int fd, char *out, size_t outsz,
    const char **why)
{
	br_ssl_engine_context *eng = &t->sc.eng;
	unsigned st;
	unsigned char *b;
	size_t got = 0, len;
	ssize_t n;
	bool drained = false;

	busy_touch(t);
	for (;;) {
		st = br_ssl_engine_current_state(eng);
		t->shook |= (st & BR_SSL_SENDAPP) != 0;
		if (st & BR_SSL_CLOSED) {
			if (got > 0)
				return (ssize_t)got;	/* the rest next time */
			*why = closed_why(t, eng);
			return -1;
		}
		if ((st & BR_SSL_RECVAPP) && got < outsz) {
			b = br_ssl_engine_recvapp_buf(eng, &len);
			if (len > outsz - got)
				len = outsz - got;
			memcpy(out + got, b, len);
			br_ssl_engine_recvapp_ack(eng, len);
			got += len;
			continue;
		}
		/*
		 * The engine asks for one record header, then its body:
		 * while each read fills what it asked for, more may be
		 * waiting, so read on instead of returning to poll() (over
		 * every connection) twice per record of the handshake.
		 */
		if (got > 0 || drained || !(st & BR_SSL_RECVREC)) {
			x509_release(t, st);
			return (ssize_t)got;
		}
		b = br_ssl_engine_recvrec_buf(eng, &len);
		n = read(fd, b, len);
		if (n == 0) {
			*why = "Connection closed";
			return -1;
		}
		if (n == -1) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return 0;
			*why = errno == ECONNRESET ?
			    "Connection reset by peer" : "Read error";
			return -1;
		}
		if (t->first == -1)
			t->first = b[0];
		if ((size_t)(b - eng->ibuf) + (size_t)n > t->ihi)
			t->ihi = (uint16_t)((size_t)(b - eng->ibuf) + (size_t)n);
		br_ssl_engine_recvrec_ack(eng, (size_t)n);
		drained = (size_t)n < len;
	}
}

/*
 * Records are gathered and sent together: a member of a busy channel is
 * given many lines a pass, and one send(2) per record cost TLS fan-out
 * 3.7 system calls for every one of plain TCP's (bench/RESULTS.md). The
 * gather holds the records of as much as net.c hands over at once (its
 * 64 KiB oq_scratch), so a pass's lines leave in one send, as over plain
 * TCP. What the socket does not take waits in t->pend (at most a
 * gather's worth), before anything else is written.
 *
 * Application data is sealed in the gather itself (see out_at): the
 * engine's own 2 KiB output buffer, one per connection and cold by the
 * time a pass comes back to it, is used only for handshake records,
 * alerts and output that could not go at once. Records are up to 16 KiB
 * (the protocol's limit, unless the client negotiated a smaller one),
 * so a pass's lines for a member are one or a few records, not one per
 * 2 KiB: a quarter of the records' fixed costs (header, nonce, tag, the
 * GHASH and AES-CTR set-up, the engine's calls), and no copy of each
 * record from the engine's buffer into the gather.
 */
#define GATHER_MAX	65536
static unsigned char	 gather[GATHER_MAX + 32 * (TLS_OBUF - 2048)];
/* room for less than this: the gather is sent before the next record */
#define GATHER_MIN	1024

/* 1: all of buf[0..len) sent; 0: the rest kept in t->pend; -1: error. */
static int
gather_send(struct tls_conn *t, int fd, const unsigned char *buf, size_t len,
    const char **why)
{
	ssize_t n = len > 0 ? send(fd, buf, len, MSG_NOSIGNAL) : 0;

	if (n == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			*why = errno == EPIPE || errno == ECONNRESET ?
			    "Connection reset by peer" : "Write error";
			return -1;
		}
		n = 0;
	}
	if ((size_t)n == len)
		return 1;
	if ((t->pend = malloc(len - (size_t)n)) == NULL) {
		*why = "Out of memory";
		return -1;
	}
	memcpy(t->pend, buf + n, len - (size_t)n);
	t->plen = len - (size_t)n;
	t->poff = 0;
	return 0;
}

/* Sends what t->pend holds: 1 when it is all gone, else as gather_send. */
static int
pend_send(struct tls_conn *t, int fd, const char **why)
{
	ssize_t n = send(fd, t->pend + t->poff, t->plen - t->poff,
	    MSG_NOSIGNAL);

	if (n == -1) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		*why = errno == EPIPE || errno == ECONNRESET ?
		    "Connection reset by peer" : "Write error";
		return -1;
	}
	if ((t->poff += (size_t)n) < t->plen)
		return 0;
	free(t->pend);
	t->pend = NULL;
	t->plen = t->poff = 0;
	return 1;
}

/*
 * Whether the engine's output is empty: no payload gathered, no record
 * waiting (ssl_engine.c's registers, BearSSL 0.6: oxa == oxc < oxb is
 * an empty record being gathered; see bufs_live).
 */
static bool
out_empty(const br_ssl_engine_context *eng)
{
	return eng->oxa == eng->oxc && eng->oxa < eng->oxb;
}

/*
 * Has t's engine build its next record in buf[0..len), len > 5 + the
 * record's overhead. Only while its output is empty (out_empty): what
 * the engine itself does when a record has been sent (make_ready_out in
 * ssl_engine.c), with the cipher's own max_plaintext, except that a
 * server engine's payload may be up to 16 KiB, the protocol's limit,
 * unless the client negotiated a smaller one (peer_log_max_frag_len;
 * the engine's own max_frag_len is what fits its 2 KiB buffer, which buf
 * is not). A client engine (a link we open) offered the server its
 * max_frag_len and does not note whether the server took it: it keeps
 * to it.
 */
static void
out_at(struct tls_conn *t, unsigned char *buf, size_t len)
{
	br_ssl_engine_context *eng = &t->sc.eng;
	size_t a = 5, b = len - 5;
	size_t max = t->client || eng->peer_log_max_frag_len ?
	    eng->max_frag_len : 16384;

	eng->obuf = buf;
	eng->obuf_len = len;
	eng->out.vtable->max_plaintext(&eng->out.vtable, &a, &b);
	if (b - a > max)
		b = a + max;
	eng->oxa = eng->oxc = a;
	eng->oxb = b;
}

/*
 * Application data, the engine's output empty (out_empty): sealed into
 * the gather in place, the records sent together. Returns the bytes of
 * buf taken, or -1; the engine's output is its own buffer again after,
 * empty. Nothing here runs the handshake code (records of application
 * data only), so the engine stays open.
 */
static ssize_t
write_gathered(struct tls_conn *t, int fd, const char *buf, size_t len,
    const char **why)
{
	br_ssl_engine_context *eng = &t->sc.eng;
	unsigned char *b;
	size_t taken = 0, blen, glen = 0;
	int rc = 1;

	out_at(t, gather, sizeof(gather));
	for (;;) {
		if ((b = br_ssl_engine_sendrec_buf(eng, &blen)) != NULL) {
			/* sealed where its payload was put: at glen (moved
			 * for a cipher that would put it elsewhere: none of
			 * ours does) */
			if (b != gather + glen)
				memmove(gather + glen, b, blen);
			glen += blen;
			br_ssl_engine_sendrec_ack(eng, blen);
			if (sizeof(gather) - glen < GATHER_MIN) {
				rc = gather_send(t, fd, gather, glen, why);
				glen = 0;
				if (rc != 1)
					break;
			}
			out_at(t, gather + glen, sizeof(gather) - glen);
			continue;
		}
		if (taken == len ||
		    (b = br_ssl_engine_sendapp_buf(eng, &blen)) == NULL)
			break;
		if (blen > len - taken)
			blen = len - taken;
		memcpy(b, buf + taken, blen);
		br_ssl_engine_sendapp_ack(eng, blen);	/* sealed if full */
		if ((taken += blen) == len)
			br_ssl_engine_flush(eng, 0);
	}
	out_at(t, t->bufs, TLS_OBUF);
	if (rc == 1 && glen > 0)
		rc = gather_send(t, fd, gather, glen, why);
	return rc == -1 ? -1 : (ssize_t)taken;
}

ssize_t
tls_conn_write(struct tls_conn *t, int fd, const char *buf, size_t len,
    const char **why)
{
	br_ssl_engine_context *eng = &t->sc.eng;
	unsigned char *b;
	size_t taken = 0, blen, glen = 0;
	unsigned st;
	int rc;

	busy_touch(t);
	if (t->pend != NULL && (rc = pend_send(t, fd, why)) != 1)
		return rc;
	for (;;) {
		st = br_ssl_engine_current_state(eng);
		t->shook |= (st & BR_SSL_SENDAPP) != 0;
		if (st & BR_SSL_CLOSED) {
			/* a close_notify may be gathered: best effort */
			if (glen > 0)
				(void)send(fd, gather, glen, MSG_NOSIGNAL);
			*why = closed_why(t, eng);
			return -1;
		}
		if (st & BR_SSL_SENDREC) {
			b = br_ssl_engine_sendrec_buf(eng, &blen);
			if (glen + blen > sizeof(gather)) {
				if ((rc = gather_send(t, fd, gather, glen,
				    why)) != 1)
					return rc == -1 ? -1 : (ssize_t)taken;
				glen = 0;
				if (blen > sizeof(gather))	/* never */
					blen = sizeof(gather);
			}
			memcpy(gather + glen, b, blen);
			glen += blen;
			br_ssl_engine_sendrec_ack(eng, blen);
			continue;
		}
		/* the usual case: straight into the gather */
		if (glen == 0 && (st & BR_SSL_SENDAPP) && taken < len &&
		    out_empty(eng))
			return write_gathered(t, fd, buf, len, why);
		if ((st & BR_SSL_SENDAPP) && taken < len) {
			b = br_ssl_engine_sendapp_buf(eng, &blen);
			if (blen > len - taken)
				blen = len - taken;
			memcpy(b, buf + taken, blen);
			br_ssl_engine_sendapp_ack(eng, blen);
			taken += blen;
			if (taken == len)
				br_ssl_engine_flush(eng, 0);
			continue;
		}
		break;
	}
	if (glen > 0 && gather_send(t, fd, gather, glen, why) == -1)
		return -1;
	return (ssize_t)taken;
}

bool
tls_conn_want_write(struct tls_conn *t)
{
	return t->pend != NULL ||
	    (br_ssl_engine_current_state(&t->sc.eng) & BR_SSL_SENDREC) != 0;
}

bool
tls_conn_ready(struct tls_conn *t)
{
	return (br_ssl_engine_current_state(&t->sc.eng) & BR_SSL_SENDAPP) !=
	    0;
}

/* Whether the handshake was ever done (it may be closed since). */
bool
tls_conn_shook(const struct tls_conn *t)
{
	return t->shook;
}

/* Whether the client sent anything yet (a handshake was begun). */
bool
tls_conn_begun(const struct tls_conn *t)
{
	return t->first != -1;
}

void
tls_conn_close(struct tls_conn *t, int fd)
{
	const char *why;

	if (br_ssl_engine_current_state(&t->sc.eng) & BR_SSL_CLOSED)
		return;
	br_ssl_engine_close(&t->sc.eng);
	(void)tls_conn_write(t, fd, NULL, 0, &why);
}

const char *
tls_conn_certfp(const struct tls_conn *t)
{
	return t->have_fp ? t->fp : NULL;
}
