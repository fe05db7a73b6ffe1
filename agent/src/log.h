/* log.h - messages for people, on stderr */
#pragma once

#include <stdarg.h>

/* Verbosity: -1 quiet, 0 default, 1 verbose, 2 debug. */
extern int log_level;

/* "offloadctl: " + message + "\n"; errors are always printed. */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Something happened that the journal should show: printed unless -q. */
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
