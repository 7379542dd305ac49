/*
 * fuzz_yaml.c: `ergo importconf`'s YAML parser and key table over any
 * input: parsed and converted (nothing written), or refused with a
 * message; never outside a buffer, never unbounded.
 */
#include <stdlib.h>

#include "fuzz.h"
#include "../../conf_yaml.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char err[256];

	fuzz_init();
	err[0] = '\0';
	if (len > 65536)
		return 0;
	if (conf_yaml_check((const char *)data, len, err, sizeof(err)) ==
	    -1 && err[0] == '\0')
		abort();	/* every refusal says why */
	return 0;
}
