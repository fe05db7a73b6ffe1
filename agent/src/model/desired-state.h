/* desired-state.h - the YAML desired state (CONTRACT.md "The desired state") */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "lib/strlist.h"

/* Limits that keep a hostile file bounded in time and memory. */
#define DS_MAX_FILE_SIZE (1024 * 1024)
#define DS_MAX_RULES	 10000
#define DS_MAX_DEPTH	 32

/* What a `defaults` policy key asks for when its case arises. */
enum ds_policy {
	DS_POLICY_IGNORE,
	DS_POLICY_WARN,
	DS_POLICY_ERROR
};

/* "ignore", "warn", "error"; NULL out of range. */
const char *ds_policy_to_string(enum ds_policy p);
/* The i-th key of `defaults` and in *ret_words the policies it takes (bit
 * i: enum ds_policy i), or NULL past the last: `offloadctl names`. */
const char *desired_state_policy_key(size_t i, unsigned int *ret_words);

struct ds_location {
	const char *file;	   /* points into desired_state.files */
	unsigned int line, column; /* 1-based */
};

/* "file:line:column", the one form every message, report and log line
 * gives a place in the desired state ("-:0:0" for none); into buf, which
 * DS_LOCATION_MAX bytes hold whole (a path of PATH_MAX and two numbers). */
#define DS_LOCATION_MAX (4096 + 2 * 10 + 3)
void ds_location_format(const struct ds_location *l, char *buf, size_t len);

struct ds_feature {
	char *name; /* as written: ethtool short or long name, or kernel name */
	bool value;
	struct ds_location loc;
};

/* One parameter of rings, channels, coalesce, pause or EEE. */
struct ds_setting {
	unsigned int param; /* enum setting_param (model/settings.h) */
	uint32_t value;	    /* a count, a number, or 0/1 for on/off */
	bool max;	    /* "max": the kernel's maximum (rings, channels) */
	struct ds_location loc;
};

/* Every list that is not empty must match (any of its items). */
struct ds_match {
	struct strlist name;	       /* shell globs */
	struct strlist driver;	       /* globs */
	struct strlist module;	       /* globs: the kernel module bound to the device */
	struct strlist kind;	       /* globs; "" never matches a kind */
	struct strlist mac;	       /* globs, case-insensitive */
	struct strlist virtualization; /* host condition words, see virt_word_known() */
};

struct ds_rule {
	struct ds_match match;
	struct ds_feature *features;
	size_t n_features;
	struct ds_setting *settings; /* rings, channels, coalesce, pause, eee, as written */
	size_t n_settings;
	struct ds_location loc; /* the rule's list item: "file.yaml:7" in reports */
};

struct desired_state {
	/* defaults (offloadctl.yaml(5)); the last file that sets one wins */
	enum ds_policy missing_interface; /* an exact name matches nothing: warn */
	enum ds_policy fixed_feature;	  /* a fixed feature asked to change: error */
	enum ds_policy fixed_member;	  /* some members of a group name are fixed: warn */
	enum ds_policy unmatched_rule;	  /* a rule matched no interface: warn */
	struct ds_rule *rules;		  /* file order, files in the given order */
	size_t n_rules;
	struct strlist files; /* every file read, in order ("-" is "<stdin>") */
	/* what each file read from a path was when it was opened (owner,
	 * mode), for the permission check: never a second lookup by name */
	struct ds_file_stat {
		const char *path; /* points into files */
		struct stat st;
	} * file_stats;
	size_t n_file_stats;
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

void desired_state_free(struct desired_state *ds);

/* Feature names outside this offloadctl's static table (ethtool's names and
 * the kernel names it knows), one "file:line:column: unknown feature ..."
 * each, with the nearest known name when one is close.  The parser accepts
 * them: the running kernel's string set decides at plan time; validate,
 * which may not run on that kernel, warns.  Returns 0 or -ENOMEM. */
int desired_state_unknown_names(const struct desired_state *ds, struct strlist *ret);

/* The groups (bit per enum setting_group) some rule sets: only those are
 * read from the kernel for check, apply and watch. */
unsigned int desired_state_setting_groups(const struct desired_state *ds);

/* True when some rule has a host condition (match.virtualization): only
 * then is the virtualisation worth detecting. */
bool desired_state_uses_virtualization(const struct desired_state *ds);

/* True when some rule matches on kind, mac, driver or module, or asks for LRO
 * on (the plan checks forwarding and bridge ports): only then does a run need
 * the link dump, not just the feature dump. */
bool desired_state_uses_link_facts(const struct desired_state *ds);
