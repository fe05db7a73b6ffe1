/* watch-config.c - watch's configuration: loaded, checked, and followed by
 * inotify as it is really laid out */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/watch.h"
#include "host/config-set.h"
#include "host/virt-detect.h"
#include "lib/log.h"
#include "model/plan.h"

/* Load the configuration; on success it replaces the one in force. */
int load_config(struct watch *w, bool initial)
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

static void add_dir_as(struct watch *w, struct watch_dir **v, size_t *n, const char *path,
		       const char *child, bool setdir, bool netns)
{
	struct watch_dir *nv;
	int wd = inotify_add_watch(w->ino, path, INO_MASK | IN_ONLYDIR);

	if (wd < 0)
		return; /* not there (yet): its parent's watch sees it come */
	for (size_t i = 0; i < *n; i++)
		if ((*v)[i].wd == wd) {
			/* the same directory twice: the wider interest wins
			 * (one name < the set's names < every event) */
			struct watch_dir *d = &(*v)[i];

			if (!child && d->child) {
				free(d->child);
				d->child = NULL;
				d->setdir = setdir;
			} else if (!child && !setdir) {
				d->setdir = false;
			}
			return;
		}
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv)
		return;
	*v = nv;
	nv[*n] = (struct watch_dir){ wd, child ? strdup(child) : NULL, !child && setdir, netns,
				     false };
	(*n)++;
}

static void add_dir(struct watch *w, struct watch_dir **v, size_t *n, const char *path,
		    const char *child, bool netns)
{
	add_dir_as(w, v, n, path, child, false, netns);
}

/* A name in the configuration directory or conf.d that can be, or hold,
 * part of the set: a drop-in, the main file, conf.d, netns, or what a
 * Kubernetes ConfigMap swaps ("..data", "..2026_11_30_...") */
static bool is_set_name(const char *name)
{
	return strcmp(name, "offloadctl.yaml") == 0 || strcmp(name, "conf.d") == 0 ||
	       strcmp(name, "netns") == 0 || strncmp(name, "..", 2) == 0 ||
	       config_set_is_dropin_name(name);
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

/* A directory of the set (the configuration directory, conf.d) and, when it
 * is reached through a symlink, the real one too; and its parent for dir's
 * own name.  Events about the set's names in dir count (is_set_name). */
static void add_dir_tree(struct watch *w, struct watch_dir **v, size_t *n, const char *dir)
{
	char real[PATH_MAX], copy[PATH_MAX], base[PATH_MAX];

	add_dir_as(w, v, n, dir, NULL, true, false);
	if (realpath(dir, real) && strcmp(real, dir) != 0)
		add_dir_as(w, v, n, real, NULL, true, false);
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
void watch_config_dirs(struct watch *w)
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
void on_inotify(struct watch *w)
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
			if (d->setdir && *name && !is_set_name(name))
				continue; /* a log, a README, an editor's swap file */
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
