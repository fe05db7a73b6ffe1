/* test-json-writer.c - the streaming writer: nesting, commas, the indented
 * and flat forms, escaping (byte for byte what jansson prints), raw values,
 * text beside the JSON, and the errors that stick */
#include <errno.h>
#include <jansson.h>

#include "lib/json-writer.h"
#include "unit.h"

struct out {
	struct jw w;
	FILE *f;
	char *buf;
	size_t len;
};

static void out_open(struct out *o, int indent)
{
	o->buf = NULL;
	o->len = 0;
	o->f = open_memstream(&o->buf, &o->len);
	jw_open(&o->w, o->f, indent);
}

/* Close the writer; its result in *ret_err; the text, to be freed. */
static char *out_close(struct out *o, int *ret_err)
{
	*ret_err = jw_close(&o->w);
	fclose(o->f);
	return o->buf;
}

/* What jansson prints for the same document. */
static bool same_as_jansson(const char *text, const char *doc, size_t flags)
{
	json_t *j = json_loads(doc, JSON_DECODE_ANY, NULL);
	char *d = j ? json_dumps(j, flags | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) : NULL;
	bool same = d && strcmp(d, text) == 0;

	if (!same)
		printf("# writer: %s\n# jansson: %s\n", text, d ? d : "(none)");
	free(d);
	json_decref(j);
	return same;
}

/* {"a":1,"b":[true,false,null,"x"],"c":{},"d":[],"e":{"f":[[]]}} */
static void write_sample(struct jw *w)
{
	jw_object_begin(w);
	jw_kv_int(w, "a", 1);
	jw_key(w, "b");
	jw_array_begin(w);
	jw_bool(w, true);
	jw_bool(w, false);
	jw_null(w);
	jw_string(w, "x");
	jw_array_end(w);
	jw_key(w, "c");
	jw_object_begin(w);
	jw_object_end(w);
	jw_key(w, "d");
	jw_array_begin(w);
	jw_array_end(w);
	jw_key(w, "e");
	jw_object_begin(w);
	jw_key(w, "f");
	jw_array_begin(w);
	jw_array_begin(w);
	jw_array_end(w);
	jw_array_end(w);
	jw_object_end(w);
	jw_object_end(w);
}

static const char sample[] = "{\"a\":1,\"b\":[true,false,null,\"x\"],\"c\":{},\"d\":[],"
			     "\"e\":{\"f\":[[]]}}";

static void test_nesting(void)
{
	struct out o;
	char *t;
	int err;

	out_open(&o, 0);
	write_sample(&o.w);
	t = out_close(&o, &err);
	CHECK(err == 0);
	CHECK(strcmp(t, sample) == 0);
	free(t);

	out_open(&o, 2);
	write_sample(&o.w);
	t = out_close(&o, &err);
	CHECK(err == 0);
	CHECK(same_as_jansson(t, sample, JSON_INDENT(2)));
	free(t);

	out_open(&o, 4);
	write_sample(&o.w);
	t = out_close(&o, &err);
	CHECK(same_as_jansson(t, sample, JSON_INDENT(4)));
	free(t);
}

/* jw_flat(): a compact container within an indented document, as the
 * facts print an interface a line. */
static void test_flat(void)
{
	struct out o;
	char *t;
	int err;

	out_open(&o, 2);
	jw_object_begin(&o.w);
	jw_key(&o.w, "x");
	jw_flat(&o.w);
	jw_object_begin(&o.w);
	jw_kv_int(&o.w, "y", -3);
	jw_key(&o.w, "z");
	jw_array_begin(&o.w);
	jw_int(&o.w, 1);
	jw_int(&o.w, 2);
	jw_array_end(&o.w);
	jw_object_end(&o.w);
	jw_kv_bool(&o.w, "after", true);
	jw_object_end(&o.w);
	t = out_close(&o, &err);
	CHECK(err == 0);
	CHECK(strcmp(t, "{\n  \"x\": {\"y\":-3,\"z\":[1,2]},\n  \"after\": true\n}") == 0);
	free(t);
}

static void test_escaping(void)
{
	static const char *const strings[] = {
		"plain",
		"",
		"quote \" back \\ slash",
		"tab\tnew\nline\r",
		"\x01\x1f\x7f",
		"caf\xc3\xa9",
		"\xe2\x82\xac \xf0\x9f\x98\x80",
		"/slash",
	};

	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		json_t *j = json_string(strings[i]);
		char *want = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY), *t;
		struct out o;
		int err;

		out_open(&o, 0);
		CHECK(jw_string(&o.w, strings[i]) == 0);
		t = out_close(&o, &err);
		CHECK(err == 0 && strcmp(t, want) == 0);
		free(t);
		free(want);
		json_decref(j);

		/* the same escaping for keys */
		out_open(&o, 0);
		jw_object_begin(&o.w);
		CHECK(jw_key(&o.w, strings[i]) == 0);
		jw_int(&o.w, 1);
		jw_object_end(&o.w);
		t = out_close(&o, &err);
		CHECK(err == 0);
		{
			json_t *back = json_loads(t, 0, NULL);

			CHECK(back && json_integer_value(json_object_get(back, strings[i])) == 1);
			json_decref(back);
		}
		free(t);
	}
}

/* Not UTF-8: -EINVAL and nothing written, the writer still good. */
static void test_invalid_utf8(void)
{
	struct out o;
	char *t;
	int err;

	out_open(&o, 0);
	jw_array_begin(&o.w);
	CHECK(jw_string(&o.w, "bad \xff byte") == -EINVAL);
	CHECK(jw_string(&o.w, "\xc3") == -EINVAL);
	jw_string_or_null(&o.w, "\xfe");
	jw_string_or_null(&o.w, "");
	jw_string_or_null(&o.w, NULL);
	jw_string_or_null(&o.w, "ok");
	jw_array_end(&o.w);
	t = out_close(&o, &err);
	CHECK(err == 0);
	CHECK(strcmp(t, "[null,null,null,\"ok\"]") == 0);
	free(t);

	out_open(&o, 0);
	jw_object_begin(&o.w);
	CHECK(jw_key(&o.w, "k\xff") == -EINVAL);
	CHECK(jw_kv_string(&o.w, "k", "v") == 0);
	jw_object_end(&o.w);
	t = out_close(&o, &err);
	CHECK(err == 0 && strcmp(t, "{\"k\":\"v\"}") == 0);
	free(t);
}

/* A child's JSON as it came: indented to where it stands, its final line
 * break dropped. */
static void test_raw(void)
{
	struct out o;
	char *t;
	int err;

	out_open(&o, 2);
	jw_object_begin(&o.w);
	jw_key(&o.w, "scopes");
	jw_object_begin(&o.w);
	jw_key(&o.w, "host");
	jw_raw(&o.w, "{\n  \"a\": [\n    1\n  ]\n}\n", 23);
	jw_key(&o.w, "ns1");
	jw_raw(&o.w, "null", 4);
	jw_object_end(&o.w);
	jw_object_end(&o.w);
	t = out_close(&o, &err);
	CHECK(err == 0);
	CHECK(same_as_jansson(t, "{\"scopes\":{\"host\":{\"a\":[1]},\"ns1\":null}}",
			      JSON_INDENT(2)));
	free(t);

	out_open(&o, 0);
	jw_array_begin(&o.w);
	jw_raw(&o.w, "{\"x\":1}", 7);
	jw_raw(&o.w, "2", 1);
	jw_array_end(&o.w);
	t = out_close(&o, &err);
	CHECK(err == 0 && strcmp(t, "[{\"x\":1},2]") == 0);
	free(t);

	out_open(&o, 0);
	jw_raw(&o.w, "\n", 1); /* nothing is not a value */
	t = out_close(&o, &err);
	CHECK(err == -EINVAL);
	free(t);
}

/* Text beside the JSON, and a document larger than the buffer. */
static void test_text_and_size(void)
{
	struct out o;
	char *t;
	int err;
	size_t n = 20000;

	out_open(&o, 0);
	jw_printf(&o.w, "%s %d\n", "line", 1);
	jw_lit(&o.w, "lit\n");
	jw_array_begin(&o.w);
	for (size_t i = 0; i < n; i++)
		jw_int(&o.w, (long long)i);
	jw_array_end(&o.w);
	t = out_close(&o, &err);
	CHECK(err == 0);
	CHECK(strncmp(t, "line 1\nlit\n[0,1,2,", 18) == 0);
	{
		json_t *j = json_loads(t + 11, 0, NULL);

		CHECK(j && json_array_size(j) == n &&
		      json_integer_value(json_array_get(j, n - 1)) == (json_int_t)(n - 1));
		json_decref(j);
	}
	free(t);

	{
		char big[100001];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		out_open(&o, 0);
		jw_printf(&o.w, "<%s>", big);
		t = out_close(&o, &err);
		CHECK(err == 0 && strlen(t) == sizeof(big) + 1 && t[0] == '<' &&
		      t[sizeof(big)] == '>');
		free(t);
	}
}

/* The misuses: each is kept, returned by jw_close(), and stops the output. */
static void value_for_key(struct jw *w)
{
	jw_object_begin(w);
	jw_int(w, 1);
	jw_object_end(w);
}

static void key_in_array(struct jw *w)
{
	jw_array_begin(w);
	jw_key(w, "k");
}

static void two_keys(struct jw *w)
{
	jw_object_begin(w);
	jw_key(w, "a");
	jw_key(w, "b");
}

static void end_mismatch(struct jw *w)
{
	jw_object_begin(w);
	jw_array_end(w);
}

static void end_before_value(struct jw *w)
{
	jw_object_begin(w);
	jw_key(w, "a");
	jw_object_end(w);
}

static void end_of_nothing(struct jw *w)
{
	jw_object_end(w);
}

static void left_open(struct jw *w)
{
	jw_array_begin(w);
}

static void too_deep(struct jw *w)
{
	for (int i = 0; i <= JW_DEPTH_MAX; i++)
		jw_array_begin(w);
}

/* Several documents one after the other, each whole: no error. */
static void two_documents(struct jw *w)
{
	jw_object_begin(w);
	jw_object_end(w);
	jw_lit(w, "\n");
	jw_array_begin(w);
	jw_array_end(w);
}

static const struct {
	const char *what;
	void (*write)(struct jw *w);
	int err;
	const char *text; /* what was written before the error */
} misuses[] = {
	{ "a value where a key is due", value_for_key, -EINVAL, "{" },
	{ "a key in an array", key_in_array, -EINVAL, "[" },
	{ "two keys in a row", two_keys, -EINVAL, "{\"a\":" },
	{ "an end that does not match", end_mismatch, -EINVAL, "{" },
	{ "an end with a key waiting", end_before_value, -EINVAL, "{\"a\":" },
	{ "an end with nothing open", end_of_nothing, -EINVAL, "" },
	{ "left open", left_open, -EINVAL, "[" },
	{ "too deep", too_deep, -EINVAL, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[" },
	{ "two documents", two_documents, 0, "{}\n[]" },
};

static void test_errors(void)
{
	for (size_t i = 0; i < sizeof(misuses) / sizeof(misuses[0]); i++) {
		struct out o;
		char *t;
		int err;

		out_open(&o, 0);
		misuses[i].write(&o.w);
		t = out_close(&o, &err);
		if (err != misuses[i].err || strcmp(t, misuses[i].text) != 0)
			printf("# %s: error %d, wrote '%s'\n", misuses[i].what, err, t);
		CHECK(err == misuses[i].err && strcmp(t, misuses[i].text) == 0);
		free(t);
	}
}

int main(void)
{
	test_nesting();
	test_flat();
	test_escaping();
	test_invalid_utf8();
	test_raw();
	test_text_and_size();
	test_errors();
	return unit_done();
}
