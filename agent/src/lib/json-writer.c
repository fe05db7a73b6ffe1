/* json-writer.c - the streaming writer (json-writer.h)
 *
 * Pieces go into a buffer of the writer's own and out to the stream in
 * large writes: building and dumping a jansson tree per small object, or
 * stdio's formatting, cost the facts of thousands of interfaces more than
 * the kernel's dump.  Strings that need escaping go through jansson, so
 * the output is byte for byte what json_dumpf() prints.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/json-writer.h"

#define JW_BUFFER (64 * 1024)

int jw_open(struct jw *w, FILE *f, int indent)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->indent = indent > 0 ? indent : 0;
	w->cap = JW_BUFFER;
	w->p = malloc(JW_BUFFER);
	return w->p ? 0 : -ENOMEM;
}

int jw_close(struct jw *w)
{
	jw_flush(w);
	free(w->p);
	w->p = NULL;
	if (!w->err && w->depth)
		w->err = -EINVAL;
	if (!w->err && ferror(w->f))
		w->err = -EIO;
	return w->err;
}

void jw_flush(struct jw *w)
{
	if (w->n && fwrite(w->p, 1, w->n, w->f) != w->n && !w->err)
		w->err = -EIO;
	w->n = 0;
}

void jw_put(struct jw *w, const char *s, size_t len)
{
	if (w->n + len > w->cap)
		jw_flush(w);
	if (len > w->cap) {
		if (fwrite(s, 1, len, w->f) != len && !w->err)
			w->err = -EIO;
		return;
	}
	memcpy(w->p + w->n, s, len);
	w->n += len;
}

/* One byte: the writer's punctuation, the most frequent write. */
static inline void put1(struct jw *w, char c)
{
	if (w->n == w->cap)
		jw_flush(w);
	w->p[w->n++] = c;
}

void jw_str(struct jw *w, const char *s)
{
	jw_put(w, s, strlen(s));
}

void jw_printf(struct jw *w, const char *fmt, ...)
{
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vsnprintf(w->p + w->n, w->cap - w->n, fmt, ap);
	va_end(ap);
	if (len < 0) {
		if (!w->err)
			w->err = -EIO;
		return;
	}
	if ((size_t)len < w->cap - w->n) {
		w->n += (size_t)len;
		return;
	}
	/* did not fit: out with the buffer, then straight to the stream */
	jw_flush(w);
	va_start(ap, fmt);
	if ((size_t)len < w->cap) {
		vsnprintf(w->p, w->cap, fmt, ap);
		w->n = (size_t)len;
	} else if (vfprintf(w->f, fmt, ap) < 0 && !w->err) {
		w->err = -EIO;
	}
	va_end(ap);
}

static void fail(struct jw *w, int err)
{
	if (!w->err)
		w->err = err;
}

static struct jw_level *top(struct jw *w)
{
	return w->depth ? &w->level[w->depth - 1] : NULL;
}

static bool indented(struct jw *w)
{
	struct jw_level *l = top(w);

	return w->indent && !(l && l->flat);
}

/* A line break and the indentation of depth levels. */
static void newline(struct jw *w, unsigned int depth)
{
	static const char spaces[] = "                                ";
	size_t n = (size_t)w->indent * depth;

	jw_lit(w, "\n");
	while (n) {
		size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;

		jw_put(w, spaces, k);
		n -= k;
	}
}

/* What goes before an element of an array or a member's key: the comma,
 * the line break.  False (an error kept) when nothing may come here. */
static bool separate(struct jw *w)
{
	struct jw_level *l = top(w);

	if (w->err)
		return false;
	if (!l)
		return true;
	if (l->has_items)
		put1(w, ',');
	l->has_items = true;
	if (indented(w))
		newline(w, w->depth);
	return true;
}

/* Before a value: in an object, its key must be written. */
static bool value_start(struct jw *w)
{
	struct jw_level *l = top(w);

	if (w->err)
		return false;
	if (l && l->kind == '{') {
		if (!l->want_value) {
			fail(w, -EINVAL);
			return false;
		}
		l->want_value = false;
		return true;
	}
	return separate(w);
}

static void begin(struct jw *w, char kind)
{
	bool flat = w->next_flat || (top(w) && top(w)->flat);

	w->next_flat = false;
	if (!value_start(w))
		return;
	if (w->depth == JW_DEPTH_MAX) {
		fail(w, -EINVAL);
		return;
	}
	w->level[w->depth++] = (struct jw_level){ .kind = kind, .flat = flat };
	put1(w, kind);
}

static void end(struct jw *w, char kind)
{
	struct jw_level *l = top(w);
	bool items;

	if (w->err)
		return;
	if (!l || l->kind != kind || l->want_value) {
		fail(w, -EINVAL);
		return;
	}
	items = l->has_items && indented(w);
	w->depth--;
	if (items)
		newline(w, w->depth);
	put1(w, kind == '{' ? '}' : ']');
}

void jw_object_begin(struct jw *w)
{
	begin(w, '{');
}

void jw_object_end(struct jw *w)
{
	end(w, '{');
}

void jw_array_begin(struct jw *w)
{
	begin(w, '[');
}

void jw_array_end(struct jw *w)
{
	end(w, '[');
}

void jw_flat(struct jw *w)
{
	w->next_flat = true;
}

/* Bytes a JSON string holds as they are: printable ASCII but '"' and '\\'
 * (the rest is for jansson to escape or to reject). */
static const bool plain_byte[256] = {
	[' '] = true,
	['!'] = true,
	['#' ... '['] = true,
	[']' ... '~'] = true,
};

static bool plain_string(const char *s, size_t *ret_len)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p; p++)
		if (!plain_byte[*p])
			return false;
	*ret_len = (size_t)(p - (const unsigned char *)s);
	return true;
}

/* s escaped, after whatever start() writes; -EINVAL (nothing written) when
 * s is not UTF-8. */
static int put_string(struct jw *w, const char *s, bool (*start)(struct jw *))
{
	size_t len;
	json_t *j;

	if (plain_string(s, &len)) {
		if (!start(w))
			return 0;
		if (w->n + len + 2 > w->cap)
			jw_flush(w);
		if (len + 2 > w->cap) {
			put1(w, '"');
			jw_put(w, s, len);
			put1(w, '"');
			return 0;
		}
		w->p[w->n] = '"';
		memcpy(w->p + w->n + 1, s, len);
		w->p[w->n + len + 1] = '"';
		w->n += len + 2;
		return 0;
	}
	j = json_string(s);
	if (!j)
		return -EINVAL;
	if (start(w)) {
		jw_flush(w);
		if (json_dumpf(j, w->f, JSON_COMPACT | JSON_ENCODE_ANY) < 0)
			fail(w, -EIO);
	}
	json_decref(j);
	return 0;
}

/* Before a key: only in an object, and not twice. */
static bool key_start(struct jw *w)
{
	struct jw_level *l = top(w);

	if (w->err)
		return false;
	if (!l || l->kind != '{' || l->want_value) {
		fail(w, -EINVAL);
		return false;
	}
	return separate(w);
}

int jw_key(struct jw *w, const char *k)
{
	int r = put_string(w, k, key_start);

	if (r == 0 && !w->err) {
		top(w)->want_value = true;
		put1(w, ':');
		if (indented(w))
			put1(w, ' ');
	}
	return r;
}

int jw_string(struct jw *w, const char *s)
{
	return put_string(w, s, value_start);
}

void jw_string_or_null(struct jw *w, const char *s)
{
	if (!s || !s[0] || jw_string(w, s) < 0)
		jw_null(w);
}

void jw_int(struct jw *w, long long v)
{
	if (value_start(w))
		jw_printf(w, "%lld", v);
}

void jw_bool(struct jw *w, bool v)
{
	if (!value_start(w))
		return;
	if (v)
		jw_lit(w, "true");
	else
		jw_lit(w, "false");
}

void jw_null(struct jw *w)
{
	if (value_start(w))
		jw_lit(w, "null");
}

void jw_raw(struct jw *w, const char *s, size_t len)
{
	bool ind;

	while (len && (s[len - 1] == '\n' || s[len - 1] == ' '))
		len--;
	if (!len || !value_start(w)) {
		fail(w, -EINVAL);
		return;
	}
	/* A JSON string holds no raw line break: every one is layout. */
	ind = indented(w);
	while (len) {
		const char *nl = memchr(s, '\n', len);
		size_t k = nl ? (size_t)(nl - s) : len;

		jw_put(w, s, k);
		if (!nl)
			break;
		if (ind)
			newline(w, w->depth);
		else
			jw_lit(w, "\n");
		s += k + 1;
		len -= k + 1;
	}
}

int jw_kv_string(struct jw *w, const char *k, const char *s)
{
	int r = jw_key(w, k);

	return r < 0 ? r : jw_string(w, s);
}

void jw_kv_int(struct jw *w, const char *k, long long v)
{
	if (jw_key(w, k) == 0)
		jw_int(w, v);
}

void jw_kv_bool(struct jw *w, const char *k, bool v)
{
	if (jw_key(w, k) == 0)
		jw_bool(w, v);
}
