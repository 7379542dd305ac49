/*
 * net_line.c: shared lines (struct net_line, net_int.h): a line fanned
 * out to many connections made once and counted by its holders. Apart
 * from net_out.c's queue so a fake net (tests/fuzz/fuzz_dispatch.c) can
 * link these without the whole net layer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net.h"
#include "net_int.h"

struct net_line *
net_line_new(const char *buf, size_t len)
{
	struct net_line *l;

	if (len > UINT32_MAX || (l = malloc(sizeof(*l) + len)) == NULL)
		return NULL;
	l->refs = 1;
	l->len = (unsigned)len;
	memcpy(l->data, buf, len);
	return l;
}

struct net_line *
net_line_ref(struct net_line *l)
{
	l->refs++;
	return l;
}

void
net_line_unref(struct net_line *l)
{
	if (l != NULL && --l->refs == 0)
		free(l);
}

const char *
net_line_data(const struct net_line *l, size_t *len)
{
	*len = l->len;
	return l->data;
}
