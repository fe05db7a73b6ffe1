/* hostfs.h - read host files beneath a root prefix (see CONTRACT.md "Fixtures") */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* True when root stands for the running host itself: NULL, "" or only slashes. */
bool hostfs_is_host(const char *root);

/*
 * Write root + "/" + rel into buf (rel is relative, e.g. "proc/xen").
 * Returns 0 or -ENAMETOOLONG.
 */
int hostfs_path(const char *root, const char *rel, char *buf, size_t size);

/* 0 when root/rel exists, else -errno (-ENOENT: it does not). */
int hostfs_exists(const char *root, const char *rel);

/*
 * Read at most max bytes of root/rel into a NUL-terminated buffer (which may
 * hold further NULs, as /proc/PID/environ does).  Returns 0 or -errno; on
 * success *ret is malloc'd and *ret_len (if given) is the byte count.
 */
int hostfs_read(const char *root, const char *rel, size_t max, char **ret, size_t *ret_len);

/*
 * Read the first line of root/rel, trailing whitespace removed.  Returns 0
 * or -errno; on success *ret is malloc'd (possibly "").
 */
int hostfs_read_line(const char *root, const char *rel, char **ret);
