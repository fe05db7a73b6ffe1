/* ethnl-socket.c - the ethtool generic netlink family's socket: resolve the
 * family, send one request, read its replies and its ack; the kernel's
 * extended ack text is kept for every request, reads as well as sets
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

#include "backend/ethnl-internal.h"
#include "backend/nlerr.h"

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

int ethnl_request(struct ethnl *e, struct nl_msg *msg, int (*parse)(struct nl_msg *, void *),
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
	/* kept for reads too: a failed dump says why as a failed set does */
	free(e->last_msg);
	e->last_msg = req.error && req.msg ? strdup(req.msg) : NULL;
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
	free(e->last_msg);
	free(e);
}

struct nl_msg *ethnl_msg(struct ethnl *e, uint8_t cmd, int flags)
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

int ethnl_put_header(struct nl_msg *msg, int attr, int ifindex, uint32_t flags)
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

struct nla_policy ethnl_header_policy[ETHTOOL_A_HEADER_MAX + 1] = {
	[ETHTOOL_A_HEADER_DEV_INDEX] = { .type = NLA_U32 },
	[ETHTOOL_A_HEADER_DEV_NAME] = { .type = NLA_STRING },
};

/* One reply message as nl_recvmsgs() hands it to a callback: its length
 * checked against what was received, in a buffer of exactly that size. */
struct nl_msg *ethnl_msg_from_bytes(const void *buf, size_t len)
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

const char *ethnl_last_message(const struct ethnl *e)
{
	return e ? e->last_msg : NULL;
}
