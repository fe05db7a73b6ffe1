/* test-netlink-dump.c - the feature dump read into a host state with the
 * interfaces added (check, apply and watch): in ifindex order, out of it,
 * with repeats, and on top of interfaces that were already there; and the
 * FEATURES_NTF that watch's monitor reads with the same parsers */
#include <errno.h>
#include <linux/ethtool_netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "backend/ethtool-netlink.h"
#include "model/iface.h"
#include "unit.h"

#define COUNT 40 /* feature bits: two u32 words */

static unsigned int bitset_size = COUNT; /* what the replies say they hold */

static void put_bits(struct nl_msg *msg, int attr, uint32_t w0, uint32_t w1)
{
	uint32_t v[2] = { w0, w1 };
	struct nlattr *nest = nla_nest_start(msg, attr);

	nla_put_u32(msg, ETHTOOL_A_BITSET_SIZE, bitset_size);
	nla_put(msg, ETHTOOL_A_BITSET_VALUE, sizeof(v), v);
	nla_put_flag(msg, ETHTOOL_A_BITSET_NOMASK);
	nla_nest_end(msg, nest);
}

/* One FEATURES_GET reply of a dump: ifindex, name, active = tag. */
static struct nl_msg *reply(int ifindex, const char *name, uint32_t tag)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct nlattr *hdr;

	genlmsg_put(msg, 0, 0, 30, 0, NLM_F_MULTI, ETHTOOL_MSG_FEATURES_GET_REPLY, 1);
	hdr = nla_nest_start(msg, ETHTOOL_A_FEATURES_HEADER);
	nla_put_u32(msg, ETHTOOL_A_HEADER_DEV_INDEX, (uint32_t)ifindex);
	nla_put_string(msg, ETHTOOL_A_HEADER_DEV_NAME, name);
	nla_nest_end(msg, hdr);
	put_bits(msg, ETHTOOL_A_FEATURES_HW, 0xffffffffu, 0xff);
	put_bits(msg, ETHTOOL_A_FEATURES_WANTED, tag, 0);
	put_bits(msg, ETHTOOL_A_FEATURES_ACTIVE, tag, 1);
	put_bits(msg, ETHTOOL_A_FEATURES_NOCHANGE, 0, 0);
	nla_put_u32(msg, ETHTOOL_A_FEATURES_MAX + 7, 0); /* unknown attributes are skipped */
	return msg;
}

/* A FEATURES_NTF (the monitor group) for ifindex: active = wanted = tag. */
static struct nl_msg *ntf(uint8_t cmd, int ifindex, uint32_t tag)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct nlattr *hdr;

	genlmsg_put(msg, 0, 0, 30, 0, 0, cmd, 1);
	hdr = nla_nest_start(msg, ETHTOOL_A_FEATURES_HEADER);
	nla_put_u32(msg, ETHTOOL_A_HEADER_DEV_INDEX, (uint32_t)ifindex);
	nla_nest_end(msg, hdr);
	put_bits(msg, ETHTOOL_A_FEATURES_HW, 0xffffffffu, 0xff);
	put_bits(msg, ETHTOOL_A_FEATURES_WANTED, tag, 0);
	put_bits(msg, ETHTOOL_A_FEATURES_ACTIVE, tag, 1);
	put_bits(msg, ETHTOOL_A_FEATURES_NOCHANGE, 0, 0);
	return msg;
}

static int parse_ntf(const struct host_state *hs, uint8_t cmd, int ifindex, uint32_t tag,
		     int *ret_ifindex, struct featbits *ret_active, struct featbits *ret_wanted)
{
	struct nl_msg *msg = ntf(cmd, ifindex, tag);
	int r = ethnl_features_ntf_parse_msg(nlmsg_hdr(msg), nlmsg_hdr(msg)->nlmsg_len, &hs->names,
					     ret_ifindex, ret_active, ret_wanted);

	nlmsg_free(msg);
	return r;
}

struct ifc_spec {
	int ifindex;
	const char *name;
	uint32_t tag;
};

static int dump(struct host_state *hs, const struct ifc_spec *v, size_t n)
{
	struct nl_msg *msgs[16];
	const void *bufs[16];
	size_t lens[16];
	int r;

	for (size_t i = 0; i < n; i++) {
		msgs[i] = reply(v[i].ifindex, v[i].name, v[i].tag);
		bufs[i] = nlmsg_hdr(msgs[i]);
		lens[i] = nlmsg_hdr(msgs[i])->nlmsg_len;
	}
	r = ethnl_features_dump_parse_msgs(bufs, lens, n, hs);
	for (size_t i = 0; i < n; i++)
		nlmsg_free(msgs[i]);
	return r;
}

static void host_init(struct host_state *hs)
{
	memset(hs, 0, sizeof(*hs));
	hs->names.count = COUNT;
	hs->names.names = calloc(COUNT, sizeof(char *));
	for (unsigned int i = 0; i < COUNT; i++)
		hs->names.names[i] = strdup("");
}

/* hs holds exactly the interfaces of want, each once, with its last tag. */
static int holds(struct host_state *hs, const struct ifc_spec *want, size_t n)
{
	if (hs->n != n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		struct iface *ifc = host_state_find_index(hs, want[i].ifindex);
		size_t copies = 0;

		for (size_t k = 0; k < hs->n; k++)
			copies += hs->ifaces[k].ifindex == want[i].ifindex;
		if (!ifc || copies != 1 || strcmp(ifc->name, want[i].name) != 0 ||
		    !ifc->have_features || ifc->active.w[0] != want[i].tag ||
		    ifc->wanted.w[0] != want[i].tag || ifc->active.w[1] != 1)
			return 0;
	}
	return 1;
}

int main(void)
{
	struct host_state hs;

	/* Rising order, as newer kernels dump. */
	{
		const struct ifc_spec d[] = { { 1, "lo", 0x11 },
					      { 2, "a", 0x22 },
					      { 5, "b", 0x55 } };

		host_init(&hs);
		CHECK(dump(&hs, d, 3) == 0);
		CHECK(holds(&hs, d, 3));
		CHECK(hs.ifaces[0].ifindex == 1 && hs.ifaces[2].ifindex == 5);
		host_state_free(&hs);
	}
	/* Falling order (older kernels: hash order), then a repeat. */
	{
		const struct ifc_spec d[] = {
			{ 5, "b", 0x5 }, { 2, "a", 0x2 }, { 1, "lo", 0x1 }, { 2, "a", 0x222 }
		};
		const struct ifc_spec want[] = { { 5, "b", 0x5 },
						 { 1, "lo", 0x1 },
						 { 2, "a", 0x222 } };

		host_init(&hs);
		CHECK(dump(&hs, d, 4) == 0);
		CHECK(holds(&hs, want, 3));
		host_state_free(&hs);
	}
	/* Rising, then an earlier one again (found, not added twice), then
	 * rising again. */
	{
		const struct ifc_spec d[] = { { 1, "lo", 0x1 }, { 2, "a", 0x2 }, { 5, "b", 0x5 },
					      { 2, "a", 0x20 }, { 9, "c", 0x9 }, { 7, "d", 0x7 },
					      { 9, "c", 0x90 } };
		const struct ifc_spec want[] = { { 1, "lo", 0x1 },
						 { 2, "a", 0x20 },
						 { 5, "b", 0x5 },
						 { 9, "c", 0x90 },
						 { 7, "d", 0x7 } };

		host_init(&hs);
		CHECK(dump(&hs, d, 7) == 0);
		CHECK(holds(&hs, want, 5));
		host_state_free(&hs);
	}
	/* On top of interfaces already there (a link dump, out of order): they
	 * are found, not added again; a new one is added. */
	{
		const struct ifc_spec d[] = { { 3, "x", 0x3 }, { 7, "y", 0x7 }, { 9, "z", 0x9 } };
		struct iface *ifc;

		host_init(&hs);
		ifc = host_state_add(&hs);
		ifc->ifindex = 7;
		snprintf(ifc->name, sizeof(ifc->name), "y");
		ifc = host_state_add(&hs);
		ifc->ifindex = 3;
		snprintf(ifc->name, sizeof(ifc->name), "x");
		CHECK(dump(&hs, d, 3) == 0);
		CHECK(holds(&hs, d, 3));
		CHECK(hs.ifaces[0].ifindex == 7 && hs.ifaces[1].ifindex == 3);
		host_state_free(&hs);
	}
	/* Many, rising: every one found afterwards. */
	{
		struct ifc_spec d[16];
		char names[16][8];

		for (int i = 0; i < 16; i++) {
			snprintf(names[i], sizeof(names[i]), "v%d", i);
			d[i] = (struct ifc_spec){ 10 + 3 * i, names[i], (uint32_t)i };
		}
		host_init(&hs);
		CHECK(dump(&hs, d, 16) == 0);
		CHECK(holds(&hs, d, 16));
		CHECK(host_state_find_index(&hs, 11) == NULL);
		host_state_free(&hs);
	}
	/* A bitset whose size is not the string set's count is refused, as
	 * ethtool refuses it: the interface's features stay unknown. */
	{
		const struct ifc_spec d[] = { { 4, "w", 0x4 } };

		host_init(&hs);
		bitset_size = COUNT - 8;
		CHECK(dump(&hs, d, 1) == -EPROTO);
		CHECK(hs.n == 1 && !hs.ifaces[0].have_features);
		bitset_size = COUNT + 1;
		CHECK(dump(&hs, d, 1) == -EPROTO);
		bitset_size = COUNT;
		CHECK(dump(&hs, d, 1) == 0 && holds(&hs, d, 1));
		host_state_free(&hs);
	}
	/* The monitor's FEATURES_NTF: device and bits, with the dump's checks;
	 * other messages of the group are not for it. */
	{
		struct featbits active, wanted;
		int ifindex = 0;

		host_init(&hs);
		CHECK(parse_ntf(&hs, ETHTOOL_MSG_FEATURES_NTF, 7, 0x70, &ifindex, &active,
				&wanted) == 0);
		CHECK(ifindex == 7 && active.w[0] == 0x70 && active.w[1] == 1 &&
		      wanted.w[0] == 0x70 && wanted.w[1] == 0);
		CHECK(parse_ntf(&hs, ETHTOOL_MSG_LINKINFO_NTF, 7, 0x70, &ifindex, &active,
				&wanted) == -ENOENT);
		bitset_size = COUNT + 3;
		CHECK(parse_ntf(&hs, ETHTOOL_MSG_FEATURES_NTF, 8, 0x80, &ifindex, &active,
				&wanted) == -EPROTO);
		CHECK(ifindex == 8); /* the device is known: watch looks at it again */
		bitset_size = COUNT;
		host_state_free(&hs);
	}
	return unit_done();
}
