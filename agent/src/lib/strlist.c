/* strlist.c - a growable list of owned strings */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/strlist.h"

static int strlist_push(struct strlist *l, char *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		char **items = realloc(l->items, cap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		l->items = items;
		l->cap = cap;
	}
	l->items[l->n++] = s;
	return 0;
}

int strlist_add(struct strlist *l, const char *s)
{
	char *copy = strdup(s);

	if (!copy)
		return -ENOMEM;
	if (strlist_push(l, copy) < 0) {
		free(copy);
		return -ENOMEM;
	}
	return 0;
}

int strlist_addf(struct strlist *l, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	if (strlist_push(l, s) < 0) {
		free(s);
		return -ENOMEM;
	}
	return 0;
}

bool strlist_contains(const struct strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i], s) == 0)
			return true;
	return false;
}

void strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = l->cap = 0;
}
