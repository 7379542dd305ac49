/*
 * irc_oper.h: what irc_oper.c exports: an operator's standing (class,
 * capabilities, WHOIS line, hidden status) and server notices
 * (snomasks), for every command family.
 */
#ifndef IRC_OPER_H
#define IRC_OPER_H

#include <stdbool.h>

#include "irc_state.h"

struct oper_conf;

/* Ergo's snomask letters (sno/constants.go). */
#define SNO_LETTERS	"acjknoqtuvx"

/*
 * Whether c is an operator whose class grants capability cap, one of
 * Ergo's names ("kill", "ban", "vhosts", "sajoin", ...). Read from the
 * running config each time, so a rehash changes it at once. An oper
 * whose block a rehash removed keeps +o but no capability.
 */
bool	 irc_oper_can(const struct client *, const char *cap);
/* The oper block c authenticated as in the running config, or NULL. */
const struct oper_conf *irc_oper_block(const struct client *);
/* c becomes an operator of block o: +o (MODE sent to c), class,
 * fakelag, the block's modes (snomasks only with the capability); its
 * vhost is the caller's. Returns false on ENOMEM (nothing changed). */
bool	 irc_oper_up(struct client *, const struct oper_conf *o);
/* c stops being one (MODE -o is the caller's to send): fakelag back,
 * snomasks cleared. */
void	 irc_oper_down(struct client *);
/* Whether viewer sees that t is an operator (hidden ones: opers only). */
bool	 irc_oper_visible(const struct client *viewer, const struct client *t);
/* The text of t's 313: its block's whois-line, else "is a TITLE" of its
 * class, else "is an IRC operator". */
const char *irc_oper_whois_line(const struct client *t);

/*
 * Snomasks: "+cjk" / "-k" changes to c's mask (letters outside
 * SNO_LETTERS ignored); the new mask's letters into buf ("" if none).
 */
void	 irc_sno_change(struct client *, const char *change, char *buf,
	    size_t sz);
void	 irc_sno_string(const struct client *, char *buf, size_t sz);
/* A server notice to every oper subscribed to letter, as Ergo words it:
 * ":server NOTICE nick :*** Notice -- [NAME] text". */
void	 irc_sno(char letter, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* client_free: off the snomask list */
void	 irc_oper_free(struct client *);

#endif
