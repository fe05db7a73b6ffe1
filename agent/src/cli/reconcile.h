/* reconcile.h - one reconcile step: lock, read, plan, apply, report
 *
 * `check`, `apply` and every pass of `watch` take the same step; they differ
 * in what they do with its result (print it, or log it and remember each
 * interface's trouble) and watch adds its own bookkeeping through hooks.
 */
#pragma once

#include <stdbool.h>

#include "backend/backend.h"
#include "model/desired-state.h"
#include "model/iface.h"
#include "model/plan.h"
#include "model/report.h"
#include "model/virt.h"

enum reconcile_mode {
	RECONCILE_PLAN,	      /* check, apply --dry-run: report what would change */
	RECONCILE_APPLY,      /* the whole plan at once, rolled back as one */
	RECONCILE_APPLY_EACH, /* each interface on its own (watch, --per-interface) */
};

/* Where a step stopped. */
enum reconcile_stage {
	RECONCILE_DONE,		 /* ran to the end: see result */
	RECONCILE_STOPPED,	 /* a hook asked to stop (watch is exiting) */
	RECONCILE_LOCK,		 /* the lock could not be taken (err) */
	RECONCILE_READ,		 /* the interfaces could not be read (err) */
	RECONCILE_INVALID,	 /* names this kernel does not know: plan.invalid */
	RECONCILE_NOT_PERMITTED, /* changes to make, and no lock: not privileged */
	RECONCILE_FAILED,	 /* out of memory, or a hook failed (err) */
};

struct reconcile;

struct reconcile_hooks {
	/* The lock is held and nothing is read yet (watch takes the
	 * configuration changes queued meanwhile).  Nonzero stops the step. */
	int (*locked)(struct reconcile *rc, void *arg);
	/* The plan is made and valid, nothing is applied.  A negative errno
	 * stops the step. */
	int (*planned)(struct reconcile *rc, void *arg);
	/* RECONCILE_APPLY_EACH: leave rc->plan.ifaces[i] alone this time. */
	bool (*skip)(struct reconcile *rc, void *arg, size_t i);
	/* RECONCILE_APPLY_EACH: rc->plan.ifaces[i] was tried, result 0
	 * (reached) or 1 (refused, rolled back); one is its own report. */
	int (*applied)(struct reconcile *rc, void *arg, size_t i, int result, struct report *one);
	void *arg;
};

struct reconcile {
	/* set by the caller (reconcile_init() gives the defaults) */
	enum reconcile_mode mode;
	struct backend *b; /* NULL: hs is given (check --facts) */
	const struct desired_state *ds;
	const struct virt_info *vi; /* NULL when no rule has a host condition */
	struct plan_opts po;
	bool lock;	     /* take the run lock first */
	double lock_timeout; /* seconds */
	bool log_errors;     /* apply_plan() logs what it reports */
	const struct reconcile_hooks *hooks;

	/* what the step found */
	const char *lock_path; /* $OFFLOADCTL_LOCK_FILE or LOCK_FILE_DEFAULT */
	int lock_fd;	       /* held until reconcile_free(), -1 = none */
	struct host_state hs;  /* read (or given); a caller may move it out */
	struct plan plan;
	struct report rep; /* the change report */
	int result;	   /* RECONCILE_DONE: 0 reached (in sync), 1 not */
	int err;	   /* a negative errno for LOCK, READ and FAILED */
};

void reconcile_init(struct reconcile *rc);

/*
 * Take the step: the lock (when rc->lock), the interfaces (the link dump
 * only when a rule needs kind, mac, driver or module), the plan, the
 * report of the plan (warnings, errors, notes), then by mode: the planned
 * changes listed, or applied whole, or applied an interface at a time
 * (interfaces whose rules cannot be reached are left out).  Returns where
 * it stopped.
 */
enum reconcile_stage reconcile_run(struct reconcile *rc);

/* Release the lock and free what the step holds. */
void reconcile_free(struct reconcile *rc);
