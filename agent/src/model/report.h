/* report.h - the change report (CONTRACT.md "The change report"): plain
 * data that apply, check and watch fill and read, written by one walk as
 * JSON or as a diff for people (lib/json-writer.h) */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "lib/json-writer.h"
#include "lib/strlist.h"
#include "model/desired-state.h"

/* A change made (apply) or to be made (check), or one the kernel made on
 * its own (a side effect). */
struct report_change {
	char *feature; /* a feature's kernel name; NULL for a setting */
	int param;     /* a setting (enum setting_param), -1: a feature */
	uint32_t from; /* a feature: 0/1 for off/on; a setting: its value */
	uint32_t to;
	bool requested; /* only the kernel's requested state changes */
	char *rule;	/* "file:line:column" (ds_location_format()), or NULL */
};

/* A member of a group name that keeps its state (fixed by the driver). */
struct report_unreachable {
	char *feature;
	bool wanted;
	char *via; /* the group name the rule gave */
	char *rule;
};

/* Which feature setting decides a feature, or which setting decides a
 * parameter of rings, channels, ... (param >= 0). */
struct report_decision {
	char *feature; /* NULL for a setting */
	int param;
	uint32_t value;
	char *by; /* "file:line:column" */
};

struct report_iface {
	char *name; /* as the kernel has it (any bytes) */
	struct report_change *changes, *side_effects;
	size_t n_changes, n_side_effects;
	struct report_unreachable *unreachable;
	size_t n_unreachable;
	struct report_decision *decided, *decided_settings;
	size_t n_decided, n_decided_settings;
};

/* A rule that matched no interface. */
struct report_unmatched {
	char *rule;
	char *match;
};

struct report {
	bool changed, in_sync, rolled_back;
	struct report_iface *ifaces; /* in the order first reported */
	size_t n_ifaces;
	struct report_unmatched *unmatched;
	size_t n_unmatched;
	struct strlist warnings, errors; /* made valid UTF-8 (name_json()) */
};

/* An empty report: changed false, in_sync true. */
void report_init(struct report *rep);
void report_free(struct report *rep);
/* The interface's entry, NULL when there is none. */
const struct report_iface *report_iface_find(const struct report *rep, const char *ifname);

/* Record a change made (apply) or to be made (check); rule may be NULL. */
int report_add_change(struct report *rep, const char *ifname, const char *feature, bool from,
		      bool to, const struct ds_location *rule);
/* Record a change of the kernel's requested state alone (the active state
 * is already as desired): "state": "requested" in the entry. */
int report_add_request_change(struct report *rep, const char *ifname, const char *feature,
			      bool from, bool to, const struct ds_location *rule);
/* Record a change of a setting of rings, channels, coalesce, pause or EEE
 * (param is an enum setting_param): {"group", "setting", "from", "to",
 * "rule"}, numbers as numbers, on/off as strings, and "resets_link": true
 * for rings and channels (the driver may take the link down and up). */
int report_add_setting_change(struct report *rep, const char *ifname, unsigned int param,
			      uint32_t from, uint32_t to, const struct ds_location *rule);
/* Record a change the kernel made on its own. */
int report_add_side_effect(struct report *rep, const char *ifname, const char *feature, bool from,
			   bool to);
/* Record a member of a group name that keeps its state (fixed by the
 * driver): {"feature", "wanted", "stays", "via", "rule"} under the
 * interface's "unreachable". */
int report_add_unreachable(struct report *rep, const char *ifname, const char *feature, bool wanted,
			   const char *via, const struct ds_location *rule);
/* Record which feature setting decides a feature on an interface:
 * "decided": {FEATURE: {"value": "off", "by": "file:line:column"}}. */
int report_add_decision(struct report *rep, const char *ifname, const char *feature, bool value,
			const struct ds_location *by);
/* Record which setting decides a parameter of rings, channels, ... on an
 * interface: "decided_settings": {GROUP: {SETTING: {"value", "by"}}}, the
 * value as the report's changes give it (max resolved). */
int report_add_setting_decision(struct report *rep, const char *ifname, unsigned int param,
				uint32_t value, const struct ds_location *by);
/* Record a rule that matched no interface: {"rule", "match"} under
 * "unmatched_rules". */
int report_add_unmatched(struct report *rep, const struct ds_location *rule, const char *match);
/* A warning or an error (list is &rep->warnings or &rep->errors). */
int report_add_message(struct strlist *list, const char *msg);
int report_add_messages(struct strlist *list, const struct strlist *msgs);
/* Move what one interface's report holds (apply_plan_each) into rep: its
 * interfaces (added to an entry of the same name, whose notes from the
 * plan stay), warnings and errors.  one is left empty.  Returns 0 or
 * -ENOMEM. */
int report_merge(struct report *rep, struct report *one);

/* "file:line:column" of a rule, malloc'd and made valid UTF-8: the one
 * form every report, message and log line gives a place in the desired
 * state.  NULL without memory. */
char *report_location(const struct ds_location *l);

/* The report as JSON (CONTRACT.md), into w. */
void report_write_json(struct jw *w, const struct report *rep);
/* For people: each interface's changes like a diff, then a summary line.
 * verb is "changed" or "would change". */
void report_write_text(struct jw *w, const struct report *rep, const char *verb);
