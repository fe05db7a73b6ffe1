/* netns.c - act inside a network namespace */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "backend/netns.h"

/*
 * A sysfs shows the network devices of the namespace that mounted it: mount
 * one of our own, in a mount namespace of our own, as `ip netns exec` does,
 * so /sys/class/net (the module facts) is this namespace's.  Best effort:
 * without CAP_SYS_ADMIN link_module() sees the ifindex differ and answers
 * nothing rather than another namespace's device.
 */
static void private_sysfs(void)
{
	if (unshare(CLONE_NEWNS) < 0)
		return;
	if (mount("none", "/", "none", MS_SLAVE | MS_REC, NULL) < 0)
		return;
	/* On top of the old one: if this fails, the old one still answers. */
	mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}

int netns_enter(const char *spec)
{
	char path[PATH_MAX];
	int fd, r = 0;

	if (strchr(spec, '/'))
		snprintf(path, sizeof(path), "%s", spec);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", spec);
	/* O_NONBLOCK: a FIFO given as PATH must not hang us (setns refuses it). */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET) < 0)
		r = -errno;
	close(fd);
	if (r == 0)
		private_sysfs();
	return r;
}
