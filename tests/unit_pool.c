/*
 * unit_pool.c: pool.c's slabs: objects zeroed, aligned, never
 * overlapping, reused after a free, slabs unmapped once empty but the
 * last. Prints "ok NAME" or "FAIL NAME: why" per case. Built with ASan a
 * pool is calloc and free: the slab counts are then not checked.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

#include "unit.h"

#define N	5000	/* objects: a dozen slabs of 168-byte ones */

struct obj {
	uint64_t	 id;
	char		 fill[160];
};

static struct obj *o[N];

/* Each live object still holds its own pattern. */
static const char *
check_all(void)
{
	for (size_t i = 0; i < N; i++) {
		if (o[i] == NULL)
			continue;
		if (o[i]->id != i + 1)
			return "an object was overwritten";
		for (size_t j = 0; j < sizeof(o[i]->fill); j++)
			if (o[i]->fill[j] != (char)(i + j))
				return "an object's bytes changed";
	}
	return NULL;
}

static const char *
fill(size_t i, struct pool *p)
{
	const unsigned char *b;

	if ((o[i] = pool_alloc(p)) == NULL)
		return "pool_alloc failed";
	if ((uintptr_t)o[i] % 8 != 0)
		return "not aligned to 8";
	b = (const unsigned char *)o[i];
	for (size_t j = 0; j < p->size; j++)
		if (b[j] != 0)
			return "not zeroed";
	o[i]->id = i + 1;
	for (size_t j = 0; j < sizeof(o[i]->fill); j++)
		o[i]->fill[j] = (char)(i + j);
	return NULL;
}

static const char *
test_size(void)
{
	struct pool p = POOL_INIT(13), q = POOL_INIT(sizeof(struct obj));

	if (p.size != 16 || q.size != 168)
		return "sizes are not rounded up to 8";
	return NULL;
}

static const char *
test_alloc_free(void)
{
	struct pool p = POOL_INIT(sizeof(struct obj));
	const char *why;
	size_t i, slabs;
	uint32_t r = 12345;

	for (i = 0; i < N; i++)
		if ((why = fill(i, &p)) != NULL)
			return why;
	if ((why = check_all()) != NULL)
		return why;
	slabs = p.nslabs;
	if (slabs != 0 && slabs > N * p.size / 60000 + 1)
		return "more slabs than the objects need";
	/* free two thirds in a scrambled order, refill, check */
	for (i = 0; i < 2 * N; i++) {
		r = r * 1103515245u + 12345u;
		size_t k = (r >> 8) % N;

		if (o[k] != NULL && k % 3 != 0) {
			pool_free(&p, o[k]);
			o[k] = NULL;
		}
	}
	if ((why = check_all()) != NULL)
		return why;
	for (i = 0; i < N; i++)
		if (o[i] == NULL && (why = fill(i, &p)) != NULL)
			return why;
	if ((why = check_all()) != NULL)
		return why;
	if (slabs != 0 && p.nslabs != slabs)
		return "refilling freed room took new slabs";
	for (i = 0; i < N; i++) {
		pool_free(&p, o[i]);
		o[i] = NULL;
	}
	if (slabs != 0 && p.nslabs != 1)
		return "empty slabs not unmapped (one kept)";
	pool_free(&p, NULL);
	/* the one kept slab serves again */
	if ((why = fill(0, &p)) != NULL)
		return why;
	if (slabs != 0 && p.nslabs != 1)
		return "a kept slab was not reused";
	pool_free(&p, o[0]);
	o[0] = NULL;
	return NULL;
}

/* One object coming and going at a slab's edge maps nothing new. */
static const char *
test_edge(void)
{
	struct pool p = POOL_INIT(4000);
	void *a[40];
	size_t i, slabs;

	for (i = 0; i < 40; i++)
		if ((a[i] = pool_alloc(&p)) == NULL)
			return "pool_alloc failed";
	slabs = p.nslabs;
	for (i = 0; i < 100; i++) {
		void *x = pool_alloc(&p);

		if (x == NULL)
			return "pool_alloc failed";
		memset(x, 0xa5, p.size);
		pool_free(&p, x);
	}
	if (slabs != 0 && p.nslabs > slabs + 1)
		return "slabs mapped and unmapped over and over";
	for (i = 0; i < 40; i++)
		pool_free(&p, a[i]);
	return NULL;
}

int
main(void)
{
	result("size", test_size());
	result("alloc_free", test_alloc_free());
	result("edge", test_edge());
	return nfail != 0;
}
