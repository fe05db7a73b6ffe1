/* ethtool-netlink.c - the kernel's ethtool generic netlink family (5.6+)
 *
 * One socket; the feature string set is asked once, FEATURES_GET is one dump
 * with compact bitsets, FEATURES_SET sends only the bits that differ and
 * reads the kernel's reply.  Extended ack messages reach the user verbatim.
 */
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/ethtool_netlink.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "backend/ethtool-netlink.h"
#include "backend/nlerr.h"
#include "lib/log.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED 0x100
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS 0x200
#endif

struct ethnl {
	struct nl_sock *sk;
	int family;
};

/* State of one request: done, the kernel's error and its message. */
struct request {
	int done;
	int error;
	char *msg;
	int (*parse)(struct nl_msg *msg, void *arg);
	void *arg;
};

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *err, void *arg)
{
	struct request *req = arg;
	struct nlmsghdr *outer = (struct nlmsghdr *)((char *)err - NLMSG_HDRLEN);
	const char *tlvs;
	int tlv_len;

	(void)nla;
	req->error = err->error;
	req->done = 1;
	if (!(outer->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	if (outer->nlmsg_flags & NLM_F_CAPPED)
		tlvs = (const char *)err + sizeof(*err);
	else
		tlvs = (const char *)&err->msg + NLMSG_ALIGN(err->msg.nlmsg_len);
	tlv_len = (int)outer->nlmsg_len - (int)(tlvs - (const char *)outer);
	if (tlv_len > 0) {
		struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];

		if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)tlvs, tlv_len, NULL) == 0 &&
		    tb[NLMSGERR_ATTR_MSG]) {
			free(req->msg);
			req->msg = strndup(nla_data(tb[NLMSGERR_ATTR_MSG]),
					   (size_t)nla_len(tb[NLMSGERR_ATTR_MSG]));
		}
	}
	return NL_STOP;
}

static int on_finish(struct nl_msg *msg, void *arg)
{
	struct request *req = arg;

	(void)msg;
	req->done = 1;
	return NL_STOP;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct request *req = arg;

	return req->parse ? req->parse(msg, req->arg) : NL_OK;
}

/* Send msg (consumed) and process replies until the ack, the end of the
 * dump or an error.  Returns 0 or the kernel's negative errno. */
static int ethnl_request(struct ethnl *e, struct nl_msg *msg, int (*parse)(struct nl_msg *, void *),
			 void *arg, char **ret_msg)
{
	struct request req = { .parse = parse, .arg = arg };
	struct nl_cb *cb;
	int r;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &req);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, &req);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_finish, &req);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &req);

	r = nl_send_auto(e->sk, msg);
	nlmsg_free(msg);
	if (r < 0) {
		nl_cb_put(cb);
		return nlerr_to_errno(r);
	}
	while (!req.done) {
		r = nl_recvmsgs(e->sk, cb);
		if (r < 0 && !req.error) {
			req.error = nlerr_to_errno(r);
			break;
		}
	}
	nl_cb_put(cb);
	if (req.error && ret_msg)
		*ret_msg = req.msg;
	else
		free(req.msg);
	return req.error;
}

int ethnl_open(struct ethnl **ret)
{
	struct ethnl *e = calloc(1, sizeof(*e));
	int one = 1, r;

	if (!e)
		return -ENOMEM;
	e->sk = nl_socket_alloc();
	if (!e->sk) {
		free(e);
		return -ENOMEM;
	}
	r = genl_connect(e->sk);
	if (r < 0) {
		r = nlerr_to_errno(r);
		goto fail;
	}
	/* Big dumps: a larger receive buffer means fewer recvmsg calls. */
	nl_socket_set_buffer_size(e->sk, 1 << 20, 1 << 16);
	nl_socket_set_msg_buf_size(e->sk, 1 << 16);
	/* The kernel's dump batches fit in that buffer: one recvmsg each, not
	 * a peek first. */
	nl_socket_disable_msg_peek(e->sk);
	setsockopt(nl_socket_get_fd(e->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	e->family = genl_ctrl_resolve(e->sk, ETHTOOL_GENL_NAME);
	if (e->family < 0) {
		r = -EPROTONOSUPPORT;
		goto fail;
	}
	*ret = e;
	return 0;
fail:
	nl_socket_free(e->sk);
	free(e);
	return r;
}

void ethnl_close(struct ethnl *e)
{
	if (!e)
		return;
	nl_socket_free(e->sk);
	free(e);
}

static struct nl_msg *ethnl_msg(struct ethnl *e, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, e->family, 0, flags, cmd,
			 ETHTOOL_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static int put_header(struct nl_msg *msg, int attr, int ifindex, uint32_t flags)
{
	struct nlattr *nest = nla_nest_start(msg, attr);

	if (!nest)
		return -ENOMEM;
	if (ifindex > 0 && nla_put_u32(msg, ETHTOOL_A_HEADER_DEV_INDEX, (uint32_t)ifindex) < 0)
		return -ENOMEM;
	/* Always put the flags: libnl drops an empty nest, and the kernel wants the header. */
	if (nla_put_u32(msg, ETHTOOL_A_HEADER_FLAGS, flags) < 0)
		return -ENOMEM;
	nla_nest_end(msg, nest);
	return 0;
}

/* What the parsers rely on: numbers of their size, strings terminated (the
 * kernel sends them so; a malformed reply is skipped, never overread). */
static struct nla_policy header_policy[ETHTOOL_A_HEADER_MAX + 1] = {
	[ETHTOOL_A_HEADER_DEV_INDEX] = { .type = NLA_U32 },
	[ETHTOOL_A_HEADER_DEV_NAME] = { .type = NLA_STRING },
};
static struct nla_policy stringset_policy[ETHTOOL_A_STRINGSET_MAX + 1] = {
	[ETHTOOL_A_STRINGSET_ID] = { .type = NLA_U32 },
	[ETHTOOL_A_STRINGSET_COUNT] = { .type = NLA_U32 },
};
static struct nla_policy string_policy[ETHTOOL_A_STRING_MAX + 1] = {
	[ETHTOOL_A_STRING_INDEX] = { .type = NLA_U32 },
};
static struct nla_policy bit_policy[ETHTOOL_A_BITSET_BIT_MAX + 1] = {
	[ETHTOOL_A_BITSET_BIT_INDEX] = { .type = NLA_U32 },
	[ETHTOOL_A_BITSET_BIT_NAME] = { .type = NLA_STRING },
};

/* --- string set --- */

static int strset_store(struct feature_names *fn, struct nlattr *strings, unsigned int count)
{
	struct nlattr *s;
	int rem;

	fn->names = calloc(count ? count : 1, sizeof(char *));
	if (!fn->names)
		return -ENOMEM;
	fn->count = count;
	nla_for_each_nested(s, strings, rem) {
		struct nlattr *tb[ETHTOOL_A_STRING_MAX + 1];
		uint32_t idx;

		if (nla_type(s) != ETHTOOL_A_STRINGS_STRING)
			continue;
		if (nla_parse_nested(tb, ETHTOOL_A_STRING_MAX, s, string_policy) < 0 ||
		    !tb[ETHTOOL_A_STRING_INDEX] || !tb[ETHTOOL_A_STRING_VALUE])
			continue;
		idx = nla_get_u32(tb[ETHTOOL_A_STRING_INDEX]);
		if (idx >= count || fn->names[idx])
			continue;
		fn->names[idx] = strndup(nla_data(tb[ETHTOOL_A_STRING_VALUE]),
					 (size_t)nla_len(tb[ETHTOOL_A_STRING_VALUE]));
		if (!fn->names[idx])
			return -ENOMEM;
	}
	for (unsigned int i = 0; i < count; i++)
		if (!fn->names[i] && !(fn->names[i] = strdup("")))
			return -ENOMEM;
	return 0;
}

static int strset_parse(struct nl_msg *msg, void *arg)
{
	struct feature_names *fn = arg;
	struct nlattr *tb[ETHTOOL_A_STRSET_MAX + 1];
	struct nlattr *set;
	int rem;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, ETHTOOL_A_STRSET_MAX, NULL) < 0 ||
	    !tb[ETHTOOL_A_STRSET_STRINGSETS])
		return NL_OK;
	nla_for_each_nested(set, tb[ETHTOOL_A_STRSET_STRINGSETS], rem) {
		struct nlattr *st[ETHTOOL_A_STRINGSET_MAX + 1];
		unsigned int count;

		if (nla_parse_nested(st, ETHTOOL_A_STRINGSET_MAX, set, stringset_policy) < 0 ||
		    !st[ETHTOOL_A_STRINGSET_ID] || !st[ETHTOOL_A_STRINGSET_COUNT] ||
		    nla_get_u32(st[ETHTOOL_A_STRINGSET_ID]) != ETH_SS_FEATURES)
			continue;
		count = nla_get_u32(st[ETHTOOL_A_STRINGSET_COUNT]);
		if (count > FEAT_MAX_BITS || fn->names)
			continue;
		if (!st[ETHTOOL_A_STRINGSET_STRINGS])
			continue;
		if (strset_store(fn, st[ETHTOOL_A_STRINGSET_STRINGS], count) < 0) {
			feature_names_free(fn); /* never half a table with NULL names */
			return NL_STOP;
		}
	}
	return NL_OK;
}

int ethnl_feature_names(struct ethnl *e, struct feature_names *ret)
{
	struct feature_names fn = { 0 };
	struct nl_msg *msg = ethnl_msg(e, ETHTOOL_MSG_STRSET_GET, 0);
	struct nlattr *sets, *set;
	int r;

	if (!msg)
		return -ENOMEM;
	if (put_header(msg, ETHTOOL_A_STRSET_HEADER, 0, 0) < 0 ||
	    !(sets = nla_nest_start(msg, ETHTOOL_A_STRSET_STRINGSETS)) ||
	    !(set = nla_nest_start(msg, ETHTOOL_A_STRINGSETS_STRINGSET)) ||
	    nla_put_u32(msg, ETHTOOL_A_STRINGSET_ID, ETH_SS_FEATURES) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nla_nest_end(msg, set);
	nla_nest_end(msg, sets);
	r = ethnl_request(e, msg, strset_parse, &fn, NULL);
	if (r == 0 && !fn.names)
		r = -EPROTO;
	if (r < 0) {
		feature_names_free(&fn);
		return r;
	}
	*ret = fn;
	return 0;
}

/* --- bitsets --- */

int ethnl_bitset_parse(const void *nest_attr, unsigned int count, const struct feature_names *names,
		       struct featbits *ret_value, struct featbits *ret_mask)
{
	struct nlattr *nest = (struct nlattr *)nest_attr;
	struct nlattr *tb[ETHTOOL_A_BITSET_MAX + 1];
	struct featbits value = { 0 }, mask = { 0 };
	bool nomask;

	if (nla_parse_nested(tb, ETHTOOL_A_BITSET_MAX, nest, NULL) < 0)
		return -EPROTO;
	nomask = tb[ETHTOOL_A_BITSET_NOMASK] != NULL;
	if (tb[ETHTOOL_A_BITSET_VALUE]) {
		/* Compact: u32 words in host order. */
		int vlen = nla_len(tb[ETHTOOL_A_BITSET_VALUE]);
		size_t words = (count + 31) / 32;
		size_t bytes = words * 4;

		if (words > FEAT_WORDS || (size_t)vlen < bytes)
			return -EPROTO;
		memcpy(value.w, nla_data(tb[ETHTOOL_A_BITSET_VALUE]), bytes);
		if (tb[ETHTOOL_A_BITSET_MASK]) {
			if ((size_t)nla_len(tb[ETHTOOL_A_BITSET_MASK]) < bytes)
				return -EPROTO;
			memcpy(mask.w, nla_data(tb[ETHTOOL_A_BITSET_MASK]), bytes);
		}
		/* Clear bits past count. */
		for (unsigned int i = count; i < words * 32; i++) {
			featbits_set(&value, i, false);
			featbits_set(&mask, i, false);
		}
	} else if (tb[ETHTOOL_A_BITSET_BITS]) {
		struct nlattr *bit;
		int rem;

		nla_for_each_nested(bit, tb[ETHTOOL_A_BITSET_BITS], rem) {
			struct nlattr *bt[ETHTOOL_A_BITSET_BIT_MAX + 1];
			int idx = -1;

			if (nla_type(bit) != ETHTOOL_A_BITSET_BITS_BIT ||
			    nla_parse_nested(bt, ETHTOOL_A_BITSET_BIT_MAX, bit, bit_policy) < 0)
				return -EPROTO;
			if (bt[ETHTOOL_A_BITSET_BIT_INDEX])
				idx = (int)nla_get_u32(bt[ETHTOOL_A_BITSET_BIT_INDEX]);
			else if (bt[ETHTOOL_A_BITSET_BIT_NAME] && names)
				idx = feature_names_index(
					names, nla_get_string(bt[ETHTOOL_A_BITSET_BIT_NAME]));
			if (idx < 0 || (unsigned int)idx >= count)
				return -EPROTO;
			featbits_set(&mask, (unsigned int)idx, true);
			featbits_set(&value, (unsigned int)idx,
				     nomask || bt[ETHTOOL_A_BITSET_BIT_VALUE] != NULL);
		}
	}
	*ret_value = value;
	if (ret_mask)
		*ret_mask = mask;
	return 0;
}

/* --- features --- */

struct features_ctx {
	struct host_state *hs;
	bool add; /* add the interfaces the link dump did not (or was not asked to) */
	/* Every interface in hs came from this dump, in rising ifindex order
	 * (newer kernels dump so): an ifindex above the last one is
	 * not there, and is not searched for.  Without it, building hs from
	 * the dump alone (check, apply, watch) searched the whole array for
	 * each new interface: 56 % of `check` at 10,000 interfaces. */
	bool ordered;
	int error;
};

/* hs's entry for ifindex, or NULL; what host_state_find_index() answers. */
static struct iface *features_find(struct features_ctx *ctx, int ifindex)
{
	struct host_state *hs = ctx->hs;

	if (ctx->ordered && (hs->n == 0 || hs->ifaces[hs->n - 1].ifindex < ifindex))
		return NULL;
	return host_state_find_index(hs, ifindex);
}

static int features_parse(struct nl_msg *msg, void *arg)
{
	struct features_ctx *ctx = arg;
	struct nlattr *tb[ETHTOOL_A_FEATURES_MAX + 1];
	struct nlattr *hdr[ETHTOOL_A_HEADER_MAX + 1];
	unsigned int count = ctx->hs->names.count;
	struct iface *ifc;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, ETHTOOL_A_FEATURES_MAX, NULL) < 0 ||
	    !tb[ETHTOOL_A_FEATURES_HEADER])
		return NL_OK;
	if (nla_parse_nested(hdr, ETHTOOL_A_HEADER_MAX, tb[ETHTOOL_A_FEATURES_HEADER],
			     header_policy) < 0 ||
	    !hdr[ETHTOOL_A_HEADER_DEV_INDEX])
		return NL_OK;
	ifc = features_find(ctx, (int)nla_get_u32(hdr[ETHTOOL_A_HEADER_DEV_INDEX]));
	if (!ifc && ctx->add && hdr[ETHTOOL_A_HEADER_DEV_NAME]) {
		int ifindex = (int)nla_get_u32(hdr[ETHTOOL_A_HEADER_DEV_INDEX]);

		if (ctx->hs->n && ctx->hs->ifaces[ctx->hs->n - 1].ifindex >= ifindex)
			ctx->ordered = false; /* out of order: search everything from now on */
		ifc = host_state_add(ctx->hs);
		if (!ifc) {
			ctx->error = -ENOMEM;
			return NL_STOP;
		}
		ifc->ifindex = ifindex;
		snprintf(ifc->name, sizeof(ifc->name), "%s",
			 nla_get_string(hdr[ETHTOOL_A_HEADER_DEV_NAME]));
		ifc->operstate = "unknown";
	}
	if (!ifc)
		return NL_OK; /* appeared after the link dump */
	if (!tb[ETHTOOL_A_FEATURES_HW] || !tb[ETHTOOL_A_FEATURES_WANTED] ||
	    !tb[ETHTOOL_A_FEATURES_ACTIVE] || !tb[ETHTOOL_A_FEATURES_NOCHANGE])
		return NL_OK;
	if (ethnl_bitset_parse(tb[ETHTOOL_A_FEATURES_HW], count, &ctx->hs->names, &ifc->hw, NULL) <
		    0 ||
	    ethnl_bitset_parse(tb[ETHTOOL_A_FEATURES_WANTED], count, &ctx->hs->names, &ifc->wanted,
			       NULL) < 0 ||
	    ethnl_bitset_parse(tb[ETHTOOL_A_FEATURES_ACTIVE], count, &ctx->hs->names, &ifc->active,
			       NULL) < 0 ||
	    ethnl_bitset_parse(tb[ETHTOOL_A_FEATURES_NOCHANGE], count, &ctx->hs->names,
			       &ifc->nochange, NULL) < 0) {
		ctx->error = -EPROTO;
		return NL_OK;
	}
	ifc->have_features = true;
	return NL_OK;
}

/* One FEATURES_GET request (a dump when ifindex is 0). */
static int features_get(struct ethnl *e, struct host_state *hs, int ifindex, bool add)
{
	struct features_ctx ctx = { .hs = hs, .add = add, .ordered = add && hs->n == 0 };
	struct nl_msg *msg = ethnl_msg(e, ETHTOOL_MSG_FEATURES_GET, ifindex ? 0 : NLM_F_DUMP);
	int r;

	if (!msg)
		return -ENOMEM;
	if (put_header(msg, ETHTOOL_A_FEATURES_HEADER, ifindex, ETHTOOL_FLAG_COMPACT_BITSETS) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	r = ethnl_request(e, msg, features_parse, &ctx, NULL);
	if (r < 0)
		return r;
	if (ctx.error == -ENOMEM)
		return ctx.error;
	if (ctx.error)
		log_warn("malformed feature bitsets in the kernel's reply");
	return 0;
}

int ethnl_features_get(struct ethnl *e, struct host_state *hs, int ifindex)
{
	return features_get(e, hs, ifindex, false);
}

int ethnl_features_dump_ifaces(struct ethnl *e, struct host_state *hs)
{
	return features_get(e, hs, 0, true);
}

static int put_bitset(struct nl_msg *msg, int attr, unsigned int count,
		      const struct featbits *value, const struct featbits *mask)
{
	struct nlattr *nest = nla_nest_start(msg, attr);
	size_t bytes = ((count + 31) / 32) * 4;

	if (!nest || nla_put_u32(msg, ETHTOOL_A_BITSET_SIZE, count) < 0 ||
	    nla_put(msg, ETHTOOL_A_BITSET_VALUE, (int)bytes, value->w) < 0 ||
	    nla_put(msg, ETHTOOL_A_BITSET_MASK, (int)bytes, mask->w) < 0)
		return -ENOMEM;
	nla_nest_end(msg, nest);
	return 0;
}

struct set_ctx {
	const struct host_state *hs;
	struct featbits wanted_val, wanted_mask, active_val, active_mask;
	bool got;
};

static int set_reply_parse(struct nl_msg *msg, void *arg)
{
	struct set_ctx *ctx = arg;
	struct nlattr *tb[ETHTOOL_A_FEATURES_MAX + 1];
	unsigned int count = ctx->hs->names.count;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, ETHTOOL_A_FEATURES_MAX, NULL) < 0)
		return NL_OK;
	if (tb[ETHTOOL_A_FEATURES_WANTED] &&
	    ethnl_bitset_parse(tb[ETHTOOL_A_FEATURES_WANTED], count, &ctx->hs->names,
			       &ctx->wanted_val, &ctx->wanted_mask) < 0)
		return NL_OK;
	if (tb[ETHTOOL_A_FEATURES_ACTIVE] &&
	    ethnl_bitset_parse(tb[ETHTOOL_A_FEATURES_ACTIVE], count, &ctx->hs->names,
			       &ctx->active_val, &ctx->active_mask) < 0)
		return NL_OK;
	ctx->got = true;
	return NL_OK;
}

int ethnl_features_set(struct ethnl *e, const struct host_state *hs, const struct iface *ifc,
		       const struct featbits *mask, const struct featbits *values,
		       struct set_result *ret, char **ret_msg)
{
	struct set_ctx ctx = { .hs = hs };
	struct nl_msg *msg = ethnl_msg(e, ETHTOOL_MSG_FEATURES_SET, 0);
	int r;

	if (!msg)
		return -ENOMEM;
	if (put_header(msg, ETHTOOL_A_FEATURES_HEADER, ifc->ifindex, ETHTOOL_FLAG_COMPACT_BITSETS) <
		    0 ||
	    put_bitset(msg, ETHTOOL_A_FEATURES_WANTED, hs->names.count, values, mask) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	r = ethnl_request(e, msg, set_reply_parse, &ctx, ret_msg);
	if (r < 0)
		return r;
	if (!ctx.got)
		return -EPROTO;
	/* WANTED in the reply: requested bits whose result differs from the
	 * request; ACTIVE: every bit whose active state changed. */
	memset(ret, 0, sizeof(*ret));
	ret->refused = ctx.wanted_mask;
	ret->active_mask = ctx.active_mask;
	for (unsigned int i = 0; i < FEAT_WORDS; i++)
		ret->active_new.w[i] = ctx.active_val.w[i] & ctx.active_mask.w[i];
	return 0;
}

/* --- replies given as bytes (the fuzzers, fuzz/fuzz-netlink.c) --- */

/* One reply message as nl_recvmsgs() hands it to a callback: its length
 * checked against what was received, in a buffer of exactly that size. */
static struct nl_msg *msg_from_bytes(const void *buf, size_t len)
{
	struct nlmsghdr *nlh;
	struct nl_msg *msg;

	if (len < NLMSG_HDRLEN || len > (1u << 20))
		return NULL;
	nlh = malloc(len);
	if (!nlh)
		return NULL;
	memcpy(nlh, buf, len);
	nlh->nlmsg_len = (uint32_t)len;
	msg = nlmsg_convert(nlh);
	free(nlh);
	return msg;
}

int ethnl_strset_parse_msg(const void *buf, size_t len, struct feature_names *ret)
{
	struct feature_names fn = { 0 };
	struct nl_msg *msg = msg_from_bytes(buf, len);

	if (!msg)
		return -EINVAL;
	strset_parse(msg, &fn);
	nlmsg_free(msg);
	if (!fn.names)
		return -EPROTO;
	*ret = fn;
	return 0;
}

int ethnl_features_parse_msg(const void *buf, size_t len, struct host_state *hs)
{
	struct features_ctx ctx = { .hs = hs };
	struct nl_msg *msg = msg_from_bytes(buf, len);

	if (!msg)
		return -EINVAL;
	features_parse(msg, &ctx);
	nlmsg_free(msg);
	return ctx.error;
}

int ethnl_set_reply_parse_msg(const void *buf, size_t len, const struct host_state *hs)
{
	struct set_ctx ctx = { .hs = hs };
	struct nl_msg *msg = msg_from_bytes(buf, len);

	if (!msg)
		return -EINVAL;
	set_reply_parse(msg, &ctx);
	nlmsg_free(msg);
	return ctx.got ? 0 : -EPROTO;
}

int ethnl_features_dump_parse_msgs(const void *const *bufs, const size_t *lens, size_t n,
				   struct host_state *hs)
{
	struct features_ctx ctx = { .hs = hs, .add = true, .ordered = hs->n == 0 };

	for (size_t i = 0; i < n; i++) {
		struct nl_msg *msg = msg_from_bytes(bufs[i], lens[i]);

		if (!msg)
			return -EINVAL;
		features_parse(msg, &ctx);
		nlmsg_free(msg);
	}
	return ctx.error;
}
