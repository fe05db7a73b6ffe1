/* advice.h - known-bad offload combinations (advice/NNN-ID.yaml, compiled in)
 *
 * The knowledge base is data: scripts/advice-gen.py turns advice/NNN-ID.yaml into
 * the table below at build time, so the agent and its advice are one version
 * and evaluating it reads nothing.  Evaluation is pure: facts in, hits out.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include "lib/json-writer.h"
#include "model/iface.h"
#include "model/virt.h"

enum advice_cond {
	ADVICE_ANY = 0, /* not a condition */
	ADVICE_YES,
	ADVICE_NO,
};

struct advice_setting {
	const char *name; /* as a desired state writes it: tx, lro, tx-checksum-ip-generic */
	bool on;
};

struct advice_source {
	const char *url;
	const char *what; /* what it says, in a line */
};

struct advice_entry {
	const char *id, *title, *confidence, *summary, *symptom, *risk;
	const char *elsewhere; /* what to do on another device or host, or NULL */
	bool host;	       /* host-level: no interface conditions */
	/* The match: every condition given must hold.  Lists are
	 * NULL-terminated globs (any may hold), NULL = no condition. */
	const char *const *virtualization; /* virt_matches() words */
	const char *const *name, *const *driver, *const *module, *const *kind;
	const char *const *master_kind;	     /* "bridge", "bond", "openvswitch" */
	const char *const *master_driver;    /* the master device's driver */
	const char *kernel_min, *kernel_max; /* [min, max), NULL = open */
	enum advice_cond forwarding;	     /* IPv4 or IPv6 forwarding on the device */
	enum advice_cond forwards;	     /* forwarding, or a bridge/OVS port */
	enum advice_cond xdp;		     /* an XDP program attached */
	const char *const *active;	     /* kernel features (globs): any is on */
	const char *const *fixed_active;     /* any is on and fixed */
	const char *const *changeable_off;   /* any is off and can change */
	const struct advice_setting *settings;
	size_t n_settings;
	const struct advice_source *sources;
	size_t n_sources;
};

extern const struct advice_entry advice_table[];
extern const size_t advice_table_len;

/* One piece of advice that fires. */
struct advice_hit {
	const struct advice_entry *entry;
	int iface;    /* index into host_state.ifaces, -1 for host-level advice */
	bool pending; /* something is left to do; false: followed (its settings
		       * hold) or the kernel already keeps it so */
};

struct advice_list {
	struct advice_hit *hits; /* in table order, then interface order */
	size_t n;
	size_t n_pending;
};

/* The entry with this id, or NULL. */
const struct advice_entry *advice_find(const char *id);

/*
 * Every entry that applies to this host: who the devices are and what they
 * do (driver, module, kind, name, master, forwarding, XDP, fixed features,
 * kernel, virtualisation) match, and its settings name something the device
 * can change.  A hit is pending while the feature states it is about hold
 * (active, changeable-off) and its settings do not: applied advice stays
 * listed, not pending, so a wrapper that follows it keeps a stable rule.
 * Pure.  Returns 0 or -ENOMEM.
 */
int advice_evaluate(const struct host_state *hs, const struct virt_info *vi,
		    struct advice_list *ret);
void advice_list_free(struct advice_list *l);

/* Compare a kernel release ("6.1.0-18-amd64") with a version ("5.7"):
 * <0, 0, >0 on the numeric parts, missing parts are 0. */
int kernel_version_cmp(const char *release, const char *version);

/* A bridge or Open vSwitch port, or IP forwarding on: packets it receives
 * may be forwarded (the kernel keeps LRO off on such a device). */
bool advice_iface_forwards(const struct iface *ifc);

/* The hit as the facts carry it: id, interface, summary, settings,
 * confidence; with full also title, symptom, risk, elsewhere, sources.
 * With no_null, what would be null is left out. */
void advice_hit_write(struct jw *w, const struct host_state *hs, const struct advice_hit *h,
		      bool full, bool no_null);
