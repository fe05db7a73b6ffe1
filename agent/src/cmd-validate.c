/* cmd-validate.c - `offloadctl validate`: parse and check, touch nothing */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "desired-state.h"
#include "log.h"

/* Load the files named on the command line, or the configuration set.
 * Prints every error; returns 0 or an exit code. */
int desired_state_load_cli(const struct global_opts *g, int nfiles, char **files,
			   struct desired_state *ds)
{
	struct strlist errors = { 0 };
	int r;

	desired_state_init(ds);
	if (nfiles > 0)
		r = desired_state_load_files(ds, files, (size_t)nfiles, &errors);
	else
		r = desired_state_load_confdir(ds, g->config_dir, &errors);
	for (size_t i = 0; i < errors.n; i++)
		fprintf(stderr, "offloadctl: %s\n", errors.items[i]);
	strlist_free(&errors);
	if (r == -ENOMEM) {
		log_error("out of memory");
		desired_state_free(ds);
		return EXIT_ENV;
	}
	if (r < 0) {
		desired_state_free(ds);
		return EXIT_USAGE;
	}
	return 0;
}

int cmd_validate(const struct global_opts *g, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct desired_state ds;
	bool quiet = false;
	size_t nfeat = 0;
	int opt, r;

	while ((opt = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (opt) {
		case 'q':
			quiet = true;
			break;
		case 'h':
			fputs(command_find("validate")->usage, stdout);
			return EXIT_OK;
		default:
			return usage_error("validate", "unknown option '%s'", argv[optind - 1]);
		}
	}
	r = desired_state_load_cli(g, argc - optind, argv + optind, &ds);
	if (r)
		return r;
	for (size_t i = 0; i < ds.n_rules; i++)
		nfeat += ds.rules[i].n_features;
	if (!quiet && log_level >= 0)
		printf("valid: %zu file%s, %zu rule%s, %zu feature setting%s\n", ds.files.n,
		       ds.files.n == 1 ? "" : "s", ds.n_rules, ds.n_rules == 1 ? "" : "s", nfeat,
		       nfeat == 1 ? "" : "s");
	desired_state_free(&ds);
	return EXIT_OK;
}
