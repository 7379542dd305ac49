/*
 * pool.h: what pool.c exports: fixed-size objects that live as long as
 * a client (its struct client, session, names, net's connection), kept
 * in slabs of their own, apart from malloc's heap.
 *
 * Why: a registration allocates and frees short-lived memory (welcome
 * output, input, the first names) between its long-lived objects; with
 * both in malloc's heap, what the short-lived left free stays as holes
 * between clients that stay, ~70 bytes per idle client (bench/RESULTS.md,
 * idle round three), and every object pays malloc's header and rounding
 * to 16 (8 to 16 bytes more). In a pool an object costs its size rounded
 * up to 8, and the heap's free space joins up and goes back to the
 * system.
 *
 * A slab is 64 KiB of anonymous memory at a 64 KiB boundary (so an
 * object's slab is its address rounded down); objects are handed out
 * from the slab's free list, else from its never-used end, so a slab's
 * untouched pages are never resident. An empty slab is unmapped unless
 * it is its pool's last one with room. Built with AddressSanitizer (or
 * -DPOOL_MALLOC), or run under valgrind, a pool is calloc and free, so
 * the checker keeps seeing each object and its leaks.
 */
#ifndef POOL_H
#define POOL_H

#include <stddef.h>

struct pool_slab;
struct pool {
	size_t		  size;		/* per object: a multiple of 8 */
	struct pool_slab *room;		/* slabs with a free object */
	size_t		  nslabs;	/* mapped, for the logs and tests */
};
#define POOL_SIZE(n)	(((size_t)(n) + 7) & ~(size_t)7)
/* a pool of objects of n bytes: static struct pool p = POOL_INIT(n); */
#define POOL_INIT(n)	{ POOL_SIZE(n), NULL, 0 }

/* A zeroed object, or NULL on ENOMEM. */
void	*pool_alloc(struct pool *);
/* Gives o (from pool_alloc of the same pool, or NULL) back. */
void	 pool_free(struct pool *, void *o);
/* Once a second: gives the heap's free pages back after a burst. */
void	 pool_heap_tick(void);

#endif
