/*
 * irc_out.h: what irc_out.c exports: every byte the protocol sends, and
 * the numerics.
 */
#ifndef IRC_OUT_H
#define IRC_OUT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "irc_state.h"
#include "irc_num.h"

/* raw line; CRLF appended; truncated to 512 bytes at a UTF-8-safe place */
void	 irc_send(struct client *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* The same to one session (of a user with several). */
void	 irc_send_session(struct session *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* ":server NUM target " + fmt; target is nick or "*" */
void	 irc_numeric(struct client *, int num, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* A preformatted line including CRLF. */
void	 irc_send_raw(struct client *, const char *line, size_t len);
/* Same, for a line that carries its own tags: no time= is added. */
void	 irc_send_tagged(struct client *, const char *line, size_t len);
/* The same to one session of a user; ev to one session (multiline's
 * per-session delivery), in the variant its capabilities need. */
void	 irc_send_session_tagged(struct session *, const char *line,
	    size_t len);
struct irc_ev;
void	 irc_ev_send_session(struct irc_ev *, struct session *);
/* Format once, send to every member of ch except `except`. */
void	 irc_chan_send(struct chan *, struct client *except,
	    const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The same for an event history records (PART KICK TOPIC MODE). */
void	 irc_chan_event(struct chan *, struct client *from,
	    struct client *except, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
/* Send to c (if self) and every user sharing a channel with c, once each. */
/* An event history records (QUIT NICK). */
void	 irc_peers_event(struct client *, bool self, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* Build a line into buf (CRLF appended, truncated safely); returns length */
size_t	 irc_vformat(char *buf, size_t sz, const char *fmt, va_list ap);
/* The same with room for a relayed line's source (IRC_RELAY_MAX). */
size_t	 irc_vformat_relay(char *buf, size_t sz, const char *fmt, va_list ap);
/* ":server FAIL|WARN|NOTE <cmd> <code> [ctx] :text" (standard-replies) */
void	 irc_fail(struct client *, const char *kind, const char *cmd,
	    const char *code, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));

/*
 * One event (a PRIVMSG, JOIN, QUIT...) relayed to many clients. The body
 * is formatted once (plus an alternative body for clients with altcap,
 * e.g. extended-join); the tags (time, msgid, account, bot, client-only
 * tags) once per distinct set of CAP_TAGGING caps among the recipients.
 * irc_ev_done frees what irc_ev_send cached.
 */
#define IRC_EV_VARIANTS	16
struct net_line;
struct irc_ev {
	struct client	*from;		/* NULL: the server */
	uint64_t	 need;		/* recipients need all of these caps */
	uint64_t	 altcap;	/* recipients with it get alt */
	/* a relayed line: a client's 512 bytes plus the source */
	char		 body[IRC_RELAY_MAX + 1], alt[IRC_RELAY_MAX + 1];
	size_t		 blen, alen;	/* CRLF included; alen 0: no alt */
	char		 msgid[IRC_MSGID_LEN + 1];	/* "" if none */
	char		 time[32];
	const char	*ctags;		/* escaped client-only tags, or NULL */
	unsigned	 nv;
	struct {
		uint64_t key;
		size_t	 len;
		const char *line;	/* nl's bytes */
		struct net_line *nl;	/* shared by its recipients */
	} v[IRC_EV_VARIANTS];
};
/* from may be NULL; msgid: give the event a fresh msgid. */
void	 irc_ev_init(struct irc_ev *, struct client *from, bool msgid,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void	 irc_ev_alt(struct irc_ev *, uint64_t cap, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	 irc_ev_send(struct irc_ev *, struct client *to);
/* Client lines are being read: a large channel's messages may be held
 * back and fanned out together; release sends them (before the write
 * phase) and stops holding. */
void	 irc_out_hold(void);
void	 irc_out_release(void);
/* A message c sent, to its own sessions: the others, and the sender's
 * if it has echo-message. */
void	 irc_ev_echo(struct irc_ev *, struct client *c);
/* To its own sender (a message to oneself): not a labeled reply. */
void	 irc_ev_send_unlabeled(struct irc_ev *, struct client *to);
void	 irc_ev_chan(struct irc_ev *, struct chan *, struct client *except);
/* The same, to the members holding one of the prefix modes (MEMB_*). */
void	 irc_ev_chan_status(struct irc_ev *, struct chan *,
	    struct client *except, unsigned char modes);
/* irc_ev_chan for an event history records (JOIN). */
void	 irc_ev_chan_event(struct irc_ev *, struct chan *, struct client *except);
/* ev, a PRIVMSG/NOTICE/TAGMSG from `from`, was delivered to ch or to
 * the user to: history records it (irc_hooks.message). */
void	 irc_ev_message(const struct irc_ev *, struct client *from,
	    struct chan *ch, struct client *to, const char *cmd,
	    const char *text);
void	 irc_ev_peers(struct irc_ev *, struct client *c, bool self);
/* To each of c's peers (not c) without cap, once. */
void	 irc_ev_peers_lacking(struct irc_ev *, struct client *c, uint64_t cap);
void	 irc_ev_done(struct irc_ev *);
/* The line ev would be to `to` (its tags for to's caps); 0 if none. */
size_t	 irc_ev_format(struct irc_ev *, const struct client *to, char *buf,
	    size_t sz);
/*
 * labeled-response for a reply that carries the label itself (the
 * opening BATCH of a multiline echo): takes c's "label=..." tag into
 * tag and stops labeling this command (no ACK); false if c's command
 * has no label or its replies began. resume labels c's replies from
 * here to the end of the command with a taken tag, unless it has one.
 */
bool	 irc_label_take(struct client *, char *tag, size_t sz);
/* c's command starts (its raw tags) and ends (irc.c's dispatch). */
void	 irc_label_begin(struct client *, const char *tags);
void	 irc_label_end(struct client *);
void	 irc_label_resume(struct client *, const char *tag);
void	 irc_out_init(void);		/* msgid base; log settings */
void	 irc_out_rehashed(void);	/* log settings, ISUPPORT */
/* Event lines from c to its peers (and itself) holding cap only. */
void	 irc_peers_cap_send(struct client *c, bool self, uint64_t cap,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* 005: the tokens of the running config, built once per rehash. */
void	 irc_send_isupport(struct client *);
/* "@", "%", "" ... (multi-prefix: "~@+"), per the client's caps */
const char *irc_member_prefix(const struct member *, const struct client *to);

#endif
