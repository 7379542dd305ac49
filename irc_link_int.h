/*
 * irc_link_int.h: what the link family's files share: the server
 * tree and the links (irc_link.c), and the users, channels and burst
 * carried over them (irc_link_user.c). Nothing outside the family
 * includes this.
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
/* A server command's handler: from is the server or NULL, u the user
 * it came from or NULL (one of them is set). */
struct msg;
typedef void lk_fn(struct link *, struct server *from, struct client *u,
    struct msg *);
lk_fn	 lk_away, lk_encap, lk_euid, lk_join, lk_kick, lk_kill, lk_mode,
	 lk_nick, lk_notice, lk_part, lk_privmsg, lk_quit, lk_sjoin,
	 lk_tagmsg, lk_tb, lk_tburst, lk_tmode, lk_topic, lk_uid, lk_bmask, lk_whois;
struct client *lk_user_uid(const char *uid);
struct server *lk_user_server(const struct client *);	/* &lk_me: ours */
void	 lk_burst(struct link *);	/* users and channels */
struct client *lk_user_ref(const char *uid_or_nick);
bool	 lk_is_remote(const struct client *);
/* Our UID for a local user, made once (NULL: linking off, ENOMEM). */
const char *lk_uid_of(struct client *);
/* A local user's change is told by the hooks, unless a link's handler
 * is running (it tells the other links itself). */
bool	 lk_told(const struct client *);
/* Every user on s (gone) quits, told to local peers only. */
void	 lk_users_split(struct server *s);
void	 lk_user_init(void);
/* A local user's UID (made on first use; NULL: no server.sid), or a
 * remote user's. */
const char *lk_client_uid(struct client *);
/* c's QUIT or KILL went to the links already: not sent again. */
void	 lk_user_told(struct client *);

/* irc_link_svc.c: accounts and services across the network */
void	 lk_svc_init(void);
void	 lk_svc_burst(struct link *);	/* our services, if we run them */
void	 lk_svc_rehashed(void);
/* A PRIVMSG/NOTICE from a link for our services: true if taken. */
bool	 lk_svc_message(struct link *, struct client *u, struct msg *,
	    bool notice);
/* The source of a change our ChanServ made: its UID if the network
 * knows it, else our SID. */
const char *lk_svc_chanserv(void);
/* A user came from a link (EUID): its account, as the services see it. */
void	 lk_svc_user_added(struct client *);
/* An ENCAP for us: SU, SVSLOGIN, SASL (true if taken). */
bool	 lk_svc_encap(struct link *, struct server *from, struct client *u,
	    struct msg *);

/* irc_link_chan.c */
void	 lk_burst_chan(struct link *, struct chan *);
void	 lk_chan_init(void);

/* irc_link_msg.c */
void	 lk_msg_init(void);

/* irc_link_ban.c: an ENCAP K/D-line (true: it was one, applied if for
 * us); KLINE and UNKLINE without ENCAP */
bool	 lk_encap_ban(struct link *, struct server *, struct client *,
	    struct msg *);
lk_fn	 lk_kline, lk_unkline;
void	 lk_ban_init(void);

#endif
