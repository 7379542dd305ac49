/*
 * ergo_wait.h: what ergo_wait.c exports: `ergo waitready`, the listening
 * end of the sd_notify socket, for init scripts.
 */
#ifndef ERGO_WAIT_H
#define ERGO_WAIT_H

int	 ergo_waitready(int argc, char *argv[]);	/* the exit status */

#endif
