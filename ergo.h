/*
 * ergo.h: the version and the compile-time limits every part checks
 * against. Each part's own exports are in its header (log.h, conf.h,
 * util.h, net.h, store.h, irc.h ...); ergo.c exports nothing.
 */
#ifndef ERGO_H
#define ERGO_H


#define ERGO_VERSION		"ergo-c-0.1.0"

/* Hard ceilings: config values are validated against these. */
#define IRC_LINE_MAX		512	/* RFC 1459 line, CRLF included */
#define IRC_TAGS_MAX		8191	/* IRCv3 tag section incl. '@' and ' ' */
#define IRC_PARAMS_MAX		15
#define NICKLEN_MAX		64
#define CHANLEN_MAX		200
#define READ_CHUNK		16384	/* the shared scratch read buffer */
#define RECVQ_MAX		(IRC_TAGS_MAX + IRC_LINE_MAX + 1) /* pending partial line */
/* A partial line this long, with no end in sight, ends the connection
 * (Ergo's readq: "ERROR :Input line too long"). */
#define READQ_MAX		16384
/*
 * A client's 512-byte line relayed with its nick!user@host in front is
 * longer than 512: relayed whole (as Ergo does, and clients take longer
 * server lines), never cut. The source is at most this long.
 */
#define IRC_PREFIX_MAX		256
#define IRC_RELAY_MAX		(IRC_LINE_MAX + IRC_PREFIX_MAX)

#endif
