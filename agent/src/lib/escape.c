/* escape.c - names from the kernel, made safe to print (escape.h) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/escape.h"

size_t utf8_seq_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0];
	size_t n;
	unsigned int cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates, beyond U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_seq_len(p + i, len - i);

		if (!n)
			return false;
		i += n;
	}
	return true;
}

static const char *escape(const char *s, char *buf, size_t len, bool controls)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), o = 0;
	bool plain = !strchr(s, '\\') && utf8_valid(s, n);

	for (size_t i = 0; plain && controls && i < n; i++)
		plain = p[i] >= 0x20 && p[i] != 0x7f;
	if (plain || !len)
		return plain ? s : "";
	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq_len(p + i, n - i);
		char tmp[8];
		size_t tl;

		if (p[i] == '\\') {
			tl = (size_t)snprintf(tmp, sizeof(tmp), "\\\\");
			k = 1;
		} else if (!k || (controls && (p[i] < 0x20 || p[i] == 0x7f))) {
			tl = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", p[i]);
			k = 1;
		} else {
			memcpy(tmp, p + i, k);
			tl = k;
		}
		if (o + tl >= len)
			break;
		memcpy(buf + o, tmp, tl);
		o += tl;
		i += k;
	}
	buf[o] = '\0';
	return buf;
}

const char *name_json(const char *s, char *buf, size_t len)
{
	return escape(s, buf, len, false);
}

const char *name_text(const char *s, char *buf, size_t len)
{
	return escape(s, buf, len, true);
}

char *name_json_dup(const char *s)
{
	size_t len = strlen(s) * 4 + 1;
	char *buf = malloc(len);
	const char *r;

	if (!buf)
		return NULL;
	r = name_json(s, buf, len);
	if (r == s)
		memcpy(buf, s, strlen(s) + 1);
	return buf;
}

void text_write_safe(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq_len(p + i, n - i);

		if (!k || p[i] < 0x20 || p[i] == 0x7f) {
			fprintf(f, "\\x%02x", p[i]);
			i++;
		} else {
			fwrite(p + i, 1, k, f);
			i += k;
		}
	}
}
