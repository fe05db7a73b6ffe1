/* watch-loop.c - watch's time, its scheduling of passes, the kernel's events
 * and the poll loop */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "cli/watch.h"
#include "lib/log.h"

double wall_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The counters, when asked for; a textfile that cannot be written is
 * said once per failure streak and never stops the daemon. */
void write_metrics(struct watch *w)
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

int64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void arm_timer(struct watch *w, int64_t delay_ms)
{
	struct itimerspec its = { 0 };

	if (delay_ms < 1)
		delay_ms = 1;
	its.it_value.tv_sec = delay_ms / 1000;
	its.it_value.tv_nsec = (delay_ms % 1000) * 1000000;
	timerfd_settime(w->timer, 0, &its, NULL);
}

/* Wake up within delay_ms, keeping an earlier wake-up already set. */
void arm_timer_sooner(struct watch *w, int64_t delay_ms)
{
	struct itimerspec its;

	if (timerfd_gettime(w->timer, &its) == 0 && (its.it_value.tv_sec || its.it_value.tv_nsec) &&
	    (int64_t)its.it_value.tv_sec * 1000 + its.it_value.tv_nsec / 1000000 <= delay_ms)
		return;
	arm_timer(w, delay_ms);
}

/* Something happened: run a pass soon, but not before the back-off. */
void schedule(struct watch *w)
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

/* The parameters of group g hold the same values in a and b. */
static bool settings_same(const struct iface_settings *a, const struct iface_settings *b,
			  enum setting_group g)
{
	uint64_t gm = setting_group_mask(g);

	if (!(a->read & (1u << g)) || (a->present & gm) != (b->present & gm))
		return false;
	for (unsigned int p = 0; p < SP_MAX; p++)
		if ((gm & a->present & setting_bit(p)) && a->value[p] != b->value[p])
			return false;
	return true;
}

void on_event(void *arg, const struct monitor_event *ev)
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
	case MONITOR_SETTINGS:
		/* A group the rules set changed: look again, unless it is the
		 * echo of our own set (what we hold already). */
		if (!ev->have_bits || !ifc) {
			schedule(w);
			return;
		}
		if ((desired_state_setting_groups(&w->ds) & (1u << ev->group)) &&
		    !settings_same(&ifc->settings, &ev->settings, ev->group))
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

int watch_run(struct watch *w)
{
	/* Subscribed first, then the first pass: nothing falls in between. */
	run_pass(w);
	log_info("watching %zu interfaces", w->cur.n);
	if (w->supervise)
		reconcile_scopes(w);

	while (!w->exiting) {
		struct pollfd pfd[5] = {
			{ .fd = w->sig, .events = POLLIN },
			{ .fd = monitor_link_fd(w->mon), .events = POLLIN },
			{ .fd = monitor_features_fd(w->mon), .events = POLLIN },
			{ .fd = w->ino, .events = POLLIN },
			{ .fd = w->timer, .events = POLLIN },
		};

		if (poll(pfd, 5, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("poll: %s", strerror(errno));
			return EXIT_ENV;
		}
		if (pfd[0].revents)
			on_signal(w);
		if (w->exiting)
			break;
		if (pfd[1].revents)
			monitor_read_links(w->mon);
		if (pfd[2].revents)
			monitor_read_features(w->mon, &w->cur.names);
		if (pfd[3].revents)
			on_inotify(w);
		if (pfd[4].revents) {
			uint64_t ticks;

			if (read(w->timer, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
				log_debug("timerfd: %s", strerror(errno));
			if (w->dirty) {
				/* Events that came in during the pass are seen by the
				 * next one: take what is queued first. */
				run_pass(w);
				monitor_read_features(w->mon, &w->cur.names);
				monitor_read_links(w->mon);
			}
		}
		if (w->supervise && w->scopes_dirty && !w->exiting) {
			reconcile_scopes(w);
		}
	}
	write_metrics(w);
	return EXIT_OK;
}
