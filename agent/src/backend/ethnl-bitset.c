/* ethnl-bitset.c - ethtool netlink bitsets: parsed in compact or bit-list
 * form, written compact */
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

static struct nla_policy bitset_policy[ETHTOOL_A_BITSET_MAX + 1] = {
	[ETHTOOL_A_BITSET_NOMASK] = { .type = NLA_FLAG },
	[ETHTOOL_A_BITSET_SIZE] = { .type = NLA_U32 },
};
static struct nla_policy bit_policy[ETHTOOL_A_BITSET_BIT_MAX + 1] = {
	[ETHTOOL_A_BITSET_BIT_INDEX] = { .type = NLA_U32 },
	[ETHTOOL_A_BITSET_BIT_NAME] = { .type = NLA_STRING },
};

int ethnl_bitset_parse(const void *nest_attr, unsigned int count, const struct feature_names *names,
		       struct featbits *ret_value, struct featbits *ret_mask)
{
	struct nlattr *nest = (struct nlattr *)nest_attr;
	struct nlattr *tb[ETHTOOL_A_BITSET_MAX + 1];
	struct featbits value = { 0 }, mask = { 0 };
	bool nomask;

	if (nla_parse_nested(tb, ETHTOOL_A_BITSET_MAX, nest, bitset_policy) < 0)
		return -EPROTO;
	/* As ethtool does: a bitset is as long as the string set it indexes;
	 * any other size is a reply for another table, or a broken one. */
	if (!tb[ETHTOOL_A_BITSET_SIZE] || nla_get_u32(tb[ETHTOOL_A_BITSET_SIZE]) != count)
		return -EPROTO;
	nomask = tb[ETHTOOL_A_BITSET_NOMASK] != NULL;
	if (tb[ETHTOOL_A_BITSET_VALUE]) {
		/* Compact: u32 words in host order. */
		int vlen = nla_len(tb[ETHTOOL_A_BITSET_VALUE]);
		size_t words = (count + 31) / 32;
		size_t bytes = words * 4;

		if (words > FEAT_WORDS || (size_t)vlen < bytes)
			return -EPROTO;
		memcpy(value.w, nla_data(tb[ETHTOOL_A_BITSET_VALUE]), bytes);
		if (tb[ETHTOOL_A_BITSET_MASK]) {
			if ((size_t)nla_len(tb[ETHTOOL_A_BITSET_MASK]) < bytes)
				return -EPROTO;
			memcpy(mask.w, nla_data(tb[ETHTOOL_A_BITSET_MASK]), bytes);
		}
		/* Clear bits past count. */
		for (unsigned int i = count; i < words * 32; i++) {
			featbits_set(&value, i, false);
			featbits_set(&mask, i, false);
		}
	} else if (tb[ETHTOOL_A_BITSET_BITS]) {
		struct nlattr *bit;
		int rem;

		nla_for_each_nested(bit, tb[ETHTOOL_A_BITSET_BITS], rem) {
			struct nlattr *bt[ETHTOOL_A_BITSET_BIT_MAX + 1];
			int idx = -1;

			if (nla_type(bit) != ETHTOOL_A_BITSET_BITS_BIT ||
			    nla_parse_nested(bt, ETHTOOL_A_BITSET_BIT_MAX, bit, bit_policy) < 0)
				return -EPROTO;
			if (bt[ETHTOOL_A_BITSET_BIT_INDEX])
				idx = (int)nla_get_u32(bt[ETHTOOL_A_BITSET_BIT_INDEX]);
			else if (bt[ETHTOOL_A_BITSET_BIT_NAME] && names)
				idx = feature_names_index(
					names, nla_get_string(bt[ETHTOOL_A_BITSET_BIT_NAME]));
			if (idx < 0 || (unsigned int)idx >= count)
				return -EPROTO;
			featbits_set(&mask, (unsigned int)idx, true);
			featbits_set(&value, (unsigned int)idx,
				     nomask || bt[ETHTOOL_A_BITSET_BIT_VALUE] != NULL);
		}
	}
	*ret_value = value;
	if (ret_mask)
		*ret_mask = mask;
	return 0;
}

int ethnl_put_bitset(struct nl_msg *msg, int attr, unsigned int count, const struct featbits *value,
		     const struct featbits *mask)
{
	struct nlattr *nest = nla_nest_start(msg, attr);
	size_t bytes = ((count + 31) / 32) * 4;

	if (!nest || nla_put_u32(msg, ETHTOOL_A_BITSET_SIZE, count) < 0 ||
	    nla_put(msg, ETHTOOL_A_BITSET_VALUE, (int)bytes, value->w) < 0 ||
	    nla_put(msg, ETHTOOL_A_BITSET_MASK, (int)bytes, mask->w) < 0)
		return -ENOMEM;
	nla_nest_end(msg, nest);
	return 0;
}
