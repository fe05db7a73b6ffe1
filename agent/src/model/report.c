/* report.c - the change report: one model, printed as JSON or as a diff */
#include <errno.h>
#include <string.h>

#include <stdlib.h>

#include "lib/escape.h"
#include "model/report.h"
#include "model/settings.h"

json_t *report_new(void)
{
	return json_pack("{s:b,s:b,s:{},s:[],s:[],s:[],s:b}", "changed", 0, "in_sync", 1,
			 "interfaces", "unmatched_rules", "warnings", "errors", "rolled_back", 0);
}

static json_t *iface_entry(json_t *rep, const char *raw_ifname)
{
	json_t *ifs = json_object_get(rep, "interfaces");
	char esc[NAME_ESC_MAX];
	/* Any bytes the kernel allows (names.h): valid JSON keys. */
	const char *ifname = name_json(raw_ifname, esc, sizeof(esc));
	json_t *e = json_object_get(ifs, ifname);

	if (!e) {
		e = json_pack("{s:[],s:[]}", "changes", "side_effects");
		if (!e || json_object_set_new(ifs, ifname, e) < 0)
			return NULL;
	}
	return e;
}

/* Append {"feature", "from", "to"} to the interface's list; ret_entry gets
 * the new entry (owned by the report). */
static int add_entry(json_t *rep, const char *ifname, const char *list, const char *feature,
		     bool from, bool to, json_t **ret_entry)
{
	json_t *e = iface_entry(rep, ifname), *c;

	if (!e)
		return -ENOMEM;
	c = json_pack("{s:s,s:s,s:s}", "feature", feature, "from", from ? "on" : "off", "to",
		      to ? "on" : "off");
	if (!c || json_array_append_new(json_object_get(e, list), c) < 0)
		return -ENOMEM;
	if (ret_entry)
		*ret_entry = c;
	return 0;
}

/* "file:line:column" (ds_location_format()), made valid for JSON. */
static json_t *location(const struct ds_location *l)
{
	char buf[4200], *safe;
	json_t *j;

	ds_location_format(l, buf, sizeof(buf));
	safe = name_json_dup(buf);
	j = safe ? json_string(safe) : NULL;
	free(safe);
	return j;
}

int report_add_unreachable(json_t *rep, const char *ifname, const char *feature, bool wanted,
			   const char *via, const struct ds_location *rule)
{
	json_t *e = iface_entry(rep, ifname), *list, *u;

	if (!e)
		return -ENOMEM;
	list = json_object_get(e, "unreachable");
	if (!list) {
		list = json_array();
		if (!list || json_object_set_new(e, "unreachable", list) < 0)
			return -ENOMEM;
	}
	u = json_pack("{s:s,s:s,s:s,s:s,s:o,s:s}", "feature", feature, "wanted",
		      wanted ? "on" : "off", "stays", wanted ? "off" : "on", "via", via, "rule",
		      location(rule), "reason", "fixed by the driver");
	return !u || json_array_append_new(list, u) < 0 ? -ENOMEM : 0;
}

int report_add_decision(json_t *rep, const char *ifname, const char *feature, bool value,
			const struct ds_location *by)
{
	json_t *e = iface_entry(rep, ifname), *d, *v;

	if (!e)
		return -ENOMEM;
	d = json_object_get(e, "decided");
	if (!d) {
		d = json_object();
		if (!d || json_object_set_new(e, "decided", d) < 0)
			return -ENOMEM;
	}
	v = json_pack("{s:s,s:o}", "value", value ? "on" : "off", "by", location(by));
	return !v || json_object_set_new(d, feature, v) < 0 ? -ENOMEM : 0;
}

int report_add_setting_decision(json_t *rep, const char *ifname, unsigned int param, uint32_t value,
				const struct ds_location *by)
{
	json_t *e = iface_entry(rep, ifname), *d, *g, *v;
	const struct setting_def *def;

	if (param >= SP_MAX)
		return -EINVAL;
	def = &setting_defs[param];
	if (!e)
		return -ENOMEM;
	d = json_object_get(e, "decided_settings");
	if (!d) {
		d = json_object();
		if (!d || json_object_set_new(e, "decided_settings", d) < 0)
			return -ENOMEM;
	}
	g = json_object_get(d, setting_group_name(def->group));
	if (!g) {
		g = json_object();
		if (!g || json_object_set_new(d, setting_group_name(def->group), g) < 0)
			return -ENOMEM;
	}
	v = json_pack("{s:o,s:o}", "value",
		      def->type == ST_BOOL ? json_string(value ? "on" : "off")
					   : json_integer((json_int_t)value),
		      "by", location(by));
	return !v || json_object_set_new(g, def->name, v) < 0 ? -ENOMEM : 0;
}

int report_add_unmatched(json_t *rep, const struct ds_location *rule, const char *match)
{
	json_t *u = json_pack("{s:o,s:s}", "rule", location(rule), "match", match);

	return !u || json_array_append_new(json_object_get(rep, "unmatched_rules"), u) < 0 ? -ENOMEM
											   : 0;
}

int report_add_change(json_t *rep, const char *ifname, const char *feature, bool from, bool to,
		      const struct ds_location *rule)
{
	json_t *c;
	int r = add_entry(rep, ifname, "changes", feature, from, to, &c);

	if (r < 0 || !rule || !rule->file)
		return r;
	return json_object_set_new(c, "rule", location(rule)) < 0 ? -ENOMEM : 0;
}

int report_add_request_change(json_t *rep, const char *ifname, const char *feature, bool from,
			      bool to, const struct ds_location *rule)
{
	json_t *changes, *last;
	int r = report_add_change(rep, ifname, feature, from, to, rule);

	if (r < 0)
		return r;
	changes = json_object_get(iface_entry(rep, ifname), "changes");
	last = json_array_get(changes, json_array_size(changes) - 1);
	return json_object_set_new(last, "state", json_string("requested")) < 0 ? -ENOMEM : 0;
}

static json_t *setting_value(const struct setting_def *def, uint32_t v)
{
	return def->type == ST_BOOL ? json_string(v ? "on" : "off") : json_integer((json_int_t)v);
}

int report_add_setting_change(json_t *rep, const char *ifname, unsigned int param, uint32_t from,
			      uint32_t to, const struct ds_location *rule)
{
	const struct setting_def *def;
	json_t *e = iface_entry(rep, ifname), *c;

	if (param >= SP_MAX)
		return -EINVAL;
	def = &setting_defs[param];
	if (!e)
		return -ENOMEM;
	c = json_pack("{s:s,s:s,s:o,s:o}", "group", setting_group_name(def->group), "setting",
		      def->name, "from", setting_value(def, from), "to", setting_value(def, to));
	if (!c || json_array_append_new(json_object_get(e, "changes"), c) < 0)
		return -ENOMEM;
	if (rule && rule->file && json_object_set_new(c, "rule", location(rule)) < 0)
		return -ENOMEM;
	if (setting_group_resets_link(def->group) &&
	    json_object_set_new(c, "resets_link", json_true()) < 0)
		return -ENOMEM;
	return 0;
}

int report_add_side_effect(json_t *rep, const char *ifname, const char *feature, bool from, bool to)
{
	return add_entry(rep, ifname, "side_effects", feature, from, to, NULL);
}

int report_add_message(json_t *rep, const char *key, const char *msg)
{
	char *safe = name_json_dup(msg);
	int r = safe && json_array_append_new(json_object_get(rep, key), json_string(safe)) == 0
			? 0
			: -ENOMEM;

	free(safe);
	return r;
}

int report_add_messages(json_t *rep, const char *key, const struct strlist *msgs)
{
	for (size_t i = 0; i < msgs->n; i++)
		if (report_add_message(rep, key, msgs->items[i]) < 0)
			return -ENOMEM;
	return 0;
}

void report_set(json_t *rep, const char *key, bool value)
{
	json_object_set_new(rep, key, json_boolean(value));
}

void report_print_json(FILE *f, json_t *rep)
{
	json_dumpf(rep, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	fflush(f);
}

void report_print_text(FILE *f, json_t *rep, const char *verb)
{
	json_t *ifs = json_object_get(rep, "interfaces");
	size_t n_if = 0, n_ch = 0, n_set = 0, idx;
	const char *name;
	json_t *e, *c;

	json_object_foreach(ifs, name, e) {
		json_t *changes = json_object_get(e, "changes");
		json_t *side = json_object_get(e, "side_effects");

		if (!json_array_size(changes) && !json_array_size(side))
			continue;
		n_if++;
		fputs("--- ", f);
		text_write_safe(f, name);
		fputs("\n+++ ", f);
		text_write_safe(f, name);
		fputc('\n', f);
		json_array_foreach(changes, idx, c) {
			json_t *rule = json_object_get(c, "rule");
			const char *req = json_object_get(c, "state") ? "requested " : "";

			if (json_object_get(c, "group")) {
				/* a setting: "-channels rx: 1" / "+channels rx: 2" */
				char *from = json_dumps(json_object_get(c, "from"), JSON_ENCODE_ANY);
				char *to = json_dumps(json_object_get(c, "to"), JSON_ENCODE_ANY);

				n_set++;
				fprintf(f, "-%s %s: %s\n",
					json_string_value(json_object_get(c, "group")),
					json_string_value(json_object_get(c, "setting")),
					from ? from : "?");
				fprintf(f, "+%s %s: %s",
					json_string_value(json_object_get(c, "group")),
					json_string_value(json_object_get(c, "setting")), to ? to : "?");
				if (rule)
					fprintf(f, "\t# %s", json_string_value(rule));
				if (json_is_true(json_object_get(c, "resets_link")))
					fprintf(f, "%s may reset the link", rule ? ";" : "\t#");
				fputc('\n', f);
				free(from);
				free(to);
				continue;
			}
			n_ch++;
			fprintf(f, "-%s: %s%s\n", json_string_value(json_object_get(c, "feature")),
				req, json_string_value(json_object_get(c, "from")));
			fprintf(f, "+%s: %s%s", json_string_value(json_object_get(c, "feature")),
				req, json_string_value(json_object_get(c, "to")));
			if (rule)
				fprintf(f, "\t# %s", json_string_value(rule));
			fputc('\n', f);
		}
		json_array_foreach(side, idx, c) {
			fprintf(f, "-%s: %s\n", json_string_value(json_object_get(c, "feature")),
				json_string_value(json_object_get(c, "from")));
			fprintf(f, "+%s: %s\t# side effect, made by the kernel\n",
				json_string_value(json_object_get(c, "feature")),
				json_string_value(json_object_get(c, "to")));
		}
	}
	if (json_is_true(json_object_get(rep, "rolled_back")))
		fprintf(f, "rolled back: every interface is as it was before this run\n");
	else if (n_ch && !n_set)
		fprintf(f, "%s %zu feature%s on %zu interface%s\n", verb, n_ch,
			n_ch == 1 ? "" : "s", n_if, n_if == 1 ? "" : "s");
	else if (n_ch)
		fprintf(f, "%s %zu feature%s and %zu setting%s on %zu interface%s\n", verb, n_ch,
			n_ch == 1 ? "" : "s", n_set, n_set == 1 ? "" : "s", n_if,
			n_if == 1 ? "" : "s");
	else if (n_set)
		fprintf(f, "%s %zu setting%s on %zu interface%s\n", verb, n_set,
			n_set == 1 ? "" : "s", n_if, n_if == 1 ? "" : "s");
	else if (json_array_size(json_object_get(rep, "errors")) != 0 &&
		 strcmp(verb, "changed") == 0)
		fprintf(f, "nothing changed: the desired state cannot be reached (see the errors "
			   "above)\n");
	else if (json_array_size(json_object_get(rep, "errors")) == 0) {
		size_t n_warn = json_array_size(json_object_get(rep, "warnings"));

		if (n_warn)
			fprintf(f, "in sync: nothing to change, but see the %zu warning%s above\n",
				n_warn, n_warn == 1 ? "" : "s");
		else
			fprintf(f, "in sync: nothing to change\n");
	}
	fflush(f);
}
