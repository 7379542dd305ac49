/*
 * pool.c: slabs of fixed-size objects for what lives as long as a
 * client (pool.h says why). Knows nothing of what the objects are.
 */
#if !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE		/* MAP_ANONYMOUS on glibc */
#endif
#define _BSD_SOURCE
#include <sys/mman.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

#if defined(__GLIBC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>
#define HAVE_MALLOC_TRIM	1
#endif

#if defined(__SANITIZE_ADDRESS__)
#define POOL_MALLOC	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_MALLOC	1
#endif
#endif

#ifdef POOL_MALLOC
#undef HAVE_MALLOC_TRIM		/* the sanitizer's allocator is not glibc's */

void *
pool_alloc(struct pool *p)
{
	return calloc(1, p->size);
}

void
pool_free(struct pool *p, void *o)
{
	(void)p;
	free(o);
}

#else

#if !defined(MAP_ANONYMOUS) && defined(MAP_ANON)
#define MAP_ANONYMOUS	MAP_ANON
#endif

#define SLAB_SIZE	65536u	/* a power of two */

static unsigned long pool_ops;	/* since the last pool_heap_tick */

/*
 * Under valgrind (its preload library in LD_PRELOAD) pools are calloc
 * and free too, so memcheck sees each object and its leaks (`make
 * valgrind`); decided once, at the first call.
 */
static bool
plain(void)
{
	static int v = -1;
	const char *e;

	if (v == -1)
		v = (e = getenv("LD_PRELOAD")) != NULL &&
		    strstr(e, "vgpreload") != NULL;
	return v == 1;
}

struct pool_slab {
	struct pool_slab *next, *prev;	/* on pool->room */
	void		 *freel;	/* objects given back, linked */
	size_t		  top;		/* offset of the never-used end */
	size_t		  used;		/* objects handed out */
};
#define SLAB_START	POOL_SIZE(sizeof(struct pool_slab))

static struct pool_slab *
slab_of(void *o)
{
	return (struct pool_slab *)((uintptr_t)o & ~(uintptr_t)(SLAB_SIZE - 1));
}

static int
slab_full(const struct pool *p, const struct pool_slab *s)
{
	return s->freel == NULL && s->top + p->size > SLAB_SIZE;
}

static void
room_add(struct pool *p, struct pool_slab *s)
{
	s->prev = NULL;
	s->next = p->room;
	if (p->room != NULL)
		p->room->prev = s;
	p->room = s;
}

static void
room_del(struct pool *p, struct pool_slab *s)
{
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		p->room = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
}

/* A new slab at a SLAB_SIZE boundary: twice that mapped, the rest cut. */
static struct pool_slab *
slab_new(void)
{
	char *m, *a;
	size_t head;

	m = mmap(NULL, 2 * SLAB_SIZE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return NULL;
	a = (char *)(((uintptr_t)m + SLAB_SIZE - 1) &
	    ~(uintptr_t)(SLAB_SIZE - 1));
	head = (size_t)(a - m);
	if (head > 0)
		munmap(m, head);
	munmap(a + SLAB_SIZE, SLAB_SIZE - head);
	return (struct pool_slab *)(void *)a;	/* zero-filled */
}

void *
pool_alloc(struct pool *p)
{
	struct pool_slab *s;
	void *o;

	if (plain())
		return calloc(1, p->size);
	if ((s = p->room) == NULL) {
		if ((s = slab_new()) == NULL)
			return NULL;
		s->top = SLAB_START;
		p->nslabs++;
		room_add(p, s);
	}
	if (s->freel != NULL) {
		o = s->freel;
		memcpy(&s->freel, o, sizeof(s->freel));
	} else {
		o = (char *)s + s->top;
		s->top += p->size;
	}
	s->used++;
	pool_ops++;
	if (slab_full(p, s))
		room_del(p, s);
	return memset(o, 0, p->size);
}

void
pool_free(struct pool *p, void *o)
{
	struct pool_slab *s;

	if (o == NULL)
		return;
	if (plain()) {
		free(o);
		return;
	}
	s = slab_of(o);
	pool_ops++;
	if (slab_full(p, s))
		room_add(p, s);
	memcpy(o, &s->freel, sizeof(s->freel));
	s->freel = o;
	/* empty: unmapped, unless no other slab has room (no thrashing
	 * when one object comes and goes at a slab's edge) */
	if (--s->used == 0 && (s->prev != NULL || s->next != NULL)) {
		room_del(p, s);
		p->nslabs--;
		munmap(s, SLAB_SIZE);
	}
}

#endif

/*
 * glibc keeps memory freed below a chunk still in use, and its pages,
 * resident: a burst of registrations (welcome output, a few KB each,
 * hundreds at once) or of quits leaves hundreds of KB so, tens of bytes
 * per idle client, and the next burst touches the same pages again
 * (how much is free says nothing of that). So in the second in which
 * clients came or went (pool objects were taken or given back) and the
 * HEAP_TRIM_TICKS after it (net frees a kept output buffer one or two
 * sweeps after its last use), with at least HEAP_TRIM_FREE free in the
 * heap, malloc_trim gives the free pages back; a page used again costs
 * a fault. musl's malloc returns its own; elsewhere this does nothing.
 */
#define HEAP_TRIM_FREE	(64u * 1024)
#define HEAP_TRIM_TICKS	2

void
pool_heap_tick(void)
{
#ifdef HAVE_MALLOC_TRIM
	static unsigned quiet = HEAP_TRIM_TICKS;

	if (plain())
		return;
	if (pool_ops > 0)
		quiet = 0;
	else if (quiet >= HEAP_TRIM_TICKS)
		return;
	else
		quiet++;
	pool_ops = 0;
	if (mallinfo2().fordblks >= HEAP_TRIM_FREE)
		malloc_trim(0);
#endif
}
