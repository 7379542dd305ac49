/*
 * conf_int.h: what conf.c (the parser), conf_value.c (one value, listen
 * addresses), conf_apply.c (defaults, overrides, checks across keys),
 * conf_keys.c (the tables of keys) and conf_text.c (the annotated
 * default text) share. Nothing else includes it.
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

/* A key whose value is a char * in its struct, set by set_string and
 * freed with the conf: one list for both, so a new one is in each. */
static inline bool
conf_key_is_string(enum ktype t)
{
	switch (t) {
	case K_STR:
	case K_WORD:
	case K_HOST:
	case K_SID:
	case K_PATH:
	case K_HASH:
	case K_MODES:
	case K_TAGS:
	case K_NETS:
		return true;
	default:
		return false;
	}
}

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

/* ---- the parser's state ---- */

enum { T_EOF, T_NL, T_LBRACE, T_RBRACE, T_WORD, T_STRING, T_ERR };

struct tok {
	int		 type;
	char		*s;		/* into the file buffer; no NUL */
	size_t		 n;
	unsigned	 line, col;
};

struct where {
	unsigned	 line, col;	/* in the file; 0: not from the file */
	const char	*env;		/* the variable of an override */
};

/* Where a listen or oper was defined, for "first at line N". */
struct objpos {
	struct objpos	*next;
	const void	*obj;
	unsigned	 line;
};

struct parser {
	const char	*file;		/* as given, for messages */
	char		*dir;		/* for relative K_PATH values, or NULL */
	char		*buf;		/* the whole file; strings unescaped in place */
	size_t		 len, off;
	unsigned	 line, col;	/* of buf[off] */
	struct tok	 la;		/* lookahead */
	bool		 have_la;
	struct conf	*c;
	bool		 listen_set;	/* a listen statement or override seen */
	unsigned	 nlogs;
	struct where	 method_at;	/* of the block being parsed */
	struct where	 env_log;	/* an override set the first logging */
	char		 env_log_name[128];
	struct objpos	*pos;
	char		*errs;
	size_t		 errlen, errsz;
	unsigned	 nerr;
	bool		 nomem;
	/*
	 * The first key inside a block that is the name of a top-level
	 * block (`datastore` inside `server`): where a missing '}' starts
	 * a cascade of "unknown key" errors, dropped if the block turns
	 * out unterminated. errlen and nerr then, and the key.
	 */
	bool		 cascade;
	size_t		 cascade_len;
	unsigned	 cascade_nerr, cascade_line, cascade_depth;
	unsigned	 depth;		/* of open blocks */
	char		 cascade_key[64];
};

struct listen_conf;
struct log_conf;

/* conf.c: a character that ends a bare word */
bool	 lex_delim(unsigned char ch);

/* conf.c: errors, the parser's allocations, where objects were defined */
void	 conf_err(struct parser *, const struct where *, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
const char *conf_show(char *buf, size_t sz, const char *s, size_t n);
void	 conf_nomem(struct parser *);
char	*conf_xstrndup(struct parser *, const char *s, size_t n);
void	 conf_pos_add(struct parser *, const void *obj, unsigned line);
void	 conf_pos_del(struct parser *, const void *obj);
unsigned conf_pos_line(const struct parser *, const void *obj);
const struct key *conf_key_find(const struct block *, const char *s,
	    size_t n);
const char *conf_block_where(const struct block *, char *buf, size_t sz);
void	 conf_operclass_resolve(struct parser *);
struct log_conf *conf_log_new(struct parser *);
void	 conf_log_check(struct parser *, const struct log_conf *,
	    const struct where *);

/* conf_value.c: one value; listen addresses */
char	 conf_lower(char ch);
bool	 conf_valid_hostname(const char *s);
int	 conf_set_value(struct parser *, const struct key *, void *base,
	    const char *s, size_t n, const struct where *);
void	 conf_listen_free(struct listen_conf *);
int	 conf_listen_parse(struct parser *, const char *s, size_t n,
	    const struct where *, struct listen_conf *out[2]);
void	 conf_listen_add(struct parser *, struct listen_conf *,
	    const struct where *);
void	 conf_listen_set_list(struct parser *, const char *s,
	    const struct where *);

/* conf_apply.c: defaults, environment overrides, checks across keys */
void	 conf_defaults_apply(struct parser *, const struct block *, void *);
void	 conf_env_apply(struct parser *);
void	 conf_validate(struct parser *);

#endif
