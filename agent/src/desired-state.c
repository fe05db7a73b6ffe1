/* desired-state.c - PLACEHOLDER until the parser helper lands its implementation */
#include <errno.h>
#include <string.h>
#include "desired-state.h"
void desired_state_init(struct desired_state *ds) { memset(ds, 0, sizeof(*ds)); ds->missing_interface = DS_MISSING_WARN; ds->fixed_feature = DS_FIXED_ERROR; }
int desired_state_parse_buffer(struct desired_state *ds, const char *name, const char *buf, size_t len, struct strlist *errors) { (void)ds; (void)buf; (void)len; strlist_addf(errors, "%s: parser not built yet", name); return -EINVAL; }
int desired_state_load_files(struct desired_state *ds, char *const *paths, size_t n, struct strlist *errors) { return desired_state_parse_buffer(ds, n ? paths[0] : "-", "", 0, errors); }
int desired_state_load_confdir(struct desired_state *ds, const char *confdir, struct strlist *errors) { return desired_state_parse_buffer(ds, confdir, "", 0, errors); }
void desired_state_free(struct desired_state *ds) { (void)ds; }
