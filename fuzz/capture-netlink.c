/* capture-netlink.c - save the kernel's replies as seeds for fuzz-netlink
 *
 * Usage: capture-netlink DIR [IFNAME]
 *
 * Sends the requests the agent sends (ETHTOOL_MSG_STRSET_GET for the feature
 * names, ETHTOOL_MSG_FEATURES_GET as a dump with compact bitsets and once
 * more with named bit lists, RINGS_GET, CHANNELS_GET, COALESCE_GET, PAUSE_GET
 * and EEE_GET as dumps, RTM_GETLINK as a dump, and with IFNAME a
 * FEATURES_SET that asks for what is already wanted, so nothing changes)
 * and writes every reply message, exactly as received, to
 * DIR/KIND-N.bin.  Run it inside a throwaway network namespace
 * (fuzz/capture-corpus does).
 */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/ethtool_netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct capture {
	const char *dir;
	const char *kind;
	int n;
	int done;
};

static int save(struct nl_msg *msg, void *arg)
{
	struct capture *c = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	char path[4096];
	FILE *f;

	if (nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR) {
		c->done = 1;
		return NL_OK;
	}
	snprintf(path, sizeof(path), "%s/%s-%d.bin", c->dir, c->kind, c->n++);
	f = fopen(path, "wb");
	if (!f || fwrite(nlh, 1, nlh->nlmsg_len, f) != nlh->nlmsg_len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
	return NL_OK;
}

static void run(struct nl_sock *sk, struct nl_msg *msg, struct capture *c)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int r;

	nl_cb_set(cb, NL_CB_MSG_IN, NL_CB_CUSTOM, save, c);
	r = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	if (r < 0) {
		fprintf(stderr, "capture-netlink: %s: %s\n", c->kind, nl_geterror(r));
		exit(1);
	}
	c->done = 0;
	while (!c->done && nl_recvmsgs(sk, cb) >= 0)
		;
	nl_cb_put(cb);
}

static struct nl_msg *ethtool_msg(int family, uint8_t cmd, int flags, int hdr_attr, int ifindex,
				  uint32_t hdr_flags)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct nlattr *nest;

	genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, flags, cmd, ETHTOOL_GENL_VERSION);
	nest = nla_nest_start(msg, hdr_attr);
	if (ifindex)
		nla_put_u32(msg, ETHTOOL_A_HEADER_DEV_INDEX, (uint32_t)ifindex);
	nla_put_u32(msg, ETHTOOL_A_HEADER_FLAGS, hdr_flags);
	nla_nest_end(msg, nest);
	return msg;
}

int main(int argc, char **argv)
{
	struct nl_sock *sk = nl_socket_alloc(), *rt = nl_socket_alloc();
	struct capture c = { 0 };
	struct nl_msg *msg;
	struct nlattr *sets, *set;
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	int family;

	if (argc < 2) {
		fprintf(stderr, "usage: capture-netlink DIR [IFNAME]\n");
		return 2;
	}
	c.dir = argv[1];
	if (genl_connect(sk) < 0 || (family = genl_ctrl_resolve(sk, ETHTOOL_GENL_NAME)) < 0) {
		fprintf(stderr, "capture-netlink: no ethtool netlink family\n");
		return 1;
	}
	nl_socket_set_msg_buf_size(sk, 1 << 16);

	msg = ethtool_msg(family, ETHTOOL_MSG_STRSET_GET, 0, ETHTOOL_A_STRSET_HEADER, 0, 0);
	sets = nla_nest_start(msg, ETHTOOL_A_STRSET_STRINGSETS);
	set = nla_nest_start(msg, ETHTOOL_A_STRINGSETS_STRINGSET);
	nla_put_u32(msg, ETHTOOL_A_STRINGSET_ID, ETH_SS_FEATURES);
	nla_nest_end(msg, set);
	nla_nest_end(msg, sets);
	c.kind = "strset";
	c.n = 0;
	run(sk, msg, &c);

	c.kind = "features-compact";
	c.n = 0;
	run(sk,
	    ethtool_msg(family, ETHTOOL_MSG_FEATURES_GET, NLM_F_DUMP, ETHTOOL_A_FEATURES_HEADER, 0,
			ETHTOOL_FLAG_COMPACT_BITSETS),
	    &c);

	c.kind = "features-named";
	c.n = 0;
	run(sk,
	    ethtool_msg(family, ETHTOOL_MSG_FEATURES_GET, NLM_F_DUMP, ETHTOOL_A_FEATURES_HEADER, 0,
			0),
	    &c);

	{
		/* rings, channels, coalesce, pause, EEE: each GET as a dump */
		static const struct {
			const char *kind;
			uint8_t cmd;
		} groups[] = {
			{ "rings", ETHTOOL_MSG_RINGS_GET },
			{ "channels", ETHTOOL_MSG_CHANNELS_GET },
			{ "coalesce", ETHTOOL_MSG_COALESCE_GET },
			{ "pause", ETHTOOL_MSG_PAUSE_GET },
			{ "eee", ETHTOOL_MSG_EEE_GET },
		};

		for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
			c.kind = groups[i].kind;
			c.n = 0;
			/* every group's header is its attribute 1 */
			run(sk,
			    ethtool_msg(family, groups[i].cmd, NLM_F_DUMP, 1, 0,
					ETHTOOL_FLAG_COMPACT_BITSETS),
			    &c);
		}
	}

	if (argc > 2) {
		/* Ask for gro on, compact, with a mask of that bit only: the kernel
		 * answers with a SET_REPLY whatever changed. */
		int ifindex = (int)if_nametoindex(argv[2]);
		uint32_t words[2] = { 0, 0 }, mask[2] = { 0, 0 };
		struct nlattr *bs;

		if (!ifindex) {
			fprintf(stderr, "capture-netlink: no interface '%s'\n", argv[2]);
			return 1;
		}
		/* NETIF_F_GRO_BIT is 14 on every kernel with the netlink family. */
		words[0] = mask[0] = 1u << 14;
		msg = ethtool_msg(family, ETHTOOL_MSG_FEATURES_SET, 0, ETHTOOL_A_FEATURES_HEADER,
				  ifindex, ETHTOOL_FLAG_COMPACT_BITSETS);
		bs = nla_nest_start(msg, ETHTOOL_A_FEATURES_WANTED);
		nla_put_u32(msg, ETHTOOL_A_BITSET_SIZE, 64);
		nla_put(msg, ETHTOOL_A_BITSET_VALUE, sizeof(words), words);
		nla_put(msg, ETHTOOL_A_BITSET_MASK, sizeof(mask), mask);
		nla_nest_end(msg, bs);
		c.kind = "features-set-reply";
		c.n = 0;
		run(sk, msg, &c);
	}

	if (nl_connect(rt, NETLINK_ROUTE) < 0) {
		fprintf(stderr, "capture-netlink: no rtnetlink\n");
		return 1;
	}
	nl_socket_set_msg_buf_size(rt, 1 << 16);
	msg = nlmsg_alloc_simple(RTM_GETLINK, NLM_F_DUMP);
	nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
	c.kind = "link";
	c.n = 0;
	run(rt, msg, &c);

	nl_socket_free(sk);
	nl_socket_free(rt);
	return 0;
}
