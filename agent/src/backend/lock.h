/* lock.h - one run at a time: Puppet, Ansible, the boot unit and people */
#pragma once

#define LOCK_FILE_DEFAULT "/run/offloadctl.lock"

/* Take an exclusive flock on path, waiting at most timeout seconds.
 * Returns the fd (keep it open while changing), -ETIMEDOUT, or -errno. */
int lock_acquire(const char *path, double timeout);
