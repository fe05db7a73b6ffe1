/* yaml-keys.h - check a YAML tree against tables of keys with handlers */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/strlist.h"
#include "lib/yaml-tree.h"

/* After this many errors in one file the rest are noise. */
#define YKEYS_MAX_ERRORS 50
/* Room for a user's string quoted in a message. */
#define YKEYS_QUOTE_MAX 96

/* One file being checked; a parser embeds it first in its own context. */
struct ykeys {
	const char *file;	/* for messages */
	struct strlist *errors; /* "file:line:column: ..." */
	unsigned int n_errors;
	bool nomem;
};

/* What a key's value must be. */
enum ykey_want {
	YW_ANY,
	YW_SCALAR,
	YW_MAP,
	YW_SEQ_OR_NULL,
	YW_GLOBS, /* a string or a list of strings */
};

struct ykey_def {
	const char *key;
	enum ykey_want want;
	void (*handle)(struct ykeys *y, const struct ynode *key, const struct ynode *val,
		       void *data);
};

/* Add "file:line:column: message" to the errors (at most YKEYS_MAX_ERRORS
 * a file, then one line that says so). */
void ykeys_err(struct ykeys *y, unsigned int line, unsigned int column, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A user's string made safe for a one-line message: control characters
 * become '?', long strings are cut at a character boundary.  Returns out. */
const char *ykeys_quote(char out[YKEYS_QUOTE_MAX], const char *s, size_t len);
/* ykeys_quote() of a scalar node. */
const char *ykeys_qnode(char out[YKEYS_QUOTE_MAX], const struct ynode *n);

/* A scalar usable as a name: not null, no NUL inside. */
bool ykeys_is_name(const struct ynode *n);

/* The candidate nearest to name when it looks like a typo, else NULL. */
const char *ykeys_nearest(const char *name, const char *const *cands, size_t n);

/* Report every key that repeats an earlier one in map and mark it (dup),
 * so that handlers see only the first. */
void ykeys_check_duplicates(struct ykeys *y, struct ynode *map);

/* Check map against defs: duplicates, key types, unknown keys, value
 * types; then hand each known key to its handler with data.  where says
 * where map is ("in a rule"). */
void ykeys_process_mapping(struct ykeys *y, struct ynode *map, const struct ykey_def *defs,
			   size_t n_defs, const char *where, void *data);

/* Tabs in indentation, which YAML forbids (libyaml's own message does not
 * say so). */
void ykeys_check_tabs(struct ykeys *y, const char *buf, size_t len);
