/* apply.h - carry out a plan, verify it against the kernel's reply, roll back */
#pragma once

#include <jansson.h>

#include "backend.h"
#include "plan.h"

/*
 * Send each planned interface's bits, check the kernel's reply, and record
 * changes and side effects in rep.  When the kernel refuses or cannot hold a
 * requested state, every interface changed in this run is put back and
 * rep's rolled_back is set.  An interface that vanished before its turn is a
 * warning; the others still converge.
 * Returns 0 when the desired state was reached, 1 when not, -ENOMEM.
 */
int apply_plan(struct backend *b, struct host_state *hs, const struct plan *p, json_t *rep);
