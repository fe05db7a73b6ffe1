/* settings.c - the table of ethtool's other settings (settings.h)
 *
 * Names are the ones `ethtool -G`, `-L`, `-C`, `-A` and `--set-eee` take
 * (ethtool's netlink/rings.c, channels.c, coalesce.c, pause.c, eee.c), so
 * that a line of a rule reads as the ethtool command it replaces.
 */
#include <string.h>

#include "model/features.h"
#include "model/settings.h"
#include "model/yaml-keys.h"

const struct setting_def setting_defs[SP_MAX] = {
	[SP_RINGS_RX] = { "rx", SG_RINGS, ST_COUNT, false },
	[SP_RINGS_RX_MINI] = { "rx-mini", SG_RINGS, ST_COUNT, false },
	[SP_RINGS_RX_JUMBO] = { "rx-jumbo", SG_RINGS, ST_COUNT, false },
	[SP_RINGS_TX] = { "tx", SG_RINGS, ST_COUNT, false },
	[SP_RINGS_RX_BUF_LEN] = { "rx-buf-len", SG_RINGS, ST_NUMBER, false },
	[SP_RINGS_CQE_SIZE] = { "cqe-size", SG_RINGS, ST_NUMBER, false },
	[SP_RINGS_TX_PUSH] = { "tx-push", SG_RINGS, ST_BOOL, false },
	[SP_RINGS_RX_PUSH] = { "rx-push", SG_RINGS, ST_BOOL, false },
	/* on/off; ethtool's "auto" is left out: the driver picks, and what it
	 * picked can never be compared with what was asked */
	[SP_RINGS_TCP_DATA_SPLIT] = { "tcp-data-split", SG_RINGS, ST_BOOL, false },
	[SP_RINGS_TX_PUSH_BUF_LEN] = { "tx-push-buf-len", SG_RINGS, ST_COUNT, false },
	[SP_RINGS_HDS_THRESH] = { "hds-thresh", SG_RINGS, ST_COUNT, false },
	[SP_CHANNELS_RX] = { "rx", SG_CHANNELS, ST_COUNT, false },
	[SP_CHANNELS_TX] = { "tx", SG_CHANNELS, ST_COUNT, false },
	[SP_CHANNELS_OTHER] = { "other", SG_CHANNELS, ST_COUNT, false },
	[SP_CHANNELS_COMBINED] = { "combined", SG_CHANNELS, ST_COUNT, false },
	[SP_COAL_ADAPTIVE_RX] = { "adaptive-rx", SG_COALESCE, ST_BOOL, false },
	[SP_COAL_ADAPTIVE_TX] = { "adaptive-tx", SG_COALESCE, ST_BOOL, false },
	[SP_COAL_SAMPLE_INTERVAL] = { "sample-interval", SG_COALESCE, ST_NUMBER, false },
	[SP_COAL_STATS_BLOCK_USECS] = { "stats-block-usecs", SG_COALESCE, ST_NUMBER, false },
	[SP_COAL_PKT_RATE_LOW] = { "pkt-rate-low", SG_COALESCE, ST_NUMBER, false },
	[SP_COAL_PKT_RATE_HIGH] = { "pkt-rate-high", SG_COALESCE, ST_NUMBER, false },
	[SP_COAL_RX_USECS] = { "rx-usecs", SG_COALESCE, ST_NUMBER, false },
	[SP_COAL_RX_FRAMES] = { "rx-frames", SG_COALESCE, ST_NUMBER, false },
	[SP_COAL_RX_USECS_IRQ] = { "rx-usecs-irq", SG_COALESCE, ST_NUMBER, false },
	[SP_COAL_RX_FRAMES_IRQ] = { "rx-frames-irq", SG_COALESCE, ST_NUMBER, false },
	[SP_COAL_TX_USECS] = { "tx-usecs", SG_COALESCE, ST_NUMBER, false },
	[SP_COAL_TX_FRAMES] = { "tx-frames", SG_COALESCE, ST_NUMBER, false },
	[SP_COAL_TX_USECS_IRQ] = { "tx-usecs-irq", SG_COALESCE, ST_NUMBER, false },
	[SP_COAL_TX_FRAMES_IRQ] = { "tx-frames-irq", SG_COALESCE, ST_NUMBER, false },
	[SP_COAL_RX_USECS_LOW] = { "rx-usecs-low", SG_COALESCE, ST_NUMBER, false },
	[SP_COAL_RX_FRAMES_LOW] = { "rx-frames-low", SG_COALESCE, ST_NUMBER, false },
	[SP_COAL_TX_USECS_LOW] = { "tx-usecs-low", SG_COALESCE, ST_NUMBER, false },
	[SP_COAL_TX_FRAMES_LOW] = { "tx-frames-low", SG_COALESCE, ST_NUMBER, false },
	[SP_COAL_RX_USECS_HIGH] = { "rx-usecs-high", SG_COALESCE, ST_NUMBER, false },
	[SP_COAL_RX_FRAMES_HIGH] = { "rx-frames-high", SG_COALESCE, ST_NUMBER, false },
	[SP_COAL_TX_USECS_HIGH] = { "tx-usecs-high", SG_COALESCE, ST_NUMBER, false },
	[SP_COAL_TX_FRAMES_HIGH] = { "tx-frames-high", SG_COALESCE, ST_NUMBER, false },
	[SP_COAL_CQE_MODE_RX] = { "cqe-mode-rx", SG_COALESCE, ST_BOOL, false },
	[SP_COAL_CQE_MODE_TX] = { "cqe-mode-tx", SG_COALESCE, ST_BOOL, false },
	[SP_PAUSE_AUTONEG] = { "autoneg", SG_PAUSE, ST_BOOL, false },
	[SP_PAUSE_RX] = { "rx", SG_PAUSE, ST_BOOL, false },
	[SP_PAUSE_TX] = { "tx", SG_PAUSE, ST_BOOL, false },
	[SP_EEE_ENABLED] = { "eee", SG_EEE, ST_BOOL, false },
	[SP_EEE_ACTIVE] = { "active", SG_EEE, ST_BOOL, true },
	[SP_EEE_TX_LPI] = { "tx-lpi", SG_EEE, ST_BOOL, false },
	[SP_EEE_TX_TIMER] = { "tx-timer", SG_EEE, ST_NUMBER, false },
};

static const char *const group_names[SG_MAX] = { "rings", "channels", "coalesce", "pause", "eee" };

const char *setting_group_name(enum setting_group g)
{
	return (unsigned int)g < SG_MAX ? group_names[g] : NULL;
}

int setting_group_lookup(const char *name)
{
	for (int g = 0; g < SG_MAX; g++)
		if (strcmp(name, group_names[g]) == 0)
			return g;
	return -1;
}

void setting_group_range(enum setting_group g, unsigned int *ret_first, unsigned int *ret_end)
{
	unsigned int p = 0;

	while (p < SP_MAX && setting_defs[p].group != g)
		p++;
	*ret_first = p;
	while (p < SP_MAX && setting_defs[p].group == g)
		p++;
	*ret_end = p;
}

uint64_t setting_group_mask(enum setting_group g)
{
	unsigned int first, end;
	uint64_t m = 0;

	setting_group_range(g, &first, &end);
	for (unsigned int p = first; p < end; p++)
		m |= setting_bit(p);
	return m;
}

int setting_lookup(enum setting_group g, const char *name)
{
	unsigned int first, end;

	setting_group_range(g, &first, &end);
	for (unsigned int p = first; p < end; p++)
		if (strcmp(name, setting_defs[p].name) == 0)
			return (int)p;
	return -1;
}

const char *setting_suggest(enum setting_group g, const char *name)
{
	const char *cands[SP_MAX];
	unsigned int first, end;
	size_t n = 0;

	setting_group_range(g, &first, &end);
	for (unsigned int p = first; p < end; p++)
		if (!setting_defs[p].read_only)
			cands[n++] = setting_defs[p].name;
	return ykeys_nearest(name, cands, n);
}

bool setting_group_resets_link(enum setting_group g)
{
	return g == SG_RINGS || g == SG_CHANNELS;
}
