/* cmd-names.c - `offloadctl names`: the agent's vocabulary, for the schemas,
 * the wrappers and the tests to take from the agent instead of copying */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "lib/log.h"
#include "model/desired-state.h"
#include "model/features.h"
#include "model/report.h"
#include "model/settings.h"
#include "model/vocab.h"

/* Append each word of a word set (its to_string over 0..n-1). */
static int add_words(json_t *arr, const char *(*word)(int), int n)
{
	for (int i = 0; i < n; i++)
		if (json_array_append_new(arr, json_string(word(i))) < 0)
			return -1;
	return 0;
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

/* The words match.virtualization takes: every VM and container word and
 * the conditions, each once. */
static int add_match_words(json_t *arr)
{
	if (add_words(arr, vm_word, VIRT_VM_MAX) < 0)
		return -1;
	for (int i = 0; i < VIRT_CONTAINER_MAX; i++)
		if (virt_vm_from_string(container_word(i)) < 0 &&
		    json_array_append_new(arr, json_string(container_word(i))) < 0)
			return -1;
	return add_words(arr, condition_word, VIRT_COND_MAX);
}

/* "settings": {GROUP: {NAME: "count" | "number" | "on/off" | "reported"}}:
 * the parameters rules take (facts/desired-state.schema.json's groups). */
static int add_settings(json_t *doc)
{
	static const char *const types[] = {
		[ST_COUNT] = "count", [ST_NUMBER] = "number", [ST_BOOL] = "on/off"
	};
	json_t *all = json_object();

	if (!all || json_object_set_new(doc, "settings", all) < 0)
		return -1;
	for (int g = 0; g < SG_MAX; g++) {
		json_t *grp = json_object();
		unsigned int first, end;

		if (!grp ||
		    json_object_set_new(all, setting_group_name((enum setting_group)g), grp) < 0)
			return -1;
		setting_group_range((enum setting_group)g, &first, &end);
		for (unsigned int p = first; p < end; p++)
			if (json_object_set_new(
				    grp, setting_defs[p].name,
				    json_string(setting_defs[p].read_only
							? "reported"
							: types[setting_defs[p].type])) < 0)
				return -1;
	}
	return 0;
}

static json_t *names_document(void)
{
	json_t *doc = json_object(), *virt = json_object(), *feat = json_object();
	json_t *vm = json_array(), *container = json_array(), *cond = json_array();
	json_t *match = json_array(), *legacy = json_array(), *kernel = json_array();
	json_t *exits = json_array(), *policies = json_object();
	const char *key;
	unsigned int words;
	int bad = !doc || !virt || !feat || !vm || !container || !cond || !match || !legacy ||
		  !kernel || !exits || !policies;

	bad = bad || add_words(vm, vm_word, VIRT_VM_MAX) < 0 ||
	      add_words(container, container_word, VIRT_CONTAINER_MAX) < 0 ||
	      add_words(cond, condition_word, VIRT_COND_MAX) < 0 || add_match_words(match) < 0;
	for (size_t i = 0; !bad && i < n_offload_defs; i++)
		bad = json_array_append_new(legacy, json_pack("{s:s,s:s,s:s}", "short",
							      offload_defs[i].short_name, "long",
							      offload_defs[i].long_name, "kernel",
							      offload_defs[i].kernel_pattern)) < 0;
	for (size_t i = 0; !bad && i < n_kernel_feature_names; i++)
		bad = json_array_append_new(kernel, json_string(kernel_feature_names[i])) < 0;
	for (int e = 0; !bad && e < EXIT_STATUS_MAX; e++)
		bad = json_array_append_new(
			      exits,
			      json_pack("{s:i,s:s,s:s}", "code", e, "name",
					exit_status_to_string((enum exit_status)e), "meaning",
					exit_status_meaning((enum exit_status)e))) < 0;
	for (size_t i = 0; !bad && (key = desired_state_policy_key(i, &words)); i++) {
		json_t *w = json_array();

		for (int p = DS_POLICY_IGNORE; w && p <= DS_POLICY_ERROR; p++)
			if (words & (1U << p))
				json_array_append_new(w, json_string(ds_policy_to_string(p)));
		bad = !w || json_object_set_new(policies, key, w) < 0;
	}
	if (!bad)
		bad = add_settings(doc) < 0;
	if (!bad)
		bad = json_object_set_new(virt, "vm", vm) < 0 ||
		      json_object_set_new(virt, "container", container) < 0 ||
		      json_object_set_new(virt, "conditions", cond) < 0 ||
		      json_object_set_new(virt, "match", match) < 0 ||
		      json_object_set_new(feat, "legacy", legacy) < 0 ||
		      json_object_set_new(feat, "kernel", kernel) < 0 ||
		      json_object_set_new(doc, "virtualization", virt) < 0 ||
		      json_object_set_new(doc, "features", feat) < 0 ||
		      json_object_set_new(doc, "exit_codes", exits) < 0 ||
		      json_object_set_new(doc, "policies", policies) < 0;
	if (bad) {
		/* what was not handed over yet is dropped with doc */
		json_decref(doc);
		return NULL;
	}
	return doc;
}

static void print_text(json_t *doc)
{
	json_t *virt = json_object_get(doc, "virtualization"), *v, *list;
	const char *key;
	size_t i;

	json_object_foreach(virt, key, list) {
		if (strcmp(key, "match") == 0)
			continue;
		printf("virtualization %s:", key);
		json_array_foreach(list, i, v)
			printf(" %s", json_string_value(v));
		putchar('\n');
	}
	printf("legacy features (short, long, kernel pattern):\n");
	json_array_foreach(json_object_get(json_object_get(doc, "features"), "legacy"), i, v)
		printf("  %-8s %-32s %s\n", json_string_value(json_object_get(v, "short")),
		       json_string_value(json_object_get(v, "long")),
		       json_string_value(json_object_get(v, "kernel")));
	printf("kernel features known without a kernel:");
	json_array_foreach(json_object_get(json_object_get(doc, "features"), "kernel"), i, v)
		printf("%s%s", i % 4 ? " " : "\n  ", json_string_value(v));
	printf("\nexit codes:\n");
	json_array_foreach(json_object_get(doc, "exit_codes"), i, v)
		printf("  %d %-12s %s\n", (int)json_integer_value(json_object_get(v, "code")),
		       json_string_value(json_object_get(v, "name")),
		       json_string_value(json_object_get(v, "meaning")));
	printf("settings (rings, channels, coalesce, pause, eee):\n");
	json_object_foreach(json_object_get(doc, "settings"), key, list) {
		const char *name;
		json_t *type;

		printf("  %-9s", key);
		json_object_foreach(list, name, type)
			printf(" %s", name);
		putchar('\n');
	}
	printf("defaults:\n");
	json_object_foreach(json_object_get(doc, "policies"), key, list) {
		printf("  %-18s", key);
		json_array_foreach(list, i, v)
			printf(" %s", json_string_value(v));
		putchar('\n');
	}
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
	json_t *doc;
	int opt;

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
	doc = names_document();
	if (!doc) {
		log_error("out of memory");
		return EXIT_ENV;
	}
	if (json)
		report_print_json(stdout, doc);
	else
		print_text(doc);
	json_decref(doc);
	return EXIT_OK;
}
