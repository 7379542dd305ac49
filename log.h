/*
 * log.h: what log.c exports: levelled, categorised lines to stderr, files
 * or syslog, reopened on SIGHUP.
 */
#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { LL_DEBUG, LL_INFO, LL_WARN, LL_ERROR };
enum { LOGM_STDERR, LOGM_FILE, LOGM_SYSLOG };

#define LOG_SINKS_MAX	8	/* logging blocks in one config */

/* One logging block; conf.c builds the list, log.c opens it. */
struct log_conf {
	struct log_conf	*next;
	int		 method;	/* LOGM_* */
	char		*path;		/* LOGM_FILE */
	int		 level;		/* least severe LL_* written */
	uint32_t	 types;		/* log_category() bits */
};

void	 log_init(int level);			/* stderr until configured */
void	 log_errors_to_stderr(bool on);		/* start-up: errors there too */
/*
 * Opens every target of the list first; only if all opened are they
 * swapped in (a file already open under the same path is kept, not
 * reopened). Returns 0, or -1 with the old targets still in force and
 * the reason logged there.
 */
int	 log_configure(const struct log_conf *list);
const char *log_configure_error(void);	/* why it last returned -1 */
int	 log_reopen(void);			/* 0, or -1: kept old file(s) */
bool	 log_wants(int level, const char *cat);	/* would a line be kept? */
/* The bit of a category name for `types`, or 0 if unknown. */
uint32_t log_category(const char *name, size_t len);
#define LOG_TYPES_ALL	0xffffffffU
uint32_t log_types_default(void);		/* * -userinput -useroutput */
void	 log_debug(const char *cat, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 log_info(const char *cat, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 log_warn(const char *cat, const char *fmt, ...)	/* + strerror */
	    __attribute__((format(printf, 2, 3)));
void	 log_warnx(const char *cat, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 log_error(const char *cat, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 fatal(const char *fmt, ...)			/* + strerror, exit 1 */
	    __attribute__((format(printf, 1, 2), noreturn));
void	 fatalx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
int	 log_level_parse(const char *s);		/* -1 if unknown */

#endif
