/* ethtool-netlink.h - the kernel's ethtool generic netlink family (5.6+) */
#pragma once

#include "backend/backend.h"

struct ethnl;

/* Connect and resolve the family; -EPROTONOSUPPORT when it is missing. */
int ethnl_open(struct ethnl **ret);
void ethnl_close(struct ethnl *e);
/* The kernel's extended ack text for the last request that failed (a read
 * or a set), or NULL when it said nothing. */
const char *ethnl_last_message(const struct ethnl *e);
/* ETHTOOL_MSG_STRSET_GET for ETH_SS_FEATURES. */
int ethnl_feature_names(struct ethnl *e, struct feature_names *ret);
/* ETHTOOL_MSG_FEATURES_GET: one dump for every interface (ifindex 0), or
 * one interface. */
int ethnl_features_get(struct ethnl *e, struct host_state *hs, int ifindex);
/* The same dump, adding every interface it names (index and name only) that
 * hs does not hold yet: for runs that need nothing from the link dump. */
int ethnl_features_dump_ifaces(struct ethnl *e, struct host_state *hs);
/* ETHTOOL_MSG_FEATURES_SET with compact bitsets; the reply fills ret. */
int ethnl_features_set(struct ethnl *e, const struct host_state *hs, const struct iface *ifc,
		       const struct featbits *mask, const struct featbits *values,
		       struct set_result *ret, char **ret_msg);

/* Parse an ETHTOOL_A_BITSET_* nest of count bits (compact or bit list);
 * names resolves bit names in list form.  Its ETHTOOL_A_BITSET_SIZE must
 * be count (the string set's), as ethtool checks: -EPROTO otherwise.
 * Exposed for the fuzzers. */
int ethnl_bitset_parse(const void *nest_attr, unsigned int count, const struct feature_names *names,
		       struct featbits *ret_value, struct featbits *ret_mask);

/* The reply parsers on one message given as bytes, as the kernel would send
 * it (the fuzzers; nlmsg_len is taken from len).  Each returns 0, -EINVAL
 * for a message too short or too long, or -EPROTO when nothing usable was
 * in it. */
int ethnl_strset_parse_msg(const void *buf, size_t len, struct feature_names *ret);
int ethnl_features_parse_msg(const void *buf, size_t len, struct host_state *hs);
int ethnl_set_reply_parse_msg(const void *buf, size_t len, const struct host_state *hs);
/* A FEATURES_NTF given as bytes, as watch's monitor reads it
 * (ethnl-internal.h's ethnl_features_ntf_parse()): unit tests, fuzzers. */
int ethnl_features_ntf_parse_msg(const void *buf, size_t len, const struct feature_names *names,
				 int *ret_ifindex, struct featbits *ret_active,
				 struct featbits *ret_wanted);
/* Replies of one feature dump, in order, into hs as
 * ethnl_features_dump_ifaces() builds it (interfaces added): unit tests. */
int ethnl_features_dump_parse_msgs(const void *const *bufs, const size_t *lens, size_t n,
				   struct host_state *hs);

/* ETHTOOL_MSG_{RINGS,CHANNELS,COALESCE,PAUSE,EEE}_GET: one dump for every
 * interface (ifindex 0), or one interface (-ENODEV when it did not answer:
 * gone, or the driver lacks the group).  Fills ifc->settings; a device the
 * dump leaves out is marked read and not supported. */
int ethnl_settings_get(struct ethnl *e, struct host_state *hs, enum setting_group g, int ifindex);
/* The group's SET with the parameters in mask (values indexed by
 * enum setting_param); the kernel's extended ack to *ret_msg. */
int ethnl_settings_set(struct ethnl *e, const struct iface *ifc, enum setting_group g,
		       uint64_t mask, const uint32_t *values, char **ret_msg);
/* One group's GET reply given as bytes, into hs (the fuzzers). */
int ethnl_settings_parse_msg(const void *buf, size_t len, enum setting_group g,
			     struct host_state *hs);
/* A RINGS_NTF ... EEE_NTF given as bytes, as watch's monitor reads it
 * (ethnl-internal.h's ethnl_settings_ntf_parse()): the fuzzers. */
int ethnl_settings_ntf_parse_msg(const void *buf, size_t len, enum setting_group *ret_group,
				 int *ret_ifindex, struct iface_settings *ret_values);
