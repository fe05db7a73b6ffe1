/* facts.c - the facts document, written one interface at a time */
#include <errno.h>
#include <fnmatch.h>
#include <string.h>

#include "facts.h"

size_t offload_summaries(const struct host_state *hs, const struct iface *ifc,
			 struct offload_summary *out)
{
	size_t n = 0;

	for (size_t d = 0; d < n_offload_defs; d++) {
		struct offload_summary *s = &out[n];
		unsigned int matches = 0;

		/* ethtool: no kernel with the netlink interface supports UFO. */
		if (strcmp(offload_defs[d].short_name, "ufo") == 0)
			continue;
		s->long_name = offload_defs[d].long_name;
		s->active = false;
		s->feature = -1;
		for (unsigned int i = 0; i < hs->names.count; i++) {
			const char *name = hs->names.names[i];

			if (!name[0] || !feature_pattern_match(name, offload_defs[d].kernel_pattern))
				continue;
			/* ethtool maps a feature to the first definition it matches. */
			bool earlier = false;

			for (size_t e = 0; e < d && !earlier; e++)
				earlier = feature_pattern_match(name, offload_defs[e].kernel_pattern);
			if (earlier)
				continue;
			matches++;
			s->feature = (int)i;
			s->active = s->active || featbits_test(&ifc->active, i);
		}
		if (matches == 1) {
			unsigned int i = (unsigned int)s->feature;

			s->fixed = iface_feature_fixed(ifc, i);
			s->requested = featbits_test(&ifc->wanted, i);
		} else {
			s->fixed = -1;
			s->requested = -1;
			s->feature = -1;
		}
		n++;
	}
	return n;
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

static json_t *tristate(int v)
{
	return v < 0 ? json_null() : json_boolean(v);
}

/* The few distinct feature states, shared by every interface. */
struct state_cache {
	json_t *obj[8];
};

static json_t *feature_state(struct state_cache *c, bool active, bool requested, bool fixed)
{
	unsigned int k = (unsigned int)active | (unsigned int)requested << 1 |
			 (unsigned int)fixed << 2;

	if (!c->obj[k])
		c->obj[k] = json_pack("{s:b,s:b,s:b}", "active", active, "requested", requested,
				      "fixed", fixed);
	return c->obj[k];
}

static json_t *iface_json(const struct host_state *hs, const struct iface *ifc,
			  const struct facts_options *o, struct state_cache *cache)
{
	struct offload_summary sum[16];
	json_t *j, *offloads, *features;
	size_t n;

	j = json_object();
	if (!j)
		return NULL;
	json_object_set_new(j, "ifindex", json_integer(ifc->ifindex));
	json_object_set_new(j, "kind", ifc->kind[0] ? json_string(ifc->kind) : json_null());
	json_object_set_new(j, "driver", ifc->driver[0] ? json_string(ifc->driver) : json_null());
	json_object_set_new(j, "mac", ifc->mac[0] ? json_string(ifc->mac) : json_null());
	json_object_set_new(j, "operstate", json_string(ifc->operstate));
	if (!ifc->have_features) {
		json_object_set_new(j, "offloads", json_null());
		if (o->with_features)
			json_object_set_new(j, "features", json_null());
		return j;
	}
	offloads = json_object();
	n = offload_summaries(hs, ifc, sum);
	for (size_t i = 0; i < n; i++)
		json_object_set_new(offloads, sum[i].long_name,
				    json_pack("{s:b,s:o,s:o}", "active", sum[i].active, "fixed",
					      tristate(sum[i].fixed), "requested",
					      tristate(sum[i].requested)));
	json_object_set_new(j, "offloads", offloads);
	if (o->with_features) {
		features = json_object();
		for (unsigned int i = 0; i < hs->names.count; i++) {
			if (!hs->names.names[i][0])
				continue;
			json_object_set(features, hs->names.names[i],
					feature_state(cache, featbits_test(&ifc->active, i),
						      featbits_test(&ifc->wanted, i),
						      iface_feature_fixed(ifc, i)));
		}
		json_object_set_new(j, "features", features);
	}
	return j;
}

static int dump_inline(FILE *f, json_t *j)
{
	return json_dumpf(j, f, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) < 0 ? -EIO : 0;
}

int facts_write(FILE *f, const struct virt_info *vi, const struct host_state *hs,
		const struct facts_options *o)
{
	struct state_cache cache = { 0 };
	const char *ind = o->facter ? "    " : "  ";
	bool first = true;
	json_t *v;
	int r = 0;

	if (o->facter)
		fputs("{\n  \"offloadctl\": {\n", f);
	else
		fputs("{\n", f);
	fprintf(f, "%s\"schema\": 1,\n%s\"agent_version\": \"%s\",\n%s\"virtualization\": ", ind,
		ind, OFFLOADCTL_VERSION, ind);
	v = virt_to_json(vi);
	if (!v)
		return -ENOMEM;
	r = dump_inline(f, v);
	json_decref(v);
	fprintf(f, ",\n%s\"interfaces\": {", ind);
	for (size_t i = 0; i < hs->n && r == 0; i++) {
		const struct iface *ifc = &hs->ifaces[i];
		json_t *key, *j;

		if (!facts_iface_selected(o, ifc))
			continue;
		j = iface_json(hs, ifc, o, &cache);
		key = json_string(ifc->name);
		if (!j || !key) {
			json_decref(j);
			json_decref(key);
			r = -ENOMEM;
			break;
		}
		fprintf(f, "%s\n%s  ", first ? "" : ",", ind);
		first = false;
		r = dump_inline(f, key);
		fputs(": ", f);
		if (r == 0)
			r = dump_inline(f, j);
		json_decref(key);
		json_decref(j);
	}
	fprintf(f, "%s%s}\n", first ? "" : "\n", first ? "" : ind);
	fputs(o->facter ? "  }\n}\n" : "}\n", f);
	for (unsigned int k = 0; k < 8; k++)
		json_decref(cache.obj[k]);
	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	return r;
}
