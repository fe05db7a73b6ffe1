/* log.h - messages for people, on stderr */
#pragma once

/* Verbosity: -1 quiet, 0 default, 1 verbose, 2 debug. */
extern int log_level;
/* Said after "offloadctl" in brackets when set: the namespace a watch of a
 * scope keeps ("offloadctl[blue]: ..."), so one journal tells them apart. */
extern const char *log_context;

/* "offloadctl: " + prefix + message + "\n", when log_level >= min_level. */
void log_at(int min_level, const char *prefix, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Errors are always printed. */
#define log_error(...) log_at(-1, "", __VA_ARGS__)
#define log_warn(...)  log_at(0, "warning: ", __VA_ARGS__)
/* Something happened that the journal should show: printed unless -q. */
#define log_notice(...) log_at(0, "", __VA_ARGS__)
#define log_info(...)	log_at(1, "", __VA_ARGS__)
#define log_debug(...)	log_at(2, "debug: ", __VA_ARGS__)
