/*
 * store_ckpt.h: what store_ckpt.c exports: SQLite's WAL checkpoints in
 * a process of their own, so the loop does not wait for their syncs.
 */
#ifndef STORE_CKPT_H
#define STORE_CKPT_H

/*
 * Forks the checkpoint process for the database at path, before SQLite
 * is first used (it opens its own connection at its first request).
 * Returns the server's end of its socket, for the poll set, or -1
 * (logged): checkpoints stay in the server.
 */
int	 store_ckpt_start(const char *path);
/*
 * The socket is readable: takes the child's replies. -1 once the child
 * is gone (logged once; the socket is closed: take it out of the poll
 * set), checkpoints are the server's own from then on; else 0.
 */
int	 store_ckpt_read(void);

#endif
