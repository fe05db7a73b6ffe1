/* fuzz-netlink.c - libFuzzer target for the parsers of the kernel's replies
 *
 * The input is one netlink message as it arrives from the kernel (the seeds
 * in fuzz/corpus/netlink are real replies saved by capture-netlink).  Its
 * nlmsg_len is taken from the input's length, as nl_recvmsgs() checks it
 * before a callback sees the message.  Every parser the agent runs on a
 * reply gets it: the string set, the FEATURES_GET reply, the FEATURES_SET
 * reply, the RTM_NEWLINK dump, and ethtool_bitset_parse() on every
 * top-level attribute with two sizes, and the GET replies and notifications
 * of rings, channels, coalesce, pause and EEE.  Besides the sanitizers, the parsers'
 * promises are checked: no bit at or past the bitset size is ever set.
 */
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/attr.h>

#include "backend/ethtool-netlink.h"
#include "backend/link.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* ETH_SS_FEATURES of the kernel the seeds come from (6.18), by index. */
static const char *const kernel_names[] = {
	"tx-scatter-gather",
	"tx-checksum-ipv4",
	"",
	"tx-checksum-ip-generic",
	"tx-checksum-ipv6",
	"highdma",
	"tx-scatter-gather-fraglist",
	"tx-vlan-hw-insert",
	"rx-vlan-hw-parse",
	"rx-vlan-filter",
	"vlan-challenged",
	"tx-generic-segmentation",
	"",
	"",
	"rx-gro",
	"rx-lro",
	"tx-tcp-segmentation",
	"tx-gso-robust",
	"tx-tcp-ecn-segmentation",
	"tx-tcp-mangleid-segmentation",
	"tx-tcp6-segmentation",
	"tx-fcoe-segmentation",
	"tx-gre-segmentation",
	"tx-gre-csum-segmentation",
	"tx-ipxip4-segmentation",
	"tx-ipxip6-segmentation",
	"tx-udp_tnl-segmentation",
	"tx-udp_tnl-csum-segmentation",
	"tx-gso-partial",
	"tx-tunnel-remcsum-segmentation",
	"tx-sctp-segmentation",
	"tx-esp-segmentation",
	"",
	"tx-udp-segmentation",
	"tx-gso-list",
	"tx-tcp-accecn-segmentation",
	"tx-checksum-fcoe-crc",
	"tx-checksum-sctp",
	"rx-ntuple-filter",
	"rx-hashing",
	"rx-checksum",
	"tx-nocache-copy",
	"loopback",
	"rx-fcs",
	"rx-all",
	"tx-vlan-stag-hw-insert",
	"rx-vlan-stag-hw-parse",
	"rx-vlan-stag-filter",
	"l2-fwd-offload",
	"hw-tc-offload",
	"esp-hw-offload",
	"esp-tx-csum-hw-offload",
	"rx-udp_tunnel-port-offload",
	"tls-hw-tx-offload",
	"tls-hw-rx-offload",
	"rx-gro-hw",
	"tls-hw-record",
	"rx-gro-list",
	"macsec-hw-offload",
	"rx-udp-gro-forwarding",
	"hsr-tag-ins-offload",
	"hsr-tag-rm-offload",
	"hsr-fwd-offload",
	"hsr-dup-offload",
};
#define N_NAMES (sizeof(kernel_names) / sizeof(kernel_names[0]))
/* Interfaces 1..N_IFACES exist, so that captured replies find theirs. */
#define N_IFACES 16

static struct host_state hs;

/*
 * libnl is not instrumented, so ASan cannot see its getters read past a
 * short attribute.  These copies, in the fuzzer itself, take their place
 * (the executable's definitions win) and read through memcpy, which ASan
 * checks.
 */
uint8_t nla_get_u8(const struct nlattr *nla)
{
	uint8_t v;

	memcpy(&v, nla_data(nla), sizeof(v));
	return v;
}

uint16_t nla_get_u16(const struct nlattr *nla)
{
	uint16_t v;

	memcpy(&v, nla_data(nla), sizeof(v));
	return v;
}

uint32_t nla_get_u32(const struct nlattr *nla)
{
	uint32_t v;

	memcpy(&v, nla_data(nla), sizeof(v));
	return v;
}

static void check_bits(const struct featbits *b, unsigned int count)
{
	for (unsigned int i = count; i < FEAT_MAX_BITS; i++)
		if (featbits_test(b, i))
			abort();
}

static void setup(void)
{
	static char *names[N_NAMES];
	static struct iface ifaces[N_IFACES];

	for (size_t i = 0; i < N_NAMES; i++)
		names[i] = (char *)kernel_names[i];
	hs.names.names = names;
	hs.names.count = N_NAMES;
	hs.ifaces = ifaces;
	hs.n = hs.cap = N_IFACES;
}

static void fuzz_features(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < N_IFACES; i++) {
		memset(&hs.ifaces[i], 0, sizeof(hs.ifaces[i]));
		hs.ifaces[i].ifindex = (int)i + 1;
	}
	ethnl_features_parse_msg(data, size, &hs);
	for (size_t i = 0; i < N_IFACES; i++) {
		const struct iface *ifc = &hs.ifaces[i];

		if (!ifc->have_features)
			continue;
		check_bits(&ifc->hw, N_NAMES);
		check_bits(&ifc->wanted, N_NAMES);
		check_bits(&ifc->active, N_NAMES);
		check_bits(&ifc->nochange, N_NAMES);
	}
	ethnl_set_reply_parse_msg(data, size, &hs);
}

static void fuzz_strset(const uint8_t *data, size_t size)
{
	struct feature_names fn;

	if (ethnl_strset_parse_msg(data, size, &fn) < 0)
		return;
	if (fn.count > FEAT_MAX_BITS)
		abort();
	for (unsigned int i = 0; i < fn.count; i++)
		if (!fn.names[i])
			abort();
	feature_names_free(&fn);
}

static void fuzz_link(const uint8_t *data, size_t size)
{
	struct host_state links = { 0 };

	link_parse_msg(data, size, &links);
	for (size_t i = 0; i < links.n; i++) {
		const struct iface *ifc = &links.ifaces[i];

		if (!memchr(ifc->name, 0, sizeof(ifc->name)) ||
		    !memchr(ifc->kind, 0, sizeof(ifc->kind)) ||
		    !memchr(ifc->mac, 0, sizeof(ifc->mac)) || !ifc->operstate)
			abort();
	}
	host_state_free(&links);
}

/* ethnl_bitset_parse() on every attribute after the generic netlink header,
 * each copied to a buffer of its own size so that an overread shows. */
static void fuzz_bitsets(const uint8_t *data, size_t size)
{
	size_t off = NLMSG_HDRLEN + GENL_HDRLEN;

	while (off + NLA_HDRLEN <= size) {
		struct nlattr a;
		size_t len;
		void *copy;

		memcpy(&a, data + off, sizeof(a));
		len = a.nla_len;
		if (len < NLA_HDRLEN || len > size - off)
			break;
		copy = malloc(len);
		if (!copy)
			return;
		memcpy(copy, data + off, len);
		for (unsigned int k = 0; k < 2; k++) {
			unsigned int count = k ? FEAT_MAX_BITS : N_NAMES;
			struct featbits value, mask;

			if (ethnl_bitset_parse(copy, count, &hs.names, &value, &mask) == 0) {
				check_bits(&value, count);
				check_bits(&mask, count);
			}
		}
		free(copy);
		off += NLA_ALIGN(len);
	}
}

/* The monitor's FEATURES_NTF parser (watch): the same checks as the dump. */
static void fuzz_ntf(const uint8_t *data, size_t size)
{
	struct featbits active, wanted;
	int ifindex;

	if (ethnl_features_ntf_parse_msg(data, size, &hs.names, &ifindex, &active, &wanted) == 0) {
		check_bits(&active, N_NAMES);
		check_bits(&wanted, N_NAMES);
	}
}

/* The GET replies of rings, channels, coalesce, pause and EEE, and their
 * notifications: parameters only of the group parsed, maxima only where a
 * value is, booleans 0 or 1. */
static void fuzz_settings(const uint8_t *data, size_t size)
{
	for (int g = 0; g < SG_MAX; g++) {
		uint64_t gm = setting_group_mask((enum setting_group)g);
		enum setting_group ng;
		int ifindex;

		for (size_t i = 0; i < N_IFACES; i++) {
			memset(&hs.ifaces[i].settings, 0, sizeof(hs.ifaces[i].settings));
			hs.ifaces[i].ifindex = (int)i + 1;
		}
		ethnl_settings_parse_msg(data, size, (enum setting_group)g, &hs);
		for (size_t i = 0; i < N_IFACES; i++) {
			const struct iface_settings *s = &hs.ifaces[i].settings;

			if ((s->present & ~gm) || (s->has_max & ~s->present))
				abort();
			for (unsigned int p = 0; p < SP_MAX; p++)
				if ((s->present & setting_bit(p)) &&
				    setting_defs[p].type == ST_BOOL && s->value[p] > 1)
					abort();
		}
		{
			struct iface_settings ns;

			if (ethnl_settings_ntf_parse_msg(data, size, &ng, &ifindex, &ns) == 0 &&
			    ((unsigned int)ng >= SG_MAX || (ns.present & ~setting_group_mask(ng)) ||
			     (ns.has_max & ~ns.present)))
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!hs.names.names)
		setup();
	fuzz_strset(data, size);
	fuzz_features(data, size);
	fuzz_link(data, size);
	fuzz_bitsets(data, size);
	fuzz_ntf(data, size);
	fuzz_settings(data, size);
	return 0;
}
