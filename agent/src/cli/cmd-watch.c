/* cmd-watch.c - `offloadctl watch`: the options and the set-up (namespace,
 * claim, backend, monitor, signals, inotify, timer); watch.h says how the
 * rest is laid out */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "cli/watch.h"
#include "host/virt-detect.h"
#include "lib/log.h"

static void watch_free(struct watch *w)
{
	strlist_free(&w->warned);
	strlist_free(&w->errors_said);
	for (size_t i = 0; i < w->n_dirs; i++)
		free(w->dirs[i].child);
	free(w->dirs);
	for (size_t i = 0; i < w->n_iw; i++)
		free(w->iw[i].said);
	free(w->iw);
	if (w->instance >= 0)
		close(w->instance);
	end_kids(w);
	for (size_t i = 0; i < w->n_kids; i++)
		free(w->kids[i].name);
	free(w->kids);
	desired_state_free(&w->ds);
	if (w->have_vi)
		virt_info_free(&w->vi);
	host_state_free(&w->cur);
	backend_close(w->b);
	monitor_close(w->mon);
	if (w->ino >= 0)
		close(w->ino);
	if (w->sig >= 0)
		close(w->sig);
	if (w->timer >= 0)
		close(w->timer);
}

int cmd_watch(const struct global_opts *g, int argc, char **argv)
{
	enum {
		OPT_METRICS_FILE = 256
	};
	static const struct option opts[] = {
		{ "metrics-file", required_argument, NULL, OPT_METRICS_FILE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct watch w = {
		.g = g, .ino = -1, .sig = -1, .timer = -1, .instance = -1, .first_pass = true
	};
	struct global_opts inside = *g;
	sigset_t mask;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_METRICS_FILE:
			w.metrics_file = optarg;
			break;
		case 'h':
			fputs(command_find("watch")->usage, stdout);
			return EXIT_OK;
		default:
			return usage_error("watch", "unknown option '%s'", argv[optind - 1]);
		}
	}
	w.nfiles = argc - optind;
	w.files = argv + optind;
	/* The host's watch also keeps every named namespace's scope. */
	w.supervise = w.nfiles == 0 && !g->netns;
	if (g->netns && !strchr(g->netns, '/'))
		log_context = g->netns;
	for (int i = 0; i < w.nfiles; i++)
		if (strcmp(w.files[i], "-") == 0)
			return usage_error("watch",
					   "watch cannot read '-': give a FILE it can reload");

	w.counters.start_time = wall_seconds();
	rc = load_config(&w, true);
	if (rc)
		return rc;
	if (!have_net_admin()) {
		log_error("not permitted: watch changes interface features and needs "
			  "CAP_NET_ADMIN (run it as root or from offloadctl-watch.service)");
		desired_state_free(&w.ds);
		if (w.have_vi)
			virt_info_free(&w.vi);
		return EXIT_ENV;
	}

	rc = enter_netns(g);
	if (rc)
		goto out;
	inside.netns = NULL;
	if (claim_scope(&w) < 0) {
		rc = EXIT_ENV;
		goto out;
	}
	rc = host_open(&inside, &w.b, &w.cur);
	if (rc)
		goto out;
	if (backend_kind(w.b) != BACKEND_NETLINK) {
		log_error("watch needs the ethtool netlink family (Linux 5.6+) for change "
			  "notifications; use the boot unit and 'apply' on this kernel");
		rc = EXIT_ENV;
		goto out;
	}
	if (monitor_open(on_event, &w, &w.mon) < 0) {
		log_error("cannot listen to link and feature events (rtnetlink and the ethtool "
			  "monitor group); run watch as root, or use the boot unit");
		rc = EXIT_ENV;
		goto out;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	w.sig = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	w.ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	w.timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (w.sig < 0 || w.ino < 0 || w.timer < 0) {
		log_error("cannot set up the event loop: %s", strerror(errno));
		rc = EXIT_ENV;
		goto out;
	}
	watch_config_dirs(&w);

	rc = watch_run(&w);
out:
	watch_free(&w);
	return rc;
}
