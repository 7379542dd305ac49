/*
 * conf_int.h: what conf.c (the parser), conf_keys.c (the tables of keys)
 * and conf_text.c (the annotated default text) share. Nothing else
 * includes it.
 */
#ifndef CONF_INT_H
#define CONF_INT_H

#include <stdbool.h>
#include <stddef.h>

enum ktype {
	K_BLOCK,	/* key { ... }: same struct, aux = struct block */
	K_SWITCH,	/* key { ... } as K_BLOCK, or key yes|no: sets the
			   block's first key (a bool), e.g. `registration no` */
	K_TLS,		/* tls { ... } inside listen: sets listen_conf.tls */
	K_LISTEN,	/* listen ADDR [{ tls { ... } }], repeatable */
	K_OPER,		/* oper NAME { ... }, repeatable */
	K_OPERCLASS,	/* oper-class NAME { ... }, repeatable */
	K_LINK,		/* link NAME { ... }, repeatable */
	K_WEBIRC,	/* webirc NAME { ... } in server, repeatable */
	K_LOG,		/* logging { ... }, repeatable, no label */
	K_TYPES,	/* log categories: * name -name, one or more words */
	K_STR,		/* text; min/max bound its length */
	K_WORD,		/* text without spaces */
	K_HOST,		/* a hostname with a dot */
	K_SID,		/* a TS6 server id: digit, then two of 0-9 A-Z */
	K_PATH,		/* a file the server reads: relative to the config */
	K_HASH,		/* a conf_passwd_hash() string */
	K_MODES,	/* channel modes like +nt */
	K_NETS,		/* addresses and CIDR blocks: "localhost 10.0.0.0/8" */
	K_FMODE,	/* a file mode in octal: 0770 */
	K_TAGS,		/* client-only tag names: "+draft/react +react" */
	K_UINT,		/* unsigned */
	K_SIZE,		/* size_t, bytes: 96k */
	K_SECS,		/* unsigned seconds: 30s, 1h30m */
	K_MSECS,	/* unsigned milliseconds: 500ms, 2s */
	K_BOOL,		/* bool: yes/no */
	K_ENUM		/* int from aux, a struct enumval list */
};

struct enumval {
	const char	*name;
	int		 val;
};

struct key {
	const char		*name;
	enum ktype		 type;
	size_t			 off;		/* in the block's struct */
	unsigned long long	 min, max;	/* value, or string length */
	const void		*aux;
	const char		*def;		/* as written in a file; or NULL */
	const char		*help;		/* one line, for defaultconfig */
	const char		*example;	/* commented-out lines, or NULL */
};

struct block {
	const char		*name;		/* for messages; NULL: top level */
	const struct key	*keys;		/* ends with a NULL name */
};

#define KB	1024ULL
#define MB	(1024ULL * 1024ULL)
#define HOUR_MS	3600000ULL
#define DAY	86400ULL

/* conf_keys.c: the top level and the blocks the parser names */
extern const struct block	 top_block, server_block, logging_block,
				 listen_block, webirc_block, oper_block,
				 operclass_block, link_block;
extern const struct enumval	 method_vals[];

/* conf.c: a character that ends a bare word */
bool	 lex_delim(unsigned char ch);

#endif
