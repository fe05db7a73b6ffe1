/* atomic-file.h - write a file whole or not at all (temp file + rename) */
#pragma once

#include <stdio.h>

struct atomic_file {
	FILE *f;
	char *path; /* the destination */
	char *tmp;  /* the temporary file beside it */
};

/* Open a temporary file beside path (same directory, so rename(2) is
 * atomic), mode 0644.  Returns 0 or a negative errno. */
int atomic_file_open(const char *path, struct atomic_file *ret);

/* Flush, sync and rename the temporary file over the destination: readers
 * (node_exporter's textfile collector) see the old file or the new one,
 * never half of it.  Frees af either way; returns 0 or a negative errno. */
int atomic_file_commit(struct atomic_file *af);

/* Remove the temporary file and free af. */
void atomic_file_discard(struct atomic_file *af);
