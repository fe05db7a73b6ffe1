/* apply.c - carry out a plan, verify it against the kernel's reply, roll back */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
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
	int param;			/* a setting (enum setting_param), -1: a feature */
	uint32_t sfrom, sto;		/* the setting's values */
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
	struct iface_settings settings; /* the groups as they were before this run */
	uint64_t settings_sent;		/* the groups' parameters this run asked for */
};

/* The groups set before the features (they may reset the link, and a
 * driver may change features with its queues) and after them. */
#define GROUPS_BEFORE ((1u << SG_RINGS) | (1u << SG_CHANNELS))
#define GROUPS_AFTER  ((1u << SG_COALESCE) | (1u << SG_PAUSE) | (1u << SG_EEE))

static const char *fname(const struct host_state *hs, unsigned int i)
{
	return i < hs->names.count ? hs->names.names[i] : "?";
}

/* A warning or an error of this run: into the report, and logged when the
 * caller wants it said (watch says each one once, on its own). */
static void say(struct report *rep, bool log_errors, bool error, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void say(struct report *rep, bool log_errors, bool error, const char *fmt, ...)
{
	char buf[1536];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	report_add_message(error ? &rep->errors : &rep->warnings, buf);
	if (log_errors && error)
		log_error("%s", buf);
	else if (log_errors)
		log_warn("%s", buf);
}

/* ": kernel reports: MSG" when the kernel said why, else "". */
static const char *kernel_says(const char *msg, char *buf, size_t len)
{
	if (!msg)
		return "";
	snprintf(buf, len, ": kernel reports: %s", msg);
	return buf;
}

/* "rx: 2" or "tx-push: on": a parameter's value as a rule writes it. */
static const char *setting_text(unsigned int p, uint32_t v, char *buf, size_t len)
{
	if (setting_defs[p].type == ST_BOOL)
		snprintf(buf, len, "%s", v ? "on" : "off");
	else
		snprintf(buf, len, "%u", v);
	return buf;
}

/* Put ifc's features back: its wanted set as it was, then check that the
 * active set followed.  Returns false when it could not. */
static bool rollback_features(struct backend *b, struct host_state *hs, const struct undo *u,
			      struct report *rep, bool log_errors)
{
	struct iface *ifc = u->ifc;
	struct featbits mask;
	struct set_result res;
	char *msg = NULL, kbuf[1024];
	int r;

	for (unsigned int w = 0; w < FEAT_WORDS; w++)
		mask.w[w] = ((u->wanted.w[w] ^ ifc->wanted.w[w]) | u->sent.w[w]) & ifc->hw.w[w];
	if (!featbits_any(&mask))
		return true;
	r = backend_set_features(b, hs, ifc, &mask, &u->wanted, &res, &msg);
	if (r == 0)
		r = backend_refresh_iface(b, hs, ifc);
	if (r == -ENODEV) {
		/* Gone (or renamed): nothing of it is left to restore; the
		 * rollback of every interface that exists holds. */
		say(rep, log_errors, false,
		    "interface '%s' disappeared during the run; nothing to roll back there",
		    ifc->name);
		free(msg);
		return true;
	}
	if (r < 0 || memcmp(&ifc->active, &u->active, sizeof(ifc->active)) != 0) {
		say(rep, log_errors, true, "cannot roll back '%s': %s%s", ifc->name,
		    r < 0 ? strerror(-r) : "its features differ from before the run",
		    kernel_says(msg, kbuf, sizeof(kbuf)));
		free(msg);
		return false;
	}
	free(msg);
	return true;
}

/* Put ifc's groups back, the last set first: every parameter this run
 * sent, read back and compared with what it was.  Returns false when it
 * could not. */
static bool rollback_settings(struct backend *b, struct host_state *hs, const struct undo *u,
			      unsigned int groups, struct report *rep, bool log_errors)
{
	struct iface *ifc = u->ifc;
	bool ok = true;

	for (int g = SG_MAX; g-- > 0;) {
		uint64_t gm = setting_group_mask((enum setting_group)g) & u->settings_sent,
			 mask = 0;
		char *msg = NULL, kbuf[1024];
		int r;

		if (!gm || !(groups & (1u << g)))
			continue;
		r = backend_refresh_settings(b, hs, ifc, (enum setting_group)g);
		for (unsigned int p = 0; r == 0 && p < SP_MAX; p++)
			if ((gm & setting_bit(p)) && ifc->settings.value[p] != u->settings.value[p])
				mask |= setting_bit(p);
		if (r == 0 && mask)
			r = backend_set_settings(b, hs, ifc, (enum setting_group)g, mask,
						 u->settings.value, &msg);
		if (r == -ENODEV) {
			say(rep, log_errors, false,
			    "interface '%s' disappeared during the run; nothing to roll back there",
			    ifc->name);
			free(msg);
			return ok;
		}
		for (unsigned int p = 0; r == 0 && p < SP_MAX; p++)
			if ((gm & setting_bit(p)) && ifc->settings.value[p] != u->settings.value[p])
				r = -EIO;
		if (r < 0) {
			say(rep, log_errors, true, "cannot roll back the %s of '%s': %s%s",
			    setting_group_name((enum setting_group)g), ifc->name,
			    r == -EIO ? "they differ from before the run" : strerror(-r),
			    kernel_says(msg, kbuf, sizeof(kbuf)));
			ok = false;
		}
		free(msg);
	}
	return ok;
}

/* Put every touched interface back, the last one first, each in the
 * reverse of apply's order. */
static bool rollback(struct backend *b, struct host_state *hs, struct undo *u, size_t n,
		     struct report *rep, bool log_errors)
{
	bool ok = true;

	for (size_t k = n; k-- > 0;) {
		ok &= rollback_settings(b, hs, &u[k], GROUPS_AFTER, rep, log_errors);
		ok &= rollback_features(b, hs, &u[k], rep, log_errors);
		ok &= rollback_settings(b, hs, &u[k], GROUPS_BEFORE, rep, log_errors);
	}
	return ok;
}

/* Send pi's parameters of the groups in groups (bit per enum
 * setting_group), one set per group, each read back and compared.
 * Returns 0, 1 when the kernel refused or did not take a value (said in
 * rep), or -ENODEV when the interface is gone. */
static int apply_settings(struct backend *b, struct host_state *hs, const struct plan_iface *pi,
			  unsigned int groups, struct undo *u, struct report *rep, bool log_errors)
{
	struct iface *ifc = &hs->ifaces[pi->iface];

	for (int g = 0; g < SG_MAX; g++) {
		uint32_t values[SP_MAX] = { 0 };
		uint64_t mask = 0;
		char *msg = NULL, kbuf[1024], where[DS_LOCATION_MAX], t1[16], t2[16];
		int r, failed = 0;

		if (!(groups & (1u << g)))
			continue;
		for (size_t k = 0; k < pi->n_settings; k++) {
			const struct plan_setting *st = &pi->settings[k];

			if (setting_defs[st->param].group != (enum setting_group)g)
				continue;
			mask |= setting_bit(st->param);
			values[st->param] = st->to;
		}
		if (!mask)
			continue;
		log_info("setting %s on '%s'%s", setting_group_name((enum setting_group)g),
			 ifc->name,
			 setting_group_resets_link((enum setting_group)g) ? " (may reset the link)"
									  : "");
		u->settings_sent |= mask; /* the kernel may have done part of it */
		r = backend_set_settings(b, hs, ifc, (enum setting_group)g, mask, values, &msg);
		if (r == -ENODEV) {
			free(msg);
			return r;
		}
		if (r < 0) {
			say(rep, log_errors, true, "cannot set %s on '%s': %s%s",
			    setting_group_name((enum setting_group)g), ifc->name, strerror(-r),
			    kernel_says(msg, kbuf, sizeof(kbuf)));
			free(msg);
			return 1;
		}
		free(msg);
		/* Verify: what the driver holds now, read back, is what was sent. */
		for (size_t k = 0; k < pi->n_settings; k++) {
			const struct plan_setting *st = &pi->settings[k];
			unsigned int p = st->param;

			if (!(mask & setting_bit(p)) || ifc->settings.value[p] == st->to)
				continue;
			ds_location_format(st->rule, where, sizeof(where));
			say(rep, log_errors, true,
			    "%s: cannot set '%s: %s' on '%s' to %s: the driver keeps it %s", where,
			    setting_group_name((enum setting_group)g), setting_defs[p].name,
			    ifc->name, setting_text(p, st->to, t1, sizeof(t1)),
			    iface_settings_has(&ifc->settings, p)
				    ? setting_text(p, ifc->settings.value[p], t2, sizeof(t2))
				    : "unreadable");
			failed = 1;
		}
		if (failed)
			return 1;
	}
	return 0;
}

/* Set pi's features and check the kernel's reply.  Returns 0, 1 when the
 * kernel refused or does not hold what was asked (said in rep), or
 * -ENODEV when the interface is gone. */
static int apply_features(struct backend *b, struct host_state *hs, const struct plan_iface *pi,
			  struct set_result *res, struct report *rep, bool log_errors)
{
	struct iface *ifc = &hs->ifaces[pi->iface];
	char *msg = NULL, kbuf[1024];
	int r, failed = 0;

	log_info("setting %zu feature%s on '%s'", pi->n_changes, pi->n_changes == 1 ? "" : "s",
		 ifc->name);
	r = backend_set_features(b, hs, ifc, &pi->mask, &pi->values, res, &msg);
	if (r == -ENODEV) {
		free(msg);
		return r;
	}
	if (r < 0) {
		say(rep, log_errors, true, "cannot set features on '%s': %s%s", ifc->name,
		    strerror(-r), kernel_says(msg, kbuf, sizeof(kbuf)));
		free(msg);
		return 1;
	}
	free(msg);

	/* Verify: every feature the rules decide must now be as they want
	 * it, the ones we sent and the ones the kernel may have switched on
	 * its own because of them (TSO with TX checksums). */
	for (unsigned int bit = 0; bit < hs->names.count; bit++) {
		bool want;
		char where[DS_LOCATION_MAX];

		if (!featbits_test(&pi->want_mask, bit))
			continue;
		want = featbits_test(&pi->want_values, bit);
		if (featbits_test(&ifc->active, bit) == want &&
		    !(featbits_test(&pi->mask, bit) && featbits_test(&res->refused, bit)))
			continue;
		ds_location_format(pi->want_rule[bit], where, sizeof(where));
		say(rep, log_errors, true,
		    "%s: cannot set '%s' on '%s' to %s: the kernel keeps it %s (%s)", where,
		    fname(hs, bit), ifc->name, want ? "on" : "off",
		    featbits_test(&ifc->active, bit) ? "on" : "off",
		    want ? "a feature it depends on is off, or the driver refuses it"
			 : "another feature needs it, or the driver refuses it");
		failed = 1;
	}
	return failed;
}

int apply_plan(struct backend *b, struct host_state *hs, const struct plan *p, struct report *rep,
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
		struct iface_settings old_settings = ifc->settings;
		struct set_result res;
		int r;

		/* what is sent is recorded as it is sent: a rollback puts back
		 * only what this run asked for */
		undo[n_undo] = (struct undo){ .ifc = ifc,
					      .wanted = ifc->wanted,
					      .active = ifc->active,
					      .settings = ifc->settings };
		memset(&res, 0, sizeof(res));
		/* rings and channels, the features, then coalesce, pause, eee:
		 * the order the peers learned (NetworkManager, TuneD) */
		r = apply_settings(b, hs, pi, GROUPS_BEFORE, &undo[n_undo], rep, log_errors);
		if (r == 0 && pi->n_changes) {
			undo[n_undo].sent = pi->mask;
			r = apply_features(b, hs, pi, &res, rep, log_errors);
		}
		if (r == 0)
			r = apply_settings(b, hs, pi, GROUPS_AFTER, &undo[n_undo], rep, log_errors);
		if (r == -ENODEV) {
			say(rep, log_errors, false,
			    "interface '%s' disappeared or was renamed before its features "
			    "could be set; skipped",
			    ifc->name);
			/* what was set before it went is put back where it can be */
			if (undo[n_undo].settings_sent)
				n_undo++;
			continue;
		}
		n_undo++; /* the kernel may have done part of it */
		if (r) {
			failed = true;
			break;
		}
		for (size_t c = 0; c < pi->n_changes; c++) {
			const struct plan_change *ch = &pi->changes[c];
			oom |= seen_add(&seen,
					(struct seen){ ifc->name, ch->feature, !ch->to, ch->to,
						       ch->requested_only, ch->rule, -1, 0, 0 });
		}
		for (size_t k = 0; k < pi->n_settings; k++) {
			const struct plan_setting *st = &pi->settings[k];

			oom |= seen_add(&seen, (struct seen){ ifc->name, 0, false, false, false,
							      st->rule, (int)st->param,
							      old_settings.value[st->param],
							      ifc->settings.value[st->param] });
		}
		/* Side effects: what changed that we did not ask for. */
		for (unsigned int bit = 0; pi->n_changes && bit < hs->names.count; bit++) {
			if (featbits_test(&pi->mask, bit) || !featbits_test(&res.active_mask, bit))
				continue;
			oom |= seen_add(&seen, (struct seen){ ifc->name, bit,
							      featbits_test(&old_active, bit),
							      featbits_test(&ifc->active, bit),
							      false, NULL, -1, 0, 0 });
		}
		changed = true;
	}

	if (failed) {
		bool ok = rollback(b, hs, undo, n_undo, rep, log_errors);

		rep->rolled_back = ok;
		rep->changed = false;
		rep->in_sync = false;
	} else {
		for (size_t k = 0; k < seen.n; k++) {
			const struct seen *s = &seen.v[k];

			if (s->param >= 0)
				oom |= report_add_setting_change(rep, s->ifname,
								 (unsigned int)s->param, s->sfrom,
								 s->sto, s->rule);
			else if (s->rule && s->requested_only)
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
		rep->changed = changed;
		rep->in_sync = true;
	}
	free(seen.v);
	free(undo);
	if (oom)
		return -ENOMEM;
	return failed ? 1 : 0;
}

int apply_plan_each(struct backend *b, struct host_state *hs, const struct plan *p,
		    const bool *skip, struct report *rep, bool log_errors, apply_each_fn each,
		    void *arg)
{
	bool changed = false, failed = false, rolled_back = false;

	for (size_t i = 0; i < p->n; i++) {
		struct plan one = *p;
		struct report r1;
		int r;

		if (skip && skip[i])
			continue;
		one.ifaces = &p->ifaces[i];
		one.n = 1;
		report_init(&r1);
		r = apply_plan(b, hs, &one, &r1, log_errors);
		if (r >= 0 && each) {
			int e = each(arg, i, r, &r1);

			if (e < 0)
				r = e;
		}
		if (r == 1) {
			failed = true;
			rolled_back |= r1.rolled_back;
		}
		changed |= r1.changed;
		if (r >= 0 && report_merge(rep, &r1) < 0)
			r = -ENOMEM;
		report_free(&r1);
		if (r < 0)
			return r;
	}
	rep->changed = changed;
	rep->in_sync = !failed;
	rep->rolled_back = rolled_back;
	return failed ? 1 : 0;
}
