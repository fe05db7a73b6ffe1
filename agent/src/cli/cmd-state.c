/* cmd-state.c - `offloadctl check` and `offloadctl apply` */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <fnmatch.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/lock.h"
#include "cli/apply.h"
#include "cli/cli.h"
#include "cli/reconcile.h"
#include "host/config-set.h"
#include "host/facts-load.h"
#include "host/virt-detect.h"
#include "lib/escape.h"
#include "lib/json-writer.h"
#include "lib/log.h"
#include "model/desired-state.h"
#include "model/plan.h"
#include "model/report.h"

static void print_messages(const struct strlist *l, bool warning)
{
	for (size_t i = 0; i < l->n; i++) {
		if (warning)
			log_warn("%s", l->items[i]);
		else
			log_error("%s", l->items[i]);
	}
}

enum mode {
	MODE_CHECK,
	MODE_APPLY
};

static int run_state(const struct global_opts *g, int argc, char **argv, enum mode mode);

/* In a child of --all-scopes: the option means nothing there. */
static bool in_scope_child;

/* The named namespaces that have a scope (config_dir/netns/NAME/) and
 * exist (/run/netns/NAME), in name order. */
static int list_scopes(const struct global_opts *g, struct strlist *ret)
{
	struct strlist gone = { 0 };
	int r = config_set_scopes(g->config_dir, "/run/netns", ret, &gone);

	for (size_t i = 0; i < gone.n; i++)
		log_info("scope '%s' skipped: no network namespace '%s' (ip netns list)",
			 gone.items[i], gone.items[i]);
	strlist_free(&gone);
	return r;
}

/* One scope's run in a child, in its namespace; its stdout into *ret_out
 * when out_fd is wanted (JSON), else straight through.  The exit code. */
static int run_child(const struct global_opts *g, const char *netns, int argc, char **argv,
		     enum mode mode, char **ret_out)
{
	int fds[2] = { -1, -1 }, status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	if (ret_out && pipe2(fds, O_CLOEXEC) < 0)
		return EXIT_ENV;
	pid = fork();
	if (pid < 0)
		return EXIT_ENV;
	if (pid == 0) {
		struct global_opts here = *g;

		here.netns = netns;
		if (ret_out) {
			dup2(fds[1], STDOUT_FILENO);
			close(fds[0]);
		}
		in_scope_child = true;
		optind = 0;
		status = run_state(&here, argc, argv, mode);
		fflush(stdout);
		_exit(status);
	}
	if (ret_out) {
		FILE *f;
		size_t len = 0;
		char buf[4096];
		ssize_t n;

		close(fds[1]);
		f = open_memstream(ret_out, &len);
		while (f && (n = read(fds[0], buf, sizeof(buf))) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				break;
			fwrite(buf, 1, (size_t)n, f);
		}
		if (f)
			fclose(f);
		close(fds[0]);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return EXIT_ENV;
	return WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_ENV;
}

/*
 * --all-scopes: the host scope here, then each named namespace's scope in
 * its namespace (CONTRACT.md "Scopes and owners"), each in a process of
 * its own so that nothing of one namespace reaches another.  The exit code
 * is the worst; --json prints {"scopes": {"host": REPORT, NAME: REPORT}}.
 */
static int run_all_scopes(const struct global_opts *g, int argc, char **argv, enum mode mode,
			  bool json)
{
	struct strlist scopes = { 0 };
	struct jw w;
	int worst = EXIT_OK, r;

	if (json) {
		if (out_open(&w) < 0)
			return EXIT_ENV;
		jw_object_begin(&w);
		jw_key(&w, "scopes");
		jw_object_begin(&w);
	}
	r = list_scopes(g, &scopes);
	if (r < 0)
		log_error("cannot read the scopes in '%s/netns': %s", g->config_dir, strerror(-r));
	for (size_t i = 0; i <= scopes.n; i++) {
		const char *ns = i ? scopes.items[i - 1] : NULL;
		char *out = NULL;
		int rc;

		/* A host with namespace scopes only has no host set: fine. */
		if (!ns && scopes.n && !config_set_host_exists(g->config_dir))
			continue;

		if (!json && log_level >= 0 && scopes.n) {
			printf("%s== scope %s%s\n", i ? "\n" : "", ns ? ns : "host",
			       ns ? " (network namespace)" : "");
			fflush(stdout);
		}
		rc = run_child(g, ns, argc, argv, mode, json ? &out : NULL);
		if (json) {
			/* the child's report as it printed it, when it is JSON */
			json_t *rep = out ? json_loads(out, 0, NULL) : NULL;
			char esc[NAME_ESC_MAX];

			jw_key(&w, ns ? name_json(ns, esc, sizeof(esc)) : "host");
			if (rep)
				jw_raw(&w, out, strlen(out));
			else
				jw_null(&w);
			json_decref(rep);
		}
		free(out);
		if (rc > worst)
			worst = rc;
	}
	if (json) {
		jw_object_end(&w);
		jw_object_end(&w);
		if (out_close(&w, true) < 0 && worst < EXIT_ENV)
			worst = EXIT_ENV;
	}
	strlist_free(&scopes);
	return worst;
}

struct planned_ctx {
	const struct global_opts *g;
	int nfiles;
	bool save_last_good;
};

/* The plan is valid: the set is good enough to keep as the last good one
 * (apply), and what it found is said before anything is changed. */
static int on_planned(struct reconcile *step, void *arg)
{
	struct planned_ctx *c = arg;

	if (c->save_last_good)
		config_save_last_good(c->g, c->nfiles, step->ds);
	print_messages(&step->plan.warnings, true);
	print_messages(&step->plan.errors, false);
	return 0;
}

static int run_state(const struct global_opts *g, int argc, char **argv, enum mode mode)
{
	enum {
		OPT_JSON = 256,
		OPT_FACTS,
		OPT_LOCK_TIMEOUT,
		OPT_PER_IFACE,
		OPT_FALL_BACK,
		OPT_ALL_SCOPES
	};
	enum {
		MAX_IFACE_FILTERS = 64
	};
	static const struct option opts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "facts", required_argument, NULL, OPT_FACTS },
		{ "lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT },
		{ "interface", required_argument, NULL, 'i' },
		{ "ifname", required_argument, NULL, 'I' },
		{ "per-interface", no_argument, NULL, OPT_PER_IFACE },
		{ "fall-back", no_argument, NULL, OPT_FALL_BACK },
		{ "all-scopes", no_argument, NULL, OPT_ALL_SCOPES },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = mode == MODE_CHECK ? "check" : "apply";
	const char *facts_file = NULL;
	bool json = false, dry_run = false, have_vi = false, per_iface = false;
	bool fall_back = false, fell_back = false, all_scopes = false;
	double lock_timeout = 30;
	struct desired_state ds;
	struct virt_info vi;
	struct backend *b = NULL;
	struct reconcile step;
	struct planned_ctx planned = { .g = g };
	struct reconcile_hooks hooks = { .planned = on_planned };
	char *ifaces[MAX_IFACE_FILTERS];
	bool exact[MAX_IFACE_FILTERS];
	int n_ifaces = 0;
	int opt, r, rc;

	while ((opt = getopt_long(argc, argv, mode == MODE_APPLY ? "nhi:I:" : "hi:I:", opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'i':
		case 'I':
			if (n_ifaces == MAX_IFACE_FILTERS)
				return usage_error(cmd, "at most %d --interface/--ifname options",
						   MAX_IFACE_FILTERS);
			exact[n_ifaces] = opt == 'I';
			ifaces[n_ifaces++] = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_ALL_SCOPES:
			all_scopes = !in_scope_child;
			break;
		case OPT_FALL_BACK:
			if (mode != MODE_APPLY)
				return usage_error(cmd, "unknown option '--fall-back'");
			fall_back = true;
			break;
		case OPT_PER_IFACE:
			if (mode != MODE_APPLY)
				return usage_error(cmd, "unknown option '--per-interface'");
			per_iface = true;
			break;
		case 'n':
			if (mode != MODE_APPLY)
				return usage_error(cmd, "unknown option '--dry-run'");
			dry_run = true;
			break;
		case OPT_FACTS:
			if (mode != MODE_CHECK)
				return usage_error(cmd,
						   "unknown option '--facts' (only check plans "
						   "against saved facts)");
			facts_file = optarg;
			break;
		case OPT_LOCK_TIMEOUT: {
			char *end;

			errno = 0;
			lock_timeout = strtod(optarg, &end);
			/* nan and inf would wait forever, '' is no number */
			if (end == optarg || *end || errno || !isfinite(lock_timeout) ||
			    lock_timeout < 0 || lock_timeout > 86400)
				return usage_error(
					cmd,
					"bad --lock-timeout '%s' (seconds expected, 0 to "
					"86400)",
					optarg);
			break;
		}
		case 'h':
			fputs(command_find(cmd)->usage, stdout);
			return EXIT_OK;
		default:
			return usage_error(cmd, "unknown or incomplete option '%s'",
					   argv[optind - 1]);
		}
	}

	if (all_scopes) {
		if (argc > optind || g->netns || facts_file || n_ifaces)
			return usage_error(cmd, "--all-scopes reads every scope of the "
						"configuration: no FILE, --netns, --facts or "
						"--interface with it");
		return run_all_scopes(g, argc, argv, mode, json);
	}
	rc = desired_state_load_cli(g, argc - optind, argv + optind, &ds);
	if (rc == EXIT_USAGE && fall_back) {
		/* the boot: one bad drop-in must not leave every NIC as
		 * the driver set it; the run still ends in failure */
		if (config_load_last_good(g, argc - optind, &ds) != 0)
			return EXIT_USAGE;
		fell_back = true;
	} else if (rc) {
		return rc;
	}
	if (mode == MODE_APPLY && !dry_run) {
		rc = config_check_permissions(g, argc - optind, &ds);
		if (rc) {
			desired_state_free(&ds);
			return rc;
		}
	}

	reconcile_init(&step);
	step.ds = &ds;
	step.log_errors = true;
	step.lock_timeout = lock_timeout;
	step.mode = mode == MODE_CHECK || dry_run ? RECONCILE_PLAN
		    : per_iface			  ? RECONCILE_APPLY_EACH
						  : RECONCILE_APPLY;
	/* check --json and --dry-run say which setting decides each feature
	 * (a wrapper sees a later file override its own) */
	step.po.decisions = json && (mode == MODE_CHECK || dry_run);
	/* --interface: the other interfaces are not this run's business */
	step.po.only = ifaces;
	step.po.only_exact = exact;
	step.po.n_only = (size_t)n_ifaces;
	if (facts_file) {
		struct strlist errors = { 0 };

		r = facts_load(facts_file, &step.hs, &vi, &errors);
		print_messages(&errors, false);
		strlist_free(&errors);
		if (r < 0) {
			rc = EXIT_USAGE;
			goto out;
		}
		have_vi = true;
	} else {
		if (desired_state_uses_virtualization(&ds)) {
			r = virt_detect(g->root, &vi);
			if (r < 0) {
				log_error("cannot detect virtualisation: %s", strerror(-r));
				rc = EXIT_ENV;
				goto out;
			}
			have_vi = true;
		}
		rc = enter_netns(g);
		if (!rc)
			rc = open_backend(g, &b);
		if (rc)
			goto out;
		step.b = b;
		/* only a run that may change anything waits for the lock */
		step.lock = mode == MODE_APPLY && !dry_run && have_net_admin();
	}
	step.vi = have_vi ? &vi : NULL;
	planned.save_last_good = mode == MODE_APPLY && !dry_run && !facts_file && !fell_back;
	planned.nfiles = argc - optind;
	hooks.arg = &planned;
	step.hooks = &hooks;

	switch (reconcile_run(&step)) {
	case RECONCILE_DONE:
		break;
	case RECONCILE_LOCK:
		if (step.err == -ETIMEDOUT)
			log_error("another offloadctl run has held '%s' for %.0f s; try again "
				  "later or raise --lock-timeout",
				  step.lock_path, lock_timeout);
		else
			log_error("cannot lock '%s': %s", step.lock_path, strerror(-step.err));
		rc = EXIT_ENV;
		goto out;
	case RECONCILE_READ:
		log_read_error(b, step.err);
		rc = EXIT_ENV;
		goto out;
	case RECONCILE_INVALID:
		print_messages(&step.plan.invalid, false);
		rc = EXIT_USAGE;
		goto out;
	case RECONCILE_NOT_PERMITTED:
		log_error("not permitted: changing interface features needs CAP_NET_ADMIN (run "
			  "apply as root); nothing was changed");
		rc = EXIT_ENV;
		goto out;
	case RECONCILE_STOPPED:
	case RECONCILE_FAILED:
		log_error("%s", step.err == -ENOMEM ? "out of memory" : strerror(-step.err));
		rc = EXIT_ENV;
		goto out;
	}
	if (mode == MODE_CHECK)
		rc = step.result ? EXIT_NOT_IN_SYNC : EXIT_OK;
	else
		rc = step.plan.errors.n || (!dry_run && step.result) ? EXIT_NOT_IN_SYNC : EXIT_OK;
	if (fell_back)
		rc = EXIT_USAGE; /* applied the last good set: the set itself is bad */
	if (json || log_level >= 0 || rc) {
		struct jw w;

		if (out_open(&w) < 0) {
			rc = EXIT_ENV;
			goto out;
		}
		if (json)
			report_write_json(&w, &step.rep);
		else
			report_write_text(&w, &step.rep,
					  mode == MODE_APPLY && !dry_run ? "changed"
									 : "would change");
		if (out_close(&w, json) < 0)
			rc = EXIT_ENV;
	}
out:
	reconcile_free(&step);
	backend_close(b);
	if (have_vi)
		virt_info_free(&vi);
	desired_state_free(&ds);
	return rc;
}

int cmd_check(const struct global_opts *g, int argc, char **argv)
{
	return run_state(g, argc, argv, MODE_CHECK);
}

int cmd_apply(const struct global_opts *g, int argc, char **argv)
{
	return run_state(g, argc, argv, MODE_APPLY);
}
