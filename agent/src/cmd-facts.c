/* cmd-facts.c - PLACEHOLDER: facts and show are being written */
#include "cli.h"
#include "log.h"
int cmd_facts(const struct global_opts *g, int argc, char **argv) { (void)g; (void)argc; (void)argv; log_error("facts: not built yet"); return EXIT_ENV; }
int cmd_show(const struct global_opts *g, int argc, char **argv) { (void)g; (void)argc; (void)argv; log_error("show: not built yet"); return EXIT_ENV; }
