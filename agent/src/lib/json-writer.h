/* json-writer.h - a streaming JSON writer: pieces of a document into a
 * buffer of its own, flushed to a stream, so that memory does not grow with
 * the document (facts for thousands of interfaces) */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct jw {
	FILE *f;
	char *p;
	size_t n, cap;
};

/* Start writing to f.  Returns 0 or -ENOMEM. */
int jw_open(struct jw *w, FILE *f);
/* Write out what is buffered and free the buffer. */
void jw_close(struct jw *w);
/* Write out what is buffered (before writing to the stream directly). */
void jw_flush(struct jw *w);

/* len bytes as they are: punctuation, keys known to need no escaping. */
void jw_put(struct jw *w, const char *s, size_t len);
#define jw_lit(w, s) jw_put((w), (s), sizeof(s) - 1)
void jw_str(struct jw *w, const char *s);
void jw_int(struct jw *w, long long v);

/* s as a JSON string, escaped as jansson escapes it (byte for byte what
 * json_dumpf(JSON_COMPACT) prints).  Returns 0, -EINVAL (nothing written)
 * when s is not UTF-8, or -EIO. */
int jw_string(struct jw *w, const char *s);
