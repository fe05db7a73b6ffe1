/* features.c - kernel feature names, ethtool's legacy offload names */
#include <stdlib.h>
#include <string.h>

#include "model/features.h"

/* ethtool common.c off_flag_def, in ethtool's order (the order of -k). */
const struct offload_def offload_defs[] = {
	{ "rx", "rx-checksumming", "rx-checksum" },
	{ "tx", "tx-checksumming", "tx-checksum-*" },
	{ "sg", "scatter-gather", "tx-scatter-gather*" },
	{ "tso", "tcp-segmentation-offload", "tx-tcp*-segmentation" },
	{ "ufo", "udp-fragmentation-offload", "tx-udp-fragmentation" },
	{ "gso", "generic-segmentation-offload", "tx-generic-segmentation" },
	{ "gro", "generic-receive-offload", "rx-gro" },
	{ "lro", "large-receive-offload", "rx-lro" },
	{ "rxvlan", "rx-vlan-offload", "rx-vlan-hw-parse" },
	{ "txvlan", "tx-vlan-offload", "tx-vlan-hw-insert" },
	{ "ntuple", "ntuple-filters", "rx-ntuple-filter" },
	{ "rxhash", "receive-hashing", "rx-hashing" },
};
const size_t n_offload_defs = sizeof(offload_defs) / sizeof(offload_defs[0]);

/* Kernel feature names (netdev_features_strings) from 4.x to 6.18, so that
 * `validate` can tell a typo from a feature without asking the kernel. */
const char *const kernel_feature_names[] = {
	"tx-scatter-gather",
	"tx-checksum-ipv4",
	"tx-checksum-ip-generic",
	"tx-checksum-ipv6",
	"highdma",
	"tx-scatter-gather-fraglist",
	"tx-vlan-hw-insert",
	"rx-vlan-hw-parse",
	"rx-vlan-filter",
	"vlan-challenged",
	"tx-generic-segmentation",
	"tx-lockless",
	"netns-local",
	"rx-gro",
	"rx-lro",
	"tx-tcp-segmentation",
	"tx-udp-fragmentation",
	"tx-gso-robust",
	"tx-tcp-ecn-segmentation",
	"tx-tcp-mangleid-segmentation",
	"tx-tcp6-segmentation",
	"tx-tcp-accecn-segmentation",
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
	"tx-udp-segmentation",
	"tx-gso-list",
	"tx-checksum-fcoe-crc",
	"tx-checksum-sctp",
	"fcoe-mtu",
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
	"busy-poll",
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
const size_t n_kernel_feature_names =
	sizeof(kernel_feature_names) / sizeof(kernel_feature_names[0]);

int feature_names_index(const struct feature_names *fn, const char *name)
{
	for (unsigned int i = 0; i < fn->count; i++)
		if (fn->names[i][0] && strcmp(fn->names[i], name) == 0)
			return (int)i;
	return -1;
}

void feature_names_free(struct feature_names *fn)
{
	for (unsigned int i = 0; i < fn->count; i++)
		free(fn->names[i]);
	free(fn->names);
	fn->names = NULL;
	fn->count = 0;
}

int offload_def_lookup(const char *name)
{
	for (size_t i = 0; i < n_offload_defs; i++)
		if (strcmp(name, offload_defs[i].short_name) == 0 ||
		    strcmp(name, offload_defs[i].long_name) == 0)
			return (int)i;
	return -1;
}

bool feature_pattern_match(const char *name, const char *pattern)
{
	const char *star = strchr(pattern, '*');
	size_t plen, nlen, slen;

	if (!star)
		return strcmp(name, pattern) == 0;
	plen = (size_t)(star - pattern);
	slen = strlen(star + 1);
	nlen = strlen(name);
	return nlen >= plen + slen && strncmp(name, pattern, plen) == 0 &&
	       strcmp(name + nlen - slen, star + 1) == 0;
}

enum feature_name_kind feature_name_expand(const struct feature_names *fn, const char *name,
					   struct featbits *ret_bits)
{
	int d = offload_def_lookup(name);
	int idx;

	memset(ret_bits, 0, sizeof(*ret_bits));
	if (d >= 0) {
		for (unsigned int i = 0; i < fn->count; i++)
			if (fn->names[i][0] &&
			    feature_pattern_match(fn->names[i], offload_defs[d].kernel_pattern))
				featbits_set(ret_bits, i, true);
		return FEATURE_NAME_LEGACY;
	}
	idx = feature_names_index(fn, name);
	if (idx < 0)
		return FEATURE_NAME_UNKNOWN;
	featbits_set(ret_bits, (unsigned int)idx, true);
	return FEATURE_NAME_KERNEL;
}

bool feature_name_known_static(const char *name)
{
	if (offload_def_lookup(name) >= 0)
		return true;
	for (size_t i = 0; i < n_kernel_feature_names; i++)
		if (strcmp(name, kernel_feature_names[i]) == 0)
			return true;
	return false;
}

unsigned int edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned int row[64];

	if (la >= 63 || lb >= 63)
		return 1000;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned int)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned int prev = row[0];

		row[0] = (unsigned int)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned int cur = row[j];
			unsigned int best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

static void consider(const char *cand, const char *name, const char **best, unsigned int *best_d)
{
	unsigned int d;

	if (!cand || !cand[0])
		return;
	d = edit_distance(cand, name);
	if (d < *best_d) {
		*best_d = d;
		*best = cand;
	}
}

const char *feature_name_suggest(const struct feature_names *fn, const char *name)
{
	const char *best = NULL;
	unsigned int best_d = 1000;
	size_t len = strlen(name);

	for (size_t i = 0; i < n_offload_defs; i++) {
		consider(offload_defs[i].short_name, name, &best, &best_d);
		consider(offload_defs[i].long_name, name, &best, &best_d);
	}
	if (fn)
		for (unsigned int i = 0; i < fn->count; i++)
			consider(fn->names[i], name, &best, &best_d);
	else
		for (size_t i = 0; i < n_kernel_feature_names; i++)
			consider(kernel_feature_names[i], name, &best, &best_d);
	/* Only a plausible typo: at most a third of the name differs. */
	if (!best || best_d > 4 || best_d * 3 > len + 3)
		return NULL;
	return best;
}
