/* advice.c - which known-bad offload combinations this host has */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "lib/escape.h"
#include "model/advice.h"

const struct advice_entry *advice_find(const char *id)
{
	for (size_t i = 0; i < advice_table_len; i++)
		if (strcmp(advice_table[i].id, id) == 0)
			return &advice_table[i];
	return NULL;
}

int kernel_version_cmp(const char *release, const char *version)
{
	const char *a = release, *b = version;

	for (int part = 0; part < 3; part++) {
		long x = 0, y = 0;
		char *end;

		if (*a >= '0' && *a <= '9') {
			x = strtol(a, &end, 10);
			a = *end == '.' ? end + 1 : "";
		}
		if (*b >= '0' && *b <= '9') {
			y = strtol(b, &end, 10);
			b = *end == '.' ? end + 1 : "";
		}
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

bool advice_iface_forwards(const struct iface *ifc)
{
	return iface_forwarding(ifc) || strcmp(ifc->master_kind, "bridge") == 0 ||
	       strcmp(ifc->master_kind, "openvswitch") == 0;
}

/* A NULL list is no condition; "" (unknown, null) matches no glob. */
static bool globs_match(const char *const *globs, const char *s)
{
	if (!globs)
		return true;
	if (!s || !s[0])
		return false;
	for (; *globs; globs++)
		if (fnmatch(*globs, s, 0) == 0)
			return true;
	return false;
}

static bool cond_holds(enum advice_cond c, bool v)
{
	return c == ADVICE_ANY || (c == ADVICE_YES) == v;
}

enum feature_test {
	FEATURE_ACTIVE,
	FEATURE_FIXED_ACTIVE,
	FEATURE_CHANGEABLE_OFF,
};

/* Any kernel feature matching one of globs is in the state asked for. */
static bool features_hold(const struct host_state *hs, const struct iface *ifc,
			  const char *const *globs, enum feature_test t)
{
	if (!globs)
		return true;
	if (!ifc->have_features)
		return false;
	for (unsigned int i = 0; i < hs->names.count; i++) {
		const char *name = hs->names.names[i];
		bool on = featbits_test(&ifc->active, i), fixed = iface_feature_fixed(ifc, i);

		if (!name[0] || !globs_match(globs, name))
			continue;
		if ((t == FEATURE_ACTIVE && on) || (t == FEATURE_FIXED_ACTIVE && on && fixed) ||
		    (t == FEATURE_CHANGEABLE_OFF && !on && !fixed))
			return true;
	}
	return false;
}

/* Every recommended setting already holds where it can change: the advice
 * was followed (members the driver fixes are another entry's business). */
static bool settings_hold(const struct host_state *hs, const struct iface *ifc,
			  const struct advice_entry *e)
{
	for (size_t s = 0; s < e->n_settings; s++) {
		struct featbits bits;

		if (feature_name_expand(&hs->names, e->settings[s].name, &bits) ==
		    FEATURE_NAME_UNKNOWN)
			continue; /* this kernel does not have it: nothing to do */
		for (unsigned int i = 0; i < hs->names.count; i++)
			if (featbits_test(&bits, i) && !iface_feature_fixed(ifc, i) &&
			    featbits_test(&ifc->active, i) != e->settings[s].on)
				return false;
	}
	return true;
}

/* Some recommended setting names a feature this device can change. */
static bool settings_reachable(const struct host_state *hs, const struct iface *ifc,
			       const struct advice_entry *e)
{
	if (!ifc->have_features)
		return false;
	for (size_t s = 0; s < e->n_settings; s++) {
		struct featbits bits;

		if (feature_name_expand(&hs->names, e->settings[s].name, &bits) ==
		    FEATURE_NAME_UNKNOWN)
			continue;
		for (unsigned int i = 0; i < hs->names.count; i++)
			if (featbits_test(&bits, i) && !iface_feature_fixed(ifc, i))
				return true;
	}
	return false;
}

static bool host_holds(const struct host_state *hs, const struct virt_info *vi,
		       const struct advice_entry *e)
{
	if (e->virtualization) {
		bool hit = false;

		for (const char *const *w = e->virtualization; vi && *w && !hit; w++)
			hit = virt_matches(vi, *w);
		if (!hit)
			return false;
	}
	if ((e->kernel_min || e->kernel_max) && !hs->kernel_release[0])
		return false; /* unknown kernel: no claim about it */
	if (e->kernel_min && kernel_version_cmp(hs->kernel_release, e->kernel_min) < 0)
		return false;
	if (e->kernel_max && kernel_version_cmp(hs->kernel_release, e->kernel_max) >= 0)
		return false;
	return true;
}

/* Who the device is and what it does: everything but the feature states. */
static bool iface_applies(const struct host_state *hs, const struct iface *ifc,
			  const struct advice_entry *e)
{
	const char *master_driver = NULL;

	if (e->master_driver) {
		const struct iface *m =
			ifc->master[0] ? host_state_find((struct host_state *)hs, ifc->master)
				       : NULL;

		master_driver = m ? m->driver : NULL;
	}
	if (!(globs_match(e->name, ifc->name) && globs_match(e->driver, ifc->driver) &&
	      globs_match(e->module, ifc->module) && globs_match(e->kind, ifc->kind) &&
	      globs_match(e->master_kind, ifc->master_kind) &&
	      globs_match(e->master_driver, master_driver) &&
	      cond_holds(e->forwarding, iface_forwarding(ifc)) &&
	      cond_holds(e->forwards, advice_iface_forwards(ifc)) &&
	      cond_holds(e->xdp, ifc->xdp != NULL) &&
	      features_hold(hs, ifc, e->fixed_active, FEATURE_FIXED_ACTIVE)))
		return false;
	/* Advice to set what this device cannot change is no advice. */
	return !e->n_settings || settings_reachable(hs, ifc, e);
}

/* Something is left to do: the feature states it is about hold and its
 * settings do not. */
static bool iface_pending(const struct host_state *hs, const struct iface *ifc,
			  const struct advice_entry *e)
{
	return features_hold(hs, ifc, e->active, FEATURE_ACTIVE) &&
	       features_hold(hs, ifc, e->changeable_off, FEATURE_CHANGEABLE_OFF) &&
	       !(e->n_settings && settings_hold(hs, ifc, e));
}

static int add_hit(struct advice_list *l, const struct advice_entry *e, int iface, bool pending)
{
	if (l->n % 16 == 0) {
		struct advice_hit *v = realloc(l->hits, (l->n + 16) * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->hits = v;
	}
	l->hits[l->n++] = (struct advice_hit){ e, iface, pending };
	l->n_pending += pending;
	return 0;
}

int advice_evaluate(const struct host_state *hs, const struct virt_info *vi,
		    struct advice_list *ret)
{
	struct advice_list l = { 0 };
	int r = 0;

	for (size_t k = 0; k < advice_table_len && r == 0; k++) {
		const struct advice_entry *e = &advice_table[k];

		if (!host_holds(hs, vi, e))
			continue;
		if (e->host) {
			r = add_hit(&l, e, -1, true);
			continue;
		}
		for (size_t i = 0; i < hs->n && r == 0; i++)
			if (iface_applies(hs, &hs->ifaces[i], e))
				r = add_hit(&l, e, (int)i, iface_pending(hs, &hs->ifaces[i], e));
	}
	if (r < 0) {
		advice_list_free(&l);
		return r;
	}
	*ret = l;
	return 0;
}

void advice_list_free(struct advice_list *l)
{
	free(l->hits);
	memset(l, 0, sizeof(*l));
}

void advice_hit_write(struct jw *w, const struct host_state *hs, const struct advice_hit *h,
		      bool full, bool no_null)
{
	const struct advice_entry *e = h->entry;

	jw_object_begin(w);
	jw_kv_string(w, "id", e->id);
	if (h->iface >= 0) {
		char esc[NAME_ESC_MAX];

		jw_kv_string(w, "interface",
			     name_json(hs->ifaces[h->iface].name, esc, sizeof(esc)));
	} else if (!no_null) {
		jw_key(w, "interface");
		jw_null(w);
	}
	jw_kv_bool(w, "pending", h->pending);
	jw_kv_string(w, "confidence", e->confidence);
	jw_kv_string(w, "summary", e->summary);
	jw_key(w, "settings");
	jw_object_begin(w);
	for (size_t s = 0; s < e->n_settings; s++)
		jw_kv_string(w, e->settings[s].name, e->settings[s].on ? "on" : "off");
	jw_object_end(w);
	if (full) {
		jw_kv_string(w, "title", e->title);
		if (e->symptom || !no_null) {
			jw_key(w, "symptom");
			jw_string_or_null(w, e->symptom);
		}
		jw_kv_string(w, "risk", e->risk);
		if (e->elsewhere || !no_null) {
			jw_key(w, "elsewhere");
			jw_string_or_null(w, e->elsewhere);
		}
		jw_key(w, "sources");
		jw_array_begin(w);
		for (size_t s = 0; s < e->n_sources; s++) {
			jw_object_begin(w);
			jw_kv_string(w, "url", e->sources[s].url);
			jw_kv_string(w, "what", e->sources[s].what);
			jw_object_end(w);
		}
		jw_array_end(w);
	}
	jw_object_end(w);
}
