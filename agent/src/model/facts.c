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
 * The document is written with the streaming writer (lib/json-writer.c),
 * not through a jansson tree: building and dumping ~85 small objects per
 * interface cost about twice what ethtool takes for the same dump.  The
 * layout is JSON_INDENT(2) with each interface, the kernel, the
 * virtualisation and each advice hit on a line of its own (jw_flat()).
 */

/* "key":"value", or "key":null for "" and for what is not UTF-8; with
 * no_null, nothing at all instead of null (facts/README.md "Formats"). */
static void put_member(struct jw *w, const char *key, const char *value, bool no_null)
{
	if (!value[0] && no_null)
		return;
	jw_key(w, key);
	/* not UTF-8: null, never a broken document */
	jw_string_or_null(w, value);
}

/* true, false or null (-1) */
static void put_tristate(struct jw *w, int v)
{
	if (v < 0)
		jw_null(w);
	else
		jw_bool(w, v);
}

/* "rings":{"rx":511,...,"max":{"rx":4096,...}} for each group read: only
 * the parameters the kernel reported (what ethtool does not print n/a),
 * null for a group the driver lacks (left out with no_null).  The members
 * of an object the caller has begun: the interface's in the facts, the
 * "settings" of show --json. */
void facts_settings_write(struct jw *w, const struct iface *ifc, const struct facts_options *o)
{
	const struct iface_settings *s = &ifc->settings;

	for (int g = 0; g < SG_MAX; g++) {
		unsigned int first, end;

		if (!(s->read & (1u << g)))
			continue;
		/* the compact formats (facter, ansible) keep rings and channels,
		 * the groups with maxima; the rest with --full (facts/README.md) */
		if (o->no_null && !o->with_features && g != SG_RINGS && g != SG_CHANNELS)
			continue;
		if (!(s->supported & (1u << g))) {
			if (!o->no_null) {
				jw_key(w, setting_group_name((enum setting_group)g));
				jw_null(w);
			}
			continue;
		}
		jw_key(w, setting_group_name((enum setting_group)g));
		jw_object_begin(w);
		setting_group_range((enum setting_group)g, &first, &end);
		for (unsigned int p = first; p < end; p++) {
			if (!iface_settings_has(s, p))
				continue;
			jw_key(w, setting_defs[p].name);
			if (setting_defs[p].type == ST_BOOL)
				jw_bool(w, s->value[p]);
			else
				jw_int(w, (long long)s->value[p]);
		}
		if (s->has_max & setting_group_mask((enum setting_group)g)) {
			jw_key(w, "max");
			jw_object_begin(w);
			for (unsigned int p = first; p < end; p++)
				if (s->has_max & setting_bit(p))
					jw_kv_int(w, setting_defs[p].name, (long long)s->max[p]);
			jw_object_end(w);
		}
		jw_object_end(w);
	}
}

static void iface_write(struct jw *w, const struct host_state *hs, const struct offload_map *map,
			const struct iface *ifc, const struct facts_options *o)
{
	/* The eight states of a kernel feature, in the document's key order,
	 * serialised once (a feature map is most of the document). */
	static const char *const states[8] = {
		"{\"active\":false,\"requested\":false,\"fixed\":false}",
		"{\"active\":true,\"requested\":false,\"fixed\":false}",
		"{\"active\":false,\"requested\":true,\"fixed\":false}",
		"{\"active\":true,\"requested\":true,\"fixed\":false}",
		"{\"active\":false,\"requested\":false,\"fixed\":true}",
		"{\"active\":true,\"requested\":false,\"fixed\":true}",
		"{\"active\":false,\"requested\":true,\"fixed\":true}",
		"{\"active\":true,\"requested\":true,\"fixed\":true}",
	};
	struct offload_summary sum[OFFLOAD_MAP_MAX];
	char master_esc[NAME_ESC_MAX]; /* the master's name as its own key is written */
	size_t n;

	jw_flat(w);
	jw_object_begin(w);
	jw_kv_int(w, "ifindex", ifc->ifindex);
	put_member(w, "kind", ifc->kind, o->no_null);
	put_member(w, "driver", ifc->driver, o->no_null);
	put_member(w, "module", ifc->module, o->no_null);
	put_member(w, "mac", ifc->mac, o->no_null);
	jw_key(w, "operstate");
	if (jw_string(w, ifc->operstate) < 0)
		jw_null(w);
	put_member(w, "master", name_json(ifc->master, master_esc, sizeof(master_esc)), o->no_null);
	put_member(w, "master_kind", ifc->master_kind, o->no_null);
	if (ifc->have_link_role || !o->no_null) {
		jw_key(w, "forwarding");
		jw_object_begin(w);
		for (int fam = 0; fam < 2; fam++) {
			int v = ifc->have_link_role ? ifc->forwarding[fam] : -1;

			if (v < 0 && o->no_null)
				continue;
			jw_key(w, fam ? "ipv6" : "ipv4");
			put_tristate(w, v);
		}
		jw_object_end(w);
	}
	put_member(w, "xdp", ifc->xdp ? ifc->xdp : "", o->no_null);
	facts_settings_write(w, ifc, o);
	if (!ifc->have_features) {
		if (!o->no_null) {
			jw_key(w, "offloads");
			jw_null(w);
			if (o->with_features) {
				jw_key(w, "features");
				jw_null(w);
			}
		}
		jw_object_end(w);
		return;
	}
	jw_key(w, "offloads");
	jw_object_begin(w);
	n = offload_summaries_mapped(map, ifc, sum);
	for (size_t i = 0; i < n; i++) {
		jw_key(w, sum[i].long_name);
		jw_object_begin(w);
		jw_kv_bool(w, "active", sum[i].active);
		/* fixed and requested are null for a line of several features */
		if (sum[i].fixed >= 0 || !o->no_null) {
			jw_key(w, "fixed");
			put_tristate(w, sum[i].fixed);
		}
		if (sum[i].requested >= 0 || !o->no_null) {
			jw_key(w, "requested");
			put_tristate(w, sum[i].requested);
		}
		jw_object_end(w);
	}
	jw_object_end(w);
	if (o->with_features) {
		jw_key(w, "features");
		jw_object_begin(w);
		for (unsigned int i = 0; i < hs->names.count; i++) {
			unsigned int k;

			if (!hs->names.names[i][0])
				continue;
			if (jw_key(w, hs->names.names[i]) < 0)
				continue;
			k = (unsigned int)featbits_test(&ifc->active, i) |
			    (unsigned int)featbits_test(&ifc->wanted, i) << 1 |
			    (unsigned int)iface_feature_fixed(ifc, i) << 2;
			jw_raw(w, states[k], strlen(states[k]));
		}
		jw_object_end(w);
	}
	jw_object_end(w);
}

/* "advice": [...], one hit a line: short in the facter and ansible formats
 * (id, interface, summary, settings), everything with the feature maps. */
static int advice_write(struct jw *w, const struct virt_info *vi, const struct host_state *hs,
			const struct facts_options *o)
{
	struct advice_list l;
	int r;

	r = advice_evaluate(hs, vi, &l);
	if (r < 0)
		return r;
	jw_key(w, "advice");
	jw_array_begin(w);
	for (size_t i = 0; i < l.n; i++) {
		if (l.hits[i].iface >= 0 && !facts_iface_selected(o, &hs->ifaces[l.hits[i].iface]))
			continue;
		jw_flat(w);
		/* host-level advice has no "interface": null, or left out */
		advice_hit_write(w, hs, &l.hits[i], o->with_features, o->no_null);
	}
	jw_array_end(w);
	advice_list_free(&l);
	return 0;
}

int facts_write(FILE *f, const struct virt_info *vi, const struct host_state *hs,
		const struct facts_options *o)
{
	struct jw w;
	struct offload_map map;
	int r = 0;

	if (jw_open(&w, f, 2) < 0)
		return -ENOMEM;
	if (o->facter) {
		jw_object_begin(&w);
		jw_key(&w, "offloadctl");
	}
	jw_object_begin(&w);
	jw_kv_int(&w, "schema", 1);
	jw_kv_string(&w, "agent_version", OFFLOADCTL_VERSION);
	jw_key(&w, "kernel");
	jw_flat(&w);
	jw_object_begin(&w);
	if (hs->kernel_release[0] || !o->no_null) {
		jw_key(&w, "release");
		jw_string_or_null(&w, hs->kernel_release);
	}
	jw_object_end(&w);
	jw_key(&w, "virtualization");
	jw_flat(&w);
	virt_write(&w, vi, o->no_null);
	jw_key(&w, "interfaces");
	jw_object_begin(&w);
	offload_map_init(hs, &map);
	for (size_t i = 0; i < hs->n; i++) {
		const struct iface *ifc = &hs->ifaces[i];
		char esc[NAME_ESC_MAX];

		if (!facts_iface_selected(o, ifc))
			continue;
		/* Any bytes the kernel allows (names.h): valid JSON. */
		jw_key(&w, name_json(ifc->name, esc, sizeof(esc)));
		iface_write(&w, hs, &map, ifc, o);
	}
	jw_object_end(&w);
	r = advice_write(&w, vi, hs, o);
	jw_object_end(&w);
	if (o->facter)
		jw_object_end(&w);
	jw_lit(&w, "\n");
	{
		int e = jw_close(&w);

		if (r == 0)
			r = e;
	}
	if (r == 0 && (fflush(f) != 0 || ferror(f)))
		r = -EIO;
	return r;
}
