/* iface.h - the host's interfaces and their feature state (the model) */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>

#include "model/features.h"
#include "model/settings.h"

struct iface {
	int ifindex;
	char name[IF_NAMESIZE];
	char kind[32];	       /* IFLA_INFO_KIND, "" = none (null) */
	char driver[32];       /* as `ethtool -i` reports it, "" = unknown */
	char module[64];       /* the module bound to the device (sysfs), "" = none */
	char mac[64];	       /* "aa:bb:..", "" = none */
	const char *operstate; /* "up", "down", ... (static string) */
	/* What the device does, for the advice and the plan (link dump). */
	int master_ifindex;	   /* IFLA_MASTER, 0 = none */
	char master[IF_NAMESIZE];  /* its name, "" = none */
	char master_kind[32];	   /* IFLA_INFO_SLAVE_KIND ("bridge", "bond"), "" = none */
	signed char forwarding[2]; /* IPv4, IPv6 devconf forwarding: 1, 0, -1 unknown */
	const char *xdp;	   /* "native", "generic", "offload", "multi", NULL = none */
	bool have_link_role;	   /* the fields above were read (link dump or facts) */
	bool have_features;
	struct featbits hw, wanted, active, nochange;
	struct iface_settings settings; /* rings, channels, coalesce, pause, eee */
};

/* Everything the plan and the facts need to know about the interfaces. */
struct host_state {
	struct feature_names names;
	struct iface *ifaces; /* in ifindex order: every reader sorts (host_state_sort) */
	size_t n;
	size_t cap;
	char kernel_release[65]; /* uname -r, "" = unknown */
};

/* ethtool's [fixed]: not changeable, or marked never-change. */
static inline bool iface_feature_fixed(const struct iface *ifc, unsigned int i)
{
	return !featbits_test(&ifc->hw, i) || featbits_test(&ifc->nochange, i);
}

/* The device forwards packets for others: IPv4 or IPv6 forwarding on it. */
static inline bool iface_forwarding(const struct iface *ifc)
{
	return ifc->forwarding[0] == 1 || ifc->forwarding[1] == 1;
}

struct iface *host_state_find(struct host_state *hs, const char *name);
struct iface *host_state_find_index(struct host_state *hs, int ifindex);
/* Append a zeroed interface; returns it or NULL. */
struct iface *host_state_add(struct host_state *hs);
void host_state_free(struct host_state *hs);
/* Put the interfaces in ifindex order, as the model keeps them: kernels
 * may dump in hash order, a facts file in any. */
void host_state_sort(struct host_state *hs);
