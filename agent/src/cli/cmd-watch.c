/* cmd-watch.c - `offloadctl watch`: apply, then keep the desired state
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
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <stddef.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/monitor.h"
#include "backend/lock.h"
#include "cli/apply.h"
#include "cli/cli.h"
#include "cli/metrics.h"
#include "cli/reconcile.h"
#include "host/config-set.h"
#include "host/virt-detect.h"
#include "lib/log.h"
#include "model/desired-state.h"
#include "model/plan.h"
#include "model/report.h"

#define COALESCE_MS	  150  /* a burst of events becomes one pass */
#define FIRST_MS	  5    /* the first event after a quiet spell */
#define QUIET_MS	  1000 /* no event for this long: a quiet spell */
#define BACKOFF_MIN_MS	  1000 /* first retry after a refused setting */
#define BACKOFF_MAX_MS	  60000
#define PASS_LOCK_TIMEOUT 5.0 /* seconds; then the pass is retried */

struct watch_dir {
	int wd;
	char *child; /* NULL: every event counts; else only events about this name */
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

static double wall_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The counters, when asked for; a textfile that cannot be written is
 * said once per failure streak and never stops the daemon. */
static void write_metrics(struct watch *w)
{
	static int last_error;
	int r;

	if (!w->metrics_file)
		return;
	w->counters.interfaces = w->cur.n;
	r = watch_counters_write(w->metrics_file, &w->counters);
	if (r < 0 && r != last_error)
		log_warn("cannot write metrics to '%s': %s", w->metrics_file, strerror(-r));
	last_error = r;
}

static int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void arm_timer(struct watch *w, int64_t delay_ms)
{
	struct itimerspec its = { 0 };

	if (delay_ms < 1)
		delay_ms = 1;
	its.it_value.tv_sec = delay_ms / 1000;
	its.it_value.tv_nsec = (delay_ms % 1000) * 1000000;
	timerfd_settime(w->timer, 0, &its, NULL);
}

/* Wake up within delay_ms, keeping an earlier wake-up already set. */
static void arm_timer_sooner(struct watch *w, int64_t delay_ms)
{
	struct itimerspec its;

	if (timerfd_gettime(w->timer, &its) == 0 && (its.it_value.tv_sec || its.it_value.tv_nsec) &&
	    (int64_t)its.it_value.tv_sec * 1000 + its.it_value.tv_nsec / 1000000 <= delay_ms)
		return;
	arm_timer(w, delay_ms);
}

/* Something happened: run a pass soon, but not before the back-off. */
static void schedule(struct watch *w)
{
	int64_t now = now_ms();
	/* A lone event after a quiet spell gets its pass at once; events that
	 * keep coming are coalesced (200 new veths: a handful of passes). */
	int64_t delay = now - w->last_event_ms > QUIET_MS ? FIRST_MS : COALESCE_MS;
	int64_t nb = (int64_t)w->not_before.tv_sec * 1000 + w->not_before.tv_nsec / 1000000;

	w->dirty = true;
	w->last_event_ms = now;
	if (nb - now > delay)
		delay = nb - now;
	/* Never later than that: an interface's retry armed for in 30 s
	 * must not hold back another interface's event. */
	arm_timer_sooner(w, delay);
}

/* --- configuration --- */

/* Load the configuration; on success it replaces the one in force. */
static int load_config(struct watch *w, bool initial)
{
	struct desired_state ds;
	struct plan p = { 0 };
	bool fell_back = false;
	int rc;

	if (w->supervise && !config_set_host_exists(w->g->config_dir) &&
	    config_set_has_scopes(w->g->config_dir)) {
		/* namespace scopes only: the host's own watch has no rules */
		desired_state_init(&ds);
		rc = 0;
	} else {
		rc = desired_state_load_cli(w->g, w->nfiles, w->files, &ds);
	}
	if (rc == EXIT_USAGE && initial) {
		/* Starting with a bad set: keep the interfaces as the last
		 * set that validated said, loudly, until it is fixed. */
		rc = config_load_last_good(w->g, w->nfiles, &ds);
		fell_back = rc == 0;
	} else if (rc == 0) {
		rc = config_check_permissions(w->g, w->nfiles, &ds);
		if (rc)
			desired_state_free(&ds);
	}
	if (rc) {
		if (!initial) {
			w->counters.reload_errors++;
			log_error("configuration not reloaded: it has errors (above); the previous "
				  "one stays in force");
		}
		return rc;
	}
	/* Names this kernel does not know make it unusable here, too. */
	if (w->cur.names.count && plan_compute(&w->cur, &ds, NULL, &p) == 0 && p.invalid.n) {
		for (size_t i = 0; i < p.invalid.n; i++)
			log_error("%s", p.invalid.items[i]);
		if (!initial) {
			w->counters.reload_errors++;
			log_error("configuration not reloaded; the previous one stays in force");
		}
		plan_free(&p);
		desired_state_free(&ds);
		return EXIT_USAGE;
	}
	plan_free(&p);
	if (!fell_back)
		config_save_last_good(w->g, w->nfiles, &ds);
	if (!initial) {
		w->counters.reloads++;
		desired_state_free(&w->ds);
		log_notice("configuration reloaded: %zu rule%s from %zu file%s", ds.n_rules,
			   ds.n_rules == 1 ? "" : "s", ds.files.n, ds.files.n == 1 ? "" : "s");
	}
	w->ds = ds;
	if (w->have_vi) {
		virt_info_free(&w->vi);
		w->have_vi = false;
	}
	if (desired_state_uses_virtualization(&w->ds) && virt_detect(w->g->root, &w->vi) == 0)
		w->have_vi = true;
	w->failures = 0;
	memset(&w->not_before, 0, sizeof(w->not_before));
	return 0;
}

/*
 * The configuration as it is really laid out.  Each watched directory
 * either counts every event (the configuration directory, conf.d, the
 * directory a symlinked file really lives in) or only events about one
 * name in it (the parent of a directory, to see it removed and created
 * again; the directory of a FILE given by name; /run/netns for our
 * namespace).  Every relevant event re-arms the whole set, so a directory
 * removed and recreated, or a ConfigMap-style "..data" symlink swapped,
 * is followed.
 */
#define INO_MASK                                                                                   \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_DELETE_SELF |   \
	 IN_MOVE_SELF | IN_ATTRIB)

static void add_dir(struct watch *w, struct watch_dir **v, size_t *n, const char *path,
		    const char *child, bool netns)
{
	struct watch_dir *nv;
	int wd = inotify_add_watch(w->ino, path, INO_MASK | IN_ONLYDIR);

	if (wd < 0)
		return; /* not there (yet): its parent's watch sees it come */
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i].wd == wd) {
			/* the same directory twice: every event wins */
			if (!child) {
				free((*v)[i].child);
				(*v)[i].child = NULL;
			}
			return;
		}
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return;
	*v = nv;
	nv[*n] = (struct watch_dir){ wd, child ? strdup(child) : NULL, netns, false };
	(*n)++;
}

/* A directory whose events (about child, or all) change which namespace
 * scopes run. */
static void add_scope_dir(struct watch *w, struct watch_dir **v, size_t *n, const char *path,
			  const char *child)
{
	size_t before = *n;

	add_dir(w, v, n, path, child, false);
	if (*n > before)
		(*v)[*n - 1].scopes = true;
}

/* dir and, when it is reached through a symlink, the real one too; and its
 * parent for dir's own name.  Every event in dir counts. */
static void add_dir_tree(struct watch *w, struct watch_dir **v, size_t *n, const char *dir)
{
	char real[PATH_MAX], copy[PATH_MAX], base[PATH_MAX];

	add_dir(w, v, n, dir, NULL, false);
	if (realpath(dir, real) && strcmp(real, dir) != 0)
		add_dir(w, v, n, real, NULL, false);
	snprintf(copy, sizeof(copy), "%s", dir);
	snprintf(base, sizeof(base), "%s", basename(copy));
	snprintf(copy, sizeof(copy), "%s", dir);
	add_dir(w, v, n, dirname(copy), base, false);
}

/* A file of the set: its directory for its name, and where it really is
 * when it is a symlink (every event there). */
static void add_file(struct watch *w, struct watch_dir **v, size_t *n, const char *path,
		     bool dir_counts)
{
	char copy[PATH_MAX], base[PATH_MAX], real[PATH_MAX];

	snprintf(copy, sizeof(copy), "%s", path);
	snprintf(base, sizeof(base), "%s", basename(copy));
	snprintf(copy, sizeof(copy), "%s", path);
	if (dir_counts)
		add_dir_tree(w, v, n, dirname(copy));
	else
		add_dir(w, v, n, dirname(copy), base, false);
	if (realpath(path, real) && strcmp(real, path) != 0) {
		snprintf(copy, sizeof(copy), "%s", real);
		add_dir(w, v, n, dirname(copy), NULL, false);
	}
}

/* (Re)build the watches; ones no longer wanted are removed. */
static void watch_config_dirs(struct watch *w)
{
	struct watch_dir *v = NULL;
	size_t n = 0;
	char path[PATH_MAX];

	if (w->nfiles == 0) {
		add_dir_tree(w, &v, &n, w->g->config_dir);
		snprintf(path, sizeof(path), "%s/conf.d", w->g->config_dir);
		add_dir_tree(w, &v, &n, path);
	}
	for (int i = 0; i < w->nfiles; i++)
		add_file(w, &v, &n, w->files[i], false);
	/* what the set's files really are (symlinks into other directories) */
	for (size_t i = 0; i < w->ds.files.n; i++)
		add_file(w, &v, &n, w->ds.files.items[i], false);
	if (w->g->netns && !strchr(w->g->netns, '/'))
		add_dir(w, &v, &n, "/run/netns", w->g->netns, true);
	if (w->supervise) {
		DIR *d;
		struct dirent *de;

		/* /run/netns appears with the first `ip netns add` */
		add_scope_dir(w, &v, &n, "/run", "netns");
		add_scope_dir(w, &v, &n, "/run/netns", NULL);
		snprintf(path, sizeof(path), "%s/netns", w->g->config_dir);
		add_scope_dir(w, &v, &n, path, NULL);
		add_dir(w, &v, &n, w->g->config_dir, "netns", false);
		d = opendir(path);
		while (d && (de = readdir(d))) {
			char sub[PATH_MAX * 2];

			if (!config_set_is_scope_name(de->d_name))
				continue;
			snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
			add_scope_dir(w, &v, &n, sub, NULL);
		}
		if (d)
			closedir(d);
	}

	for (size_t i = 0; i < w->n_dirs; i++) {
		bool kept = false;

		for (size_t k = 0; k < n && !kept; k++)
			kept = v[k].wd == w->dirs[i].wd;
		if (!kept)
			inotify_rm_watch(w->ino, w->dirs[i].wd);
		free(w->dirs[i].child);
	}
	free(w->dirs);
	w->dirs = v;
	w->n_dirs = n;
}

static const struct watch_dir *find_dir(const struct watch *w, int wd)
{
	for (size_t i = 0; i < w->n_dirs; i++)
		if (w->dirs[i].wd == wd)
			return &w->dirs[i];
	return NULL;
}

/* Read what inotify has queued (never blocks): a change of the set means a
 * reload before the next revert; our namespace deleted means we leave. */
static void on_inotify(struct watch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool relevant = false;
	ssize_t n;

	while ((n = read(w->ino, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			const struct watch_dir *d = find_dir(w, ev->wd);
			const char *name = ev->len ? ev->name : "";

			p += sizeof(*ev) + ev->len;
			if (ev->mask & (IN_IGNORED | IN_Q_OVERFLOW) || !d) {
				relevant = true; /* a watch lost: re-arm, reload */
				continue;
			}
			if (d->scopes) {
				if (!d->child || strcmp(name, d->child) == 0)
					w->scopes_dirty = true;
				continue;
			}
			if (d->child && strcmp(name, d->child) != 0)
				continue;
			if (d->child && w->supervise && strcmp(d->child, "netns") == 0) {
				w->scopes_dirty = true; /* CONFIG/netns came or went */
				continue;
			}
			if (d->netns) {
				char path[PATH_MAX];

				snprintf(path, sizeof(path), "/run/netns/%s", d->child);
				if ((ev->mask & (IN_DELETE | IN_MOVED_FROM)) &&
				    access(path, F_OK) < 0)
					w->netns_gone = true;
				continue;
			}
			relevant = true;
		}
	}
	if (w->netns_gone) {
		log_notice("network namespace '%s' was deleted: exiting, so as not to keep it "
			   "(and its interfaces) alive",
			   w->g->netns);
		w->exiting = true;
		return;
	}
	if (relevant) {
		watch_config_dirs(w);
		w->reload = true;
		schedule(w);
		/* CONFIG/netns and a first scope made at once, before their
		 * watches existed: the scopes are listed afresh anyway */
		if (w->supervise)
			w->scopes_dirty = true;
	}
	if (w->scopes_dirty)
		watch_config_dirs(w); /* new scope directories */
}

/* --- events from the kernel --- */

static void on_event(void *arg, const struct monitor_event *ev)
{
	struct watch *w = arg;
	struct iface *ifc = ev->ifindex ? host_state_find_index(&w->cur, ev->ifindex) : NULL;

	switch (ev->type) {
	case MONITOR_LINK_NEW:
		/* New, or renamed: the rules that match it may have changed. */
		if (!ifc || strcmp(ifc->name, ev->ifname) != 0)
			schedule(w);
		return;
	case MONITOR_LINK_DEL:
		/* Nothing to set, but the rules may match nothing now
		 * (unmatched-rule) and what we knew of it goes. */
	case MONITOR_LOST:
		schedule(w);
		return;
	case MONITOR_FEATURES:
		/* The echo of our own change matches what we hold: nothing to do. */
		if (!ev->have_bits || !ifc || !ifc->have_features ||
		    memcmp(&ev->active, &ifc->active, sizeof(ev->active)) != 0 ||
		    memcmp(&ev->wanted, &ifc->wanted, sizeof(ev->wanted)) != 0)
			schedule(w);
		return;
	}
}

/* --- a pass --- */

static void log_pass(struct watch *w, json_t *rep, bool first)
{
	json_t *ifs = json_object_get(rep, "interfaces"), *e, *c;
	const char *name;
	size_t idx;

	json_object_foreach(ifs, name, e) {
		const char *what = first			     ? "set"
				   : !host_state_find(&w->cur, name) ? "configured new interface"
				   : w->reloaded ? "applied the new configuration to"
						 : "reverted drift on";

		json_array_foreach(json_object_get(e, "changes"), idx, c) {
			json_t *rule = json_object_get(c, "rule");

			if (first)
				w->counters.changes_initial++;
			else if (!host_state_find(&w->cur, name))
				w->counters.changes_new++;
			else if (w->reloaded)
				w->counters.changes_reload++;
			else
				w->counters.reverts++;

			log_notice("%s '%s': %s%s %s -> %s%s%s%s", what, name,
				   json_object_get(c, "state") ? "requested " : "",
				   json_string_value(json_object_get(c, "feature")),
				   json_string_value(json_object_get(c, "from")),
				   json_string_value(json_object_get(c, "to")),
				   rule ? " (rule " : "", rule ? json_string_value(rule) : "",
				   rule ? ")" : "");
		}
		json_array_foreach(json_object_get(e, "side_effects"), idx, c)
			log_info("'%s': %s %s -> %s (side effect)", name,
				 json_string_value(json_object_get(c, "feature")),
				 json_string_value(json_object_get(c, "from")),
				 json_string_value(json_object_get(c, "to")));
	}
}

static void back_off(struct watch *w)
{
	int64_t delay = BACKOFF_MIN_MS;
	int64_t until;

	for (unsigned int i = 1; i < w->failures && delay < BACKOFF_MAX_MS; i++)
		delay *= 2;
	if (delay > BACKOFF_MAX_MS)
		delay = BACKOFF_MAX_MS;
	until = now_ms() + delay;
	w->not_before.tv_sec = until / 1000;
	w->not_before.tv_nsec = (until % 1000) * 1000000;
	log_warn("will try again in %lld s", (long long)(delay / 1000));
	arm_timer(w, delay);
	w->dirty = true;
}

/*
 * The plan's warnings (a rule that matched nothing, a member the driver
 * keeps on): said when they first appear, not on every pass, and again
 * only after they went away and came back.
 */
static void warn_once(struct watch *w, struct strlist *warnings)
{
	bool same = warnings->n == w->warned.n;
	struct strlist t;

	for (size_t i = 0; same && i < warnings->n; i++)
		same = strcmp(warnings->items[i], w->warned.items[i]) == 0;
	if (same)
		return;
	for (size_t i = 0; i < warnings->n; i++)
		if (!strlist_contains(&w->warned, warnings->items[i]))
			log_warn("%s", warnings->items[i]);
	t = w->warned;
	w->warned = *warnings;
	*warnings = t;
}

/* --- one interface at a time --- */

#define FIGHT_WINDOW_MS	     60000  /* reverts counted over this long */
#define FIGHT_REVERTS	     5	    /* this many in the window is a fight */
#define FIGHT_BACKOFF_MIN_MS 30000  /* then leave it alone this long, */
#define FIGHT_BACKOFF_MAX_MS 600000 /* doubling while the fight goes on */

static struct iface_watch *iw_get(struct watch *w, int ifindex, bool create)
{
	struct iface_watch *v;

	for (size_t i = 0; i < w->n_iw; i++)
		if (w->iw[i].ifindex == ifindex)
			return &w->iw[i];
	if (!create)
		return NULL;
	v = realloc(w->iw, (w->n_iw + 1) * sizeof(*v));
	if (!v)
		return NULL;
	w->iw = v;
	v[w->n_iw] = (struct iface_watch){ .ifindex = ifindex };
	return &v[w->n_iw++];
}

/* Forget interfaces that are gone. */
static void iw_prune(struct watch *w, struct host_state *hs)
{
	size_t k = 0;

	for (size_t i = 0; i < w->n_iw; i++) {
		if (host_state_find_index(hs, w->iw[i].ifindex)) {
			w->iw[k++] = w->iw[i];
			continue;
		}
		free(w->iw[i].said);
	}
	w->n_iw = k;
}

/* Say a problem of one interface once: again only when it changes. */
static void iw_say(struct iface_watch *t, const char *msg, bool error)
{
	if (!msg)
		msg = "cannot set its features";
	if (t->said && strcmp(t->said, msg) == 0)
		return;
	if (error)
		log_error("%s", msg);
	else
		log_warn("%s", msg);
	free(t->said);
	t->said = strdup(msg);
}

/* Every error of a report, one line each. */
static char *report_errors(json_t *rep)
{
	char *out = NULL;
	size_t len = 0, i;
	json_t *e;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	json_array_foreach(json_object_get(rep, "errors"), i, e)
		fprintf(f, "%s%s", i ? "; " : "", json_string_value(e));
	if (fclose(f) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* Drift on this interface was just reverted: is another writer fighting
 * us?  Then leave it alone, longer each time, and say so once. */
static void note_revert(struct watch *w, struct iface_watch *t, const char *ifname, json_t *rep,
			int64_t now)
{
	unsigned int n = 0;
	int64_t delay;

	if (t->n_reverts && now - t->reverts[t->n_reverts - 1] > 10 * FIGHT_WINDOW_MS)
		t->fights = 0; /* quiet for long: a new fight starts short */
	if (t->n_reverts == ARRAY_SIZE(t->reverts)) {
		memmove(t->reverts, t->reverts + 1, sizeof(t->reverts) - sizeof(t->reverts[0]));
		t->n_reverts--;
	}
	t->reverts[t->n_reverts++] = now;
	for (unsigned int i = 0; i < t->n_reverts; i++)
		n += now - t->reverts[i] <= FIGHT_WINDOW_MS;
	if (n < FIGHT_REVERTS)
		return;
	delay = FIGHT_BACKOFF_MIN_MS;
	for (unsigned int i = 0; i < t->fights && delay < FIGHT_BACKOFF_MAX_MS; i++)
		delay *= 2;
	if (delay > FIGHT_BACKOFF_MAX_MS)
		delay = FIGHT_BACKOFF_MAX_MS;
	t->fights++;
	w->counters.fights++;
	t->n_reverts = 0;
	t->retry_ms = now + delay;
	{
		json_t *changes = json_object_get(
			json_object_get(json_object_get(rep, "interfaces"), ifname), "changes");
		json_t *c = json_array_get(changes, 0);

		log_warn("fight over '%s': %s%s reverted %u times in %d s; another program keeps "
			 "setting it (a second watch, NetworkManager, a script?); leaving '%s' "
			 "alone for %lld s",
			 ifname, c ? json_string_value(json_object_get(c, "feature")) : "a feature",
			 json_array_size(changes) > 1 ? " and others" : "", n,
			 FIGHT_WINDOW_MS / 1000, ifname, (long long)(delay / 1000));
	}
}

/* Problems of no one interface (unmatched-rule: error, ...): said once. */
static void say_global_errors(struct watch *w, const struct plan *p)
{
	struct strlist now = { 0 };

	for (size_t e = 0; e < p->errors.n; e++)
		if (p->error_iface[e] == PLAN_NO_IFACE)
			strlist_add(&now, p->errors.items[e]);
	for (size_t i = 0; i < now.n; i++)
		if (!strlist_contains(&w->errors_said, now.items[i]))
			log_error("%s", now.items[i]);
	strlist_free(&w->errors_said);
	w->errors_said = now;
}

static void free_bad(char **bad, size_t n)
{
	for (size_t i = 0; bad && i < n; i++)
		free(bad[i]);
	free(bad);
}

/* What one pass knows beside the reconcile step. */
struct pass {
	struct watch *w;
	char **bad; /* by interface: the rules it cannot take */
	size_t n_bad;
	int64_t now, next_retry;
};

/* Under the lock: take the configuration changes inotify has queued (a
 * wrapper's drop-in written and applied while we waited must not be
 * reverted with the old set). */
static int pass_locked(struct reconcile *rc, void *arg)
{
	struct pass *ps = arg;
	struct watch *w = ps->w;

	on_inotify(w);
	if (w->exiting)
		return 1;
	w->reloaded = false;
	if (w->reload) {
		w->reload = false;
		w->reloaded = load_config(w, false) == 0;
		if (w->reloaded)
			watch_config_dirs(w); /* the new set's files, wherever they are */
	}
	rc->vi = w->have_vi ? &w->vi : NULL;
	return 0;
}

/* The plan is made: its warnings and problems are said once; rules an
 * interface cannot take (a fixed feature) are said once for it, all of
 * them in one line, and the interface is left as it is. */
static int pass_planned(struct reconcile *rc, void *arg)
{
	struct pass *ps = arg;
	struct watch *w = ps->w;
	const struct plan *p = &rc->plan;
	struct host_state *hs = &rc->hs;

	warn_once(w, &rc->plan.warnings);
	say_global_errors(w, p);
	iw_prune(w, hs);
	ps->now = now_ms();
	if (!p->errors.n)
		return 0;
	ps->bad = calloc(hs->n ? hs->n : 1, sizeof(*ps->bad));
	if (!ps->bad)
		return -ENOMEM;
	ps->n_bad = hs->n;
	for (size_t e = 0; e < p->errors.n; e++) {
		size_t k = p->error_iface[e];
		char *joined;

		if (k == PLAN_NO_IFACE)
			continue;
		if (asprintf(&joined, "%s%s%s", ps->bad[k] ? ps->bad[k] : "",
			     ps->bad[k] ? "; " : "", p->errors.items[e]) < 0)
			return -ENOMEM;
		free(ps->bad[k]);
		ps->bad[k] = joined;
	}
	for (size_t k = 0; k < hs->n; k++) {
		struct iface_watch *t;

		if (!ps->bad[k])
			continue;
		t = iw_get(w, hs->ifaces[k].ifindex, true);
		if (!t)
			return -ENOMEM;
		iw_say(t, ps->bad[k], true);
	}
	return 0;
}

/* An interface waiting out a back-off (refused, or fought over) is left
 * alone until then. */
static bool pass_skip(struct reconcile *rc, void *arg, size_t i)
{
	struct pass *ps = arg;
	struct iface_watch *t =
		iw_get(ps->w, rc->hs.ifaces[rc->plan.ifaces[i].iface].ifindex, false);

	if (t && t->retry_ms > ps->now) {
		if (!ps->next_retry || t->retry_ms < ps->next_retry)
			ps->next_retry = t->retry_ms;
		return true;
	}
	return false;
}

/* One interface was tried: log what changed, or say why not and back off. */
static int pass_applied(struct reconcile *rc, void *arg, size_t i, int result, json_t *rep)
{
	struct pass *ps = arg;
	struct watch *w = ps->w;
	struct iface *ifc = &rc->hs.ifaces[rc->plan.ifaces[i].iface];
	/* kept only for interfaces that failed or drifted: a first pass over
	 * 10,000 new veths makes none */
	struct iface_watch *t = iw_get(w, ifc->ifindex, false);
	bool existed = host_state_find_index(&w->cur, ifc->ifindex) != NULL;
	bool drift = existed && !w->first_pass && !w->reloaded;
	int64_t now = ps->now;

	if ((result == 1 || drift) && !t && !(t = iw_get(w, ifc->ifindex, true)))
		return -ENOMEM;
	if (result == 1) {
		/* refused and rolled back: again later, less often */
		char *msg = report_errors(rep), *retry = NULL;
		int64_t delay = BACKOFF_MIN_MS;

		for (unsigned int k = 0; k < t->fails && delay < BACKOFF_MAX_MS; k++)
			delay *= 2;
		if (delay > BACKOFF_MAX_MS)
			delay = BACKOFF_MAX_MS;
		t->fails++;
		w->counters.refusals++;
		t->retry_ms = now + delay;
		if (!ps->next_retry || t->retry_ms < ps->next_retry)
			ps->next_retry = t->retry_ms;
		if (msg && asprintf(&retry, "%s (will try again, backing off up to %d s)", msg,
				    BACKOFF_MAX_MS / 1000) < 0)
			retry = NULL;
		iw_say(t, retry ? retry : "cannot set its features", true);
		free(retry);
		free(msg);
		return 0;
	}
	log_pass(w, rep, w->first_pass);
	if (t && t->said) {
		log_notice("'%s' holds its desired state now", ifc->name);
		free(t->said);
		t->said = NULL;
	}
	if (t)
		t->fails = 0;
	if (drift)
		note_revert(w, t, ifc->name, rep, now);
	if (t && t->retry_ms > now && (!ps->next_retry || t->retry_ms < ps->next_retry))
		ps->next_retry = t->retry_ms;
	return 0;
}

/*
 * One pass: the reconcile step apply takes, each interface on its own: one
 * that cannot take its rules is reported once, retried with back-off, and
 * never stops the others.
 */
static void run_pass(struct watch *w)
{
	struct pass ps = { .w = w };
	const struct reconcile_hooks hooks = {
		.locked = pass_locked,
		.planned = pass_planned,
		.skip = pass_skip,
		.applied = pass_applied,
		.arg = &ps,
	};
	struct reconcile rc;
	bool ok = false;

	w->dirty = false;
	log_debug("pass %lu", ++w->passes);
	w->counters.passes++;
	reconcile_init(&rc);
	rc.mode = RECONCILE_APPLY_EACH;
	rc.b = w->b;
	rc.ds = &w->ds;
	rc.lock = true;
	rc.lock_timeout = PASS_LOCK_TIMEOUT;
	rc.hooks = &hooks;
	switch (reconcile_run(&rc)) {
	case RECONCILE_DONE:
		ok = true;
		break;
	case RECONCILE_STOPPED:
		reconcile_free(&rc);
		free_bad(ps.bad, ps.n_bad);
		return;
	case RECONCILE_LOCK:
		log_warn("cannot take the lock (%s); trying again", strerror(-rc.err));
		break;
	case RECONCILE_READ:
		log_read_error(w->b, rc.err);
		break;
	case RECONCILE_INVALID:
		for (size_t i = 0; i < rc.plan.invalid.n; i++)
			log_error("%s", rc.plan.invalid.items[i]);
		break;
	case RECONCILE_NOT_PERMITTED: /* the lock is always taken */
	case RECONCILE_FAILED:
		break;
	}
	/* Keep what we learnt about the interfaces, also after a failure, so
	 * that the echoes of a rollback are recognised. */
	if (ok || rc.hs.names.count) {
		host_state_free(&w->cur);
		w->cur = rc.hs;
		memset(&rc.hs, 0, sizeof(rc.hs));
	}
	free_bad(ps.bad, ps.n_bad);
	reconcile_free(&rc);
	if (!ok) {
		/* try again later */
		w->failures++;
		w->counters.failed_passes++;
		write_metrics(w);
		back_off(w);
		return;
	}
	w->failures = 0;
	w->first_pass = false;
	memset(&w->not_before, 0, sizeof(w->not_before));
	/* An interface waiting out a back-off gets its pass then. */
	if (ps.next_retry) {
		w->dirty = true;
		arm_timer_sooner(w, ps.next_retry - now_ms());
	}
	w->counters.last_success = wall_seconds();
	write_metrics(w);
}

/*
 * One watch per network namespace: two with different configurations
 * flap forever.  The claim is an abstract unix socket, which belongs to
 * the namespace and goes with the process; a second watch connects to it
 * to learn who holds it.
 */
static int claim_scope(struct watch *w)
{
	static const char name[] = "offloadctl-watch";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	int fd, c;

	memcpy(sa.sun_path + 1, name, strlen(name));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, len) == 0 && listen(fd, 64) == 0) {
		w->instance = fd;
		return 0;
	}
	close(fd);
	if (errno != EADDRINUSE)
		return -errno;
	c = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c >= 0 && connect(c, (struct sockaddr *)&sa, len) == 0 &&
	    getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0)
		log_error("another 'offloadctl watch' (pid %d) already keeps the interfaces of "
			  "this network namespace; two would fight: stop it first (systemctl stop "
			  "offloadctl-watch)",
			  (int)cred.pid);
	else
		log_error("another 'offloadctl watch' already keeps the interfaces of this "
			  "network namespace; two would fight: stop it first");
	if (c >= 0)
		close(c);
	return -EBUSY;
}

/* --- the scopes of named namespaces: one child watch each --- */

#define SCOPE_RESTART_MIN_MS 2000
#define SCOPE_RESTART_MAX_MS 60000

static struct scope_child *kid_get(struct watch *w, const char *name, bool create)
{
	struct scope_child *v;

	for (size_t i = 0; i < w->n_kids; i++)
		if (strcmp(w->kids[i].name, name) == 0)
			return &w->kids[i];
	if (!create)
		return NULL;
	v = realloc(w->kids, (w->n_kids + 1) * sizeof(*v));
	if (!v)
		return NULL;
	w->kids = v;
	v[w->n_kids] = (struct scope_child){ .name = strdup(name) };
	if (!v[w->n_kids].name)
		return NULL;
	return &v[w->n_kids++];
}

static void kid_start(struct watch *w, struct scope_child *k)
{
	const char *args[16];
	int n = 0;
	pid_t pid;

	args[n++] = "offloadctl";
	for (int i = 0; i < log_level && i < 3; i++)
		args[n++] = "-v";
	if (log_level < 0)
		args[n++] = "-q";
	args[n++] = "--netns";
	args[n++] = k->name;
	args[n++] = "--config-dir";
	args[n++] = w->g->config_dir;
	args[n++] = "--backend";
	args[n++] = w->g->backend;
	args[n++] = "watch";
	args[n] = NULL;
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		log_error("cannot start the watch of namespace '%s': %s", k->name, strerror(errno));
		return;
	}
	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv("/proc/self/exe", (char *const *)args);
		_exit(EXIT_ENV);
	}
	k->pid = pid;
	log_notice("watching the scope of network namespace '%s' (pid %d)", k->name, (int)pid);
}

/* Start a child for every scope that has rules and whose namespace exists;
 * stop the ones that are no longer wanted. */
static void reconcile_scopes(struct watch *w)
{
	struct strlist scopes = { 0 };
	int64_t now = now_ms(), next = 0;

	w->scopes_dirty = false;
	for (size_t i = 0; i < w->n_kids; i++)
		w->kids[i].wanted = false;
	/* as before a listing that fails (ENOMEM) leaves the unlisted scopes
	 * unwanted; the next event lists again */
	config_set_scopes(w->g->config_dir, "/run/netns", &scopes, NULL);
	for (size_t i = 0; i < scopes.n; i++) {
		struct scope_child *k = kid_get(w, scopes.items[i], true);

		if (k)
			k->wanted = true;
	}
	strlist_free(&scopes);
	for (size_t i = 0; i < w->n_kids; i++) {
		struct scope_child *k = &w->kids[i];

		if (k->wanted && !k->pid) {
			if (k->not_before > now) {
				if (!next || k->not_before < next)
					next = k->not_before;
				continue;
			}
			kid_start(w, k);
		} else if (!k->wanted && k->pid) {
			log_notice("scope of network namespace '%s' gone: stopping its watch",
				   k->name);
			kill(k->pid, SIGTERM);
		}
	}
	if (next) {
		w->scopes_dirty = true;
		arm_timer_sooner(w, next - now);
	}
}

/* Children that ended: noted, and started again (with back-off) while
 * their scope and namespace are there. */
static void reap_kids(struct watch *w)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (size_t i = 0; i < w->n_kids; i++) {
			struct scope_child *k = &w->kids[i];
			int64_t delay = SCOPE_RESTART_MIN_MS;

			if (k->pid != pid)
				continue;
			k->pid = 0;
			if (k->wanted && !w->exiting)
				log_warn("the watch of network namespace '%s' ended (%s %d)",
					 k->name, WIFEXITED(status) ? "exit" : "signal",
					 WIFEXITED(status) ? WEXITSTATUS(status)
							   : WTERMSIG(status));
			for (unsigned int e = 0; e < k->exits && delay < SCOPE_RESTART_MAX_MS; e++)
				delay *= 2;
			k->exits++;
			k->not_before = now_ms() + delay;
		}
	}
	w->scopes_dirty = true;
}

static void stop_kids(struct watch *w, int sig)
{
	for (size_t i = 0; i < w->n_kids; i++)
		if (w->kids[i].pid)
			kill(w->kids[i].pid, sig);
}

/* At exit: each child gets SIGTERM and up to 5 s. */
static void end_kids(struct watch *w)
{
	int64_t end = now_ms() + 5000;
	bool any = true;

	stop_kids(w, SIGTERM);
	while (any && now_ms() < end) {
		any = false;
		for (size_t i = 0; i < w->n_kids; i++) {
			if (!w->kids[i].pid)
				continue;
			if (waitpid(w->kids[i].pid, NULL, WNOHANG) == w->kids[i].pid)
				w->kids[i].pid = 0;
			else
				any = true;
		}
		if (any)
			usleep(20000);
	}
	stop_kids(w, SIGKILL);
	for (size_t i = 0; i < w->n_kids; i++)
		if (w->kids[i].pid)
			waitpid(w->kids[i].pid, NULL, 0);
}

/* --- the command --- */

static int on_signal(struct watch *w)
{
	struct signalfd_siginfo si;

	while (read(w->sig, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			reap_kids(w);
		} else if (si.ssi_signo == SIGHUP) {
			log_info("SIGHUP: reloading the configuration");
			w->reload = true;
			stop_kids(w, SIGHUP);
			schedule(w);
		} else {
			log_info("%s: exiting", si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
			w->exiting = true;
		}
	}
	return 0;
}

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

	/* Subscribed first, then the first pass: nothing falls in between. */
	run_pass(&w);
	log_info("watching %zu interfaces", w.cur.n);
	if (w.supervise)
		reconcile_scopes(&w);

	while (!w.exiting) {
		struct pollfd pfd[5] = {
			{ .fd = w.sig, .events = POLLIN },
			{ .fd = monitor_link_fd(w.mon), .events = POLLIN },
			{ .fd = monitor_features_fd(w.mon), .events = POLLIN },
			{ .fd = w.ino, .events = POLLIN },
			{ .fd = w.timer, .events = POLLIN },
		};

		if (poll(pfd, 5, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll: %s", strerror(errno));
			rc = EXIT_ENV;
			goto out;
		}
		if (pfd[0].revents)
			on_signal(&w);
		if (w.exiting)
			break;
		if (pfd[1].revents)
			monitor_read_links(w.mon);
		if (pfd[2].revents)
			monitor_read_features(w.mon, &w.cur.names);
		if (pfd[3].revents)
			on_inotify(&w);
		if (pfd[4].revents) {
			uint64_t ticks;

			if (read(w.timer, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
				log_debug("timerfd: %s", strerror(errno));
			if (w.dirty) {
				/* Events that came in during the pass are seen by the
				 * next one: take what is queued first. */
				run_pass(&w);
				monitor_read_features(w.mon, &w.cur.names);
				monitor_read_links(w.mon);
			}
		}
		if (w.supervise && w.scopes_dirty && !w.exiting) {
			reconcile_scopes(&w);
		}
	}
	rc = EXIT_OK;
	write_metrics(&w);
out:
	watch_free(&w);
	return rc;
}
