/* plan.c - what to change: a pure function of (actual, desired)
 *
 * Names are expanded the way `ethtool -K` expands them.  A legacy name (tx,
 * scatter-gather, ...) stands for its changeable members: ethtool sends the
 * fixed ones too and the kernel ignores them, so the result is the same.
 * A fixed feature asked by its own kernel name, or a group whose members
 * are all fixed, cannot change: an error or a warning as `defaults` say
 * (fixed-feature).  A group switched off with some members fixed on is set
 * where it can be, and the members that stay on are listed (fixed-member):
 * never a silent partial change.  Rules for this host that
 * match no interface are listed too (unmatched-rule).  LRO asked on for a
 * device that forwards or is a bridge port is what the kernel switches off
 * itself: an error naming that reason (fixed-feature), never a change that
 * watch would repeat.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/advice.h"
#include "model/plan.h"

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
	if (m->module.n && (!ifc->module[0] || !any_glob(&m->module, ifc->module, 0)))
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

/* Per interface and feature bit: the value the last matching rule wants. */
struct wish {
	struct featbits set;
	struct featbits value;
	/* the feature setting that decides each bit: its own file:line:column */
	const struct ds_location *setting[FEAT_MAX_BITS];
};

/* A warning or an error, as the policy says; an error records the interface
 * it is about (PLAN_NO_IFACE for none).  Returns 0 or -ENOMEM. */
static int add_problem(struct plan *p, enum ds_policy policy, size_t iface, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int add_problem(struct plan *p, enum ds_policy policy, size_t iface, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;
	int r;

	if (policy == DS_POLICY_IGNORE)
		return 0;
	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	if (policy == DS_POLICY_WARN) {
		r = strlist_add(&p->warnings, msg);
	} else {
		size_t *v = realloc(p->error_iface, (p->errors.n + 1) * sizeof(*v));

		r = v ? strlist_add(&p->errors, msg) : -ENOMEM;
		if (v) {
			p->error_iface = v;
			v[p->errors.n - (r == 0)] = iface;
		}
	}
	free(msg);
	return r;
}

/* The fixed members of group f (its bits in fixed_wrong) on ifc: listed
 * in the plan and said once, in one message naming each member. */
static int note_fixed_members(const struct host_state *hs, const struct desired_state *ds,
			      size_t idx, const struct ds_feature *f,
			      const struct featbits *fixed_wrong, struct plan *p)
{
	const struct iface *ifc = &hs->ifaces[idx];
	char where[DS_LOCATION_MAX], *members = NULL;
	size_t len = 0;
	FILE *m;
	int r = 0;

	m = open_memstream(&members, &len);
	if (!m)
		return -ENOMEM;
	for (unsigned int b = 0; b < hs->names.count; b++) {
		struct plan_unreachable *u;

		if (!featbits_test(fixed_wrong, b))
			continue;
		fprintf(m, "%s'%s'", ftell(m) ? ", " : "", hs->names.names[b]);
		if (p->n_unreachable % 16 == 0) {
			u = realloc(p->unreachable, (p->n_unreachable + 16) * sizeof(*u));
			if (!u) {
				r = -ENOMEM;
				break;
			}
			p->unreachable = u;
		}
		p->unreachable[p->n_unreachable++] = (struct plan_unreachable){
			.iface = idx, .feature = b, .wanted = f->value, .via = f
		};
	}
	if (fclose(m) != 0 || !members)
		r = -ENOMEM;
	if (r == 0) {
		ds_location_format(&f->loc, where, sizeof(where));
		r = add_problem(p, ds->fixed_member, idx,
				"%s: '%s: %s' on '%s': %s stays %s, fixed by the driver; "
				"the other members are set",
				where, f->name, f->value ? "on" : "off", ifc->name, members,
				f->value ? "off" : "on");
	}
	free(members);
	return r;
}

/* 'lro: on' for a device that forwards: the kernel's reason, said once. */
static int note_lro_forwarding(const struct desired_state *ds, size_t idx, const struct iface *ifc,
			       const struct ds_feature *f, struct plan *p)
{
	char where[DS_LOCATION_MAX], why[128];

	ds_location_format(&f->loc, where, sizeof(where));
	if (strcmp(ifc->master_kind, "bridge") == 0 || strcmp(ifc->master_kind, "openvswitch") == 0)
		snprintf(why, sizeof(why), "it is a port of %s '%s'",
			 strcmp(ifc->master_kind, "bridge") == 0 ? "bridge" : "Open vSwitch",
			 ifc->master);
	else
		snprintf(why, sizeof(why), "it forwards (net.%s.conf.%s.forwarding=1)",
			 ifc->forwarding[0] == 1 ? "ipv4" : "ipv6", ifc->name);
	return add_problem(p, ds->fixed_feature, idx,
			   "%s: cannot set '%s' on '%s' to on: the kernel keeps LRO off because %s "
			   "(merged frames break forwarding; advice lro-forwarding)",
			   where, f->name, ifc->name, why);
}

/* Per interface and parameter of the groups: what the last matching rule
 * wants. */
struct setting_wish {
	bool set, max;
	uint32_t value;
	const struct ds_location *loc;
};

/* TuneD's translation (plugin_net.py, _replace_channels_parameters): a NIC
 * with rx and tx channels and no combined ones is given rx = tx = combined;
 * one with combined channels only is given combined = max(rx, tx).  Said
 * once per interface, as a warning. */
static int translate_channels(const struct host_state *hs, size_t idx, struct setting_wish *sw,
			      struct plan *p)
{
	const struct iface *ifc = &hs->ifaces[idx];
	const struct iface_settings *s = &ifc->settings;
	struct setting_wish *comb = &sw[SP_CHANNELS_COMBINED], *rx = &sw[SP_CHANNELS_RX],
			    *tx = &sw[SP_CHANNELS_TX];
	char where[DS_LOCATION_MAX];

	if (!(s->supported & (1u << SG_CHANNELS)))
		return 0;
	if (comb->set && !iface_settings_has(s, SP_CHANNELS_COMBINED) &&
	    iface_settings_has(s, SP_CHANNELS_RX) && iface_settings_has(s, SP_CHANNELS_TX)) {
		char value[16];

		ds_location_format(comb->loc, where, sizeof(where));
		if (comb->max)
			snprintf(value, sizeof(value), "max");
		else
			snprintf(value, sizeof(value), "%u", comb->value);
		if (!rx->set)
			*rx = *comb;
		if (!tx->set)
			*tx = *comb;
		comb->set = false;
		return add_problem(p, DS_POLICY_WARN, idx,
				   "%s: note: '%s' has no combined channels, only rx and tx: "
				   "'combined: %s' is set as rx and tx, as TuneD does",
				   where, ifc->name, value);
	}
	if ((rx->set || tx->set) && !comb->set && iface_settings_has(s, SP_CHANNELS_COMBINED) &&
	    !iface_settings_has(s, SP_CHANNELS_RX) && !iface_settings_has(s, SP_CHANNELS_TX)) {
		struct setting_wish w = rx->set ? *rx : *tx;

		if (rx->set && tx->set) {
			/* max wins over any count; else the larger count */
			if (tx->max || (!rx->max && tx->value > rx->value))
				w = *tx;
		}
		ds_location_format(w.loc, where, sizeof(where));
		*comb = w;
		rx->set = tx->set = false;
		if (w.max)
			return add_problem(p, DS_POLICY_WARN, idx,
					   "%s: note: '%s' has only combined channels: rx and tx "
					   "are set as 'combined: max', as TuneD does",
					   where, ifc->name);
		return add_problem(p, DS_POLICY_WARN, idx,
				   "%s: note: '%s' has only combined channels: rx and tx are "
				   "set as 'combined: %u' (the larger of the two), as TuneD does",
				   where, ifc->name, w.value);
	}
	return 0;
}

/* The groups' parameters for ifc: the ones that differ into pi; what the
 * driver lacks or a value above its maximum is a problem, and nothing is
 * sent for it. */
static int plan_settings(const struct host_state *hs, const struct desired_state *ds,
			 const struct virt_info *vi, size_t idx, struct plan_iface *pi,
			 struct plan *p, bool decisions)
{
	const struct iface *ifc = &hs->ifaces[idx];
	const struct iface_settings *s = &ifc->settings;
	struct setting_wish sw[SP_MAX];
	bool any = false;
	int r;

	memset(sw, 0, sizeof(sw));
	for (size_t ri = 0; ri < ds->n_rules; ri++) {
		const struct ds_rule *rule = &ds->rules[ri];

		if (!rule->n_settings || !plan_rule_matches(rule, ifc, vi))
			continue;
		for (size_t k = 0; k < rule->n_settings; k++) {
			const struct ds_setting *st = &rule->settings[k];

			sw[st->param] = (struct setting_wish){ true, st->max, st->value, &st->loc };
			any = true;
		}
	}
	if (!any)
		return 0;
	r = translate_channels(hs, idx, sw, p);
	if (r < 0)
		return r;
	for (unsigned int q = 0; q < SP_MAX; q++) {
		const struct setting_def *def = &setting_defs[q];
		const char *group = setting_group_name(def->group);
		struct plan_setting *v;
		char where[DS_LOCATION_MAX];
		uint32_t want;

		if (!sw[q].set)
			continue;
		ds_location_format(sw[q].loc, where, sizeof(where));
		if (!(s->read & (1u << def->group))) {
			r = add_problem(p, DS_POLICY_ERROR, idx,
					"%s: cannot plan '%s: %s' on '%s': its %s were not read "
					"(facts without them?)",
					where, group, def->name, ifc->name, group);
			if (r < 0)
				return r;
			continue;
		}
		if (!iface_settings_has(s, q)) {
			r = add_problem(p, ds->fixed_feature, idx,
					"%s: cannot set '%s: %s' on '%s': the driver does not "
					"support it (%s)",
					where, group, def->name, ifc->name,
					s->supported & (1u << def->group)
						? "ethtool shows n/a"
						: "it has no such settings at all");
			if (r < 0)
				return r;
			continue;
		}
		if (sw[q].max) {
			if (!(s->has_max & setting_bit(q))) {
				r = add_problem(p, DS_POLICY_ERROR, idx,
						"%s: '%s: %s: max' on '%s': the driver reports no "
						"maximum",
						where, group, def->name, ifc->name);
				if (r < 0)
					return r;
				continue;
			}
			want = s->max[q];
		} else {
			want = sw[q].value;
		}
		if (decisions) {
			struct plan_setting_decision *d =
				realloc(p->setting_decisions, (p->n_setting_decisions +
							       1) * sizeof(*p->setting_decisions));

			if (!d)
				return -ENOMEM;
			p->setting_decisions = d;
			d[p->n_setting_decisions++] =
				(struct plan_setting_decision){ idx, q, want, sw[q].loc };
		}
		if ((s->has_max & setting_bit(q)) && want > s->max[q]) {
			r = add_problem(p, DS_POLICY_ERROR, idx,
					"%s: cannot set '%s: %s' on '%s' to %u: the maximum is %u "
					"(write max for it)",
					where, group, def->name, ifc->name, want, s->max[q]);
			if (r < 0)
				return r;
			continue;
		}
		if (s->value[q] == want)
			continue;
		v = realloc(pi->settings, (pi->n_settings + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		pi->settings = v;
		v[pi->n_settings++] = (struct plan_setting){ q, s->value[q], want, sw[q].loc };
	}
	return 0;
}

static int plan_iface(const struct host_state *hs, const struct desired_state *ds,
		      const struct virt_info *vi, size_t idx, const struct featbits *expansions,
		      const enum feature_name_kind *kinds, struct plan *p, bool *rule_hit,
		      bool decisions, bool *matched)
{
	const struct iface *ifc = &hs->ifaces[idx];
	struct wish w;
	struct plan_iface pi = { .iface = idx };
	int lro_bit = feature_names_index(&hs->names, "rx-lro");
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
		rule_hit[ri] = true;
		for (size_t fi = 0; fi < rule->n_features; fi++, k++) {
			const struct ds_feature *f = &rule->features[fi];
			const struct featbits *bits = &expansions[k];
			struct featbits use = { 0 }, wrong = { 0 };
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
					featbits_set(&wrong, b, true);
				}
			}
			/* A fixed feature the rule asks to change: by its own
			 * name, or a group with nothing changeable in it. */
			if (any_wrong && (kinds[k] == FEATURE_NAME_KERNEL || !any_changeable)) {
				char where[DS_LOCATION_MAX];

				ds_location_format(&f->loc, where, sizeof(where));
				r = add_problem(p, ds->fixed_feature, idx,
						"%s: cannot set '%s' on '%s' to %s: the feature is "
						"fixed %s by the driver",
						where, f->name, ifc->name, f->value ? "on" : "off",
						f->value ? "off" : "on");
				if (r < 0)
					return r;
			} else if (!f->value && featbits_any(&wrong) &&
				   ds->fixed_member != DS_POLICY_IGNORE) {
				/* 'tx: off' with tx-checksum-ipv4 fixed on: an
				 * offload the rule switches off stays on.  (A
				 * member fixed off under 'tx: on' is how a
				 * driver says it lacks that variant, as
				 * `ethtool -k` shows: "off [fixed]".) */
				r = note_fixed_members(hs, ds, idx, f, &wrong, p);
				if (r < 0)
					return r;
			}
			if (f->value && lro_bit >= 0 &&
			    featbits_test(&use, (unsigned int)lro_bit) &&
			    !featbits_test(&ifc->active, (unsigned int)lro_bit) &&
			    advice_iface_forwards(ifc)) {
				/* The kernel keeps LRO off here (dev_disable_lro()
				 * on forwarding and on joining a bridge): asking
				 * for it would fight the kernel on every run. */
				r = note_lro_forwarding(ds, idx, ifc, f, p);
				if (r < 0)
					return r;
				featbits_set(&use, (unsigned int)lro_bit, false);
			}
			for (unsigned int b = 0; b < hs->names.count; b++) {
				if (!featbits_test(&use, b))
					continue;
				featbits_set(&w.set, b, true);
				featbits_set(&w.value, b, f->value);
				w.setting[b] = &f->loc;
			}
		}
	}

	if (decisions && *matched) {
		for (unsigned int b = 0; b < hs->names.count; b++) {
			struct plan_decision *v;

			if (!featbits_test(&w.set, b))
				continue;
			if (p->n_decisions % 64 == 0) {
				v = realloc(p->decisions, (p->n_decisions + 64) * sizeof(*v));
				if (!v)
					return -ENOMEM;
				p->decisions = v;
			}
			p->decisions[p->n_decisions++] =
				(struct plan_decision){ idx, b, featbits_test(&w.value, b),
							w.setting[b] };
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
			.feature = b, .to = want, .requested_only = req_only, .rule = w.setting[b]
		};
		featbits_set(&pi.mask, b, true);
		featbits_set(&pi.values, b, featbits_test(&w.value, b));
	}
	r = plan_settings(hs, ds, vi, idx, &pi, p, decisions);
	if (r < 0) {
		free(pi.changes);
		free(pi.settings);
		return r;
	}
	if (!pi.n_changes && !pi.n_settings)
		return 0;
	/* Only interfaces with changes keep the winning rule of each feature
	 * (for apply's messages), sized to the kernel's features. */
	pi.want_rule = calloc(hs->names.count ? hs->names.count : 1, sizeof(*pi.want_rule));
	if (!pi.want_rule) {
		free(pi.changes);
		free(pi.settings);
		return -ENOMEM;
	}
	memcpy(pi.want_rule, w.setting, hs->names.count * sizeof(*pi.want_rule));
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct plan_iface *v = realloc(p->ifaces, cap * sizeof(*v));

		if (!v) {
			free(pi.changes);
			free(pi.settings);
			free(pi.want_rule);
			return -ENOMEM;
		}
		p->ifaces = v;
		p->cap = cap;
	}
	p->ifaces[p->n++] = pi;
	return 0;
}

/* The rule's match as one would write it: "name 'eth*', module 'xen_netfront'". */
static void describe_match(FILE *f, const struct ds_match *m)
{
	const struct {
		const char *key;
		const struct strlist *l;
	} keys[] = {
		{ "name", &m->name },	  { "driver", &m->driver },
		{ "module", &m->module }, { "kind", &m->kind },
		{ "mac", &m->mac },	  { "virtualization", &m->virtualization },
	};
	bool first = true;

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (!keys[i].l->n)
			continue;
		fprintf(f, "%s%s ", first ? "" : ", ", keys[i].key);
		for (size_t j = 0; j < keys[i].l->n; j++)
			fprintf(f, "%s'%s'", j ? " or " : "", keys[i].l->items[j]);
		first = false;
	}
}

/*
 * Rules for this host that matched no interface.  A rule whose host
 * condition (virtualization) does not hold is not for this host: a fleet's
 * one file is quiet where it does not apply.  A rule whose names are all
 * exact and all missing is missing-interface's to report.
 */
static int note_unmatched_rules(const struct host_state *hs, const struct desired_state *ds,
				const struct virt_info *vi, const bool *rule_hit, struct plan *p)
{
	if (ds->unmatched_rule == DS_POLICY_IGNORE)
		return 0;
	for (size_t ri = 0; ri < ds->n_rules; ri++) {
		const struct ds_rule *rule = &ds->rules[ri];
		const struct ds_match *m = &rule->match;
		bool for_host = !m->virtualization.n, all_missing = m->name.n > 0;
		char where[DS_LOCATION_MAX], *desc = NULL;
		size_t len = 0;
		FILE *f;
		int r;

		for (size_t i = 0; vi && i < m->virtualization.n && !for_host; i++)
			for_host = virt_matches(vi, m->virtualization.items[i]);
		for (size_t i = 0; i < m->name.n && all_missing; i++)
			all_missing = !has_glob(m->name.items[i]) &&
				      !host_state_find((struct host_state *)hs, m->name.items[i]);
		if (rule_hit[ri] || !for_host || all_missing)
			continue;
		if (p->n_unmatched % 16 == 0) {
			struct plan_unmatched *v =
				realloc(p->unmatched, (p->n_unmatched + 16) * sizeof(*v));

			if (!v)
				return -ENOMEM;
			p->unmatched = v;
		}
		f = open_memstream(&desc, &len);
		if (!f)
			return -ENOMEM;
		describe_match(f, m);
		if (fclose(f) != 0 || !desc) {
			free(desc);
			return -ENOMEM;
		}
		p->unmatched[p->n_unmatched++] = (struct plan_unmatched){ rule, desc };
		ds_location_format(&rule->loc, where, sizeof(where));
		r = add_problem(p, ds->unmatched_rule, PLAN_NO_IFACE,
				"%s: this rule matched no interface (match: %s)", where, desc);
		if (r < 0)
			return r;
	}
	return 0;
}

bool plan_opts_selects(const struct plan_opts *o, const struct iface *ifc)
{
	if (!o || !o->n_only)
		return true;
	for (size_t k = 0; k < o->n_only; k++)
		if (o->only_exact[k] ? strcmp(o->only[k], ifc->name) == 0
				     : fnmatch(o->only[k], ifc->name, 0) == 0)
			return true;
	return false;
}

int plan_compute(const struct host_state *hs, const struct desired_state *ds,
		 const struct virt_info *vi, struct plan *ret)
{
	return plan_compute_opts(hs, ds, vi, NULL, ret);
}

int plan_compute_opts(const struct host_state *hs, const struct desired_state *ds,
		      const struct virt_info *vi, const struct plan_opts *o, struct plan *ret)
{
	struct plan p = { 0 };
	struct featbits *expansions = NULL;
	enum feature_name_kind *kinds = NULL;
	bool *rule_hit = NULL, filtered = o && o->n_only;
	const char *kernel;
	size_t n_feat = 0, k = 0;
	int r = 0;

	for (size_t ri = 0; ri < ds->n_rules; ri++)
		n_feat += ds->rules[ri].n_features;
	expansions = calloc(n_feat ? n_feat : 1, sizeof(*expansions));
	kinds = calloc(n_feat ? n_feat : 1, sizeof(*kinds));
	rule_hit = calloc(ds->n_rules ? ds->n_rules : 1, sizeof(*rule_hit));
	if (!expansions || !kinds || !rule_hit) {
		r = -ENOMEM;
		goto out;
	}

	/* Names first: one this kernel does not know makes the state invalid. */
	kernel = hs->kernel_release[0] ? hs->kernel_release : "release unknown";
	for (size_t ri = 0; ri < ds->n_rules; ri++) {
		const struct ds_rule *rule = &ds->rules[ri];

		for (size_t fi = 0; fi < rule->n_features; fi++, k++) {
			const struct ds_feature *f = &rule->features[fi];

			kinds[k] = feature_name_expand(&hs->names, f->name, &expansions[k]);
			if (kinds[k] == FEATURE_NAME_LEGACY && !featbits_any(&expansions[k])) {
				/* ufo on any kernel since 4.16: nothing left to switch. */
				char where[DS_LOCATION_MAX];

				ds_location_format(&f->loc, where, sizeof(where));
				kinds[k] = FEATURE_NAME_UNKNOWN;
				r = strlist_addf(&p.invalid,
						 "%s: this kernel (%s) has no feature that '%s' "
						 "stands for",
						 where, kernel, f->name);
				if (r < 0)
					goto out;
			} else if (kinds[k] == FEATURE_NAME_UNKNOWN) {
				const char *hint = feature_name_suggest(&hs->names, f->name);
				char where[DS_LOCATION_MAX];

				ds_location_format(&f->loc, where, sizeof(where));
				/* the running kernel's string set is the judge: a
				 * newer kernel knows names no table here has */
				r = hint ? strlist_addf(&p.invalid,
							"%s: unknown feature '%s' for this kernel "
							"(%s); did you mean '%s'?",
							where, f->name, kernel, hint)
					 : strlist_addf(&p.invalid,
							"%s: unknown feature '%s' for this kernel "
							"(%s): its feature names are 'ethtool -k' "
							"and 'offloadctl facts'",
							where, f->name, kernel);
				if (r < 0)
					goto out;
			}
		}
	}

	for (size_t i = 0; i < hs->n; i++) {
		bool matched;

		if (!hs->ifaces[i].have_features || !plan_opts_selects(o, &hs->ifaces[i]))
			continue;
		r = plan_iface(hs, ds, vi, i, expansions, kinds, &p, rule_hit, o && o->decisions,
			       &matched);
		if (r < 0)
			goto out;
		p.n_matched += matched;
	}

	r = filtered ? 0 : note_unmatched_rules(hs, ds, vi, rule_hit, &p);
	if (r < 0)
		goto out;

	/* An exact name that matches no interface. */
	if (ds->missing_interface != DS_POLICY_IGNORE && !filtered) {
		for (size_t ri = 0; ri < ds->n_rules; ri++) {
			const struct ds_rule *rule = &ds->rules[ri];

			for (size_t ni = 0; ni < rule->match.name.n; ni++) {
				const char *name = rule->match.name.items[ni];
				char where[DS_LOCATION_MAX];

				if (has_glob(name) ||
				    host_state_find((struct host_state *)hs, name))
					continue;
				ds_location_format(&rule->loc, where, sizeof(where));
				r = add_problem(&p, ds->missing_interface, PLAN_NO_IFACE,
						"%s: no interface named '%s'", where, name);
				if (r < 0)
					goto out;
			}
		}
	}
out:
	free(expansions);
	free(kinds);
	free(rule_hit);
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
		free(p->ifaces[i].settings);
		free(p->ifaces[i].want_rule);
	}
	free(p->ifaces);
	free(p->unreachable);
	free(p->decisions);
	free(p->setting_decisions);
	for (size_t i = 0; i < p->n_unmatched; i++)
		free(p->unmatched[i].match);
	free(p->unmatched);
	strlist_free(&p->warnings);
	strlist_free(&p->errors);
	free(p->error_iface);
	strlist_free(&p->invalid);
	memset(p, 0, sizeof(*p));
}
