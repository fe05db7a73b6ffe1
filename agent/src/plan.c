/* plan.c - what to change: a pure function of (actual, desired)
 *
 * Names are expanded the way `ethtool -K` expands them.  A legacy name (tx,
 * scatter-gather, ...) stands for its changeable members: ethtool sends the
 * fixed ones too and the kernel ignores them, so the result is the same.
 * A fixed feature asked by its own kernel name, or a group whose members
 * are all fixed, cannot change: an error or a warning as `defaults` say.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

static bool any_glob(const struct strlist *globs, const char *s, int flags)
{
	for (size_t i = 0; i < globs->n; i++)
		if (fnmatch(globs->items[i], s, flags) == 0)
			return true;
	return false;
}

bool plan_rule_matches(const struct ds_rule *rule, const struct iface *ifc,
		       const struct virt_info *vi)
{
	const struct ds_match *m = &rule->match;

	if (m->name.n && !any_glob(&m->name, ifc->name, 0))
		return false;
	if (m->driver.n && (!ifc->driver[0] || !any_glob(&m->driver, ifc->driver, 0)))
		return false;
	if (m->kind.n && (!ifc->kind[0] || !any_glob(&m->kind, ifc->kind, 0)))
		return false;
	if (m->mac.n && (!ifc->mac[0] || !any_glob(&m->mac, ifc->mac, FNM_CASEFOLD)))
		return false;
	if (m->virtualization.n) {
		bool hit = false;

		for (size_t i = 0; vi && i < m->virtualization.n && !hit; i++)
			hit = virt_matches(vi, m->virtualization.items[i]);
		if (!hit)
			return false;
	}
	return true;
}

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static void loc_prefix(char *buf, size_t len, const struct ds_location *l)
{
	snprintf(buf, len, "%s:%u:%u", l->file ? l->file : "-", l->line, l->column);
}

/* Per interface and feature bit: the value the last matching rule wants. */
struct wish {
	struct featbits set;
	struct featbits value;
	const struct ds_location *rule[FEAT_MAX_BITS];
};

static int plan_iface(const struct host_state *hs, const struct desired_state *ds,
		      const struct virt_info *vi, size_t idx, const struct featbits *expansions,
		      const enum feature_name_kind *kinds, struct plan *p, bool *matched)
{
	const struct iface *ifc = &hs->ifaces[idx];
	struct wish w;
	struct plan_iface pi = { .iface = idx };
	size_t k = 0;
	int r;

	memset(&w, 0, sizeof(w));
	*matched = false;
	for (size_t ri = 0; ri < ds->n_rules; ri++) {
		const struct ds_rule *rule = &ds->rules[ri];

		if (!plan_rule_matches(rule, ifc, vi)) {
			k += rule->n_features;
			continue;
		}
		*matched = true;
		for (size_t fi = 0; fi < rule->n_features; fi++, k++) {
			const struct ds_feature *f = &rule->features[fi];
			const struct featbits *bits = &expansions[k];
			struct featbits use = { 0 };
			bool any_changeable = false, any_wrong = false;

			if (kinds[k] == FEATURE_NAME_UNKNOWN)
				continue;
			for (unsigned int b = 0; b < hs->names.count; b++) {
				if (!featbits_test(bits, b))
					continue;
				if (!iface_feature_fixed(ifc, b)) {
					any_changeable = true;
					featbits_set(&use, b, true);
				} else if (featbits_test(&ifc->active, b) != f->value) {
					any_wrong = true;
				}
			}
			/* A fixed feature the rule asks to change: by its own
			 * name, or a group with nothing changeable in it. */
			if (any_wrong && (kinds[k] == FEATURE_NAME_KERNEL || !any_changeable)) {
				char where[512];

				loc_prefix(where, sizeof(where), &f->loc);
				r = strlist_addf(
					ds->fixed_feature == DS_FIXED_ERROR ? &p->errors
									    : &p->warnings,
					"%s: cannot set '%s' on '%s' to %s: the feature is "
					"fixed %s by the driver",
					where, f->name, ifc->name, f->value ? "on" : "off",
					f->value ? "off" : "on");
				if (r < 0)
					return r;
			}
			for (unsigned int b = 0; b < hs->names.count; b++) {
				if (!featbits_test(&use, b))
					continue;
				featbits_set(&w.set, b, true);
				featbits_set(&w.value, b, f->value);
				w.rule[b] = &rule->loc;
			}
		}
	}

	pi.want_mask = w.set;
	pi.want_values = w.value;
	for (unsigned int b = 0; b < hs->names.count; b++) {
		struct plan_change *c;

		bool want = featbits_test(&w.value, b), req_only = false;

		if (!featbits_test(&w.set, b))
			continue;
		if (featbits_test(&ifc->active, b) == want) {
			/* Active as wanted, but requested otherwise (TSO off
			 * because TX checksums are off, yet requested on): set
			 * the request too, or it comes back when TX does. */
			if (featbits_test(&ifc->wanted, b) == want)
				continue;
			req_only = true;
		}
		c = realloc(pi.changes, (pi.n_changes + 1) * sizeof(*c));
		if (!c) {
			free(pi.changes);
			return -ENOMEM;
		}
		pi.changes = c;
		c[pi.n_changes++] = (struct plan_change){
			.feature = b, .to = want, .requested_only = req_only, .rule = w.rule[b]
		};
		featbits_set(&pi.mask, b, true);
		featbits_set(&pi.values, b, featbits_test(&w.value, b));
	}
	if (!pi.n_changes)
		return 0;
	/* Only interfaces with changes keep the winning rule of each feature
	 * (for apply's messages), sized to the kernel's features. */
	pi.want_rule = calloc(hs->names.count ? hs->names.count : 1, sizeof(*pi.want_rule));
	if (!pi.want_rule) {
		free(pi.changes);
		return -ENOMEM;
	}
	memcpy(pi.want_rule, w.rule, hs->names.count * sizeof(*pi.want_rule));
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct plan_iface *v = realloc(p->ifaces, cap * sizeof(*v));

		if (!v) {
			free(pi.changes);
			free(pi.want_rule);
			return -ENOMEM;
		}
		p->ifaces = v;
		p->cap = cap;
	}
	p->ifaces[p->n++] = pi;
	return 0;
}

int plan_compute(const struct host_state *hs, const struct desired_state *ds,
		 const struct virt_info *vi, struct plan *ret)
{
	struct plan p = { 0 };
	struct featbits *expansions = NULL;
	enum feature_name_kind *kinds = NULL;
	size_t n_feat = 0, k = 0;
	int r = 0;

	for (size_t ri = 0; ri < ds->n_rules; ri++)
		n_feat += ds->rules[ri].n_features;
	expansions = calloc(n_feat ? n_feat : 1, sizeof(*expansions));
	kinds = calloc(n_feat ? n_feat : 1, sizeof(*kinds));
	if (!expansions || !kinds) {
		r = -ENOMEM;
		goto out;
	}

	/* Names first: one this kernel does not know makes the state invalid. */
	for (size_t ri = 0; ri < ds->n_rules; ri++) {
		const struct ds_rule *rule = &ds->rules[ri];

		for (size_t fi = 0; fi < rule->n_features; fi++, k++) {
			const struct ds_feature *f = &rule->features[fi];

			kinds[k] = feature_name_expand(&hs->names, f->name, &expansions[k]);
			if (kinds[k] == FEATURE_NAME_LEGACY && !featbits_any(&expansions[k])) {
				/* ufo on any kernel since 4.16: nothing left to switch. */
				char where[512];

				loc_prefix(where, sizeof(where), &f->loc);
				kinds[k] = FEATURE_NAME_UNKNOWN;
				r = strlist_addf(
					&p.invalid,
					"%s: this kernel has no feature that '%s' stands for",
					where, f->name);
				if (r < 0)
					goto out;
			} else if (kinds[k] == FEATURE_NAME_UNKNOWN) {
				const char *hint = feature_name_suggest(&hs->names, f->name);
				char where[512];

				loc_prefix(where, sizeof(where), &f->loc);
				r = hint ? strlist_addf(
						   &p.invalid,
						   "%s: this kernel has no feature '%s'; did you "
						   "mean '%s'?",
						   where, f->name, hint)
					 : strlist_addf(&p.invalid,
							"%s: this kernel has no feature '%s'",
							where, f->name);
				if (r < 0)
					goto out;
			}
		}
	}

	for (size_t i = 0; i < hs->n; i++) {
		bool matched;

		if (!hs->ifaces[i].have_features)
			continue;
		r = plan_iface(hs, ds, vi, i, expansions, kinds, &p, &matched);
		if (r < 0)
			goto out;
		p.n_matched += matched;
	}

	/* An exact name that matches no interface. */
	if (ds->missing_interface != DS_MISSING_IGNORE) {
		for (size_t ri = 0; ri < ds->n_rules; ri++) {
			const struct ds_rule *rule = &ds->rules[ri];

			for (size_t ni = 0; ni < rule->match.name.n; ni++) {
				const char *name = rule->match.name.items[ni];
				char where[512];

				if (has_glob(name) ||
				    host_state_find((struct host_state *)hs, name))
					continue;
				loc_prefix(where, sizeof(where), &rule->loc);
				r = strlist_addf(ds->missing_interface == DS_MISSING_ERROR
							 ? &p.errors
							 : &p.warnings,
						 "%s: no interface named '%s'", where, name);
				if (r < 0)
					goto out;
			}
		}
	}
out:
	free(expansions);
	free(kinds);
	if (r < 0) {
		plan_free(&p);
		return r;
	}
	*ret = p;
	return 0;
}

void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->ifaces[i].changes);
		free(p->ifaces[i].want_rule);
	}
	free(p->ifaces);
	strlist_free(&p->warnings);
	strlist_free(&p->errors);
	strlist_free(&p->invalid);
	memset(p, 0, sizeof(*p));
}
