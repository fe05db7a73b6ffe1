/* desired-state.c - the YAML desired state (CONTRACT.md "The desired state"):
 * its key tables and their handlers
 *
 * libyaml's events become a small bounded tree (lib/yaml-tree.c); the tree
 * is then checked mapping by mapping against the tables below
 * (model/yaml-keys.c, the way netplan does it).  Every problem is reported
 * with file:line:column and checking goes on, so that one run shows every
 * mistake in a file.  Reading the files is host/config-set.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/yaml-tree.h"
#include "model/desired-state.h"
#include "model/features.h"
#include "model/settings.h"
#include "model/virt.h"
#include "model/vocab.h"
#include "model/yaml-keys.h"

struct ctx {
	struct ykeys y; /* first: handlers get it and cast back */
	struct desired_state *ds;
	/* what this file adds; merged into ds only when the file is valid */
	struct ds_rule *rules;
	size_t n_rules, cap_rules;
	bool has_version;
	/* the defaults this file sets; -1 = not set */
	int policy[4];
};

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
			ykeys_err(&c->y, val->line, val->column,
				  "'%s' is an empty list; expected at least one pattern",
				  key->value);
			return;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const struct ynode *it = items[i];

		if (it->type == Y_BAD)
			continue;
		if (!ykeys_is_name(it)) {
			ykeys_err(&c->y, it->line, it->column,
				  "expected a string in '%s', found %s", key->value,
				  ynode_kind(it));
			continue;
		}
		if (check && !check(c, key, it))
			continue;
		if (strlist_add(out, it->value) < 0)
			c->y.nomem = true;
	}
}

static bool check_not_empty(struct ctx *c, const struct ynode *key, const struct ynode *item)
{
	if (item->len > 0)
		return true;
	ykeys_err(&c->y, item->line, item->column,
		  "empty pattern in '%s'; expected a glob such as 'eth*'", key->value);
	return false;
}

static bool check_mac(struct ctx *c, const struct ynode *key, const struct ynode *item)
{
	char q[YKEYS_QUOTE_MAX];

	if (!check_not_empty(c, key, item))
		return false;
	if (strspn(item->value, "0123456789abcdefABCDEF:-*?[]!") == item->len)
		return true;
	ykeys_err(&c->y, item->line, item->column,
		  "invalid mac pattern '%s'; expected hex digits, ':' and shell wildcards such as "
		  "'00:16:3e:*'",
		  ykeys_qnode(q, item));
	return false;
}

static bool check_virt(struct ctx *c, const struct ynode *key, const struct ynode *item)
{
	const char *words[VIRT_VM_MAX + VIRT_CONTAINER_MAX + VIRT_COND_MAX];
	const char *near;
	char q[YKEYS_QUOTE_MAX];
	size_t n = 0;

	(void)key;
	if (virt_word_known(item->value))
		return true;
	for (int i = 0; i < VIRT_VM_MAX; i++)
		words[n++] = virt_vm_to_string((enum virt_vm)i);
	for (int i = 0; i < VIRT_CONTAINER_MAX; i++)
		words[n++] = virt_container_to_string((enum virt_container)i);
	for (int i = 0; i < VIRT_COND_MAX; i++)
		words[n++] = virt_condition_to_string((enum virt_condition)i);
	near = ykeys_nearest(item->value, words, n);
	if (near)
		ykeys_err(&c->y, item->line, item->column,
			  "unknown virtualization '%s'; did you mean '%s'?", ykeys_qnode(q, item),
			  near);
	else
		ykeys_err(
			&c->y, item->line, item->column,
			"unknown virtualization '%s'; expected a word of systemd-detect-virt such "
			"as 'xen', 'kvm' or 'docker', or 'vm', 'container', 'none', 'xen-dom0', "
			"'xen-domU' (offloadctl names)",
			ykeys_qnode(q, item));
	return false;
}

static void on_match_name(struct ykeys *y, const struct ynode *k, const struct ynode *v, void *data)
{
	struct ctx *c = (struct ctx *)y;

	collect_globs(c, k, v, &((struct ds_rule *)data)->match.name, check_not_empty);
}

static void on_match_driver(struct ykeys *y, const struct ynode *k, const struct ynode *v,
			    void *data)
{
	struct ctx *c = (struct ctx *)y;

	collect_globs(c, k, v, &((struct ds_rule *)data)->match.driver, check_not_empty);
}

static void on_match_module(struct ykeys *y, const struct ynode *k, const struct ynode *v,
			    void *data)
{
	struct ctx *c = (struct ctx *)y;

	collect_globs(c, k, v, &((struct ds_rule *)data)->match.module, check_not_empty);
}

static void on_match_kind(struct ykeys *y, const struct ynode *k, const struct ynode *v, void *data)
{
	struct ctx *c = (struct ctx *)y;

	/* "" is allowed: it never matches, see desired-state.h */
	collect_globs(c, k, v, &((struct ds_rule *)data)->match.kind, NULL);
}

static void on_match_mac(struct ykeys *y, const struct ynode *k, const struct ynode *v, void *data)
{
	struct ctx *c = (struct ctx *)y;

	collect_globs(c, k, v, &((struct ds_rule *)data)->match.mac, check_mac);
}

static void on_match_virt(struct ykeys *y, const struct ynode *k, const struct ynode *v, void *data)
{
	struct ctx *c = (struct ctx *)y;

	collect_globs(c, k, v, &((struct ds_rule *)data)->match.virtualization, check_virt);
}

static const struct ykey_def match_keys[] = {
	{ "name", YW_GLOBS, on_match_name },	 { "driver", YW_GLOBS, on_match_driver },
	{ "module", YW_GLOBS, on_match_module }, { "kind", YW_GLOBS, on_match_kind },
	{ "mac", YW_GLOBS, on_match_mac },	 { "virtualization", YW_GLOBS, on_match_virt },
};

/* ---- a rule ------------------------------------------------------------ */

struct rule_state {
	struct ds_rule *rule;
};

static void on_rule_match(struct ykeys *y, const struct ynode *k, const struct ynode *v, void *data)
{
	struct ctx *c = (struct ctx *)y;
	struct rule_state *rs = data;

	(void)k;
	if (v->n == 0) {
		ykeys_err(&c->y, v->line, v->column,
			  "empty 'match' would match every interface; write name: \"*\" if that is "
			  "meant");
		return;
	}
	ykeys_process_mapping(&c->y, (struct ynode *)v, match_keys,
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

static void on_rule_features(struct ykeys *y, const struct ynode *k, const struct ynode *v,
			     void *data)
{
	struct ctx *c = (struct ctx *)y;
	struct rule_state *rs = data;
	char q2[YKEYS_QUOTE_MAX];

	(void)k;
	if (v->n == 0) {
		ykeys_err(&c->y, v->line, v->column,
			  "'features' is empty; expected at least one feature such as 'tx: off'");
		return;
	}
	ykeys_check_duplicates(&c->y, (struct ynode *)v);
	for (size_t i = 0; i + 1 < v->n; i += 2) {
		const struct ynode *fk = v->items[i], *fv = v->items[i + 1];
		int value;

		if (fk->dup || fk->type == Y_BAD)
			continue;
		if (!ykeys_is_name(fk)) {
			ykeys_err(&c->y, fk->line, fk->column,
				  "expected a feature name in 'features', found %s",
				  ynode_kind(fk));
			continue;
		}
		/* Any name: the running kernel's string set decides at plan time
		 * (a newer kernel has names this table lacks); validate warns
		 * about names outside the static table. */
		if (fv->type == Y_BAD)
			continue;
		if (fv->type != Y_SCALAR) {
			ykeys_err(&c->y, fv->line, fv->column,
				  "expected on or off for feature '%s', found %s", fk->value,
				  ynode_kind(fv));
			continue;
		}
		if (ynode_is_null(fv)) {
			ykeys_err(&c->y, fv->line, fv->column,
				  "missing value for feature '%s'; expected on or off", fk->value);
			continue;
		}
		value = parse_onoff(fv);
		if (value < 0) {
			ykeys_err(&c->y, fv->line, fv->column,
				  "invalid value '%s' for feature '%s'; expected on or off "
				  "(true/false "
				  "and yes/no work too)",
				  ykeys_qnode(q2, fv), fk->value);
			continue;
		}
		if (add_feature(rs->rule, fk->value, value == 1,
				(struct ds_location){ c->y.file, fk->line, fk->column }) < 0)
			c->y.nomem = true;
	}
}

static int add_setting(struct ds_rule *r, struct ds_setting st)
{
	struct ds_setting *v = realloc(r->settings, (r->n_settings + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	r->settings = v;
	v[r->n_settings++] = st;
	return 0;
}

/* A decimal count or number that fits in 32 bits. */
static bool parse_u32(const struct ynode *v, uint32_t *ret)
{
	unsigned long long n = 0;

	/* quoted too: the wrappers write every value as a quoted string */
	if (v->len == 0 || v->len > 10 || strlen(v->value) != v->len)
		return false;
	for (size_t i = 0; i < v->len; i++) {
		if (v->value[i] < '0' || v->value[i] > '9')
			return false;
		n = n * 10 + (unsigned long long)(v->value[i] - '0');
	}
	if (n > UINT32_MAX)
		return false;
	*ret = (uint32_t)n;
	return true;
}

/* The names a group takes, for a message: "'rx', 'tx', ...". */
static void group_names_list(enum setting_group g, char *buf, size_t len)
{
	unsigned int first, end;
	size_t o = 0;

	buf[0] = '\0';
	setting_group_range(g, &first, &end);
	for (unsigned int p = first; p < end && o + 1 < len; p++) {
		int k;

		if (setting_defs[p].read_only)
			continue;
		k = snprintf(buf + o, len - o, "%s'%s'", o ? ", " : "", setting_defs[p].name);
		if (k < 0)
			break;
		o += (size_t)k;
	}
}

/* rings:, channels:, coalesce:, pause: or eee: in a rule: ethtool's
 * parameter names of -G, -L, -C, -A and --set-eee to their values. */
static void on_rule_group(struct ykeys *y, const struct ynode *k, const struct ynode *v, void *data)
{
	struct ctx *c = (struct ctx *)y;
	struct rule_state *rs = data;
	int gi = setting_group_lookup(k->value);
	enum setting_group g;
	char q[YKEYS_QUOTE_MAX], q2[YKEYS_QUOTE_MAX];

	if (gi < 0)
		return; /* the table and the group names agree */
	g = (enum setting_group)gi;
	if (v->n == 0) {
		ykeys_err(&c->y, v->line, v->column,
			  "'%s' is empty; expected at least one setting such as '%s'", k->value,
			  g == SG_COALESCE ? "rx-usecs: 50"
			  : g == SG_PAUSE  ? "rx: off"
			  : g == SG_EEE	   ? "eee: off"
					   : "rx: max");
		return;
	}
	ykeys_check_duplicates(&c->y, (struct ynode *)v);
	for (size_t i = 0; i + 1 < v->n; i += 2) {
		const struct ynode *sk = v->items[i], *sv = v->items[i + 1];
		struct ds_setting st = { 0 };
		const struct setting_def *def;
		int p, onoff;

		if (sk->dup || sk->type == Y_BAD)
			continue;
		if (!ykeys_is_name(sk)) {
			ykeys_err(&c->y, sk->line, sk->column,
				  "expected a setting name in '%s', found %s", k->value,
				  ynode_kind(sk));
			continue;
		}
		p = setting_lookup(g, sk->value);
		if (p < 0 || setting_defs[p].read_only) {
			const char *near = p < 0 ? setting_suggest(g, sk->value) : NULL;
			char list[512];

			if (p >= 0) {
				ykeys_err(&c->y, sk->line, sk->column,
					  "'%s' in '%s' is reported by the kernel, not set",
					  sk->value, k->value);
			} else if (near) {
				ykeys_err(&c->y, sk->line, sk->column,
					  "unknown setting '%s' in '%s'; did you mean '%s'?",
					  ykeys_qnode(q, sk), k->value, near);
			} else {
				group_names_list(g, list, sizeof(list));
				ykeys_err(&c->y, sk->line, sk->column,
					  "unknown setting '%s' in '%s'; expected one of %s",
					  ykeys_qnode(q, sk), k->value, list);
			}
			continue;
		}
		def = &setting_defs[p];
		if (sv->type == Y_BAD)
			continue;
		if (sv->type != Y_SCALAR || ynode_is_null(sv)) {
			const char *want = def->type == ST_COUNT    ? "a count or max"
					   : def->type == ST_NUMBER ? "a number"
								    : "on or off";

			if (sv->type != Y_SCALAR)
				ykeys_err(&c->y, sv->line, sv->column,
					  "expected %s for '%s' in '%s', found %s", want, sk->value,
					  k->value, ynode_kind(sv));
			else
				ykeys_err(&c->y, sv->line, sv->column,
					  "missing value for '%s' in '%s'; expected %s", sk->value,
					  k->value, want);
			continue;
		}
		st.param = (unsigned int)p;
		st.loc = (struct ds_location){ c->y.file, sk->line, sk->column };
		switch (def->type) {
		case ST_COUNT:
			if (strcmp(sv->value, "max") == 0) {
				st.max = true;
				break;
			}
			if (!parse_u32(sv, &st.value)) {
				ykeys_err(&c->y, sv->line, sv->column,
					  "invalid value '%s' for '%s' in '%s'; expected a count "
					  "(such as 1024) or max",
					  ykeys_qnode(q2, sv), sk->value, k->value);
				continue;
			}
			break;
		case ST_NUMBER:
			if (!parse_u32(sv, &st.value)) {
				ykeys_err(&c->y, sv->line, sv->column,
					  "invalid value '%s' for '%s' in '%s'; expected a number "
					  "from 0 to 4294967295",
					  ykeys_qnode(q2, sv), sk->value, k->value);
				continue;
			}
			break;
		case ST_BOOL:
			onoff = parse_onoff(sv);
			if (onoff < 0) {
				ykeys_err(&c->y, sv->line, sv->column,
					  "invalid value '%s' for '%s' in '%s'; expected on or off",
					  ykeys_qnode(q2, sv), sk->value, k->value);
				continue;
			}
			st.value = (uint32_t)onoff;
			break;
		}
		if (add_setting(rs->rule, st) < 0)
			c->y.nomem = true;
	}
}

static const struct ykey_def rule_keys[] = {
	{ "match", YW_MAP, on_rule_match },    { "features", YW_MAP, on_rule_features },
	{ "rings", YW_MAP, on_rule_group },    { "channels", YW_MAP, on_rule_group },
	{ "coalesce", YW_MAP, on_rule_group }, { "pause", YW_MAP, on_rule_group },
	{ "eee", YW_MAP, on_rule_group },
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
	free(r->settings);
}

static struct ds_rule *new_rule(struct ctx *c)
{
	if (c->n_rules == c->cap_rules) {
		size_t cap = c->cap_rules ? c->cap_rules * 2 : 8;
		struct ds_rule *rules = realloc(c->rules, cap * sizeof(*rules));

		if (!rules) {
			c->y.nomem = true;
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
		if (ykeys_is_name(map->items[i]) && strcmp(map->items[i]->value, key) == 0)
			return true;
	return false;
}

static void on_interfaces(struct ykeys *y, const struct ynode *k, const struct ynode *v, void *data)
{
	struct ctx *c = (struct ctx *)y;

	(void)k;
	(void)data;
	if (v->type != Y_SEQ) /* null: every rule commented out */
		return;
	for (size_t i = 0; i < v->n && !c->y.nomem; i++) {
		struct ynode *item = v->items[i];
		struct rule_state rs = { 0 };

		if (item->type == Y_BAD)
			continue;
		if (item->type != Y_MAP) {
			ykeys_err(
				&c->y, item->line, item->column,
				"expected a rule (a mapping with 'match' and 'features'), found %s",
				ynode_kind(item));
			continue;
		}
		if (c->ds->n_rules + c->n_rules >= DS_MAX_RULES) {
			ykeys_err(&c->y, item->line, item->column,
				  "more than %d rules; refusing the rest", DS_MAX_RULES);
			return;
		}
		rs.rule = new_rule(c);
		if (!rs.rule)
			return;
		rs.rule->loc = (struct ds_location){ c->y.file, item->line, item->column };
		ykeys_process_mapping(&c->y, item, rule_keys,
				      sizeof(rule_keys) / sizeof(rule_keys[0]), "in a rule", &rs);
		if (!has_key(item, "match"))
			ykeys_err(&c->y, item->line, item->column,
				  "a rule needs 'match' (which interfaces it applies to)");
		if (!has_key(item, "features") && !has_key(item, "rings") &&
		    !has_key(item, "channels") && !has_key(item, "coalesce") &&
		    !has_key(item, "pause") && !has_key(item, "eee"))
			ykeys_err(&c->y, item->line, item->column,
				  "a rule needs 'features' (what to set, such as 'tx: off') or "
				  "'rings', 'channels', 'coalesce', 'pause' or 'eee'");
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

const char *desired_state_policy_key(size_t i, unsigned int *ret_words)
{
	if (i >= ARRAY_SIZE(policies))
		return NULL;
	*ret_words = policies[i].words;
	return policies[i].key;
}

const char *ds_policy_to_string(enum ds_policy p)
{
	return (size_t)p < ARRAY_SIZE(policy_words) ? policy_words[p] : NULL;
}

static void on_policy(struct ykeys *y, const struct ynode *k, const struct ynode *v, void *data)
{
	struct ctx *c = (struct ctx *)y;
	const struct policy_def *pd = NULL;
	char q[YKEYS_QUOTE_MAX];
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
	ykeys_err(&c->y, v->line, v->column, "invalid value '%s' for '%s'; expected %s",
		  ykeys_qnode(q, v), pd->key,
		  pd->words == 7 ? "'ignore', 'warn' or 'error'" : "'warn' or 'error'");
}

static const struct ykey_def defaults_keys[] = {
	{ "missing-interface", YW_SCALAR, on_policy },
	{ "fixed-feature", YW_SCALAR, on_policy },
	{ "fixed-member", YW_SCALAR, on_policy },
	{ "unmatched-rule", YW_SCALAR, on_policy },
};

static void on_defaults(struct ykeys *y, const struct ynode *k, const struct ynode *v, void *data)
{
	struct ctx *c = (struct ctx *)y;

	(void)k;
	ykeys_process_mapping(&c->y, (struct ynode *)v, defaults_keys,
			      sizeof(defaults_keys) / sizeof(defaults_keys[0]), "in 'defaults'",
			      data);
}

static void on_version(struct ykeys *y, const struct ynode *k, const struct ynode *v, void *data)
{
	struct ctx *c = (struct ctx *)y;
	char q[YKEYS_QUOTE_MAX];

	(void)k;
	(void)data;
	c->has_version = true;
	if (ynode_is_null(v))
		ykeys_err(&c->y, v->line, v->column, "missing value for 'version'; expected 1");
	else if (!v->plain)
		ykeys_err(&c->y, v->line, v->column,
			  "expected the number 1 for 'version', found the quoted string '%s'",
			  ykeys_qnode(q, v));
	else if (strcmp(v->value, "1") != 0)
		ykeys_err(&c->y, v->line, v->column, "unsupported version '%s'; expected 1",
			  ykeys_qnode(q, v));
}

static const struct ykey_def top_keys[] = {
	{ "version", YW_SCALAR, on_version },
	{ "defaults", YW_MAP, on_defaults },
	{ "interfaces", YW_SEQ_OR_NULL, on_interfaces },
};

static void process_document(struct ctx *c, struct ynode *root)
{
	if (!root || ynode_is_null(root)) {
		ykeys_err(&c->y, root ? root->line : 1, root ? root->column : 1,
			  "empty document; expected 'version: 1'");
		return;
	}
	if (root->type != Y_MAP) {
		if (root->type != Y_BAD)
			ykeys_err(&c->y, root->line, root->column,
				  "expected a mapping that starts with 'version: 1', found %s",
				  ynode_kind(root));
		return;
	}
	ykeys_process_mapping(&c->y, root, top_keys, sizeof(top_keys) / sizeof(top_keys[0]),
			      "at the top level", NULL);
	if (!c->has_version)
		ykeys_err(&c->y, root->line, root->column,
			  "missing 'version'; expected 'version: 1' first");
}

/* ---- public interface -------------------------------------------------- */

void ds_location_format(const struct ds_location *l, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%u:%u", l && l->file ? l->file : "-", l ? l->line : 0,
		 l ? l->column : 0);
}

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
	struct ctx c = { .y.errors = errors, .ds = ds, .policy = { -1, -1, -1, -1 } };
	struct ytree_result t = { 0 };
	int r = 0;

	if (strlist_add(&ds->files, name) < 0)
		return -ENOMEM;
	c.y.file = ds->files.items[ds->files.n - 1];

	if (len > DS_MAX_FILE_SIZE) {
		ykeys_err(&c.y, 1, 1, "file is larger than %d bytes; refusing to parse it",
			  DS_MAX_FILE_SIZE);
		goto out;
	}
	/* A UTF-8 byte order mark, as some Windows editors write: not content. */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) {
		buf += 3;
		len -= 3;
	}
	ykeys_check_tabs(&c.y, buf, len);
	if (c.y.n_errors)
		goto out;
	ytree_parse(buf, len, DS_MAX_DEPTH, &t);
	for (size_t i = 0; i < t.n_errors; i++)
		ykeys_err(&c.y, t.errors[i].line, t.errors[i].column, "%s", t.errors[i].message);
	if (t.nomem) {
		c.y.nomem = true;
		goto out;
	}
	if (!t.incomplete)
		process_document(&c, t.root);
out:
	ytree_result_free(&t);
	if (c.y.nomem)
		r = -ENOMEM;
	else if (c.y.n_errors)
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

unsigned int desired_state_setting_groups(const struct desired_state *ds)
{
	unsigned int groups = 0;

	for (size_t i = 0; i < ds->n_rules; i++)
		for (size_t k = 0; k < ds->rules[i].n_settings; k++)
			groups |= 1u << setting_defs[ds->rules[i].settings[k].param].group;
	return groups;
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

int desired_state_unknown_names(const struct desired_state *ds, struct strlist *ret)
{
	for (size_t i = 0; i < ds->n_rules; i++) {
		const struct ds_rule *rule = &ds->rules[i];

		for (size_t k = 0; k < rule->n_features; k++) {
			const struct ds_feature *f = &rule->features[k];
			const char *near;
			char q[YKEYS_QUOTE_MAX], where[DS_LOCATION_MAX];
			int r;

			if (feature_name_known_static(f->name))
				continue;
			ykeys_quote(q, f->name, strlen(f->name));
			ds_location_format(&f->loc, where, sizeof(where));
			near = feature_name_suggest(NULL, f->name);
			if (near)
				r = strlist_addf(ret,
						 "%s: unknown feature '%s'; did you mean '%s'?",
						 where, q, near);
			else
				r = strlist_addf(
					ret,
					"%s: unknown feature '%s': not a name this "
					"offloadctl knows (an ethtool name such as 'tx' or a "
					"kernel feature name such as 'tx-checksum-ip-generic'); "
					"check and apply ask the running kernel",
					where, q);
			if (r < 0)
				return -ENOMEM;
		}
	}
	return 0;
}
