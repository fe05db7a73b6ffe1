/* backend.h - how features are read from and written to the kernel:
 * the ethtool generic netlink family, or the SIOCETHTOOL ioctl before 5.6 */
#pragma once

#include "model/iface.h"

/* What the kernel did with a set request (ETHTOOL_MSG_FEATURES_SET_REPLY). */
struct set_result {
	struct featbits refused;     /* requested bits whose active state is not as asked */
	struct featbits active_mask; /* bits whose active state changed (side effects too) */
	struct featbits active_new;  /* ... and their new values */
	struct featbits wanted_new;  /* the wanted set after the request */
};

enum backend_kind {
	BACKEND_NETLINK,
	BACKEND_IOCTL
};

struct backend;

/* Open "netlink", "ioctl" or "auto" (netlink, ioctl when the ethtool family
 * is missing).  Returns 0, -EPROTONOSUPPORT for a missing family when
 * netlink was asked for, or another negative errno. */
int backend_open(const char *which, struct backend **ret);
enum backend_kind backend_kind(const struct backend *b);
const char *backend_name(const struct backend *b);
void backend_close(struct backend *b);
/* What the kernel said about the last request that failed (netlink's
 * extended ack), or NULL: for "kernel reports: ..." after an error. */
const char *backend_last_message(const struct backend *b);

/*
 * Read the whole host state: links (one rtnetlink dump), the feature string
 * set (once), every interface's features (one dump with netlink) and drivers.
 * Returns 0 or a negative errno.
 */
int backend_read_host(struct backend *b, struct host_state *hs);

/*
 * As backend_read_host(), for runs whose rules match on nothing but names:
 * the interfaces come from the feature dump itself (index and name), with no
 * link dump and no driver ioctl, so kind, mac and driver stay unknown ("")
 * and operstate "unknown".  About half the cost with thousands of veths.
 * With the ioctl backend it is backend_read_host().
 */
int backend_read_host_features(struct backend *b, struct host_state *hs);

/*
 * Ask the kernel to set the bits in mask to values on ifc.  On success
 * fills ret (from the kernel's reply) and updates ifc's wanted/active state.
 * On failure returns a negative errno and, when the kernel said why, a
 * message in *ret_msg (malloc'ed, may be NULL).
 */
int backend_set_features(struct backend *b, struct host_state *hs, struct iface *ifc,
			 const struct featbits *mask, const struct featbits *values,
			 struct set_result *ret, char **ret_msg);

/* Re-read one interface's features (verification, rollback). */
int backend_refresh_iface(struct backend *b, struct host_state *hs, struct iface *ifc);

/*
 * Read the groups in mask (bit per enum setting_group) of every interface
 * in hs: one dump per group with netlink, one ioctl per interface and group
 * otherwise (and where the kernel's family lacks the group's messages).
 * A driver without a group leaves it null.  Returns 0 or a negative errno.
 */
int backend_read_settings(struct backend *b, struct host_state *hs, unsigned int groups);

/* Set the parameters in mask of group g on ifc to values (indexed by enum
 * setting_param), then read the group back into ifc->settings (what the
 * driver took).  On failure a negative errno and, when the kernel said
 * why, a message in *ret_msg (malloc'ed, may be NULL). */
int backend_set_settings(struct backend *b, struct host_state *hs, struct iface *ifc,
			 enum setting_group g, uint64_t mask, const uint32_t *values,
			 char **ret_msg);

/* Re-read one group of one interface (verification, rollback). */
int backend_refresh_settings(struct backend *b, struct host_state *hs, struct iface *ifc,
			     enum setting_group g);
