/* desired-state.h - the YAML desired state (CONTRACT.md "The desired state") */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "strlist.h"

/* Limits that keep a hostile file bounded in time and memory. */
#define DS_MAX_FILE_SIZE (1024 * 1024)
#define DS_MAX_RULES	 10000
#define DS_MAX_DEPTH	 32

enum ds_missing_interface {
	DS_MISSING_IGNORE,
	DS_MISSING_WARN,
	DS_MISSING_ERROR
};
enum ds_fixed_feature {
	DS_FIXED_WARN,
	DS_FIXED_ERROR
};

struct ds_location {
	const char *file;	   /* points into desired_state.files */
	unsigned int line, column; /* 1-based */
};

struct ds_feature {
	char *name; /* as written: ethtool short or long name, or kernel name */
	bool value;
	struct ds_location loc;
};

/* Every list that is not empty must match (any of its items). */
struct ds_match {
	struct strlist name;	       /* shell globs */
	struct strlist driver;	       /* globs */
	struct strlist kind;	       /* globs; "" never matches a kind */
	struct strlist mac;	       /* globs, case-insensitive */
	struct strlist virtualization; /* host condition words, see virt_word_known() */
};

struct ds_rule {
	struct ds_match match;
	struct ds_feature *features;
	size_t n_features;
	struct ds_location loc; /* the rule's list item: "file.yaml:7" in reports */
};

struct desired_state {
	enum ds_missing_interface missing_interface; /* default DS_MISSING_WARN */
	enum ds_fixed_feature fixed_feature;	     /* default DS_FIXED_ERROR */
	struct ds_rule *rules;			     /* file order, files in the given order */
	size_t n_rules;
	struct strlist files; /* every file read, in order ("-" is "<stdin>") */
};

void desired_state_init(struct desired_state *ds);

/*
 * Parse one document from a buffer and append its rules; name is used in
 * messages.  Every problem is appended to errors as "file:line:column: ..."
 * and parsing goes on where it can.  Returns 0, -EINVAL when errors were
 * added, or -ENOMEM.
 */
int desired_state_parse_buffer(struct desired_state *ds, const char *name, const char *buf,
			       size_t len, struct strlist *errors);

/* Read and parse files in order; "-" reads standard input. */
int desired_state_load_files(struct desired_state *ds, char *const *paths, size_t n,
			     struct strlist *errors);

/* The configuration set: confdir/offloadctl.yaml, then confdir/conf.d/ *.yaml
 * in name order.  A missing offloadctl.yaml or conf.d is fine; neither is
 * -ENOENT with a message in errors. */
int desired_state_load_confdir(struct desired_state *ds, const char *confdir,
			       struct strlist *errors);

void desired_state_free(struct desired_state *ds);

/* True when some rule has a host condition (match.virtualization): only
 * then is the virtualisation worth detecting. */
bool desired_state_uses_virtualization(const struct desired_state *ds);

/* True when some rule matches on kind, mac or driver: only then does a run
 * need the link dump, not just the feature dump. */
bool desired_state_uses_link_facts(const struct desired_state *ds);
