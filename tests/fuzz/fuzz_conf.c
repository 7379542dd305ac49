/*
 * fuzz_conf.c: the config lexer and parser, through conf_load() as
 * `ergo checkconfig` uses it: any bytes give a config or errors, never
 * a crash, a leak or an unbounded error list.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static char path[64];
	struct conf *c;
	char *errs = NULL;
	int fd;

	fuzz_init();
	if (path[0] == '\0')
		snprintf(path, sizeof(path), "/tmp/ergo-fuzz-conf.%ld",
		    (long)getpid());
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		abort();
	if (write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
	if ((c = conf_load(path, &errs)) != NULL) {
		if (errs != NULL)
			abort();	/* success means no errors */
		conf_free(c);
	} else if (errs == NULL || errs[0] == '\0')
		abort();		/* a failure always says why */
	free(errs);
	unlink(path);
	return 0;
}
