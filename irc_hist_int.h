/*
 * irc_hist_int.h: what irc_hist.c (the rings, their persistence and
 * redaction) gives irc_chathistory.c (CHATHISTORY, replay on JOIN,
 * ZNC's *playback, HistServ PLAY), which reads the rings; nothing calls
 * back from irc_hist.c. Nothing else includes it.
 */
#ifndef IRC_HIST_INT_H
#define IRC_HIST_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "irc_state.h"

#define HIST_TIME_LEN		31	/* 2019-01-04T14:33:26.123Z */

/* Client-only tags, shared by the entries that carry the same ones. */
struct htags {
	unsigned	 refs;
	size_t		 size;		/* of this allocation */
	char		 s[];
};

/*
 * One message or event; its strings follow the struct in the same
 * allocation. An event (JOIN, TOPIC...) keeps its whole line in text.
 */
struct hmsg {
	uint64_t	 seq;		/* total order, ties of ms included */
	int64_t		 ms;		/* wall clock, ms since the epoch */
	char		 msgid[IRC_MSGID_LEN + 1];
	char		 time[HIST_TIME_LEN + 1];
	unsigned char	 kind;		/* HK_* */
	bool		 bot;		/* the sender was +B (bot tag) */
	unsigned short	 refs;		/* its ring, a queued row */
	const char	*source;	/* nick!user@host when it was sent */
	const char	*target;	/* #chan, or the recipient's nick */
	const char	*peer;		/* DMs: the other party's nick */
	const char	*text;
	const char	*ctags;		/* escaped client-only tags, or NULL */
	const char	*account;	/* the sender's then (account-tag) */
	struct htags	*tags;		/* holds ctags, or NULL */
	struct hist	*ring;		/* the ring that keeps it, or NULL */
	struct hmsg	*gprev, *gnext;	/* all kept entries, oldest first */
	size_t		 size;		/* of its block (reused: maybe more) */
	size_t		 charge;	/* to its ring: size, + tags it made */
	char		 data[];
};

/* Oldest at head; slots [head, head + n) modulo cap. */
struct hist {
	struct hmsg	**slot;
	size_t		  cap, head, n;
	size_t		  bytes;	/* the charges of its entries */
};

/* irc_hist.c: entry i of h (0 the oldest); where the rings of a channel
 * and of a client's direct messages are; h without what is past
 * expire-time or over max entries */
struct hmsg	*hist_slot_at(const struct hist *h, size_t i);
struct hist	**hist_chan(struct chan *);
struct hist	**hist_dm(struct client *);
void		 hist_trim(struct hist *h, size_t max);

#endif
