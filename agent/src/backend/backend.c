/* backend.c - read the host's interfaces and set features, through the
 * ethtool netlink family or the ioctl */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "backend/backend.h"
#include "backend/ethtool-ioctl.h"
#include "backend/ethtool-netlink.h"
#include "backend/link.h"
#include "lib/log.h"

struct backend {
	enum backend_kind kind;
	struct ethnl *nl;
	int ioctl_fd;
};

int backend_open(const char *which, struct backend **ret)
{
	struct backend *b = calloc(1, sizeof(*b));
	int r;

	if (!b)
		return -ENOMEM;
	b->ioctl_fd = ethioc_open();
	if (b->ioctl_fd < 0) {
		r = b->ioctl_fd;
		free(b);
		return r;
	}
	if (strcmp(which, "ioctl") == 0) {
		b->kind = BACKEND_IOCTL;
	} else {
		r = ethnl_open(&b->nl);
		if (r == -EPROTONOSUPPORT && strcmp(which, "auto") == 0) {
			log_info("the ethtool netlink family is not available; using the ioctl");
			b->kind = BACKEND_IOCTL;
		} else if (r < 0) {
			close(b->ioctl_fd);
			free(b);
			return r;
		} else {
			b->kind = BACKEND_NETLINK;
		}
	}
	*ret = b;
	return 0;
}

enum backend_kind backend_kind(const struct backend *b)
{
	return b->kind;
}

const char *backend_name(const struct backend *b)
{
	return b->kind == BACKEND_NETLINK ? "netlink" : "ioctl";
}

const char *backend_last_message(const struct backend *b)
{
	return b && b->kind == BACKEND_NETLINK ? ethnl_last_message(b->nl) : NULL;
}

void backend_close(struct backend *b)
{
	if (!b)
		return;
	ethnl_close(b->nl);
	if (b->ioctl_fd >= 0)
		close(b->ioctl_fd);
	free(b);
}

/*
 * Link kinds whose ethtool driver name is fixed in the kernel (the
 * get_drvinfo of drivers/net/veth.c, net/bridge/br_device.c,
 * drivers/net/vxlan): no GDRVINFO ioctl for them.  A container host has
 * thousands of veths, and one ioctl each was a tenth of `facts`.
 */
static const char *driver_of_kind(const char *kind)
{
	static const char *const same[] = { "veth", "bridge", "vxlan" };

	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++)
		if (strcmp(kind, same[i]) == 0)
			return same[i];
	return NULL;
}

/* The running kernel's release (uname -r) into hs->kernel_release. */
static void read_kernel_release(struct host_state *hs)
{
	struct utsname u;

	if (uname(&u) == 0)
		snprintf(hs->kernel_release, sizeof(hs->kernel_release), "%s", u.release);
}

int backend_read_host(struct backend *b, struct host_state *hs)
{
	int r;

	r = link_dump(hs);
	if (r < 0)
		return r;
	/* Older kernels dump links in hash order; the model keeps ifindex
	 * order on every path (iface.h). */
	host_state_sort(hs);
	link_resolve_masters(hs);
	read_kernel_release(hs);
	if (b->kind == BACKEND_NETLINK) {
		r = ethnl_feature_names(b->nl, &hs->names);
		if (r < 0)
			return r;
		r = ethnl_features_get(b->nl, hs, 0);
		if (r < 0)
			return r;
	} else {
		/* Feature names are global; any interface answers (lo always exists). */
		r = -ENODEV;
		for (size_t i = 0; i < hs->n && r < 0; i++)
			r = ethioc_feature_names(b->ioctl_fd, hs->ifaces[i].name, &hs->names);
		if (r < 0)
			return r;
		for (size_t i = 0; i < hs->n; i++) {
			r = ethioc_features_get(b->ioctl_fd, hs->names.count, &hs->ifaces[i]);
			if (r < 0 && r != -ENODEV && r != -EOPNOTSUPP)
				log_debug("cannot read features of '%s': %s", hs->ifaces[i].name,
					  strerror(-r));
		}
	}
	for (size_t i = 0; i < hs->n; i++) {
		struct iface *ifc = &hs->ifaces[i];
		const char *drv = driver_of_kind(ifc->kind);

		if (drv)
			snprintf(ifc->driver, sizeof(ifc->driver), "%s", drv);
		else
			ethioc_driver(b->ioctl_fd, ifc->name, ifc->driver, sizeof(ifc->driver));
		/* Virtual kinds have no device behind them, hence no module. */
		if (!drv)
			link_module(ifc->name, ifc->ifindex, ifc->module, sizeof(ifc->module));
	}
	return 0;
}

int backend_read_host_features(struct backend *b, struct host_state *hs)
{
	int r;

	/* The ioctl needs the names first: the link dump gives them. */
	if (b->kind != BACKEND_NETLINK)
		return backend_read_host(b, hs);
	read_kernel_release(hs); /* plan messages name it */
	r = ethnl_feature_names(b->nl, &hs->names);
	if (r < 0)
		return r;
	r = ethnl_features_dump_ifaces(b->nl, hs);
	if (r < 0)
		return r;
	/* Older kernels dump in hash order; the model keeps ifindex order. */
	host_state_sort(hs);
	return 0;
}

int backend_set_features(struct backend *b, struct host_state *hs, struct iface *ifc,
			 const struct featbits *mask, const struct featbits *values,
			 struct set_result *ret, char **ret_msg)
{
	int r;

	if (ret_msg)
		*ret_msg = NULL;
	if (b->kind == BACKEND_IOCTL)
		return ethioc_features_set(b->ioctl_fd, hs->names.count, ifc, mask, values, ret);

	r = ethnl_features_set(b->nl, hs, ifc, mask, values, ret, ret_msg);
	if (r < 0)
		return r;
	/* Bring our copy up to date from the reply: the kernel keeps only
	 * changeable bits of a request in wanted. */
	for (unsigned int i = 0; i < FEAT_WORDS; i++) {
		uint32_t m = mask->w[i] & ifc->hw.w[i];

		ifc->wanted.w[i] = (ifc->wanted.w[i] & ~m) | (values->w[i] & m);
		ifc->active.w[i] = (ifc->active.w[i] & ~ret->active_mask.w[i]) |
				   (ret->active_new.w[i] & ret->active_mask.w[i]);
	}
	ret->wanted_new = ifc->wanted;
	return 0;
}

int backend_refresh_iface(struct backend *b, struct host_state *hs, struct iface *ifc)
{
	int r;

	if (b->kind == BACKEND_IOCTL)
		return ethioc_features_get(b->ioctl_fd, hs->names.count, ifc);
	ifc->have_features = false;
	r = ethnl_features_get(b->nl, hs, ifc->ifindex);
	if (r < 0)
		return r;
	/* The reply is matched by ifindex: none means the interface is gone. */
	return ifc->have_features ? 0 : -ENODEV;
}

/* The ioctl for group g of every interface. */
static int read_settings_ioctl(struct backend *b, struct host_state *hs, enum setting_group g)
{
	for (size_t i = 0; i < hs->n; i++) {
		int r = ethioc_settings_get(b->ioctl_fd, &hs->ifaces[i], g);

		if (r == -ENOMEM)
			return r;
		if (r < 0 && r != -ENODEV)
			log_debug("cannot read %s of '%s': %s", setting_group_name(g),
				  hs->ifaces[i].name, strerror(-r));
	}
	return 0;
}

/* One driver's error stops the kernel's whole dump (only EOPNOTSUPP is
 * skipped there): ask each interface on its own, and let the one that
 * fails be null, not the run. */
static int read_settings_each(struct backend *b, struct host_state *hs, enum setting_group g,
			      int dump_error)
{
	log_debug("the %s dump failed (%s); reading each interface", setting_group_name(g),
		  strerror(-dump_error));
	for (size_t i = 0; i < hs->n; i++) {
		int r = ethnl_settings_get(b->nl, hs, g, hs->ifaces[i].ifindex);

		if (r == -ENOMEM)
			return r;
		if (r < 0 && r != -EOPNOTSUPP && r != -ENODEV)
			log_warn("cannot read the %s of '%s': %s", setting_group_name(g),
				 hs->ifaces[i].name, strerror(-r));
	}
	return 0;
}

int backend_read_settings(struct backend *b, struct host_state *hs, unsigned int groups)
{
	for (int g = 0; g < SG_MAX; g++) {
		int r;

		if (!(groups & (1u << g)))
			continue;
		if (b->kind == BACKEND_IOCTL) {
			r = read_settings_ioctl(b, hs, (enum setting_group)g);
		} else {
			r = ethnl_settings_get(b->nl, hs, (enum setting_group)g, 0);
			/* A kernel whose family predates the group's messages. */
			if (r == -EOPNOTSUPP || r == -EINVAL)
				r = read_settings_ioctl(b, hs, (enum setting_group)g);
			else if (r < 0 && r != -ENOMEM)
				r = read_settings_each(b, hs, (enum setting_group)g, r);
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int backend_refresh_settings(struct backend *b, struct host_state *hs, struct iface *ifc,
			     enum setting_group g)
{
	int r;

	if (b->kind == BACKEND_NETLINK) {
		r = ethnl_settings_get(b->nl, hs, g, ifc->ifindex);
		if (r != -EOPNOTSUPP && r != -EINVAL)
			return r;
	}
	return ethioc_settings_get(b->ioctl_fd, ifc, g);
}

int backend_set_settings(struct backend *b, struct host_state *hs, struct iface *ifc,
			 enum setting_group g, uint64_t mask, const uint32_t *values,
			 char **ret_msg)
{
	int r = -EOPNOTSUPP;

	if (ret_msg)
		*ret_msg = NULL;
	if (b->kind == BACKEND_NETLINK)
		r = ethnl_settings_set(b->nl, ifc, g, mask, values, ret_msg);
	if (r == -EOPNOTSUPP && b->kind == BACKEND_IOCTL)
		r = ethioc_settings_set(b->ioctl_fd, ifc, g, mask, values);
	if (r < 0)
		return r;
	return backend_refresh_settings(b, hs, ifc, g);
}
