/* config-set.h - read the configuration set and namespace scopes from disk */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "lib/strlist.h"
#include "model/desired-state.h"

/* Read and parse files in order; "-" reads standard input.  Each file is
 * read from a regular file only, at most DS_MAX_FILE_SIZE + 1 bytes. */
int config_set_load_files(struct desired_state *ds, char *const *paths, size_t n,
			  struct strlist *errors);

/* The configuration set: confdir/offloadctl.yaml, then confdir/conf.d/ *.yaml
 * in name order.  A missing offloadctl.yaml or conf.d is fine; neither is
 * -ENOENT with a message in errors. */
int config_set_load_confdir(struct desired_state *ds, const char *confdir, struct strlist *errors);

/* The scope of network namespace name: confdir/netns/NAME/ *.yaml in name
 * order (CONTRACT.md "Scopes and owners").  None there is -ENOENT with a
 * message in errors. */
int config_set_load_scope(struct desired_state *ds, const char *confdir, const char *name,
			  struct strlist *errors);

/* The one drop-in rule: "*.yaml", not hidden (editors' and package
 * managers' leftovers start with a dot). */
bool config_set_is_dropin_name(const char *name);
/* The rule for a scope directory's name (confdir/netns/NAME): not hidden. */
bool config_set_is_scope_name(const char *name);
/* True when dir holds a drop-in: a scope with rules. */
bool config_set_dir_has_dropins(const char *dir);
/* True when confdir's host set has a file: offloadctl.yaml or a drop-in. */
bool config_set_host_exists(const char *confdir);
/* True when confdir/netns exists (namespace scopes may be configured). */
bool config_set_has_scopes(const char *confdir);

/* The namespace scopes with rules (confdir/netns/NAME/ holds a drop-in)
 * whose namespace exists (netns_dir/NAME, normally /run/netns), in name
 * order, appended to ret; those whose namespace does not exist go to
 * ret_no_netns (may be NULL).  Returns 0 or a negative errno. */
int config_set_scopes(const char *confdir, const char *netns_dir, struct strlist *ret,
		      struct strlist *ret_no_netns);
