/* virt-detect.h - detect virtualisation from the host's files (probes) */
#pragma once

#include "model/virt.h"

/*
 * Detect virtualisation, reading every host file beneath root (NULL or "/"
 * for the host itself; see CONTRACT.md "Fixtures").  Unreadable sources are
 * no evidence, never an error.  Returns 0 or -ENOMEM.
 */
int virt_detect(const char *root, struct virt_info *ret);
