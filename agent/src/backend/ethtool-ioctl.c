/* ethtool-ioctl.c - SIOCETHTOOL: kernels without the ethtool netlink family */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend/ethtool-ioctl.h"

int ethioc_open(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	/* ethtool's fallback when IPv4 is not there. */
	if (fd < 0)
		fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 16 /* NETLINK_GENERIC */);
	return fd < 0 ? -errno : fd;
}

static int ethioc(int fd, const char *ifname, void *data)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = data;
	return ioctl(fd, SIOCETHTOOL, &ifr) < 0 ? -errno : 0;
}

int ethioc_driver(int fd, const char *ifname, char *buf, size_t len)
{
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	int r = ethioc(fd, ifname, &di);

	if (r < 0)
		return r;
	snprintf(buf, len, "%.*s", (int)sizeof(di.driver), di.driver);
	return 0;
}

int ethioc_feature_names(int fd, const char *ifname, struct feature_names *ret)
{
	/* The header and room for the one count asked for (data[] is flexible). */
	union {
		struct ethtool_sset_info hdr;
		unsigned char bytes[sizeof(struct ethtool_sset_info) + sizeof(uint32_t)];
	} si;
	struct ethtool_gstrings *gs;
	struct feature_names fn = { 0 };
	unsigned int count;
	int r;

	memset(&si, 0, sizeof(si));
	si.hdr.cmd = ETHTOOL_GSSET_INFO;
	si.hdr.sset_mask = 1ULL << ETH_SS_FEATURES;
	r = ethioc(fd, ifname, &si);
	if (r < 0)
		return r;
	if (!(si.hdr.sset_mask & (1ULL << ETH_SS_FEATURES)))
		return -EOPNOTSUPP;
	count = si.hdr.data[0];
	if (count == 0 || count > FEAT_MAX_BITS)
		return -EPROTO;
	gs = calloc(1, sizeof(*gs) + (size_t)count * ETH_GSTRING_LEN);
	if (!gs)
		return -ENOMEM;
	gs->cmd = ETHTOOL_GSTRINGS;
	gs->string_set = ETH_SS_FEATURES;
	gs->len = count;
	r = ethioc(fd, ifname, gs);
	if (r < 0)
		goto out;
	fn.names = calloc(count, sizeof(char *));
	if (!fn.names) {
		r = -ENOMEM;
		goto out;
	}
	fn.count = count;
	for (unsigned int i = 0; i < count; i++) {
		fn.names[i] =
			strndup((char *)gs->data + (size_t)i * ETH_GSTRING_LEN, ETH_GSTRING_LEN);
		if (!fn.names[i]) {
			r = -ENOMEM;
			goto out;
		}
	}
	*ret = fn;
	fn.names = NULL;
	fn.count = 0;
out:
	feature_names_free(&fn);
	free(gs);
	return r;
}

int ethioc_features_get(int fd, unsigned int count, struct iface *ifc)
{
	unsigned int blocks = (count + 31) / 32;
	struct ethtool_gfeatures *gf;
	int r;

	if (blocks > FEAT_WORDS)
		return -EPROTO;
	gf = calloc(1, sizeof(*gf) + blocks * sizeof(gf->features[0]));
	if (!gf)
		return -ENOMEM;
	gf->cmd = ETHTOOL_GFEATURES;
	gf->size = blocks;
	r = ethioc(fd, ifc->name, gf);
	if (r == 0) {
		memset(&ifc->hw, 0, sizeof(ifc->hw));
		memset(&ifc->wanted, 0, sizeof(ifc->wanted));
		memset(&ifc->active, 0, sizeof(ifc->active));
		memset(&ifc->nochange, 0, sizeof(ifc->nochange));
		for (unsigned int i = 0; i < blocks; i++) {
			ifc->hw.w[i] = gf->features[i].available;
			ifc->wanted.w[i] = gf->features[i].requested;
			ifc->active.w[i] = gf->features[i].active;
			ifc->nochange.w[i] = gf->features[i].never_changed;
		}
		ifc->have_features = true;
	}
	free(gf);
	return r;
}

/* The ioctl names interfaces, the plan numbers them: a udev rename between
 * the two (eth0 <-> eth1 at boot) would put one interface's settings on
 * another.  0 when ifname is still ifindex, else -ENODEV. */
static int same_interface(int fd, const struct iface *ifc)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifc->name);
	if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
		return -errno;
	return ifr.ifr_ifindex == ifc->ifindex ? 0 : -ENODEV;
}

int ethioc_features_set(int fd, unsigned int count, struct iface *ifc, const struct featbits *mask,
			const struct featbits *values, struct set_result *ret)
{
	unsigned int blocks = (count + 31) / 32;
	struct featbits old_active = ifc->active;
	struct ethtool_sfeatures *sf;
	int r;

	sf = calloc(1, sizeof(*sf) + blocks * sizeof(sf->features[0]));
	if (!sf)
		return -ENOMEM;
	sf->cmd = ETHTOOL_SFEATURES;
	sf->size = blocks;
	for (unsigned int i = 0; i < blocks; i++) {
		sf->features[i].valid = mask->w[i];
		sf->features[i].requested = values->w[i] & mask->w[i];
	}
	r = same_interface(fd, ifc);
	if (r == 0)
		r = ethioc(fd, ifc->name, sf);
	free(sf);
	if (r < 0)
		return r;
	/* The ioctl answers only with flags: read back what happened, from
	 * the same interface. */
	r = ethioc_features_get(fd, count, ifc);
	if (r == 0)
		r = same_interface(fd, ifc);
	if (r < 0)
		return r;
	memset(ret, 0, sizeof(*ret));
	for (unsigned int i = 0; i < FEAT_WORDS; i++) {
		ret->refused.w[i] = mask->w[i] & (values->w[i] ^ ifc->active.w[i]);
		ret->active_mask.w[i] = old_active.w[i] ^ ifc->active.w[i];
		ret->active_new.w[i] = ifc->active.w[i] & ret->active_mask.w[i];
	}
	ret->wanted_new = ifc->wanted;
	return 0;
}
