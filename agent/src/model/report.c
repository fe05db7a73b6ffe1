/* report.c - the change report: plain data, one walk that writes it as
 * JSON or as a diff (report.h) */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/escape.h"
#include "model/report.h"
#include "model/settings.h"

void report_init(struct report *rep)
{
	memset(rep, 0, sizeof(*rep));
	rep->in_sync = true;
}

static void changes_free(struct report_change *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].feature);
		free(v[i].rule);
	}
	free(v);
}

static void decisions_free(struct report_decision *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].feature);
		free(v[i].by);
	}
	free(v);
}

static void iface_free(struct report_iface *e)
{
	free(e->name);
	changes_free(e->changes, e->n_changes);
	changes_free(e->side_effects, e->n_side_effects);
	for (size_t i = 0; i < e->n_unreachable; i++) {
		free(e->unreachable[i].feature);
		free(e->unreachable[i].via);
		free(e->unreachable[i].rule);
	}
	free(e->unreachable);
	decisions_free(e->decided, e->n_decided);
	decisions_free(e->decided_settings, e->n_decided_settings);
}

void report_free(struct report *rep)
{
	for (size_t i = 0; i < rep->n_ifaces; i++)
		iface_free(&rep->ifaces[i]);
	free(rep->ifaces);
	for (size_t i = 0; i < rep->n_unmatched; i++) {
		free(rep->unmatched[i].rule);
		free(rep->unmatched[i].match);
	}
	free(rep->unmatched);
	strlist_free(&rep->warnings);
	strlist_free(&rep->errors);
	report_init(rep);
}

/* Room for one more element of size bytes at the end of *v (n of them):
 * a pointer to it, zeroed, or NULL without memory.  The caller counts it. */
static void *grow(void *v_ptr, size_t n, size_t size)
{
	void **v = v_ptr;
	char *p;

	/* capacity is the next power of two: no field of its own */
	if ((n & (n - 1)) == 0) {
		p = realloc(*v, (n ? n * 2 : 1) * size);
		if (!p)
			return NULL;
		*v = p;
	}
	p = (char *)*v + n * size;
	memset(p, 0, size);
	return p;
}

const struct report_iface *report_iface_find(const struct report *rep, const char *ifname)
{
	for (size_t i = 0; i < rep->n_ifaces; i++)
		if (strcmp(rep->ifaces[i].name, ifname) == 0)
			return &rep->ifaces[i];
	return NULL;
}

static struct report_iface *iface_entry(struct report *rep, const char *ifname)
{
	struct report_iface *e = (struct report_iface *)report_iface_find(rep, ifname);

	if (e)
		return e;
	e = grow(&rep->ifaces, rep->n_ifaces, sizeof(*e));
	if (!e || !(e->name = strdup(ifname)))
		return NULL;
	rep->n_ifaces++;
	return e;
}

char *report_location(const struct ds_location *l)
{
	char buf[DS_LOCATION_MAX];

	ds_location_format(l, buf, sizeof(buf));
	return name_json_dup(buf);
}

/* strdup() of what may be NULL; *ok false when memory ran out. */
static char *dup_or_null(const char *s, bool *ok)
{
	char *d = s ? strdup(s) : NULL;

	if (s && !d)
		*ok = false;
	return d;
}

static int add_change(struct report *rep, const char *ifname, bool side_effect,
		      struct report_change c, const char *feature, const struct ds_location *rule)
{
	struct report_iface *e = iface_entry(rep, ifname);
	struct report_change *slot;
	bool ok = true;

	if (!e)
		return -ENOMEM;
	slot = side_effect ? grow(&e->side_effects, e->n_side_effects, sizeof(*slot))
			   : grow(&e->changes, e->n_changes, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	c.feature = dup_or_null(feature, &ok);
	c.rule = rule && rule->file ? report_location(rule) : NULL;
	if (!ok || (rule && rule->file && !c.rule)) {
		free(c.feature);
		free(c.rule);
		return -ENOMEM;
	}
	*slot = c;
	if (side_effect)
		e->n_side_effects++;
	else
		e->n_changes++;
	return 0;
}

int report_add_change(struct report *rep, const char *ifname, const char *feature, bool from,
		      bool to, const struct ds_location *rule)
{
	return add_change(rep, ifname, false,
			  (struct report_change){ .param = -1, .from = from, .to = to }, feature,
			  rule);
}

int report_add_request_change(struct report *rep, const char *ifname, const char *feature,
			      bool from, bool to, const struct ds_location *rule)
{
	return add_change(
		rep, ifname, false,
		(struct report_change){ .param = -1, .from = from, .to = to, .requested = true },
		feature, rule);
}

int report_add_setting_change(struct report *rep, const char *ifname, unsigned int param,
			      uint32_t from, uint32_t to, const struct ds_location *rule)
{
	if (param >= SP_MAX)
		return -EINVAL;
	return add_change(rep, ifname, false,
			  (struct report_change){ .param = (int)param, .from = from, .to = to },
			  NULL, rule);
}

int report_add_side_effect(struct report *rep, const char *ifname, const char *feature, bool from,
			   bool to)
{
	return add_change(rep, ifname, true,
			  (struct report_change){ .param = -1, .from = from, .to = to }, feature,
			  NULL);
}

int report_add_unreachable(struct report *rep, const char *ifname, const char *feature, bool wanted,
			   const char *via, const struct ds_location *rule)
{
	struct report_iface *e = iface_entry(rep, ifname);
	struct report_unreachable *u;
	bool ok = true;

	if (!e || !(u = grow(&e->unreachable, e->n_unreachable, sizeof(*u))))
		return -ENOMEM;
	u->feature = dup_or_null(feature, &ok);
	u->via = dup_or_null(via, &ok);
	u->rule = report_location(rule);
	u->wanted = wanted;
	if (!ok || !u->rule) {
		free(u->feature);
		free(u->via);
		free(u->rule);
		return -ENOMEM;
	}
	e->n_unreachable++;
	return 0;
}

/* A decision for the same feature (or parameter) replaces the earlier one
 * in its place, as a JSON object's key does. */
static int add_decision(struct report_decision **v, size_t *n, const char *feature, int param,
			uint32_t value, const struct ds_location *by)
{
	struct report_decision d = { .param = param, .value = value };
	bool ok = true;
	size_t i;

	d.feature = dup_or_null(feature, &ok);
	d.by = report_location(by);
	if (!ok || !d.by) {
		free(d.feature);
		free(d.by);
		return -ENOMEM;
	}
	for (i = 0; i < *n; i++)
		if (feature ? strcmp((*v)[i].feature, feature) == 0 : (*v)[i].param == param)
			break;
	if (i < *n) {
		free((*v)[i].feature);
		free((*v)[i].by);
		(*v)[i] = d;
		return 0;
	}
	if (!grow(v, *n, sizeof(d))) {
		free(d.feature);
		free(d.by);
		return -ENOMEM;
	}
	(*v)[(*n)++] = d;
	return 0;
}

int report_add_decision(struct report *rep, const char *ifname, const char *feature, bool value,
			const struct ds_location *by)
{
	struct report_iface *e = iface_entry(rep, ifname);

	return e ? add_decision(&e->decided, &e->n_decided, feature, -1, value, by) : -ENOMEM;
}

int report_add_setting_decision(struct report *rep, const char *ifname, unsigned int param,
				uint32_t value, const struct ds_location *by)
{
	struct report_iface *e;

	if (param >= SP_MAX)
		return -EINVAL;
	e = iface_entry(rep, ifname);
	return e ? add_decision(&e->decided_settings, &e->n_decided_settings, NULL, (int)param,
				value, by)
		 : -ENOMEM;
}

int report_add_unmatched(struct report *rep, const struct ds_location *rule, const char *match)
{
	struct report_unmatched *u = grow(&rep->unmatched, rep->n_unmatched, sizeof(*u));
	bool ok = true;

	if (!u)
		return -ENOMEM;
	u->rule = report_location(rule);
	u->match = dup_or_null(match, &ok);
	if (!ok || !u->rule) {
		free(u->rule);
		free(u->match);
		return -ENOMEM;
	}
	rep->n_unmatched++;
	return 0;
}

int report_add_message(struct strlist *list, const char *msg)
{
	char *safe = name_json_dup(msg);
	int r = safe ? strlist_add(list, safe) : -ENOMEM;

	free(safe);
	return r < 0 ? -ENOMEM : 0;
}

int report_add_messages(struct strlist *list, const struct strlist *msgs)
{
	for (size_t i = 0; i < msgs->n; i++)
		if (report_add_message(list, msgs->items[i]) < 0)
			return -ENOMEM;
	return 0;
}

/* Move the *src_n items of *src onto the end of *dst (*dst_n of them),
 * with what they own; *src is left empty.  On -ENOMEM the items not moved
 * stay in *src (nothing is owned twice). */
static int move_items(void *dst, size_t *dst_n, void *src_ptr, size_t *src_n, size_t size)
{
	char **src = src_ptr;

	for (size_t i = 0; i < *src_n; i++) {
		void *p = grow(dst, *dst_n, size);

		if (!p) {
			memmove(*src, *src + i * size, (*src_n - i) * size);
			*src_n -= i;
			return -ENOMEM;
		}
		memcpy(p, *src + i * size, size);
		(*dst_n)++;
	}
	free(*src);
	*src = NULL;
	*src_n = 0;
	return 0;
}

/* one's entry added to e's: the notes the plan put there before apply
 * (unreachable members, which setting decides) are kept */
static int iface_merge(struct report_iface *e, struct report_iface *o)
{
	if (move_items(&e->changes, &e->n_changes, &o->changes, &o->n_changes,
		       sizeof(*o->changes)) < 0 ||
	    move_items(&e->side_effects, &e->n_side_effects, &o->side_effects, &o->n_side_effects,
		       sizeof(*o->side_effects)) < 0 ||
	    move_items(&e->unreachable, &e->n_unreachable, &o->unreachable, &o->n_unreachable,
		       sizeof(*o->unreachable)) < 0 ||
	    move_items(&e->decided, &e->n_decided, &o->decided, &o->n_decided,
		       sizeof(*o->decided)) < 0 ||
	    move_items(&e->decided_settings, &e->n_decided_settings, &o->decided_settings,
		       &o->n_decided_settings, sizeof(*o->decided_settings)) < 0)
		return -ENOMEM;
	return 0;
}

int report_merge(struct report *rep, struct report *one)
{
	for (size_t i = 0; i < one->n_ifaces; i++) {
		struct report_iface *e =
			(struct report_iface *)report_iface_find(rep, one->ifaces[i].name);

		if (e) {
			if (iface_merge(e, &one->ifaces[i]) < 0)
				return -ENOMEM;
			continue;
		}
		if (!(e = grow(&rep->ifaces, rep->n_ifaces, sizeof(*e))))
			return -ENOMEM;
		rep->n_ifaces++;
		*e = one->ifaces[i];
		memset(&one->ifaces[i], 0, sizeof(one->ifaces[i]));
	}
	if (report_add_messages(&rep->warnings, &one->warnings) < 0 ||
	    report_add_messages(&rep->errors, &one->errors) < 0)
		return -ENOMEM;
	report_free(one);
	return 0;
}

/* ----- the one walk: JSON, or a diff for people ----- */

static const char *on_off(uint32_t v)
{
	return v ? "on" : "off";
}

/* A setting's value: a number, or on/off as a string. */
static void setting_value_json(struct jw *w, const struct setting_def *def, uint32_t v)
{
	if (def->type == ST_BOOL)
		jw_string(w, on_off(v));
	else
		jw_int(w, (long long)v);
}

/* The same value in the diff: as JSON writes it ("on" quoted, 2 bare). */
static void setting_value_text(struct jw *w, const struct setting_def *def, uint32_t v)
{
	if (def->type == ST_BOOL)
		jw_printf(w, "\"%s\"", on_off(v));
	else
		jw_printf(w, "%u", v);
}

static void change_json(struct jw *w, const struct report_change *c)
{
	jw_object_begin(w);
	if (c->param >= 0) {
		const struct setting_def *def = &setting_defs[c->param];

		jw_kv_string(w, "group", setting_group_name(def->group));
		jw_kv_string(w, "setting", def->name);
		jw_key(w, "from");
		setting_value_json(w, def, c->from);
		jw_key(w, "to");
		setting_value_json(w, def, c->to);
		if (c->rule)
			jw_kv_string(w, "rule", c->rule);
		if (setting_group_resets_link(def->group))
			jw_kv_bool(w, "resets_link", true);
	} else {
		jw_kv_string(w, "feature", c->feature);
		jw_kv_string(w, "from", on_off(c->from));
		jw_kv_string(w, "to", on_off(c->to));
		if (c->rule)
			jw_kv_string(w, "rule", c->rule);
		if (c->requested)
			jw_kv_string(w, "state", "requested");
	}
	jw_object_end(w);
}

/* "-tx-checksum-ip-generic: on" / "+tx-checksum-ip-generic: off\t# RULE",
 * or "-channels rx: 1" / "+channels rx: 2\t# RULE; may reset the link". */
static void change_text(struct jw *w, const struct report_change *c, bool side_effect)
{
	if (c->param >= 0) {
		const struct setting_def *def = &setting_defs[c->param];
		bool resets = setting_group_resets_link(def->group);

		jw_printf(w, "-%s %s: ", setting_group_name(def->group), def->name);
		setting_value_text(w, def, c->from);
		jw_printf(w, "\n+%s %s: ", setting_group_name(def->group), def->name);
		setting_value_text(w, def, c->to);
		if (c->rule)
			jw_printf(w, "\t# %s", c->rule);
		if (resets)
			jw_printf(w, "%s may reset the link", c->rule ? ";" : "\t#");
		jw_lit(w, "\n");
		return;
	}
	jw_printf(w, "-%s: %s%s\n", c->feature, c->requested ? "requested " : "", on_off(c->from));
	jw_printf(w, "+%s: %s%s", c->feature, c->requested ? "requested " : "", on_off(c->to));
	if (side_effect)
		jw_lit(w, "\t# side effect, made by the kernel");
	else if (c->rule)
		jw_printf(w, "\t# %s", c->rule);
	jw_lit(w, "\n");
}

/* A list of changes in either form: "KEY": [...], or the diff's lines. */
static void changes_list(struct jw *w, const char *key, const struct report_change *v, size_t n,
			 bool text, bool side_effect)
{
	if (!text) {
		jw_key(w, key);
		jw_array_begin(w);
	}
	for (size_t i = 0; i < n; i++)
		if (text)
			change_text(w, &v[i], side_effect);
		else
			change_json(w, &v[i]);
	if (!text)
		jw_array_end(w);
}

/* The changes and side effects of an interface, in either form. */
static void changes_write(struct jw *w, const struct report_iface *e, bool text)
{
	changes_list(w, "changes", e->changes, e->n_changes, text, false);
	changes_list(w, "side_effects", e->side_effects, e->n_side_effects, text, true);
}

/* What the plan noted of an interface that no change shows (JSON only). */
static void notes_json(struct jw *w, const struct report_iface *e)
{
	if (e->n_unreachable) {
		jw_key(w, "unreachable");
		jw_array_begin(w);
		for (size_t i = 0; i < e->n_unreachable; i++) {
			const struct report_unreachable *u = &e->unreachable[i];

			jw_object_begin(w);
			jw_kv_string(w, "feature", u->feature);
			jw_kv_string(w, "wanted", on_off(u->wanted));
			jw_kv_string(w, "stays", on_off(!u->wanted));
			jw_kv_string(w, "via", u->via);
			jw_kv_string(w, "rule", u->rule);
			jw_kv_string(w, "reason", "fixed by the driver");
			jw_object_end(w);
		}
		jw_array_end(w);
	}
	if (e->n_decided) {
		jw_key(w, "decided");
		jw_object_begin(w);
		for (size_t i = 0; i < e->n_decided; i++) {
			jw_key(w, e->decided[i].feature);
			jw_object_begin(w);
			jw_kv_string(w, "value", on_off(e->decided[i].value));
			jw_kv_string(w, "by", e->decided[i].by);
			jw_object_end(w);
		}
		jw_object_end(w);
	}
	if (e->n_decided_settings) {
		const struct report_decision *d = e->decided_settings;
		size_t n = e->n_decided_settings;

		/* {GROUP: {SETTING: ...}}, the groups in the order first seen */
		jw_key(w, "decided_settings");
		jw_object_begin(w);
		for (size_t i = 0; i < n; i++) {
			enum setting_group g = setting_defs[d[i].param].group;
			bool seen = false;

			for (size_t k = 0; k < i && !seen; k++)
				seen = setting_defs[d[k].param].group == g;
			if (seen)
				continue;
			jw_key(w, setting_group_name(g));
			jw_object_begin(w);
			for (size_t k = i; k < n; k++) {
				const struct setting_def *def = &setting_defs[d[k].param];

				if (def->group != g)
					continue;
				jw_key(w, def->name);
				jw_object_begin(w);
				jw_key(w, "value");
				setting_value_json(w, def, d[k].value);
				jw_kv_string(w, "by", d[k].by);
				jw_object_end(w);
			}
			jw_object_end(w);
		}
		jw_object_end(w);
	}
}

static void strings_json(struct jw *w, const char *key, const struct strlist *l)
{
	jw_key(w, key);
	jw_array_begin(w);
	for (size_t i = 0; i < l->n; i++)
		jw_string(w, l->items[i]);
	jw_array_end(w);
}

/* "changed 3 features and 1 setting on 2 interfaces", "in sync: ...". */
static void summary_text(struct jw *w, const struct report *rep, const char *verb, size_t n_if,
			 size_t n_ch, size_t n_set)
{
	if (rep->rolled_back)
		jw_lit(w, "rolled back: every interface is as it was before this run\n");
	else if (n_ch && !n_set)
		jw_printf(w, "%s %zu feature%s on %zu interface%s\n", verb, n_ch,
			  n_ch == 1 ? "" : "s", n_if, n_if == 1 ? "" : "s");
	else if (n_ch)
		jw_printf(w, "%s %zu feature%s and %zu setting%s on %zu interface%s\n", verb, n_ch,
			  n_ch == 1 ? "" : "s", n_set, n_set == 1 ? "" : "s", n_if,
			  n_if == 1 ? "" : "s");
	else if (n_set)
		jw_printf(w, "%s %zu setting%s on %zu interface%s\n", verb, n_set,
			  n_set == 1 ? "" : "s", n_if, n_if == 1 ? "" : "s");
	else if (rep->errors.n && strcmp(verb, "changed") == 0)
		jw_lit(w, "nothing changed: the desired state cannot be reached (see the errors "
			  "above)\n");
	else if (!rep->errors.n && rep->warnings.n)
		jw_printf(w, "in sync: nothing to change, but see the %zu warning%s above\n",
			  rep->warnings.n, rep->warnings.n == 1 ? "" : "s");
	else if (!rep->errors.n)
		jw_lit(w, "in sync: nothing to change\n");
}

/* The one walk: text (verb given) or JSON (verb NULL). */
static void report_walk(struct jw *w, const struct report *rep, const char *verb)
{
	bool text = verb != NULL;
	size_t n_if = 0, n_ch = 0, n_set = 0;

	if (!text) {
		jw_object_begin(w);
		jw_kv_bool(w, "changed", rep->changed);
		jw_kv_bool(w, "in_sync", rep->in_sync);
		jw_key(w, "interfaces");
		jw_object_begin(w);
	}
	for (size_t i = 0; i < rep->n_ifaces; i++) {
		const struct report_iface *e = &rep->ifaces[i];
		char esc[NAME_ESC_MAX];
		const char *name;

		if (text) {
			/* the diff shows the interfaces something happens to */
			if (!e->n_changes && !e->n_side_effects)
				continue;
			n_if++;
			for (size_t k = 0; k < e->n_changes; k++)
				*(e->changes[k].param >= 0 ? &n_set : &n_ch) += 1;
			name = name_text(e->name, esc, sizeof(esc));
			jw_printf(w, "--- %s\n+++ %s\n", name, name);
			changes_write(w, e, true);
			continue;
		}
		/* Any bytes the kernel allows (names.h): a valid JSON key. */
		jw_key(w, name_json(e->name, esc, sizeof(esc)));
		jw_object_begin(w);
		changes_write(w, e, false);
		notes_json(w, e);
		jw_object_end(w);
	}
	if (text) {
		summary_text(w, rep, verb, n_if, n_ch, n_set);
		return;
	}
	jw_object_end(w);
	jw_key(w, "unmatched_rules");
	jw_array_begin(w);
	for (size_t i = 0; i < rep->n_unmatched; i++) {
		jw_object_begin(w);
		jw_kv_string(w, "rule", rep->unmatched[i].rule);
		jw_kv_string(w, "match", rep->unmatched[i].match);
		jw_object_end(w);
	}
	jw_array_end(w);
	strings_json(w, "warnings", &rep->warnings);
	strings_json(w, "errors", &rep->errors);
	jw_kv_bool(w, "rolled_back", rep->rolled_back);
	jw_object_end(w);
}

void report_write_json(struct jw *w, const struct report *rep)
{
	report_walk(w, rep, NULL);
}

void report_write_text(struct jw *w, const struct report *rep, const char *verb)
{
	report_walk(w, rep, verb);
}
