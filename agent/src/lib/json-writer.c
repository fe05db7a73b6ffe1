/* json-writer.c - a streaming JSON writer (json-writer.h)
 *
 * Pieces go into a buffer of the writer's own and out to the stream in
 * large writes: building and dumping a jansson tree per small object, or
 * stdio's formatting, cost the facts of thousands of interfaces more than
 * the kernel's dump.  Strings that need escaping go through jansson, so
 * the output is byte for byte what json_dumpf(JSON_COMPACT) prints.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/json-writer.h"

#define JW_BUFFER (64 * 1024)

int jw_open(struct jw *w, FILE *f)
{
	w->f = f;
	w->n = 0;
	w->cap = JW_BUFFER;
	w->p = malloc(JW_BUFFER);
	return w->p ? 0 : -ENOMEM;
}

void jw_close(struct jw *w)
{
	jw_flush(w);
	free(w->p);
	w->p = NULL;
}

void jw_flush(struct jw *w)
{
	if (w->n)
		fwrite(w->p, 1, w->n, w->f);
	w->n = 0;
}

void jw_put(struct jw *w, const char *s, size_t len)
{
	if (w->n + len > w->cap)
		jw_flush(w);
	if (len > w->cap) {
		fwrite(s, 1, len, w->f);
		return;
	}
	memcpy(w->p + w->n, s, len);
	w->n += len;
}

void jw_str(struct jw *w, const char *s)
{
	jw_put(w, s, strlen(s));
}

void jw_int(struct jw *w, long long v)
{
	char tmp[24];
	int len = snprintf(tmp, sizeof(tmp), "%lld", v);

	jw_put(w, tmp, (size_t)len);
}

static bool plain_string(const char *s, size_t *ret_len)
{
	const char *p;

	for (p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f || *p == '"' ||
		    *p == '\\')
			return false;
	*ret_len = (size_t)(p - s);
	return true;
}

/* A JSON string; -EINVAL (nothing written) when s is not UTF-8. */
int jw_string(struct jw *w, const char *s)
{
	size_t len;
	json_t *j;
	int r;

	if (plain_string(s, &len)) {
		jw_lit(w, "\"");
		jw_put(w, s, len);
		jw_lit(w, "\"");
		return 0;
	}
	j = json_string(s);
	if (!j)
		return -EINVAL;
	jw_flush(w);
	r = json_dumpf(j, w->f, JSON_COMPACT | JSON_ENCODE_ANY) < 0 ? -EIO : 0;
	json_decref(j);
	return r;
}
