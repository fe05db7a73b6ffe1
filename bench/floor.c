/* floor.c - the physical floor of offloadctl's commands (bench/bench.py)
 *
 * Sends exactly the netlink requests a command of the agent needs, set up
 * as agent/src/backend/ethnl-socket.c and backend/link.c set them up (libnl sockets,
 * 1 MiB receive buffer, 64 KiB reads, no MSG_PEEK, NETLINK_EXT_ACK), and
 * reads the replies without parsing or printing them: what is left when
 * the model, the plan and the output are taken away.
 *
 *   floor facts                      RTM_GETLINK dump (IFLA_EXT_MASK =
 *                                    RTEXT_FILTER_SKIP_STATS), then what
 *                                    `check` sends
 *   floor check                      resolve the ethtool family, STRSET_GET
 *                                    of ETH_SS_FEATURES, FEATURES_GET dump
 *                                    with compact bitsets
 *   floor apply FEATURE on|off PFX   what `check` sends, then one
 *                                    FEATURES_SET (compact, the one bit) per
 *                                    interface whose name starts with PFX,
 *                                    each reply and ack read
 *   floor monitor FEATURE            subscribe to RTNLGRP_LINK and the
 *                                    ethtool monitor group; print one line
 *                                    per event, CLOCK_MONOTONIC stamped:
 *                                      "ready"
 *                                      "<ns> link <ifindex> <name>"   (RTM_NEWLINK)
 *                                      "<ns> feat <ifindex> <active> <wanted>"
 *                                    (FEATURES_NTF: FEATURE's bit, 0 or 1)
 *   floor rusage LOG CMD [ARG...]    run CMD, append "<user us> <sys us>
 *                                    <maxrss KiB> <status> <CMD>" to LOG,
 *                                    exit as CMD did (the wrappers' agent)
 *
 * apply and monitor read the string set and the dump headers (the bit of
 * FEATURE, the interfaces' indexes and names): the least a program that
 * sets one feature on every interface must look at.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/ethtool_netlink.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

#define MAX_WORDS 8 /* 256 feature bits */

static void die(const char *what, int err)
{
	fprintf(stderr, "floor: %s: %s\n", what, err < 0 ? nl_geterror(err) : strerror(err));
	exit(3);
}

/* --- reading: whole datagrams, message headers walked, nothing parsed --- */

typedef void (*on_msg_fn)(struct nlmsghdr *nlh, void *arg);

/* Read until NLMSG_DONE or the ack (NLMSG_ERROR); each other message goes
 * to fn when one is given. */
static void read_reply(struct nl_sock *sk, on_msg_fn fn, void *arg)
{
	struct sockaddr_nl peer;
	unsigned char *buf = NULL;

	for (;;) {
		int n = nl_recv(sk, &peer, &buf, NULL);
		struct nlmsghdr *nlh;

		if (n <= 0)
			die("recv", n);
		nlh = (struct nlmsghdr *)buf;
		for (; nlmsg_ok(nlh, n); nlh = nlmsg_next(nlh, &n)) {
			if (nlh->nlmsg_type == NLMSG_DONE) {
				free(buf);
				return;
			}
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = nlmsg_data(nlh);

				if (e->error)
					die("kernel", -e->error);
				free(buf);
				return;
			}
			if (fn)
				fn(nlh, arg);
		}
		free(buf);
		buf = NULL;
	}
}

static struct nl_sock *genl_socket(int *family)
{
	struct nl_sock *sk = nl_socket_alloc();
	int one = 1, r;

	if (!sk)
		die("nl_socket_alloc", ENOMEM);
	r = genl_connect(sk);
	if (r < 0)
		die("genl_connect", r);
	nl_socket_set_buffer_size(sk, 1 << 20, 1 << 16);
	nl_socket_set_msg_buf_size(sk, 1 << 16);
	nl_socket_disable_msg_peek(sk);
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	*family = genl_ctrl_resolve(sk, ETHTOOL_GENL_NAME);
	if (*family < 0)
		die("ethtool family", *family);
	return sk;
}

static struct nl_msg *ethnl_msg(int family, uint8_t cmd, int flags, int hdr_attr, int ifindex,
				uint32_t hdr_flags)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct nlattr *nest;

	if (!msg || !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0, flags, cmd,
				 ETHTOOL_GENL_VERSION))
		die("message", ENOMEM);
	nest = nla_nest_start(msg, hdr_attr);
	if (ifindex > 0)
		nla_put_u32(msg, ETHTOOL_A_HEADER_DEV_INDEX, (uint32_t)ifindex);
	nla_put_u32(msg, ETHTOOL_A_HEADER_FLAGS, hdr_flags);
	nla_nest_end(msg, nest);
	return msg;
}

static void send_msg(struct nl_sock *sk, struct nl_msg *msg)
{
	int r = nl_send_auto(sk, msg);

	nlmsg_free(msg);
	if (r < 0)
		die("send", r);
}

/* --- the string set: read, or searched for one name --- */

struct strset_find {
	const char *name;
	int bit;
	unsigned int count;
};

static void strset_find(struct nlmsghdr *nlh, void *arg)
{
	struct strset_find *f = arg;
	struct nlattr *tb[ETHTOOL_A_STRSET_MAX + 1], *set;
	int rem;

	if (!f || genlmsg_parse(nlh, 0, tb, ETHTOOL_A_STRSET_MAX, NULL) < 0 ||
	    !tb[ETHTOOL_A_STRSET_STRINGSETS])
		return;
	nla_for_each_nested(set, tb[ETHTOOL_A_STRSET_STRINGSETS], rem) {
		struct nlattr *st[ETHTOOL_A_STRINGSET_MAX + 1], *s;
		int rem2;

		if (nla_parse_nested(st, ETHTOOL_A_STRINGSET_MAX, set, NULL) < 0 ||
		    !st[ETHTOOL_A_STRINGSET_STRINGS])
			continue;
		if (st[ETHTOOL_A_STRINGSET_COUNT])
			f->count = nla_get_u32(st[ETHTOOL_A_STRINGSET_COUNT]);
		nla_for_each_nested(s, st[ETHTOOL_A_STRINGSET_STRINGS], rem2) {
			struct nlattr *sv[ETHTOOL_A_STRING_MAX + 1];

			if (nla_parse_nested(sv, ETHTOOL_A_STRING_MAX, s, NULL) < 0 ||
			    !sv[ETHTOOL_A_STRING_INDEX] || !sv[ETHTOOL_A_STRING_VALUE])
				continue;
			if (strcmp(nla_get_string(sv[ETHTOOL_A_STRING_VALUE]), f->name) == 0)
				f->bit = (int)nla_get_u32(sv[ETHTOOL_A_STRING_INDEX]);
		}
	}
}

static void strset(struct nl_sock *sk, int family, struct strset_find *find)
{
	struct nl_msg *msg =
		ethnl_msg(family, ETHTOOL_MSG_STRSET_GET, 0, ETHTOOL_A_STRSET_HEADER, 0, 0);
	struct nlattr *sets = nla_nest_start(msg, ETHTOOL_A_STRSET_STRINGSETS);
	struct nlattr *set = nla_nest_start(msg, ETHTOOL_A_STRINGSETS_STRINGSET);

	nla_put_u32(msg, ETHTOOL_A_STRINGSET_ID, ETH_SS_FEATURES);
	nla_nest_end(msg, set);
	nla_nest_end(msg, sets);
	send_msg(sk, msg);
	read_reply(sk, find ? strset_find : NULL, find);
}

/* --- the feature dump: read, or the interfaces named PFX* collected --- */

struct targets {
	const char *prefix;
	int *ifindex;
	size_t n, cap;
};

static void dump_headers(struct nlmsghdr *nlh, void *arg)
{
	struct targets *t = arg;
	struct nlattr *tb[ETHTOOL_A_FEATURES_MAX + 1], *hdr[ETHTOOL_A_HEADER_MAX + 1];

	if (genlmsg_parse(nlh, 0, tb, ETHTOOL_A_FEATURES_MAX, NULL) < 0 ||
	    !tb[ETHTOOL_A_FEATURES_HEADER] ||
	    nla_parse_nested(hdr, ETHTOOL_A_HEADER_MAX, tb[ETHTOOL_A_FEATURES_HEADER], NULL) < 0 ||
	    !hdr[ETHTOOL_A_HEADER_DEV_INDEX] || !hdr[ETHTOOL_A_HEADER_DEV_NAME])
		return;
	if (strncmp(nla_get_string(hdr[ETHTOOL_A_HEADER_DEV_NAME]), t->prefix, strlen(t->prefix)))
		return;
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 256;
		t->ifindex = realloc(t->ifindex, t->cap * sizeof(*t->ifindex));
		if (!t->ifindex)
			die("realloc", ENOMEM);
	}
	t->ifindex[t->n++] = (int)nla_get_u32(hdr[ETHTOOL_A_HEADER_DEV_INDEX]);
}

static void features_dump(struct nl_sock *sk, int family, struct targets *t)
{
	send_msg(sk, ethnl_msg(family, ETHTOOL_MSG_FEATURES_GET, NLM_F_DUMP,
			       ETHTOOL_A_FEATURES_HEADER, 0, ETHTOOL_FLAG_COMPACT_BITSETS));
	read_reply(sk, t ? dump_headers : NULL, t);
}

static void link_dump(void)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_GETLINK, NLM_F_DUMP);
	int r;

	if (!sk || !msg)
		die("alloc", ENOMEM);
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0 ||
	    nla_put_u32(msg, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS) < 0)
		die("message", ENOMEM);
	r = nl_connect(sk, NETLINK_ROUTE);
	if (r < 0)
		die("nl_connect", r);
	nl_socket_set_msg_buf_size(sk, 64 * 1024);
	nl_socket_disable_msg_peek(sk);
	send_msg(sk, msg);
	read_reply(sk, NULL, NULL);
	nl_socket_free(sk);
}

static int cmd_apply(const char *feature, bool on, const char *prefix)
{
	struct strset_find f = { .name = feature, .bit = -1 };
	struct targets t = { .prefix = prefix };
	int family;
	struct nl_sock *sk = genl_socket(&family);
	uint32_t value[MAX_WORDS] = { 0 }, mask[MAX_WORDS] = { 0 };
	size_t bytes;

	strset(sk, family, &f);
	if (f.bit < 0 || f.count > MAX_WORDS * 32) {
		fprintf(stderr, "floor: no feature '%s'\n", feature);
		return 2;
	}
	features_dump(sk, family, &t);
	bytes = ((f.count + 31) / 32) * 4;
	mask[f.bit / 32] = 1u << (f.bit % 32);
	if (on)
		value[f.bit / 32] = mask[f.bit / 32];
	for (size_t i = 0; i < t.n; i++) {
		struct nl_msg *msg =
			ethnl_msg(family, ETHTOOL_MSG_FEATURES_SET, 0, ETHTOOL_A_FEATURES_HEADER,
				  t.ifindex[i], ETHTOOL_FLAG_COMPACT_BITSETS);
		struct nlattr *nest = nla_nest_start(msg, ETHTOOL_A_FEATURES_WANTED);

		nla_put_u32(msg, ETHTOOL_A_BITSET_SIZE, f.count);
		nla_put(msg, ETHTOOL_A_BITSET_VALUE, (int)bytes, value);
		nla_put(msg, ETHTOOL_A_BITSET_MASK, (int)bytes, mask);
		nla_nest_end(msg, nest);
		send_msg(sk, msg);
		read_reply(sk, NULL, NULL); /* the reply, then the ack */
	}
	free(t.ifindex);
	nl_socket_free(sk);
	return 0;
}

/* --- monitor --- */

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The bit's value in a bitset nest, compact or verbose; -1 when absent. */
static int bitset_bit(struct nlattr *nest, int bit, const char *name)
{
	struct nlattr *tb[ETHTOOL_A_BITSET_MAX + 1], *b;
	bool nomask;
	int rem;

	if (!nest || nla_parse_nested(tb, ETHTOOL_A_BITSET_MAX, nest, NULL) < 0)
		return -1;
	if (tb[ETHTOOL_A_BITSET_VALUE]) {
		if (nla_len(tb[ETHTOOL_A_BITSET_VALUE]) < (bit / 32 + 1) * 4)
			return -1;
		return (((uint32_t *)nla_data(tb[ETHTOOL_A_BITSET_VALUE]))[bit / 32] >>
			(bit % 32)) &
		       1;
	}
	nomask = tb[ETHTOOL_A_BITSET_NOMASK] != NULL;
	if (!tb[ETHTOOL_A_BITSET_BITS])
		return nomask ? 0 : -1;
	nla_for_each_nested(b, tb[ETHTOOL_A_BITSET_BITS], rem) {
		struct nlattr *bt[ETHTOOL_A_BITSET_BIT_MAX + 1];

		if (nla_parse_nested(bt, ETHTOOL_A_BITSET_BIT_MAX, b, NULL) < 0)
			continue;
		if ((bt[ETHTOOL_A_BITSET_BIT_INDEX] &&
		     (int)nla_get_u32(bt[ETHTOOL_A_BITSET_BIT_INDEX]) == bit) ||
		    (bt[ETHTOOL_A_BITSET_BIT_NAME] &&
		     strcmp(nla_get_string(bt[ETHTOOL_A_BITSET_BIT_NAME]), name) == 0))
			return nomask || bt[ETHTOOL_A_BITSET_BIT_VALUE] != NULL;
	}
	return nomask ? 0 : -1;
}

struct mon {
	int family, bit;
	const char *name;
};

static void on_event(struct nlmsghdr *nlh, void *arg)
{
	struct mon *m = arg;
	long long t = now_ns();

	if (nlh->nlmsg_type == RTM_NEWLINK) {
		struct ifinfomsg *ifi = nlmsg_data(nlh);
		struct nlattr *tb[IFLA_MAX + 1];

		if (nlmsg_parse(nlh, sizeof(*ifi), tb, IFLA_MAX, NULL) == 0 && tb[IFLA_IFNAME])
			printf("%lld link %d %s\n", t, ifi->ifi_index,
			       nla_get_string(tb[IFLA_IFNAME]));
	} else if (nlh->nlmsg_type == m->family) {
		struct genlmsghdr *gh = nlmsg_data(nlh);
		struct nlattr *tb[ETHTOOL_A_FEATURES_MAX + 1], *hdr[ETHTOOL_A_HEADER_MAX + 1];

		if (gh->cmd != ETHTOOL_MSG_FEATURES_NTF ||
		    genlmsg_parse(nlh, 0, tb, ETHTOOL_A_FEATURES_MAX, NULL) < 0 ||
		    !tb[ETHTOOL_A_FEATURES_HEADER] ||
		    nla_parse_nested(hdr, ETHTOOL_A_HEADER_MAX, tb[ETHTOOL_A_FEATURES_HEADER],
				     NULL) < 0 ||
		    !hdr[ETHTOOL_A_HEADER_DEV_INDEX])
			return;
		printf("%lld feat %u %d %d\n", t, nla_get_u32(hdr[ETHTOOL_A_HEADER_DEV_INDEX]),
		       bitset_bit(tb[ETHTOOL_A_FEATURES_ACTIVE], m->bit, m->name),
		       bitset_bit(tb[ETHTOOL_A_FEATURES_WANTED], m->bit, m->name));
	}
}

static void drain(struct nl_sock *sk, struct mon *m)
{
	struct sockaddr_nl peer;
	unsigned char *buf = NULL;
	int n;

	while ((n = nl_recv(sk, &peer, &buf, NULL)) > 0) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)buf;

		for (; nlmsg_ok(nlh, n); nlh = nlmsg_next(nlh, &n))
			on_event(nlh, m);
		free(buf);
		buf = NULL;
	}
	if (n < 0 && n != -NLE_AGAIN) {
		/* Overflow: say so, the bench counts the run as spoilt. */
		printf("%lld lost %d\n", now_ns(), n);
	}
	fflush(stdout);
}

static int cmd_monitor(const char *feature)
{
	struct strset_find f = { .name = feature, .bit = -1 };
	struct mon m = { .name = feature };
	struct nl_sock *sk = genl_socket(&m.family), *rt = nl_socket_alloc();
	int grp, r;

	/* Before our own reads: libnl's sequence check expects its own. */
	grp = genl_ctrl_resolve_grp(sk, ETHTOOL_GENL_NAME, ETHTOOL_MCGRP_MONITOR_NAME);
	if (grp < 0)
		die("monitor group", grp);
	strset(sk, m.family, &f);
	if (f.bit < 0) {
		fprintf(stderr, "floor: no feature '%s'\n", feature);
		return 2;
	}
	m.bit = f.bit;
	nl_socket_disable_seq_check(sk);
	if ((r = nl_socket_add_membership(sk, grp)) < 0)
		die("membership", r);
	if (!rt || (r = nl_connect(rt, NETLINK_ROUTE)) < 0)
		die("nl_connect", r);
	nl_socket_disable_seq_check(rt);
	nl_socket_set_buffer_size(sk, 8 << 20, 0);
	nl_socket_set_buffer_size(rt, 8 << 20, 0);
	nl_socket_set_msg_buf_size(rt, 1 << 16);
	nl_socket_disable_msg_peek(rt);
	if ((r = nl_socket_add_membership(rt, RTNLGRP_LINK)) < 0)
		die("membership", r);
	nl_socket_set_nonblocking(sk);
	nl_socket_set_nonblocking(rt);
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = nl_socket_get_fd(sk), .events = POLLIN },
			{ .fd = nl_socket_get_fd(rt), .events = POLLIN },
			{ .fd = 0, .events = POLLIN }, /* stdin closed: the bench is done */
		};

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll", errno);
		}
		if (p[0].revents)
			drain(sk, &m);
		if (p[1].revents)
			drain(rt, &m);
		if (p[2].revents) {
			char c;

			if (read(0, &c, 1) <= 0)
				return 0;
		}
	}
}

/* --- rusage: the agent's own CPU inside a wrapper's run --- */

static int cmd_rusage(const char *log, char **argv)
{
	struct rusage ru;
	int status, fd;
	pid_t pid = fork();
	char line[512];
	int len;

	if (pid < 0)
		die("fork", errno);
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "floor: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) < 0)
		die("wait4", errno);
	len = snprintf(line, sizeof(line), "%ld %ld %ld %d %s %s\n",
		       ru.ru_utime.tv_sec * 1000000L + ru.ru_utime.tv_usec,
		       ru.ru_stime.tv_sec * 1000000L + ru.ru_stime.tv_usec, ru.ru_maxrss, status,
		       argv[0], argv[1] ? argv[1] : "");
	fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write(fd, line, (size_t)len) < 0)
			perror("floor: rusage log");
		close(fd);
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

static int usage(void)
{
	fputs("usage: floor facts | check | apply FEATURE on|off PREFIX | monitor FEATURE |\n"
	      "       rusage LOG CMD [ARG...]\n",
	      stderr);
	return 2;
}

int main(int argc, char **argv)
{
	int family;
	struct nl_sock *sk;

	if (argc < 2)
		return usage();
	if (strcmp(argv[1], "rusage") == 0)
		return argc < 4 ? usage() : cmd_rusage(argv[2], argv + 3);
	if (strcmp(argv[1], "monitor") == 0)
		return argc != 3 ? usage() : cmd_monitor(argv[2]);
	if (strcmp(argv[1], "apply") == 0) {
		if (argc != 5 || (strcmp(argv[3], "on") && strcmp(argv[3], "off")))
			return usage();
		return cmd_apply(argv[2], strcmp(argv[3], "on") == 0, argv[4]);
	}
	if (argc != 2 || (strcmp(argv[1], "facts") && strcmp(argv[1], "check")))
		return usage();
	/* facts: the link dump first, as backend_read_host() does. */
	if (strcmp(argv[1], "facts") == 0)
		link_dump();
	sk = genl_socket(&family);
	strset(sk, family, NULL);
	features_dump(sk, family, NULL);
	nl_socket_free(sk);
	return 0;
}
