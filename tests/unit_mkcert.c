/*
 * unit_mkcert.c: net_mkcert.c's DER writer (length forms, nesting, a full
 * buffer), RFC 5280 times on both sides of 2050, host parsing, and a
 * certificate built for 2045 (GeneralizedTime notAfter, a CN-less name
 * for a long host, a signature BearSSL verifies). Includes the source so
 * its static functions can be called; the archive's copy is not linked.
 * Prints "ok NAME" or "FAIL NAME: why".
 */

#include <stdio.h>
#include <string.h>

#include "net_mkcert.c"

#include "unit.h"

/* Whether needle occurs in hay. */
static bool
has(const unsigned char *hay, size_t n, const void *needle, size_t k)
{
	size_t i;

	for (i = 0; k <= n && i <= n - k; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return true;
	return false;
}

/* A value of n zero bytes in a SEQUENCE: its header bytes are want. */
static bool
seq_header_is(size_t n, const unsigned char *want, size_t wantlen)
{
	static unsigned char buf[70000], zero[66000];
	struct der d = { buf, 0, sizeof(buf), false };
	size_t s;

	s = der_open(&d, DER_SEQUENCE);
	der_raw(&d, zero, n);
	der_close(&d, s);
	return !d.full && d.len == wantlen + n &&
	    memcmp(buf, want, wantlen) == 0;
}

static const char *
test_der_length_forms(void)
{
	REQUIRE(seq_header_is(0, (const unsigned char *)"\x30\x00", 2));
	REQUIRE(seq_header_is(127, (const unsigned char *)"\x30\x7f", 2));
	REQUIRE(seq_header_is(128, (const unsigned char *)"\x30\x81\x80", 3));
	REQUIRE(seq_header_is(255, (const unsigned char *)"\x30\x81\xff", 3));
	REQUIRE(seq_header_is(256, (const unsigned char *)"\x30\x82\x01\x00",
	    4));
	REQUIRE(seq_header_is(65536,
	    (const unsigned char *)"\x30\x83\x01\x00\x00", 5));
	return NULL;
}

/* An inner value widened by der_close keeps the outer one right. */
static const char *
test_der_nested_long_lengths(void)
{
	unsigned char buf[512], zero[200] = { 0 };
	struct der d = { buf, 0, sizeof(buf), false };
	size_t outer, inner;

	outer = der_open(&d, DER_SEQUENCE);
	der_byte(&d, 0x05);
	der_byte(&d, 0x00);
	inner = der_open(&d, DER_OCTETSTRING);
	der_raw(&d, zero, sizeof(zero));
	der_close(&d, inner);
	der_close(&d, outer);
	REQUIRE(!d.full);
	/* 30 81 cd | 05 00 | 04 81 c8 <200 zeros> */
	REQUIRE(d.len == 3 + 2 + 3 + 200);
	REQUIRE(memcmp(buf, "\x30\x81\xcd\x05\x00\x04\x81\xc8", 8) == 0);
	return NULL;
}

static const char *
test_der_full_buffer_reported(void)
{
	unsigned char buf[8];
	struct der d = { buf, 0, sizeof(buf), false };
	size_t s;

	s = der_open(&d, DER_SEQUENCE);
	der_tlv(&d, DER_UTF8STRING, "too long for it", 15);
	der_close(&d, s);
	REQUIRE(d.full);
	return NULL;
}

/* der_time(t) must be tag want_tag with content want. */
static bool
time_is(int64_t t, unsigned char want_tag, const char *want)
{
	unsigned char buf[32];
	struct der d = { buf, 0, sizeof(buf), false };

	if (der_time(&d, t) == -1 || d.full)
		return false;
	return d.len == 2 + strlen(want) && buf[0] == want_tag &&
	    buf[1] == strlen(want) && memcmp(buf + 2, want, strlen(want)) == 0;
}

static const char *
test_time_utc_before_2050_generalized_after(void)
{
	REQUIRE(time_is(0, DER_UTCTIME, "700101000000Z"));
	REQUIRE(time_is(951827696, DER_UTCTIME, "000229123456Z"));
	REQUIRE(time_is(2524607999LL, DER_UTCTIME, "491231235959Z"));
	REQUIRE(time_is(2524608000LL, DER_GENTIME, "20500101000000Z"));
	REQUIRE(time_is(4107542400LL, DER_GENTIME, "21000301000000Z"));
	REQUIRE(time_is(-1, DER_UTCTIME, "691231235959Z"));
	REQUIRE(time_is(-631152001LL, DER_GENTIME, "19491231235959Z"));
	return NULL;
}

static const char *
test_host_parse(void)
{
	unsigned char ip[16];
	size_t iplen;
	char longname[MKCERT_HOST_MAX + 2];

	REQUIRE(mkcert_host_parse("irc.example.org", ip, &iplen) && iplen == 0);
	REQUIRE(mkcert_host_parse("*.example.org", ip, &iplen) && iplen == 0);
	REQUIRE(mkcert_host_parse("127.0.0.1", ip, &iplen) && iplen == 4 &&
	    memcmp(ip, "\x7f\x00\x00\x01", 4) == 0);
	REQUIRE(mkcert_host_parse("::1", ip, &iplen) && iplen == 16 &&
	    ip[15] == 1 && ip[0] == 0);
	REQUIRE(!mkcert_host_parse("", ip, &iplen));
	REQUIRE(!mkcert_host_parse("two words", ip, &iplen));
	REQUIRE(!mkcert_host_parse("a/b", ip, &iplen));
	REQUIRE(!mkcert_host_parse("[::1]", ip, &iplen));
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	REQUIRE(!mkcert_host_parse(longname, ip, &iplen));
	longname[MKCERT_HOST_MAX] = '\0';
	REQUIRE(mkcert_host_parse(longname, ip, &iplen));
	return NULL;
}

/*
 * Builds a certificate for host at now from a fixed DRBG seed; returns
 * its DER length (0 on failure) and the public key in *pk (pbuf).
 */
static size_t
build(unsigned char *der, size_t dersz, const char *host, int64_t now,
    br_ec_public_key *pk, unsigned char *pbuf)
{
	static const unsigned char serial[MKCERT_SERIAL] = { 0x41 };
	unsigned char kbuf[BR_EC_KBUF_PRIV_MAX_SIZE], ip[16];
	br_hmac_drbg_context rng;
	br_ec_private_key sk;
	size_t iplen;

	if (!mkcert_host_parse(host, ip, &iplen))
		return 0;
	br_hmac_drbg_init(&rng, &br_sha256_vtable, "unit_mkcert", 11);
	if (br_ec_keygen(&rng.vtable, br_ec_get_default(), &sk, kbuf,
	    BR_EC_secp256r1) == 0 ||
	    br_ec_compute_pub(br_ec_get_default(), pk, pbuf, &sk) == 0)
		return 0;
	return mkcert_build(der, dersz, host, ip, iplen, serial, &sk, pk,
	    now);
}

/* Length of the DER value at p (short or long form); its header in *hl. */
static size_t
der_len_at(const unsigned char *p, size_t *hl)
{
	size_t n = 0, k, i;

	if (p[1] < 0x80) {
		*hl = 2;
		return p[1];
	}
	k = p[1] & 0x7f;
	for (i = 0; i < k; i++)
		n = n << 8 | p[2 + i];
	*hl = 2 + k;
	return n;
}

static const char *
test_cert_2045_not_after_generalized_and_signed(void)
{
	unsigned char der[MKCERT_DER_MAX], pbuf[BR_EC_KBUF_PUB_MAX_SIZE];
	unsigned char hash[br_sha256_SIZE];
	const unsigned char *tbs, *p, *end;
	br_ec_public_key pk;
	br_sha256_context sha;
	size_t n, hl, tbslen, tbshl, siglen;

	/* 2045-06-01T00:00:00Z: notAfter falls in 2055. */
	n = build(der, sizeof(der), "irc.example.org", 2379888000LL, &pk,
	    pbuf);
	REQUIRE(n > 0);
	REQUIRE(der[0] == DER_SEQUENCE && der_len_at(der, &hl) + hl == n);
	REQUIRE(has(der, n, "\x17\x0d" "450531230000Z", 15));
	REQUIRE(has(der, n, "\x18\x0f" "20550602000000Z", 17) ||
	    has(der, n, "\x18\x0f" "20550601000000Z", 17));
	REQUIRE(has(der, n, "\x82\x0f" "irc.example.org", 17));

	/* Certificate = SEQ { tbs, sigalg, BIT STRING { 0, sig } }. */
	tbs = der + hl;
	tbslen = der_len_at(tbs, &tbshl) + tbshl;
	p = tbs + tbslen;
	end = der + n;
	REQUIRE(p < end && p[0] == DER_SEQUENCE);
	p += der_len_at(p, &hl) + hl;
	REQUIRE(p < end && p[0] == DER_BITSTRING);
	siglen = der_len_at(p, &hl);
	REQUIRE(p + hl + siglen == end && p[hl] == 0);
	br_sha256_init(&sha);
	br_sha256_update(&sha, tbs, tbslen);
	br_sha256_out(&sha, hash);
	REQUIRE(br_ecdsa_vrfy_asn1_get_default()(br_ec_get_default(), hash,
	    sizeof(hash), &pk, p + hl + 1, siglen - 1) == 1);
	return NULL;
}

static const char *
test_cert_long_host_has_no_cn_but_san(void)
{
	static const unsigned char cn[] = { DER_OID, 3, 0x55, 0x04, 0x03 };
	unsigned char der[MKCERT_DER_MAX], pbuf[BR_EC_KBUF_PUB_MAX_SIZE];
	char host[MKCERT_HOST_MAX + 1];
	br_ec_public_key pk;
	size_t n;

	memset(host, 'a', MKCERT_HOST_MAX);
	memcpy(host + MKCERT_HOST_MAX - 4, ".org", 4);
	host[MKCERT_HOST_MAX] = '\0';
	n = build(der, sizeof(der), host, 1800000000, &pk, pbuf);
	REQUIRE(n > 0);
	REQUIRE(!has(der, n, cn, sizeof(cn)));
	REQUIRE(has(der, n, host, strlen(host)));
	n = build(der, sizeof(der), "short.example", 1800000000, &pk, pbuf);
	REQUIRE(n > 0 && has(der, n, cn, sizeof(cn)));
	return NULL;
}

static const char *
test_cert_too_big_for_buffer_fails(void)
{
	unsigned char der[300], pbuf[BR_EC_KBUF_PUB_MAX_SIZE];
	br_ec_public_key pk;

	REQUIRE(build(der, sizeof(der), "irc.example.org", 1800000000, &pk,
	    pbuf) == 0);
	return NULL;
}

int
main(void)
{
	result("der_length_forms", test_der_length_forms());
	result("der_nested_long_lengths", test_der_nested_long_lengths());
	result("der_full_buffer_reported", test_der_full_buffer_reported());
	result("time_utc_before_2050_generalized_after",
	    test_time_utc_before_2050_generalized_after());
	result("host_parse", test_host_parse());
	result("cert_2045_not_after_generalized_and_signed",
	    test_cert_2045_not_after_generalized_and_signed());
	result("cert_long_host_has_no_cn_but_san",
	    test_cert_long_host_has_no_cn_but_san());
	result("cert_too_big_for_buffer_fails",
	    test_cert_too_big_for_buffer_fails());
	return nfail != 0;
}
