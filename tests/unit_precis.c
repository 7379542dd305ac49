/*
 * unit_precis.c: casemapping precis's Unicode normalisation (NFC,
 * irc_precis.c): a letter and its combining marks fold, compare and
 * look alike as the precomposed letter; marks in any order of the same
 * meaning; Hangul jamo and kana; what the subset leaves alone
 * (one-character decompositions, exclusions); a mark left over is no
 * nickname.
 * Prints "ok NAME" or "FAIL NAME: why" per case; links against libergo.a.
 */

#include <stdio.h>
#include <string.h>

#include "irc_precis.h"

#include "unit.h"

static void
check(const char *name, int ok, const char *got)
{
	if (!ok)
		bad("got \"%s\"", got);
	report(name);
}

/* a folds to exactly want. */
static void
fold_is(const char *name, const char *a, const char *want)
{
	char f[256];

	irc_precis_fold(f, a, sizeof(f));
	check(name, strcmp(f, want) == 0, f);
}

static void
same_skeleton(const char *name, const char *a, const char *b)
{
	char sa[256], sb[256];

	irc_precis_skeleton(sa, a, sizeof(sa));
	irc_precis_skeleton(sb, b, sizeof(sb));
	check(name, strcmp(sa, sb) == 0, sa);
}

static void
valid_is(const char *name, const char *nick, int want)
{
	check(name, irc_precis_nick_valid(nick, 64) == want, nick);
}

int
main(void)
{
	/* e + COMBINING ACUTE is é; É folds to it too */
	fold_is("compose_e_acute", "e\xcc\x81", "\xc3\xa9");
	fold_is("compose_upper", "E\xcc\x81t\xc3\xa9", "\xc3\xa9t\xc3\xa9");
	fold_is("precomposed_unchanged", "\xc3\x89t\xc3\xa9",
	    "\xc3\xa9t\xc3\xa9");
	/* a + circumflex + dot below: reordered (dot below, class 220,
	 * first), then composed to U+1EAD; so is a-circumflex + dot below */
	fold_is("reorder_marks", "a\xcc\x82\xcc\xa3", "\xe1\xba\xad");
	fold_is("decompose_then_compose", "\xc3\xa2\xcc\xa3", "\xe1\xba\xad");
	/* Hangul: L + V is the syllable GA, + T is GAG */
	fold_is("hangul_lv", "\xe1\x84\x80\xe1\x85\xa1", "\xea\xb0\x80");
	fold_is("hangul_lvt", "\xea\xb0\x80\xe1\x86\xa8", "\xea\xb0\x81");
	/* KA + VOICED SOUND MARK is GA */
	fold_is("kana", "\xe3\x81\x8b\xe3\x82\x99", "\xe3\x81\x8c");
	/* the subset: what NFC does to no letter of a nickname is left
	 * (OHM SIGN stays; so does DEVANAGARI QA, kept out of composition) */
	fold_is("singleton_left", "\xe2\x84\xa6", "\xe2\x84\xa6");
	fold_is("exclusion_left", "\xe0\xa5\x98", "\xe0\xa5\x98");
	/* nothing composes with x: the mark stays */
	fold_is("no_composite", "x\xcc\x81", "x\xcc\x81");
	fold_is("ascii_untouched", "Plain-Nick", "plain-nick");
	/* NFC before folding: I + U+0307 is U+0130, which folds to "i";
	 * folded first it stayed "i" + U+0307, no nickname (fuzz_match) */
	fold_is("dotted_capital_i_decomposed", "I\xcc\x87", "i");
	fold_is("dotted_capital_i", "\xc4\xb0", "i");
	/* not UTF-8: bytes as they are, nothing normalised */
	fold_is("not_utf8", "a\xff\xcc\x81", "a\xff\xcc\x81");

	same_skeleton("skeleton_nfc", "Jos\xc3\xa9", "Jose\xcc\x81");

	valid_is("valid_composed", "Jose\xcc\x81", 1);
	valid_is("valid_reordered", "a\xcc\x82\xcc\xa3x", 1);
	valid_is("valid_hangul_jamo", "\xe1\x84\x80\xe1\x85\xa1", 1);
	valid_is("invalid_leftover_mark", "x\xcc\x81", 0);
	valid_is("invalid_leading_mark", "\xcc\x81" "abc", 0);
	valid_is("invalid_not_utf8", "a\xcc", 0);
	valid_is("valid_precomposed", "Zo\xc3\xab", 1);
	return nfail != 0;
}
