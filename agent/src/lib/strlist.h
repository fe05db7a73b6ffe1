/* strlist.h - a growable list of owned strings (messages, names, globs) */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The number of elements of an array (not a pointer). */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

struct strlist {
	char **items;
	size_t n;
	size_t cap;
};

/* Append a copy of s; returns 0 or -ENOMEM. */
int strlist_add(struct strlist *l, const char *s);
/* Append a formatted string; returns 0 or -ENOMEM. */
int strlist_addf(struct strlist *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True when s equals one of the items. */
bool strlist_contains(const struct strlist *l, const char *s);
void strlist_free(struct strlist *l);
