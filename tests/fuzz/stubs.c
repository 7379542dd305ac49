/*
 * stubs.c: the globals and calls of ergo.c that the library needs, for
 * fuzz targets (which have their own main, libFuzzer's or driver.c's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

void
fuzz_init(void)
{
	char *errs = NULL;

	if (conf != NULL)
		return;
	log_init(LL_ERROR);	/* the config parser's warnings are noise here */
	if ((conf = conf_load(NULL, &errs)) == NULL) {
		fprintf(stderr, "fuzz: built-in config: %s\n", errs ? errs : "?");
		abort();
	}
}

char *
fuzz_cstr(const uint8_t *data, size_t len)
{
	char *s = malloc(len + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, len);
	s[len] = '\0';
	return s;
}
