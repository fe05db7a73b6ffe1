/* ethnl-features.c - features through the ethtool netlink family (5.6+)
 *
 * FEATURES_GET is one dump with compact bitsets, FEATURES_SET sends only the
 * bits that differ and reads the kernel's reply.  Extended ack messages
 * reach the user verbatim.
 */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/ethtool_netlink.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/ethnl-internal.h"
#include "lib/log.h"

struct features_ctx {
	struct host_state *hs;
	bool add; /* add the interfaces the link dump did not (or was not asked to) */
	/* Every interface in hs came from this dump, in rising ifindex order
	 * (newer kernels dump so): an ifindex above the last one is
	 * not there, and is not searched for.  Without it, building hs from
	 * the dump alone (check, apply, watch) searched the whole array for
	 * each new interface: 56 % of `check` at 10,000 interfaces. */
	bool ordered;
	int error;
};

/* hs's entry for ifindex, or NULL; what host_state_find_index() answers. */
static struct iface *features_find(struct features_ctx *ctx, int ifindex)
{
	struct host_state *hs = ctx->hs;

	if (ctx->ordered && (hs->n == 0 || hs->ifaces[hs->n - 1].ifindex < ifindex))
		return NULL;
	return host_state_find_index(hs, ifindex);
}

static int features_parse(struct nl_msg *msg, void *arg)
{
	struct features_ctx *ctx = arg;
	struct nlattr *tb[ETHTOOL_A_FEATURES_MAX + 1];
	struct nlattr *hdr[ETHTOOL_A_HEADER_MAX + 1];
	unsigned int count = ctx->hs->names.count;
	struct iface *ifc;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, ETHTOOL_A_FEATURES_MAX, NULL) < 0 ||
	    !tb[ETHTOOL_A_FEATURES_HEADER])
		return NL_OK;
	if (nla_parse_nested(hdr, ETHTOOL_A_HEADER_MAX, tb[ETHTOOL_A_FEATURES_HEADER],
			     ethnl_header_policy) < 0 ||
	    !hdr[ETHTOOL_A_HEADER_DEV_INDEX])
		return NL_OK;
	ifc = features_find(ctx, (int)nla_get_u32(hdr[ETHTOOL_A_HEADER_DEV_INDEX]));
	if (!ifc && ctx->add && hdr[ETHTOOL_A_HEADER_DEV_NAME]) {
		int ifindex = (int)nla_get_u32(hdr[ETHTOOL_A_HEADER_DEV_INDEX]);

		if (ctx->hs->n && ctx->hs->ifaces[ctx->hs->n - 1].ifindex >= ifindex)
			ctx->ordered = false; /* out of order: search everything from now on */
		ifc = host_state_add(ctx->hs);
		if (!ifc) {
			ctx->error = -ENOMEM;
			return NL_STOP;
		}
		ifc->ifindex = ifindex;
		snprintf(ifc->name, sizeof(ifc->name), "%s",
			 nla_get_string(hdr[ETHTOOL_A_HEADER_DEV_NAME]));
		ifc->operstate = "unknown";
	}
	if (!ifc)
		return NL_OK; /* appeared after the link dump */
	if (!tb[ETHTOOL_A_FEATURES_HW] || !tb[ETHTOOL_A_FEATURES_WANTED] ||
	    !tb[ETHTOOL_A_FEATURES_ACTIVE] || !tb[ETHTOOL_A_FEATURES_NOCHANGE])
		return NL_OK;
	if (ethnl_bitset_parse(tb[ETHTOOL_A_FEATURES_HW], count, &ctx->hs->names, &ifc->hw, NULL) <
		    0 ||
	    ethnl_bitset_parse(tb[ETHTOOL_A_FEATURES_WANTED], count, &ctx->hs->names, &ifc->wanted,
			       NULL) < 0 ||
	    ethnl_bitset_parse(tb[ETHTOOL_A_FEATURES_ACTIVE], count, &ctx->hs->names, &ifc->active,
			       NULL) < 0 ||
	    ethnl_bitset_parse(tb[ETHTOOL_A_FEATURES_NOCHANGE], count, &ctx->hs->names,
			       &ifc->nochange, NULL) < 0) {
		ctx->error = -EPROTO;
		return NL_OK;
	}
	ifc->have_features = true;
	return NL_OK;
}

/* One FEATURES_GET request (a dump when ifindex is 0). */
static int features_get(struct ethnl *e, struct host_state *hs, int ifindex, bool add)
{
	struct features_ctx ctx = { .hs = hs, .add = add, .ordered = add && hs->n == 0 };
	struct nl_msg *msg = ethnl_msg(e, ETHTOOL_MSG_FEATURES_GET, ifindex ? 0 : NLM_F_DUMP);
	int r;

	if (!msg)
		return -ENOMEM;
	if (ethnl_put_header(msg, ETHTOOL_A_FEATURES_HEADER, ifindex,
			     ETHTOOL_FLAG_COMPACT_BITSETS) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	r = ethnl_request(e, msg, features_parse, &ctx, NULL);
	if (r < 0)
		return r;
	if (ctx.error == -ENOMEM)
		return ctx.error;
	if (ctx.error)
		log_warn("malformed feature bitsets in the kernel's reply");
	return 0;
}

int ethnl_features_get(struct ethnl *e, struct host_state *hs, int ifindex)
{
	return features_get(e, hs, ifindex, false);
}

int ethnl_features_dump_ifaces(struct ethnl *e, struct host_state *hs)
{
	return features_get(e, hs, 0, true);
}

struct set_ctx {
	const struct host_state *hs;
	struct featbits wanted_val, wanted_mask, active_val, active_mask;
	bool got;
};

static int set_reply_parse(struct nl_msg *msg, void *arg)
{
	struct set_ctx *ctx = arg;
	struct nlattr *tb[ETHTOOL_A_FEATURES_MAX + 1];
	unsigned int count = ctx->hs->names.count;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, ETHTOOL_A_FEATURES_MAX, NULL) < 0)
		return NL_OK;
	if (tb[ETHTOOL_A_FEATURES_WANTED] &&
	    ethnl_bitset_parse(tb[ETHTOOL_A_FEATURES_WANTED], count, &ctx->hs->names,
			       &ctx->wanted_val, &ctx->wanted_mask) < 0)
		return NL_OK;
	if (tb[ETHTOOL_A_FEATURES_ACTIVE] &&
	    ethnl_bitset_parse(tb[ETHTOOL_A_FEATURES_ACTIVE], count, &ctx->hs->names,
			       &ctx->active_val, &ctx->active_mask) < 0)
		return NL_OK;
	ctx->got = true;
	return NL_OK;
}

int ethnl_features_set(struct ethnl *e, const struct host_state *hs, const struct iface *ifc,
		       const struct featbits *mask, const struct featbits *values,
		       struct set_result *ret, char **ret_msg)
{
	struct set_ctx ctx = { .hs = hs };
	struct nl_msg *msg = ethnl_msg(e, ETHTOOL_MSG_FEATURES_SET, 0);
	int r;

	if (!msg)
		return -ENOMEM;
	if (ethnl_put_header(msg, ETHTOOL_A_FEATURES_HEADER, ifc->ifindex,
			     ETHTOOL_FLAG_COMPACT_BITSETS) < 0 ||
	    ethnl_put_bitset(msg, ETHTOOL_A_FEATURES_WANTED, hs->names.count, values, mask) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	r = ethnl_request(e, msg, set_reply_parse, &ctx, ret_msg);
	if (r < 0)
		return r;
	if (!ctx.got)
		return -EPROTO;
	/* WANTED in the reply: requested bits whose result differs from the
	 * request; ACTIVE: every bit whose active state changed. */
	memset(ret, 0, sizeof(*ret));
	ret->refused = ctx.wanted_mask;
	ret->active_mask = ctx.active_mask;
	for (unsigned int i = 0; i < FEAT_WORDS; i++)
		ret->active_new.w[i] = ctx.active_val.w[i] & ctx.active_mask.w[i];
	return 0;
}

int ethnl_features_ntf_parse(struct nl_msg *msg, const struct feature_names *names,
			     int *ret_ifindex, struct featbits *ret_active,
			     struct featbits *ret_wanted)
{
	struct nlattr *tb[ETHTOOL_A_FEATURES_MAX + 1];
	struct nlattr *hdr[ETHTOOL_A_HEADER_MAX + 1];
	struct genlmsghdr *gh;

	if (!genlmsg_valid_hdr(nlmsg_hdr(msg), 0))
		return -EPROTO;
	gh = nlmsg_data(nlmsg_hdr(msg));
	if (gh->cmd != ETHTOOL_MSG_FEATURES_NTF)
		return -ENOENT;
	*ret_ifindex = 0;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, ETHTOOL_A_FEATURES_MAX, NULL) < 0 ||
	    !tb[ETHTOOL_A_FEATURES_HEADER] ||
	    nla_parse_nested(hdr, ETHTOOL_A_HEADER_MAX, tb[ETHTOOL_A_FEATURES_HEADER],
			     ethnl_header_policy) < 0 ||
	    !hdr[ETHTOOL_A_HEADER_DEV_INDEX])
		return -EPROTO;
	*ret_ifindex = (int)nla_get_u32(hdr[ETHTOOL_A_HEADER_DEV_INDEX]);
	if (!tb[ETHTOOL_A_FEATURES_ACTIVE] || !tb[ETHTOOL_A_FEATURES_WANTED] ||
	    ethnl_bitset_parse(tb[ETHTOOL_A_FEATURES_ACTIVE], names->count, names, ret_active,
			       NULL) < 0 ||
	    ethnl_bitset_parse(tb[ETHTOOL_A_FEATURES_WANTED], names->count, names, ret_wanted,
			       NULL) < 0)
		return -EPROTO;
	return 0;
}

/* Replies given as bytes (the fuzzers, fuzz/fuzz-netlink.c). */

int ethnl_features_parse_msg(const void *buf, size_t len, struct host_state *hs)
{
	struct features_ctx ctx = { .hs = hs };
	struct nl_msg *msg = ethnl_msg_from_bytes(buf, len);

	if (!msg)
		return -EINVAL;
	features_parse(msg, &ctx);
	nlmsg_free(msg);
	return ctx.error;
}

int ethnl_set_reply_parse_msg(const void *buf, size_t len, const struct host_state *hs)
{
	struct set_ctx ctx = { .hs = hs };
	struct nl_msg *msg = ethnl_msg_from_bytes(buf, len);

	if (!msg)
		return -EINVAL;
	set_reply_parse(msg, &ctx);
	nlmsg_free(msg);
	return ctx.got ? 0 : -EPROTO;
}

int ethnl_features_dump_parse_msgs(const void *const *bufs, const size_t *lens, size_t n,
				   struct host_state *hs)
{
	struct features_ctx ctx = { .hs = hs, .add = true, .ordered = hs->n == 0 };

	for (size_t i = 0; i < n; i++) {
		struct nl_msg *msg = ethnl_msg_from_bytes(bufs[i], lens[i]);

		if (!msg)
			return -EINVAL;
		features_parse(msg, &ctx);
		nlmsg_free(msg);
	}
	return ctx.error;
}

int ethnl_features_ntf_parse_msg(const void *buf, size_t len, const struct feature_names *names,
				 int *ret_ifindex, struct featbits *ret_active,
				 struct featbits *ret_wanted)
{
	struct nl_msg *msg = ethnl_msg_from_bytes(buf, len);
	int r;

	if (!msg)
		return -EINVAL;
	r = ethnl_features_ntf_parse(msg, names, ret_ifindex, ret_active, ret_wanted);
	nlmsg_free(msg);
	return r;
}
