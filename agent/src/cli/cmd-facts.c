/* cmd-facts.c - `offloadctl facts` and `offloadctl show` */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "cli/cli.h"
#include "cli/metrics.h"
#include "host/virt-detect.h"
#include "lib/atomic-file.h"
#include "lib/escape.h"
#include "lib/log.h"
#include "model/advice.h"
#include "model/facts.h"
#include "model/report.h"

int cmd_facts(const struct global_opts *g, int argc, char **argv)
{
	enum {
		OPT_FORMAT = 256,
		OPT_FULL,
		OPT_OUTPUT
	};
	static const struct option opts[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "full", no_argument, NULL, OPT_FULL },
		{ "output", required_argument, NULL, OPT_OUTPUT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct facts_options fo = { .with_features = true };
	const char *format = "json", *output = NULL;
	struct atomic_file af = { 0 };
	bool prometheus = false;
	struct host_state hs;
	struct virt_info vi;
	struct backend *b;
	bool full = false;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_FORMAT:
			format = optarg;
			break;
		case OPT_FULL:
			full = true;
			break;
		case OPT_OUTPUT:
			output = optarg;
			break;
		case 'h':
			fputs(command_find("facts")->usage, stdout);
			return EXIT_OK;
		default:
			return usage_error("facts", "unknown or incomplete option '%s'",
					   argv[optind - 1]);
		}
	}
	if (strcmp(format, "json") == 0) {
		fo.with_features = true;
	} else if (strcmp(format, "facter") == 0) {
		/* Puppet turns a null into '', which is truthy: keys left out */
		fo.facter = true;
		fo.no_null = true;
		fo.with_features = full;
	} else if (strcmp(format, "ansible") == 0) {
		fo.no_null = true;
		fo.with_features = full;
	} else if (strcmp(format, "prometheus") == 0) {
		prometheus = true;
	} else {
		return usage_error(
			"facts",
			"unknown format '%s' (expected json, facter, ansible or prometheus)",
			format);
	}
	fo.filters = argv + optind;
	fo.n_filters = argc - optind;

	/* Virtualisation first: it reads host files, not the namespace. */
	r = virt_detect(g->root, &vi);
	if (r < 0) {
		log_error("cannot detect virtualisation: %s", strerror(-r));
		return EXIT_ENV;
	}
	r = host_open(g, &b, &hs);
	if (r) {
		virt_info_free(&vi);
		return r;
	}
	r = backend_read_settings(b, &hs, SETTING_GROUPS_ALL);
	if (r < 0)
		log_warn("cannot read rings, channels, coalesce, pause or EEE: %s", strerror(-r));
	for (int i = 0; i < fo.n_filters; i++) {
		bool hit = false;

		for (size_t k = 0; k < hs.n && !hit; k++) {
			struct facts_options one = { .filters = &fo.filters[i], .n_filters = 1 };

			hit = facts_iface_selected(&one, &hs.ifaces[k]);
		}
		if (!hit)
			log_warn("no interface matches '%s'", fo.filters[i]);
	}
	if (output) {
		r = atomic_file_open(output, &af);
		if (r < 0) {
			log_error("cannot write '%s': %s", output, strerror(-r));
			goto out;
		}
	}
	if (prometheus)
		r = facts_write_prometheus(output ? af.f : stdout, &vi, &hs, &fo);
	else
		r = facts_write(output ? af.f : stdout, &vi, &hs, &fo);
	if (output && r == 0)
		r = atomic_file_commit(&af);
	else if (output)
		atomic_file_discard(&af);
	if (r < 0)
		log_error("cannot write facts%s%s%s: %s", output ? " to '" : "",
			  output ? output : "", output ? "'" : "", strerror(-r));
out:
	host_state_free(&hs);
	backend_close(b);
	virt_info_free(&vi);
	return r < 0 ? EXIT_ENV : EXIT_OK;
}

/* What show says of one feature or summary line of one interface. */
struct show_cell {
	bool active;
	int fixed;    /* 0, 1 fixed, 2 partly fixed: switched off, members stay on */
	bool refused; /* requested otherwise, the kernel keeps it so */
};

/* One cell as text: on/off, '*' fixed, '~' partly fixed, '!' requested otherwise. */
static void cell_text(char *buf, size_t len, const struct show_cell *c)
{
	snprintf(buf, len, "%s%s", c->active ? "on" : "off",
		 c->fixed == 1	 ? "*"
		 : c->fixed == 2 ? "~"
		 : c->refused	 ? "!"
				 : "");
}

/* The same cell as JSON: {"active", "fixed", "partly_fixed", "refused"}. */
static void cell_write(struct jw *w, const struct show_cell *c)
{
	jw_object_begin(w);
	jw_kv_bool(w, "active", c->active);
	jw_kv_bool(w, "fixed", c->fixed == 1);
	jw_kv_bool(w, "partly_fixed", c->fixed == 2);
	jw_kv_bool(w, "refused", c->refused);
	jw_object_end(w);
}

/* A summary line of several features that is on, with a member the driver
 * keeps on next to members that can change: switching the line off (tx
 * off) leaves that member on (netfront's tx-checksum-ipv4). */
static bool partly_fixed_on(const struct offload_line *l, const struct iface *ifc,
			    unsigned int count)
{
	bool fixed_on = false, changeable = false;

	if (l->feature >= 0)
		return false;
	for (unsigned int i = 0; i < count; i++) {
		if (!featbits_test(&l->members, i))
			continue;
		if (!iface_feature_fixed(ifc, i))
			changeable = true;
		else if (featbits_test(&ifc->active, i))
			fixed_on = true;
	}
	return fixed_on && changeable;
}

static struct show_cell summary_cell(const struct offload_map *m, size_t s, const struct iface *ifc,
				     const struct offload_summary *x, unsigned int count)
{
	return (struct show_cell){ x->active,
				   partly_fixed_on(&m->line[s], ifc, count) ? 2 : x->fixed == 1,
				   x->requested >= 0 && (bool)x->requested != x->active };
}

static struct show_cell feature_cell(const struct iface *ifc, unsigned int i)
{
	bool active = featbits_test(&ifc->active, i);

	return (struct show_cell){ active, iface_feature_fixed(ifc, i),
				   featbits_test(&ifc->wanted, i) != active };
}

/* show --json: {"interfaces": [{"name", "advice", "offloads": {LINE: CELL},
 * "features": {FEATURE: CELL} (--all)}], "advice": [pending hits]}, the
 * same judgements as the table. */
static int show_json(const struct host_state *hs, const size_t *sel, size_t nsel,
		     const struct offload_map *map, struct offload_summary (*sums)[16], size_t nsum,
		     const bool *marked, bool all, const struct advice_list *advice)
{
	/* every group read, null where the driver lacks it, as facts --full */
	const struct facts_options full = { .with_features = true };
	struct jw w;

	if (out_open(&w) < 0)
		return -ENOMEM;
	jw_object_begin(&w);
	jw_key(&w, "interfaces");
	jw_array_begin(&w);
	for (size_t k = 0; k < nsel; k++) {
		const struct iface *ifc = &hs->ifaces[sel[k]];
		char esc[NAME_ESC_MAX];

		jw_object_begin(&w);
		jw_kv_string(&w, "name", name_json(ifc->name, esc, sizeof(esc)));
		jw_kv_bool(&w, "advice", marked[sel[k]]);
		jw_key(&w, "offloads");
		jw_object_begin(&w);
		for (size_t s = 0; s < nsum; s++) {
			struct show_cell c =
				summary_cell(map, s, ifc, &sums[k][s], hs->names.count);

			jw_key(&w, sums[k][s].long_name);
			cell_write(&w, &c);
		}
		jw_object_end(&w);
		jw_key(&w, "settings");
		jw_object_begin(&w);
		facts_settings_write(&w, ifc, &full);
		jw_object_end(&w);
		if (all) {
			jw_key(&w, "features");
			jw_object_begin(&w);
			for (unsigned int i = 0; i < hs->names.count; i++) {
				struct show_cell c = feature_cell(ifc, i);

				if (hs->names.names[i][0] && jw_key(&w, hs->names.names[i]) == 0)
					cell_write(&w, &c);
			}
			jw_object_end(&w);
		}
		jw_object_end(&w);
	}
	jw_array_end(&w);
	jw_key(&w, "advice");
	jw_array_begin(&w);
	for (size_t i = 0; i < advice->n; i++)
		if (advice->hits[i].pending)
			advice_hit_write(&w, hs, &advice->hits[i], false, false);
	jw_array_end(&w);
	jw_object_end(&w);
	return out_close(&w, true);
}

static int col_width(const char *label)
{
	return (int)(strlen(label) > 4 ? strlen(label) : 4);
}

/* show --settings: a second table, a row per parameter some interface has
 * ("channels rx"), a cell "VALUE" or "VALUE/MAX", "-" where the driver
 * has none (ethtool's n/a). */
static void show_settings(struct jw *w, const struct host_state *hs, const size_t *sel, size_t nsel,
			  char (*labels)[NAME_ESC_MAX])
{
	size_t width = strlen("setting");

	for (unsigned int p = 0; p < SP_MAX; p++) {
		size_t len = strlen(setting_group_name(setting_defs[p].group)) + 1 +
			     strlen(setting_defs[p].name);

		if (len > width)
			width = len;
	}
	jw_printf(w, "\n%-*s", (int)width, "setting");
	for (size_t k = 0; k < nsel; k++)
		jw_printf(w, "  %-*s", col_width(labels[k]), labels[k]);
	jw_lit(w, "\n");
	for (unsigned int p = 0; p < SP_MAX; p++) {
		const struct setting_def *def = &setting_defs[p];
		char row[64];
		bool any = false;

		for (size_t k = 0; k < nsel && !any; k++)
			any = iface_settings_has(&hs->ifaces[sel[k]].settings, p);
		if (!any)
			continue;
		snprintf(row, sizeof(row), "%s %s", setting_group_name(def->group), def->name);
		jw_printf(w, "%-*s", (int)width, row);
		for (size_t k = 0; k < nsel; k++) {
			const struct iface_settings *s = &hs->ifaces[sel[k]].settings;
			char c[32];

			if (!iface_settings_has(s, p))
				snprintf(c, sizeof(c), "-");
			else if (def->type == ST_BOOL)
				snprintf(c, sizeof(c), "%s", s->value[p] ? "on" : "off");
			else if (s->has_max & setting_bit(p))
				snprintf(c, sizeof(c), "%u/%u", s->value[p], s->max[p]);
			else
				snprintf(c, sizeof(c), "%u", s->value[p]);
			jw_printf(w, "  %-*s", col_width(labels[k]), c);
		}
		jw_lit(w, "\n");
	}
	jw_printf(w,
		  "\nsettings: VALUE/MAX where the driver reports a maximum; - where it has none "
		  "(ethtool's n/a)\n");
}

int cmd_show(const struct global_opts *g, int argc, char **argv)
{
	enum {
		OPT_JSON = 256,
		OPT_SETTINGS
	};
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "settings", no_argument, NULL, OPT_SETTINGS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false, settings = false;
	struct facts_options fo = { 0 };
	struct offload_summary(*sums)[16] = NULL;
	char(*labels)[NAME_ESC_MAX] = NULL;
	struct offload_map map;
	size_t *sel = NULL, nsel = 0, nsum = 0, width = 0;
	struct advice_list advice = { 0 };
	bool *marked = NULL, have_vi = false;
	struct host_state hs;
	struct virt_info vi;
	struct backend *b;
	bool all = false;
	struct jw w;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "ah", opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			all = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_SETTINGS:
			settings = true;
			break;
		case 'h':
			fputs(command_find("show")->usage, stdout);
			return EXIT_OK;
		default:
			return usage_error("show", "unknown option '%s'", argv[optind - 1]);
		}
	}
	fo.filters = argv + optind;
	fo.n_filters = argc - optind;
	/* The advice may depend on the virtualisation; without it (an
	 * unreadable host file) the table is still shown. */
	have_vi = virt_detect(g->root, &vi) == 0;
	r = host_open(g, &b, &hs);
	if (r) {
		if (have_vi)
			virt_info_free(&vi);
		return r;
	}
	/* the JSON always has them; the table when asked (--settings) */
	if ((json || settings) && backend_read_settings(b, &hs, SETTING_GROUPS_ALL) < 0)
		log_warn("cannot read rings, channels, coalesce, pause or EEE");

	sel = calloc(hs.n ? hs.n : 1, sizeof(*sel));
	sums = calloc(hs.n ? hs.n : 1, sizeof(*sums));
	marked = calloc(hs.n ? hs.n : 1, sizeof(*marked));
	if (!sel || !sums || !marked || advice_evaluate(&hs, have_vi ? &vi : NULL, &advice) < 0) {
		log_error("out of memory");
		r = EXIT_ENV;
		goto out;
	}
	for (size_t i = 0; i < hs.n; i++)
		if (facts_iface_selected(&fo, &hs.ifaces[i]) && hs.ifaces[i].have_features)
			sel[nsel++] = i;
	if (nsel == 0) {
		log_error("no interface matches; 'ip link' lists them (add --netns NAME for a "
			  "namespace)");
		r = EXIT_USAGE;
		goto out;
	}
	for (size_t i = 0; i < advice.n; i++)
		if (advice.hits[i].pending && advice.hits[i].iface >= 0)
			marked[advice.hits[i].iface] = true;
	offload_map_init(&hs, &map);
	for (size_t k = 0; k < nsel; k++)
		nsum = offload_summaries_mapped(&map, &hs.ifaces[sel[k]], sums[k]);
	if (json) {
		r = show_json(&hs, sel, nsel, &map, sums, nsum, marked, all, &advice) < 0 ? EXIT_ENV
											  : EXIT_OK;
		if (r)
			log_error("out of memory");
		goto out;
	}
	width = strlen("feature");
	for (size_t s = 0; s < nsum; s++)
		if (strlen(sums[0][s].long_name) > width)
			width = strlen(sums[0][s].long_name);
	if (all)
		for (unsigned int i = 0; i < hs.names.count; i++)
			if (strlen(hs.names.names[i]) > width)
				width = strlen(hs.names.names[i]);

	/* Column labels: names as the kernel has them, control characters and
	 * stray bytes escaped (names.h). */
	labels = calloc(nsel, sizeof(*labels));
	if (!labels) {
		log_error("out of memory");
		r = EXIT_ENV;
		goto out;
	}
	for (size_t k = 0; k < nsel; k++) {
		char tmp[NAME_ESC_MAX];

		snprintf(labels[k], sizeof(labels[k]), "%s%s",
			 name_text(hs.ifaces[sel[k]].name, tmp, sizeof(tmp)),
			 marked[sel[k]] ? "+" : "");
	}
	if (out_open(&w) < 0) {
		log_error("out of memory");
		r = EXIT_ENV;
		goto out;
	}
	jw_printf(&w, "%-*s", (int)width, "feature");
	for (size_t k = 0; k < nsel; k++)
		jw_printf(&w, "  %-*s", col_width(labels[k]), labels[k]);
	jw_lit(&w, "\n");
	for (size_t s = 0; s < nsum; s++) {
		jw_printf(&w, "%-*s", (int)width, sums[0][s].long_name);
		for (size_t k = 0; k < nsel; k++) {
			const struct iface *ifc = &hs.ifaces[sel[k]];
			struct show_cell sc =
				summary_cell(&map, s, ifc, &sums[k][s], hs.names.count);
			char c[8];
			int cw = col_width(labels[k]);

			cell_text(c, sizeof(c), &sc);
			jw_printf(&w, "  %-*s", cw, c);
		}
		jw_lit(&w, "\n");
	}
	for (unsigned int i = 0; all && i < hs.names.count; i++) {
		if (!hs.names.names[i][0])
			continue;
		jw_printf(&w, "%-*s", (int)width, hs.names.names[i]);
		for (size_t k = 0; k < nsel; k++) {
			struct show_cell sc = feature_cell(&hs.ifaces[sel[k]], i);
			char c[8];
			int cw = col_width(labels[k]);

			cell_text(c, sizeof(c), &sc);
			jw_printf(&w, "  %-*s", cw, c);
		}
		jw_lit(&w, "\n");
	}
	if (settings)
		show_settings(&w, &hs, sel, nsel, labels);
	jw_printf(&w,
		  "\n* fixed (cannot be changed)   ! requested otherwise, the kernel keeps it so\n"
		  "~ partly fixed: switched off, some members stay on (--all lists them)\n");
	if (advice.n_pending) {
		jw_printf(&w,
			  "+ advice (offloadctl advise explains it, docs/advice.md lists it):\n");
		advice_print_brief(&w, &hs, &advice);
	}
	if (out_close(&w, false) < 0) {
		r = EXIT_ENV;
		goto out;
	}
	r = EXIT_OK;
out:
	free(labels);
	advice_list_free(&advice);
	if (have_vi)
		virt_info_free(&vi);
	free(marked);
	free(sel);
	free(sums);
	host_state_free(&hs);
	backend_close(b);
	return r;
}
