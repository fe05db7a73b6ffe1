/* yaml-tree.c - a small, bounded node tree built from libyaml's events
 *
 * The event API lets us refuse what a configuration never needs before it
 * costs anything: aliases (no "billion laughs" expansion), deep nesting and
 * documents with an absurd number of nodes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "lib/yaml-tree.h"

struct builder {
	struct ytree_result *res;
	struct ynode **stack;
	unsigned int depth, max_depth;
	size_t n_nodes;
	bool alias_reported, tag_reported;
};

static void add_error(struct builder *b, unsigned int line, unsigned int column, const char *fmt,
		      ...) __attribute__((format(printf, 4, 5)));

static void add_error(struct builder *b, unsigned int line, unsigned int column, const char *fmt,
		      ...)
{
	struct ytree_result *r = b->res;
	struct yerror *e;
	va_list ap;
	char *msg;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0) {
		r->nomem = true;
		return;
	}
	e = realloc(r->errors, (r->n_errors + 1) * sizeof(*e));
	if (!e) {
		free(msg);
		r->nomem = true;
		return;
	}
	r->errors = e;
	e[r->n_errors++] = (struct yerror){ line, column, msg };
}

static void ynode_free(struct ynode *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++)
		ynode_free(n->items[i]);
	free(n->items);
	free(n->value);
	free(n);
}

void ytree_result_free(struct ytree_result *r)
{
	ynode_free(r->root);
	for (size_t i = 0; i < r->n_errors; i++)
		free(r->errors[i].message);
	free(r->errors);
	memset(r, 0, sizeof(*r));
}

bool ynode_is_null(const struct ynode *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };

	if (n->type != Y_SCALAR || !n->plain)
		return false;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (strcmp(n->value, nulls[i]) == 0)
			return true;
	return false;
}

const char *ynode_kind(const struct ynode *n)
{
	switch (n->type) {
	case Y_SEQ:
		return "a list";
	case Y_MAP:
		return "a mapping";
	case Y_BAD:
		return "an alias";
	case Y_SCALAR:
		break;
	}
	return ynode_is_null(n) ? "nothing (null)" : "a string";
}

/* Attach a new node under the innermost open collection (or as the root).
 * Returns false when the tree must stop growing. */
static bool attach(struct builder *b, struct ynode *n)
{
	struct ynode *parent;

	if (b->depth == 0) {
		if (b->res->root) { /* cannot happen: one document is parsed */
			ynode_free(n);
			return false;
		}
		b->res->root = n;
		return true;
	}
	parent = b->stack[b->depth - 1];
	if (parent->n == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 4;
		struct ynode **items = realloc(parent->items, cap * sizeof(*items));

		if (!items) {
			ynode_free(n);
			b->res->nomem = true;
			return false;
		}
		parent->items = items;
		parent->cap = cap;
	}
	parent->items[parent->n++] = n;
	return true;
}

static struct ynode *new_node(struct builder *b, enum ytype type, const yaml_mark_t *mark)
{
	struct ynode *n;

	if (++b->n_nodes > YTREE_MAX_NODES) {
		add_error(b, mark->line + 1, mark->column + 1,
			  "too many YAML nodes (more than %d); refusing to go on", YTREE_MAX_NODES);
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		b->res->nomem = true;
		return NULL;
	}
	n->type = type;
	n->line = (unsigned int)mark->line + 1;
	n->column = (unsigned int)mark->column + 1;
	return n;
}

static void check_tag(struct builder *b, const yaml_char_t *tag, bool implicit,
		      const yaml_mark_t *mark)
{
	if (!tag || implicit || b->tag_reported)
		return;
	static const char core[] = "tag:yaml.org,2002:";
	const char *t = (const char *)tag;

	b->tag_reported = true;
	if (strncmp(t, core, sizeof(core) - 1) == 0)
		add_error(b, mark->line + 1, mark->column + 1,
			  "tags such as '!!%.40s' are not supported; remove the tag",
			  t + sizeof(core) - 1);
	else
		add_error(b, mark->line + 1, mark->column + 1,
			  "tags such as '%.40s' are not supported; remove the tag", t);
}

/* The 1-based line and column of a byte offset (columns count characters). */
static void offset_position(const char *buf, size_t len, size_t off, unsigned int *line,
			    unsigned int *column)
{
	*line = 1;
	*column = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\n') {
			(*line)++;
			*column = 1;
		} else if ((c & 0xc0) != 0x80) {
			(*column)++;
		}
	}
}

static void report_parser_error(struct builder *b, const yaml_parser_t *p, const char *buf,
				size_t len)
{
	const char *problem = p->problem ? p->problem : "unknown problem";
	unsigned int line, column;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		b->res->nomem = true;
		return;
	case YAML_READER_ERROR:
		offset_position(buf, len, p->problem_offset, &line, &column);
		if (p->problem_value != -1)
			add_error(b, line, column,
				  "not a text file: %s (byte 0x%02x); expected UTF-8 text", problem,
				  (unsigned int)p->problem_value & 0xffu);
		else
			add_error(b, line, column, "not a text file: %s; expected UTF-8 text",
				  problem);
		return;
	default:
		break;
	}
	if (p->context)
		add_error(b, (unsigned int)p->problem_mark.line + 1,
			  (unsigned int)p->problem_mark.column + 1,
			  "invalid YAML: %s (%s at line %u, column %u)", problem, p->context,
			  (unsigned int)p->context_mark.line + 1,
			  (unsigned int)p->context_mark.column + 1);
	else
		add_error(b, (unsigned int)p->problem_mark.line + 1,
			  (unsigned int)p->problem_mark.column + 1, "invalid YAML: %s", problem);
}

void ytree_parse(const char *buf, size_t len, unsigned int max_depth, struct ytree_result *ret)
{
	struct builder b = { .res = ret, .max_depth = max_depth };
	yaml_parser_t p;
	unsigned int docs = 0;
	bool done = false;

	memset(ret, 0, sizeof(*ret));
	b.stack = calloc(max_depth + 1, sizeof(*b.stack));
	if (!b.stack || !yaml_parser_initialize(&p)) {
		free(b.stack);
		ret->nomem = true;
		return;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	yaml_parser_set_encoding(&p, YAML_UTF8_ENCODING);

	while (!done && !ret->nomem) {
		const yaml_mark_t *mark;
		struct ynode *n = NULL;
		yaml_event_t ev;

		if (!yaml_parser_parse(&p, &ev)) {
			report_parser_error(&b, &p, buf, len);
			ret->incomplete = true;
			break;
		}
		mark = &ev.start_mark;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				add_error(&b, mark->line + 1, mark->column + 1,
					  "a second YAML document; expected one document per file");
				done = true;
			}
			break;
		case YAML_ALIAS_EVENT:
			if (!b.alias_reported)
				add_error(
					&b, mark->line + 1, mark->column + 1,
					"aliases ('*%.40s') are not supported; write the value out",
					(const char *)ev.data.alias.anchor);
			b.alias_reported = true;
			n = new_node(&b, Y_BAD, mark);
			if (!n || !attach(&b, n)) {
				ret->incomplete = true;
				done = true;
			}
			break;
		case YAML_SCALAR_EVENT:
			check_tag(&b, ev.data.scalar.tag,
				  ev.data.scalar.plain_implicit || ev.data.scalar.quoted_implicit,
				  mark);
			n = new_node(&b, Y_SCALAR, mark);
			if (n) {
				n->plain = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
				n->len = ev.data.scalar.length;
				n->value = malloc(n->len + 1);
				if (!n->value) {
					ynode_free(n);
					ret->nomem = true;
					break;
				}
				memcpy(n->value, ev.data.scalar.value, n->len);
				n->value[n->len] = '\0';
			}
			if (!n || !attach(&b, n)) {
				ret->incomplete = true;
				done = true;
			}
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (ev.type == YAML_SEQUENCE_START_EVENT)
				check_tag(&b, ev.data.sequence_start.tag,
					  ev.data.sequence_start.implicit, mark);
			else
				check_tag(&b, ev.data.mapping_start.tag,
					  ev.data.mapping_start.implicit, mark);
			if (b.depth >= b.max_depth) {
				add_error(&b, mark->line + 1, mark->column + 1,
					  "nesting deeper than %u levels; refusing to go on",
					  b.max_depth);
				ret->incomplete = true;
				done = true;
				break;
			}
			n = new_node(&b, ev.type == YAML_SEQUENCE_START_EVENT ? Y_SEQ : Y_MAP,
				     mark);
			if (!n || !attach(&b, n)) {
				ret->incomplete = true;
				done = true;
				break;
			}
			b.stack[b.depth++] = n;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			if (b.depth > 0)
				b.depth--;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	free(b.stack);
}
