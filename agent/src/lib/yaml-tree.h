/* yaml-tree.h - a small, bounded node tree built from libyaml's events */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum ytype {
	Y_SCALAR,
	Y_SEQ,
	Y_MAP,
	Y_BAD, /* stands for something already reported (an alias): checks skip it */
};

struct ynode {
	enum ytype type;
	unsigned int line, column; /* 1-based */
	bool plain;		   /* a plain (unquoted) scalar */
	bool dup;		   /* a mapping key seen before in the same mapping */
	char *value;		   /* scalars: NUL-terminated copy */
	size_t len;		   /* scalars: length of value (it may hold a NUL) */
	struct ynode **items;	   /* sequences: items; mappings: key, value, key, value... */
	size_t n, cap;
};

/* What went wrong, for the caller to word; line and column are 1-based. */
struct yerror {
	unsigned int line, column;
	char *message; /* owned */
};

struct ytree_result {
	struct ynode *root; /* NULL when the stream holds no document */
	struct yerror *errors;
	size_t n_errors;
	bool incomplete; /* parsing stopped early: the tree is partial */
	bool nomem;
};

/* Limits of the tree itself (the file size bounds everything else). */
#define YTREE_MAX_NODES 262144

/*
 * Parse buf as one YAML document into a tree.  Syntax errors stop the parse;
 * aliases, tags, a second document and nesting deeper than max_depth are
 * reported (the first two go on).  Always fills ret; free it with
 * ytree_result_free().
 */
void ytree_parse(const char *buf, size_t len, unsigned int max_depth, struct ytree_result *ret);
void ytree_result_free(struct ytree_result *r);

/* True for a plain null: empty, ~, null, Null, NULL. */
bool ynode_is_null(const struct ynode *n);

/* "a mapping", "a list", "null", "a string" */
const char *ynode_kind(const struct ynode *n);
