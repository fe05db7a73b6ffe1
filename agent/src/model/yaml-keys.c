/* yaml-keys.c - check a YAML tree against tables of keys with handlers, the
 * way netplan parses: duplicates, unknown keys (with the nearest known one),
 * value types; every problem with file:line:column, and checking goes on so
 * that one run shows every mistake in a file.  The desired state's tables
 * are in desired-state.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/escape.h"
#include "model/features.h"
#include "model/yaml-keys.h"

void ykeys_err(struct ykeys *c, unsigned int line, unsigned int column, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int r;

	c->n_errors++;
	if (c->n_errors > YKEYS_MAX_ERRORS + 1)
		return;
	if (c->n_errors == YKEYS_MAX_ERRORS + 1) {
		if (strlist_addf(c->errors,
				 "%s:%u:%u: too many errors; not reporting more from this file",
				 c->file, line, column) < 0)
			c->nomem = true;
		return;
	}
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0) {
		c->nomem = true;
		return;
	}
	if (strlist_addf(c->errors, "%s:%u:%u: %s", c->file, line, column, msg) < 0)
		c->nomem = true;
	free(msg);
}

/* A user's string made safe for a one-line message: control characters
 * become '?', long strings are cut at a character boundary. */
const char *ykeys_quote(char out[YKEYS_QUOTE_MAX], const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, limit = YKEYS_QUOTE_MAX - 4; /* room for "..." and the NUL */

	for (size_t i = 0; i < len;) {
		size_t k = utf8_seq_len(p + i, len - i);

		/* whole characters only: a cut never splits one */
		if (o + (k ? k : 1) > limit) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (!k || p[i] < 0x20 || p[i] == 0x7f) {
			out[o++] = '?';
			i++;
		} else {
			memcpy(out + o, p + i, k);
			o += k;
			i += k;
		}
	}
	out[o] = '\0';
	return out;
}

const char *ykeys_qnode(char out[YKEYS_QUOTE_MAX], const struct ynode *n)
{
	return ykeys_quote(out, n->value, n->len);
}

/* A scalar usable as a name: not null, no NUL inside. */
bool ykeys_is_name(const struct ynode *n)
{
	return n->type == Y_SCALAR && !ynode_is_null(n) && strlen(n->value) == n->len;
}

/* The candidate nearest to name when it looks like a typo, else NULL. */
const char *ykeys_nearest(const char *name, const char *const *cands, size_t n)
{
	const char *best = NULL;
	unsigned int best_d = 1000;

	for (size_t i = 0; i < n; i++) {
		unsigned int d = edit_distance(name, cands[i]);

		if (d < best_d) {
			best_d = d;
			best = cands[i];
		}
	}
	if (!best || best_d > 3 || best_d * 3 > strlen(name) + 1)
		return NULL;
	return best;
}

static const char *ykeys_want_text(enum ykey_want w)
{
	switch (w) {
	case YW_SCALAR:
		return "a value";
	case YW_MAP:
		return "a mapping";
	case YW_SEQ_OR_NULL:
		return "a list";
	case YW_GLOBS:
		return "a string or a list of strings";
	case YW_ANY:
		break;
	}
	return "a value";
}

static bool ykeys_want_ok(enum ykey_want w, const struct ynode *v)
{
	switch (w) {
	case YW_SCALAR:
		return v->type == Y_SCALAR;
	case YW_MAP:
		return v->type == Y_MAP;
	case YW_SEQ_OR_NULL:
		return v->type == Y_SEQ || ynode_is_null(v);
	case YW_GLOBS:
		return v->type == Y_SEQ || (v->type == Y_SCALAR && !ynode_is_null(v));
	case YW_ANY:
		break;
	}
	return true;
}

struct key_ref {
	const struct ynode *key;
	size_t index;
};

static int key_ref_cmp(const void *pa, const void *pb)
{
	const struct key_ref *a = pa, *b = pb;
	size_t n = a->key->len < b->key->len ? a->key->len : b->key->len;
	int r = memcmp(a->key->value, b->key->value, n);

	if (r)
		return r;
	if (a->key->len != b->key->len)
		return a->key->len < b->key->len ? -1 : 1;
	return a->index < b->index ? -1 : a->index > b->index;
}

/* Report every key that repeats an earlier one in the same mapping and mark
 * it, so that handlers see only the first.  Sorting keeps a hostile mapping
 * with many keys O(n log n). */
void ykeys_check_duplicates(struct ykeys *c, struct ynode *map)
{
	size_t npairs = map->n / 2, nrefs = 0;
	const struct ynode **first;
	struct key_ref *refs;
	char q[YKEYS_QUOTE_MAX];

	if (npairs < 2)
		return;
	refs = calloc(npairs, sizeof(*refs));
	first = calloc(npairs, sizeof(*first));
	if (!refs || !first) {
		free(refs);
		free(first);
		c->nomem = true;
		return;
	}
	for (size_t i = 0; i < npairs; i++)
		if (map->items[2 * i]->type == Y_SCALAR)
			refs[nrefs++] = (struct key_ref){ map->items[2 * i], i };
	qsort(refs, nrefs, sizeof(*refs), key_ref_cmp);
	for (size_t i = 1; i < nrefs; i++) {
		const struct ynode *a = refs[i - 1].key, *b = refs[i].key;

		if (a->len == b->len && memcmp(a->value, b->value, a->len) == 0)
			first[refs[i].index] =
				first[refs[i - 1].index] ? first[refs[i - 1].index] : a;
	}
	for (size_t i = 0; i < npairs; i++) {
		struct ynode *k = map->items[2 * i];

		if (!first[i])
			continue;
		k->dup = true;
		ykeys_err(c, k->line, k->column, "duplicate key '%s' (first at line %u, column %u)",
			  ykeys_qnode(q, k), first[i]->line, first[i]->column);
	}
	free(refs);
	free(first);
}

/* Check a mapping against a table: duplicates, key types, unknown keys,
 * value types; then hand each known key to its handler. */
void ykeys_process_mapping(struct ykeys *c, struct ynode *map, const struct ykey_def *defs,
			   size_t n_defs, const char *where, void *data)
{
	char q[YKEYS_QUOTE_MAX];

	ykeys_check_duplicates(c, map);
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = map->items[i], *v = map->items[i + 1];
		const struct ykey_def *def = NULL;

		if (k->dup || k->type == Y_BAD)
			continue;
		if (!ykeys_is_name(k)) {
			ykeys_err(c, k->line, k->column, "expected a key name %s, found %s", where,
				  ynode_kind(k));
			continue;
		}
		for (size_t j = 0; j < n_defs; j++)
			if (strcmp(k->value, defs[j].key) == 0)
				def = &defs[j];
		if (!def) {
			const char *cands[16];
			const char *near;
			size_t nc = 0;

			for (size_t j = 0; j < n_defs && nc < 16; j++)
				cands[nc++] = defs[j].key;
			near = ykeys_nearest(k->value, cands, nc);
			if (near) {
				ykeys_err(c, k->line, k->column,
					  "unknown key '%s' %s; did you mean '%s'?",
					  ykeys_qnode(q, k), where, near);
			} else {
				char list[256] = "";
				size_t o = 0;

				for (size_t j = 0; j < n_defs && o < sizeof(list) - 40; j++)
					o += (size_t)snprintf(list + o, sizeof(list) - o, "%s'%s'",
							      j ? ", " : "", defs[j].key);
				ykeys_err(c, k->line, k->column,
					  "unknown key '%s' %s; expected one of %s",
					  ykeys_qnode(q, k), where, list);
			}
			continue;
		}
		if (v->type == Y_BAD)
			continue;
		if (!ykeys_want_ok(def->want, v)) {
			ykeys_err(c, v->line, v->column, "expected %s for '%s', found %s",
				  ykeys_want_text(def->want), def->key, ynode_kind(v));
			continue;
		}
		def->handle(c, k, v, data);
	}
}

/* YAML forbids tabs in indentation; libyaml's own message for them ("found
 * character that cannot start any token") does not say so. */
void ykeys_check_tabs(struct ykeys *c, const char *buf, size_t len)
{
	unsigned int line = 1;

	for (size_t i = 0; i < len;) {
		size_t j = i, tab = (size_t)-1;

		while (j < len && (buf[j] == ' ' || buf[j] == '\t')) {
			if (buf[j] == '\t' && tab == (size_t)-1)
				tab = j;
			j++;
		}
		if (tab != (size_t)-1 && j < len && buf[j] != '\n' && buf[j] != '\r' &&
		    buf[j] != '#')
			ykeys_err(c, line, (unsigned int)(tab - i) + 1,
				  "tab character in indentation; YAML indents with spaces");
		while (j < len && buf[j] != '\n')
			j++;
		i = j + 1;
		line++;
	}
}
