/* settings.h - ethtool's other settings: rings (-g/-G), channels (-l/-L),
 * coalesce (-c/-C), pause (-a/-A) and EEE (--show-eee/--set-eee)
 *
 * One table of parameters, under the names ethtool's set commands take;
 * the backends map each to its netlink attribute and ioctl field, the
 * facts, the desired state and the plan use the names.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum setting_group {
	SG_RINGS,
	SG_CHANNELS,
	SG_COALESCE,
	SG_PAUSE,
	SG_EEE,
	SG_MAX
};

#define SETTING_GROUPS_ALL ((1u << SG_MAX) - 1)

/* What a parameter's value is. */
enum setting_type {
	ST_COUNT,  /* a u32 with a maximum the kernel reports (rings, channels): a count or max */
	ST_NUMBER, /* a u32 */
	ST_BOOL,   /* on/off */
};

/* Every parameter, grouped; a group's parameters are contiguous. */
enum setting_param {
	/* rings */
	SP_RINGS_RX,
	SP_RINGS_RX_MINI,
	SP_RINGS_RX_JUMBO,
	SP_RINGS_TX,
	SP_RINGS_RX_BUF_LEN,
	SP_RINGS_CQE_SIZE,
	SP_RINGS_TX_PUSH,
	SP_RINGS_RX_PUSH,
	SP_RINGS_TCP_DATA_SPLIT,
	SP_RINGS_TX_PUSH_BUF_LEN,
	SP_RINGS_HDS_THRESH,
	/* channels */
	SP_CHANNELS_RX,
	SP_CHANNELS_TX,
	SP_CHANNELS_OTHER,
	SP_CHANNELS_COMBINED,
	/* coalesce */
	SP_COAL_ADAPTIVE_RX,
	SP_COAL_ADAPTIVE_TX,
	SP_COAL_SAMPLE_INTERVAL,
	SP_COAL_STATS_BLOCK_USECS,
	SP_COAL_PKT_RATE_LOW,
	SP_COAL_PKT_RATE_HIGH,
	SP_COAL_RX_USECS,
	SP_COAL_RX_FRAMES,
	SP_COAL_RX_USECS_IRQ,
	SP_COAL_RX_FRAMES_IRQ,
	SP_COAL_TX_USECS,
	SP_COAL_TX_FRAMES,
	SP_COAL_TX_USECS_IRQ,
	SP_COAL_TX_FRAMES_IRQ,
	SP_COAL_RX_USECS_LOW,
	SP_COAL_RX_FRAMES_LOW,
	SP_COAL_TX_USECS_LOW,
	SP_COAL_TX_FRAMES_LOW,
	SP_COAL_RX_USECS_HIGH,
	SP_COAL_RX_FRAMES_HIGH,
	SP_COAL_TX_USECS_HIGH,
	SP_COAL_TX_FRAMES_HIGH,
	SP_COAL_CQE_MODE_RX,
	SP_COAL_CQE_MODE_TX,
	/* pause */
	SP_PAUSE_AUTONEG,
	SP_PAUSE_RX,
	SP_PAUSE_TX,
	/* eee */
	SP_EEE_ENABLED,
	SP_EEE_ACTIVE,
	SP_EEE_TX_LPI,
	SP_EEE_TX_TIMER,
	SP_MAX
};

struct setting_def {
	const char *name; /* ethtool's parameter name, the key in facts and rules */
	enum setting_group group;
	enum setting_type type;
	bool read_only; /* reported, never set (EEE's active) */
};

extern const struct setting_def setting_defs[SP_MAX];

/* "rings", "channels", "coalesce", "pause", "eee"; NULL out of range. */
const char *setting_group_name(enum setting_group g);
/* A group by name, or -1. */
int setting_group_lookup(const char *name);
/* The group's parameters: [*ret_first, *ret_end). */
void setting_group_range(enum setting_group g, unsigned int *ret_first, unsigned int *ret_end);
/* A parameter of group g by name, or -1. */
int setting_lookup(enum setting_group g, const char *name);
/* The group's parameter nearest to name (a typo), or NULL. */
const char *setting_suggest(enum setting_group g, const char *name);
/* Changing a parameter of this group may reset the link (the driver
 * reallocates its queues): rings and channels. */
bool setting_group_resets_link(enum setting_group g);

static inline uint64_t setting_bit(unsigned int p)
{
	return (uint64_t)1 << p;
}

/* One interface's settings as the kernel reported them. */
struct iface_settings {
	uint8_t read;	   /* groups asked of the kernel (bit per group) */
	uint8_t supported; /* groups the driver answered; read and not supported: null */
	uint64_t present;  /* parameters the kernel reported (what ethtool does not print n/a) */
	uint64_t has_max;  /* parameters with a maximum (ST_COUNT) */
	uint32_t value[SP_MAX];
	uint32_t max[SP_MAX];
};

static inline bool iface_settings_has(const struct iface_settings *s, unsigned int p)
{
	return p < SP_MAX && (s->present & setting_bit(p));
}

/* The parameters of group g in mask. */
uint64_t setting_group_mask(enum setting_group g);
