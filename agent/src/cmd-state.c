/* cmd-state.c - `offloadctl check` and `offloadctl apply` */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply.h"
#include "backend.h"
#include "cli.h"
#include "desired-state.h"
#include "facts-load.h"
#include "lock.h"
#include "log.h"
#include "plan.h"
#include "report.h"
#include "virt.h"

static void print_messages(const struct strlist *l, bool warning)
{
	for (size_t i = 0; i < l->n; i++) {
		if (warning)
			log_warn("%s", l->items[i]);
		else
			log_error("%s", l->items[i]);
	}
}

/* The planned changes, for check and --dry-run. */
static void report_plan(json_t *rep, const struct host_state *hs, const struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct plan_iface *pi = &p->ifaces[i];

		for (size_t c = 0; c < pi->n_changes; c++) {
			const struct plan_change *ch = &pi->changes[c];

			(ch->requested_only ? report_add_request_change : report_add_change)(
				rep, hs->ifaces[pi->iface].name, hs->names.names[ch->feature],
				!ch->to, ch->to, ch->rule);
		}
	}
	report_set(rep, "changed", p->n > 0);
	report_set(rep, "in_sync", p->n == 0 && p->errors.n == 0);
}

/* What the plan found that no change shows: members of group names that
 * keep their state, rules that matched no interface. */
static int report_add_notes(json_t *rep, const struct host_state *hs, const struct plan *p)
{
	for (size_t i = 0; i < p->n_unreachable; i++) {
		const struct plan_unreachable *u = &p->unreachable[i];

		if (report_add_unreachable(rep, hs->ifaces[u->iface].name,
					   hs->names.names[u->feature], u->wanted, u->via->name,
					   &u->via->loc) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < p->n_unmatched; i++)
		if (report_add_unmatched(rep, &p->unmatched[i].rule->loc, p->unmatched[i].match) <
		    0)
			return -ENOMEM;
	return 0;
}

enum mode {
	MODE_CHECK,
	MODE_APPLY
};

static int run_state(const struct global_opts *g, int argc, char **argv, enum mode mode)
{
	enum {
		OPT_JSON = 256,
		OPT_FACTS,
		OPT_LOCK_TIMEOUT,
		OPT_PER_IFACE,
		OPT_FALL_BACK
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd = mode == MODE_CHECK ? "check" : "apply";
	const char *facts_file = NULL, *lock_path;
	bool json = false, dry_run = false, have_vi = false, per_iface = false;
	bool fall_back = false, fell_back = false;
	double lock_timeout = 30;
	struct desired_state ds;
	struct host_state hs = { 0 };
	struct virt_info vi;
	struct backend *b = NULL;
	struct plan p = { 0 };
	json_t *rep = NULL;
	char *ifaces[MAX_IFACE_FILTERS];
	bool exact[MAX_IFACE_FILTERS];
	int n_ifaces = 0;
	int opt, r, rc, lock_fd = -1;

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

	if (facts_file) {
		struct strlist errors = { 0 };

		r = facts_load(facts_file, &hs, &vi, &errors);
		print_messages(&errors, false);
		strlist_free(&errors);
		if (r < 0) {
			rc = EXIT_USAGE;
			goto out;
		}
		have_vi = true;
	} else {
		bool privileged = mode == MODE_APPLY && !dry_run && have_net_admin();

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
		if (rc)
			goto out;
		/* Read the state under the lock, so that the plan holds. */
		if (privileged) {
			lock_path = getenv("OFFLOADCTL_LOCK_FILE");
			if (!lock_path)
				lock_path = LOCK_FILE_DEFAULT;
			lock_fd = lock_acquire(lock_path, lock_timeout);
			if (lock_fd == -ETIMEDOUT) {
				log_error("another offloadctl run has held '%s' for %.0f s; try "
					  "again "
					  "later or raise --lock-timeout",
					  lock_path, lock_timeout);
				rc = EXIT_ENV;
				goto out;
			}
			if (lock_fd < 0) {
				log_error("cannot lock '%s': %s", lock_path, strerror(-lock_fd));
				rc = EXIT_ENV;
				goto out;
			}
		}
		{
			struct global_opts here = *g;

			here.netns = NULL; /* already inside */
			rc = host_open_read(&here, &b, &hs, desired_state_uses_link_facts(&ds));
			if (rc)
				goto out;
		}
	}

	/* --interface: leave the other interfaces out of the plan, and do not
	 * complain about rules for interfaces we were not asked about. */
	if (n_ifaces) {
		ds.missing_interface = DS_POLICY_IGNORE;
		ds.unmatched_rule = DS_POLICY_IGNORE;
	}
	for (size_t i = 0; n_ifaces && i < hs.n; i++) {
		bool hit = false;

		for (int k = 0; k < n_ifaces && !hit; k++)
			hit = exact[k] ? strcmp(ifaces[k], hs.ifaces[i].name) == 0
				       : fnmatch(ifaces[k], hs.ifaces[i].name, 0) == 0;
		if (!hit)
			hs.ifaces[i].have_features = false;
	}

	r = plan_compute(&hs, &ds, have_vi ? &vi : NULL, &p);
	if (r < 0) {
		log_error("out of memory");
		rc = EXIT_ENV;
		goto out;
	}
	if (p.invalid.n) {
		print_messages(&p.invalid, false);
		rc = EXIT_USAGE;
		goto out;
	}
	if (mode == MODE_APPLY && !dry_run && !facts_file && !fell_back)
		config_save_last_good(g, argc - optind, &ds);
	print_messages(&p.warnings, true);
	print_messages(&p.errors, false);

	rep = report_new();
	if (!rep) {
		rc = EXIT_ENV;
		goto out;
	}
	if (report_add_messages(rep, "warnings", &p.warnings) < 0 ||
	    report_add_messages(rep, "errors", &p.errors) < 0 ||
	    report_add_notes(rep, &hs, &p) < 0) {
		log_error("out of memory");
		rc = EXIT_ENV;
		goto out;
	}

	if (mode == MODE_APPLY && !dry_run && per_iface && p.n && lock_fd >= 0) {
		/* Each interface on its own: one that cannot take its rules
		 * (a plan error, a kernel refusal) is left or rolled back
		 * alone, and the others still converge. */
		bool *skip = calloc(p.n, sizeof(*skip));

		if (!skip) {
			log_error("out of memory");
			rc = EXIT_ENV;
			goto out;
		}
		for (size_t e = 0; e < p.errors.n; e++)
			for (size_t i = 0; i < p.n; i++)
				if (p.ifaces[i].iface == p.error_iface[e])
					skip[i] = true;
		r = apply_plan_each(b, &hs, &p, skip, rep, true, NULL);
		free(skip);
		if (r < 0) {
			log_error("out of memory");
			rc = EXIT_ENV;
			goto out;
		}
		rc = r || p.errors.n ? EXIT_NOT_IN_SYNC : EXIT_OK;
		if (p.errors.n)
			report_set(rep, "in_sync", false);
	} else if (mode == MODE_CHECK || dry_run || p.errors.n || p.n == 0) {
		/* apply of a plan with errors changes nothing: its report lists
		 * no change (check and --dry-run list what would change). */
		if (mode == MODE_CHECK || dry_run || !p.errors.n)
			report_plan(rep, &hs, &p);
		else
			report_set(rep, "in_sync", false);
		if (p.errors.n)
			rc = EXIT_NOT_IN_SYNC;
		else if (mode == MODE_CHECK)
			rc = p.n ? EXIT_NOT_IN_SYNC : EXIT_OK;
		else
			rc = EXIT_OK;
		if (mode == MODE_APPLY && !dry_run)
			report_set(rep, "changed", false);
	} else if (lock_fd < 0) {
		log_error("not permitted: changing interface features needs CAP_NET_ADMIN (run "
			  "apply as root); nothing was changed");
		rc = EXIT_ENV;
		goto out;
	} else {
		r = apply_plan(b, &hs, &p, rep, true);
		if (r < 0) {
			log_error("out of memory");
			rc = EXIT_ENV;
			goto out;
		}
		rc = r ? EXIT_NOT_IN_SYNC : EXIT_OK;
	}

	if (fell_back && rc != EXIT_ENV)
		rc = EXIT_USAGE; /* applied the last good set: the set itself is bad */
	if (json)
		report_print_json(stdout, rep);
	else if (log_level >= 0 || rc)
		report_print_text(stdout, rep,
				  mode == MODE_APPLY && !dry_run ? "changed" : "would change");
out:
	json_decref(rep);
	plan_free(&p);
	host_state_free(&hs);
	backend_close(b);
	if (have_vi)
		virt_info_free(&vi);
	desired_state_free(&ds);
	if (lock_fd >= 0)
		close(lock_fd);
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
