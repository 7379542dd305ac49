/*
 * fuzz_sasl.c: the SASL message parsers (irc_sasl_parse.c). Input is
 * one decoded SASL message, as sasl_data hands it on; for SCRAM it is
 * "client-first\nclient-final", the final checked against the gs2
 * header and the nonce (plus a fixed server half) the first gave. Each
 * accepted message must say what the RFCs mean by it: fields where the
 * syntax puts them, saslnames that escape back to the text sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../irc_sasl_parse.h"
#include "../../irc_sasl.h"

/* the server half of the nonce in RFC 7677's example */
#define SNONCE	"%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"

/* RFC 5802's escaping of a saslname: ',' as "=2C", '=' as "=3D". */
static size_t
escape(char *dst, size_t sz, const char *s)
{
	size_t o = 0;

	for (; *s != '\0'; s++) {
		const char *e = *s == ',' ? "=2C" : *s == '=' ? "=3D" : NULL;
		size_t n = e != NULL ? 3 : 1;

		if (o + n >= sz)
			abort();
		memcpy(dst + o, e != NULL ? e : s, n);
		o += n;
	}
	dst[o] = '\0';
	return o;
}

/* A saslname as the SCRAM parsers pass one: cut at the first ','. */
static void
check_saslname(const char *s)
{
	char out[NICKLEN_MAX + 1], back[3 * NICKLEN_MAX + 1];
	size_t n = strcspn(s, ",");

	if (irc_saslname_decode(out, sizeof(out), s, n)) {
		if (*out == '\0' || strlen(out) > NICKLEN_MAX ||
		    escape(back, sizeof(back), out) != n ||
		    memcmp(back, s, n) != 0)
			abort();
	} else if (n > 0 && n <= NICKLEN_MAX && memchr(s, '=', n) == NULL)
		abort();	/* plain text that fits is a saslname */
}

static void
check_plain(const char *msg, size_t len)
{
	struct sasl_plain p;
	const char *nul1 = memchr(msg, '\0', len), *nul2 = NULL;
	size_t nnul = 0, i;
	bool ok;

	for (i = 0; i < len; i++)
		nnul += msg[i] == '\0';
	if (nul1 != NULL)
		nul2 = memchr(nul1 + 1, '\0', len - (size_t)(nul1 + 1 - msg));
	ok = irc_sasl_plain_parse(msg, len, &p) == 0;
	/* exactly two NULs and a password after them */
	if (ok != (nnul == 2 && nul2 != NULL && nul2 + 1 < msg + len))
		abort();
	if (ok && (p.authzid != msg || p.authcid != nul1 + 1 ||
	    p.passwd != nul2 + 1 || *p.passwd == '\0' ||
	    p.passwd + strlen(p.passwd) != msg + len))
		abort();
}

/* 0 with the gs2 header and the nonce of a good client-first. */
static int
check_first(const char *msg, struct scram_first *f)
{
	char esc[3 * NICKLEN_MAX + 1];
	const char *ue;
	size_t i, n;

	if (irc_scram_first_parse(msg, f) == -1)
		return -1;
	if (f->gs2len < 3 || f->gs2len > strlen(msg) ||
	    msg[f->gs2len - 1] != ',' || f->bare != msg + f->gs2len ||
	    (msg[0] != 'n' && msg[0] != 'y') || msg[1] != ',' ||
	    strncmp(f->bare, "n=", 2) != 0)
		abort();
	/* the authzid is the gs2 header's a=, escaped as sent */
	n = escape(esc, sizeof(esc), f->authzid);
	if (n == 0 ? f->gs2len != 3 : f->gs2len != n + 5 ||
	    strncmp(msg + 2, "a=", 2) != 0 || memcmp(msg + 4, esc, n) != 0)
		abort();
	/* n=user,r=nonce with the user escaped as sent */
	n = escape(esc, sizeof(esc), f->user);
	ue = f->bare + 2 + n;
	if (n == 0 || memcmp(f->bare + 2, esc, n) != 0 ||
	    strncmp(ue, ",r=", 3) != 0 || f->nonce != ue + 3)
		abort();
	if (f->noncelen == 0 || f->noncelen > SCRAM_NONCE_MAX ||
	    (f->nonce[f->noncelen] != '\0' && f->nonce[f->noncelen] != ','))
		abort();
	for (i = 0; i < f->noncelen; i++)
		if ((unsigned char)f->nonce[i] < 0x21 ||
		    (unsigned char)f->nonce[i] > 0x7e || f->nonce[i] == ',')
			abort();
	return 0;
}

static void
check_final(const char *msg, const char *gs2, const char *nonce)
{
	unsigned char proof[SCRAM_PROOF_LEN], again[SCRAM_PROOF_LEN];
	char b1[256], b2[64], redo[1024];
	size_t wp, wp2, nl = strlen(nonce);

	if (irc_scram_final_parse(msg, gs2, nonce, nl, proof, &wp) == -1)
		return;
	if (strncmp(msg, "c=", 2) != 0 || wp >= strlen(msg) ||
	    strncmp(msg + wp, ",p=", 3) != 0 ||
	    strchr(msg + wp + 3, ',') != NULL)
		abort();
	/* the same fields, freshly serialized, parse to the same proof */
	if (util_b64_encode(b1, sizeof(b1), gs2, strlen(gs2), true) ==
	    (size_t)-1 || util_b64_encode(b2, sizeof(b2), proof,
	    sizeof(proof), true) == (size_t)-1)
		abort();
	snprintf(redo, sizeof(redo), "c=%s,r=%s,p=%s", b1, nonce, b2);
	if (irc_scram_final_parse(redo, gs2, nonce, nl, again, &wp2) == -1 ||
	    memcmp(again, proof, sizeof(proof)) != 0 ||
	    wp2 != strlen(redo) - strlen(b2) - 3)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct scram_first f;
	char *msg, *final, gs2[256], nonce[SCRAM_NONCE_MAX + 64];

	fuzz_init();
	if (len > SASL_MSG_MAX)
		return 0;		/* sasl_data never decodes more */
	msg = fuzz_cstr(data, len);
	check_plain(msg, len);
	check_saslname(msg);
	if ((final = strchr(msg, '\n')) != NULL)
		*final++ = '\0';
	if (check_first(msg, &f) == 0 && f.gs2len < sizeof(gs2)) {
		memcpy(gs2, msg, f.gs2len);
		gs2[f.gs2len] = '\0';
		snprintf(nonce, sizeof(nonce), "%.*s%s", (int)f.noncelen,
		    f.nonce, SNONCE);
	} else {
		snprintf(gs2, sizeof(gs2), "n,,");
		snprintf(nonce, sizeof(nonce), "%s",
		    "rOprNGfwEbeRWgbNEkqO" SNONCE);
	}
	check_final(final != NULL ? final : msg, gs2, nonce);
	free(msg);
	return 0;
}
