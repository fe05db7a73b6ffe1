/* monitor.c - link and feature events, for watch (ethtool's netlink/monitor.c) */
#include <errno.h>
#include <linux/ethtool_netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <stdlib.h>

#include "backend/ethnl-internal.h"
#include "backend/link.h"
#include "backend/monitor.h"
#include "backend/nlerr.h"

struct monitor {
	struct nl_sock *rt;  /* link events */
	struct nl_sock *mon; /* the ethtool monitor group */
	monitor_fn fn;
	void *arg;
	const struct feature_names *names; /* during monitor_read_features() */
};

static int on_link(struct nl_msg *msg, void *arg)
{
	struct monitor *m = arg;
	struct monitor_event ev = { 0 };
	bool is_new;

	/* a message that is not a link event, or cannot be read, says
	 * nothing about a link */
	if (link_event_parse(msg, &is_new, &ev.ifindex, &ev.ifname) < 0)
		return NL_OK;
	ev.type = is_new ? MONITOR_LINK_NEW : MONITOR_LINK_DEL;
	m->fn(m->arg, &ev);
	return NL_OK;
}

static int on_features(struct nl_msg *msg, void *arg)
{
	struct monitor *m = arg;
	struct monitor_event ev = { .type = MONITOR_FEATURES };
	int r = ethnl_features_ntf_parse(msg, m->names, &ev.ifindex, &ev.active, &ev.wanted);

	if (r == -ENOENT) {
		/* rings, channels, coalesce, pause, EEE: which device, no more
		 * (the pass reads the group back) */
		ev.type = MONITOR_SETTINGS;
		r = ethnl_settings_ntf_parse(msg, &ev.group, &ev.ifindex, &ev.settings);
		if (r == -ENOENT)
			return NL_OK; /* another notification of the group */
		ev.have_bits = r == 0;
		m->fn(m->arg, &ev);
		return NL_OK;
	}
	ev.have_bits = r == 0;
	m->fn(m->arg, &ev);
	return NL_OK;
}

int monitor_open(monitor_fn fn, void *arg, struct monitor **ret)
{
	struct monitor *m = calloc(1, sizeof(*m));
	int grp, r;

	if (!m)
		return -ENOMEM;
	m->fn = fn;
	m->arg = arg;
	m->rt = nl_socket_alloc();
	m->mon = nl_socket_alloc();
	if (!m->rt || !m->mon) {
		r = -ENOMEM;
		goto fail;
	}
	nl_socket_disable_seq_check(m->rt);
	nl_socket_disable_seq_check(m->mon);
	r = nl_connect(m->rt, NETLINK_ROUTE);
	if (r == 0)
		r = genl_connect(m->mon);
	if (r < 0) {
		r = nlerr_to_errno(r);
		goto fail;
	}
	/* a burst of thousands of new veths must not overrun them */
	nl_socket_set_buffer_size(m->rt, 4 << 20, 0);
	nl_socket_set_buffer_size(m->mon, 4 << 20, 0);
	r = nl_socket_add_membership(m->rt, RTNLGRP_LINK);
	if (r < 0) {
		r = nlerr_to_errno(r);
		goto fail;
	}
	grp = genl_ctrl_resolve_grp(m->mon, ETHTOOL_GENL_NAME, ETHTOOL_MCGRP_MONITOR_NAME);
	if (grp < 0) {
		r = -EPROTONOSUPPORT;
		goto fail;
	}
	r = nl_socket_add_membership(m->mon, grp);
	if (r < 0) {
		r = nlerr_to_errno(r);
		goto fail;
	}
	nl_socket_set_nonblocking(m->rt);
	nl_socket_set_nonblocking(m->mon);
	nl_socket_modify_cb(m->rt, NL_CB_VALID, NL_CB_CUSTOM, on_link, m);
	nl_socket_modify_cb(m->mon, NL_CB_VALID, NL_CB_CUSTOM, on_features, m);
	*ret = m;
	return 0;
fail:
	monitor_close(m);
	return r;
}

void monitor_close(struct monitor *m)
{
	if (!m)
		return;
	nl_socket_free(m->rt);
	nl_socket_free(m->mon);
	free(m);
}

int monitor_link_fd(const struct monitor *m)
{
	return nl_socket_get_fd(m->rt);
}

int monitor_features_fd(const struct monitor *m)
{
	return nl_socket_get_fd(m->mon);
}

static void drain(struct monitor *m, struct nl_sock *sk)
{
	int r;

	while ((r = nl_recvmsgs_default(sk)) >= 0)
		;
	/* An overflowing socket lost events. */
	if (r != -NLE_AGAIN) {
		struct monitor_event ev = { .type = MONITOR_LOST };

		m->fn(m->arg, &ev);
	}
}

void monitor_read_links(struct monitor *m)
{
	drain(m, m->rt);
}

void monitor_read_features(struct monitor *m, const struct feature_names *names)
{
	m->names = names;
	drain(m, m->mon);
	m->names = NULL;
}
