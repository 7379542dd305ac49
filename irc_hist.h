/*
 * irc_hist.h: what irc_hist.c exports: history and CHATHISTORY.
 */
#ifndef IRC_HIST_H
#define IRC_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "irc_state.h"

struct irc_ev;

cmd_fn	h_chathistory;
/* A delivered PRIVMSG/NOTICE from c to ch, or (ch NULL) to the client
 * to; ev (may be NULL) gives the msgid, time and client-only tags. */
void	 irc_hist_add(struct client *c, struct chan *ch, struct client *to,
	    const char *cmd, const char *text, const struct irc_ev *ev);
void	 irc_hist_join(struct client *, struct chan *);	/* autoreplay */
/* A session attached to always-on c: what it missed since since_ms
 * (wall clock), at most lines per target, events (JOIN...) if asked. */
void	 irc_hist_missed(struct client *c, int64_t since_ms, size_t lines,
	    bool events);
/* znc.in/playback: text of a PRIVMSG to *playback ("PLAY * 1558374442"). */
void	 irc_hist_playback(struct client *c, const char *text);
/* draft/event-playback: ev went to ch's members (JOIN PART KICK TOPIC
 * MODE), or to c's channels (QUIT NICK, before c leaves them). */
void	 irc_hist_event(struct chan *, const struct irc_ev *ev);
void	 irc_hist_peers_event(struct client *c, const struct irc_ev *ev);
/* draft/message-redaction (irc_redact.c): the message msgid of ch, or
 * of c's direct messages with peer (NULL: anyone): who sent it and
 * when; removed from history too if remove (every line of a multiline
 * message). */
/* The kinds of entries, in memory and in the datastore's rows. */
enum { HK_PRIVMSG, HK_NOTICE, HK_TAGMSG, HK_EVENT };

struct hist_info {
	char	 source[NICKLEN_MAX + 256];	/* nick!user@host then */
	char	 account[NICKLEN_MAX + 1];	/* "" if none */
	int64_t	 ms;		/* wall clock, ms since the epoch */
};
bool	 irc_hist_redact(struct chan *ch, struct client *c, const char *peer,
	    const char *msgid, bool remove, struct hist_info *out);
void	 irc_hist_chan_free(struct chan *);
void	 irc_hist_client_free(struct client *);
/* history.persistent: load at start; write the queued rows (rehash,
 * shutdown); the once-a-pass timer; a dropped channel's or account's
 * ring (one id 0) forgotten. */
void	 irc_hist_init(void);		/* its hooks */
/* irc_chathistory.c's hooks (the JOIN replay, HistServ PLAY), after
 * irc_hist_init */
void	 irc_chathistory_init(void);
void	 irc_hist_load(void);
void	 irc_hist_flush(void);
void	 irc_hist_tick(void);
int	 irc_hist_next_ms(void);	/* until the next batch is due, or -1 */
void	 irc_hist_forget(int64_t channel, int64_t account);
void	 irc_hist_bytes(size_t *count, size_t *bytes);	/* held now */

#endif
