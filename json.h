/*
 * json.h: what json.c exports: a small, strict JSON (RFC 8259) parser
 * into a tree, for `ergo importdb`. Bounded: nesting depth, number
 * length; strings must be UTF-8 without NUL.
 */
#ifndef JSON_H
#define JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_DEPTH_MAX	64
#define JSON_NUM_MAX	64	/* characters of one number */

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUM, JSON_STR, JSON_ARR,
	JSON_OBJ };

struct json {
	enum json_type	 type;
	bool		 b;		/* JSON_BOOL */
	char		*s;		/* JSON_STR: decoded; JSON_NUM: text */
	char		*key;		/* a member of an object: its name */
	struct json	*child;		/* JSON_ARR, JSON_OBJ: the first */
	struct json	*next;		/* the next in the same array/object */
};

/*
 * Parses the len bytes at text into a tree (json_free it). NULL on
 * error, with "line L, column C: what" in err.
 */
struct json	*json_parse(const char *text, size_t len, char *err,
		    size_t errsz);
void		 json_free(struct json *);
/* The member named key of an object, ASCII case ignored (as Go's
 * encoding/json matches field names); NULL if none. */
struct json	*json_get(const struct json *obj, const char *key);
/* An integer number, or -1 if j is not one (or out of range). */
int		 json_int(const struct json *j, int64_t *v);
const char	*json_type_name(enum json_type);

#endif
