/* apply.c - carry out a plan, verify it against the kernel's reply, roll back */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/apply.h"
#include "lib/log.h"
#include "model/report.h"

/* A change seen in this run, reported only when the run succeeds. */
struct seen {
	const char *ifname;
	unsigned int feature;
	bool from, to;
	bool requested_only;
	const struct ds_location *rule; /* NULL: a side effect */
};

struct seen_list {
	struct seen *v;
	size_t n, cap;
};

static int seen_add(struct seen_list *l, struct seen s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct seen *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = s;
	return 0;
}

struct undo {
	struct iface *ifc;
	struct featbits wanted, active; /* as they were before this run */
	struct featbits sent;		/* the bits this run asked for */
};

static const char *fname(const struct host_state *hs, unsigned int i)
{
	return i < hs->names.count ? hs->names.names[i] : "?";
}

/* Put every touched interface back: its wanted set as it was, then check
 * that the active set followed. */
static bool rollback(struct backend *b, struct host_state *hs, struct undo *u, size_t n,
		     json_t *rep, bool log_errors)
{
	bool ok = true;

	for (size_t k = n; k-- > 0;) {
		struct iface *ifc = u[k].ifc;
		struct featbits mask;
		struct set_result res;
		char *msg = NULL;
		int r;

		for (unsigned int w = 0; w < FEAT_WORDS; w++)
			mask.w[w] = ((u[k].wanted.w[w] ^ ifc->wanted.w[w]) | u[k].sent.w[w]) &
				    ifc->hw.w[w];
		if (!featbits_any(&mask))
			continue;
		r = backend_set_features(b, hs, ifc, &mask, &u[k].wanted, &res, &msg);
		if (r == 0)
			r = backend_refresh_iface(b, hs, ifc);
		if (r == -ENODEV) {
			/* Gone (or renamed): nothing of it is left to restore;
			 * the rollback of every interface that exists holds. */
			char buf[512];

			snprintf(buf, sizeof(buf),
				 "interface '%s' disappeared during the run; nothing to roll back "
				 "there",
				 ifc->name);
			report_add_message(rep, "warnings", buf);
			if (log_errors)
				log_warn("%s", buf);
			free(msg);
			continue;
		}
		if (r < 0 || memcmp(&ifc->active, &u[k].active, sizeof(ifc->active)) != 0) {
			char buf[512];

			snprintf(buf, sizeof(buf), "cannot roll back '%s': %s%s%s", ifc->name,
				 r < 0 ? strerror(-r) : "its features differ from before the run",
				 msg ? ": kernel reports: " : "", msg ? msg : "");
			report_add_message(rep, "errors", buf);
			if (log_errors)
				log_error("%s", buf);
			ok = false;
		}
		free(msg);
	}
	return ok;
}

int apply_plan(struct backend *b, struct host_state *hs, const struct plan *p, json_t *rep,
	       bool log_errors)
{
	struct undo *undo = calloc(p->n ? p->n : 1, sizeof(*undo));
	size_t n_undo = 0;
	bool failed = false, changed = false;
	struct seen_list seen = { 0 };
	int oom = 0;

	if (!undo)
		return -ENOMEM;
	for (size_t i = 0; i < p->n && !failed; i++) {
		const struct plan_iface *pi = &p->ifaces[i];
		struct iface *ifc = &hs->ifaces[pi->iface];
		struct featbits old_active = ifc->active;
		struct set_result res;
		char *msg = NULL;
		int r;

		undo[n_undo] = (struct undo){
			.ifc = ifc, .wanted = ifc->wanted, .active = ifc->active, .sent = pi->mask
		};
		log_info("setting %zu feature%s on '%s'", pi->n_changes,
			 pi->n_changes == 1 ? "" : "s", ifc->name);
		r = backend_set_features(b, hs, ifc, &pi->mask, &pi->values, &res, &msg);
		if (r == -ENODEV) {
			char buf[512];

			snprintf(buf, sizeof(buf),
				 "interface '%s' disappeared or was renamed before its features "
				 "could be set; skipped",
				 ifc->name);
			report_add_message(rep, "warnings", buf);
			if (log_errors)
				log_warn("%s", buf);
			free(msg);
			continue;
		}
		if (r < 0) {
			char buf[1024];

			snprintf(buf, sizeof(buf), "cannot set features on '%s': %s%s%s", ifc->name,
				 strerror(-r), msg ? ": kernel reports: " : "", msg ? msg : "");
			report_add_message(rep, "errors", buf);
			if (log_errors)
				log_error("%s", buf);
			free(msg);
			n_undo++; /* the kernel may have done part of it */
			failed = true;
			break;
		}
		free(msg);
		n_undo++;

		/* Verify: every feature the rules decide must now be as they
		 * want it, the ones we sent and the ones the kernel may have
		 * switched on its own because of them (TSO with TX checksums). */
		for (unsigned int bit = 0; bit < hs->names.count; bit++) {
			bool want;
			char buf[1024], where[512];

			if (!featbits_test(&pi->want_mask, bit))
				continue;
			want = featbits_test(&pi->want_values, bit);
			if (featbits_test(&ifc->active, bit) == want &&
			    !(featbits_test(&pi->mask, bit) && featbits_test(&res.refused, bit)))
				continue;
			ds_location_format(pi->want_rule[bit], where, sizeof(where));
			snprintf(buf, sizeof(buf),
				 "%s: cannot set '%s' on '%s' to %s: the kernel keeps it %s (%s)",
				 where, fname(hs, bit), ifc->name, want ? "on" : "off",
				 featbits_test(&ifc->active, bit) ? "on" : "off",
				 want ? "a feature it depends on is off, or the driver refuses it"
				      : "another feature needs it, or the driver refuses it");
			report_add_message(rep, "errors", buf);
			if (log_errors)
				log_error("%s", buf);
			failed = true;
		}
		if (failed)
			break;
		for (size_t c = 0; c < pi->n_changes; c++) {
			const struct plan_change *ch = &pi->changes[c];
			oom |= seen_add(&seen,
					(struct seen){ ifc->name, ch->feature, !ch->to, ch->to,
						       ch->requested_only, ch->rule });
		}
		/* Side effects: what changed that we did not ask for. */
		for (unsigned int bit = 0; bit < hs->names.count; bit++) {
			if (featbits_test(&pi->mask, bit) || !featbits_test(&res.active_mask, bit))
				continue;
			oom |= seen_add(&seen, (struct seen){ ifc->name, bit,
							      featbits_test(&old_active, bit),
							      featbits_test(&ifc->active, bit),
							      false, NULL });
		}
		changed = true;
	}

	if (failed) {
		bool ok = rollback(b, hs, undo, n_undo, rep, log_errors);

		report_set(rep, "rolled_back", ok);
		report_set(rep, "changed", false);
		report_set(rep, "in_sync", false);
	} else {
		for (size_t k = 0; k < seen.n; k++) {
			const struct seen *s = &seen.v[k];

			if (s->rule && s->requested_only)
				oom |= report_add_request_change(rep, s->ifname,
								 fname(hs, s->feature), s->from,
								 s->to, s->rule);
			else if (s->rule)
				oom |= report_add_change(rep, s->ifname, fname(hs, s->feature),
							 s->from, s->to, s->rule);
			else
				oom |= report_add_side_effect(rep, s->ifname, fname(hs, s->feature),
							      s->from, s->to);
		}
		report_set(rep, "changed", changed);
		report_set(rep, "in_sync", true);
	}
	free(seen.v);
	free(undo);
	if (oom)
		return -ENOMEM;
	return failed ? 1 : 0;
}

/* Move what a per-interface report holds into the run's report. */
static int merge_report(json_t *rep, json_t *one)
{
	json_t *ifs = json_object_get(rep, "interfaces"), *v;
	const char *name;
	size_t i;

	json_object_foreach(json_object_get(one, "interfaces"), name, v)
		if (json_object_set(ifs, name, v) < 0)
			return -ENOMEM;
	json_array_foreach(json_object_get(one, "warnings"), i, v)
		if (json_array_append(json_object_get(rep, "warnings"), v) < 0)
			return -ENOMEM;
	json_array_foreach(json_object_get(one, "errors"), i, v)
		if (json_array_append(json_object_get(rep, "errors"), v) < 0)
			return -ENOMEM;
	return 0;
}

int apply_plan_each(struct backend *b, struct host_state *hs, const struct plan *p,
		    const bool *skip, json_t *rep, bool log_errors, apply_each_fn each, void *arg)
{
	bool changed = false, failed = false, rolled_back = false;

	for (size_t i = 0; i < p->n; i++) {
		struct plan one = *p;
		json_t *r1;
		int r;

		if (skip && skip[i])
			continue;
		one.ifaces = &p->ifaces[i];
		one.n = 1;
		r1 = report_new();
		if (!r1)
			return -ENOMEM;
		r = apply_plan(b, hs, &one, r1, log_errors);
		if (r >= 0 && each) {
			int e = each(arg, i, r, r1);

			if (e < 0)
				r = e;
		}
		if (r >= 0 && merge_report(rep, r1) < 0)
			r = -ENOMEM;
		if (r == 1) {
			failed = true;
			rolled_back |= json_is_true(json_object_get(r1, "rolled_back"));
		}
		changed |= json_is_true(json_object_get(r1, "changed"));
		json_decref(r1);
		if (r < 0)
			return r;
	}
	report_set(rep, "changed", changed);
	report_set(rep, "in_sync", !failed);
	report_set(rep, "rolled_back", rolled_back);
	return failed ? 1 : 0;
}
