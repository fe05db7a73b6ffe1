/* cmd-advise.c - `offloadctl advise`: the advice that fires on this host */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "cli/cli.h"
#include "host/facts-load.h"
#include "host/virt-detect.h"
#include "lib/escape.h"
#include "lib/json-writer.h"
#include "lib/log.h"
#include "model/advice.h"
#include "version.h"

/* The interface a hit is about, safe for a terminal ("host" for none). */
static const char *hit_where(const struct host_state *hs, const struct advice_hit *h, char *buf,
			     size_t len)
{
	return h->iface >= 0 ? name_text(hs->ifaces[h->iface].name, buf, len) : "host";
}

/* A name a desired state can carry as it is, in double quotes. */
static bool plain_name(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("._-@:+", *s)))
			return false;
	return true;
}

/* The hits to show: pending ones (all with --all), on the named
 * interfaces, of the chosen ids. */
struct advise_filter {
	bool all;
	char **globs;
	int n_globs;
	char **ids;
	int n_ids;
};

static bool hit_selected(const struct advise_filter *f, const struct host_state *hs,
			 const struct advice_hit *h)
{
	bool hit = f->n_ids == 0;

	if (!f->all && !h->pending)
		return false;
	for (int i = 0; i < f->n_ids && !hit; i++)
		hit = strcmp(f->ids[i], h->entry->id) == 0;
	if (!hit)
		return false;
	if (f->n_globs == 0 || h->iface < 0)
		return true;
	for (int i = 0; i < f->n_globs; i++)
		if (fnmatch(f->globs[i], hs->ifaces[h->iface].name, 0) == 0)
			return true;
	return false;
}

static void print_settings(struct jw *w, const struct advice_entry *e)
{
	for (size_t s = 0; s < e->n_settings; s++)
		jw_printf(w, "%s%s: %s", s ? ", " : "", e->settings[s].name,
			  e->settings[s].on ? "on" : "off");
}

void advice_print_brief(struct jw *w, const struct host_state *hs, const struct advice_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct advice_hit *h = &l->hits[i];
		char esc[NAME_ESC_MAX];

		if (!h->pending)
			continue;
		jw_printf(w, "  %s: %s (%s): %s\n", hit_where(hs, h, esc, sizeof(esc)),
			  h->entry->id, h->entry->confidence, h->entry->summary);
	}
}

/* One hit for people: where, id, confidence, title, summary, settings,
 * elsewhere, symptom, risk, sources. */
static void hit_text(struct jw *w, const struct host_state *hs, const struct advice_hit *h)
{
	const struct advice_entry *e = h->entry;
	char esc[NAME_ESC_MAX];
	const char *where = hit_where(hs, h, esc, sizeof(esc));

	jw_printf(w, "%s  %s  (confidence %s)%s\n  %s\n", where, e->id, e->confidence,
		  h->pending ? "" : "  followed", e->title);
	jw_printf(w, "    %s\n", e->summary);
	if (e->n_settings) {
		jw_printf(w, "    set on %s: ", h->iface >= 0 ? where : "it");
		print_settings(w, e);
		jw_lit(w, "\n");
	}
	if (e->elsewhere)
		jw_printf(w, "    elsewhere: %s\n", e->elsewhere);
	if (e->symptom)
		jw_printf(w, "    symptom: %s\n", e->symptom);
	jw_printf(w, "    risk: %s\n", e->risk);
	for (size_t s = 0; s < e->n_sources; s++)
		jw_printf(w, "    %s %s\n      %s\n", s ? "       " : "source:", e->sources[s].url,
			  e->sources[s].what);
	jw_lit(w, "\n");
}

/* The selected hits, one walk for both forms: --json prints {"advice":
 * [HIT], "pending": N}, the text a block a hit and a closing line.
 * Returns 0 or the writer's error. */
static int print_advice(const struct host_state *hs, const struct advice_list *l,
			const struct advise_filter *f, bool json)
{
	struct jw w;
	size_t n = 0, pending = 0;

	if (out_open(&w) < 0)
		return -ENOMEM;
	if (json) {
		jw_object_begin(&w);
		jw_key(&w, "advice");
		jw_array_begin(&w);
	}
	for (size_t i = 0; i < l->n; i++) {
		if (!hit_selected(f, hs, &l->hits[i]))
			continue;
		n++;
		pending += l->hits[i].pending;
		if (json)
			advice_hit_write(&w, hs, &l->hits[i], true, false);
		else
			hit_text(&w, hs, &l->hits[i]);
	}
	if (json) {
		jw_array_end(&w);
		jw_kv_int(&w, "pending", (long long)pending);
		jw_object_end(&w);
	} else if (n == 0) {
		jw_printf(&w, "no advice for %s\n",
			  f->all ? "this host"
				 : "this host (pending); --all lists followed advice too");
	} else {
		jw_printf(&w,
			  "%zu piece%s of advice (docs/advice.md); 'offloadctl advise "
			  "--desired-state' writes rules that follow %s\n",
			  n, n == 1 ? "" : "s", n == 1 ? "it" : "them");
	}
	return out_close(&w, json);
}

/* A desired state that follows every selected hit with settings, each rule
 * scoped to its interface by name: `validate` accepts it as it is.
 * Returns 0 or the writer's error. */
static int print_desired_state(const struct host_state *hs, const struct advice_list *l,
			       const struct advise_filter *f)
{
	size_t rules = 0;
	struct jw w;

	if (out_open(&w) < 0)
		return -ENOMEM;
	jw_printf(&w,
		  "# Written by 'offloadctl advise --desired-state' (offloadctl %s):\n"
		  "# rules that follow the advice for this host, each for the interface it\n"
		  "# names.  Review it; docs/advice.md explains every id.\n"
		  "version: 1\n",
		  OFFLOADCTL_VERSION);
	for (size_t i = 0; i < l->n; i++) {
		const struct advice_hit *h = &l->hits[i];
		const struct advice_entry *e = h->entry;
		char esc[NAME_ESC_MAX];

		if (!hit_selected(f, hs, h))
			continue;
		if (!e->n_settings || h->iface < 0) {
			jw_printf(&w, "# %s on %s: nothing to set here%s%s\n", e->id,
				  hit_where(hs, h, esc, sizeof(esc)), e->elsewhere ? "; " : "",
				  e->elsewhere ? e->elsewhere : "");
			continue;
		}
		if (!plain_name(hs->ifaces[h->iface].name)) {
			jw_printf(&w,
				  "# %s on %s: the name needs escaping; write this rule by hand\n",
				  e->id, hit_where(hs, h, esc, sizeof(esc)));
			continue;
		}
		if (rules++ == 0)
			jw_lit(&w, "interfaces:\n");
		jw_printf(&w, "  # %s (confidence %s): %s\n  # %s\n", e->id, e->confidence,
			  e->summary, e->sources[0].url);
		jw_printf(&w, "  - match:\n      name: \"%s\"\n    features:\n",
			  hs->ifaces[h->iface].name);
		for (size_t s = 0; s < e->n_settings; s++)
			jw_printf(&w, "      %s: %s\n", e->settings[s].name,
				  e->settings[s].on ? "on" : "off");
	}
	if (rules == 0)
		jw_lit(&w, "interfaces: []\n");
	return out_close(&w, false);
}

int cmd_advise(const struct global_opts *g, int argc, char **argv)
{
	enum {
		OPT_JSON = 256,
		OPT_DESIRED,
		OPT_FACTS,
		OPT_ID,
		OPT_ALL,
		OPT_LIST_IDS,
	};
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "desired-state", no_argument, NULL, OPT_DESIRED },
		{ "facts", required_argument, NULL, OPT_FACTS },
		{ "id", required_argument, NULL, OPT_ID },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "list-ids", no_argument, NULL, OPT_LIST_IDS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct advise_filter f = { 0 };
	const char *facts_file = NULL;
	struct host_state hs = { 0 };
	struct advice_list l = { 0 };
	struct backend *b = NULL;
	bool json = false, desired = false;
	struct virt_info vi;
	char *ids[64];
	int opt, r, rc = EXIT_OK;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_JSON:
			json = true;
			break;
		case OPT_DESIRED:
			desired = true;
			break;
		case OPT_FACTS:
			facts_file = optarg;
			break;
		case OPT_ALL:
			f.all = true;
			break;
		case OPT_LIST_IDS:
			for (size_t i = 0; i < advice_table_len; i++)
				puts(advice_table[i].id);
			return EXIT_OK;
		case OPT_ID:
			if (!advice_find(optarg))
				return usage_error("advise",
						   "no advice '%s' (docs/advice.md lists them)",
						   optarg);
			if (f.n_ids == (int)(sizeof(ids) / sizeof(ids[0])))
				return usage_error("advise", "too many --id options");
			ids[f.n_ids++] = optarg;
			break;
		case 'h':
			fputs(command_find("advise")->usage, stdout);
			return EXIT_OK;
		default:
			return usage_error("advise", "unknown or incomplete option '%s'",
					   argv[optind - 1]);
		}
	}
	if (json && desired)
		return usage_error("advise", "--json and --desired-state exclude each other");
	f.ids = ids;
	f.globs = argv + optind;
	f.n_globs = argc - optind;
	/* A desired state follows applied advice too, so that it keeps it. */
	if (desired)
		f.all = true;

	if (facts_file) {
		struct strlist errors = { 0 };

		r = facts_load(facts_file, &hs, &vi, &errors);
		for (size_t i = 0; i < errors.n; i++)
			log_error("%s", errors.items[i]);
		strlist_free(&errors);
		if (r < 0)
			return EXIT_USAGE;
	} else {
		r = virt_detect(g->root, &vi);
		if (r < 0) {
			log_error("cannot detect virtualisation: %s", strerror(-r));
			return EXIT_ENV;
		}
		rc = host_open(g, &b, &hs);
		if (rc) {
			virt_info_free(&vi);
			return rc;
		}
	}
	if (advice_evaluate(&hs, &vi, &l) < 0) {
		log_error("out of memory");
		rc = EXIT_ENV;
		goto out;
	}
	if ((desired ? print_desired_state(&hs, &l, &f) : print_advice(&hs, &l, &f, json)) < 0) {
		log_error("cannot print the advice");
		rc = EXIT_ENV;
	}
out:
	advice_list_free(&l);
	host_state_free(&hs);
	if (b)
		backend_close(b);
	virt_info_free(&vi);
	return rc;
}
