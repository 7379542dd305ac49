/*
 * irc_util.h: what irc_util.c exports: the pure helpers of the protocol:
 * message parsing, casemapping and matching, hash tables, UTF-8, IRCv3
 * tags and server-time. Knows no client or channel.
 */
#ifndef IRC_UTIL_H
#define IRC_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ergo.h"

/* ---- parsed message ---- */
struct msg {
	char	*tags;		/* raw tag section without '@', or NULL */
	char	*source;	/* without ':', or NULL */
	char	*cmd;		/* upper-cased in place */
	char	*param[IRC_PARAMS_MAX];
	int	 nparam;
};
/* 0, or -1 if there is no command. Modifies line. */
int	 irc_parse(char *line, struct msg *m);

/* ---- intrusive string-keyed hash table (irc_util.c) ---- */
struct hent {
	struct hent	*next;
	char		*key;		/* casefolded, owned by the entry's owner */
};
struct htab {
	struct hent	**b;
	size_t		 nb, n;
};
void	 htab_init(struct htab *);
void	 htab_free(struct htab *);		/* the bucket array only */
struct hent *htab_get(struct htab *, const char *key);
int	 htab_put(struct htab *, struct hent *);	/* -1 on ENOMEM */
void	 htab_del(struct htab *, struct hent *);

/* casemapping and matching (irc_util.c) */
void	 irc_fold(char *dst, const char *src, size_t dstsz); /* per conf */
int	 irc_casecmp(const char *a, const char *b);
bool	 irc_match(const char *mask, const char *s);	/* * ? casemapped */
bool	 irc_nick_valid(const char *nick);		/* syntax + nicklen */
bool	 irc_nick_reserved(const char *nick);	/* a service's: 432 */
bool	 irc_mask_valid(const char *mask);	/* a +b/+e/+I mask */
bool	 irc_chan_valid(const char *name);		/* #&, channellen */
char	*xstrdup(const char *);		/* NULL on ENOMEM */
/* Largest n <= max with s[0..n) not ending inside a UTF-8 sequence. */
size_t	 irc_utf8_cut(const char *s, size_t len, size_t max);
void	 irc_utf8_trunc(char *s, size_t max);	/* cut NUL-terminated s */
/* Whether s[0..len) is well-formed UTF-8 (UTF8ONLY). */
bool	 irc_utf8_valid(const char *s, size_t len);
/* IRCv3 tags. The unescaped value of key in a raw tag section. */
bool	 irc_tag_get(const char *tags, const char *key, char *val,
	    size_t valsz);
/*
 * The client-only (+) tags of a raw tag section, escaped canonically,
 * the last of duplicates kept, CLIENTTAGDENY ones, malformed keys and
 * values that are not UTF-8 dropped, ';'-separated into out; returns the length.
 */
size_t	 irc_tags_client(const char *tags, char *out, size_t outsz);
/* Escapes a tag value (\: \s \\ \r \n); returns the length. */
size_t	 irc_tag_escape(char *dst, size_t dstsz, const char *src,
	    size_t len);
size_t	 irc_tag_unescape(char *dst, size_t dstsz, const char *src,
	    size_t len);
/* s as a middle parameter of a reply, or "*" if it cannot be one. */
const char *irc_param_safe(const char *s);
/* Normalise nick!user@host masks for +b/+e/+I: "foo" -> "foo!*@*". */
void	 irc_mask_normalize(char *dst, size_t dstsz, const char *mask);

/* IRCv3 limits */
#define IRC_CLIENT_TAGS_MAX	4094	/* tag data a client may send */
#define IRC_CLIENT_TAGS_N	64	/* client-only tags read per line */
#define IRC_LABEL_MAX		64	/* labeled-response label */
#define IRC_MSGID_LEN		24
/* A tagged line: tags (8191 incl '@' and ' ') + 512 + NUL */
#define IRC_OUT_MAX		(IRC_TAGS_MAX + IRC_RELAY_MAX + 1)
/* CLIENTTAGDENY: client-only tags never relayed ("": all allowed) */
#define IRC_CLIENTTAGDENY	""

/* IRCv3 server-time text <-> ms since the epoch */
bool	 irc_time_parse(const char *s, int64_t *ms);
void	 irc_time_format(char *buf, size_t sz, int64_t ms);
int64_t	 irc_time_now_ms(void);

/* Whether every byte of s (non-empty) is in set, a list of characters
 * and ranges ("0-9A-Za-z._/-": a '-' first or last is itself). */
bool	 irc_chars_ok(const char *set, const char *s);
/*
 * A ban's or suspension's duration: "0", "none", "perm", "permanent": 0;
 * bare digits: minutes (ircd-hybrid's); else "1w2d3h4m5s". Seconds, or
 * -1 if malformed or over IRC_DURATION_MAX.
 */
#define IRC_DURATION_MAX	(10LL * 366 * 86400)	/* ten years */
long long irc_duration_parse(const char *s);

#endif
