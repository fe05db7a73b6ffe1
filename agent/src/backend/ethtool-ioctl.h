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
