/* cmd-validate.c - `offloadctl validate`: parse and check, touch nothing */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "host/config-set.h"
#include "host/last-good.h"
#include "lib/escape.h"
#include "lib/log.h"
#include "model/desired-state.h"

/* Load the files named on the command line, or the configuration set.
 * Prints every error; returns 0 or an exit code. */
int desired_state_load_cli(const struct global_opts *g, int nfiles, char **files,
			   struct desired_state *ds)
{
	struct strlist errors = { 0 };
	int r;

	desired_state_init(ds);
	if (nfiles == 0 && g->netns && strchr(g->netns, '/')) {
		log_error("a namespace given by path ('%s') has no scope of its own: give the "
			  "FILEs to apply there, or name it as in /run/netns",
			  g->netns);
		return EXIT_USAGE;
	}
	if (nfiles == 0 && g->netns && g->netns[0] == '.') {
		log_error("'%s' is not a network namespace name", g->netns);
		return EXIT_USAGE;
	}
	if (nfiles > 0)
		r = config_set_load_files(ds, files, (size_t)nfiles, &errors);
	else if (g->netns)
		/* a named namespace's own scope, never the host's rules */
		r = config_set_load_scope(ds, g->config_dir, g->netns, &errors);
	else
		r = config_set_load_confdir(ds, g->config_dir, &errors);
	for (size_t i = 0; i < errors.n; i++) {
		fputs("offloadctl: ", stderr);
		text_write_safe(stderr, errors.items[i]);
		fputc('\n', stderr);
	}
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

static bool keeps_last_good(const struct global_opts *g, int nfiles)
{
	const char *s = getenv("OFFLOADCTL_STATE_DIR");

	/* the host scope's set only: namespaces come and go */
	return nfiles == 0 && !g->netns &&
	       ((s && *s) || strcmp(g->config_dir, DEFAULT_CONFIG_DIR) == 0);
}

void config_save_last_good(const struct global_opts *g, int nfiles, const struct desired_state *ds)
{
	int r;

	if (!keeps_last_good(g, nfiles))
		return;
	r = last_good_save(ds);
	if (r < 0)
		log_debug("cannot keep a copy of the configuration in '%s': %s", last_good_dir(),
			  strerror(-r));
}

int config_load_last_good(const struct global_opts *g, int nfiles, struct desired_state *ds)
{
	struct strlist errors = { 0 };
	char when[64] = "";
	time_t saved = 0;
	int r;

	if (!keeps_last_good(g, nfiles))
		return EXIT_USAGE;
	r = last_good_load(ds, &errors, &saved);
	strlist_free(&errors);
	if (r < 0) {
		desired_state_free(ds);
		log_error("the configuration is invalid (above) and there is no last good copy "
			  "in '%s' to fall back on",
			  last_good_dir());
		return EXIT_USAGE;
	}
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&saved));
	log_error("the configuration is invalid (above): applying the last configuration "
		  "that validated instead (%zu file%s saved %s in '%s') until it is fixed",
		  ds->files.n, ds->files.n == 1 ? "" : "s", when, last_good_dir());
	return 0;
}

/*
 * Like sshd: a file others may write is not trusted to say what root does.
 * st is what was opened (files) or is there (directories).  A sticky
 * directory (/tmp) lets others add files but not replace ours: enough for
 * the directory of a FILE given by name (sticky_ok), not for the
 * configuration directories, where an added drop-in is read.
 */
static bool loose_st(const char *path, const struct stat *st, bool sticky_ok, char *why, size_t len)
{
	if (st->st_uid != 0 && st->st_uid != geteuid()) {
		snprintf(why, len, "'%s' is owned by uid %u, not by root; run: chown root '%s'",
			 path, (unsigned)st->st_uid, path);
		return true;
	}
	if (sticky_ok && S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX))
		return false;
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, len, "'%s' is writable by %s; run: chmod go-w '%s'", path,
			 st->st_mode & S_IWOTH ? "everyone" : "its group", path);
		return true;
	}
	return false;
}

static bool loose(const char *path, bool sticky_ok, char *why, size_t len)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return false; /* the loader already said what was wrong */
	return loose_st(path, &st, sticky_ok, why, len);
}

int config_check_permissions(const struct global_opts *g, int nfiles,
			     const struct desired_state *ds)
{
	char why[PATH_MAX * 2 + 128], dir[PATH_MAX];
	bool bad = false;

	if (nfiles == 0 && g->netns) {
		char scopes[PATH_MAX];

		snprintf(scopes, sizeof(scopes), "%s/netns", g->config_dir);
		snprintf(dir, sizeof(dir), "%s/netns/%s", g->config_dir, g->netns);
		if (loose(g->config_dir, false, why, sizeof(why)) ||
		    loose(scopes, false, why, sizeof(why)) || loose(dir, false, why, sizeof(why))) {
			log_error("refusing the configuration: %s", why);
			bad = true;
		}
	} else if (nfiles == 0) {
		snprintf(dir, sizeof(dir), "%s/conf.d", g->config_dir);
		if (loose(g->config_dir, false, why, sizeof(why)) ||
		    loose(dir, false, why, sizeof(why))) {
			log_error("refusing the configuration: %s", why);
			bad = true;
		}
	}
	for (size_t i = 0; i < ds->n_file_stats; i++) {
		const char *f = ds->file_stats[i].path;
		char *slash;

		snprintf(dir, sizeof(dir), "%s", f);
		slash = strrchr(dir, '/');
		if (slash && slash != dir)
			*slash = '\0';
		else
			snprintf(dir, sizeof(dir), "%s", slash ? "/" : ".");
		if (loose_st(f, &ds->file_stats[i].st, false, why, sizeof(why)) ||
		    loose(dir, nfiles > 0, why, sizeof(why))) {
			log_error("refusing the configuration: %s", why);
			bad = true;
		}
	}
	return bad ? EXIT_USAGE : 0;
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
