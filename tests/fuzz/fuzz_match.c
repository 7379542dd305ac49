/*
 * fuzz_match.c: wildcard masks (bans, WHO), casefolding, name checks,
 * UTF-8 validation and cutting, on arbitrary bytes: input is
 * "mask\0subject", under every casemapping; under precis, a valid
 * nickname folds to a valid one, folding twice changes nothing, and
 * its skeleton is not empty.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "irc_precis.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	char *buf, *mask, *subj, fold[512], norm[512];
	size_t ml;
	int cm;

	fuzz_init();
	if (len > 2048)
		return 0;
	buf = fuzz_cstr(data, len);
	mask = buf;
	ml = strlen(mask);
	subj = ml < len ? buf + ml + 1 : buf + ml;
	for (cm = CASEMAP_ASCII; cm <= CASEMAP_PRECIS; cm++) {
		conf->casemapping = cm;
		(void)irc_match(mask, subj);
		if (!irc_match("*", subj))
			abort();
		if (strchr(subj, '*') == NULL && strchr(subj, '?') == NULL &&
		    !irc_match(subj, subj))
			abort();	/* a plain string matches itself */
		irc_fold(fold, subj, sizeof(fold));
		if (strlen(fold) >= sizeof(fold))
			abort();
		if (irc_nick_valid(subj) && cm == CASEMAP_PRECIS) {
			char again[512], skel[512];

			if (!irc_nick_valid(fold) && strlen(fold) > 0 &&
			    !((fold[0] >= '0' && fold[0] <= '9') ||
			    fold[0] == '-'))
				abort();
			irc_fold(again, fold, sizeof(again));
			if (strcmp(again, fold) != 0)
				abort();
			irc_precis_skeleton(skel, subj, sizeof(skel));
			if (skel[0] == '\0')
				abort();
		}
		(void)irc_chan_valid(subj);
		irc_mask_normalize(norm, sizeof(norm), mask);
		if (strlen(norm) >= sizeof(norm))
			abort();
		/* UTF8ONLY's check, and the cut that must keep valid text
		 * valid */
		if (irc_utf8_valid(subj, strlen(subj)) &&
		    !irc_utf8_valid(subj, irc_utf8_cut(subj, strlen(subj),
		    strlen(subj) / 2)))
			abort();
	}
	conf->casemapping = CASEMAP_ASCII;
	free(buf);
	return 0;
}
