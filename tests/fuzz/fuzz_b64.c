/*
 * fuzz_b64.c: base64 as SASL and password hashes use it: decoding any
 * input stays in its buffer, and encode/decode round-trips.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static unsigned char dec[8192], back[8192];
	static char enc[16384];
	size_t n, m, e;

	fuzz_init();
	if (len > 8000)
		return 0;
	n = util_b64_decode(dec, sizeof(dec), (const char *)data, len);
	if (n != (size_t)-1 && n > sizeof(dec))
		abort();
	/* any bytes encode, and decode back to themselves */
	e = util_b64_encode(enc, sizeof(enc), data, len, true);
	if (e == (size_t)-1 || e >= sizeof(enc))
		abort();
	m = util_b64_decode(back, sizeof(back), enc, e);
	if (m != len || memcmp(back, data, len) != 0)
		abort();
	return 0;
}
