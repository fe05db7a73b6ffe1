/* desired-state.c - the YAML desired state (CONTRACT.md "The desired state")
 *
 * libyaml's events become a small bounded tree (yaml-tree.c); the tree is
 * then checked mapping by mapping against tables of keys with handlers, the
 * way netplan does it.  Every problem is reported with file:line:column and
 * checking goes on, so that one run shows every mistake in a file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/escape.h"
#include "lib/yaml-tree.h"
#include "model/desired-state.h"
#include "model/features.h"
#include "model/virt.h"

/* After this many errors in one file the rest are noise. */
#define MAX_ERRORS_PER_FILE 50
/* Room for a user's string quoted in a message. */
#define QUOTE_MAX 96

struct ctx {
	struct desired_state *ds;
	const char *file; /* owned by ds->files */
	struct strlist *errors;
	unsigned int n_errors;
	bool nomem;
	/* what this file adds; merged into ds only when the file is valid */
	struct ds_rule *rules;
	size_t n_rules, cap_rules;
	bool rules_refused;
	bool has_version;
	/* the defaults this file sets; -1 = not set */
	int policy[4];
};

static void err(struct ctx *c, unsigned int line, unsigned int column, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void err(struct ctx *c, unsigned int line, unsigned int column, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	int r;

	c->n_errors++;
	if (c->n_errors > MAX_ERRORS_PER_FILE + 1)
		return;
	if (c->n_errors == MAX_ERRORS_PER_FILE + 1) {
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
static const char *quote(char out[QUOTE_MAX], const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, limit = QUOTE_MAX - 4; /* room for "..." and the NUL */

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

static const char *qnode(char out[QUOTE_MAX], const struct ynode *n)
{
	return quote(out, n->value, n->len);
}

/* A scalar usable as a name: not null, no NUL inside. */
static bool is_name(const struct ynode *n)
{
	return n->type == Y_SCALAR && !ynode_is_null(n) && strlen(n->value) == n->len;
}

/* The candidate nearest to name when it looks like a typo, else NULL. */
static const char *nearest(const char *name, const char *const *cands, size_t n)
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

/* ---- keys, tables, mappings ---------------------------------------------- */

enum want {
	W_ANY,
	W_SCALAR,
	W_MAP,
	W_SEQ_OR_NULL,
	W_GLOBS, /* a string or a list of strings */
};

struct key_def {
	const char *key;
	enum want want;
	void (*handle)(struct ctx *c, const struct ynode *key, const struct ynode *val, void *data);
};

static const char *want_text(enum want w)
{
	switch (w) {
	case W_SCALAR:
		return "a value";
	case W_MAP:
		return "a mapping";
	case W_SEQ_OR_NULL:
		return "a list";
	case W_GLOBS:
		return "a string or a list of strings";
	case W_ANY:
		break;
	}
	return "a value";
}

static bool want_ok(enum want w, const struct ynode *v)
{
	switch (w) {
	case W_SCALAR:
		return v->type == Y_SCALAR;
	case W_MAP:
		return v->type == Y_MAP;
	case W_SEQ_OR_NULL:
		return v->type == Y_SEQ || ynode_is_null(v);
	case W_GLOBS:
		return v->type == Y_SEQ || (v->type == Y_SCALAR && !ynode_is_null(v));
	case W_ANY:
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
static void check_duplicates(struct ctx *c, struct ynode *map)
{
	size_t npairs = map->n / 2, nrefs = 0;
	const struct ynode **first;
	struct key_ref *refs;
	char q[QUOTE_MAX];

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
		err(c, k->line, k->column, "duplicate key '%s' (first at line %u, column %u)",
		    qnode(q, k), first[i]->line, first[i]->column);
	}
	free(refs);
	free(first);
}

/* Check a mapping against a table: duplicates, key types, unknown keys,
 * value types; then hand each known key to its handler. */
static void process_mapping(struct ctx *c, struct ynode *map, const struct key_def *defs,
			    size_t n_defs, const char *where, void *data)
{
	char q[QUOTE_MAX];

	check_duplicates(c, map);
	for (size_t i = 0; i + 1 < map->n; i += 2) {
		const struct ynode *k = map->items[i], *v = map->items[i + 1];
		const struct key_def *def = NULL;

		if (k->dup || k->type == Y_BAD)
			continue;
		if (!is_name(k)) {
			err(c, k->line, k->column, "expected a key name %s, found %s", where,
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
			near = nearest(k->value, cands, nc);
			if (near) {
				err(c, k->line, k->column,
				    "unknown key '%s' %s; did you mean '%s'?", qnode(q, k), where,
				    near);
			} else {
				char list[256] = "";
				size_t o = 0;

				for (size_t j = 0; j < n_defs && o < sizeof(list) - 40; j++)
					o += (size_t)snprintf(list + o, sizeof(list) - o, "%s'%s'",
							      j ? ", " : "", defs[j].key);
				err(c, k->line, k->column,
				    "unknown key '%s' %s; expected one of %s", qnode(q, k), where,
				    list);
			}
			continue;
		}
		if (v->type == Y_BAD)
			continue;
		if (!want_ok(def->want, v)) {
			err(c, v->line, v->column, "expected %s for '%s', found %s",
			    want_text(def->want), def->key, ynode_kind(v));
			continue;
		}
		def->handle(c, k, v, data);
	}
}

/* ---- match ------------------------------------------------------------- */

typedef bool (*glob_check_fn)(struct ctx *c, const struct ynode *key, const struct ynode *item);

static void collect_globs(struct ctx *c, const struct ynode *key, const struct ynode *val,
			  struct strlist *out, glob_check_fn check)
{
	const struct ynode *const *items = &val;
	size_t n = 1;

	if (val->type == Y_SEQ) {
		items = (const struct ynode *const *)val->items;
		n = val->n;
		if (n == 0) {
			err(c, val->line, val->column,
			    "'%s' is an empty list; expected at least one pattern", key->value);
			return;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct ynode *it = items[i];

		if (it->type == Y_BAD)
			continue;
		if (!is_name(it)) {
			err(c, it->line, it->column, "expected a string in '%s', found %s",
			    key->value, ynode_kind(it));
			continue;
		}
		if (check && !check(c, key, it))
			continue;
		if (strlist_add(out, it->value) < 0)
			c->nomem = true;
	}
}

static bool check_not_empty(struct ctx *c, const struct ynode *key, const struct ynode *item)
{
	if (item->len > 0)
		return true;
	err(c, item->line, item->column, "empty pattern in '%s'; expected a glob such as 'eth*'",
	    key->value);
	return false;
}

static bool check_mac(struct ctx *c, const struct ynode *key, const struct ynode *item)
{
	char q[QUOTE_MAX];

	if (!check_not_empty(c, key, item))
		return false;
	if (strspn(item->value, "0123456789abcdefABCDEF:-*?[]!") == item->len)
		return true;
	err(c, item->line, item->column,
	    "invalid mac pattern '%s'; expected hex digits, ':' and shell wildcards such as "
	    "'00:16:3e:*'",
	    qnode(q, item));
	return false;
}

static bool check_virt(struct ctx *c, const struct ynode *key, const struct ynode *item)
{
	static const char *const common[] = {
		"none",	    "vm",	   "container", "xen",	     "xen-dom0", "xen-domU",
		"kvm",	    "qemu",	   "vmware",	"microsoft", "oracle",	 "amazon",
		"google",   "bochs",	   "parallels", "bhyve",     "docker",	 "podman",
		"lxc",	    "lxc-libvirt", "openvz",	"wsl",	     "proot",	 "systemd-nspawn",
		"vm-other",
	};
	const char *near;
	char q[QUOTE_MAX];

	(void)key;
	if (virt_word_known(item->value))
		return true;
	near = nearest(item->value, common, sizeof(common) / sizeof(common[0]));
	if (near && virt_word_known(near))
		err(c, item->line, item->column, "unknown virtualization '%s'; did you mean '%s'?",
		    qnode(q, item), near);
	else
		err(c, item->line, item->column,
		    "unknown virtualization '%s'; expected a word of systemd-detect-virt such as "
		    "'xen', 'kvm' or 'docker', or 'vm', 'container', 'none', 'xen-dom0', "
		    "'xen-domU'",
		    qnode(q, item));
	return false;
}

static void on_match_name(struct ctx *c, const struct ynode *k, const struct ynode *v, void *data)
{
	collect_globs(c, k, v, &((struct ds_rule *)data)->match.name, check_not_empty);
}

static void on_match_driver(struct ctx *c, const struct ynode *k, const struct ynode *v, void *data)
{
	collect_globs(c, k, v, &((struct ds_rule *)data)->match.driver, check_not_empty);
}

static void on_match_module(struct ctx *c, const struct ynode *k, const struct ynode *v, void *data)
{
	collect_globs(c, k, v, &((struct ds_rule *)data)->match.module, check_not_empty);
}

static void on_match_kind(struct ctx *c, const struct ynode *k, const struct ynode *v, void *data)
{
	/* "" is allowed: it never matches, see desired-state.h */
	collect_globs(c, k, v, &((struct ds_rule *)data)->match.kind, NULL);
}

static void on_match_mac(struct ctx *c, const struct ynode *k, const struct ynode *v, void *data)
{
	collect_globs(c, k, v, &((struct ds_rule *)data)->match.mac, check_mac);
}

static void on_match_virt(struct ctx *c, const struct ynode *k, const struct ynode *v, void *data)
{
	collect_globs(c, k, v, &((struct ds_rule *)data)->match.virtualization, check_virt);
}

static const struct key_def match_keys[] = {
	{ "name", W_GLOBS, on_match_name },	{ "driver", W_GLOBS, on_match_driver },
	{ "module", W_GLOBS, on_match_module }, { "kind", W_GLOBS, on_match_kind },
	{ "mac", W_GLOBS, on_match_mac },	{ "virtualization", W_GLOBS, on_match_virt },
};

/* ---- a rule ------------------------------------------------------------ */

struct rule_state {
	struct ds_rule *rule;
};

static void on_rule_match(struct ctx *c, const struct ynode *k, const struct ynode *v, void *data)
{
	struct rule_state *rs = data;

	(void)k;
	if (v->n == 0) {
		err(c, v->line, v->column,
		    "empty 'match' would match every interface; write name: \"*\" if that is "
		    "meant");
		return;
	}
	process_mapping(c, (struct ynode *)v, match_keys,
			sizeof(match_keys) / sizeof(match_keys[0]), "in 'match'", rs->rule);
}

/* YAML 1.1 booleans, as on/off. */
static int parse_onoff(const struct ynode *v)
{
	static const char *const on[] = { "on", "true", "yes" };
	static const char *const off[] = { "off", "false", "no" };

	for (size_t i = 0; i < 3; i++) {
		if (strcasecmp(v->value, on[i]) == 0)
			return 1;
		if (strcasecmp(v->value, off[i]) == 0)
			return 0;
	}
	return -1;
}

static int add_feature(struct ds_rule *r, const char *name, bool value, struct ds_location loc)
{
	struct ds_feature *f = realloc(r->features, (r->n_features + 1) * sizeof(*f));
	char *copy;

	if (!f)
		return -ENOMEM;
	r->features = f;
	copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	f[r->n_features++] = (struct ds_feature){ copy, value, loc };
	return 0;
}

static void on_rule_features(struct ctx *c, const struct ynode *k, const struct ynode *v,
			     void *data)
{
	struct rule_state *rs = data;
	char q[QUOTE_MAX], q2[QUOTE_MAX];

	(void)k;
	if (v->n == 0) {
		err(c, v->line, v->column,
		    "'features' is empty; expected at least one feature such as 'tx: off'");
		return;
	}
	check_duplicates(c, (struct ynode *)v);
	for (size_t i = 0; i + 1 < v->n; i += 2) {
		const struct ynode *fk = v->items[i], *fv = v->items[i + 1];
		const char *near;
		int value;

		if (fk->dup || fk->type == Y_BAD)
			continue;
		if (!is_name(fk)) {
			err(c, fk->line, fk->column,
			    "expected a feature name in 'features', found %s", ynode_kind(fk));
			continue;
		}
		if (!feature_name_known_static(fk->value)) {
			near = feature_name_suggest(NULL, fk->value);
			if (near)
				err(c, fk->line, fk->column,
				    "unknown feature '%s'; did you mean '%s'?", qnode(q, fk), near);
			else
				err(c, fk->line, fk->column,
				    "unknown feature '%s'; expected an ethtool name such as 'tx' "
				    "or 'tx-checksumming', or a kernel feature name such as "
				    "'tx-checksum-ip-generic'",
				    qnode(q, fk));
			continue;
		}
		if (fv->type == Y_BAD)
			continue;
		if (fv->type != Y_SCALAR) {
			err(c, fv->line, fv->column,
			    "expected on or off for feature '%s', found %s", fk->value,
			    ynode_kind(fv));
			continue;
		}
		if (ynode_is_null(fv)) {
			err(c, fv->line, fv->column,
			    "missing value for feature '%s'; expected on or off", fk->value);
			continue;
		}
		value = parse_onoff(fv);
		if (value < 0) {
			err(c, fv->line, fv->column,
			    "invalid value '%s' for feature '%s'; expected on or off (true/false "
			    "and yes/no work too)",
			    qnode(q2, fv), fk->value);
			continue;
		}
		if (add_feature(rs->rule, fk->value, value == 1,
				(struct ds_location){ c->file, fk->line, fk->column }) < 0)
			c->nomem = true;
	}
}

static void on_rule_reserved(struct ctx *c, const struct ynode *k, const struct ynode *v,
			     void *data)
{
	(void)v;
	(void)data;
	err(c, k->line, k->column, "'%s' is reserved for a later version, not supported yet",
	    k->value);
}

static const struct key_def rule_keys[] = {
	{ "match", W_MAP, on_rule_match },	 { "features", W_MAP, on_rule_features },
	{ "rings", W_ANY, on_rule_reserved },	 { "channels", W_ANY, on_rule_reserved },
	{ "coalesce", W_ANY, on_rule_reserved },
};

static void rule_free(struct ds_rule *r)
{
	strlist_free(&r->match.name);
	strlist_free(&r->match.driver);
	strlist_free(&r->match.module);
	strlist_free(&r->match.kind);
	strlist_free(&r->match.mac);
	strlist_free(&r->match.virtualization);
	for (size_t i = 0; i < r->n_features; i++)
		free(r->features[i].name);
	free(r->features);
}

static struct ds_rule *new_rule(struct ctx *c)
{
	if (c->n_rules == c->cap_rules) {
		size_t cap = c->cap_rules ? c->cap_rules * 2 : 8;
		struct ds_rule *rules = realloc(c->rules, cap * sizeof(*rules));

		if (!rules) {
			c->nomem = true;
			return NULL;
		}
		c->rules = rules;
		c->cap_rules = cap;
	}
	memset(&c->rules[c->n_rules], 0, sizeof(c->rules[0]));
	return &c->rules[c->n_rules++];
}

static bool has_key(const struct ynode *map, const char *key)
{
	for (size_t i = 0; i + 1 < map->n; i += 2)
		if (is_name(map->items[i]) && strcmp(map->items[i]->value, key) == 0)
			return true;
	return false;
}

static void on_interfaces(struct ctx *c, const struct ynode *k, const struct ynode *v, void *data)
{
	(void)k;
	(void)data;
	if (v->type != Y_SEQ) /* null: every rule commented out */
		return;
	for (size_t i = 0; i < v->n && !c->nomem; i++) {
		struct ynode *item = v->items[i];
		struct rule_state rs = { 0 };

		if (item->type == Y_BAD)
			continue;
		if (item->type != Y_MAP) {
			err(c, item->line, item->column,
			    "expected a rule (a mapping with 'match' and 'features'), found %s",
			    ynode_kind(item));
			continue;
		}
		if (c->ds->n_rules + c->n_rules >= DS_MAX_RULES) {
			err(c, item->line, item->column, "more than %d rules; refusing the rest",
			    DS_MAX_RULES);
			return;
		}
		rs.rule = new_rule(c);
		if (!rs.rule)
			return;
		rs.rule->loc = (struct ds_location){ c->file, item->line, item->column };
		process_mapping(c, item, rule_keys, sizeof(rule_keys) / sizeof(rule_keys[0]),
				"in a rule", &rs);
		if (!has_key(item, "match"))
			err(c, item->line, item->column,
			    "a rule needs 'match' (which interfaces it applies to)");
		if (!has_key(item, "features"))
			err(c, item->line, item->column,
			    "a rule needs 'features' (what to set, such as 'tx: off')");
	}
}

/* ---- defaults and the top level ------------------------------------------ */

/* The policy keys of `defaults`, each with the words it takes. */
static const struct policy_def {
	const char *key;
	unsigned int words; /* bit i: enum ds_policy i is allowed */
	size_t offset;	    /* of its field in struct desired_state */
} policies[] = {
	{ "missing-interface", 7, offsetof(struct desired_state, missing_interface) },
	{ "fixed-feature", 6, offsetof(struct desired_state, fixed_feature) },
	{ "fixed-member", 7, offsetof(struct desired_state, fixed_member) },
	{ "unmatched-rule", 7, offsetof(struct desired_state, unmatched_rule) },
};
static const char *const policy_words[] = { "ignore", "warn", "error" };

static void on_policy(struct ctx *c, const struct ynode *k, const struct ynode *v, void *data)
{
	const struct policy_def *pd = NULL;
	char q[QUOTE_MAX];
	size_t pi;

	(void)data;
	for (pi = 0; pi < ARRAY_SIZE(policies) && !pd; pi++)
		if (strcmp(k->value, policies[pi].key) == 0)
			pd = &policies[pi];
	pi--;
	for (size_t i = 0; i < ARRAY_SIZE(policy_words); i++)
		if ((pd->words & (1U << i)) && strcmp(v->value, policy_words[i]) == 0 &&
		    v->len == strlen(policy_words[i])) {
			c->policy[pi] = (int)i;
			return;
		}
	err(c, v->line, v->column, "invalid value '%s' for '%s'; expected %s", qnode(q, v), pd->key,
	    pd->words == 7 ? "'ignore', 'warn' or 'error'" : "'warn' or 'error'");
}

static const struct key_def defaults_keys[] = {
	{ "missing-interface", W_SCALAR, on_policy },
	{ "fixed-feature", W_SCALAR, on_policy },
	{ "fixed-member", W_SCALAR, on_policy },
	{ "unmatched-rule", W_SCALAR, on_policy },
};

static void on_defaults(struct ctx *c, const struct ynode *k, const struct ynode *v, void *data)
{
	(void)k;
	process_mapping(c, (struct ynode *)v, defaults_keys,
			sizeof(defaults_keys) / sizeof(defaults_keys[0]), "in 'defaults'", data);
}

static void on_version(struct ctx *c, const struct ynode *k, const struct ynode *v, void *data)
{
	char q[QUOTE_MAX];

	(void)k;
	(void)data;
	c->has_version = true;
	if (ynode_is_null(v))
		err(c, v->line, v->column, "missing value for 'version'; expected 1");
	else if (!v->plain)
		err(c, v->line, v->column,
		    "expected the number 1 for 'version', found the quoted string '%s'",
		    qnode(q, v));
	else if (strcmp(v->value, "1") != 0)
		err(c, v->line, v->column, "unsupported version '%s'; expected 1", qnode(q, v));
}

static const struct key_def top_keys[] = {
	{ "version", W_SCALAR, on_version },
	{ "defaults", W_MAP, on_defaults },
	{ "interfaces", W_SEQ_OR_NULL, on_interfaces },
};

static void process_document(struct ctx *c, struct ynode *root)
{
	if (!root || ynode_is_null(root)) {
		err(c, root ? root->line : 1, root ? root->column : 1,
		    "empty document; expected 'version: 1'");
		return;
	}
	if (root->type != Y_MAP) {
		if (root->type != Y_BAD)
			err(c, root->line, root->column,
			    "expected a mapping that starts with 'version: 1', found %s",
			    ynode_kind(root));
		return;
	}
	process_mapping(c, root, top_keys, sizeof(top_keys) / sizeof(top_keys[0]),
			"at the top level", NULL);
	if (!c->has_version)
		err(c, root->line, root->column, "missing 'version'; expected 'version: 1' first");
}

/* YAML forbids tabs in indentation; libyaml's own message for them ("found
 * character that cannot start any token") does not say so. */
static void check_tabs(struct ctx *c, const char *buf, size_t len)
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
			err(c, line, (unsigned int)(tab - i) + 1,
			    "tab character in indentation; YAML indents with spaces");
		while (j < len && buf[j] != '\n')
			j++;
		i = j + 1;
		line++;
	}
}

/* ---- public interface -------------------------------------------------- */

void desired_state_init(struct desired_state *ds)
{
	memset(ds, 0, sizeof(*ds));
	ds->missing_interface = DS_POLICY_WARN;
	ds->fixed_feature = DS_POLICY_ERROR;
	ds->fixed_member = DS_POLICY_WARN;
	ds->unmatched_rule = DS_POLICY_WARN;
}

static int merge(struct ctx *c)
{
	struct desired_state *ds = c->ds;

	if (c->n_rules) {
		struct ds_rule *rules =
			realloc(ds->rules, (ds->n_rules + c->n_rules) * sizeof(*rules));

		if (!rules)
			return -ENOMEM;
		ds->rules = rules;
		memcpy(ds->rules + ds->n_rules, c->rules, c->n_rules * sizeof(*rules));
		ds->n_rules += c->n_rules;
		c->n_rules = 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(policies); i++)
		if (c->policy[i] >= 0)
			*(enum ds_policy *)((char *)ds + policies[i].offset) =
				(enum ds_policy)c->policy[i];
	return 0;
}

int desired_state_parse_buffer(struct desired_state *ds, const char *name, const char *buf,
			       size_t len, struct strlist *errors)
{
	struct ctx c = { .ds = ds, .errors = errors, .policy = { -1, -1, -1, -1 } };
	struct ytree_result t = { 0 };
	int r = 0;

	if (strlist_add(&ds->files, name) < 0)
		return -ENOMEM;
	c.file = ds->files.items[ds->files.n - 1];

	if (len > DS_MAX_FILE_SIZE) {
		err(&c, 1, 1, "file is larger than %d bytes; refusing to parse it",
		    DS_MAX_FILE_SIZE);
		goto out;
	}
	/* A UTF-8 byte order mark, as some Windows editors write: not content. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		buf += 3;
		len -= 3;
	}
	check_tabs(&c, buf, len);
	if (c.n_errors)
		goto out;
	ytree_parse(buf, len, DS_MAX_DEPTH, &t);
	for (size_t i = 0; i < t.n_errors; i++)
		err(&c, t.errors[i].line, t.errors[i].column, "%s", t.errors[i].message);
	if (t.nomem) {
		c.nomem = true;
		goto out;
	}
	if (!t.incomplete)
		process_document(&c, t.root);
out:
	ytree_result_free(&t);
	if (c.nomem)
		r = -ENOMEM;
	else if (c.n_errors)
		r = -EINVAL;
	else
		r = merge(&c);
	for (size_t i = 0; i < c.n_rules; i++)
		rule_free(&c.rules[i]);
	free(c.rules);
	return r;
}

void desired_state_free(struct desired_state *ds)
{
	for (size_t i = 0; i < ds->n_rules; i++)
		rule_free(&ds->rules[i]);
	free(ds->rules);
	strlist_free(&ds->files);
	free(ds->file_stats);
	desired_state_init(ds);
}

bool desired_state_uses_virtualization(const struct desired_state *ds)
{
	for (size_t i = 0; i < ds->n_rules; i++)
		if (ds->rules[i].match.virtualization.n)
			return true;
	return false;
}

bool desired_state_uses_link_facts(const struct desired_state *ds)
{
	for (size_t i = 0; i < ds->n_rules; i++) {
		const struct ds_match *m = &ds->rules[i].match;

		if (m->kind.n || m->mac.n || m->driver.n || m->module.n)
			return true;
		/* LRO asked on: the plan needs forwarding and bridge ports. */
		for (size_t k = 0; k < ds->rules[i].n_features; k++) {
			const struct ds_feature *f = &ds->rules[i].features[k];

			if (f->value &&
			    (strcmp(f->name, "lro") == 0 || strcmp(f->name, "rx-lro") == 0 ||
			     strcmp(f->name, "large-receive-offload") == 0))
				return true;
		}
	}
	return false;
}
