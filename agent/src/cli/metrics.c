/* metrics.c - Prometheus text exposition (node_exporter's textfile format)
 *
 * The format (prometheus.io "Exposition formats"): every sample of a family
 * follows its # HELP and # TYPE lines with no other family in between, so
 * the writers below loop family by family over the interfaces.  Written
 * through the one writer (lib/json-writer.h) as text.
 */
#include <errno.h>
#include <string.h>

#include "cli/metrics.h"
#include "lib/atomic-file.h"
#include "version.h"

void prom_family(struct jw *w, const char *name, const char *type, const char *help)
{
	jw_printf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void prom_label_value(struct jw *w, const char *value)
{
	jw_lit(w, "\"");
	for (const char *p = value; *p; p++) {
		if (*p == '\\' || *p == '"')
			jw_lit(w, "\\");
		if (*p == '\n') {
			jw_lit(w, "\\n");
			continue;
		}
		jw_put(w, p, 1);
	}
	jw_lit(w, "\"");
}

static void label(struct jw *w, bool first, const char *name, const char *value)
{
	jw_printf(w, "%s%s=", first ? "" : ",", name);
	prom_label_value(w, value);
}

static void iface_sample(struct jw *w, const char *family, const char *iface, const char *key,
			 const char *value_name, int value)
{
	jw_printf(w, "%s{", family);
	label(w, true, "interface", iface);
	label(w, false, key, value_name);
	jw_printf(w, "} %d\n", value);
}

/* active, requested, fixed: one family each */
enum {
	S_ACTIVE,
	S_REQUESTED,
	S_FIXED
};
static const char *const state_words[] = { "active", "requested", "fixed" };
static const char *const feature_help[] = {
	"Kernel feature of the interface is on (1) or off (0), as ethtool -k shows it.",
	"Kernel feature of the interface is requested on (1) or off (0); differs from active where "
	"ethtool prints [requested on/off].",
	"Kernel feature of the interface cannot be changed (1), ethtool's [fixed].",
};
static const char *const offload_help[] = {
	"ethtool -k summary line of the interface is on (1: any of its features is on) or off (0).",
	"ethtool -k summary line standing for one feature is requested on (1) or off (0).",
	"ethtool -k summary line standing for one feature cannot be changed (1).",
};

static void facts_metrics(struct jw *w, const struct virt_info *vi, const struct host_state *hs,
			  const struct facts_options *o)
{
	struct offload_summary sum[OFFLOAD_MAP_MAX];
	struct offload_map map;
	char name[64];

	prom_family(w, "offloadctl_info", "gauge",
		    "The offloadctl agent that wrote these metrics.");
	jw_lit(w, "offloadctl_info{");
	label(w, true, "version", OFFLOADCTL_VERSION);
	jw_lit(w, ",schema=\"1\"} 1\n");

	prom_family(w, "offloadctl_virtualization_info", "gauge",
		    "What this host is: vm and container words as systemd-detect-virt prints them, "
		    "role guest/host/none; empty labels are unknown or do not apply.");
	jw_lit(w, "offloadctl_virtualization_info{");
	label(w, true, "vm", vi->vm);
	label(w, false, "container", vi->container);
	label(w, false, "role", vi->role);
	label(w, false, "xen_domain", vi->xen_domain);
	label(w, false, "xen_guest_type", vi->xen_guest_type);
	label(w, false, "hypervisor_vendor", vi->hypervisor_vendor);
	jw_lit(w, "} 1\n");

	prom_family(w, "offloadctl_interface_info", "gauge",
		    "An interface and its link facts; empty labels are unknown or do not apply.");
	for (size_t i = 0; i < hs->n; i++) {
		const struct iface *ifc = &hs->ifaces[i];

		if (!facts_iface_selected(o, ifc))
			continue;
		jw_lit(w, "offloadctl_interface_info{");
		label(w, true, "interface", ifc->name);
		label(w, false, "kind", ifc->kind);
		label(w, false, "driver", ifc->driver);
		label(w, false, "module", ifc->module);
		label(w, false, "mac", ifc->mac);
		label(w, false, "operstate", ifc->operstate ? ifc->operstate : "");
		jw_printf(w, "} 1\n");
	}

	offload_map_init(hs, &map);
	for (int s = S_ACTIVE; s <= S_FIXED; s++) {
		snprintf(name, sizeof(name), "offloadctl_offload_%s", state_words[s]);
		prom_family(w, name, "gauge", offload_help[s]);
		for (size_t i = 0; i < hs->n; i++) {
			const struct iface *ifc = &hs->ifaces[i];
			size_t n;

			if (!facts_iface_selected(o, ifc) || !ifc->have_features)
				continue;
			n = offload_summaries_mapped(&map, ifc, sum);
			for (size_t k = 0; k < n; k++) {
				int v = s == S_ACTIVE  ? sum[k].active
					: s == S_FIXED ? sum[k].fixed
						       : sum[k].requested;

				if (v >= 0) /* no value for a line of several features */
					iface_sample(w, name, ifc->name, "offload",
						     sum[k].long_name, v);
			}
		}
	}

	for (int s = S_ACTIVE; s <= S_FIXED; s++) {
		snprintf(name, sizeof(name), "offloadctl_feature_%s", state_words[s]);
		prom_family(w, name, "gauge", feature_help[s]);
		for (size_t i = 0; i < hs->n; i++) {
			const struct iface *ifc = &hs->ifaces[i];

			if (!facts_iface_selected(o, ifc) || !ifc->have_features)
				continue;
			for (unsigned int k = 0; k < hs->names.count; k++) {
				int v = s == S_ACTIVE  ? featbits_test(&ifc->active, k)
					: s == S_FIXED ? iface_feature_fixed(ifc, k)
						       : featbits_test(&ifc->wanted, k);

				if (hs->names.names[k][0])
					iface_sample(w, name, ifc->name, "feature",
						     hs->names.names[k], v);
			}
		}
	}
	/* rings, channels, coalesce, pause, eee: what the facts say, a
	 * sample per parameter the kernel reports (booleans 0/1), and the
	 * maxima of rings and channels */
	for (int m = 0; m < 2; m++) {
		const char *fam = m ? "offloadctl_setting_max" : "offloadctl_setting";

		prom_family(w, fam, "gauge",
			    m ? "The maximum the driver reports for a ring or channel count."
			      : "A parameter of rings, channels, coalesce, pause or eee, under "
				"ethtool's name (on/off as 1/0).");
		for (size_t i = 0; i < hs->n; i++) {
			const struct iface *ifc = &hs->ifaces[i];
			const struct iface_settings *st = &ifc->settings;

			if (!facts_iface_selected(o, ifc))
				continue;
			for (unsigned int p = 0; p < SP_MAX; p++) {
				if (!((m ? st->has_max : st->present) & setting_bit(p)))
					continue;
				jw_printf(w, "%s{", fam);
				label(w, true, "interface", ifc->name);
				label(w, false, "group", setting_group_name(setting_defs[p].group));
				label(w, false, "setting", setting_defs[p].name);
				jw_printf(w, "} %u\n", m ? st->max[p] : st->value[p]);
			}
		}
	}
}

int facts_write_prometheus(FILE *f, const struct virt_info *vi, const struct host_state *hs,
			   const struct facts_options *o)
{
	struct jw w;
	int r;

	if (jw_open(&w, f, 0) < 0)
		return -ENOMEM;
	facts_metrics(&w, vi, hs, o);
	r = jw_close(&w);
	if (r == 0 && (fflush(f) != 0 || ferror(f)))
		r = -EIO;
	return r;
}

static void counter(struct jw *w, const char *name, const char *help, unsigned long v)
{
	prom_family(w, name, "counter", help);
	jw_printf(w, "%s %lu\n", name, v);
}

int watch_counters_write(const char *path, const struct watch_counters *c)
{
	struct atomic_file af;
	struct jw jw, *w = &jw;
	int r;

	r = atomic_file_open(path, &af);
	if (r < 0)
		return r;
	if (jw_open(w, af.f, 0) < 0) {
		atomic_file_discard(&af);
		return -ENOMEM;
	}
	prom_family(w, "offloadctl_watch_info", "gauge",
		    "The offloadctl watch daemon that wrote these metrics.");
	jw_lit(w, "offloadctl_watch_info{");
	label(w, true, "version", OFFLOADCTL_VERSION);
	jw_lit(w, "} 1\n");
	counter(w, "offloadctl_watch_passes_total", "Passes run (apply after events, coalesced).",
		c->passes);
	counter(w, "offloadctl_watch_failed_passes_total",
		"Passes that could not reach the desired state (rolled back, retried with "
		"back-off).",
		c->failed_passes);
	counter(w, "offloadctl_watch_reverts_total",
		"Features put back after they drifted from the desired state (someone's ethtool "
		"-K, a driver reset).",
		c->reverts);
	counter(w, "offloadctl_watch_fights_total",
		"Fights: another program kept setting a feature back; watch left the interface "
		"alone for a while.",
		c->fights);
	counter(w, "offloadctl_watch_refusals_total",
		"Times an interface could not take its settings (rolled back, retried with "
		"back-off).",
		c->refusals);
	prom_family(w, "offloadctl_watch_changes_total", "counter",
		    "Features set, by why: the first pass, an interface that appeared, a reloaded "
		    "configuration, drift.");
	jw_printf(w, "offloadctl_watch_changes_total{reason=\"initial\"} %lu\n",
		  c->changes_initial);
	jw_printf(w, "offloadctl_watch_changes_total{reason=\"new-interface\"} %lu\n",
		  c->changes_new);
	jw_printf(w, "offloadctl_watch_changes_total{reason=\"reload\"} %lu\n", c->changes_reload);
	jw_printf(w, "offloadctl_watch_changes_total{reason=\"drift\"} %lu\n", c->reverts);
	counter(w, "offloadctl_watch_reloads_total", "Configurations reloaded (inotify or SIGHUP).",
		c->reloads);
	counter(w, "offloadctl_watch_reload_errors_total",
		"New configurations refused because of errors (the previous one stayed in force).",
		c->reload_errors);
	prom_family(w, "offloadctl_watch_interfaces", "gauge", "Interfaces seen by the last pass.");
	jw_printf(w, "offloadctl_watch_interfaces %lu\n", c->interfaces);
	prom_family(w, "offloadctl_watch_start_time_seconds", "gauge",
		    "When watch started, seconds since the epoch.");
	jw_printf(w, "offloadctl_watch_start_time_seconds %.3f\n", c->start_time);
	prom_family(w, "offloadctl_watch_last_success_timestamp_seconds", "gauge",
		    "When the last pass that reached the desired state ended, seconds since the "
		    "epoch; 0 before the first.");
	jw_printf(w, "offloadctl_watch_last_success_timestamp_seconds %.3f\n", c->last_success);
	if (jw_close(w) < 0 || ferror(af.f)) {
		atomic_file_discard(&af);
		return -EIO;
	}
	return atomic_file_commit(&af);
}
