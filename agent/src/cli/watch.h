/* watch.h - `offloadctl watch` inside: apply, then keep the desired state
 *
 * One poll loop over:
 *   - rtnetlink link events (RTNLGRP_LINK): new and renamed interfaces;
 *   - the ethtool family's "monitor" group: FEATURES_NTF after any change of
 *     features, whoever made it (drift);
 *   - inotify on the configuration set: a wrapper writing a drop-in is
 *     reloaded before anything is reverted, so it is never undone as drift;
 *   - signalfd: SIGHUP reloads, SIGTERM and SIGINT exit 0;
 *   - a timerfd that coalesces bursts of events into one pass and spaces
 *     out retries after a failure (back-off), so nothing busy-loops.
 * A pass re-reads every interface in one dump, plans and applies with the
 * same engine as `apply` (verified, rolled back on failure).  Our own
 * changes come back as notifications that match the state we hold: they
 * are recognised and do not start another pass.
 *
 * cmd-watch.c sets up; watch-loop.c holds the loop, its timers and the
 * kernel's events (from backend/monitor.c); watch-config.c the
 * configuration and its inotify watches; watch-pass.c one pass (the
 * reconcile step, cli/reconcile.c, with watch's memory of each interface);
 * watch-scopes.c the claim on a namespace and the host's children, one per
 * namespace scope.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "backend/backend.h"
#include "backend/monitor.h"
#include "cli/cli.h"
#include "cli/metrics.h"
#include "model/desired-state.h"
#include "model/iface.h"
#include "model/virt.h"

#define COALESCE_MS	  150  /* a burst of events becomes one pass */
#define FIRST_MS	  5    /* the first event after a quiet spell */
#define QUIET_MS	  1000 /* no event for this long: a quiet spell */
#define BACKOFF_MIN_MS	  1000 /* first retry after a refused setting */
#define BACKOFF_MAX_MS	  60000
#define PASS_LOCK_TIMEOUT 5.0 /* seconds; then the pass is retried */

struct watch_dir {
	int wd;
	char *child; /* NULL: every event counts; else only events about this name */
	bool setdir; /* the configuration directory or conf.d (child NULL): only
		      * events about names of the set count, not a log or an
		      * editor's swap file kept beside it */
	bool netns;  /* /run/netns: our namespace's deletion */
	bool scopes; /* /run/netns, CONFIG/netns and its scopes: children to start or stop */
};

/* A watch for one named namespace's scope, run by the host's watch. */
struct scope_child {
	char *name;
	pid_t pid;	    /* 0: not running */
	int64_t not_before; /* restart back-off */
	unsigned int exits; /* exits in a row (back-off) */
	bool wanted;
};

/* What watch knows of one interface: its failures and its reverts. */
struct iface_watch {
	int ifindex;
	unsigned int fails; /* consecutive failed attempts (back-off) */
	int64_t retry_ms;   /* no attempt before this (back-off, fight) */
	char *said;	    /* the last problem logged for it: said once */
	int64_t reverts[8]; /* when its drift was reverted, newest last */
	unsigned int n_reverts;
	unsigned int fights; /* fights in a row (longer back-offs) */
};

struct watch {
	const struct global_opts *g;
	int nfiles;
	char **files;

	struct desired_state ds;
	bool have_vi;
	struct virt_info vi;

	struct backend *b;
	struct host_state cur; /* the state as of our last pass */

	struct monitor *mon; /* link and feature events */
	int ino, sig, timer;

	bool dirty;		    /* something happened: a pass is due */
	bool reload;		    /* the configuration set changed */
	bool reloaded;		    /* ... and this pass is the first under the new one */
	unsigned int failures;	    /* consecutive failed passes */
	struct timespec not_before; /* back-off: no pass before this */
	bool first_pass;
	unsigned long passes;
	bool exiting;
	struct strlist warned;	    /* the last pass's plan warnings, said once */
	struct strlist errors_said; /* the same for problems of no one interface */
	struct watch_dir *dirs;
	size_t n_dirs;
	bool netns_gone;
	struct iface_watch *iw;
	size_t n_iw;
	int instance;	/* the scope's claim (an abstract socket) */
	bool supervise; /* the host's watch: a child per namespace scope */
	bool scopes_dirty;
	int64_t last_event_ms; /* when schedule() last ran */
	struct scope_child *kids;
	size_t n_kids;
	const char *metrics_file; /* --metrics-file: counters for node_exporter */
	struct watch_counters counters;
};

/* watch-loop.c: time, scheduling, the counters, kernel events, the loop */
double wall_seconds(void);
int64_t now_ms(void);
void arm_timer(struct watch *w, int64_t delay_ms);
/* Wake up within delay_ms, keeping an earlier wake-up already set. */
void arm_timer_sooner(struct watch *w, int64_t delay_ms);
/* Something happened: run a pass soon, but not before the back-off. */
void schedule(struct watch *w);
/* The counters, when asked for (--metrics-file). */
void write_metrics(struct watch *w);
/* A link or feature event from the backend's monitor. */
void on_event(void *arg, const struct monitor_event *ev);
/* The first pass, then the poll loop until SIGTERM or SIGINT: an exit code. */
int watch_run(struct watch *w);

/* watch-config.c: the configuration set and its inotify watches */
/* Load the configuration; on success it replaces the one in force. */
int load_config(struct watch *w, bool initial);
/* (Re)build the watches; ones no longer wanted are removed. */
void watch_config_dirs(struct watch *w);
/* Read the queued inotify events: a reload or a scope change is due. */
void on_inotify(struct watch *w);

/* watch-pass.c: one pass, each interface on its own */
void run_pass(struct watch *w);

/* watch-scopes.c: one watch per namespace, and the host's children */
/* Claim this network namespace for this watch: 0, or -EBUSY (said). */
int claim_scope(struct watch *w);
/* Start and stop the children of the namespace scopes as they come and go. */
void reconcile_scopes(struct watch *w);
void reap_kids(struct watch *w);
void stop_kids(struct watch *w, int sig);
void end_kids(struct watch *w);
