/* unit.h - a minimal harness for unit tests of pure code: TAP output */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unit_n, unit_failed;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		unit_n++;                                                                          \
		if (cond) {                                                                        \
			printf("ok %d - %s\n", unit_n, #cond);                                     \
		} else {                                                                           \
			unit_failed++;                                                             \
			printf("not ok %d - %s (%s:%d)\n", unit_n, #cond, __FILE__, __LINE__);     \
		}                                                                                  \
	} while (0)

static inline int unit_done(void)
{
	printf("1..%d\n", unit_n);
	return unit_failed ? 1 : 0;
}
