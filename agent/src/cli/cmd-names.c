/* cmd-names.c - `offloadctl names`: the agent's vocabulary, for the schemas,
 * the wrappers and the tests to take from the agent instead of copying */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/json-writer.h"
#include "lib/log.h"
#include "model/desired-state.h"
#include "model/features.h"
#include "model/settings.h"
#include "model/vocab.h"

/*
 * One walk over the vocabulary writes both forms: --json (what the schemas
 * and the wrappers take) and the text for people, section by section, so
 * the two cannot disagree.  Each section says itself in either form.
 */
struct names_out {
	struct jw *w;
	bool json;
};

/* A list of words: "KEY": [...], or "LABEL w1 w2 ...\n" (label NULL: the
 * list is not in the text). */
static void words_begin(struct names_out *o, const char *key, const char *label)
{
	if (o->json) {
		jw_key(o->w, key);
		jw_array_begin(o->w);
	} else if (label) {
		jw_str(o->w, label);
	}
}

static void word(struct names_out *o, const char *label, const char *w)
{
	if (o->json)
		jw_string(o->w, w);
	else if (label)
		jw_printf(o->w, " %s", w);
}

static void words_end(struct names_out *o, const char *label)
{
	if (o->json)
		jw_array_end(o->w);
	else if (label)
		jw_lit(o->w, "\n");
}

/* Each word of a word set (its to_string over 0..n-1). */
static void words(struct names_out *o, const char *key, const char *label,
		  const char *(*to_string)(int), int n)
{
	words_begin(o, key, label);
	for (int i = 0; i < n; i++)
		word(o, label, to_string(i));
	words_end(o, label);
}

static const char *vm_word(int i)
{
	return virt_vm_to_string((enum virt_vm)i);
}

static const char *container_word(int i)
{
	return virt_container_to_string((enum virt_container)i);
}

static const char *condition_word(int i)
{
	return virt_condition_to_string((enum virt_condition)i);
}

/* "virtualization": {"vm", "container", "conditions", "match"}; match is
 * what match.virtualization takes: every VM and container word and the
 * conditions, each once (not in the text: it repeats the others). */
static void names_virt(struct names_out *o)
{
	if (o->json) {
		jw_key(o->w, "virtualization");
		jw_object_begin(o->w);
	}
	words(o, "vm", "virtualization vm:", vm_word, VIRT_VM_MAX);
	words(o, "container", "virtualization container:", container_word, VIRT_CONTAINER_MAX);
	words(o, "conditions", "virtualization conditions:", condition_word, VIRT_COND_MAX);
	words_begin(o, "match", NULL);
	for (int i = 0; i < VIRT_VM_MAX; i++)
		word(o, NULL, vm_word(i));
	for (int i = 0; i < VIRT_CONTAINER_MAX; i++)
		if (virt_vm_from_string(container_word(i)) < 0)
			word(o, NULL, container_word(i));
	for (int i = 0; i < VIRT_COND_MAX; i++)
		word(o, NULL, condition_word(i));
	words_end(o, NULL);
	if (o->json)
		jw_object_end(o->w);
}

/* "features": {"legacy": [{"short", "long", "kernel"}], "kernel": [...]} */
static void names_features(struct names_out *o)
{
	struct jw *w = o->w;

	if (o->json) {
		jw_key(w, "features");
		jw_object_begin(w);
		jw_key(w, "legacy");
		jw_array_begin(w);
	} else {
		jw_lit(w, "legacy features (short, long, kernel pattern):\n");
	}
	for (size_t i = 0; i < n_offload_defs; i++) {
		const struct offload_def *d = &offload_defs[i];

		if (!o->json) {
			jw_printf(w, "  %-8s %-32s %s\n", d->short_name, d->long_name,
				  d->kernel_pattern);
			continue;
		}
		jw_object_begin(w);
		jw_kv_string(w, "short", d->short_name);
		jw_kv_string(w, "long", d->long_name);
		jw_kv_string(w, "kernel", d->kernel_pattern);
		jw_object_end(w);
	}
	if (o->json) {
		jw_array_end(w);
		jw_key(w, "kernel");
		jw_array_begin(w);
	} else {
		jw_lit(w, "kernel features known without a kernel:");
	}
	for (size_t i = 0; i < n_kernel_feature_names; i++)
		if (o->json)
			jw_string(w, kernel_feature_names[i]);
		else
			jw_printf(w, "%s%s", i % 4 ? " " : "\n  ", kernel_feature_names[i]);
	if (o->json) {
		jw_array_end(w);
		jw_object_end(w);
	} else {
		jw_lit(w, "\n");
	}
}

/* "exit_codes": [{"code", "name", "meaning"}] */
static void names_exit_codes(struct names_out *o)
{
	if (o->json) {
		jw_key(o->w, "exit_codes");
		jw_array_begin(o->w);
	} else {
		jw_lit(o->w, "exit codes:\n");
	}
	for (int e = 0; e < EXIT_STATUS_MAX; e++) {
		const char *name = exit_status_to_string((enum exit_status)e);
		const char *meaning = exit_status_meaning((enum exit_status)e);

		if (!o->json) {
			jw_printf(o->w, "  %d %-12s %s\n", e, name, meaning);
			continue;
		}
		jw_object_begin(o->w);
		jw_kv_int(o->w, "code", e);
		jw_kv_string(o->w, "name", name);
		jw_kv_string(o->w, "meaning", meaning);
		jw_object_end(o->w);
	}
	if (o->json)
		jw_array_end(o->w);
}

/* "settings": {GROUP: {NAME: "count" | "number" | "on/off" | "reported"}}:
 * the parameters rules take (facts/desired-state.schema.json's groups). */
static void names_settings(struct names_out *o)
{
	static const char *const types[] = {
		[ST_COUNT] = "count", [ST_NUMBER] = "number", [ST_BOOL] = "on/off"
	};

	if (o->json) {
		jw_key(o->w, "settings");
		jw_object_begin(o->w);
	} else {
		jw_lit(o->w, "settings (rings, channels, coalesce, pause, eee):\n");
	}
	for (int g = 0; g < SG_MAX; g++) {
		const char *group = setting_group_name((enum setting_group)g);
		unsigned int first, end;

		if (o->json) {
			jw_key(o->w, group);
			jw_object_begin(o->w);
		} else {
			jw_printf(o->w, "  %-9s", group);
		}
		setting_group_range((enum setting_group)g, &first, &end);
		for (unsigned int p = first; p < end; p++)
			if (o->json)
				jw_kv_string(o->w, setting_defs[p].name,
					     setting_defs[p].read_only
						     ? "reported"
						     : types[setting_defs[p].type]);
			else
				jw_printf(o->w, " %s", setting_defs[p].name);
		if (o->json)
			jw_object_end(o->w);
		else
			jw_lit(o->w, "\n");
	}
	if (o->json)
		jw_object_end(o->w);
}

/* "policies": {KEY: [words]}: the defaults and the words each takes. */
static void names_policies(struct names_out *o)
{
	const char *key;
	unsigned int allowed;

	if (o->json) {
		jw_key(o->w, "policies");
		jw_object_begin(o->w);
	} else {
		jw_lit(o->w, "defaults:\n");
	}
	for (size_t i = 0; (key = desired_state_policy_key(i, &allowed)); i++) {
		char label[32];

		snprintf(label, sizeof(label), "  %-18s", key);
		words_begin(o, key, label);
		for (int p = DS_POLICY_IGNORE; p <= DS_POLICY_ERROR; p++)
			if (allowed & (1U << p))
				word(o, label, ds_policy_to_string(p));
		words_end(o, label);
	}
	if (o->json)
		jw_object_end(o->w);
}

/* The vocabulary: the JSON document's sections in its order, the text's
 * in the order people read them. */
static int names_write(bool json)
{
	struct jw w;
	struct names_out o = { &w, json };

	if (out_open(&w) < 0)
		return -ENOMEM;
	if (json) {
		jw_object_begin(&w);
		names_settings(&o);
		names_virt(&o);
		names_features(&o);
		names_exit_codes(&o);
		names_policies(&o);
		jw_object_end(&w);
	} else {
		names_virt(&o);
		names_features(&o);
		names_exit_codes(&o);
		names_settings(&o);
		names_policies(&o);
	}
	return out_close(&w, json);
}

int cmd_names(const struct global_opts *g, int argc, char **argv)
{
	enum {
		OPT_JSON = 256
	};
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	int opt, r;

	(void)g;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			fputs(command_find("names")->usage, stdout);
			return EXIT_OK;
		default:
			return usage_error("names", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("names", "no arguments expected, got '%s'", argv[optind]);
	r = names_write(json);
	if (r < 0) {
		log_error("cannot print the names: %s", strerror(-r));
		return EXIT_ENV;
	}
	return EXIT_OK;
}
