/* iface.c - the host's interfaces */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/iface.h"

struct iface *host_state_find(struct host_state *hs, const char *name)
{
	for (size_t i = 0; i < hs->n; i++)
		if (strcmp(hs->ifaces[i].name, name) == 0)
			return &hs->ifaces[i];
	return NULL;
}

struct iface *host_state_find_index(struct host_state *hs, int ifindex)
{
	/* Dumps come in ifindex order: try the likely slot first. */
	size_t lo = 0, hi = hs->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (hs->ifaces[mid].ifindex == ifindex)
			return &hs->ifaces[mid];
		if (hs->ifaces[mid].ifindex < ifindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = 0; i < hs->n; i++)
		if (hs->ifaces[i].ifindex == ifindex)
			return &hs->ifaces[i];
	return NULL;
}

struct iface *host_state_add(struct host_state *hs)
{
	if (hs->n == hs->cap) {
		size_t cap = hs->cap ? hs->cap * 2 : 16;
		struct iface *v = realloc(hs->ifaces, cap * sizeof(*v));

		if (!v)
			return NULL;
		hs->ifaces = v;
		hs->cap = cap;
	}
	memset(&hs->ifaces[hs->n], 0, sizeof(hs->ifaces[0]));
	return &hs->ifaces[hs->n++];
}

void host_state_free(struct host_state *hs)
{
	feature_names_free(&hs->names);
	free(hs->ifaces);
	memset(hs, 0, sizeof(*hs));
}

static int by_ifindex(const void *a, const void *b)
{
	const struct iface *x = a, *y = b;

	if (x->ifindex != y->ifindex)
		return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
	return strcmp(x->name, y->name); /* a facts file without ifindex */
}

void host_state_sort(struct host_state *hs)
{
	if (hs->n > 1)
		qsort(hs->ifaces, hs->n, sizeof(hs->ifaces[0]), by_ifindex);
}
