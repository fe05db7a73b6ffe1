/* link.h - link facts from one rtnetlink dump */
#pragma once

#include "iface.h"

/* Dump every link (RTM_GETLINK) into hs: ifindex, name, kind, mac,
 * operstate.  Returns 0 or a negative errno. */
int link_dump(struct host_state *hs);
