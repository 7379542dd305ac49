/*
 * ergo_check.h: what ergo_check.c exports: `ergo checkconfig`, which
 * checks the config and the files the server needs as its user.
 */
#ifndef ERGO_CHECK_H
#define ERGO_CHECK_H

/* the exit status: 0 ok, 1 a problem (said on stderr) */
int	 ergo_check(const char *path, const char *as_user);

/* path made absolute from the working directory (in buf, if it was not) */
const char *ergo_check_abspath(const char *path, char *buf, size_t sz);

#endif
