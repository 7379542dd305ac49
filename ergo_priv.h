/*
 * ergo_priv.h: what ergo_priv.c exports: dropping root and chroot paths,
 * and becoming the server's user for checkconfig.
 */
#ifndef ERGO_PRIV_H
#define ERGO_PRIV_H



#include <sys/types.h>

struct conf;

int	 ergo_priv_lookup(const char *user, const char *group, uid_t *uid,
	    gid_t *gid, char *err, size_t errsz);	/* -1: err says */
int	 ergo_priv_become(uid_t uid, gid_t gid, char *err, size_t errsz);

int	 ergo_priv_drop(struct conf *);	/* 0, or -1 (logged) */
/* c's paths as seen inside the chroot; -1 with *err: one lies outside */
int	 ergo_priv_paths(struct conf *c, const struct conf *old, char **err);

#endif
