/*
 * ergo_priv.h: what ergo_priv.c exports: dropping root and chroot paths.
 */
#ifndef ERGO_PRIV_H
#define ERGO_PRIV_H



struct conf;

int	 ergo_priv_drop(struct conf *);	/* 0, or -1 (logged) */
/* c's paths as seen inside the chroot; -1 with *err: one lies outside */
int	 ergo_priv_paths(struct conf *c, const struct conf *old, char **err);

#endif
