/* facts-load.h - read a saved facts document back into the model, so that
 * `check --facts FILE` plans for another host, offline */
#pragma once

#include "lib/strlist.h"
#include "model/iface.h"
#include "model/virt.h"

/* Parse a facts document (json format, with the features maps) from path
 * ("-" for stdin).  Returns 0, -EINVAL with a message in errors, -ENOMEM. */
int facts_load(const char *path, struct host_state *ret_hs, struct virt_info *ret_vi,
	       struct strlist *errors);
