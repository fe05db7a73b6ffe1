/* apply.h - carry out a plan, verify it against the kernel's reply, roll back */
#pragma once

#include "backend/backend.h"
#include "model/plan.h"
#include "model/report.h"

/*
 * Send each planned interface's bits, check the kernel's reply, and record
 * changes and side effects in rep.  When the kernel refuses or cannot hold a
 * requested state, every interface changed in this run is put back and
 * rep's rolled_back is set.  An interface that vanished before its turn is a
 * warning; the others still converge.
 * Each warning and error is in rep; log_errors also logs them (watch says
 * each one once, on its own).
 * Returns 0 when the desired state was reached, 1 when not, -ENOMEM.
 */
int apply_plan(struct backend *b, struct host_state *hs, const struct plan *p, struct report *rep,
	       bool log_errors);

/* Told of each interface apply_plan_each() tried: i indexes p->ifaces,
 * result is apply_plan()'s for it (0 or 1), one its own report (merged
 * into the run's report after the call).  A negative errno stops the run. */
typedef int (*apply_each_fn)(void *arg, size_t i, int result, struct report *one);

/*
 * apply_plan for each planned interface on its own: one that cannot take
 * its rules is rolled back alone and never stops the others.  skip (by
 * index in p->ifaces, may be NULL) leaves interfaces out; each (may be
 * NULL) is told of every interface tried.  Returns 0 when every interface
 * tried reached its state, 1 when not, or a negative errno.
 */
int apply_plan_each(struct backend *b, struct host_state *hs, const struct plan *p,
		    const bool *skip, struct report *rep, bool log_errors, apply_each_fn each,
		    void *arg);
