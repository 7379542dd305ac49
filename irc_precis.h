/*
 * irc_precis.h: what irc_precis.c exports: casemapping precis (UTF-8
 * nicknames, RFC 8265 UsernameCaseMapped as Ergo, a documented subset).
 */
#ifndef IRC_PRECIS_H
#define IRC_PRECIS_H

#include <stdbool.h>
#include <stddef.h>

/* Whether nick (at most maxlen bytes) is a valid precis nickname. */
bool	 irc_precis_nick_valid(const char *nick, size_t maxlen);
/* src folded (UTF-8 lower case and width mapping) into dst. */
void	 irc_precis_fold(char *dst, const char *src, size_t dstsz);
/* nick's confusable skeleton into dst: equal skeletons collide. */
void	 irc_precis_skeleton(char *dst, const char *nick, size_t dstsz);
const char *irc_precis_unicode(void);	/* the tables' Unicode version */

#endif
