/* log.c - messages for people, on stderr */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"

int log_level;

void log_at(int min_level, const char *prefix, const char *fmt, ...)
{
	va_list ap;

	if (log_level < min_level)
		return;
	fputs("offloadctl: ", stderr);
	fputs(prefix, stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
