/* last-good.h - the last configuration that validated, kept for the boot
 *
 * One drop-in that does not parse must not leave every NIC unconfigured
 * after the next reboot.  apply and watch save a copy of the configuration
 * set each time it validates; when the set is invalid, the boot unit
 * (apply --fall-back) and watch apply the copy, loudly, until it is fixed.
 */
#pragma once

#include <time.h>

#include "model/desired-state.h"

/* /var/lib/offloadctl/last-good, or $OFFLOADCTL_STATE_DIR/last-good. */
const char *last_good_dir(void);

/*
 * Save the files ds was read from (in order) as the last good set, unless
 * the saved copy already holds the same.  Atomic: a crash leaves the old
 * copy or the new one.  Returns 0 or a negative errno.
 */
int last_good_save(const struct desired_state *ds);

/*
 * Load the saved set into ds (initialised here).  *ret_saved is when it
 * was saved.  Returns 0, -ENOENT when there is none, or a negative errno
 * (messages in errors).
 */
int last_good_load(struct desired_state *ds, struct strlist *errors, time_t *ret_saved);
