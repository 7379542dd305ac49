/*
 * driver.c: replays fuzz inputs without libFuzzer, so `make test` runs
 * every seed and every past crash (tests/fuzz/corpus/TARGET/) through
 * the normal (and the sanitizer) build. Prints "ok NAME (N inputs)" or
 * "FAIL NAME: why", as the unit binaries do.
 *
 *	fuzz_TARGET [file|dir ...]	default: the corpus named at build
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#ifndef FUZZ_NAME
#define FUZZ_NAME	"fuzz"
#endif
#ifndef FUZZ_CORPUS
#define FUZZ_CORPUS	"."
#endif

static unsigned long ninputs;

static int
run_file(const char *path)
{
	FILE *f;
	uint8_t *buf = NULL, *nb;
	size_t len = 0, cap = 0, n;

	if ((f = fopen(path, "rb")) == NULL) {
		printf("FAIL %s: %s: %s\n", FUZZ_NAME, path, strerror(errno));
		return -1;
	}
	do {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((nb = realloc(buf, cap)) == NULL)
				abort();
			buf = nb;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	ninputs++;
	return 0;
}

static int
run_path(const char *path)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	char sub[4096];
	int rc = 0;

	if (stat(path, &st) == -1) {
		printf("FAIL %s: %s: %s\n", FUZZ_NAME, path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path);
	if ((d = opendir(path)) == NULL) {
		printf("FAIL %s: %s: %s\n", FUZZ_NAME, path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (run_path(sub) == -1)
			rc = -1;
	}
	closedir(d);
	return rc;
}

int
main(int argc, char *argv[])
{
	int i, rc = 0;

	if (argc < 2)
		rc = run_path(FUZZ_CORPUS);
	for (i = 1; i < argc; i++)
		if (run_path(argv[i]) == -1)
			rc = -1;
	if (rc == 0 && ninputs == 0) {
		printf("FAIL %s: no inputs in %s\n", FUZZ_NAME, argc < 2 ?
		    FUZZ_CORPUS : "the arguments");
		return 1;
	}
	if (rc == 0)
		printf("ok %s (%lu inputs)\n", FUZZ_NAME, ninputs);
	return rc == 0 ? 0 : 1;
}
