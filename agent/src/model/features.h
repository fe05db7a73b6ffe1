/* features.h - kernel feature names, bitsets and ethtool's legacy offload names */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The kernel has fewer than 64 netdev features today; leave room to grow. */
#define FEAT_MAX_BITS 256
#define FEAT_WORDS    (FEAT_MAX_BITS / 32)

struct featbits {
	uint32_t w[FEAT_WORDS];
};

static inline bool featbits_test(const struct featbits *b, unsigned int i)
{
	return i < FEAT_MAX_BITS && (b->w[i / 32] >> (i % 32)) & 1u;
}

static inline void featbits_set(struct featbits *b, unsigned int i, bool v)
{
	if (i >= FEAT_MAX_BITS)
		return;
	if (v)
		b->w[i / 32] |= 1u << (i % 32);
	else
		b->w[i / 32] &= ~(1u << (i % 32));
}

static inline bool featbits_any(const struct featbits *b)
{
	for (unsigned int i = 0; i < FEAT_WORDS; i++)
		if (b->w[i])
			return true;
	return false;
}

/* The kernel's feature string set (ETH_SS_FEATURES): index -> name. */
struct feature_names {
	unsigned int count;
	char **names; /* count entries; an entry may be "" */
};

/* Index of a kernel feature name, or -1. */
int feature_names_index(const struct feature_names *fn, const char *name);
void feature_names_free(struct feature_names *fn);

/* ethtool's legacy flags (common.c off_flag_def): -K accepts short and long
 * names, -k prints a summary line under the long name. */
struct offload_def {
	const char *short_name;
	const char *long_name;
	const char *kernel_pattern; /* at most one '*' */
};

extern const struct offload_def offload_defs[];
extern const size_t n_offload_defs;

/* Index into offload_defs of a short or long name, or -1. */
int offload_def_lookup(const char *name);

/* ethtool's flag_pattern_match(): a pattern with at most one '*'. */
bool feature_pattern_match(const char *name, const char *pattern);

/* What a name in a desired state stands for. */
enum feature_name_kind {
	FEATURE_NAME_UNKNOWN = 0,
	FEATURE_NAME_LEGACY, /* ethtool short or long name: a group */
	FEATURE_NAME_KERNEL, /* one kernel feature */
};

/*
 * Expand a name the way `ethtool -K` does against the kernel's string set:
 * legacy names first (every feature matching the pattern), then kernel names.
 * Writes the matching indices to ret_bits.  Returns the kind; for
 * FEATURE_NAME_UNKNOWN ret_bits is left empty.
 */
enum feature_name_kind feature_name_expand(const struct feature_names *fn, const char *name,
					   struct featbits *ret_bits);

/* The kernel feature names this offloadctl knows without a kernel (those
 * of recent kernels): what validate warns against; a running kernel's
 * string set may hold more. */
extern const char *const kernel_feature_names[];
extern const size_t n_kernel_feature_names;

/* True for a legacy name or a kernel feature name any recent kernel knows
 * (used by `validate`, which does not ask the running kernel). */
bool feature_name_known_static(const char *name);

/* The known name nearest to name (edit distance), or NULL when nothing is
 * close.  With fn == NULL only the static names are considered. */
const char *feature_name_suggest(const struct feature_names *fn, const char *name);

/* Levenshtein distance between two short names (1000 when either has 63
 * characters or more): what "did you mean" suggestions are ranked by. */
unsigned int edit_distance(const char *a, const char *b);
