/* ethtool-ioctl.c - SIOCETHTOOL: kernels without the ethtool netlink family */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <stddef.h>
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

/* The ioctl structures of each group, and where each parameter is in them.
 * The ioctl has no notion of "not supported" per parameter: rings and
 * channels count as present where their maximum is not 0 (what the netlink
 * side reports, and ethtool prints n/a for), every coalesce, pause and EEE
 * field the structure has is present. */
union settings_buf {
	struct ethtool_ringparam rings;
	struct ethtool_channels channels;
	struct ethtool_coalesce coalesce;
	struct ethtool_pauseparam pause;
	struct ethtool_eee eee;
};

struct ioc_param {
	unsigned int param;
	size_t offset;
	size_t max_offset; /* 0: none */
};

#define F(s, m) offsetof(struct s, m)
static const struct ioc_param ioc_params[] = {
	{ SP_RINGS_RX, F(ethtool_ringparam, rx_pending), F(ethtool_ringparam, rx_max_pending) },
	{ SP_RINGS_RX_MINI, F(ethtool_ringparam, rx_mini_pending),
	  F(ethtool_ringparam, rx_mini_max_pending) },
	{ SP_RINGS_RX_JUMBO, F(ethtool_ringparam, rx_jumbo_pending),
	  F(ethtool_ringparam, rx_jumbo_max_pending) },
	{ SP_RINGS_TX, F(ethtool_ringparam, tx_pending), F(ethtool_ringparam, tx_max_pending) },
	{ SP_CHANNELS_RX, F(ethtool_channels, rx_count), F(ethtool_channels, max_rx) },
	{ SP_CHANNELS_TX, F(ethtool_channels, tx_count), F(ethtool_channels, max_tx) },
	{ SP_CHANNELS_OTHER, F(ethtool_channels, other_count), F(ethtool_channels, max_other) },
	{ SP_CHANNELS_COMBINED, F(ethtool_channels, combined_count),
	  F(ethtool_channels, max_combined) },
	{ SP_COAL_ADAPTIVE_RX, F(ethtool_coalesce, use_adaptive_rx_coalesce), 0 },
	{ SP_COAL_ADAPTIVE_TX, F(ethtool_coalesce, use_adaptive_tx_coalesce), 0 },
	{ SP_COAL_SAMPLE_INTERVAL, F(ethtool_coalesce, rate_sample_interval), 0 },
	{ SP_COAL_STATS_BLOCK_USECS, F(ethtool_coalesce, stats_block_coalesce_usecs), 0 },
	{ SP_COAL_PKT_RATE_LOW, F(ethtool_coalesce, pkt_rate_low), 0 },
	{ SP_COAL_PKT_RATE_HIGH, F(ethtool_coalesce, pkt_rate_high), 0 },
	{ SP_COAL_RX_USECS, F(ethtool_coalesce, rx_coalesce_usecs), 0 },
	{ SP_COAL_RX_FRAMES, F(ethtool_coalesce, rx_max_coalesced_frames), 0 },
	{ SP_COAL_RX_USECS_IRQ, F(ethtool_coalesce, rx_coalesce_usecs_irq), 0 },
	{ SP_COAL_RX_FRAMES_IRQ, F(ethtool_coalesce, rx_max_coalesced_frames_irq), 0 },
	{ SP_COAL_TX_USECS, F(ethtool_coalesce, tx_coalesce_usecs), 0 },
	{ SP_COAL_TX_FRAMES, F(ethtool_coalesce, tx_max_coalesced_frames), 0 },
	{ SP_COAL_TX_USECS_IRQ, F(ethtool_coalesce, tx_coalesce_usecs_irq), 0 },
	{ SP_COAL_TX_FRAMES_IRQ, F(ethtool_coalesce, tx_max_coalesced_frames_irq), 0 },
	{ SP_COAL_RX_USECS_LOW, F(ethtool_coalesce, rx_coalesce_usecs_low), 0 },
	{ SP_COAL_RX_FRAMES_LOW, F(ethtool_coalesce, rx_max_coalesced_frames_low), 0 },
	{ SP_COAL_TX_USECS_LOW, F(ethtool_coalesce, tx_coalesce_usecs_low), 0 },
	{ SP_COAL_TX_FRAMES_LOW, F(ethtool_coalesce, tx_max_coalesced_frames_low), 0 },
	{ SP_COAL_RX_USECS_HIGH, F(ethtool_coalesce, rx_coalesce_usecs_high), 0 },
	{ SP_COAL_RX_FRAMES_HIGH, F(ethtool_coalesce, rx_max_coalesced_frames_high), 0 },
	{ SP_COAL_TX_USECS_HIGH, F(ethtool_coalesce, tx_coalesce_usecs_high), 0 },
	{ SP_COAL_TX_FRAMES_HIGH, F(ethtool_coalesce, tx_max_coalesced_frames_high), 0 },
	{ SP_PAUSE_AUTONEG, F(ethtool_pauseparam, autoneg), 0 },
	{ SP_PAUSE_RX, F(ethtool_pauseparam, rx_pause), 0 },
	{ SP_PAUSE_TX, F(ethtool_pauseparam, tx_pause), 0 },
	{ SP_EEE_ENABLED, F(ethtool_eee, eee_enabled), 0 },
	{ SP_EEE_ACTIVE, F(ethtool_eee, eee_active), 0 },
	{ SP_EEE_TX_LPI, F(ethtool_eee, tx_lpi_enabled), 0 },
	{ SP_EEE_TX_TIMER, F(ethtool_eee, tx_lpi_timer), 0 },
};
#undef F

static const uint32_t ioc_cmds[SG_MAX][2] = {
	[SG_RINGS] = { ETHTOOL_GRINGPARAM, ETHTOOL_SRINGPARAM },
	[SG_CHANNELS] = { ETHTOOL_GCHANNELS, ETHTOOL_SCHANNELS },
	[SG_COALESCE] = { ETHTOOL_GCOALESCE, ETHTOOL_SCOALESCE },
	[SG_PAUSE] = { ETHTOOL_GPAUSEPARAM, ETHTOOL_SPAUSEPARAM },
	[SG_EEE] = { ETHTOOL_GEEE, ETHTOOL_SEEE },
};

static uint32_t *field(union settings_buf *u, size_t offset)
{
	return (uint32_t *)((char *)u + offset);
}

static int settings_read(int fd, const char *ifname, enum setting_group g, union settings_buf *u)
{
	memset(u, 0, sizeof(*u));
	*field(u, 0) = ioc_cmds[g][0]; /* cmd comes first in each */
	return ethioc(fd, ifname, u);
}

int ethioc_settings_get(int fd, struct iface *ifc, enum setting_group g)
{
	struct iface_settings *s = &ifc->settings;
	uint64_t gm;
	union settings_buf u;
	int r;

	if ((unsigned int)g >= SG_MAX)
		return -EINVAL;
	gm = setting_group_mask(g);
	s->read |= (uint8_t)(1u << g);
	s->supported &= (uint8_t) ~(1u << g);
	s->present &= ~gm;
	s->has_max &= ~gm;
	r = settings_read(fd, ifc->name, g, &u);
	if (r == -EOPNOTSUPP)
		return 0;
	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(ioc_params) / sizeof(ioc_params[0]); i++) {
		const struct ioc_param *ip = &ioc_params[i];
		unsigned int p = ip->param;

		if (setting_defs[p].group != g)
			continue;
		if (ip->max_offset) {
			if (!*field(&u, ip->max_offset))
				continue;
			s->max[p] = *field(&u, ip->max_offset);
			s->has_max |= setting_bit(p);
		}
		s->value[p] = *field(&u, ip->offset);
		if (setting_defs[p].type == ST_BOOL)
			s->value[p] = s->value[p] ? 1 : 0;
		s->present |= setting_bit(p);
	}
	s->supported |= (uint8_t)(1u << g);
	return 0;
}

int ethioc_settings_set(int fd, const struct iface *ifc, enum setting_group g, uint64_t mask,
			const uint32_t *values)
{
	union settings_buf u;
	int r;

	if ((unsigned int)g >= SG_MAX)
		return -EINVAL;
	r = same_interface(fd, ifc);
	if (r == 0)
		r = settings_read(fd, ifc->name, g, &u);
	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(ioc_params) / sizeof(ioc_params[0]); i++) {
		unsigned int p = ioc_params[i].param;

		if (setting_defs[p].group == g && (mask & setting_bit(p)) &&
		    !setting_defs[p].read_only)
			*field(&u, ioc_params[i].offset) = values[p];
	}
	/* Settings the ioctl cannot carry (cqe-size, tx-push, ...) need netlink. */
	for (unsigned int p = 0; p < SP_MAX; p++) {
		bool carried = false;

		if (!(mask & setting_bit(p)) || setting_defs[p].group != g)
			continue;
		for (size_t i = 0; i < sizeof(ioc_params) / sizeof(ioc_params[0]); i++)
			carried |= ioc_params[i].param == p;
		if (!carried)
			return -EOPNOTSUPP;
	}
	*field(&u, 0) = ioc_cmds[g][1];
	return ethioc(fd, ifc->name, &u);
}
