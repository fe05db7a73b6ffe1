/* cmd-state.c - PLACEHOLDER: check and apply are being written */
#include "cli.h"
#include "log.h"
int cmd_check(const struct global_opts *g, int argc, char **argv) { (void)g; (void)argc; (void)argv; log_error("check: not built yet"); return EXIT_ENV; }
int cmd_apply(const struct global_opts *g, int argc, char **argv) { (void)g; (void)argc; (void)argv; log_error("apply: not built yet"); return EXIT_ENV; }
