/* netns.h - act inside a network namespace */
#pragma once

/* Enter the namespace NAME (/run/netns/NAME) or PATH (contains a '/').
 * Returns 0, -ENOENT when it does not exist, -EPERM without privilege. */
int netns_enter(const char *spec);
