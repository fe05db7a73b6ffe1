/* plan.h - what to change: a pure function of (actual, desired) */
#pragma once

#include "lib/strlist.h"
#include "model/desired-state.h"
#include "model/iface.h"
#include "model/virt.h"

struct plan_change {
	unsigned int feature;		/* index in the kernel's string set */
	bool to;			/* from is !to */
	bool requested_only;		/* active already as wanted; only the
					 * kernel's requested state differs */
	const struct ds_location *rule; /* the feature setting that wins (file:line:column) */
};

/* A parameter of rings, channels, coalesce, pause or EEE to send. */
struct plan_setting {
	unsigned int param; /* enum setting_param */
	uint32_t from, to;
	const struct ds_location *rule; /* the setting that wins (file:line:column) */
};

struct plan_iface {
	size_t iface;	      /* index into host_state.ifaces */
	struct featbits mask; /* the bits to send */
	struct featbits values;
	struct featbits want_mask; /* every bit the rules decide, changed or not */
	struct featbits want_values;
	const struct ds_location **want_rule; /* by feature index: the winning setting */
	struct plan_change *changes;
	size_t n_changes;
	/* the groups' parameters that differ, in enum setting_param order,
	 * which is apply's order by group: rings, channels (before the
	 * features), coalesce, pause, eee (after) */
	struct plan_setting *settings;
	size_t n_settings;
};

/* A member of a group name (tx, sg, tso, ...) that keeps a state other than
 * the one asked: the driver fixes it.  The other members are set. */
struct plan_unreachable {
	size_t iface;		      /* index into host_state.ifaces */
	unsigned int feature;	      /* the member, an index in the kernel's string set */
	bool wanted;		      /* what the rule asked; the member stays !wanted */
	const struct ds_feature *via; /* the group name as written, with its location */
};

/* Which rule decides a feature on an interface (check --json's "decided"),
 * changed or not: so that a wrapper sees a later file override its own. */
struct plan_decision {
	size_t iface;	      /* index into host_state.ifaces */
	unsigned int feature; /* index in the kernel's string set */
	bool value;
	const struct ds_location *loc; /* the feature setting that wins */
};

/* Which setting decides a parameter of the groups on an interface (check
 * --json's "decided_settings"), changed or not. */
struct plan_setting_decision {
	size_t iface;	    /* index into host_state.ifaces */
	unsigned int param; /* enum setting_param */
	uint32_t value;	    /* what it resolves to (max: the driver's maximum) */
	const struct ds_location *loc;
};

struct plan_opts {
	bool decisions; /* fill plan.decisions */
	/* Plan these interfaces only (--interface, --ifname): names or globs,
	 * only_exact[i] for a name taken literally.  The others are left out,
	 * and rules or names that match none of them are no one's business
	 * in this run (no missing-interface or unmatched-rule problems). */
	char *const *only;
	const bool *only_exact;
	size_t n_only;
};

/* True when ifc is among o's interfaces (always without a filter). */
bool plan_opts_selects(const struct plan_opts *o, const struct iface *ifc);

struct plan {
	struct plan_iface *ifaces; /* only interfaces with changes */
	size_t n, cap;
	struct strlist warnings;
	struct strlist errors;	/* the desired state cannot be reached: nothing is sent */
	size_t *error_iface;	/* for each of errors: the interface (index into
				 * host_state.ifaces) it is about, or
				 * PLAN_NO_IFACE; watch isolates by it */
	struct strlist invalid; /* names this kernel does not know: a bad desired state */
	size_t n_matched;	/* interfaces some rule matched */
	/* fixed members of group names (defaults: fixed-member), in
	 * interface order; empty when the policy is ignore */
	struct plan_unreachable *unreachable;
	size_t n_unreachable;
	/* rules for this host that matched no interface (defaults:
	 * unmatched-rule); empty when the policy is ignore */
	struct plan_decision *decisions; /* with plan_opts.decisions */
	size_t n_decisions;
	struct plan_setting_decision *setting_decisions; /* the same for the groups */
	size_t n_setting_decisions;
	struct plan_unmatched {
		const struct ds_rule *rule;
		char *match; /* "name 'eth*', module 'xen_netfront'" */
	} * unmatched;
	size_t n_unmatched;
};

#define PLAN_NO_IFACE ((size_t)-1)

/* True when the rule's match holds for ifc on a host described by vi
 * (vi may be NULL when no rule asks for the virtualisation). */
bool plan_rule_matches(const struct ds_rule *rule, const struct iface *ifc,
		       const struct virt_info *vi);

/*
 * Compute the plan.  Pure: reads hs, ds and vi, touches nothing.
 * Returns 0 or -ENOMEM; problems go to plan->errors, ->invalid, ->warnings.
 */
int plan_compute(const struct host_state *hs, const struct desired_state *ds,
		 const struct virt_info *vi, struct plan *ret);
/* The same, with options (o may be NULL). */
int plan_compute_opts(const struct host_state *hs, const struct desired_state *ds,
		      const struct virt_info *vi, const struct plan_opts *o, struct plan *ret);

void plan_free(struct plan *p);
