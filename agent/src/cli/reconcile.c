/* reconcile.c - one reconcile step: lock, read, plan, apply, report */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/lock.h"
#include "cli/apply.h"
#include "cli/reconcile.h"
#include "model/report.h"

void reconcile_init(struct reconcile *rc)
{
	memset(rc, 0, sizeof(*rc));
	rc->lock_fd = -1;
	rc->lock_timeout = 30;
}

/* The planned changes, for check and --dry-run. */
static void report_plan(struct report *rep, const struct host_state *hs, const struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_iface *pi = &p->ifaces[i];

		for (size_t c = 0; c < pi->n_changes; c++) {
			const struct plan_change *ch = &pi->changes[c];

			(ch->requested_only ? report_add_request_change : report_add_change)(
				rep, hs->ifaces[pi->iface].name, hs->names.names[ch->feature],
				!ch->to, ch->to, ch->rule);
		}
		for (size_t k = 0; k < pi->n_settings; k++) {
			const struct plan_setting *st = &pi->settings[k];

			report_add_setting_change(rep, hs->ifaces[pi->iface].name, st->param,
						  st->from, st->to, st->rule);
		}
	}
	rep->changed = p->n > 0;
	rep->in_sync = p->n == 0 && p->errors.n == 0;
}

/* What the plan found that no change shows: members of group names that
 * keep their state, which rule decides each feature, rules that matched
 * no interface. */
static int report_add_notes(struct report *rep, const struct host_state *hs, const struct plan *p)
{
	for (size_t i = 0; i < p->n_unreachable; i++) {
		const struct plan_unreachable *u = &p->unreachable[i];

		if (report_add_unreachable(rep, hs->ifaces[u->iface].name,
					   hs->names.names[u->feature], u->wanted, u->via->name,
					   &u->via->loc) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < p->n_decisions; i++) {
		const struct plan_decision *d = &p->decisions[i];

		if (report_add_decision(rep, hs->ifaces[d->iface].name, hs->names.names[d->feature],
					d->value, d->loc) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < p->n_setting_decisions; i++) {
		const struct plan_setting_decision *d = &p->setting_decisions[i];

		if (report_add_setting_decision(rep, hs->ifaces[d->iface].name, d->param, d->value,
						d->loc) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < p->n_unmatched; i++)
		if (report_add_unmatched(rep, &p->unmatched[i].rule->loc, p->unmatched[i].match) <
		    0)
			return -ENOMEM;
	return 0;
}

static int on_each(void *arg, size_t i, int result, struct report *one)
{
	struct reconcile *rc = arg;

	return rc->hooks->applied(rc, rc->hooks->arg, i, result, one);
}

/* Each interface on its own; those whose rules cannot be reached (a plan
 * error about them) and those a hook holds back are left out. */
static int apply_each(struct reconcile *rc)
{
	const struct plan *p = &rc->plan;
	const struct reconcile_hooks *h = rc->hooks;
	bool *skip = calloc(p->n ? p->n : 1, sizeof(*skip));
	int r;

	if (!skip)
		return -ENOMEM;
	for (size_t e = 0; e < p->errors.n; e++)
		for (size_t i = 0; i < p->n; i++)
			if (p->ifaces[i].iface == p->error_iface[e])
				skip[i] = true;
	for (size_t i = 0; h && h->skip && i < p->n; i++)
		skip[i] = skip[i] || h->skip(rc, h->arg, i);
	r = apply_plan_each(rc->b, &rc->hs, p, skip, &rc->rep, rc->log_errors,
			    h && h->applied ? on_each : NULL, rc);
	free(skip);
	return r;
}

enum reconcile_stage reconcile_run(struct reconcile *rc)
{
	const struct reconcile_hooks *h = rc->hooks;
	const struct plan *p = &rc->plan;
	int r;

	if (rc->lock) {
		rc->lock_path = getenv("OFFLOADCTL_LOCK_FILE");
		if (!rc->lock_path)
			rc->lock_path = LOCK_FILE_DEFAULT;
		rc->lock_fd = lock_acquire(rc->lock_path, rc->lock_timeout);
		if (rc->lock_fd < 0) {
			rc->err = rc->lock_fd;
			rc->lock_fd = -1;
			return RECONCILE_LOCK;
		}
	}
	if (h && h->locked && h->locked(rc, h->arg))
		return RECONCILE_STOPPED;

	/* Read the state under the lock, so that the plan holds.  New and
	 * renamed interfaces come with the feature dump too. */
	if (rc->b) {
		r = desired_state_uses_link_facts(rc->ds)
			    ? backend_read_host(rc->b, &rc->hs)
			    : backend_read_host_features(rc->b, &rc->hs);
		/* the groups the rules set, and only those: one dump each */
		if (r == 0 && desired_state_setting_groups(rc->ds))
			r = backend_read_settings(rc->b, &rc->hs,
						  desired_state_setting_groups(rc->ds));
		if (r < 0) {
			rc->err = r;
			return RECONCILE_READ;
		}
	}

	r = plan_compute_opts(&rc->hs, rc->ds, rc->vi, &rc->po, &rc->plan);
	if (r < 0) {
		rc->err = r;
		return RECONCILE_FAILED;
	}
	if (p->invalid.n)
		return RECONCILE_INVALID;
	if (h && h->planned) {
		r = h->planned(rc, h->arg);
		if (r < 0) {
			rc->err = r;
			return RECONCILE_FAILED;
		}
	}

	report_init(&rc->rep);
	if (report_add_messages(&rc->rep.warnings, &p->warnings) < 0 ||
	    report_add_messages(&rc->rep.errors, &p->errors) < 0 ||
	    report_add_notes(&rc->rep, &rc->hs, p) < 0) {
		rc->err = -ENOMEM;
		return RECONCILE_FAILED;
	}

	if (rc->mode == RECONCILE_PLAN) {
		report_plan(&rc->rep, &rc->hs, p);
		rc->result = p->n || p->errors.n ? 1 : 0;
		return RECONCILE_DONE;
	}
	if (rc->mode == RECONCILE_APPLY_EACH && p->n && rc->lock_fd >= 0) {
		r = apply_each(rc);
		if (r < 0) {
			rc->err = r;
			return RECONCILE_FAILED;
		}
		rc->result = r || p->errors.n ? 1 : 0;
		if (p->errors.n)
			rc->rep.in_sync = false;
		return RECONCILE_DONE;
	}
	if (p->errors.n || p->n == 0) {
		/* A plan with errors changes nothing: its report lists no
		 * change. */
		if (p->errors.n)
			rc->rep.in_sync = false;
		else
			report_plan(&rc->rep, &rc->hs, p);
		rc->rep.changed = false;
		rc->result = p->errors.n ? 1 : 0;
		return RECONCILE_DONE;
	}
	if (rc->lock_fd < 0)
		return RECONCILE_NOT_PERMITTED;
	r = apply_plan(rc->b, &rc->hs, p, &rc->rep, rc->log_errors);
	if (r < 0) {
		rc->err = r;
		return RECONCILE_FAILED;
	}
	rc->result = r;
	return RECONCILE_DONE;
}

void reconcile_free(struct reconcile *rc)
{
	report_free(&rc->rep);
	plan_free(&rc->plan);
	host_state_free(&rc->hs);
	if (rc->lock_fd >= 0)
		close(rc->lock_fd);
	rc->lock_fd = -1;
}
