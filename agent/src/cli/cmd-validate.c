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

#include "backend/backend.h"
#include "cli/cli.h"
#include "host/config-set.h"
#include "host/last-good.h"
#include "lib/escape.h"
#include "lib/json-writer.h"
#include "lib/log.h"
#include "model/desired-state.h"
#include "model/plan.h"

/* Load the files named on the command line, or the configuration set;
 * the parser's errors go to errors.  Returns 0 or an exit code; ds is
 * initialised either way (what a bad set held is there to report). */
static int load_set(const struct global_opts *g, int nfiles, char **files, struct desired_state *ds,
		    struct strlist *errors)
{
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
		r = config_set_load_files(ds, files, (size_t)nfiles, errors);
	else if (g->netns)
		/* a named namespace's own scope, never the host's rules */
		r = config_set_load_scope(ds, g->config_dir, g->netns, errors);
	else
		r = config_set_load_confdir(ds, g->config_dir, errors);
	if (r == -ENOMEM) {
		log_error("out of memory");
		return EXIT_ENV;
	}
	return r < 0 ? EXIT_USAGE : 0;
}

/* Each message on its own line after "offloadctl: " (and prefix), made
 * safe for a terminal. */
static void print_list(const struct strlist *l, const char *prefix)
{
	for (size_t i = 0; i < l->n; i++) {
		fprintf(stderr, "offloadctl: %s", prefix);
		text_write_safe(stderr, l->items[i]);
		fputc('\n', stderr);
	}
}

int desired_state_load_cli(const struct global_opts *g, int nfiles, char **files,
			   struct desired_state *ds)
{
	struct strlist errors = { 0 };
	int rc = load_set(g, nfiles, files, ds, &errors);

	print_list(&errors, "");
	strlist_free(&errors);
	if (rc)
		desired_state_free(ds);
	return rc;
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

/* The running kernel's judgement of ds's feature names (the plan's, with no
 * interface needed): a name it lacks is an error in errors naming the
 * kernel release.  Returns 0, EXIT_USAGE for such a name, or EXIT_ENV
 * when the kernel could not be asked (said). */
static int judge_names(const struct global_opts *g, const struct desired_state *ds,
		       struct strlist *errors)
{
	struct host_state hs = { 0 };
	struct backend *b = NULL;
	struct plan p = { 0 };
	int rc = host_open_read(g, &b, &hs, false);

	if (rc)
		return rc;
	if (plan_compute(&hs, ds, NULL, &p) < 0) {
		log_error("out of memory");
		rc = EXIT_ENV;
	}
	for (size_t i = 0; rc == 0 && i < p.invalid.n; i++)
		if (strlist_add(errors, p.invalid.items[i]) < 0) {
			log_error("out of memory");
			rc = EXIT_ENV;
		}
	if (rc == 0 && p.invalid.n)
		rc = EXIT_USAGE;
	plan_free(&p);
	host_state_free(&hs);
	backend_close(b);
	return rc;
}

/* What validate found, as both forms print it. */
struct validation {
	const struct desired_state *ds;
	bool valid;
	const struct strlist *errors, *warnings;
	size_t nfeat, nset; /* feature settings; other settings (rings, ...) */
};

static void messages_json(struct jw *w, const char *key, const struct strlist *l)
{
	jw_key(w, key);
	jw_array_begin(w);
	for (size_t i = 0; i < l->n; i++) {
		char *safe = name_json_dup(l->items[i]);

		jw_string_or_null(w, safe);
		free(safe);
	}
	jw_array_end(w);
}

/* The one walk over the result: --json prints {"valid", "files", "rules",
 * "features", "errors", "warnings"}, every message "file:line:column: ..."
 * where it has a place; the text form says the messages on stderr and,
 * when valid, "valid: 2 files, 3 rules, 5 feature settings" on stdout.
 * Returns 0 or the writer's error. */
static int print_validation(const struct validation *v, bool json, bool quiet)
{
	struct jw w;

	if (!json) {
		print_list(v->errors, "");
		if (log_level >= 0)
			print_list(v->warnings, "warning: ");
		if (!v->valid || quiet || log_level < 0)
			return 0;
	}
	if (out_open(&w) < 0)
		return -ENOMEM;
	if (json) {
		jw_object_begin(&w);
		jw_kv_bool(&w, "valid", v->valid);
		jw_key(&w, "files");
		jw_array_begin(&w);
		for (size_t i = 0; i < v->ds->files.n; i++) {
			char *safe = name_json_dup(v->ds->files.items[i]);

			jw_string_or_null(&w, safe);
			free(safe);
		}
		jw_array_end(&w);
		jw_kv_int(&w, "rules", (long long)v->ds->n_rules);
		jw_kv_int(&w, "features", (long long)v->nfeat);
		messages_json(&w, "errors", v->errors);
		messages_json(&w, "warnings", v->warnings);
		jw_object_end(&w);
	} else {
		size_t nf = v->ds->files.n, nr = v->ds->n_rules;

		jw_printf(&w, "valid: %zu file%s, %zu rule%s, %zu feature setting%s", nf,
			  nf == 1 ? "" : "s", nr, nr == 1 ? "" : "s", v->nfeat,
			  v->nfeat == 1 ? "" : "s");
		/* rings, channels, ...: said only when there are some, so that the
		 * line scripts read stays as it was for feature-only files */
		if (v->nset)
			jw_printf(&w, ", %zu other setting%s", v->nset, v->nset == 1 ? "" : "s");
		jw_lit(&w, "\n");
	}
	return out_close(&w, json);
}

int cmd_validate(const struct global_opts *g, int argc, char **argv)
{
	enum {
		OPT_JSON = 256,
		OPT_KERNEL
	};
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "kernel", no_argument, NULL, OPT_KERNEL },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct strlist errors = { 0 }, warnings = { 0 };
	struct desired_state ds;
	bool quiet = false, json = false, kernel = false;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (opt) {
		case 'q':
			quiet = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_KERNEL:
			kernel = true;
			break;
		case 'h':
			fputs(command_find("validate")->usage, stdout);
			return EXIT_OK;
		default:
			return usage_error("validate", "unknown option '%s'", argv[optind - 1]);
		}
	}
	rc = load_set(g, argc - optind, argv + optind, &ds, &errors);
	if (rc == EXIT_USAGE && errors.n == 0) {
		/* refused before reading (a namespace path): said already */
		desired_state_free(&ds);
		return rc;
	}
	if (rc == EXIT_ENV)
		goto out;
	if (rc == 0 && kernel) {
		/* --kernel: this host's kernel judges the names, as check does */
		rc = judge_names(g, &ds, &errors);
		if (rc == EXIT_ENV)
			goto out;
	} else if (desired_state_unknown_names(&ds, &warnings) < 0) {
		/* without the kernel the names are only warned about */
		log_error("out of memory");
		rc = EXIT_ENV;
		goto out;
	}
	{
		struct validation v = { &ds, rc == 0, &errors, &warnings, 0, 0 };

		for (size_t i = 0; i < ds.n_rules; i++) {
			v.nfeat += ds.rules[i].n_features;
			v.nset += ds.rules[i].n_settings;
		}
		if (print_validation(&v, json, quiet) < 0) {
			log_error("cannot print the result: %s", strerror(ENOMEM));
			rc = EXIT_ENV;
		}
	}
out:
	desired_state_free(&ds);
	strlist_free(&errors);
	strlist_free(&warnings);
	return rc;
}
