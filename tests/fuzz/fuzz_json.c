/*
 * fuzz_json.c: json.c, the parser `ergo importdb` runs over a file an
 * operator was handed: any input parses or fails with a message, never
 * reads or writes outside its buffer, and every string in the tree is
 * valid UTF-8 without NUL.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "../../json.h"

static void
walk(const struct json *j, int depth)
{
	for (; j != NULL; j = j->next) {
		if (depth > JSON_DEPTH_MAX)
			abort();
		if (j->type == JSON_STR && !irc_utf8_valid(j->s, strlen(j->s)))
			abort();
		if (j->type == JSON_NUM && strlen(j->s) > JSON_NUM_MAX)
			abort();
		walk(j->child, depth + 1);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct json *j;
	char err[128];

	fuzz_init();
	err[0] = '\0';
	if ((j = json_parse((const char *)data, len, err, sizeof(err))) ==
	    NULL) {
		if (err[0] == '\0')
			abort();	/* every failure says why */
		return 0;
	}
	walk(j, 0);
	json_free(j);
	return 0;
}
