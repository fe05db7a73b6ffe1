/* facts.c - the facts document, written one interface at a time */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "lib/escape.h"
#include "lib/json-writer.h"
#include "model/advice.h"
#include "model/facts.h"
#include "version.h"

void offload_map_init(const struct host_state *hs, struct offload_map *ret)
{
	struct offload_map m = { 0 };

	for (size_t d = 0; d < n_offload_defs && m.n < OFFLOAD_MAP_MAX; d++) {
		struct offload_line *l = &m.line[m.n];

		/* ethtool: no kernel with the netlink interface supports UFO. */
		if (strcmp(offload_defs[d].short_name, "ufo") == 0)
			continue;
		l->long_name = offload_defs[d].long_name;
		l->feature = -1;
		for (unsigned int i = 0; i < hs->names.count; i++) {
			const char *name = hs->names.names[i];

			if (!name[0] ||
			    !feature_pattern_match(name, offload_defs[d].kernel_pattern))
				continue;
			/* ethtool maps a feature to the first definition it matches. */
			bool earlier = false;

			for (size_t e = 0; e < d && !earlier; e++)
				earlier =
					feature_pattern_match(name, offload_defs[e].kernel_pattern);
			if (earlier)
				continue;
			l->n_members++;
			l->feature = (int)i;
			featbits_set(&l->members, i, true);
		}
		if (l->n_members != 1)
			l->feature = -1;
		m.n++;
	}
	*ret = m;
}

size_t offload_summaries_mapped(const struct offload_map *m, const struct iface *ifc,
				struct offload_summary *out)
{
	for (size_t d = 0; d < m->n; d++) {
		const struct offload_line *l = &m->line[d];
		struct offload_summary *s = &out[d];

		s->long_name = l->long_name;
		s->active = false;
		for (unsigned int w = 0; w < FEAT_WORDS && !s->active; w++)
			s->active = (ifc->active.w[w] & l->members.w[w]) != 0;
		s->feature = l->feature;
		if (l->feature >= 0) {
			unsigned int i = (unsigned int)l->feature;

			s->fixed = iface_feature_fixed(ifc, i);
			s->requested = featbits_test(&ifc->wanted, i);
		} else {
			s->fixed = -1;
			s->requested = -1;
		}
	}
	return m->n;
}

bool facts_iface_selected(const struct facts_options *o, const struct iface *ifc)
{
	if (o->n_filters == 0)
		return true;
	for (int i = 0; i < o->n_filters; i++)
		if (fnmatch(o->filters[i], ifc->name, 0) == 0)
			return true;
	return false;
}

/*
 * The interfaces are written with the streaming writer (lib/json-writer.c),
 * not through a jansson tree: building and dumping ~85 small objects per
 * interface cost about twice what ethtool takes for the same dump.  The
 * output is byte for byte what json_dumpf(JSON_COMPACT |
 * JSON_PRESERVE_ORDER) printed.
 */

/* ,"key":"value", or ,"key":null for "" and for what is not UTF-8; with
 * no_null, nothing at all instead of null (facts/README.md "Formats"). */
static int put_member(struct jw *b, const char *key, const char *value, bool no_null)
{
	int r;

	if (!value[0] && no_null)
		return 0;
	jw_lit(b, ",\"");
	jw_str(b, key);
	jw_lit(b, "\":");
	r = value[0] ? jw_string(b, value) : -EINVAL;
	if (r == -EINVAL) {
		/* not UTF-8: null, never a broken document */
		jw_lit(b, "null");
		r = 0;
	}
	return r;
}

static const char *const tristates[] = { "null", "false", "true" };

/* ,"rings":{"rx":511,...,"max":{"rx":4096,...}} for each group read: only
 * the parameters the kernel reported (what ethtool does not print n/a),
 * null for a group the driver lacks (left out with no_null). */

/* "NAME": in an object, after a comma unless it is the object's first key. */
static void put_key(struct jw *b, bool *first, const char *name)
{
	if (*first)
		jw_lit(b, "\"");
	else
		jw_lit(b, ",\"");
	*first = false;
	jw_str(b, name);
	jw_lit(b, "\":");
}

static void settings_write(struct jw *b, const struct iface *ifc, const struct facts_options *o)
{
	const struct iface_settings *s = &ifc->settings;

	for (int g = 0; g < SG_MAX; g++) {
		unsigned int first, end;
		bool first_key = true;

		if (!(s->read & (1u << g)))
			continue;
		/* the compact formats (facter, ansible) keep rings and channels,
		 * the groups with maxima; the rest with --full (facts/README.md) */
		if (o->no_null && !o->with_features && g != SG_RINGS && g != SG_CHANNELS)
			continue;
		if (!(s->supported & (1u << g))) {
			if (!o->no_null) {
				jw_lit(b, ",\"");
				jw_str(b, setting_group_name((enum setting_group)g));
				jw_lit(b, "\":null");
			}
			continue;
		}
		jw_lit(b, ",\"");
		jw_str(b, setting_group_name((enum setting_group)g));
		jw_lit(b, "\":{");
		setting_group_range((enum setting_group)g, &first, &end);
		for (unsigned int p = first; p < end; p++) {
			if (!iface_settings_has(s, p))
				continue;
			put_key(b, &first_key, setting_defs[p].name);
			if (setting_defs[p].type == ST_BOOL)
				jw_str(b, s->value[p] ? "true" : "false");
			else
				jw_int(b, (long long)s->value[p]);
		}
		if (s->has_max & setting_group_mask((enum setting_group)g)) {
			bool first_max = true;

			if (first_key)
				jw_lit(b, "\"max\":{");
			else
				jw_lit(b, ",\"max\":{");
			for (unsigned int p = first; p < end; p++) {
				if (!(s->has_max & setting_bit(p)))
					continue;
				put_key(b, &first_max, setting_defs[p].name);
				jw_int(b, (long long)s->max[p]);
			}
			jw_lit(b, "}");
		}
		jw_lit(b, "}");
	}
}

json_t *facts_settings_json(const struct iface *ifc)
{
	const struct iface_settings *s = &ifc->settings;
	json_t *all = json_object();

	for (int g = 0; all && g < SG_MAX; g++) {
		json_t *grp = NULL, *max = NULL;
		unsigned int first, end;

		if (!(s->read & (1u << g)))
			continue;
		if (s->supported & (1u << g)) {
			grp = json_object();
			setting_group_range((enum setting_group)g, &first, &end);
			for (unsigned int p = first; grp && p < end; p++) {
				if (!iface_settings_has(s, p))
					continue;
				json_object_set_new(
					grp, setting_defs[p].name,
					setting_defs[p].type == ST_BOOL
						? json_boolean(s->value[p])
						: json_integer((json_int_t)s->value[p]));
				if (!(s->has_max & setting_bit(p)))
					continue;
				if (!max) {
					max = json_object();
					json_object_set_new(grp, "max", max);
				}
				json_object_set_new(max, setting_defs[p].name,
						    json_integer((json_int_t)s->max[p]));
			}
		}
		if (json_object_set_new(all, setting_group_name((enum setting_group)g),
					grp ? grp : json_null()) < 0) {
			json_decref(all);
			return NULL;
		}
	}
	return all;
}

static int iface_write(struct jw *b, const struct host_state *hs, const struct offload_map *map,
		       const struct iface *ifc, const struct facts_options *o)
{
	/* The eight states of a kernel feature, in the document's key order. */
	static const char *const states[8] = {
		":{\"active\":false,\"requested\":false,\"fixed\":false}",
		":{\"active\":true,\"requested\":false,\"fixed\":false}",
		":{\"active\":false,\"requested\":true,\"fixed\":false}",
		":{\"active\":true,\"requested\":true,\"fixed\":false}",
		":{\"active\":false,\"requested\":false,\"fixed\":true}",
		":{\"active\":true,\"requested\":false,\"fixed\":true}",
		":{\"active\":false,\"requested\":true,\"fixed\":true}",
		":{\"active\":true,\"requested\":true,\"fixed\":true}",
	};
	struct offload_summary sum[OFFLOAD_MAP_MAX];
	char master_esc[NAME_ESC_MAX]; /* the master's name as its own key is written */
	size_t n;
	int r;

	jw_lit(b, "{\"ifindex\":");
	jw_int(b, ifc->ifindex);
	r = put_member(b, "kind", ifc->kind, o->no_null);
	if (r == 0)
		r = put_member(b, "driver", ifc->driver, o->no_null);
	if (r == 0)
		r = put_member(b, "module", ifc->module, o->no_null);
	if (r == 0)
		r = put_member(b, "mac", ifc->mac, o->no_null);
	jw_lit(b, ",\"operstate\":");
	if (r == 0)
		r = jw_string(b, ifc->operstate);
	if (r == 0)
		r = put_member(b, "master", name_json(ifc->master, master_esc, sizeof(master_esc)),
			       o->no_null);
	if (r == 0)
		r = put_member(b, "master_kind", ifc->master_kind, o->no_null);
	if (ifc->have_link_role || !o->no_null) {
		bool first = true;

		jw_lit(b, ",\"forwarding\":{");
		for (int fam = 0; fam < 2; fam++) {
			int v = ifc->have_link_role ? ifc->forwarding[fam] : -1;

			if (v < 0 && o->no_null)
				continue;
			if (!first)
				jw_lit(b, ",");
			first = false;
			jw_str(b, fam ? "\"ipv6\":" : "\"ipv4\":");
			jw_str(b, tristates[v + 1]);
		}
		jw_lit(b, "}");
	}
	if (r == 0)
		r = put_member(b, "xdp", ifc->xdp ? ifc->xdp : "", o->no_null);
	if (r < 0)
		return r;
	settings_write(b, ifc, o);
	if (!ifc->have_features) {
		if (o->no_null)
			jw_lit(b, "}");
		else if (o->with_features)
			jw_lit(b, ",\"offloads\":null,\"features\":null}");
		else
			jw_lit(b, ",\"offloads\":null}");
		return 0;
	}
	jw_lit(b, ",\"offloads\":{");
	n = offload_summaries_mapped(map, ifc, sum);
	for (size_t i = 0; i < n && r == 0; i++) {
		if (i)
			jw_lit(b, ",");
		r = jw_string(b, sum[i].long_name);
		jw_str(b, sum[i].active ? ":{\"active\":true" : ":{\"active\":false");
		/* fixed and requested are null for a line of several features */
		if (sum[i].fixed >= 0 || !o->no_null) {
			jw_lit(b, ",\"fixed\":");
			jw_str(b, tristates[sum[i].fixed + 1]);
		}
		if (sum[i].requested >= 0 || !o->no_null) {
			jw_lit(b, ",\"requested\":");
			jw_str(b, tristates[sum[i].requested + 1]);
		}
		jw_lit(b, "}");
	}
	jw_lit(b, "}");
	if (o->with_features) {
		bool first = true;

		jw_lit(b, ",\"features\":{");
		for (unsigned int i = 0; i < hs->names.count && r == 0; i++) {
			unsigned int k;

			if (!hs->names.names[i][0])
				continue;
			if (!first)
				jw_lit(b, ",");
			first = false;
			r = jw_string(b, hs->names.names[i]);
			k = (unsigned int)featbits_test(&ifc->active, i) |
			    (unsigned int)featbits_test(&ifc->wanted, i) << 1 |
			    (unsigned int)iface_feature_fixed(ifc, i) << 2;
			jw_str(b, states[k]);
		}
		jw_lit(b, "}");
	}
	jw_lit(b, "}");
	return r;
}

/* Remove every member whose value is null, at any depth. */
static void json_strip_nulls(json_t *j)
{
	const char *key;
	json_t *v;
	void *tmp;
	size_t i;

	if (json_is_object(j)) {
		json_object_foreach_safe(j, tmp, key, v)
		{
			if (json_is_null(v))
				json_object_del(j, key);
			else
				json_strip_nulls(v);
		}
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
			json_strip_nulls(v);
	}
}

static int dump_inline(FILE *f, json_t *j)
{
	return json_dumpf(j, f, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) < 0 ? -EIO
											  : 0;
}

/* "advice": [...], one hit a line: short in the facter and ansible formats
 * (id, interface, summary, settings), everything with the feature maps. */
static int advice_write(FILE *f, const char *ind, const struct virt_info *vi,
			const struct host_state *hs, const struct facts_options *o)
{
	struct advice_list l;
	bool first = true;
	int r;

	r = advice_evaluate(hs, vi, &l);
	if (r < 0)
		return r;
	fprintf(f, "%s\"advice\": [", ind);
	for (size_t i = 0; i < l.n && r == 0; i++) {
		json_t *j;

		if (l.hits[i].iface >= 0 && !facts_iface_selected(o, &hs->ifaces[l.hits[i].iface]))
			continue;
		j = advice_hit_to_json(hs, &l.hits[i], o->with_features);
		if (!j) {
			r = -ENOMEM;
			break;
		}
		if (o->no_null)
			json_strip_nulls(j); /* host-level advice: no "interface" */
		fprintf(f, "%s\n  %s", first ? "" : ",", ind);
		first = false;
		r = dump_inline(f, j);
		json_decref(j);
	}
	fprintf(f, "%s%s]\n", first ? "" : "\n", first ? "" : ind);
	advice_list_free(&l);
	return r;
}

int facts_write(FILE *f, const struct virt_info *vi, const struct host_state *hs,
		const struct facts_options *o)
{
	const char *ind = o->facter ? "    " : "  ";
	struct jw b;
	struct offload_map map;
	bool first = true;
	json_t *v;
	int r = 0;

	if (o->facter)
		fputs("{\n  \"offloadctl\": {\n", f);
	else
		fputs("{\n", f);
	fprintf(f, "%s\"schema\": 1,\n%s\"agent_version\": \"%s\",\n%s\"kernel\": ", ind, ind,
		OFFLOADCTL_VERSION, ind);
	v = json_pack("{s:s?}", "release", hs->kernel_release[0] ? hs->kernel_release : NULL);
	if (!v)
		return -ENOMEM;
	if (o->no_null)
		json_strip_nulls(v);
	r = dump_inline(f, v);
	json_decref(v);
	fprintf(f, ",\n%s\"virtualization\": ", ind);
	v = virt_to_json(vi);
	if (!v)
		return -ENOMEM;
	if (o->no_null)
		json_strip_nulls(v);
	r = dump_inline(f, v);
	json_decref(v);
	fprintf(f, ",\n%s\"interfaces\": {", ind);
	if (jw_open(&b, f) < 0)
		return -ENOMEM;
	offload_map_init(hs, &map);
	for (size_t i = 0; i < hs->n && r == 0; i++) {
		const struct iface *ifc = &hs->ifaces[i];

		if (!facts_iface_selected(o, ifc))
			continue;
		if (!first)
			jw_lit(&b, ",");
		jw_lit(&b, "\n  ");
		jw_put(&b, ind, strlen(ind));
		first = false;
		{
			char esc[NAME_ESC_MAX];

			/* Any bytes the kernel allows (names.h): valid JSON. */
			r = jw_string(&b, name_json(ifc->name, esc, sizeof(esc)));
		}
		jw_lit(&b, ": ");
		if (r == 0)
			r = iface_write(&b, hs, &map, ifc, o);
	}
	jw_close(&b);
	fprintf(f, "%s%s},\n", first ? "" : "\n", first ? "" : ind);
	if (r == 0)
		r = advice_write(f, ind, vi, hs, o);
	fputs(o->facter ? "  }\n}\n" : "}\n", f);
	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	return r;
}
