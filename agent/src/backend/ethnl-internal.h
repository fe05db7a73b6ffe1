/* ethnl-internal.h - what the ethtool netlink files share, as ethtool's
 * netlink/netlink.h and msgbuff.h do: the socket and one request with its
 * extended ack, message building, the header policy, bitsets */
#pragma once

#include <linux/ethtool_netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <stdint.h>

#include "backend/ethtool-netlink.h"

struct ethnl {
	struct nl_sock *sk;
	int family;
	char *last_msg; /* the kernel's extended ack text of the last failed request */
};

/* Send msg (consumed) and process replies until the ack, the end of the
 * dump or an error; parse is called on each reply.  A failure's extended
 * ack text goes to *ret_msg (malloc'ed, may be NULL) when ret_msg is given,
 * and is kept as e->last_msg either way.  Returns 0 or a negative errno. */
int ethnl_request(struct ethnl *e, struct nl_msg *msg, int (*parse)(struct nl_msg *, void *),
		  void *arg, char **ret_msg);

/* A new request of the ethtool family: cmd with flags (NLM_F_DUMP). */
struct nl_msg *ethnl_msg(struct ethnl *e, uint8_t cmd, int flags);

/* The request header nest: the device (ifindex 0: every one) and flags. */
int ethnl_put_header(struct nl_msg *msg, int attr, int ifindex, uint32_t flags);

/* What the parsers rely on in a header: numbers of their size, strings
 * terminated (a malformed reply is skipped, never overread). */
extern struct nla_policy ethnl_header_policy[ETHTOOL_A_HEADER_MAX + 1];

/* A compact bitset nest of count bits: value under mask. */
int ethnl_put_bitset(struct nl_msg *msg, int attr, unsigned int count, const struct featbits *value,
		     const struct featbits *mask);

/* One reply message given as bytes, as nl_recvmsgs() would hand it to a
 * callback (the fuzzers and unit tests); NULL when too short or too long. */
struct nl_msg *ethnl_msg_from_bytes(const void *buf, size_t len);

/* An ETHTOOL_MSG_FEATURES_NTF (the monitor group): the device and its
 * active and wanted bits, parsed against names.  Returns 0, -ENOENT for
 * another message, -EPROTO for one that cannot be read (*ret_ifindex is
 * the device when the header could be read, else 0). */
int ethnl_features_ntf_parse(struct nl_msg *msg, const struct feature_names *names,
			     int *ret_ifindex, struct featbits *ret_active,
			     struct featbits *ret_wanted);

/* A RINGS_NTF, CHANNELS_NTF, COALESCE_NTF, PAUSE_NTF or EEE_NTF (the monitor
 * group): its group, device and the group's state (as a GET reply has it,
 * into *ret_values).  Returns 0, -ENOENT for another message, -EPROTO for
 * one that cannot be read whole (*ret_ifindex 0 when not even the header
 * could be). */
int ethnl_settings_ntf_parse(struct nl_msg *msg, enum setting_group *ret_group, int *ret_ifindex,
			     struct iface_settings *ret_values);
