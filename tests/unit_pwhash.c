/*
 * unit_pwhash.c: pwhash.c against published vectors: SHA3-512 (FIPS 202
 * examples), bcrypt (OpenBSD's and Openwall's crypt_blowfish vectors),
 * and the hashes of Ergo, Anope and Atheme (from their own tests, or
 * made with libxcrypt's crypt(3)). Prints "ok NAME" or "FAIL NAME: why".
 */
#include <stdio.h>
#include <string.h>

#include "pwhash.h"

#include "unit.h"

static void
check(const char *name, int ok)
{
	result(name, ok ? NULL : "wrong answer");
}

static int
sha3_is(const void *msg, size_t len, const char *hex)
{
	unsigned char d[64];
	char got[129];
	size_t i;

	pwhash_sha3_512(msg, len, d);
	for (i = 0; i < 64; i++)
		snprintf(got + 2 * i, 3, "%02x", d[i]);
	return strcmp(got, hex) == 0;
}

static void
test_sha3_512_vectors(void)
{
	unsigned char a3[200];

	memset(a3, 0xa3, sizeof(a3));
	check("sha3_512_empty", sha3_is("", 0,
	    "a69f73cca23a9ac5c8b567dc185a756e97c982164fe25859e0d1dcc1475c80a6"
	    "15b2123af1f5f94c11e3e9402c3ac558f500199d95b6d3e301758586281dcd26"));
	check("sha3_512_abc", sha3_is("abc", 3,
	    "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e"
	    "10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0"));
	/* 1600 bits of 0xa3: three blocks of 72 bytes, padding alone */
	check("sha3_512_1600_bits", sha3_is(a3, sizeof(a3),
	    "e76dfad22084a8b1467fcf2ffa58361bec7628edf5f3fdc0e4805dc48caeeca8"
	    "1b7c13c30adf52a3659584739a2df46be589c51ca1a4a8416df6545a1ce8ba00"));
}

static const struct {
	const char	*pw, *hash;
} bcrypt_vectors[] = {
	{ "U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW" },
	{ "U*U*", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK" },
	{ "U*U*U", "$2b$05$CCCCCCCCCCCCCCCCCCCCC.Bw3BobdGs1SFsKsRLIx9rC4T.Q7DtEm" },
	{ "", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy" },
	{ "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	  "0123456789chars after 72 are ignored",
	  "$2b$05$CCCCCCCCCCCCCCCCCCCCC.n2VnrmAaokJwiDSekcCjbZxRIyVngRy" },
	{ "shivarampassphrase",
	  "$2a$10$UyNgHyniPukGf/3A6vzBx.VMNfej0h4WzATg4ahKW2H86a0QLcVIK" },
};

static void
test_bcrypt_vectors(void)
{
	char name[64], out[PWHASH_BCRYPT_LEN + 1];
	unsigned char salt[16];
	size_t i;

	for (i = 0; i < sizeof(bcrypt_vectors) / sizeof(bcrypt_vectors[0]);
	    i++) {
		snprintf(name, sizeof(name), "bcrypt_vector_%zu", i);
		check(name, pwhash_bcrypt_ok(bcrypt_vectors[i].hash,
		    bcrypt_vectors[i].pw, strlen(bcrypt_vectors[i].pw)));
		snprintf(name, sizeof(name), "bcrypt_vector_%zu_wrong", i);
		check(name, !pwhash_bcrypt_ok(bcrypt_vectors[i].hash, "U*U*U*",
		    6));
	}
	memset(salt, 0, sizeof(salt));
	check("bcrypt_cost_out_of_range",
	    pwhash_bcrypt("x", 1, 3, salt, out) == -1 &&
	    pwhash_bcrypt("x", 1, 32, salt, out) == -1);
	check("bcrypt_malformed_refused",
	    !pwhash_bcrypt_ok("$2a$05$CCCC", "U*U", 3) &&
	    !pwhash_bcrypt_ok("$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0"
	    "XouQYb4YMJKvyOeW", "U*U", 3) &&
	    !pwhash_bcrypt_ok("$2a$31$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0"
	    "XouQYb4YMJKvyOeW", "U*U", 3));
}

static const struct {
	const char	*stored, *pw;
	int		 ok;
} legacy_vectors[] = {
	/* Ergo: bcrypt of SHA3-512 (made with libxcrypt's crypt(3)) */
	{ PWHASH_ERGO "$2a$04$abcdefghijklmnopqrstuu6iD6.E8aaD1gtLdKRWfONgzvty9lLPq",
	  "hunter2", 1 },
	{ PWHASH_ERGO "$2a$04$abcdefghijklmnopqrstuu6iD6.E8aaD1gtLdKRWfONgzvty9lLPq",
	  "hunter3", 0 },
	/* Anope (Ergo's irc/migrations tests) */
	{ PWHASH_ANOPE "bcrypt:$2a$10$UyNgHyniPukGf/3A6vzBx.VMNfej0h4WzATg4ahKW2H86a0QLcVIK",
	  "shivarampassphrase", 1 },
	{ PWHASH_ANOPE "sha1:49fffa5543f21dd6effe88a79633e4073e36a828",
	  "shivarampassphrase", 1 },
	{ PWHASH_ANOPE "sha1:49fffa5543f21dd6effe88a79633e4073e36a828",
	  "edpassphrase", 0 },
	{ PWHASH_ANOPE "md5:ce4bd864f37ffaa1b871aef22eea82ff",
	  "shivarampassphrase", 1 },
	{ PWHASH_ANOPE "md5:dbf8be80e8dccdd33915b482e4390426",
	  "edpassphrase", 1 },
	{ PWHASH_ANOPE "md5:dbf8be80e8dccdd33915b482e4390426",
	  "shivarampassphrase", 0 },
	{ PWHASH_ANOPE "plain:YVxzMC1fMmZ+ZjM0OEAhN2FzZGYxNDJAIyFhZmE=",
	  "a\\s0-_2f~f348@!7asdf142@#!afa", 1 },
	{ PWHASH_ANOPE "plain:YVxzMC1fMmZ+ZjM0OEAhN2FzZGYxNDJAIyFhZmE=",
	  "edpassphrase", 0 },
	/* enc_sha256: SHA-256 from another initial state */
	{ PWHASH_ANOPE "sha256:ff337943c8c4219cd330a3075a699492e0f8b1a823bb76af0129f1f117ba0630:60250c3053f7b34e35576fc5063b8b396fe7b9ab416842117991a8e027aa72f6",
	  "shivarampassphrase", 1 },
	/* Atheme */
	{ PWHASH_ATHEME "$rawsha1$49fffa5543f21dd6effe88a79633e4073e36a828",
	  "shivarampassphrase", 1 },
	{ PWHASH_ATHEME "$rawsha1$49fffa5543f21dd6effe88a79633e4073e36a828",
	  "edpassphrase", 0 },
	{ PWHASH_ATHEME "khMlbBBIFya2ihyN42abc3e768663e2c4fd0e0020e46292bf9fdf44e9a51d2a2e69509cb73b4b1bf9c1b6355a1fc9ea663fcd6da902287159494f15b905e5e651d6a60f2ec834598",
	  "password", 1 },
	{ PWHASH_ATHEME "khMlbBBIFya2ihyN42abc3e768663e2c4fd0e0020e46292bf9fdf44e9a51d2a2e69509cb73b4b1bf9c1b6355a1fc9ea663fcd6da902287159494f15b905e5e651d6a60f2ec834598",
	  "passw0rd", 0 },
	{ PWHASH_ATHEME "$z$65$64000$1kz1I9YJPJ2gkJALbrpL2DoxRDhYPBOg60KNJMK/6do=$Cnfg6pYhBNrVXiaXYH46byrC+3HKet/XvYwvI1BvZbs=$m0hrT33gcF90n2TU3lm8tdm9V9XC4xEV13KsjuT38iY=",
	  "password", 1 },
	{ PWHASH_ATHEME "$z$65$64000$1kz1I9YJPJ2gkJALbrpL2DoxRDhYPBOg60KNJMK/6do=$Cnfg6pYhBNrVXiaXYH46byrC+3HKet/XvYwvI1BvZbs=$m0hrT33gcF90n2TU3lm8tdm9V9XC4xEV13KsjuT38iY=",
	  "passw0rd", 0 },
	{ PWHASH_ATHEME "$z$6$64000$rWfIGzPY9qiIt7m5$VdFroDOlTQSLlFUJtpvlbp2i7sH3ZUndqwdnOvoDvt6b2AzLjaAK/lhSO/QaR2nA3Wm4ObHdl3WMW32NdtSMdw==",
	  "pHQpwje5CjS3_Lx0RaeS7w", 1 },
	{ PWHASH_ATHEME "$z$6$64000$rWfIGzPY9qiIt7m5$VdFroDOlTQSLlFUJtpvlbp2i7sH3ZUndqwdnOvoDvt6b2AzLjaAK/lhSO/QaR2nA3Wm4ObHdl3WMW32NdtSMdw==",
	  "pHQpwje5CjS3-Lx0RaeS7w", 0 },
	{ PWHASH_ATHEME "$2b$04$abcdefghijklmnopqrstuu9GfC55fmVwuFG6SpFdz7I0yKRCRsHXS",
	  "atheme-pass", 1 },
	/* crypto/posix on Linux: md5crypt */
	{ PWHASH_ATHEME "$1$hcspif$nCm4r3S14Me9ifsOPGuJT.",
	  "shivarampassphrase", 1 },
	{ "unknown:abc", "abc", 0 },
	{ PWHASH_ANOPE "sha256:ff337943c8c4219cd330a3075a699492e0f8b1a823bb76af0129f1f117ba0630:60250c3053f7b34e35576fc5063b8b396fe7b9ab416842117991a8e027aa72f6",
	  "edpassphrase", 0 },
	{ PWHASH_ANOPE "sha256:93a430c8c3c6917dc6e9a32ac1aba90bc5768265278a45b86eacd636fc723d8f:10ea72683a499c155d72cd3571cb80e5050280620f789a44492c0e0c7956942f",
	  "edpassphrase", 1 },
	{ PWHASH_ANOPE "sha256:06d11a06025354e37a7ddf48913a1c9831ffab47d04e4c22a89fd7835abcb6cc:3137788c2749da0419bc9df320991d2d72495c7065da4f39004fd21710601409",
	  "1Ss1GN4q-3e8SgIJblfQxw", 1 },
	{ PWHASH_ATHEME "$1$hcspif$nCm4r3S14Me9ifsOPGuJT.",
	  "sh1varampassphrase", 0 },
	{ PWHASH_ATHEME "$1$diwesm$9MjapdOyhyC.2FdHzKMzK.",
	  "1Ss1GN4q-3e8SgIJblfQxw", 1 },
	/* made with libxcrypt: an empty password, a long one */
	{ PWHASH_ATHEME "$1$abcdefgh$M55TzYaaccxVGbptZWaxX/", "", 1 },
	{ PWHASH_ATHEME "$1$salt$FvP0fcRbyU.l5ktrVZqLj/",
	  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	  1 },
	/* Anope's enc_old, Atheme's crypt3-sha2: not supported */
	{ PWHASH_ANOPE "oldmd5:ce4bd864f37ffaa1b871aef22eea82ff",
	  "shivarampassphrase", 0 },
	{ PWHASH_ATHEME "$6$salt$abc", "abc", 0 },
};

static void
test_legacy_vectors(void)
{
	char name[64];
	size_t i;

	for (i = 0; i < sizeof(legacy_vectors) / sizeof(legacy_vectors[0]);
	    i++) {
		snprintf(name, sizeof(name), "legacy_vector_%zu", i);
		check(name, pwhash_legacy_ok(legacy_vectors[i].stored,
		    legacy_vectors[i].pw) == legacy_vectors[i].ok);
	}
	check("legacy_supported_says_which",
	    pwhash_legacy_supported(legacy_vectors[0].stored) &&
	    pwhash_legacy_supported(legacy_vectors[13].stored) &&
	    pwhash_legacy_supported(legacy_vectors[10].stored) &&
	    pwhash_legacy_supported(PWHASH_ATHEME "$1$hcspif$nCm4r3S14Me9"
	    "ifsOPGuJT.") &&
	    !pwhash_legacy_supported(PWHASH_ANOPE "oldmd5:ce4bd864f37ffaa1"
	    "b871aef22eea82ff") &&
	    !pwhash_legacy_supported(PWHASH_ATHEME "$6$salt$abc") &&
	    !pwhash_legacy_supported(PWHASH_ERGO "$2a$20$abcdefghijklmnop"
	    "qrstuu6iD6.E8aaD1gtLdKRWfONgzvty9lLPq"));
}

int
main(void)
{
	test_sha3_512_vectors();
	test_bcrypt_vectors();
	test_legacy_vectors();
	return nfail != 0;
}
