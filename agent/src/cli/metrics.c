/* metrics.c - Prometheus text exposition (node_exporter's textfile format)
 *
 * The format (prometheus.io "Exposition formats"): every sample of a family
 * follows its # HELP and # TYPE lines with no other family in between, so
 * the writers below loop family by family over the interfaces.
 */
#include <errno.h>
#include <string.h>

#include "cli/metrics.h"
#include "lib/atomic-file.h"
#include "version.h"

void prom_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void prom_label_value(FILE *f, const char *value)
{
	putc('"', f);
	for (const char *p = value; *p; p++) {
		if (*p == '\\' || *p == '"')
			putc('\\', f);
		if (*p == '\n') {
			fputs("\\n", f);
			continue;
		}
		putc(*p, f);
	}
	putc('"', f);
}

static void label(FILE *f, bool first, const char *name, const char *value)
{
	fprintf(f, "%s%s=", first ? "" : ",", name);
	prom_label_value(f, value);
}

static void iface_sample(FILE *f, const char *family, const char *iface, const char *key,
			 const char *value_name, int value)
{
	fprintf(f, "%s{", family);
	label(f, true, "interface", iface);
	label(f, false, key, value_name);
	fprintf(f, "} %d\n", value);
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

int facts_write_prometheus(FILE *f, const struct virt_info *vi, const struct host_state *hs,
			   const struct facts_options *o)
{
	struct offload_summary sum[OFFLOAD_MAP_MAX];
	struct offload_map map;
	char name[64];

	prom_family(f, "offloadctl_info", "gauge",
		    "The offloadctl agent that wrote these metrics.");
	fputs("offloadctl_info{", f);
	label(f, true, "version", OFFLOADCTL_VERSION);
	fputs(",schema=\"1\"} 1\n", f);

	prom_family(f, "offloadctl_virtualization_info", "gauge",
		    "What this host is: vm and container words as systemd-detect-virt prints them, "
		    "role guest/host/none; empty labels are unknown or do not apply.");
	fputs("offloadctl_virtualization_info{", f);
	label(f, true, "vm", vi->vm);
	label(f, false, "container", vi->container);
	label(f, false, "role", vi->role);
	label(f, false, "xen_domain", vi->xen_domain);
	label(f, false, "xen_guest_type", vi->xen_guest_type);
	label(f, false, "hypervisor_vendor", vi->hypervisor_vendor);
	fputs("} 1\n", f);

	prom_family(f, "offloadctl_interface_info", "gauge",
		    "An interface and its link facts; empty labels are unknown or do not apply.");
	for (size_t i = 0; i < hs->n; i++) {
		const struct iface *ifc = &hs->ifaces[i];

		if (!facts_iface_selected(o, ifc))
			continue;
		fputs("offloadctl_interface_info{", f);
		label(f, true, "interface", ifc->name);
		label(f, false, "kind", ifc->kind);
		label(f, false, "driver", ifc->driver);
		label(f, false, "module", ifc->module);
		label(f, false, "mac", ifc->mac);
		label(f, false, "operstate", ifc->operstate ? ifc->operstate : "");
		fprintf(f, "} 1\n");
	}

	offload_map_init(hs, &map);
	for (int s = S_ACTIVE; s <= S_FIXED; s++) {
		snprintf(name, sizeof(name), "offloadctl_offload_%s", state_words[s]);
		prom_family(f, name, "gauge", offload_help[s]);
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
					iface_sample(f, name, ifc->name, "offload",
						     sum[k].long_name, v);
			}
		}
	}

	for (int s = S_ACTIVE; s <= S_FIXED; s++) {
		snprintf(name, sizeof(name), "offloadctl_feature_%s", state_words[s]);
		prom_family(f, name, "gauge", feature_help[s]);
		for (size_t i = 0; i < hs->n; i++) {
			const struct iface *ifc = &hs->ifaces[i];

			if (!facts_iface_selected(o, ifc) || !ifc->have_features)
				continue;
			for (unsigned int k = 0; k < hs->names.count; k++) {
				int v = s == S_ACTIVE  ? featbits_test(&ifc->active, k)
					: s == S_FIXED ? iface_feature_fixed(ifc, k)
						       : featbits_test(&ifc->wanted, k);

				if (hs->names.names[k][0])
					iface_sample(f, name, ifc->name, "feature",
						     hs->names.names[k], v);
			}
		}
	}
	/* rings, channels, coalesce, pause, eee: what the facts say, a
	 * sample per parameter the kernel reports (booleans 0/1), and the
	 * maxima of rings and channels */
	for (int m = 0; m < 2; m++) {
		const char *fam = m ? "offloadctl_setting_max" : "offloadctl_setting";

		prom_family(f, fam, "gauge",
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
				fprintf(f, "%s{", fam);
				label(f, true, "interface", ifc->name);
				label(f, false, "group", setting_group_name(setting_defs[p].group));
				label(f, false, "setting", setting_defs[p].name);
				fprintf(f, "} %u\n", m ? st->max[p] : st->value[p]);
			}
		}
	}
	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	return 0;
}

static void counter(FILE *f, const char *name, const char *help, unsigned long v)
{
	prom_family(f, name, "counter", help);
	fprintf(f, "%s %lu\n", name, v);
}

int watch_counters_write(const char *path, const struct watch_counters *c)
{
	struct atomic_file af;
	FILE *f;
	int r;

	r = atomic_file_open(path, &af);
	if (r < 0)
		return r;
	f = af.f;
	prom_family(f, "offloadctl_watch_info", "gauge",
		    "The offloadctl watch daemon that wrote these metrics.");
	fputs("offloadctl_watch_info{", f);
	label(f, true, "version", OFFLOADCTL_VERSION);
	fputs("} 1\n", f);
	counter(f, "offloadctl_watch_passes_total", "Passes run (apply after events, coalesced).",
		c->passes);
	counter(f, "offloadctl_watch_failed_passes_total",
		"Passes that could not reach the desired state (rolled back, retried with "
		"back-off).",
		c->failed_passes);
	counter(f, "offloadctl_watch_reverts_total",
		"Features put back after they drifted from the desired state (someone's ethtool "
		"-K, a driver reset).",
		c->reverts);
	counter(f, "offloadctl_watch_fights_total",
		"Fights: another program kept setting a feature back; watch left the interface "
		"alone for a while.",
		c->fights);
	counter(f, "offloadctl_watch_refusals_total",
		"Times an interface could not take its settings (rolled back, retried with "
		"back-off).",
		c->refusals);
	prom_family(f, "offloadctl_watch_changes_total", "counter",
		    "Features set, by why: the first pass, an interface that appeared, a reloaded "
		    "configuration, drift.");
	fprintf(f, "offloadctl_watch_changes_total{reason=\"initial\"} %lu\n", c->changes_initial);
	fprintf(f, "offloadctl_watch_changes_total{reason=\"new-interface\"} %lu\n",
		c->changes_new);
	fprintf(f, "offloadctl_watch_changes_total{reason=\"reload\"} %lu\n", c->changes_reload);
	fprintf(f, "offloadctl_watch_changes_total{reason=\"drift\"} %lu\n", c->reverts);
	counter(f, "offloadctl_watch_reloads_total", "Configurations reloaded (inotify or SIGHUP).",
		c->reloads);
	counter(f, "offloadctl_watch_reload_errors_total",
		"New configurations refused because of errors (the previous one stayed in force).",
		c->reload_errors);
	prom_family(f, "offloadctl_watch_interfaces", "gauge", "Interfaces seen by the last pass.");
	fprintf(f, "offloadctl_watch_interfaces %lu\n", c->interfaces);
	prom_family(f, "offloadctl_watch_start_time_seconds", "gauge",
		    "When watch started, seconds since the epoch.");
	fprintf(f, "offloadctl_watch_start_time_seconds %.3f\n", c->start_time);
	prom_family(f, "offloadctl_watch_last_success_timestamp_seconds", "gauge",
		    "When the last pass that reached the desired state ended, seconds since the "
		    "epoch; 0 before the first.");
	fprintf(f, "offloadctl_watch_last_success_timestamp_seconds %.3f\n", c->last_success);
	if (ferror(f)) {
		atomic_file_discard(&af);
		return -EIO;
	}
	return atomic_file_commit(&af);
}
