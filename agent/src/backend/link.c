/* link.c - link facts from one rtnetlink dump (RTM_GETLINK, NLM_F_DUMP), and
 * link events (RTM_NEWLINK, RTM_DELLINK) read with the same policy */
#include <errno.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/link.h"
#include "backend/nlerr.h"

/* IF_OPER_* in order, as /sys/class/net/X/operstate spells them. */
static const char *const operstates[] = {
	"unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up",
};

/* What the parser relies on: strings terminated, numbers of their size (the
 * kernel always sends them so; a malformed message is skipped, not overread). */
static struct nla_policy link_policy[IFLA_MAX + 1] = {
	[IFLA_IFNAME] = { .type = NLA_STRING },	  [IFLA_OPERSTATE] = { .type = NLA_U8 },
	[IFLA_LINKINFO] = { .type = NLA_NESTED }, [IFLA_MASTER] = { .type = NLA_U32 },
	[IFLA_XDP] = { .type = NLA_NESTED },	  [IFLA_AF_SPEC] = { .type = NLA_NESTED },
};
static struct nla_policy linkinfo_policy[IFLA_INFO_MAX + 1] = {
	[IFLA_INFO_KIND] = { .type = NLA_STRING },
	[IFLA_INFO_SLAVE_KIND] = { .type = NLA_STRING },
};
static struct nla_policy xdp_policy[IFLA_XDP_MAX + 1] = {
	[IFLA_XDP_ATTACHED] = { .type = NLA_U8 },
};

/* XDP_ATTACHED_* as the facts spell them. */
static const char *const xdp_modes[] = { NULL, "native", "generic", "offload", "multi" };

/* The forwarding sysctl of the device from IFLA_AF_SPEC: AF_INET carries
 * IFLA_INET_CONF (u32 per IPV4_DEVCONF_*, from 1), AF_INET6 carries
 * IFLA_INET6_CONF (s32 per DEVCONF_*, from 0).  What the kernel sends here
 * is net.ipv4.conf.IF.forwarding and net.ipv6.conf.IF.forwarding of the
 * namespace the dump was made in, without reading /proc/sys. */
static void parse_af_spec(struct nlattr *spec, struct iface *ifc)
{
	struct nlattr *af;
	int rem;

	nla_for_each_nested(af, spec, rem) {
		int family = nla_type(af), crem;
		struct nlattr *c;

		if (family != AF_INET && family != AF_INET6)
			continue;
		nla_for_each_nested(c, af, crem) {
			if (family == AF_INET && nla_type(c) == IFLA_INET_CONF &&
			    nla_len(c) >= (int)(IPV4_DEVCONF_FORWARDING * sizeof(uint32_t))) {
				uint32_t v;

				memcpy(&v,
				       (const char *)nla_data(c) +
					       (IPV4_DEVCONF_FORWARDING - 1) * sizeof(uint32_t),
				       sizeof(v));
				ifc->forwarding[0] = v != 0;
			} else if (family == AF_INET6 && nla_type(c) == IFLA_INET6_CONF &&
				   nla_len(c) >=
					   (int)((DEVCONF_FORWARDING + 1) * sizeof(int32_t))) {
				int32_t v;

				memcpy(&v,
				       (const char *)nla_data(c) +
					       DEVCONF_FORWARDING * sizeof(int32_t),
				       sizeof(v));
				ifc->forwarding[1] = v != 0;
			}
		}
	}
}

struct link_ctx {
	struct host_state *hs;
	int error; /* -ENOMEM: the dump is not whole */
};

static int link_parse(struct nl_msg *msg, void *arg)
{
	struct link_ctx *ctx = arg;
	struct host_state *hs = ctx->hs;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct ifinfomsg *ifi = nlmsg_data(nlh);
	struct nlattr *tb[IFLA_MAX + 1];
	struct iface *ifc;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return NL_OK;
	if (nlmsg_parse(nlh, sizeof(*ifi), tb, IFLA_MAX, link_policy) < 0 || !tb[IFLA_IFNAME])
		return NL_OK;
	ifc = host_state_add(hs);
	if (!ifc) {
		/* a partial list is no success: a rule would miss interfaces */
		ctx->error = -ENOMEM;
		return NL_STOP;
	}
	ifc->ifindex = ifi->ifi_index;
	snprintf(ifc->name, sizeof(ifc->name), "%s", nla_get_string(tb[IFLA_IFNAME]));
	ifc->operstate = "unknown";
	ifc->forwarding[0] = ifc->forwarding[1] = -1;
	ifc->have_link_role = true;
	if (tb[IFLA_MASTER])
		ifc->master_ifindex = (int)nla_get_u32(tb[IFLA_MASTER]);
	if (tb[IFLA_XDP]) {
		struct nlattr *x[IFLA_XDP_MAX + 1];

		if (nla_parse_nested(x, IFLA_XDP_MAX, tb[IFLA_XDP], xdp_policy) == 0 &&
		    x[IFLA_XDP_ATTACHED]) {
			uint8_t mode = nla_get_u8(x[IFLA_XDP_ATTACHED]);

			if (mode < sizeof(xdp_modes) / sizeof(xdp_modes[0]))
				ifc->xdp = xdp_modes[mode];
		}
	}
	if (tb[IFLA_AF_SPEC])
		parse_af_spec(tb[IFLA_AF_SPEC], ifc);
	if (tb[IFLA_OPERSTATE]) {
		uint8_t st = nla_get_u8(tb[IFLA_OPERSTATE]);

		if (st < sizeof(operstates) / sizeof(operstates[0]))
			ifc->operstate = operstates[st];
	}
	if (tb[IFLA_ADDRESS]) {
		static const char hex[] = "0123456789abcdef";
		const unsigned char *a = nla_data(tb[IFLA_ADDRESS]);
		int len = nla_len(tb[IFLA_ADDRESS]);
		size_t off = 0;

		/* "%02x" joined by ':', as many bytes as fit (snprintf was a
		 * visible cost with thousands of interfaces). */
		for (int i = 0; i < len && off + 3 < sizeof(ifc->mac); i++) {
			if (i)
				ifc->mac[off++] = ':';
			ifc->mac[off++] = hex[a[i] >> 4];
			ifc->mac[off++] = hex[a[i] & 15];
		}
		ifc->mac[off] = '\0';
	}
	if (tb[IFLA_LINKINFO]) {
		struct nlattr *li[IFLA_INFO_MAX + 1];

		if (nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], linkinfo_policy) == 0) {
			if (li[IFLA_INFO_KIND])
				snprintf(ifc->kind, sizeof(ifc->kind), "%s",
					 nla_get_string(li[IFLA_INFO_KIND]));
			if (li[IFLA_INFO_SLAVE_KIND])
				snprintf(ifc->master_kind, sizeof(ifc->master_kind), "%s",
					 nla_get_string(li[IFLA_INFO_SLAVE_KIND]));
		}
	}
	return NL_OK;
}

int link_dump(struct host_state *hs)
{
	struct link_ctx ctx = { .hs = hs };
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_sock *sk;
	struct nl_msg *msg;
	int r;

	sk = nl_socket_alloc();
	if (!sk)
		return -ENOMEM;
	msg = nlmsg_alloc_simple(RTM_GETLINK, NLM_F_DUMP);
	if (!msg) {
		nl_socket_free(sk);
		return -ENOMEM;
	}
	/* Without the statistics the kernel has most of its dump work left
	 * out (per-CPU counters, IPv6 SNMP); older kernels ignore the bit. */
	r = nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
	if (r == 0)
		r = nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	if (r < 0)
		goto out;
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0)
		goto out;
	/* Bigger reads: fewer recvmsg calls for thousands of interfaces. */
	nl_socket_set_msg_buf_size(sk, 64 * 1024);
	nl_socket_disable_msg_peek(sk);
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, link_parse, &ctx);
	r = nl_send_auto(sk, msg);
	if (r < 0)
		goto out;
	r = nl_recvmsgs_default(sk);
out:
	nlmsg_free(msg);
	nl_socket_free(sk);
	if (ctx.error)
		return ctx.error;
	return r < 0 ? nlerr_to_errno(r) : 0;
}

int link_parse_msg(const void *buf, size_t len, struct host_state *hs)
{
	struct nlmsghdr *nlh;
	struct nl_msg *msg;

	/* As nl_recvmsgs() hands a message over: length checked, exact size. */
	if (len < NLMSG_HDRLEN || len > (1u << 20))
		return -EINVAL;
	nlh = malloc(len);
	if (!nlh)
		return -ENOMEM;
	memcpy(nlh, buf, len);
	nlh->nlmsg_len = (uint32_t)len;
	msg = nlmsg_convert(nlh);
	free(nlh);
	if (!msg)
		return -ENOMEM;
	{
		struct link_ctx ctx = { .hs = hs };

		link_parse(msg, &ctx);
		nlmsg_free(msg);
		return ctx.error;
	}
}

int link_event_parse(struct nl_msg *msg, bool *ret_new, int *ret_ifindex, const char **ret_name)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[IFLA_MAX + 1];
	struct ifinfomsg *ifi;

	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return -ENOENT;
	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return -EPROTO;
	ifi = nlmsg_data(nlh);
	*ret_new = nlh->nlmsg_type == RTM_NEWLINK;
	*ret_ifindex = ifi->ifi_index;
	*ret_name = NULL;
	if (!*ret_new)
		return 0;
	if (nlmsg_parse(nlh, sizeof(*ifi), tb, IFLA_MAX, link_policy) < 0 || !tb[IFLA_IFNAME])
		return -EPROTO;
	*ret_name = nla_get_string(tb[IFLA_IFNAME]);
	return 0;
}

int link_module(const char *ifname, int ifindex, char *buf, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX], idx[32];
	const char *base;
	ssize_t n;
	FILE *f;
	bool same;

	buf[0] = '\0';
	/* Names come from the kernel: no '/' and no "..", at most IFNAMSIZ. */
	snprintf(path, sizeof(path), "/sys/class/net/%s/device/driver/module", ifname);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	snprintf(path, sizeof(path), "/sys/class/net/%s/ifindex", ifname);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	same = fgets(idx, sizeof(idx), f) && atoi(idx) == ifindex;
	fclose(f);
	if (!same)
		return -ENODEV;
	base = strrchr(target, '/');
	snprintf(buf, len, "%s", base ? base + 1 : target);
	return 0;
}

void link_resolve_masters(struct host_state *hs)
{
	for (size_t i = 0; i < hs->n; i++) {
		struct iface *ifc = &hs->ifaces[i];
		const struct iface *m;

		if (!ifc->master_ifindex)
			continue;
		m = host_state_find_index(hs, ifc->master_ifindex);
		if (!m)
			continue;
		snprintf(ifc->master, sizeof(ifc->master), "%s", m->name);
		if (!ifc->master_kind[0])
			snprintf(ifc->master_kind, sizeof(ifc->master_kind), "%s", m->kind);
	}
}
