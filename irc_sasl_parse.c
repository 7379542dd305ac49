/*
 * irc_sasl_parse.c: the syntax of SASL PLAIN and SCRAM-SHA-256 client
 * messages. Only parsing and the checks that need no state beyond the
 * exchange's own strings; account lookup, keys and replies stay in
 * irc_sasl.c. Nothing here allocates, logs or reads a client.
 */
#include <string.h>

#include "irc_sasl_parse.h"
#include "util.h"

/*
 * RFC 5802 saslname: "=2C" is ',', "=3D" is '='; any other '=' is bad.
 * Unescapes s[0..len) into dst; false if it is empty or does not fit.
 */
bool
irc_saslname_decode(char *dst, size_t dstsz, const char *s, size_t len)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		char ch = s[i];

		if (ch == '=') {
			if (len - i < 3)
				return false;
			if (strncmp(s + i, "=2C", 3) == 0)
				ch = ',';
			else if (strncmp(s + i, "=3D", 3) == 0)
				ch = '=';
			else
				return false;
			i += 2;
		}
		if (o + 1 >= dstsz)
			return false;
		dst[o++] = ch;
	}
	if (dstsz > 0)
		dst[o] = '\0';
	return o > 0;
}

/*
 * "authzid NUL authcid NUL passwd": exactly two NULs among the len bytes
 * of msg, and a password. msg[len] must be NUL, so each field is a C
 * string in place. 0, or -1 if malformed.
 */
int
irc_sasl_plain_parse(const char *msg, size_t len, struct sasl_plain *p)
{
	const char *authc, *pw, *end = msg + len;

	if ((authc = memchr(msg, '\0', len)) == NULL)
		return -1;
	authc++;
	if ((pw = memchr(authc, '\0', (size_t)(end - authc))) == NULL)
		return -1;
	pw++;
	if (pw == end || memchr(pw, '\0', (size_t)(end - pw)) != NULL)
		return -1;
	p->authzid = msg;
	p->authcid = authc;
	p->passwd = pw;
	return 0;
}

/*
 * client-first-message, a C string: gs2-header "n,," or "y,,", either
 * with an "a=" authzid (channel binding, "p=", is not offered), then
 * "n=user,r=nonce" and any extensions. 0, or -1 if malformed.
 */
int
irc_scram_first_parse(const char *msg, struct scram_first *f)
{
	const char *p, *comma, *user, *ue, *nonce, *ne;

	if ((msg[0] != 'n' && msg[0] != 'y') || msg[1] != ',')
		return -1;
	p = msg + 2;
	f->authzid[0] = '\0';
	if (strncmp(p, "a=", 2) == 0) {
		if ((comma = strchr(p, ',')) == NULL ||
		    !irc_saslname_decode(f->authzid, sizeof(f->authzid),
		    p + 2, (size_t)(comma - p - 2)))
			return -1;
		p = comma;
	}
	if (*p++ != ',')
		return -1;
	f->bare = p;
	f->gs2len = (size_t)(p - msg);
	if (strncmp(p, "n=", 2) != 0 || (ue = strchr(p, ',')) == NULL)
		return -1;
	user = p + 2;
	if (strncmp(ue, ",r=", 3) != 0)
		return -1;
	nonce = ue + 3;
	if ((ne = strchr(nonce, ',')) == NULL)
		ne = nonce + strlen(nonce);
	if (ne == nonce || ne - nonce > SCRAM_NONCE_MAX ||
	    !irc_saslname_decode(f->user, sizeof(f->user), user,
	    (size_t)(ue - user)))
		return -1;
	for (p = nonce; p < ne; p++)
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
			return -1;
	f->nonce = nonce;
	f->noncelen = (size_t)(ne - nonce);
	return 0;
}

/*
 * client-final-message, a C string: "c=" the base64 of gs2 (the header
 * of the client-first; no channel binding data), "r=" exactly nonce (the
 * client's and the server's halves), any extensions, then "p=" a
 * base64 proof of SCRAM_PROOF_LEN bytes, last. Fills proof and
 * *without_proof, the length of the client-final-message-without-proof
 * that the AuthMessage ends with. 0, or -1 if malformed or not ours.
 */
int
irc_scram_final_parse(const char *msg, const char *gs2, const char *nonce,
    size_t noncelen, unsigned char proof[SCRAM_PROOF_LEN],
    size_t *without_proof)
{
	const char *pp, *r, *re;
	unsigned char buf[2 * SCRAM_PROOF_LEN];
	char cb[128];
	size_t cblen;

	if (strncmp(msg, "c=", 2) != 0 || (pp = strstr(msg, ",p=")) == NULL ||
	    strchr(pp + 3, ',') != NULL)
		return -1;
	if ((r = strchr(msg, ',')) == NULL ||
	    (cblen = util_b64_decode(cb, sizeof(cb) - 1, msg + 2,
	    (size_t)(r - msg - 2))) == (size_t)-1 ||
	    cblen != strlen(gs2) || memcmp(cb, gs2, cblen) != 0)
		return -1;
	if (strncmp(r, ",r=", 3) != 0)
		return -1;
	r += 3;
	if ((re = strchr(r, ',')) == NULL || (size_t)(re - r) != noncelen ||
	    memcmp(r, nonce, noncelen) != 0)
		return -1;
	if (util_b64_decode(buf, sizeof(buf), pp + 3, strlen(pp + 3)) !=
	    SCRAM_PROOF_LEN)
		return -1;
	memcpy(proof, buf, SCRAM_PROOF_LEN);
	*without_proof = (size_t)(pp - msg);
	return 0;
}
