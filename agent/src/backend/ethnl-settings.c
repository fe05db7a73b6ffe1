/* ethnl-settings.c - rings, channels, coalesce, pause and EEE through the
 * ethtool netlink family (ethtool's netlink/rings.c, channels.c, coalesce.c,
 * pause.c, eee.c)
 *
 * Each group's GET is one dump for every interface; a device whose driver
 * lacks the group is left out of the dump by the kernel (EOPNOTSUPP is
 * skipped in ethnl_default_dumpit()), so it stays null.  The kernel puts
 * an attribute only where the driver supports it (what ethtool prints as
 * n/a is absent): a parameter is "present" when its attribute is.  A SET
 * carries only the parameters asked for.
 */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/ethtool_netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <stdio.h>
#include <string.h>

#include "backend/ethnl-internal.h"

/* Attributes newer than the uAPI headers this builds against (Linux 6.3+);
 * their numbers are fixed by the kernel's ABI. */
#define OC_A_RINGS_RX_PUSH	       (ETHTOOL_A_RINGS_TX_PUSH + 1) /* 6.3 */
#define OC_A_RINGS_TX_PUSH_BUF_LEN     (ETHTOOL_A_RINGS_TX_PUSH + 2) /* 6.5 */
#define OC_A_RINGS_TX_PUSH_BUF_LEN_MAX (ETHTOOL_A_RINGS_TX_PUSH + 3)
#define OC_A_RINGS_HDS_THRESH	       (ETHTOOL_A_RINGS_TX_PUSH + 4) /* 6.13 */
#define OC_A_RINGS_HDS_THRESH_MAX      (ETHTOOL_A_RINGS_TX_PUSH + 5)
/* Enough for every group's attributes, today's and some to come. */
#define OC_SETTINGS_ATTR_MAX 63

struct nl_param {
	unsigned int param;
	int attr;
	int max_attr; /* 0: none */
	bool u8;
	bool split; /* enum ethtool_tcp_data_split: 1 disabled, 2 enabled (0 unknown: absent) */
};

static const struct nl_param nl_params[] = {
	{ SP_RINGS_RX, ETHTOOL_A_RINGS_RX, ETHTOOL_A_RINGS_RX_MAX, false, false },
	{ SP_RINGS_RX_MINI, ETHTOOL_A_RINGS_RX_MINI, ETHTOOL_A_RINGS_RX_MINI_MAX, false, false },
	{ SP_RINGS_RX_JUMBO, ETHTOOL_A_RINGS_RX_JUMBO, ETHTOOL_A_RINGS_RX_JUMBO_MAX, false, false },
	{ SP_RINGS_TX, ETHTOOL_A_RINGS_TX, ETHTOOL_A_RINGS_TX_MAX, false, false },
	{ SP_RINGS_RX_BUF_LEN, ETHTOOL_A_RINGS_RX_BUF_LEN, 0, false, false },
	{ SP_RINGS_CQE_SIZE, ETHTOOL_A_RINGS_CQE_SIZE, 0, false, false },
	{ SP_RINGS_TX_PUSH, ETHTOOL_A_RINGS_TX_PUSH, 0, true, false },
	{ SP_RINGS_RX_PUSH, OC_A_RINGS_RX_PUSH, 0, true, false },
	{ SP_RINGS_TCP_DATA_SPLIT, ETHTOOL_A_RINGS_TCP_DATA_SPLIT, 0, true, true },
	{ SP_RINGS_TX_PUSH_BUF_LEN, OC_A_RINGS_TX_PUSH_BUF_LEN, OC_A_RINGS_TX_PUSH_BUF_LEN_MAX,
	  false, false },
	{ SP_RINGS_HDS_THRESH, OC_A_RINGS_HDS_THRESH, OC_A_RINGS_HDS_THRESH_MAX, false, false },
	{ SP_CHANNELS_RX, ETHTOOL_A_CHANNELS_RX_COUNT, ETHTOOL_A_CHANNELS_RX_MAX, false, false },
	{ SP_CHANNELS_TX, ETHTOOL_A_CHANNELS_TX_COUNT, ETHTOOL_A_CHANNELS_TX_MAX, false, false },
	{ SP_CHANNELS_OTHER, ETHTOOL_A_CHANNELS_OTHER_COUNT, ETHTOOL_A_CHANNELS_OTHER_MAX, false,
	  false },
	{ SP_CHANNELS_COMBINED, ETHTOOL_A_CHANNELS_COMBINED_COUNT, ETHTOOL_A_CHANNELS_COMBINED_MAX,
	  false, false },
	{ SP_COAL_ADAPTIVE_RX, ETHTOOL_A_COALESCE_USE_ADAPTIVE_RX, 0, true, false },
	{ SP_COAL_ADAPTIVE_TX, ETHTOOL_A_COALESCE_USE_ADAPTIVE_TX, 0, true, false },
	{ SP_COAL_SAMPLE_INTERVAL, ETHTOOL_A_COALESCE_RATE_SAMPLE_INTERVAL, 0, false, false },
	{ SP_COAL_STATS_BLOCK_USECS, ETHTOOL_A_COALESCE_STATS_BLOCK_USECS, 0, false, false },
	{ SP_COAL_PKT_RATE_LOW, ETHTOOL_A_COALESCE_PKT_RATE_LOW, 0, false, false },
	{ SP_COAL_PKT_RATE_HIGH, ETHTOOL_A_COALESCE_PKT_RATE_HIGH, 0, false, false },
	{ SP_COAL_RX_USECS, ETHTOOL_A_COALESCE_RX_USECS, 0, false, false },
	{ SP_COAL_RX_FRAMES, ETHTOOL_A_COALESCE_RX_MAX_FRAMES, 0, false, false },
	{ SP_COAL_RX_USECS_IRQ, ETHTOOL_A_COALESCE_RX_USECS_IRQ, 0, false, false },
	{ SP_COAL_RX_FRAMES_IRQ, ETHTOOL_A_COALESCE_RX_MAX_FRAMES_IRQ, 0, false, false },
	{ SP_COAL_TX_USECS, ETHTOOL_A_COALESCE_TX_USECS, 0, false, false },
	{ SP_COAL_TX_FRAMES, ETHTOOL_A_COALESCE_TX_MAX_FRAMES, 0, false, false },
	{ SP_COAL_TX_USECS_IRQ, ETHTOOL_A_COALESCE_TX_USECS_IRQ, 0, false, false },
	{ SP_COAL_TX_FRAMES_IRQ, ETHTOOL_A_COALESCE_TX_MAX_FRAMES_IRQ, 0, false, false },
	{ SP_COAL_RX_USECS_LOW, ETHTOOL_A_COALESCE_RX_USECS_LOW, 0, false, false },
	{ SP_COAL_RX_FRAMES_LOW, ETHTOOL_A_COALESCE_RX_MAX_FRAMES_LOW, 0, false, false },
	{ SP_COAL_TX_USECS_LOW, ETHTOOL_A_COALESCE_TX_USECS_LOW, 0, false, false },
	{ SP_COAL_TX_FRAMES_LOW, ETHTOOL_A_COALESCE_TX_MAX_FRAMES_LOW, 0, false, false },
	{ SP_COAL_RX_USECS_HIGH, ETHTOOL_A_COALESCE_RX_USECS_HIGH, 0, false, false },
	{ SP_COAL_RX_FRAMES_HIGH, ETHTOOL_A_COALESCE_RX_MAX_FRAMES_HIGH, 0, false, false },
	{ SP_COAL_TX_USECS_HIGH, ETHTOOL_A_COALESCE_TX_USECS_HIGH, 0, false, false },
	{ SP_COAL_TX_FRAMES_HIGH, ETHTOOL_A_COALESCE_TX_MAX_FRAMES_HIGH, 0, false, false },
	{ SP_COAL_CQE_MODE_RX, ETHTOOL_A_COALESCE_USE_CQE_MODE_RX, 0, true, false },
	{ SP_COAL_CQE_MODE_TX, ETHTOOL_A_COALESCE_USE_CQE_MODE_TX, 0, true, false },
	{ SP_PAUSE_AUTONEG, ETHTOOL_A_PAUSE_AUTONEG, 0, true, false },
	{ SP_PAUSE_RX, ETHTOOL_A_PAUSE_RX, 0, true, false },
	{ SP_PAUSE_TX, ETHTOOL_A_PAUSE_TX, 0, true, false },
	{ SP_EEE_ENABLED, ETHTOOL_A_EEE_ENABLED, 0, true, false },
	{ SP_EEE_ACTIVE, ETHTOOL_A_EEE_ACTIVE, 0, true, false },
	{ SP_EEE_TX_LPI, ETHTOOL_A_EEE_TX_LPI_ENABLED, 0, true, false },
	{ SP_EEE_TX_TIMER, ETHTOOL_A_EEE_TX_LPI_TIMER, 0, false, false },
};

static const struct {
	uint8_t get, set, ntf;
} nl_groups[SG_MAX] = {
	[SG_RINGS] = { ETHTOOL_MSG_RINGS_GET, ETHTOOL_MSG_RINGS_SET, ETHTOOL_MSG_RINGS_NTF },
	[SG_CHANNELS] = { ETHTOOL_MSG_CHANNELS_GET, ETHTOOL_MSG_CHANNELS_SET,
			  ETHTOOL_MSG_CHANNELS_NTF },
	[SG_COALESCE] = { ETHTOOL_MSG_COALESCE_GET, ETHTOOL_MSG_COALESCE_SET,
			  ETHTOOL_MSG_COALESCE_NTF },
	[SG_PAUSE] = { ETHTOOL_MSG_PAUSE_GET, ETHTOOL_MSG_PAUSE_SET, ETHTOOL_MSG_PAUSE_NTF },
	[SG_EEE] = { ETHTOOL_MSG_EEE_GET, ETHTOOL_MSG_EEE_SET, ETHTOOL_MSG_EEE_NTF },
};

/* Every group's header is its attribute 1 (ETHTOOL_A_*_HEADER). */
#define OC_A_SETTINGS_HEADER 1

static const struct nl_param *nl_param_of(unsigned int p)
{
	for (size_t i = 0; i < sizeof(nl_params) / sizeof(nl_params[0]); i++)
		if (nl_params[i].param == p)
			return &nl_params[i];
	return NULL;
}

/* A number attribute of the size the kernel gives it; false when the
 * attribute is too short to hold one (a malformed reply). */
static bool get_num(const struct nlattr *a, bool u8, uint32_t *ret)
{
	if (u8) {
		if (nla_len(a) < 1)
			return false;
		*ret = nla_get_u8((struct nlattr *)a) ? 1 : 0;
	} else {
		if (nla_len(a) < 4)
			return false;
		*ret = nla_get_u32((struct nlattr *)a);
	}
	return true;
}

struct settings_ctx {
	struct host_state *hs;
	enum setting_group g;
	int error;
	bool got; /* a reply for the interface asked (single GET) */
};

/* Group g's attributes of one reply or notification into s (its other
 * groups untouched).  Returns 0, or -EPROTO when an attribute was too
 * short to read (it is left out). */
static int settings_from_attrs(struct nlattr **tb, enum setting_group g, struct iface_settings *s)
{
	unsigned int first, end;
	int r = 0;

	setting_group_range(g, &first, &end);
	s->present &= ~setting_group_mask(g);
	s->has_max &= ~setting_group_mask(g);
	for (unsigned int p = first; p < end; p++) {
		const struct nl_param *np = nl_param_of(p);
		uint32_t v, m;

		if (!np || np->attr > OC_SETTINGS_ATTR_MAX || !tb[np->attr])
			continue;
		if (np->split) {
			/* the raw enum, not get_num()'s 0/1 */
			if (nla_len(tb[np->attr]) < 1) {
				r = -EPROTO;
				continue;
			}
			v = nla_get_u8(tb[np->attr]);
			if (v != ETHTOOL_TCP_DATA_SPLIT_DISABLED &&
			    v != ETHTOOL_TCP_DATA_SPLIT_ENABLED)
				continue; /* unknown: as the kernel leaves it out */
			v = v == ETHTOOL_TCP_DATA_SPLIT_ENABLED;
		} else if (!get_num(tb[np->attr], np->u8, &v)) {
			r = -EPROTO;
			continue;
		}
		s->value[p] = v;
		s->present |= setting_bit(p);
		if (np->max_attr && tb[np->max_attr] && get_num(tb[np->max_attr], false, &m)) {
			s->max[p] = m;
			s->has_max |= setting_bit(p);
		}
	}
	s->read |= (uint8_t)(1u << g);
	s->supported |= (uint8_t)(1u << g);
	return r;
}

static int settings_parse(struct nl_msg *msg, void *arg)
{
	struct settings_ctx *ctx = arg;
	struct nlattr *tb[OC_SETTINGS_ATTR_MAX + 1];
	struct nlattr *hdr[ETHTOOL_A_HEADER_MAX + 1];
	struct iface *ifc;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, OC_SETTINGS_ATTR_MAX, NULL) < 0 ||
	    !tb[OC_A_SETTINGS_HEADER])
		return NL_OK;
	if (nla_parse_nested(hdr, ETHTOOL_A_HEADER_MAX, tb[OC_A_SETTINGS_HEADER],
			     ethnl_header_policy) < 0 ||
	    !hdr[ETHTOOL_A_HEADER_DEV_INDEX])
		return NL_OK;
	ifc = host_state_find_index(ctx->hs, (int)nla_get_u32(hdr[ETHTOOL_A_HEADER_DEV_INDEX]));
	if (!ifc)
		return NL_OK; /* appeared after the link dump */
	if (settings_from_attrs(tb, ctx->g, &ifc->settings) < 0)
		ctx->error = -EPROTO;
	ctx->got = true;
	return NL_OK;
}

int ethnl_settings_get(struct ethnl *e, struct host_state *hs, enum setting_group g, int ifindex)
{
	struct settings_ctx ctx = { .hs = hs, .g = g };
	struct nl_msg *msg;
	int r;

	if ((unsigned int)g >= SG_MAX)
		return -EINVAL;
	msg = ethnl_msg(e, nl_groups[g].get, ifindex ? 0 : NLM_F_DUMP);
	if (!msg)
		return -ENOMEM;
	/* compact bitsets: EEE's link modes, which are not read, stay small */
	if (ethnl_put_header(msg, OC_A_SETTINGS_HEADER, ifindex, ETHTOOL_FLAG_COMPACT_BITSETS) <
	    0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	/* A group asked and not in the reply is null (not supported). */
	for (size_t i = 0; i < hs->n; i++) {
		struct iface_settings *s = &hs->ifaces[i].settings;

		if (ifindex && hs->ifaces[i].ifindex != ifindex)
			continue;
		s->read |= (uint8_t)(1u << g);
		s->supported &= (uint8_t) ~(1u << g);
		s->present &= ~setting_group_mask(g);
		s->has_max &= ~setting_group_mask(g);
	}
	r = ethnl_request(e, msg, settings_parse, &ctx, NULL);
	if (r < 0)
		return r;
	if (ifindex && !ctx.got)
		return -ENODEV;
	return ctx.error == -EPROTO ? 0 : ctx.error;
}

int ethnl_settings_set(struct ethnl *e, const struct iface *ifc, enum setting_group g,
		       uint64_t mask, const uint32_t *values, char **ret_msg)
{
	unsigned int first, end;
	struct nl_msg *msg;

	if ((unsigned int)g >= SG_MAX)
		return -EINVAL;
	msg = ethnl_msg(e, nl_groups[g].set, 0);
	if (!msg)
		return -ENOMEM;
	if (ethnl_put_header(msg, OC_A_SETTINGS_HEADER, ifc->ifindex, 0) < 0)
		goto nomem;
	setting_group_range(g, &first, &end);
	for (unsigned int p = first; p < end; p++) {
		const struct nl_param *np = nl_param_of(p);

		if (!(mask & setting_bit(p)) || !np || setting_defs[p].read_only)
			continue;
		if (np->split ? nla_put_u8(msg, np->attr,
					   values[p] ? ETHTOOL_TCP_DATA_SPLIT_ENABLED
						     : ETHTOOL_TCP_DATA_SPLIT_DISABLED) < 0
		    : np->u8  ? nla_put_u8(msg, np->attr, values[p] ? 1 : 0) < 0
			      : nla_put_u32(msg, np->attr, values[p]) < 0)
			goto nomem;
	}
	return ethnl_request(e, msg, NULL, NULL, ret_msg);
nomem:
	nlmsg_free(msg);
	return -ENOMEM;
}

int ethnl_settings_ntf_parse(struct nl_msg *msg, enum setting_group *ret_group, int *ret_ifindex,
			     struct iface_settings *ret_values)
{
	struct nlattr *tb[OC_SETTINGS_ATTR_MAX + 1];
	struct nlattr *hdr[ETHTOOL_A_HEADER_MAX + 1];
	struct genlmsghdr *gh;
	int g;

	if (!genlmsg_valid_hdr(nlmsg_hdr(msg), 0))
		return -EPROTO;
	gh = nlmsg_data(nlmsg_hdr(msg));
	for (g = 0; g < SG_MAX && gh->cmd != nl_groups[g].ntf; g++)
		;
	if (g == SG_MAX)
		return -ENOENT;
	*ret_group = (enum setting_group)g;
	*ret_ifindex = 0;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, OC_SETTINGS_ATTR_MAX, NULL) < 0 ||
	    !tb[OC_A_SETTINGS_HEADER] ||
	    nla_parse_nested(hdr, ETHTOOL_A_HEADER_MAX, tb[OC_A_SETTINGS_HEADER],
			     ethnl_header_policy) < 0 ||
	    !hdr[ETHTOOL_A_HEADER_DEV_INDEX])
		return -EPROTO;
	*ret_ifindex = (int)nla_get_u32(hdr[ETHTOOL_A_HEADER_DEV_INDEX]);
	/* a notification carries what the GET reply does: the group's state */
	memset(ret_values, 0, sizeof(*ret_values));
	return settings_from_attrs(tb, *ret_group, ret_values);
}

/* A reply given as bytes (the fuzzers, fuzz/fuzz-netlink.c). */
int ethnl_settings_parse_msg(const void *buf, size_t len, enum setting_group g,
			     struct host_state *hs)
{
	struct settings_ctx ctx = { .hs = hs, .g = g };
	struct nl_msg *msg = ethnl_msg_from_bytes(buf, len);

	if ((unsigned int)g >= SG_MAX)
		return -EINVAL;
	if (!msg)
		return -EINVAL;
	settings_parse(msg, &ctx);
	nlmsg_free(msg);
	return ctx.error ? ctx.error : ctx.got ? 0 : -EPROTO;
}

int ethnl_settings_ntf_parse_msg(const void *buf, size_t len, enum setting_group *ret_group,
				 int *ret_ifindex, struct iface_settings *ret_values)
{
	struct nl_msg *msg = ethnl_msg_from_bytes(buf, len);
	int r;

	if (!msg)
		return -EINVAL;
	r = ethnl_settings_ntf_parse(msg, ret_group, ret_ifindex, ret_values);
	nlmsg_free(msg);
	return r;
}
