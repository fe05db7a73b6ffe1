/* report.h - the change report (CONTRACT.md "The change report"): one model,
 * printed as JSON or as a diff for people */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "lib/strlist.h"
#include "model/desired-state.h"

/* A new, empty report: changed false, in_sync true. */
json_t *report_new(void);
/* Record a change made (apply) or to be made (check); rule may be NULL. */
int report_add_change(json_t *rep, const char *ifname, const char *feature, bool from, bool to,
		      const struct ds_location *rule);
/* Record a change of the kernel's requested state alone (the active state
 * is already as desired): "state": "requested" in the entry. */
int report_add_request_change(json_t *rep, const char *ifname, const char *feature, bool from,
			      bool to, const struct ds_location *rule);
/* Record a change of a setting of rings, channels, coalesce, pause or EEE
 * (param is an enum setting_param): {"group", "setting", "from", "to",
 * "rule"}, numbers as numbers, on/off as strings, and "resets_link": true
 * for rings and channels (the driver may take the link down and up). */
int report_add_setting_change(json_t *rep, const char *ifname, unsigned int param, uint32_t from,
			      uint32_t to, const struct ds_location *rule);
/* Record a change the kernel made on its own. */
int report_add_side_effect(json_t *rep, const char *ifname, const char *feature, bool from,
			   bool to);
/* Record a member of a group name that keeps its state (fixed by the
 * driver): {"feature", "wanted", "stays", "via", "rule"} under the
 * interface's "unreachable". */
int report_add_unreachable(json_t *rep, const char *ifname, const char *feature, bool wanted,
			   const char *via, const struct ds_location *rule);
/* Record which feature setting decides a feature on an interface:
 * "decided": {FEATURE: {"value": "off", "by": "file:line:column"}}. */
int report_add_decision(json_t *rep, const char *ifname, const char *feature, bool value,
			const struct ds_location *by);
/* Record which setting decides a parameter of rings, channels, ... on an
 * interface: "decided_settings": {GROUP: {SETTING: {"value", "by"}}}, the
 * value as the report's changes give it (max resolved). */
int report_add_setting_decision(json_t *rep, const char *ifname, unsigned int param, uint32_t value,
				const struct ds_location *by);
/* Record a rule that matched no interface: {"rule", "match"} under
 * "unmatched_rules". */
int report_add_unmatched(json_t *rep, const struct ds_location *rule, const char *match);
int report_add_messages(json_t *rep, const char *key, const struct strlist *msgs);
int report_add_message(json_t *rep, const char *key, const char *msg);
void report_set(json_t *rep, const char *key, bool value);

void report_print_json(FILE *f, json_t *rep);
/* For people: each interface's changes like a diff.  verb is "changed" or
 * "would change". */
void report_print_text(FILE *f, json_t *rep, const char *verb);
