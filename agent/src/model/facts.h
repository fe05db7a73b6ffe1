/* facts.h - the facts document (CONTRACT.md "The facts document") */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "lib/json-writer.h"
#include "model/iface.h"
#include "model/virt.h"

/* One `ethtool -k` summary line of an interface. */
struct offload_summary {
	const char *long_name;
	bool active;
	int fixed;     /* 0/1, -1 = null (a summary of several features) */
	int requested; /* 0/1, -1 = null */
	int feature;   /* the one feature it stands for, or -1 */
};

/* Which kernel features each summary line stands for: the same on every
 * interface of a host, so worked out once (name matching is the costly part). */
#define OFFLOAD_MAP_MAX 16
struct offload_line {
	const char *long_name;
	struct featbits members;
	unsigned int n_members;
	int feature; /* the one member, or -1 */
};
struct offload_map {
	size_t n;
	struct offload_line line[OFFLOAD_MAP_MAX];
};

void offload_map_init(const struct host_state *hs, struct offload_map *ret);
/* ethtool -k's summary lines for ifc, in ethtool's order; returns how many
 * were written to out (at most n_offload_defs). */
size_t offload_summaries_mapped(const struct offload_map *m, const struct iface *ifc,
				struct offload_summary *out);

struct facts_options {
	bool with_features; /* the per-kernel-feature maps */
	bool facter;	    /* wrap as {"offloadctl": DOCUMENT} */
	bool no_null;	    /* leave out what would be null (facter and ansible formats) */
	char **filters;	    /* interface names or globs; none = all */
	int n_filters;
};

/* True when ifc is selected by the filters (names or globs). */
bool facts_iface_selected(const struct facts_options *o, const struct iface *ifc);

/* ifc's groups as the facts print them, as members of the object w is in:
 * "rings": {..., "max": {...}} or null, ...; groups not read left out, and
 * with o->no_null, what would be null. */
void facts_settings_write(struct jw *w, const struct iface *ifc, const struct facts_options *o);

/* Write the document to f, one interface at a time (memory does not grow
 * with the number of interfaces).  Returns 0 or a negative errno. */
int facts_write(FILE *f, const struct virt_info *vi, const struct host_state *hs,
		const struct facts_options *o);
