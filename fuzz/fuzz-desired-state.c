/* fuzz-desired-state.c - libFuzzer target for the desired-state parser
 *
 * The input is one YAML file.  It is parsed as a first file, and when that
 * succeeds once more as a second file into the same desired state (the
 * path of a configuration set with drop-ins).  Besides the sanitizers, the
 * parser's promises are checked: a success has no message, a failure has
 * at least one, every message starts with "FILE:LINE:COLUMN: ", no message
 * is longer than the quoting bounds allow, and the limits hold.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/desired-state.h"
#include "model/features.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Longest message: a prefix and a few user strings quoted at 96 bytes. */
#define MAX_MESSAGE 1024
/* desired-state.c stops reporting after this many errors (plus one line). */
#define MAX_MESSAGES_PER_FILE 51

static void check_message(const char *msg, const char *file)
{
	size_t n = strlen(file);
	unsigned int line, column;
	char colon;

	if (strncmp(msg, file, n) != 0 || msg[n] != ':' ||
	    sscanf(msg + n, ":%u:%u%c", &line, &column, &colon) != 3 || colon != ':' || line == 0 ||
	    column == 0) {
		fprintf(stderr, "message without FILE:LINE:COLUMN: %s\n", msg);
		abort();
	}
	if (strlen(msg) > MAX_MESSAGE) {
		fprintf(stderr, "message of %zu bytes\n", strlen(msg));
		abort();
	}
}

static void check_state(const struct desired_state *ds)
{
	if (ds->n_rules > DS_MAX_RULES)
		abort();
	for (size_t i = 0; i < ds->n_rules; i++) {
		const struct ds_rule *r = &ds->rules[i];

		if (r->loc.line == 0 || !r->loc.file)
			abort();
		for (size_t j = 0; j < r->n_features; j++)
			/* any name is accepted (the kernel judges it at plan
			 * time), but never an empty one */
			if (!r->features[j].name[0] || r->features[j].loc.line == 0)
				abort();
	}
	/* validate's warnings about names outside the static table: one per
	 * such name, each at its place */
	{
		struct strlist warnings = { 0 };
		size_t unknown = 0;

		for (size_t i = 0; i < ds->n_rules; i++)
			for (size_t j = 0; j < ds->rules[i].n_features; j++)
				unknown +=
					!feature_name_known_static(ds->rules[i].features[j].name);
		if (desired_state_unknown_names(ds, &warnings) == 0 && warnings.n != unknown)
			abort();
		for (size_t i = 0; i < warnings.n; i++)
			if (!strstr(warnings.items[i], ": unknown feature '"))
				abort();
		strlist_free(&warnings);
	}
}

/* Parse one file; returns the parser's result after checking its promises. */
static int parse_one(struct desired_state *ds, const char *file, const uint8_t *data, size_t size)
{
	struct strlist errors = { 0 };
	int r = desired_state_parse_buffer(ds, file, (const char *)data, size, &errors);

	if (r == 0 && errors.n != 0)
		abort();
	if (r == -EINVAL && (errors.n == 0 || errors.n > MAX_MESSAGES_PER_FILE))
		abort();
	if (r != 0 && r != -EINVAL && r != -ENOMEM)
		abort();
	for (size_t i = 0; i < errors.n; i++)
		check_message(errors.items[i], file);
	strlist_free(&errors);
	check_state(ds);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct desired_state ds;

	desired_state_init(&ds);
	if (parse_one(&ds, "a.yaml", data, size) == 0) {
		size_t n = ds.n_rules;

		if (parse_one(&ds, "conf.d/b.yaml", data, size) == 0 && ds.n_rules != 2 * n)
			abort();
	}
	desired_state_free(&ds);
	return 0;
}
