/* log.c - messages for people, on stderr */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/escape.h"
#include "lib/log.h"

int log_level;
const char *log_context;

void log_at(int min_level, const char *prefix, const char *fmt, ...)
{
	char *msg = NULL;
	va_list ap;

	if (log_level < min_level)
		return;
	if (log_context) {
		fputs("offloadctl[", stderr);
		text_write_safe(stderr, log_context);
		fputs("]: ", stderr);
	} else {
		fputs("offloadctl: ", stderr);
	}
	fputs(prefix, stderr);
	va_start(ap, fmt);
	/* Names in messages come from the kernel and from files: no control
	 * character or stray byte reaches the terminal or the journal. */
	if (vasprintf(&msg, fmt, ap) >= 0)
		text_write_safe(stderr, msg);
	va_end(ap);
	free(msg);
	fputc('\n', stderr);
}
