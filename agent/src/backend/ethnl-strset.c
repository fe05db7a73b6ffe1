/* ethnl-strset.c - the kernel's feature string set (ETHTOOL_MSG_STRSET_GET,
 * ETH_SS_FEATURES): index -> name, asked once per run */
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

static struct nla_policy stringset_policy[ETHTOOL_A_STRINGSET_MAX + 1] = {
	[ETHTOOL_A_STRINGSET_ID] = { .type = NLA_U32 },
	[ETHTOOL_A_STRINGSET_COUNT] = { .type = NLA_U32 },
};
static struct nla_policy string_policy[ETHTOOL_A_STRING_MAX + 1] = {
	[ETHTOOL_A_STRING_INDEX] = { .type = NLA_U32 },
};
static int strset_store(struct feature_names *fn, struct nlattr *strings, unsigned int count)
{
	struct nlattr *s;
	int rem;

	fn->names = calloc(count ? count : 1, sizeof(char *));
	if (!fn->names)
		return -ENOMEM;
	fn->count = count;
	nla_for_each_nested(s, strings, rem) {
		struct nlattr *tb[ETHTOOL_A_STRING_MAX + 1];
		uint32_t idx;

		if (nla_type(s) != ETHTOOL_A_STRINGS_STRING)
			continue;
		if (nla_parse_nested(tb, ETHTOOL_A_STRING_MAX, s, string_policy) < 0 ||
		    !tb[ETHTOOL_A_STRING_INDEX] || !tb[ETHTOOL_A_STRING_VALUE])
			continue;
		idx = nla_get_u32(tb[ETHTOOL_A_STRING_INDEX]);
		if (idx >= count || fn->names[idx])
			continue;
		fn->names[idx] = strndup(nla_data(tb[ETHTOOL_A_STRING_VALUE]),
					 (size_t)nla_len(tb[ETHTOOL_A_STRING_VALUE]));
		if (!fn->names[idx])
			return -ENOMEM;
	}
	for (unsigned int i = 0; i < count; i++)
		if (!fn->names[i] && !(fn->names[i] = strdup("")))
			return -ENOMEM;
	return 0;
}

static int strset_parse(struct nl_msg *msg, void *arg)
{
	struct feature_names *fn = arg;
	struct nlattr *tb[ETHTOOL_A_STRSET_MAX + 1];
	struct nlattr *set;
	int rem;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, ETHTOOL_A_STRSET_MAX, NULL) < 0 ||
	    !tb[ETHTOOL_A_STRSET_STRINGSETS])
		return NL_OK;
	nla_for_each_nested(set, tb[ETHTOOL_A_STRSET_STRINGSETS], rem) {
		struct nlattr *st[ETHTOOL_A_STRINGSET_MAX + 1];
		unsigned int count;

		if (nla_parse_nested(st, ETHTOOL_A_STRINGSET_MAX, set, stringset_policy) < 0 ||
		    !st[ETHTOOL_A_STRINGSET_ID] || !st[ETHTOOL_A_STRINGSET_COUNT] ||
		    nla_get_u32(st[ETHTOOL_A_STRINGSET_ID]) != ETH_SS_FEATURES)
			continue;
		count = nla_get_u32(st[ETHTOOL_A_STRINGSET_COUNT]);
		if (count > FEAT_MAX_BITS || fn->names)
			continue;
		if (!st[ETHTOOL_A_STRINGSET_STRINGS])
			continue;
		if (strset_store(fn, st[ETHTOOL_A_STRINGSET_STRINGS], count) < 0) {
			feature_names_free(fn); /* never half a table with NULL names */
			return NL_STOP;
		}
	}
	return NL_OK;
}

int ethnl_feature_names(struct ethnl *e, struct feature_names *ret)
{
	struct feature_names fn = { 0 };
	struct nl_msg *msg = ethnl_msg(e, ETHTOOL_MSG_STRSET_GET, 0);
	struct nlattr *sets, *set;
	int r;

	if (!msg)
		return -ENOMEM;
	if (ethnl_put_header(msg, ETHTOOL_A_STRSET_HEADER, 0, 0) < 0 ||
	    !(sets = nla_nest_start(msg, ETHTOOL_A_STRSET_STRINGSETS)) ||
	    !(set = nla_nest_start(msg, ETHTOOL_A_STRINGSETS_STRINGSET)) ||
	    nla_put_u32(msg, ETHTOOL_A_STRINGSET_ID, ETH_SS_FEATURES) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nla_nest_end(msg, set);
	nla_nest_end(msg, sets);
	r = ethnl_request(e, msg, strset_parse, &fn, NULL);
	if (r == 0 && !fn.names)
		r = -EPROTO;
	if (r < 0) {
		feature_names_free(&fn);
		return r;
	}
	*ret = fn;
	return 0;
}

int ethnl_strset_parse_msg(const void *buf, size_t len, struct feature_names *ret)
{
	struct feature_names fn = { 0 };
	struct nl_msg *msg = ethnl_msg_from_bytes(buf, len);

	if (!msg)
		return -EINVAL;
	strset_parse(msg, &fn);
	nlmsg_free(msg);
	if (!fn.names)
		return -EPROTO;
	*ret = fn;
	return 0;
}
