/* session.c - what every command opens: the namespace, the backend, the host */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/netns.h"
#include "cli/cli.h"
#include "lib/json-writer.h"
#include "lib/log.h"
#include "model/iface.h"

#define CAP_NET_ADMIN_BIT 12

/* CAP_NET_ADMIN in the effective set, from /proc/self/status. */
bool have_net_admin(void)
{
	char line[256];
	bool ok = false;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return geteuid() == 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long caps;

		if (sscanf(line, "CapEff: %llx", &caps) == 1) {
			ok = (caps >> CAP_NET_ADMIN_BIT) & 1;
			break;
		}
	}
	fclose(f);
	return ok;
}

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
		log_error(
			"cannot enter network namespace '%s': not permitted (needs CAP_SYS_ADMIN)",
			g->netns);
		return EXIT_ENV;
	}
	if (r < 0) {
		log_error("cannot enter network namespace '%s': %s", g->netns, strerror(-r));
		return EXIT_ENV;
	}
	return 0;
}

void log_read_error(const struct backend *b, int err)
{
	const char *kernel = backend_last_message(b);

	log_error("cannot read interfaces (%s backend): %s%s%s", backend_name(b), strerror(-err),
		  kernel ? ": kernel reports: " : "", kernel ? kernel : "");
}

int open_backend(const struct global_opts *g, struct backend **ret_b)
{
	int r = backend_open(g->backend, ret_b);

	if (r == -EPROTONOSUPPORT) {
		log_error("the kernel has no ethtool netlink family (Linux 5.6+); use --backend "
			  "ioctl");
		return EXIT_ENV;
	}
	if (r < 0) {
		log_error("cannot open the %s backend: %s", g->backend, strerror(-r));
		return EXIT_ENV;
	}
	return 0;
}

int host_open(const struct global_opts *g, struct backend **ret_b, struct host_state *ret_hs)
{
	return host_open_read(g, ret_b, ret_hs, true);
}

int host_open_read(const struct global_opts *g, struct backend **ret_b, struct host_state *ret_hs,
		   bool link_facts)
{
	struct host_state hs = { 0 };
	struct backend *b;
	int r;

	r = enter_netns(g);
	if (r)
		return r;
	r = open_backend(g, &b);
	if (r)
		return r;
	r = link_facts ? backend_read_host(b, &hs) : backend_read_host_features(b, &hs);
	if (r < 0) {
		log_read_error(b, r);
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

int out_open(struct jw *w)
{
	return jw_open(w, stdout, 2);
}

int out_close(struct jw *w, bool json)
{
	int r;

	if (json)
		jw_lit(w, "\n");
	r = jw_close(w);
	if (fflush(stdout) != 0 && r == 0)
		r = -EIO;
	return r;
}
