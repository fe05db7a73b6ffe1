/* link.h - link facts from one rtnetlink dump */
#pragma once

#include <stdbool.h>

#include "model/iface.h"

struct nl_msg;

/* Dump every link (RTM_GETLINK) into hs: ifindex, name, kind, mac,
 * operstate, in the kernel's order.  Returns 0 or a negative errno
 * (-ENOMEM: the list would not be whole, and is no result). */
int link_dump(struct host_state *hs);

/* The dump's parser on one RTM_NEWLINK message given as bytes (the fuzzers;
 * nlmsg_len is taken from len).  Returns 0, or -EINVAL for a message too
 * short or too long, or -ENOMEM. */
int link_parse_msg(const void *buf, size_t len, struct host_state *hs);

/* The kernel module bound to the device behind ifname
 * (/sys/class/net/IF/device/driver/module), into buf; "" for a virtual
 * device.  The sysfs entry is used only when its ifindex is ifindex (so a
 * sysfs mounted for another network namespace never answers).  Returns 0,
 * -ENOENT (no device or no module) or a negative errno. */
int link_module(const char *ifname, int ifindex, char *buf, size_t len);

/* Fill each interface's master name from its master_ifindex, and its
 * master_kind from the master's kind where IFLA_INFO_SLAVE_KIND was not
 * sent (an Open vSwitch port says "openvswitch"; a netvsc VF says nothing). */
void link_resolve_masters(struct host_state *hs);

/* A link event (RTNLGRP_LINK): *ret_new for RTM_NEWLINK (the name in
 * *ret_name points into msg), false for RTM_DELLINK.  Returns 0, -ENOENT
 * for another message, -EPROTO for a malformed one. */
int link_event_parse(struct nl_msg *msg, bool *ret_new, int *ret_ifindex, const char **ret_name);
