/* metrics.h - Prometheus text exposition (node_exporter's textfile format) */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "lib/json-writer.h"
#include "model/facts.h"
#include "model/iface.h"
#include "model/virt.h"

/* "# HELP name help\n# TYPE name type\n" */
void prom_family(struct jw *w, const char *name, const char *type, const char *help);

/* A label value between double quotes, with \\, \" and \n escaped. */
void prom_label_value(struct jw *w, const char *value);

/*
 * The facts as metrics: offloadctl_info and offloadctl_virtualization_info
 * (info metrics, value 1), offloadctl_interface_info per interface, the
 * ethtool -k summary (offloadctl_offload_active/_requested/_fixed, the last
 * two only where the line stands for one feature) and every kernel feature
 * (offloadctl_feature_active/_requested/_fixed) as 0/1 gauges labelled
 * interface and feature.  Families are written whole, one after the other,
 * as the format requires.  Returns 0 or a negative errno.
 */
int facts_write_prometheus(FILE *f, const struct virt_info *vi, const struct host_state *hs,
			   const struct facts_options *o);

/* What `watch --metrics-file` counts since it started. */
struct watch_counters {
	unsigned long passes;	       /* passes run */
	unsigned long failed_passes;   /* passes that could not reach the state */
	unsigned long changes_new;     /* features set on interfaces that appeared */
	unsigned long changes_reload;  /* features set by a new configuration */
	unsigned long changes_initial; /* features set by the first pass */
	unsigned long reverts;	       /* features put back after drift */
	unsigned long fights;	       /* fights declared: an interface left alone */
	unsigned long refusals;	       /* interface settings refused, rolled back */
	unsigned long reloads;	       /* configurations reloaded */
	unsigned long reload_errors;   /* new configurations refused (errors) */
	double start_time;	       /* seconds since the epoch */
	double last_success;	       /* end of the last good pass, 0 = none yet */
	unsigned long interfaces;      /* interfaces seen by the last pass */
};

/* Write the counters to path, atomically.  Returns 0 or a negative errno. */
int watch_counters_write(const char *path, const struct watch_counters *c);
