/* watch-pass.c - one pass of `offloadctl watch`
 *
 * The reconcile step apply takes (cli/reconcile.c), each interface on its
 * own, with watch's memory of each interface: what was said about it, its
 * back-off after a refusal, and the fights another writer picks with it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/reconcile.h"
#include "cli/watch.h"
#include "lib/escape.h"
#include "lib/log.h"
#include "model/plan.h"
#include "model/report.h"
#include "model/settings.h"

/* What a change changes, as the log says it: "tx-checksum-ip-generic" for
 * a feature, "channels rx" for a setting. */
static const char *change_what(const struct report_change *c, char *buf, size_t len)
{
	if (c->param < 0)
		return c->feature;
	snprintf(buf, len, "%s %s", setting_group_name(setting_defs[c->param].group),
		 setting_defs[c->param].name);
	return buf;
}

/* A change's "from" or "to": on/off, or a setting's number. */
static const char *change_value(const struct report_change *c, uint32_t v, char *buf, size_t len)
{
	if (c->param < 0 || setting_defs[c->param].type == ST_BOOL)
		return v ? "on" : "off";
	snprintf(buf, len, "%u", v);
	return buf;
}

static void log_pass(struct watch *w, const struct report *rep, bool first)
{
	for (size_t i = 0; i < rep->n_ifaces; i++) {
		const struct report_iface *e = &rep->ifaces[i];
		char esc[NAME_ESC_MAX];
		const char *name = name_json(e->name, esc, sizeof(esc));
		bool known = host_state_find(&w->cur, e->name) != NULL;
		const char *what = first	 ? "set"
				   : !known	 ? "configured new interface"
				   : w->reloaded ? "applied the new configuration to"
						 : "reverted drift on";

		for (size_t k = 0; k < e->n_changes; k++) {
			const struct report_change *c = &e->changes[k];
			char wb[96], fb[24], tb[24];

			if (first)
				w->counters.changes_initial++;
			else if (!known)
				w->counters.changes_new++;
			else if (w->reloaded)
				w->counters.changes_reload++;
			else
				w->counters.reverts++;
			log_notice("%s '%s': %s%s %s -> %s%s%s%s", what, name,
				   c->requested ? "requested " : "", change_what(c, wb, sizeof(wb)),
				   change_value(c, c->from, fb, sizeof(fb)),
				   change_value(c, c->to, tb, sizeof(tb)), c->rule ? " (rule " : "",
				   c->rule ? c->rule : "", c->rule ? ")" : "");
		}
		for (size_t k = 0; k < e->n_side_effects; k++)
			log_info("'%s': %s %s -> %s (side effect)", name,
				 e->side_effects[k].feature, e->side_effects[k].from ? "on" : "off",
				 e->side_effects[k].to ? "on" : "off");
	}
}

static void back_off(struct watch *w)
{
	int64_t delay = BACKOFF_MIN_MS;
	int64_t until;

	for (unsigned int i = 1; i < w->failures && delay < BACKOFF_MAX_MS; i++)
		delay *= 2;
	if (delay > BACKOFF_MAX_MS)
		delay = BACKOFF_MAX_MS;
	until = now_ms() + delay;
	w->not_before.tv_sec = until / 1000;
	w->not_before.tv_nsec = (until % 1000) * 1000000;
	log_warn("will try again in %lld s", (long long)(delay / 1000));
	arm_timer(w, delay);
	w->dirty = true;
}

/*
 * The plan's warnings (a rule that matched nothing, a member the driver
 * keeps on): said when they first appear, not on every pass, and again
 * only after they went away and came back.
 */
static void warn_once(struct watch *w, struct strlist *warnings)
{
	bool same = warnings->n == w->warned.n;
	struct strlist t;

	for (size_t i = 0; same && i < warnings->n; i++)
		same = strcmp(warnings->items[i], w->warned.items[i]) == 0;
	if (same)
		return;
	for (size_t i = 0; i < warnings->n; i++)
		if (!strlist_contains(&w->warned, warnings->items[i]))
			log_warn("%s", warnings->items[i]);
	t = w->warned;
	w->warned = *warnings;
	*warnings = t;
}

/* --- one interface at a time --- */

#define FIGHT_WINDOW_MS	     60000  /* reverts counted over this long */
#define FIGHT_REVERTS	     5	    /* this many in the window is a fight */
#define FIGHT_BACKOFF_MIN_MS 30000  /* then leave it alone this long, */
#define FIGHT_BACKOFF_MAX_MS 600000 /* doubling while the fight goes on */

static struct iface_watch *iw_get(struct watch *w, int ifindex, bool create)
{
	struct iface_watch *v;

	for (size_t i = 0; i < w->n_iw; i++)
		if (w->iw[i].ifindex == ifindex)
			return &w->iw[i];
	if (!create)
		return NULL;
	v = realloc(w->iw, (w->n_iw + 1) * sizeof(*v));
	if (!v)
		return NULL;
	w->iw = v;
	v[w->n_iw] = (struct iface_watch){ .ifindex = ifindex };
	return &v[w->n_iw++];
}

/* Forget interfaces that are gone. */
static void iw_prune(struct watch *w, struct host_state *hs)
{
	size_t k = 0;

	for (size_t i = 0; i < w->n_iw; i++) {
		if (host_state_find_index(hs, w->iw[i].ifindex)) {
			w->iw[k++] = w->iw[i];
			continue;
		}
		free(w->iw[i].said);
	}
	w->n_iw = k;
}

/* Say a problem of one interface once: again only when it changes. */
static void iw_say(struct iface_watch *t, const char *msg, bool error)
{
	if (!msg)
		msg = "cannot set its features";
	if (t->said && strcmp(t->said, msg) == 0)
		return;
	if (error)
		log_error("%s", msg);
	else
		log_warn("%s", msg);
	free(t->said);
	t->said = strdup(msg);
}

/* Every error of a report, one line each. */
static char *report_errors(const struct report *rep)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	for (size_t i = 0; i < rep->errors.n; i++)
		fprintf(f, "%s%s", i ? "; " : "", rep->errors.items[i]);
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* Drift on this interface was just reverted: is another writer fighting
 * us?  Then leave it alone, longer each time, and say so once. */
static void note_revert(struct watch *w, struct iface_watch *t, const char *ifname,
			const struct report *rep, int64_t now)
{
	unsigned int n = 0;
	int64_t delay;

	if (t->n_reverts && now - t->reverts[t->n_reverts - 1] > 10 * FIGHT_WINDOW_MS)
		t->fights = 0; /* quiet for long: a new fight starts short */
	if (t->n_reverts == ARRAY_SIZE(t->reverts)) {
		memmove(t->reverts, t->reverts + 1, sizeof(t->reverts) - sizeof(t->reverts[0]));
		t->n_reverts--;
	}
	t->reverts[t->n_reverts++] = now;
	for (unsigned int i = 0; i < t->n_reverts; i++)
		n += now - t->reverts[i] <= FIGHT_WINDOW_MS;
	if (n < FIGHT_REVERTS)
		return;
	delay = FIGHT_BACKOFF_MIN_MS;
	for (unsigned int i = 0; i < t->fights && delay < FIGHT_BACKOFF_MAX_MS; i++)
		delay *= 2;
	if (delay > FIGHT_BACKOFF_MAX_MS)
		delay = FIGHT_BACKOFF_MAX_MS;
	t->fights++;
	w->counters.fights++;
	t->n_reverts = 0;
	t->retry_ms = now + delay;
	{
		const struct report_iface *e = report_iface_find(rep, ifname);
		const struct report_change *c = e && e->n_changes ? &e->changes[0] : NULL;
		char wb[96];

		log_warn("fight over '%s': %s%s reverted %u times in %d s; another program keeps "
			 "setting it (a second watch, NetworkManager, a script?); leaving '%s' "
			 "alone for %lld s",
			 ifname, c ? change_what(c, wb, sizeof(wb)) : "a feature",
			 e && e->n_changes > 1 ? " and others" : "", n, FIGHT_WINDOW_MS / 1000,
			 ifname, (long long)(delay / 1000));
	}
}

/* Problems of no one interface (unmatched-rule: error, ...): said once. */
static void say_global_errors(struct watch *w, const struct plan *p)
{
	struct strlist now = { 0 };

	for (size_t e = 0; e < p->errors.n; e++)
		if (p->error_iface[e] == PLAN_NO_IFACE)
			strlist_add(&now, p->errors.items[e]);
	for (size_t i = 0; i < now.n; i++)
		if (!strlist_contains(&w->errors_said, now.items[i]))
			log_error("%s", now.items[i]);
	strlist_free(&w->errors_said);
	w->errors_said = now;
}

static void free_bad(char **bad, size_t n)
{
	for (size_t i = 0; bad && i < n; i++)
		free(bad[i]);
	free(bad);
}

/* What one pass knows beside the reconcile step. */
struct pass {
	struct watch *w;
	char **bad; /* by interface: the rules it cannot take */
	size_t n_bad;
	int64_t now, next_retry;
};

/* Under the lock: take the configuration changes inotify has queued (a
 * wrapper's drop-in written and applied while we waited must not be
 * reverted with the old set). */
static int pass_locked(struct reconcile *rc, void *arg)
{
	struct pass *ps = arg;
	struct watch *w = ps->w;

	on_inotify(w);
	if (w->exiting)
		return 1;
	w->reloaded = false;
	if (w->reload) {
		w->reload = false;
		w->reloaded = load_config(w, false) == 0;
		if (w->reloaded)
			watch_config_dirs(w); /* the new set's files, wherever they are */
	}
	rc->vi = w->have_vi ? &w->vi : NULL;
	return 0;
}

/* The plan is made: its warnings and problems are said once; rules an
 * interface cannot take (a fixed feature) are said once for it, all of
 * them in one line, and the interface is left as it is. */
static int pass_planned(struct reconcile *rc, void *arg)
{
	struct pass *ps = arg;
	struct watch *w = ps->w;
	const struct plan *p = &rc->plan;
	struct host_state *hs = &rc->hs;

	warn_once(w, &rc->plan.warnings);
	say_global_errors(w, p);
	iw_prune(w, hs);
	ps->now = now_ms();
	if (!p->errors.n)
		return 0;
	ps->bad = calloc(hs->n ? hs->n : 1, sizeof(*ps->bad));
	if (!ps->bad)
		return -ENOMEM;
	ps->n_bad = hs->n;
	for (size_t e = 0; e < p->errors.n; e++) {
		size_t k = p->error_iface[e];
		char *joined;

		if (k == PLAN_NO_IFACE)
			continue;
		if (asprintf(&joined, "%s%s%s", ps->bad[k] ? ps->bad[k] : "",
			     ps->bad[k] ? "; " : "", p->errors.items[e]) < 0)
			return -ENOMEM;
		free(ps->bad[k]);
		ps->bad[k] = joined;
	}
	for (size_t k = 0; k < hs->n; k++) {
		struct iface_watch *t;

		if (!ps->bad[k])
			continue;
		t = iw_get(w, hs->ifaces[k].ifindex, true);
		if (!t)
			return -ENOMEM;
		iw_say(t, ps->bad[k], true);
	}
	return 0;
}

/* An interface waiting out a back-off (refused, or fought over) is left
 * alone until then. */
static bool pass_skip(struct reconcile *rc, void *arg, size_t i)
{
	struct pass *ps = arg;
	struct iface_watch *t =
		iw_get(ps->w, rc->hs.ifaces[rc->plan.ifaces[i].iface].ifindex, false);

	if (t && t->retry_ms > ps->now) {
		if (!ps->next_retry || t->retry_ms < ps->next_retry)
			ps->next_retry = t->retry_ms;
		return true;
	}
	return false;
}

/* One interface was tried: log what changed, or say why not and back off. */
static int pass_applied(struct reconcile *rc, void *arg, size_t i, int result, struct report *rep)
{
	struct pass *ps = arg;
	struct watch *w = ps->w;
	struct iface *ifc = &rc->hs.ifaces[rc->plan.ifaces[i].iface];
	/* kept only for interfaces that failed or drifted: a first pass over
	 * 10,000 new veths makes none */
	struct iface_watch *t = iw_get(w, ifc->ifindex, false);
	bool existed = host_state_find_index(&w->cur, ifc->ifindex) != NULL;
	bool drift = existed && !w->first_pass && !w->reloaded;
	int64_t now = ps->now;

	if ((result == 1 || drift) && !t && !(t = iw_get(w, ifc->ifindex, true)))
		return -ENOMEM;
	if (result == 1) {
		/* refused and rolled back: again later, less often */
		char *msg = report_errors(rep), *retry = NULL;
		int64_t delay = BACKOFF_MIN_MS;

		for (unsigned int k = 0; k < t->fails && delay < BACKOFF_MAX_MS; k++)
			delay *= 2;
		if (delay > BACKOFF_MAX_MS)
			delay = BACKOFF_MAX_MS;
		t->fails++;
		w->counters.refusals++;
		t->retry_ms = now + delay;
		if (!ps->next_retry || t->retry_ms < ps->next_retry)
			ps->next_retry = t->retry_ms;
		if (msg && asprintf(&retry, "%s (will try again, backing off up to %d s)", msg,
				    BACKOFF_MAX_MS / 1000) < 0)
			retry = NULL;
		iw_say(t, retry ? retry : "cannot set its features", true);
		free(retry);
		free(msg);
		return 0;
	}
	log_pass(w, rep, w->first_pass);
	if (t && t->said) {
		log_notice("'%s' holds its desired state now", ifc->name);
		free(t->said);
		t->said = NULL;
	}
	if (t)
		t->fails = 0;
	if (drift)
		note_revert(w, t, ifc->name, rep, now);
	if (t && t->retry_ms > now && (!ps->next_retry || t->retry_ms < ps->next_retry))
		ps->next_retry = t->retry_ms;
	return 0;
}

/*
 * One pass: the reconcile step apply takes, each interface on its own: one
 * that cannot take its rules is reported once, retried with back-off, and
 * never stops the others.
 */
void run_pass(struct watch *w)
{
	struct pass ps = { .w = w };
	const struct reconcile_hooks hooks = {
		.locked = pass_locked,
		.planned = pass_planned,
		.skip = pass_skip,
		.applied = pass_applied,
		.arg = &ps,
	};
	struct reconcile rc;
	bool ok = false;

	w->dirty = false;
	log_debug("pass %lu", ++w->passes);
	w->counters.passes++;
	reconcile_init(&rc);
	rc.mode = RECONCILE_APPLY_EACH;
	rc.b = w->b;
	rc.ds = &w->ds;
	rc.lock = true;
	rc.lock_timeout = PASS_LOCK_TIMEOUT;
	rc.hooks = &hooks;
	switch (reconcile_run(&rc)) {
	case RECONCILE_DONE:
		ok = true;
		break;
	case RECONCILE_STOPPED:
		reconcile_free(&rc);
		free_bad(ps.bad, ps.n_bad);
		return;
	case RECONCILE_LOCK:
		log_warn("cannot take the lock (%s); trying again", strerror(-rc.err));
		break;
	case RECONCILE_READ:
		log_read_error(w->b, rc.err);
		break;
	case RECONCILE_INVALID:
		for (size_t i = 0; i < rc.plan.invalid.n; i++)
			log_error("%s", rc.plan.invalid.items[i]);
		break;
	case RECONCILE_NOT_PERMITTED: /* the lock is always taken */
	case RECONCILE_FAILED:
		break;
	}
	/* Keep what we learnt about the interfaces, also after a failure, so
	 * that the echoes of a rollback are recognised. */
	if (ok || rc.hs.names.count) {
		host_state_free(&w->cur);
		w->cur = rc.hs;
		memset(&rc.hs, 0, sizeof(rc.hs));
	}
	free_bad(ps.bad, ps.n_bad);
	reconcile_free(&rc);
	if (!ok) {
		/* try again later */
		w->failures++;
		w->counters.failed_passes++;
		write_metrics(w);
		back_off(w);
		return;
	}
	w->failures = 0;
	w->first_pass = false;
	memset(&w->not_before, 0, sizeof(w->not_before));
	/* An interface waiting out a back-off gets its pass then. */
	if (ps.next_retry) {
		w->dirty = true;
		arm_timer_sooner(w, ps.next_retry - now_ms());
	}
	w->counters.last_success = wall_seconds();
	write_metrics(w);
}
