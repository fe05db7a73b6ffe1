/* names.h - names from the kernel, made safe to print
 *
 * An interface name is any bytes but NUL, '/' and whitespace: not always
 * UTF-8, possibly with control characters.  JSON needs UTF-8 and a
 * terminal or journal needs no control characters.  The documented form
 * (offloadctl(8), facts/README.md): a name that is UTF-8 without a
 * backslash is printed as it is; otherwise a backslash becomes "\\" and
 * each byte that is not part of valid UTF-8 becomes "\xHH", so the form is
 * unambiguous and bash's `printf '%b'` gives the bytes back.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Longest escaped form of an IFNAMSIZ name: every byte as \xHH. */
#define NAME_ESC_MAX (16 * 4 + 1)

/* True when s (len bytes) is valid UTF-8 (no overlongs or surrogates). */
bool utf8_valid(const char *s, size_t len);

/* The length of the valid UTF-8 sequence at s (1-4), or 0. */
size_t utf8_seq_len(const unsigned char *s, size_t avail);

/*
 * s as above, for JSON: returns s itself when nothing needs escaping, else
 * the escaped form in buf (cut at len).
 */
const char *name_json(const char *s, char *buf, size_t len);

/*
 * s for a terminal or a log line: like name_json, and control characters
 * (below 0x20, and 0x7f) become \xHH as well.
 */
const char *name_text(const char *s, char *buf, size_t len);

/* name_json of any string, malloc'd (NULL without memory). */
char *name_json_dup(const char *s);

/* Write s to f with control characters (other than none) and bytes that
 * are not UTF-8 as \xHH: for log lines and text built from names. */
void text_write_safe(FILE *f, const char *s);
