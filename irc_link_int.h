/*
 * irc_link_int.h: what the link family's files share: the server
 * tree and the links (irc_link.c, the core), and the users, channels and
 * burst carried over them (irc_link_user.c and above). Nothing outside
 * the family includes this. The files call only downward: irc_link.c
 * <- irc_link_user.c <- irc_link_ban.c, irc_link_svc.c <-
 * irc_link_chan.c, irc_link_msg.c; what goes up goes through lk_hooks.
 * Each file adds its own server commands (lk_cmds_add) at its init.
 */
#ifndef IRC_LINK_INT_H
#define IRC_LINK_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "irc_state.h"

#define LK_SIDLEN	3
#define LK_UIDLEN	9
#define LK_SERVERS_MAX	1024	/* servers one network may show us */

/* peer capabilities (CAPAB) we act on */
#define LKCAP_EUID	0x01
#define LKCAP_TB	0x02
#define LKCAP_ENCAP	0x04
#define LKCAP_EX	0x08
#define LKCAP_IE	0x10
#define LKCAP_HOPS	0x20	/* halfops: +h, % */
#define LKCAP_ERGO	0x40	/* another of ours: Ergo's modes, ranks, extbans */
#define LKCAP_STAG	0x80	/* message tags on lines (Solanum's STAG) */
#define LKCAP_TBURST	0x100	/* topics as TBURST (ircd-hybrid) */
#define LKCAP_HYBRID	0x200	/* RHOST: ircd-hybrid 8.2 (UID with account) */
#define LKCAP_KLN	0x400	/* KLINE/UNKLINE without ENCAP (KLN) */

struct link;

/* A server of the network: us, a peer, or one behind a peer. */
struct server {
	struct server	*next;		/* all of them but us */
	char		 sid[LK_SIDLEN + 1];
	char		 name[64];
	char		 info[128];
	unsigned	 hops;
	struct server	*uplink;	/* NULL: us */
	struct link	*via;		/* the peer it is behind; NULL: us */
	unsigned	 nusers;
};

enum { LS_HANDSHAKE, LS_UP };

/* One connection to a peer server. */
struct link {
	struct link	*next;
	struct conn	*conn;		/* NULL once closed */
	int		 state;		/* LS_* */
	bool		 outbound;	/* we connected */
	bool		 dead;		/* dropped: freed at the next tick */
	bool		 sent_hello;	/* our PASS CAPAB SERVER went out */
	bool		 got_pass, got_svinfo, eob;
	bool		 old_server;	/* its SERVER had no SID: ours neither */
	unsigned	 caps;		/* LKCAP_* */
	char		 name[64];	/* configured, or announced */
	char		 peer_sid[LK_SIDLEN + 1];
	char		*pass;		/* its PASS until SERVER checks it */
	struct server	*srv;		/* once SERVER was accepted */
	uint64_t	 since_ms, last_recv_ms, ping_ms;
	bool		 pinged;
	char		 ip[64];
};

extern struct server	 lk_me;
extern struct link	*lk_links;
extern struct server	*lk_servers;
/* The link whose line runs (NULL: a local command). */
extern struct link	*lk_cur;

struct server *lk_server_sid(const char *sid);
struct server *lk_server_name(const char *name);
/* A server command's handler: from is the server or NULL, u the user
 * it came from or NULL (one of them is set). */
struct msg;
typedef void lk_fn(struct link *, struct server *from, struct client *u,
    struct msg *);

#define LK_UP	0x01	/* only once the handshake is done */

/* A server command: the core's table holds every file's (sorted). */
struct lk_cmd {
	const char	*name;
	lk_fn		*fn;
	int		 min;		/* parameters, at least */
	int		 flags;		/* LK_UP */
};
/* At a file's init; a name twice or past the table is fatal. */
void	 lk_cmds_add(const struct lk_cmd *, size_t);

#define LK_BURST_MAX	4

/*
 * The calls that go up the family, set by the files above at their
 * init. The core runs burst (in the order they were added: users,
 * channels, services), split, rehashed and user_uid; irc_link_user.c's
 * ENCAP runs encap_relay (K/D-lines: true if it was one, passed on
 * and applied) before passing an ENCAP on, and encap_here (true:
 * taken) for one for us after; its EUID/UID runs user_added.
 */
struct lk_hooks {
	struct client	*(*user_uid)(const char *uid);
	void		 (*split)(struct server *);	/* its users quit */
	void		 (*burst[LK_BURST_MAX])(struct link *);
	size_t		 nburst;
	void		 (*rehashed)(void);
	bool		 (*encap_relay)(struct link *, struct server *,
			    struct client *, struct msg *);
	bool		 (*encap_here)(struct link *, struct server *,
			    struct client *, struct msg *);
	void		 (*user_added)(struct client *);
	/* a UID/EUID nick with umodes um from l: may it come in? (false:
	 * l has been dropped) */
	bool		 (*user_ok)(struct link *, const char *nick,
			    const char *um);
};
extern struct lk_hooks	 lk_hooks;
void	 lk_burst_add(void (*)(struct link *));

/* One line to one link (CRLF appended); to every link up but except. */
void	 lk_send(struct link *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* tags ("@a=b " or "") then line, which has no CRLF. */
void	 lk_send_tagged(struct link *, const char *tags, const char *line);
void	 lk_send_all(struct link *except, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* ERROR :reason, the link closed and what was behind it split off. */
void	 lk_drop(struct link *, const char *reason);

struct lk_user {
	struct hent	 h;		/* by UID */
	char		 uid[LK_UIDLEN + 1];
	struct server	*server;	/* &lk_me: ours */
	time_t		 ts;		/* nick TS */
	char		 ip[64];	/* a remote user's, as told */
	bool		 gone;		/* its end came from a link: told */
	bool		 service;	/* +S: a service (ChanServ...) */
};

/* irc_link_user.c */
struct client *lk_user_uid(const char *uid);
struct server *lk_user_server(const struct client *);	/* &lk_me: ours */
struct client *lk_user_ref(const char *uid_or_nick);
bool	 lk_is_remote(const struct client *);
/* Our UID for a local user, made once (NULL: linking off, ENOMEM). */
const char *lk_uid_of(struct client *);
/* A local user's change is told by the hooks, unless a link's handler
 * is running (it tells the other links itself). */
bool	 lk_told(const struct client *);
/* A local user's UID (made on first use; NULL: no server.sid), or a
 * remote user's. */
const char *lk_client_uid(struct client *);
/* c's QUIT or KILL went to the links already: not sent again. */
void	 lk_user_told(struct client *);

/* irc_link_svc.c: accounts and services across the network */
/* A PRIVMSG/NOTICE from a link for our services: true if taken. */
bool	 lk_svc_message(struct link *, struct client *u, struct msg *,
	    bool notice);
/* The source of a change our ChanServ made: its UID if the network
 * knows it, else our SID. */
const char *lk_svc_chanserv(void);

#endif
