/* monitor.h - the kernel's events: links (rtnetlink's RTNLGRP_LINK) and
 * feature changes (the ethtool family's monitor group), read with the same
 * parsers and policies as the dumps */
#pragma once

#include <stdbool.h>

#include "model/features.h"
#include "model/settings.h"

enum monitor_event_type {
	MONITOR_LINK_NEW, /* a link appeared or changed: ifindex, ifname */
	MONITOR_LINK_DEL, /* a link went away: ifindex */
	MONITOR_FEATURES, /* FEATURES_NTF: ifindex (0 unknown); the bits when have_bits */
	MONITOR_LOST,	  /* events were lost (the socket overran): look at everything */
	MONITOR_SETTINGS, /* RINGS_NTF, CHANNELS_NTF, COALESCE_NTF, PAUSE_NTF or
			   * EEE_NTF: ifindex (0 unknown), group */
};

struct monitor_event {
	enum monitor_event_type type;
	int ifindex;
	const char *ifname; /* MONITOR_LINK_NEW; valid during the call */
	bool have_bits;	    /* MONITOR_FEATURES: active and wanted could be read;
			     * MONITOR_SETTINGS: the group's state could */
	struct featbits active, wanted;
	enum setting_group group;	/* MONITOR_SETTINGS */
	struct iface_settings settings; /* ... the group's state, when have_bits */
};

typedef void (*monitor_fn)(void *arg, const struct monitor_event *ev);

struct monitor;

/* Subscribe to both groups in the current network namespace; fn is told
 * of every event read.  Returns 0, -EPROTONOSUPPORT when the ethtool
 * family has no monitor group, or a negative errno. */
int monitor_open(monitor_fn fn, void *arg, struct monitor **ret);
void monitor_close(struct monitor *m);

/* The descriptors to poll. */
int monitor_link_fd(const struct monitor *m);
int monitor_features_fd(const struct monitor *m);

/* Read every queued link event. */
void monitor_read_links(struct monitor *m);
/* Read every queued feature event; bitsets are parsed against names (the
 * string set the caller holds, so that they compare with its state). */
void monitor_read_features(struct monitor *m, const struct feature_names *names);
