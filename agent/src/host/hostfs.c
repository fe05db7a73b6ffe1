/* hostfs.c - read host files beneath a root prefix
 *
 * Every virtualisation source is a file; reading them all through one root
 * prefix lets a fixture tree stand for a whole machine (util-linux's
 * `lscpu -s DIR` and virt-what's test roots do the same).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/hostfs.h"
#include "host/input.h"

bool hostfs_is_host(const char *root)
{
	return !root || root[strspn(root, "/")] == '\0';
}

int hostfs_path(const char *root, const char *rel, char *buf, size_t size)
{
	int n;

	while (*rel == '/')
		rel++;
	if (hostfs_is_host(root))
		n = snprintf(buf, size, "/%s", rel);
	else
		n = snprintf(buf, size, "%s/%s", root, rel);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

int hostfs_exists(const char *root, const char *rel)
{
	char path[4096];
	int r;

	r = hostfs_path(root, rel, path, sizeof(path));
	if (r < 0)
		return r;
	if (access(path, F_OK) < 0)
		return -errno;
	return 0;
}

int hostfs_read(const char *root, const char *rel, size_t max, char **ret, size_t *ret_len)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;
	int fd, r;

	/* Never block on a FIFO in a fixture tree, never leave the root. */
	fd = input_open_beneath(root, rel, NULL);
	if (fd < 0)
		return fd;
	/* sysfs and procfs files report no useful size: read until EOF. */
	for (;;) {
		ssize_t n;

		if (len + 1 >= cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			char *nbuf;

			if (ncap > max + 1)
				ncap = max + 1;
			if (ncap <= len + 1)
				break; /* max reached */
			nbuf = realloc(buf, ncap);
			if (!nbuf) {
				r = -ENOMEM;
				goto fail;
			}
			buf = nbuf;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (!buf) {
		buf = malloc(1);
		if (!buf)
			return -ENOMEM;
	}
	buf[len] = '\0';
	*ret = buf;
	if (ret_len)
		*ret_len = len;
	return 0;
fail:
	close(fd);
	free(buf);
	return r;
}

int hostfs_read_line(const char *root, const char *rel, char **ret)
{
	char *s, *nl;
	size_t len;
	int r;

	r = hostfs_read(root, rel, 64 * 1024, &s, NULL);
	if (r < 0)
		return r;
	nl = strchr(s, '\n');
	if (nl)
		*nl = '\0';
	len = strlen(s);
	while (len > 0 && strchr(" \t\r\n", s[len - 1]))
		s[--len] = '\0';
	*ret = s;
	return 0;
}
