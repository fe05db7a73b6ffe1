/* input.h - open the files offloadctl reads, without blocking on a FIFO */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>

/*
 * Open path for reading only if it is a regular file: a FIFO, socket or
 * device planted where a file is expected would block the open or the read
 * (and so every command, or watch's reload).  The open never blocks
 * (O_NONBLOCK, cleared once the type is known) and the type is checked on
 * the opened descriptor.  *ret_st (when given) is the descriptor's stat,
 * also when the type is refused.  Returns the descriptor, -EISDIR for a
 * directory, -EINVAL for another file that is not regular (a FIFO, a
 * socket, a device), or a negative errno.
 */
int input_open(const char *path, struct stat *ret_st);

/* Like input_open, for a file beneath root ("/" or NULL: the host): beneath
 * any other root, no symlink or ".." leads out of it (openat2
 * RESOLVE_IN_ROOT, Linux 5.6+; where that is missing, symlinks are not
 * followed at all). */
int input_open_beneath(const char *root, const char *rel, struct stat *ret_st);

/* "a FIFO", "a directory", ... for a refusal message. */
const char *input_type_name(mode_t mode);
