/* json-writer.h - the one printer: a streaming writer of JSON (and of the
 * text beside it) into a buffer of its own, flushed to a stream, so that
 * memory does not grow with the document (facts for thousands of
 * interfaces).
 *
 * Nesting is a small stack: the writer puts the commas, the colons and, in
 * the indented form, the line breaks, so a caller says only what comes
 * next (a key, a value, the start or end of an object or array).  The
 * output is byte for byte what jansson's json_dumpf() prints for the same
 * document: JSON_COMPACT when indent is 0, JSON_INDENT(indent) otherwise,
 * and a container begun after jw_flat() is compact within an indented
 * document (the facts print an interface a line).
 *
 * Errors stick: the first misuse (a value where a key is due, an end that
 * does not match, nesting deeper than JW_DEPTH_MAX) or write error is kept
 * and returned by jw_close(); what follows is not written. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define JW_DEPTH_MAX 32

struct jw_level {
	char kind;	 /* '{' or '[' */
	bool has_items;	 /* a member or element is written: the next needs a comma */
	bool want_value; /* an object whose key is written */
	bool flat;	 /* compact within an indented document */
};

struct jw {
	FILE *f;
	char *p;
	size_t n, cap;
	int indent; /* spaces a level; 0 = compact */
	int err;    /* the first error (negative errno), sticky */
	bool next_flat;
	unsigned int depth;
	struct jw_level level[JW_DEPTH_MAX];
};

/* Start writing to f, compact (indent 0) or indented by indent spaces a
 * level.  Returns 0 or -ENOMEM. */
int jw_open(struct jw *w, FILE *f, int indent);
/* Write out what is buffered and free the buffer.  Returns 0, the first
 * error, -EINVAL when a container is left open, or -EIO (the stream). */
int jw_close(struct jw *w);
/* Write out what is buffered (before writing to the stream directly). */
void jw_flush(struct jw *w);

/* Text, outside the JSON structure: len bytes as they are (what a text
 * form prints, a line break after a document). */
void jw_put(struct jw *w, const char *s, size_t len);
#define jw_lit(w, s) jw_put((w), (s), sizeof(s) - 1)
void jw_str(struct jw *w, const char *s);
void jw_printf(struct jw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The structure. */
void jw_object_begin(struct jw *w);
void jw_object_end(struct jw *w);
void jw_array_begin(struct jw *w);
void jw_array_end(struct jw *w);
/* The next container (and all it holds) compact, in an indented document. */
void jw_flat(struct jw *w);

/* A member's key, escaped.  Returns 0 or -EINVAL (nothing written) when k
 * is not UTF-8. */
int jw_key(struct jw *w, const char *k);

/* Values: in an array, at the top, or after jw_key(). */
/* s as a JSON string, escaped as jansson escapes it.  Returns 0 or -EINVAL
 * (nothing written, not an error of the writer's) when s is not UTF-8. */
int jw_string(struct jw *w, const char *s);
/* s, or null when s is NULL, empty or not UTF-8. */
void jw_string_or_null(struct jw *w, const char *s);
void jw_int(struct jw *w, long long v);
void jw_bool(struct jw *w, bool v);
void jw_null(struct jw *w);
/* A value serialised elsewhere (a child process's JSON), len bytes as they
 * are, but for a final line break; in the indented form each line after
 * the first is indented to where the value stands.  The caller has checked
 * that it is JSON. */
void jw_raw(struct jw *w, const char *s, size_t len);

/* key and value in one call */
int jw_kv_string(struct jw *w, const char *k, const char *s);
void jw_kv_int(struct jw *w, const char *k, long long v);
void jw_kv_bool(struct jw *w, const char *k, bool v);
