/* cli-host.c - the command layer's way into the kernel: namespace, backend */
#include <errno.h>
#include <string.h>

#include "backend.h"
#include "cli.h"
#include "iface.h"
#include "log.h"
#include "netns.h"

int enter_netns(const struct global_opts *g)
{
	int r;

	if (!g->netns)
		return 0;
	r = netns_enter(g->netns);
	if (r == -ENOENT) {
		log_error("network namespace '%s' does not exist (see 'ip netns list')", g->netns);
		return EXIT_ENV;
	}
	if (r == -EPERM) {
		log_error("cannot enter network namespace '%s': not permitted (needs CAP_SYS_ADMIN)",
			  g->netns);
		return EXIT_ENV;
	}
	if (r < 0) {
		log_error("cannot enter network namespace '%s': %s", g->netns, strerror(-r));
		return EXIT_ENV;
	}
	return 0;
}

int host_open(const struct global_opts *g, struct backend **ret_b, struct host_state *ret_hs)
{
	struct host_state hs = { 0 };
	struct backend *b;
	int r;

	r = enter_netns(g);
	if (r)
		return r;
	r = backend_open(g->backend, &b);
	if (r == -EPROTONOSUPPORT) {
		log_error("the kernel has no ethtool netlink family (Linux 5.6+); use --backend ioctl");
		return EXIT_ENV;
	}
	if (r < 0) {
		log_error("cannot open the %s backend: %s", g->backend, strerror(-r));
		return EXIT_ENV;
	}
	r = backend_read_host(b, &hs);
	if (r < 0) {
		log_error("cannot read interfaces (%s backend): %s", backend_name(b),
			  strerror(-r));
		host_state_free(&hs);
		backend_close(b);
		return EXIT_ENV;
	}
	log_debug("read %zu interfaces, %u features, %s backend", hs.n, hs.names.count,
		  backend_name(b));
	*ret_b = b;
	*ret_hs = hs;
	return 0;
}
