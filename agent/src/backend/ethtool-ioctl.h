/* ethtool-ioctl.h - SIOCETHTOOL: kernels without the ethtool netlink family */
#pragma once

#include "backend/backend.h"

/* A socket for SIOCETHTOOL in the current network namespace. */
int ethioc_open(void);
/* ETHTOOL_GDRVINFO: the driver name as `ethtool -i` prints it. */
int ethioc_driver(int fd, const char *ifname, char *buf, size_t len);
/* ETHTOOL_GSSET_INFO + ETHTOOL_GSTRINGS for ETH_SS_FEATURES, asked of ifname. */
int ethioc_feature_names(int fd, const char *ifname, struct feature_names *ret);
/* ETHTOOL_GFEATURES into ifc. */
int ethioc_features_get(int fd, unsigned int count, struct iface *ifc);
/* ETHTOOL_SFEATURES; ret is computed from a fresh ETHTOOL_GFEATURES. */
int ethioc_features_set(int fd, unsigned int count, struct iface *ifc, const struct featbits *mask,
			const struct featbits *values, struct set_result *ret);
/* ETHTOOL_GRINGPARAM, GCHANNELS, GCOALESCE, GPAUSEPARAM or GEEE into
 * ifc->settings: the group marked read, and supported unless the driver
 * answers EOPNOTSUPP (then 0 is returned: null, not an error). */
int ethioc_settings_get(int fd, struct iface *ifc, enum setting_group g);
/* The group's S* ioctl: what the kernel holds, with the parameters in mask
 * replaced by values (indexed by enum setting_param). */
int ethioc_settings_set(int fd, const struct iface *ifc, enum setting_group g, uint64_t mask,
			const uint32_t *values);
