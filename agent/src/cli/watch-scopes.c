/* watch-scopes.c - one watch per network namespace: the claim, and the host
 * watch's children, one per namespace scope */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/watch.h"
#include "host/config-set.h"
#include "lib/log.h"

/*
 * One watch per network namespace: two with different configurations
 * flap forever.  The claim is an abstract unix socket, which belongs to
 * the namespace and goes with the process; a second watch connects to it
 * to learn who holds it.
 */
int claim_scope(struct watch *w)
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
void reconcile_scopes(struct watch *w)
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
void reap_kids(struct watch *w)
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

void stop_kids(struct watch *w, int sig)
{
	for (size_t i = 0; i < w->n_kids; i++)
		if (w->kids[i].pid)
			kill(w->kids[i].pid, sig);
}

/* At exit: each child gets SIGTERM and up to 5 s. */
void end_kids(struct watch *w)
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
